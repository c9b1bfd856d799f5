"""Benchmark: every performance target of the provisioner in one run, with PASS/FAIL (docs/performance.md).

Run it as a script (it is not a pytest test; nothing here is asserted in the test suite)::

    .venv/bin/python bench/bench.py            # full run, a few minutes
    .venv/bin/python bench/bench.py --quick    # fewer rounds and sizes, under a minute

It prints the machine (CPU model, cores, Python, OS), then one row per target: the measured figure, the
target and PASS or FAIL. It writes the figures as JSON (``bench/results/latest.json`` or ``--output``) and
draws plan time per integration against N to a PNG (``docs/performance-plan-scaling.png`` or ``--png``;
needs the ``bench`` extra: ``pip install -e '.[bench]'``). Exit status: 0 when every target passes, 1 if not.

What is measured, and how (times are wall-clock medians; every ratio compares figures taken in the same
run, with the commands interleaved round by round, so a busy machine slows both sides alike):

* **Commands** (fresh ``python`` processes, working directory = the project): ``python -c "import pulumi"``,
  ``python -c "import pulumi_azuread"``, ``python -m provisioner validate ONE``, ``plan --config ONE`` and
  ``plan --config ALL`` (text output), ``--help`` and ``schema --check``. ONE is a stack config with the
  first catalog integration, ALL one with every integration in `provisioner.catalog.CATALOG` at run time
  (each with its default scopes, or its first known non-OpenID scope), so the ALL row follows the catalog.
  Peak memory is each process's maximum resident set size (``os.wait4``), the highest over the rounds.
* **Plan scaling** (a worker process): `provisioner.cli.plan.run_plan` in one process for N = 1 ... 200
  integrations. The catalog has too few entries for that, so the worker registers synthetic entries
  (copies of the first entry under keys ``benchNNN``) in its own process only: BENCH-ONLY, never in the
  package. Reported per integration (ms / N), with the cyclic garbage collector's share of the time.
* **Text render** (same worker): printing the text plan of a 50-integration plan to an in-memory console
  120 columns wide, as the CLI does on a pipe, against the line-by-line renderer it replaced (kept as the
  reference in tests/test_plan_render.py) and against ``plan_json`` of the same plan.
* **Paragon push**: the dynamic provider's ``create`` against `tests/paragon_fake.py` on 127.0.0.1 (started
  here), batches of N = 1, 10, 100 pushes in a provider process that already made its first push (login
  and the integrations list cached, as for every push after the first), against a bare keep-alive
  ``httpx.Client`` (built and warmed before timing) doing the same N credential PUTs, each read back with a
  GET, on another fresh fake; small N repeat their batch to about 20 pushes per round. Call counts of a cold
  run (1 login + 1 list + N PUTs + N read-backs) and of an update that only changes ``activate`` (no
  credential PUT expected) are checked too.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "latest.json"
DEFAULT_PNG = ROOT / "docs" / "performance-plan-scaling.png"
AT = "2026-11-29"
PROJECT = "38b1f170-0c43-4eae-9a04-ab85325d99f7"
MIB = 1024 * 1024
RESOURCES_PER_INTEGRATION = 6
"""The component, its application, service principal and two secrets, and the Paragon credential."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """How much to measure: rounds of the interleaved commands, plan sizes, push sizes."""

    cli_rounds: int
    scaling_sizes: tuple[int, ...]
    scaling_rounds: int
    push_sizes: tuple[int, ...]
    push_rounds: int


FULL = Settings(11, (1, 5, 10, 25, 50, 100, 150, 200), 3, (1, 10, 100), 3)
QUICK = Settings(5, (1, 10, 50, 200), 3, (1, 10, 100), 1)


@dataclasses.dataclass
class Row:
    """One figure: a target (``value <= limit`` passes) or, without a limit, information only."""

    name: str
    value: float
    limit: float | None
    unit: str
    note: str = ""

    @property
    def passed(self) -> bool | None:
        return None if self.limit is None else self.value <= self.limit


# ---------------------------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    """CPU model, cores, Python version and OS of this run."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": platform.platform(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


# ---------------------------------------------------------------------------------------------- configs


def scopes_for(entry: Any) -> list[str]:
    """An entry's default scopes if it declares some, else its first known non-OpenID delegated scope."""
    from provisioner.catalog import OPENID_SCOPE_IDS

    default = getattr(entry, "default_scopes", None)
    if default:
        return list(default)
    return [next(s for s in sorted(entry.delegated_scopes) if s not in OPENID_SCOPE_IDS)]


def config_text(integrations: dict[str, list[str]]) -> str:
    """A stack config (YAML) with these integrations and scopes."""
    lines = ["paragon:", f"  project_id: {PROJECT}", "integrations:"]
    for key, scopes in integrations.items():
        lines += [f"  {key}:", f"    scopes: [{', '.join(scopes)}]"]
    return "\n".join(lines) + "\n"


def catalog_configs(folder: Path) -> tuple[Path, Path, int]:
    """Write ONE (first catalog integration) and ALL (every catalog integration); return both and the count."""
    from provisioner.catalog import CATALOG

    every = {key: scopes_for(entry) for key, entry in CATALOG.items()}
    first = next(iter(every))
    one, all_ = folder / "one.yaml", folder / "all.yaml"
    one.write_text(config_text({first: every[first]}), encoding="utf-8")
    all_.write_text(config_text(every), encoding="utf-8")
    return one, all_, len(every)


# ---------------------------------------------------------------------------------------------- commands


def spawn(argv: Sequence[str]) -> tuple[float, float, int]:
    """Run ``argv`` in the project folder; return wall seconds, peak RSS in MiB and the exit status."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stderr is not None:
        error = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {error.strip()[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024 / MIB, proc.returncode


def command_rounds(commands: dict[str, list[str]], rounds: int) -> dict[str, dict[str, float]]:
    """Interleave the commands for ``rounds`` rounds (order rotated each round, one warm-up round dropped)."""
    names = list(commands)
    times: dict[str, list[float]] = {name: [] for name in names}
    peaks: dict[str, float] = dict.fromkeys(names, 0.0)
    for round_ in range(rounds + 1):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            elapsed, rss, _ = spawn(commands[name])
            if round_:
                times[name].append(elapsed)
                peaks[name] = max(peaks[name], rss)
    return {name: {"median_ms": 1000 * statistics.median(times[name]), "peak_rss_mib": peaks[name]} for name in names}


# ---------------------------------------------------------------------------------------------- scaling worker


@contextlib.contextmanager
def gc_timer() -> Iterator[dict[str, float]]:
    """Count cyclic-GC collections and their total seconds while the block runs."""
    stats = {"collections": 0.0, "seconds": 0.0}
    started = [0.0]

    def callback(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            stats["collections"] += 1
            stats["seconds"] += time.perf_counter() - started[0]

    gc.callbacks.append(callback)
    try:
        yield stats
    finally:
        gc.callbacks.remove(callback)


def register_bench_entries(count: int) -> list[str]:
    """BENCH-ONLY: add ``count`` synthetic catalog entries (copies of the first) to THIS process's catalog."""
    from provisioner.catalog import CATALOG

    template = next(iter(CATALOG.values()))
    keys = [f"bench{i:03d}" for i in range(count)]
    for i, key in enumerate(keys):
        CATALOG.setdefault(key, dataclasses.replace(template, key=key, title=f"Bench {i}"))
    return keys


def scaling_worker(sizes: list[int], render_n: int) -> dict[str, Any]:
    """In one fresh process: plan time of each N in ``sizes`` order; then text vs JSON render if render_n."""
    from provisioner.catalog import CATALOG
    from provisioner.cli.plan import plan_json, run_plan

    template = next(iter(CATALOG.values()))
    keys = register_bench_entries(max([*sizes, render_n]))
    at = datetime.fromisoformat(AT).replace(tzinfo=UTC)
    folder = Path(tempfile.mkdtemp(prefix="bench-plan-"))

    def config(n: int) -> Path:
        path = folder / f"n{n}.yaml"
        if not path.exists():
            path.write_text(config_text({k: scopes_for(template) for k in keys[:n]}), encoding="utf-8")
        return path

    for _ in range(2):  # warm-up: lazy imports, first event loop
        run_plan(ROOT, "bench", at, config_file=config(1))
    scaling: dict[str, dict[str, float]] = {}
    for n in sizes:
        path = config(n)
        with gc_timer() as stats:
            started = time.perf_counter()
            plan = run_plan(ROOT, "bench", at, config_file=path)
            elapsed = time.perf_counter() - started
        if len(plan.resources) != RESOURCES_PER_INTEGRATION * n:
            raise SystemExit(
                f"N={n}: {len(plan.resources)} resources planned, expected {RESOURCES_PER_INTEGRATION * n}"
            )
        scaling[str(n)] = {"seconds": elapsed, "gc_seconds": stats["seconds"], "gc_collections": stats["collections"]}
        del plan
    result: dict[str, Any] = {"scaling": scaling}
    if render_n:
        from rich.console import Console
        from test_plan_render import _render_plan, line_by_line  # line_by_line printed one line per call

        plan = run_plan(ROOT, "bench", at, config_file=config(render_n))

        def text() -> None:
            _render_plan(plan, Console(file=io.StringIO(), width=120, highlight=False))

        def as_json() -> None:
            plan_json(plan)

        def reference() -> None:
            line_by_line(plan, Console(file=io.StringIO(), width=120, highlight=False))

        class Counting(Console):
            calls = 0

            def print(self, *objects: Any, **kwargs: Any) -> None:
                Counting.calls += 1
                super().print(*objects, **kwargs)

        _render_plan(plan, Counting(file=io.StringIO(), width=120, highlight=False))

        result["render"] = {
            "n": render_n,
            "text_ms": median_ms(text, 7),
            "json_ms": median_ms(as_json, 7),
            "line_by_line_ms": median_ms(reference, 7),
            "print_calls": Counting.calls,
        }
    return result


def median_ms(func: Callable[[], None], repeat: int) -> float:
    """Median milliseconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def run_scaling(settings: Settings, render_n: int = 50) -> dict[str, Any]:
    """One fresh worker process per round (sizes ascending, then descending, ...); medians per N."""
    samples: dict[int, list[dict[str, float]]] = {n: [] for n in settings.scaling_sizes}
    render: dict[str, Any] = {}
    for round_ in range(settings.scaling_rounds):
        sizes = settings.scaling_sizes if round_ % 2 == 0 else tuple(reversed(settings.scaling_sizes))
        last = round_ == settings.scaling_rounds - 1
        argv = [sys.executable, str(Path(__file__).resolve()), "--worker", "--sizes", ",".join(map(str, sizes))]
        argv += ["--render-n", str(render_n if last else 0)]
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"scaling worker failed: {done.stderr.strip()[-3000:]}")
        result = json.loads(done.stdout)
        for n in settings.scaling_sizes:
            samples[n].append(result["scaling"][str(n)])
        render = result.get("render", render)
    scaling = {}
    for n, runs in samples.items():
        median = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        scaling[str(n)] = {
            "ms": 1000 * median["seconds"],
            "ms_per_integration": 1000 * median["seconds"] / n,
            "gc_ms": 1000 * median["gc_seconds"],
            "gc_collections": median["gc_collections"],
        }
    return {"scaling": scaling, "render": render}


# ---------------------------------------------------------------------------------------------- push


EMAIL, PASSWORD = "bench@example.com", "bench-password"
LOGIN, LIST, PUT = r"/auth/login/email", r"/projects/[^/]+/integrations", r"/projects/[^/]+/credentials/oauth"


def push_props(base_url: str, kind: str, n: int) -> dict[str, Any]:
    return {
        "projectId": PROJECT,
        "integrationKey": kind,
        "baseUrl": base_url,
        "credentialName": f"bench {kind}",
        "clientId": f"00000000-0000-0000-0000-{n:012d}",
        "clientSecret": f"bench-secret-{n}",
        "scopes": "Dataset.Read.All offline_access",
        "activate": False,
        "deleteOnDestroy": False,
        "retryTimeoutSeconds": 10.0,
    }


@contextlib.contextmanager
def provider_process() -> Iterator[Any]:
    """A fresh provider process's state: new session cache, login from PARAGON_EMAIL/PASSWORD only."""
    from provisioner.paragon import resource
    from provisioner.paragon.client import SessionCache
    from provisioner.paragon.login import ENV_ACCESS_TOKEN, ENV_BASE_URL, ENV_EMAIL, ENV_PASSWORD

    saved = {k: os.environ.get(k) for k in (ENV_ACCESS_TOKEN, ENV_BASE_URL, ENV_EMAIL, ENV_PASSWORD)}
    for name in (ENV_ACCESS_TOKEN, ENV_BASE_URL):
        os.environ.pop(name, None)
    os.environ[ENV_EMAIL], os.environ[ENV_PASSWORD] = EMAIL, PASSWORD
    sessions = resource.PROCESS_SESSIONS
    resource.PROCESS_SESSIONS = SessionCache()  # type: ignore[misc]  # what a new provider process has
    try:
        yield resource.ParagonCredentialProvider()
    finally:
        resource.PROCESS_SESSIONS = sessions  # type: ignore[misc]
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def provider_push(n: int, batches: int) -> list[float]:
    """Seconds of each of ``batches`` batches of n provider creates, after a first (untimed) push in the
    same provider process."""
    from paragon_fake import FakeParagon

    with FakeParagon() as fake, provider_process() as provider:
        fake.add_user(EMAIL, PASSWORD)
        kinds = [f"kind{i}" for i in range(n + 1)]
        for kind in kinds:
            fake.add_integration(PROJECT, kind)
        provider.create(push_props(fake.url, kinds[0], 0))  # the first push: login, list, connection
        times = []
        for _ in range(batches):
            started = time.perf_counter()
            for i, kind in enumerate(kinds[1:], start=1):
                provider.create(push_props(fake.url, kind, i))
            times.append(time.perf_counter() - started)
        if fake.count("PUT", PUT) != n * batches + 1:
            raise SystemExit(f"push N={n}: the fake saw {fake.count('PUT', PUT)} PUTs, expected {n * batches + 1}")
    return times


def bare_push(n: int, batches: int) -> list[float]:
    """The same batches of n PUTs, each read back with a GET, through one keep-alive httpx.Client, built and
    warmed before timing."""
    import httpx
    from paragon_fake import FakeParagon

    with FakeParagon() as fake:
        fake.accept_token("bench-token")
        ids = [fake.add_integration(PROJECT, f"kind{i}") for i in range(n + 1)]
        headers = {"Authorization": "Bearer bench-token"}
        with httpx.Client(base_url=fake.url, headers=headers, timeout=10.0) as http:

            def put(i: int, iid: str) -> None:
                body = {
                    "name": f"bench kind{i}",
                    "provider": f"kind{i}",
                    "scheme": "oauth_app",
                    "integrationId": iid,
                    "values": {"clientId": f"client-{i}", "clientSecret": f"bench-secret-{i}", "scopes": "a b"},
                }
                response = http.put(f"/projects/{PROJECT}/credentials/oauth", json=body)
                response.raise_for_status()
                # The provider reads every push back (provisioner.paragon.readback): the same GET here.
                http.get(f"/projects/{PROJECT}/credentials/{response.json()['id']}/decrypted").raise_for_status()

            put(0, ids[0])
            times = []
            for _ in range(batches):
                started = time.perf_counter()
                for i, iid in enumerate(ids[1:], start=1):
                    put(i, iid)
                times.append(time.perf_counter() - started)
            return times


def push_call_counts(n: int) -> dict[str, int]:
    """Requests of a cold provider process pushing n credentials, by kind."""
    from paragon_fake import FakeParagon

    with FakeParagon() as fake, provider_process() as provider:
        fake.add_user(EMAIL, PASSWORD)
        for i in range(n):
            fake.add_integration(PROJECT, f"kind{i}")
        for i in range(n):
            provider.create(push_props(fake.url, f"kind{i}", i))
        return {
            "logins": fake.count("POST", LOGIN),
            "lists": fake.count("GET", LIST),
            "puts": fake.count("PUT", PUT),
            "read_backs": fake.count("GET", r"/projects/[^/]+/credentials/[^/]+/decrypted"),
            "total": len(fake.requests),
        }


def activate_only_puts() -> int:
    """Credential PUTs made by an update whose only change is ``activate`` (false -> true)."""
    from paragon_fake import FakeParagon

    with FakeParagon() as fake, provider_process() as provider:
        fake.add_user(EMAIL, PASSWORD)
        fake.add_integration(PROJECT, "kind0")
        olds = dict(provider.create(push_props(fake.url, "kind0", 0)).outs)
        news = push_props(fake.url, "kind0", 0) | {"activate": True}
        fake.reset_log()
        provider.update(str(olds["credentialId"]), olds, news)
        return fake.count("PUT", PUT)


def run_push(settings: Settings) -> dict[str, Any]:
    """Per size: rounds of (provider, bare) on fresh fakes; small sizes repeat their batch to ~20 pushes."""
    bare_push(5, 1)  # warm-up: imports, first sockets
    provider_push(1, 1)
    sizes: dict[str, Any] = {}
    for n in settings.push_sizes:
        batches = max(1, 20 // n)
        provider_times: list[float] = []
        bare_times: list[float] = []
        for _ in range(settings.push_rounds):
            provider_times += provider_push(n, batches)
            bare_times += bare_push(n, batches)
        provider_ms = 1000 * statistics.median(provider_times) / n
        bare_ms = 1000 * statistics.median(bare_times) / n
        sizes[str(n)] = {
            "provider_ms_per_push": provider_ms,
            "bare_ms_per_put": bare_ms,
            "ratio": provider_ms / bare_ms,
        }
    return {"sizes": sizes, "cold_call_counts_n10": push_call_counts(10), "activate_only_puts": activate_only_puts()}


# ---------------------------------------------------------------------------------------------- report


def evaluate(cli: dict[str, dict[str, float]], scaling: dict[str, Any], push: dict[str, Any]) -> list[Row]:
    def ms(name: str) -> float:
        return cli[name]["median_ms"]

    per_int = [v["ms_per_integration"] for v in scaling["scaling"].values()]
    sizes = list(scaling["scaling"])
    render = scaling["render"]
    rows = [
        Row("validate / import pulumi", ms("validate") / ms("import pulumi"), 1.0, "x"),
        Row("plan (one) / import pulumi_azuread", ms("plan one") / ms("import pulumi_azuread"), 1.5, "x"),
        Row("plan (all catalog) / plan (one)", ms("plan all") / ms("plan one"), 1.5, "x"),
        Row(
            f"plan ms per integration, worst N / N=1 (N={sizes[0]}..{sizes[-1]})",
            max(per_int) / per_int[0],
            1.3,
            "x",
            f"N=1 {per_int[0]:.1f} ms, worst {max(per_int):.1f} ms",
        ),
        Row(
            "plan ms per integration, max/min over N",
            max(per_int) / min(per_int),
            None,
            "x",
            f"{min(per_int):.1f}..{max(per_int):.1f} ms",
        ),
        Row("peak RSS validate", cli["validate"]["peak_rss_mib"], 40.0, "MiB"),
        Row("peak RSS plan (one)", cli["plan one"]["peak_rss_mib"], 90.0, "MiB"),
    ]
    for n, figures in push["sizes"].items():
        rows.append(
            Row(
                f"push / bare httpx PUT, N={n}",
                figures["ratio"],
                2.0,
                "x",
                f"{figures['provider_ms_per_push']:.2f} vs {figures['bare_ms_per_put']:.2f} ms",
            )
        )
    counts = push["cold_call_counts_n10"]
    rows.append(
        Row(
            "cold push N=10: requests beyond 1 login + 1 list + 10 PUTs + 10 read-backs",
            abs(counts["total"] - 22) + abs(counts["logins"] - 1) + abs(counts["lists"] - 1),
            0,
            "",
            f"{counts}",
        )
    )
    rows.append(Row("credential PUTs when only activate changed", push["activate_only_puts"], 0, ""))
    rows.append(Row(f"console.print calls for the text plan (N={render['n']})", render["print_calls"], 1, ""))
    rows.append(
        Row(
            f"text plan render / line-by-line render (N={render['n']})",
            render["text_ms"] / render["line_by_line_ms"],
            None,
            "x",
            f"{render['text_ms']:.1f} vs {render['line_by_line_ms']:.1f} ms",
        )
    )
    rows.append(
        Row(
            f"text plan render / JSON render (N={render['n']})",
            render["text_ms"] / render["json_ms"],
            None,
            "x",
            f"{render['text_ms']:.1f} vs {render['json_ms']:.1f} ms",
        )
    )
    for name in ("--help", "schema --check"):
        rows.append(Row(f"{name} / import pulumi", ms(name) / ms("import pulumi"), None, "x"))
    return rows


def print_report(
    info: dict[str, Any], cli: dict[str, dict[str, float]], scaling: dict[str, Any], rows: list[Row]
) -> None:
    print(f"machine: {info['cpu']}, {info['cores']} cores, {info['implementation']} {info['python']}, {info['os']}")
    if info["load_average"]:
        print("load average at start: " + ", ".join(f"{x:.2f}" for x in info["load_average"]))
    print("\ncommands (median wall ms, peak RSS MiB):")
    for name, figures in cli.items():
        print(f"  {name:<24} {figures['median_ms']:8.1f} ms {figures['peak_rss_mib']:7.1f} MiB")
    print("\nplan in one process (median of rounds):")
    print(f"  {'N':>4} {'ms':>9} {'ms/int':>7} {'gc ms':>7} {'gc runs':>7}")
    for n, figures in scaling["scaling"].items():
        print(
            f"  {n:>4} {figures['ms']:9.1f} {figures['ms_per_integration']:7.2f} {figures['gc_ms']:7.1f} "
            f"{figures['gc_collections']:7.0f}"
        )
    print(f"\n{'target':<62} {'measured':>10} {'limit':>8}  result")
    for row in rows:
        digits = 2 if row.unit else 0
        value = f"{row.value:.{digits}f}{row.unit}"
        limit = "-" if row.limit is None else f"{row.limit:.{digits}f}{row.unit}"
        verdict = {None: "info", True: "PASS", False: "FAIL"}[row.passed]
        note = f"  ({row.note})" if row.note else ""
        print(f"{row.name:<62} {value:>10} {limit:>8}  {verdict}{note}")


def draw(curves: list[tuple[str, dict[str, Any]]], png: Path, info: dict[str, Any]) -> str:
    """Plot ms per integration against N, one line per (label, per-N figures); return a note."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]'): no PNG drawn"
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    for label, data in curves:
        ns = [int(n) for n in data]
        ax.plot(ns, [v["ms_per_integration"] for v in data.values()], marker="o", label=label)
    ax.set_xlabel("integrations in the stack (N)")
    ax.set_ylabel("plan time per integration (ms)")
    ax.set_ylim(bottom=0)
    ax.set_title("In-process plan time per integration")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.text(0.01, 0.01, f"{info['cpu']}, {info['cores']} cores, Python {info['python']}", fontsize=7, alpha=0.7)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png)
    plt.close(fig)
    return f"wrote {png}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and sizes (under a minute)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON result path")
    parser.add_argument("--png", type=Path, default=DEFAULT_PNG, help="plan scaling chart path")
    parser.add_argument("--compare", type=Path, help="an earlier JSON result to draw beside this run")
    parser.add_argument("--label", default="this run", help="label stored in the JSON result")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="1", help=argparse.SUPPRESS)
    parser.add_argument("--render-n", type=int, default=50, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        sizes = [int(s) for s in args.sizes.split(",")]
        print(json.dumps(scaling_worker(sizes, args.render_n)))
        return 0

    settings = QUICK if args.quick else FULL
    info = machine()
    python = sys.executable
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        one, all_, count = catalog_configs(Path(tmp))
        at = ["--at", AT]
        commands = {
            "import pulumi": [python, "-c", "import pulumi"],
            "import pulumi_azuread": [python, "-c", "import pulumi_azuread"],
            "validate": [python, "-m", "provisioner", "validate", str(one)],
            "plan one": [python, "-m", "provisioner", "plan", "--config", str(one), *at],
            "plan all": [python, "-m", "provisioner", "plan", "--config", str(all_), *at],
            "--help": [python, "-m", "provisioner", "--help"],
            "schema --check": [python, "-m", "provisioner", "schema", "--check"],
        }
        cli = command_rounds(commands, settings.cli_rounds)
    scaling = run_scaling(settings)
    push = run_push(settings)
    rows = evaluate(cli, scaling, push)
    print_report(info, cli, scaling, rows)
    curves = [(str(args.label), scaling["scaling"])]
    if args.compare:
        earlier = json.loads(args.compare.read_text(encoding="utf-8"))
        curves.insert(0, (str(earlier.get("label", args.compare.stem)), earlier["scaling"]))
    print(draw(curves, args.png, info))
    result = {
        "label": args.label,
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "quick": args.quick,
        "machine": info,
        "settings": dataclasses.asdict(settings),
        "catalog_integrations": count,
        "commands": cli,
        "scaling": scaling["scaling"],
        "render": scaling["render"],
        "push": push,
        "targets": [dataclasses.asdict(r) | {"passed": r.passed} for r in rows],
        "seconds": time.perf_counter() - started,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output} ({result['seconds']:.0f} s)")
    return 0 if all(r.passed is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
