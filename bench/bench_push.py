"""Benchmark: pushing N OAuth credentials through the dynamic provider, against the Paragon fake.

Run it as a script (it is not a pytest test)::

    .venv/bin/python bench/bench_push.py

For N = 1, 10 and 100 it starts a fresh `FakeParagon` (tests/paragon_fake.py) on 127.0.0.1 with one
project holding N integrations, gives the provider a fresh process-wide session cache (what a new
``pulumi up`` provider process has), calls `ParagonCredentialProvider.create` once per integration, and
prints the requests the fake received, by kind, the total, the mean wall time per push, and the ratio to a
bare keep-alive ``httpx`` PUT loop doing the same N PUTs on the same fake.

Targets (call counts; the script exits with status 1 when one is missed):

* logins: exactly 1 (the token is cached for the process);
* integrations lists: exactly 1 (N <= 100 fits one page of ``size=100``; the list is cached per project);
* credential PUTs: exactly N;
* total requests: exactly N + 2; nothing else (no credential list, no decrypted read, no PATCH).

Timings are informative only (no target): the provider builds a new httpx client, hence a new connection
and SSL context, for every call, by design (dynamic providers keep no client between calls), so a ratio
of a few times the bare loop is expected on loopback.
"""

from __future__ import annotations

import os
import sys
import time
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
LOGIN = r"/auth/login/email"
LIST = r"/projects/[^/]+/integrations"
PUT = r"/projects/[^/]+/credentials/oauth"


def props(base_url: str, kind: str, n: int) -> dict[str, object]:
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


def provider_run(n: int) -> tuple[dict[str, int], float]:
    """Create n credentials through the provider; return request counts by kind and wall seconds."""
    with FakeParagon() as fake:
        fake.add_user(EMAIL, PASSWORD)
        kinds = [f"kind{i}" for i in range(n)]
        for kind in kinds:
            fake.add_integration(PROJECT, kind)
        resource.PROCESS_SESSIONS = SessionCache()  # type: ignore[misc]  # a fresh provider process
        provider = resource.ParagonCredentialProvider()
        started = time.perf_counter()
        for i, kind in enumerate(kinds):
            provider.create(props(fake.url, kind, i))
        elapsed = time.perf_counter() - started
        counts = {
            "logins": fake.count("POST", LOGIN),
            "lists": fake.count("GET", LIST),
            "puts": fake.count("PUT", PUT),
            "total": len(fake.requests),
        }
        stored = sum(1 for _ in fake.credentials)
    if stored != n:
        raise SystemExit(f"N={n}: the fake holds {stored} credentials, expected {n}")
    return counts, elapsed


def bare_run(n: int) -> float:
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
    for name in (ENV_ACCESS_TOKEN, ENV_BASE_URL):
        os.environ.pop(name, None)
    os.environ[ENV_EMAIL] = EMAIL
    os.environ[ENV_PASSWORD] = PASSWORD
    bare_run(5)  # warm-up: imports, first sockets

    print(
        f"{'N':>4} {'logins':>6} {'lists':>5} {'PUTs':>5} {'total':>5} {'target':>6} "
        f"{'ms/push':>8} {'bare ms/PUT':>11} {'ratio':>6}  result"
    )
    missed = 0
    for n in SIZES:
        counts, elapsed = provider_run(n)
        bare = bare_run(n)
        target = {"logins": 1, "lists": 1, "puts": n, "total": n + 2}
        ok = counts == target
        missed += not ok
        print(
            f"{n:>4} {counts['logins']:>6} {counts['lists']:>5} {counts['puts']:>5} {counts['total']:>5} "
            f"{n + 2:>6} {1000 * elapsed / n:>8.2f} {1000 * bare / n:>11.2f} {elapsed / bare:>6.1f}  "
            f"{'OK' if ok else f'MISSED (target {target})'}"
        )
    print("targets: 1 login + 1 integrations list + N PUTs = N + 2 requests; ratio = provider / bare httpx loop")
    print(
        f"note: building one httpx.Client costs {client_construction_ms():.1f} ms here (CA bundle load); the "
        "provider builds one per call, which dominates ms/push on loopback"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
