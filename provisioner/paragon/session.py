"""The process-wide token and integrations cache of the Paragon clients, fetched single-flight."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from provisioner.errors import ParagonTimeout
from provisioner.paragon.models import Integration

_K = TypeVar("_K")
_V = TypeVar("_V")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionCache:
    """Tokens and integrations lists shared by the clients of one process, fetched single-flight.

    Keyed by base URL and login identity (and project, for lists), so K changed integrations of one project
    in one ``pulumi up`` cost one login and one integrations list, however the calls interleave: Pulumi's
    dynamic provider process serves several gRPC calls at once (4 workers), and the engine creates
    independent resources in parallel.

    Single flight (`token_or_fetch`, `integrations_or_fetch`): the first caller for a key that is not cached
    becomes the leader and fetches; callers arriving while it fetches wait for that one result (at most
    ``wait_seconds``, then `ParagonTimeout`). If the leader's fetch fails, nothing is cached (the cache is
    never poisoned): the callers that were waiting for that fetch get the leader's exception, and the next
    caller after it starts a fresh fetch. Thread-safe; holds no secret other than the access token, which
    never leaves memory.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], str] = {}
        self._integrations: dict[tuple[str, str, str], list[Integration]] = {}
        self._flights: dict[tuple[str, ...], _Flight] = {}
        self._rejected: set[tuple[str, str, str]] = set()  # (base URL, identity, SHA-256 of a rejected token)

    def token(self, key: tuple[str, str]) -> str | None:
        """The cached token for (base URL, identity), if any."""
        with self._lock:
            return self._tokens.get(key)

    def store_token(self, key: tuple[str, str], token: str | None) -> None:
        """Remember (or forget, with None) the token for (base URL, identity)."""
        with self._lock:
            if token is None:
                self._tokens.pop(key, None)
            else:
                self._tokens[key] = token

    def forget_token(self, key: tuple[str, str], rejected: str) -> None:
        """Paragon refused ``rejected`` (a 401): drop it, unless another caller already replaced it.

        A late 401 on an old token therefore never wipes a fresh one, and a rejected static token
        (``PARAGON_ACCESS_TOKEN``) is not offered again (`was_rejected`).
        """
        with self._lock:
            if self._tokens.get(key) == rejected:
                del self._tokens[key]
            self._rejected.add((*key, _digest(rejected)))

    def was_rejected(self, key: tuple[str, str], token: str) -> bool:
        """True when Paragon refused ``token`` for (base URL, identity) earlier in this process."""
        with self._lock:
            return (*key, _digest(token)) in self._rejected

    def store_integrations(self, key: tuple[str, str, str], items: list[Integration]) -> None:
        """Remember a project's integrations list."""
        with self._lock:
            self._integrations[key] = items

    def token_or_fetch(self, key: tuple[str, str], fetch: Callable[[], str], wait_seconds: float) -> str:
        """The cached token for (base URL, identity), or the result of one ``fetch`` shared by concurrent callers.

        Args:
            key: (base URL, login identity).
            fetch: Obtains the token (a login call); runs in the leader's thread only.
            wait_seconds: Longest wait for another caller's fetch, in seconds.

        Raises:
            ParagonTimeout: Another caller's fetch took longer than ``wait_seconds``.
            Exception: Whatever the leader's ``fetch`` raised, for the callers that waited for it.
        """
        return self._single_flight(("token", *key), self._tokens, key, fetch, wait_seconds)

    def integrations_or_fetch(
        self, key: tuple[str, str, str], fetch: Callable[[], list[Integration]], wait_seconds: float
    ) -> list[Integration]:
        """The cached integrations of (base URL, identity, project), or one shared ``fetch`` (see `token_or_fetch`)."""
        return self._single_flight(("integrations", *key), self._integrations, key, fetch, wait_seconds)

    def _single_flight(
        self,
        flight_key: tuple[str, ...],
        store: dict[_K, _V],
        key: _K,
        fetch: Callable[[], _V],
        wait_seconds: float,
    ) -> _V:
        with self._lock:
            if key in store:
                return store[key]
            flight = self._flights.get(flight_key)
            leader = flight is None
            if flight is None:
                flight = self._flights[flight_key] = _Flight()
        if not leader:
            if not flight.done.wait(wait_seconds):
                raise ParagonTimeout(
                    f"waited {wait_seconds:.0f} s for a concurrent Paragon {flight_key[0]} request that did not finish"
                )
            with self._lock:
                if key in store:
                    return store[key]
            if flight.error is not None:
                raise flight.error
            return self._single_flight(flight_key, store, key, fetch, wait_seconds)  # forgotten since: fetch anew
        try:
            value = fetch()
        except BaseException as err:
            flight.error = err
            raise
        else:
            with self._lock:
                store[key] = value
            return value
        finally:
            with self._lock:
                self._flights.pop(flight_key, None)
            flight.done.set()


@dataclass
class _Flight:
    """One fetch in progress: followers wait on ``done``; ``error`` is the leader's failure, if any."""

    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
