"""`SessionCache` single flight: concurrent first callers share one fetch; a failure is never cached.

The gRPC-level proof (4 parallel Creates → 1 login + 1 list + 4 PUTs) is in tests/test_engine_provider.py;
these tests pin the cache's own rules with threads and events (no sleeps, every wait bounded).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from provisioner.errors import ParagonAuthError, ParagonTimeout
from provisioner.paragon.client import SessionCache
from provisioner.paragon.models import Integration

KEY = ("http://127.0.0.1:1", "email:admin@example.com")
WAIT = 10.0


class GatedFetch:
    """A fetch that signals when it starts and finishes only when released; counts its calls."""

    def __init__(self, result: Callable[[int], str]) -> None:
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self._result = result
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            self.calls += 1
            call = self.calls
        self.started.set()
        assert self.release.wait(WAIT)
        return self._result(call)


def test_concurrent_first_callers_share_one_fetch() -> None:
    cache = SessionCache()
    fetch = GatedFetch(lambda call: f"token-{call}")
    with ThreadPoolExecutor(max_workers=4) as pool:
        leader = pool.submit(cache.token_or_fetch, KEY, fetch, WAIT)
        assert fetch.started.wait(WAIT)
        followers = [pool.submit(cache.token_or_fetch, KEY, fetch, WAIT) for _ in range(3)]
        fetch.release.set()
        results = [f.result(WAIT) for f in (leader, *followers)]

    assert results == ["token-1"] * 4 and fetch.calls == 1
    assert cache.token(KEY) == "token-1"
    assert cache.token_or_fetch(KEY, fetch, WAIT) == "token-1" and fetch.calls == 1, "cached afterwards"


def test_a_failed_fetch_reaches_its_waiters_and_is_not_cached() -> None:
    cache = SessionCache()
    failing = True

    def result(call: int) -> str:
        if failing:
            raise ParagonAuthError("POST", "/auth/login/email", 401, "Invalid email or password")
        return f"token-{call}"

    fetch = GatedFetch(result)
    with ThreadPoolExecutor(max_workers=4) as pool:
        leader = pool.submit(cache.token_or_fetch, KEY, fetch, WAIT)
        assert fetch.started.wait(WAIT)
        followers = [pool.submit(cache.token_or_fetch, KEY, fetch, WAIT) for _ in range(3)]
        fetch.release.set()
        outcomes: list[Future[str]] = [leader, *followers]
        errors = [f.exception(WAIT) for f in outcomes]

    assert all(isinstance(e, ParagonAuthError) for e in errors), "every caller hears of the failure"
    assert cache.token(KEY) is None, "a failure is never cached"
    failing = False
    calls_before = fetch.calls
    assert cache.token_or_fetch(KEY, fetch, WAIT) == f"token-{calls_before + 1}", "the next caller fetches afresh"


def test_waiting_for_another_callers_fetch_is_bounded() -> None:
    cache = SessionCache()
    fetch = GatedFetch(lambda call: "token")
    with ThreadPoolExecutor(max_workers=2) as pool:
        leader = pool.submit(cache.token_or_fetch, KEY, fetch, WAIT)
        assert fetch.started.wait(WAIT)
        with pytest.raises(ParagonTimeout, match="concurrent Paragon token request"):
            cache.token_or_fetch(KEY, fetch, 0.01)
        fetch.release.set()
        assert leader.result(WAIT) == "token"


def test_integrations_are_single_flight_per_project() -> None:
    cache = SessionCache()
    calls: list[str] = []
    lock = threading.Lock()
    gate = threading.Event()

    def fetch_for(project: str) -> Callable[[], list[Integration]]:
        def fetch() -> list[Integration]:
            with lock:
                calls.append(project)
            assert gate.wait(WAIT)
            return [Integration(id=f"{project}-int", type="powerbi")]

        return fetch

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [
            pool.submit(cache.integrations_or_fetch, (*KEY, project), fetch_for(project), WAIT)
            for project in ("p1", "p2", "p1", "p2", "p1", "p2")
        ]
        gate.set()
        results = [f.result(WAIT) for f in futures]

    assert sorted(calls) == ["p1", "p2"], "one list per project, whatever the interleaving"
    assert [r[0].id for r in results] == ["p1-int", "p2-int"] * 3
