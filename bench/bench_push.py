"""Benchmark: pushing N OAuth credentials through the dynamic provider, against the Paragon fake.

Run it as a script (it is not a pytest test)::

    .venv/bin/python bench/bench_push.py [--repeat R]

For N = 1, 10 and 100, each round starts a fresh `FakeParagon` (tests/paragon_fake.py) on 127.0.0.1 with one
project holding N integrations and a fresh provider process state (empty session cache and, where it exists,
an empty process-wide HTTP client pool), then times, in-process:

* ``create``: `ParagonCredentialProvider.create` once per integration (a cold process: the first call also
  logs in and lists the integrations);
* ``update``: `ParagonCredentialProvider.update` once per integration with a new client secret (a warm
  process: one PUT per call);
* ``bare``: a bare keep-alive ``httpx.Client`` doing the same N PUTs on a fresh fake (token obtained
  beforehand, client built before the clock starts).

It prints medians over R rounds (default 5) of milliseconds per push and the ratios provider / bare, plus the
requests the fake received during the creates.

Targets (the script exits with status 1 when one is missed):

* call counts of the creates: 1 login + 1 integrations list + N PUTs = N + 2 requests, nothing else;
* call counts of the updates: N PUTs, nothing else;
* timing: ``update`` at most 2x ``bare`` for N >= 10 (the steady state of a ``pulumi up`` that pushes
  several credentials). ``create`` at N = 1 is three requests against bare's one, so its ratio is shown,
  not judged.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from paragon_fake import FakeParagon  # noqa: E402

import provisioner.paragon.resource as resource  # noqa: E402
from provisioner.paragon.client import SessionCache  # noqa: E402
from provisioner.paragon.login import ENV_ACCESS_TOKEN, ENV_BASE_URL, ENV_EMAIL, ENV_PASSWORD  # noqa: E402

EMAIL, PASSWORD = "bench@example.com", "bench-password"
PROJECT = "38b1f170-0c43-4eae-9a04-ab85325d99f7"
SIZES = (1, 10, 100)
RATIO_TARGET = 2.0
LOGIN = r"/auth/login/email"
LIST = r"/projects/[^/]+/integrations"
PUT = r"/projects/[^/]+/credentials/oauth"


def props(base_url: str, kind: str, n: int, secret: str = "bench-secret") -> dict[str, object]:
    return {
        "projectId": PROJECT,
        "integrationKey": kind,
        "baseUrl": base_url,
        "credentialName": f"bench {kind}",
        "clientId": f"00000000-0000-0000-0000-{n:012d}",
        "clientSecret": f"{secret}-{n}",
        "scopes": "Dataset.Read.All offline_access",
        "activate": False,
        "deleteOnDestroy": False,
        "retryTimeoutSeconds": 10.0,
    }


def fresh_provider_process() -> Callable[[], None]:
    """Reset the provider module's process-wide state; return a function that releases it afterwards."""
    resource.PROCESS_SESSIONS = SessionCache()  # type: ignore[misc]
    current = getattr(resource, "PROCESS_HTTP", None)
    if current is None:  # a tree from before the process-wide HTTP client
        return lambda: None
    pool = type(current)()
    resource.PROCESS_HTTP = pool  # type: ignore[misc]
    return pool.close  # type: ignore[no-any-return]


def provider_round(n: int) -> tuple[dict[str, int], int, float, float]:
    """Create then update n credentials; return create counts, update request count, create and update seconds."""
    with FakeParagon() as fake:
        fake.add_user(EMAIL, PASSWORD)
        kinds = [f"kind{i}" for i in range(n)]
        for kind in kinds:
            fake.add_integration(PROJECT, kind)
        release = fresh_provider_process()
        provider = resource.ParagonCredentialProvider()
        started = time.perf_counter()
        created = [provider.create(props(fake.url, kind, i)) for i, kind in enumerate(kinds)]
        create_s = time.perf_counter() - started
        counts = {
            "logins": fake.count("POST", LOGIN),
            "lists": fake.count("GET", LIST),
            "puts": fake.count("PUT", PUT),
            "total": len(fake.requests),
        }
        fake.reset_log()
        started = time.perf_counter()
        for i, (kind, result) in enumerate(zip(kinds, created, strict=True)):
            provider.update(str(result.id), dict(result.outs or {}), props(fake.url, kind, i, secret="rotated"))
        update_s = time.perf_counter() - started
        update_requests = fake.count("PUT", PUT) if len(fake.requests) == fake.count("PUT", PUT) else -1
        stored = len(fake.credentials)
        release()
    if stored != n:
        raise SystemExit(f"N={n}: the fake holds {stored} credentials, expected {n}")
    return counts, update_requests, create_s, update_s


def bare_round(n: int) -> float:
    """The same n PUTs with one keep-alive httpx client and a token obtained beforehand; wall seconds."""
    with FakeParagon() as fake:
        fake.accept_token("bench-token")
        ids = [fake.add_integration(PROJECT, f"kind{i}") for i in range(n)]
        headers = {"Authorization": "Bearer bench-token"}
        with httpx.Client(base_url=fake.url, headers=headers, timeout=10.0) as http:
            started = time.perf_counter()
            for i, iid in enumerate(ids):
                body = {
                    "name": f"bench kind{i}",
                    "provider": f"kind{i}",
                    "scheme": "oauth_app",
                    "integrationId": iid,
                    "values": {"clientId": "c", "clientSecret": f"bench-secret-{i}", "scopes": "a b"},
                }
                http.put(f"/projects/{PROJECT}/credentials/oauth", json=body).raise_for_status()
            return time.perf_counter() - started


def client_construction_ms(repeat: int = 20) -> float:
    """Mean wall milliseconds to build and close an httpx.Client (it loads the CA bundle every time)."""
    started = time.perf_counter()
    for _ in range(repeat):
        httpx.Client().close()
    return 1000 * (time.perf_counter() - started) / repeat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds per N; medians are reported")
    rounds = parser.parse_args().repeat
    for name in (ENV_ACCESS_TOKEN, ENV_BASE_URL):
        os.environ.pop(name, None)
    os.environ[ENV_EMAIL] = EMAIL
    os.environ[ENV_PASSWORD] = PASSWORD
    bare_round(5)  # warm-up: imports, first sockets
    provider_round(2)

    print(f"tree: {ROOT}  rounds: {rounds}  (medians, ms per push)")
    print(
        f"{'N':>4} {'requests':>8} {'target':>6} {'create':>8} {'update':>8} {'bare':>8} "
        f"{'create/bare':>11} {'update/bare':>11}  result"
    )
    missed = 0
    for n in SIZES:
        creates: list[float] = []
        updates: list[float] = []
        bares: list[float] = []
        ok = True
        counts: dict[str, int] = {}
        for _ in range(rounds):
            counts, update_requests, create_s, update_s = provider_round(n)
            creates.append(1000 * create_s / n)
            updates.append(1000 * update_s / n)
            bares.append(1000 * bare_round(n) / n)
            ok &= counts == {"logins": 1, "lists": 1, "puts": n, "total": n + 2} and update_requests == n
        create_ms, update_ms, bare_ms = (statistics.median(xs) for xs in (creates, updates, bares))
        fast_enough = n < 10 or update_ms <= RATIO_TARGET * bare_ms
        missed += not (ok and fast_enough)
        verdict = "OK" if ok and fast_enough else ("MISSED counts" if not ok else f"MISSED ratio > {RATIO_TARGET}")
        print(
            f"{n:>4} {counts['total']:>8} {n + 2:>6} {create_ms:>8.2f} {update_ms:>8.2f} {bare_ms:>8.2f} "
            f"{create_ms / bare_ms:>11.1f} {update_ms / bare_ms:>11.1f}  {verdict}"
        )
    print(f"targets: creates make 1 login + 1 list + N PUTs; updates N PUTs; update/bare <= {RATIO_TARGET} for N >= 10")
    print(f"note: building one httpx.Client costs {client_construction_ms():.1f} ms here (CA bundle load)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
