"""The Paragon API client: login, integrations, OAuth app credentials (``shared/reference/paragon-api.md``).

All knowledge of Paragon's HTTP shapes lives here. Paragon publishes no official API for this; these are
the dashboard's endpoints as the community Terraform provider exercises them, so every response is
checked and an unexpected one fails with a message naming the endpoint and what was missing.

Retries (`RetryPolicy`): 408, 409, 429, 5xx, connection errors and timeouts are retried with capped
exponential backoff and full jitter, honouring ``Retry-After`` (seconds or an HTTP date), until the attempt
limit or the total time budget runs out. Other 4xx mean the request is wrong and are raised at once. A 401
triggers one re-login (when an email and password are available) and one retry. Retrying the credential
PUT is safe because it is an idempotent upsert: the same body leaves the same state. A certificate that
cannot be verified is never retried (`ParagonTLSError`).

Deadline: ``RetryPolicy.total_seconds`` bounds the whole call, attempts included, not only the waits between
them. Each attempt's httpx timeouts are shrunk to the time left, and the request runs inside
`provisioner.paragon.transport.deadline_scope`, so with the default transport every socket wait (connect,
TLS, headers, a body trickled byte by byte) ends by the deadline; then `ParagonTimeout` names the budget.
A paged integrations list shares one deadline across its pages.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import random
import re
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json import dumps as json_dumps
from types import TracebackType
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from provisioner.config import check_base_url
from provisioner.errors import (
    ConfigError,
    IntegrationNotInProject,
    ParagonAuthError,
    ParagonError,
    ParagonResponseError,
    ParagonTimeout,
    ParagonTLSError,
    ParagonTransportError,
    error_for_status,
)
from provisioner.paragon.login import ParagonLogin
from provisioner.paragon.models import (
    Credential,
    DecryptedCredential,
    Integration,
    OAuthCredentialUpsert,
    OAuthCredentialValues,
)
from provisioner.paragon.transport import (
    DEFAULT_TIMEOUT,
    HttpClientPool,
    certificate_failure,
    deadline_scope,
    new_http_client,
    proxy_for,
)
from provisioner.safe_io import JSON_TOO_DEEP, loads_json

log = logging.getLogger("provisioner.paragon")

DEFAULT_PAGE_SIZE: Final = 100
"""``size`` asked of the paged (2025) integrations list."""
MAX_PAGES: Final = 1000
"""Guard against a cursor that never ends."""
RETRYABLE_STATUSES: Final = frozenset({408, 409, 429})
"""Retried besides every 5xx."""
MESSAGE_LIMIT: Final = 300
"""Longest server message (characters) carried into an exception."""
TOKEN_REJECTED_HINT: Final = (
    "The access token was rejected (expired?). Set a fresh PARAGON_ACCESS_TOKEN, or set "
    "PARAGON_EMAIL and PARAGON_PASSWORD so the provisioner can log in again"
)
RELOGIN_REJECTED_HINT: Final = (
    "The login's token was rejected twice (also right after a fresh login with PARAGON_EMAIL and "
    "PARAGON_PASSWORD): check that this user may use the Paragon API, or set PARAGON_ACCESS_TOKEN to a valid token"
)
_M = TypeVar("_M", bound=BaseModel)
_K = TypeVar("_K")
_V = TypeVar("_V")
JWT_PATTERN: Final = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
"""A JWT-shaped string (a Paragon session token): scrubbed from every message shown."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one call.

    Attributes:
        max_attempts: Attempts per call, the first included.
        total_seconds: Budget for one call including waits; no wait is started that would end past it.
        base_delay: First backoff ceiling in seconds; doubles per attempt (full jitter below it).
        max_delay: Cap on one backoff wait, in seconds.
        sleep: Waits (injectable for tests).
        clock: Monotonic seconds (injectable for tests).
        rng: Jitter source (injectable for deterministic tests).
    """

    max_attempts: int = 6
    total_seconds: float = 120.0
    base_delay: float = 0.5
    max_delay: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Wait before attempt ``attempt + 1``: uniform in [0, min(max_delay, base_delay * 2**(attempt-1))]."""
        return self.rng.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,6}", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


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


SCRUB_MIN_RUN: Final = 8
"""Shortest run of a secret's characters that is scrubbed wherever it appears (a prefix, a cut-off tail)."""


def _secret_forms(secret: str) -> set[str]:
    """The secret as written, percent-encoded (both styles) and JSON-escaped: the forms a server may echo."""
    return {
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret, safe=""),
        json_dumps(secret)[1:-1],
        json_dumps(secret, ensure_ascii=False)[1:-1],
    }


def scrub_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every known secret replaced by ``[redacted]``.

    Beyond exact copies, any run of `SCRUB_MIN_RUN` or more consecutive characters of a secret (a prefix
    of the client secret, its tail) in any of its forms (as written, percent-encoded, JSON-escaped) is
    replaced, so a server message that echoes part of a secret does not leak it. A secret shorter than
    `SCRUB_MIN_RUN` is replaced only where it appears whole.
    """
    covered = [False] * len(text)
    for secret in secrets:
        if not secret:
            continue
        for form in _secret_forms(secret):
            if len(form) < SCRUB_MIN_RUN:
                start = text.find(form)
                while start != -1:
                    covered[start : start + len(form)] = [True] * len(form)
                    start = text.find(form, start + 1)
                continue
            grams = {form[i : i + SCRUB_MIN_RUN] for i in range(len(form) - SCRUB_MIN_RUN + 1)}
            for i in range(len(text) - SCRUB_MIN_RUN + 1):
                if text[i : i + SCRUB_MIN_RUN] in grams:
                    covered[i : i + SCRUB_MIN_RUN] = [True] * SCRUB_MIN_RUN
    if not any(covered):
        return text
    out: list[str] = []
    for index, char in enumerate(text):
        if not covered[index]:
            out.append(char)
        elif index == 0 or not covered[index - 1]:
            out.append("[redacted]")
    return "".join(out)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _server_message(response: httpx.Response, redact: list[str]) -> str:
    """Paragon's error text, scrubbed of known secrets and token-like strings, truncated."""
    content_type = response.headers.get("content-type", "")
    try:
        payload = loads_json(response.content)
    except ValueError:
        kind = content_type.split(";")[0] or "unknown type"
        return f"non-JSON body ({kind}, {len(response.content)} bytes)"
    parts: list[str] = []
    if isinstance(payload, dict):
        if isinstance(payload.get("message"), str):
            parts.append(payload["message"])
        meta = payload.get("meta")
        errors = meta.get("errors") if isinstance(meta, dict) else None
        if isinstance(errors, list):
            parts += [str(e["error"]) for e in errors if isinstance(e, dict) and "error" in e]
    text = scrub_secrets("; ".join(dict.fromkeys(parts)) if parts else "(no message)", redact)
    text = JWT_PATTERN.sub("[redacted]", text)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


class ParagonClient:
    """A client for one Paragon host and login. Use as a context manager, or call `close`.

    Args:
        base_url: API root, e.g. ``https://zeus.useparagon.com`` (already validated).
        login: Token and/or email + password (`provisioner.paragon.login.login_from`).
        http: An `httpx.Client` to use instead of creating one (its lifetime stays the caller's).
        transport: An httpx transport for a created client (e.g. `httpx.MockTransport` in tests).
        timeout: Per-operation timeouts (each attempt shrinks them to the time left of the call's budget).
        retry: The retry policy; ``total_seconds`` is the deadline of each call.
        cache: Token and integrations cache to share between clients; a private one by default.
        clients: A process-wide `HttpClientPool` to take the HTTP client from (kept open on `close`);
            without ``http``, ``transport`` or ``clients``, a private client is created and closed on `close`.
        ca_bundle: PEM file of the CA certificates that sign Paragon's certificate (``paragon.ca_bundle``),
            instead of the default trust store (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` / certifi).

    Every method raises subclasses of `provisioner.errors.ParagonError`; messages never hold a secret.

    Raises:
        ConfigError: ``base_url`` is not a URL httpx can send to (bad port, character or host name), or
            ``ca_bundle`` cannot be loaded.
    """

    def __init__(
        self,
        base_url: str,
        login: ParagonLogin,
        *,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        cache: SessionCache | None = None,
        clients: HttpClientPool | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        try:
            check_base_url(self.base_url, "base URL")
        except ValueError as err:
            raise ConfigError([f"Paragon base URL (paragon.base_url or PARAGON_BASE_URL): {err}"]) from None
        self._login = login
        self._timeout = timeout
        self._owns_http = http is None and (transport is not None or clients is None)
        try:
            if http is not None:
                self._http = http
            elif transport is not None:
                self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)
            elif clients is not None:
                self._http = clients.get(self.base_url, ca_bundle)
            else:
                self._http = new_http_client(ca_bundle, timeout, proxy_for(self.base_url))
        except ValueError as err:
            raise ConfigError([f"HTTPS_PROXY / HTTP_PROXY / ALL_PROXY: {err}"]) from None
        except (OSError, ssl.SSLError) as err:
            raise ConfigError(
                [
                    f"paragon.ca_bundle: cannot load {ca_bundle} as PEM CA certificates ({err}). Fix: point it at "
                    "a readable PEM file holding the CA certificate(s) of your Paragon host"
                ]
            ) from None
        self._retry = retry or RetryPolicy()
        self._cache = cache or SessionCache()

    def __repr__(self) -> str:
        return f"ParagonClient(base_url={self.base_url!r}, login={self._login.identity!r})"

    def __enter__(self) -> ParagonClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            self._http.close()

    # --- authentication --------------------------------------------------------------------------------

    @property
    def _token_key(self) -> tuple[str, str]:
        return (self.base_url, self._login.identity)

    def _token(self, deadline: float | None = None) -> str:
        """The process's token for this host and login: cached, or one login shared by concurrent callers.

        Args:
            deadline: The calling request's deadline (`RetryPolicy.clock` seconds): a login made for it shares it.
        """
        static = self._login.access_token.get_secret_value() if self._login.access_token is not None else None
        if (
            static
            and self._cache.token(self._token_key) is None
            and not self._cache.was_rejected(self._token_key, static)
        ):
            self._cache.store_token(self._token_key, static)
        return self._cache.token_or_fetch(self._token_key, lambda: self._log_in(deadline), self._flight_wait)

    @property
    def _flight_wait(self) -> float:
        """Longest wait for another caller's login or list, in seconds: its retry budget plus one read timeout."""
        return self._retry.total_seconds + (self._timeout.read or 30.0)

    def _log_in(self, deadline: float | None = None) -> str:
        """``POST /auth/login/email`` → the access token (within ``deadline``). Raises ParagonAuthError when refused."""
        if not self._login.can_log_in:
            raise ParagonAuthError("POST", "/auth/login/email", 401, "", TOKEN_REJECTED_HINT)
        assert self._login.password is not None  # can_log_in checked it
        body = {"username": self._login.email, "password": self._login.password.get_secret_value()}
        response = self._send(
            "POST", "/auth/login/email", json=body, authenticated=False, expect=(200, 201), deadline=deadline
        )
        payload = self._json(response, "POST /auth/login/email")
        token = payload.get("accessToken") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise ParagonResponseError("POST /auth/login/email: the response has no accessToken string")
        log.debug("logged in to %s", self.base_url)
        return token

    # --- transport with retries ------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        authenticated: bool = True,
        expect: tuple[int, ...] = (200,),
        allow: tuple[int, ...] = (),
        redact: tuple[str, ...] = (),
        deadline: float | None = None,
    ) -> httpx.Response:
        """One logical call: retries, one re-login on 401, status check. Returns 2xx or an allowed status.

        ``deadline`` (in ``policy.clock`` seconds) defaults to now + ``policy.total_seconds``; pass one to
        share a budget between calls (the pages of one list, a re-login inside a call).
        """
        policy = self._retry
        if deadline is None:
            deadline = self._deadline()
        relogged = False
        attempt = 0
        scrub = [*self._login.secrets(), *redact]
        while True:
            attempt += 1
            headers = {"Accept": "application/json"}
            if authenticated:
                token = self._token(deadline)
                headers["Authorization"] = f"Bearer {token}"
                if token not in scrub:  # a session token from login is a secret too, JWT-shaped or not
                    scrub.append(token)
            left = deadline - policy.clock()
            if left <= 0:
                raise self._out_of_time(method, path)
            retry_after: float | None = None
            try:
                with deadline_scope(left):
                    response = self._http.request(
                        method,
                        self.base_url + path,
                        json=json,
                        params=params,
                        headers=headers,
                        timeout=self._attempt_timeout(left),
                    )
            except httpx.TimeoutException as err:
                if policy.clock() >= deadline:
                    raise self._out_of_time(method, path) from None
                failure: ParagonError = ParagonTimeout(
                    f"Paragon {method} {path}: timed out ({type(err).__name__}) after {attempt} attempt(s); "
                    f"is {self.base_url} reachable and healthy?"
                )
            except httpx.TransportError as err:
                untrusted = certificate_failure(err)
                if untrusted is not None:
                    raise self._untrusted(method, path, untrusted) from None
                failure = ParagonTransportError(
                    f"Paragon {method} {path}: cannot reach {self.base_url} ({type(err).__name__}) after "
                    f"{attempt} attempt(s). Check paragon.base_url / PARAGON_BASE_URL and the network"
                )
            else:
                status = response.status_code
                log.debug("%s %s -> %s (attempt %d)", method, path, status, attempt)
                if status in expect or status in allow:
                    return response
                if status == 401 and authenticated and not relogged:
                    relogged = True
                    self._cache.forget_token(self._token_key, token)
                    if not self._login.can_log_in:  # name the call that was refused, not a login never sent
                        raise ParagonAuthError(
                            method, path, status, _server_message(response, scrub), TOKEN_REJECTED_HINT
                        )
                    # One re-login for all callers that saw the same token refused (single-flight).
                    self._cache.token_or_fetch(self._token_key, lambda: self._log_in(deadline), self._flight_wait)
                    attempt -= 1  # the re-login does not use up the retry budget
                    continue
                error_class = error_for_status(status)
                message = _server_message(response, scrub)
                if status not in RETRYABLE_STATUSES and status < 500:
                    hint = RELOGIN_REJECTED_HINT if status == 401 and relogged else self._hint(method, path, status)
                    raise error_class(method, path, status, message, hint)
                failure = error_class(method, path, status, message, f"gave up after {attempt} attempt(s)")
                retry_after = parse_retry_after(response.headers.get("retry-after"))
            delay = retry_after if retry_after is not None else policy.backoff(attempt)
            if attempt >= policy.max_attempts:
                raise failure
            if policy.clock() + delay > deadline:  # no time for the wait and another attempt
                raise self._out_of_time(method, path) if isinstance(failure, ParagonTimeout) else failure
            log.info("Paragon %s %s failed (%s); retrying in %.1f s", method, path, type(failure).__name__, delay)
            policy.sleep(delay)

    def _deadline(self) -> float:
        """The end of a call's time budget that starts now, in ``policy.clock`` seconds."""
        return self._retry.clock() + self._retry.total_seconds

    def _attempt_timeout(self, left: float) -> httpx.Timeout:
        """The configured per-operation timeouts, none longer than the ``left`` seconds of the budget."""
        t = self._timeout

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(connect=cap(t.connect), read=cap(t.read), write=cap(t.write), pool=cap(t.pool))

    def _out_of_time(self, method: str, path: str) -> ParagonTimeout:
        return ParagonTimeout(
            f"Paragon {method} {path} did not finish within {self._retry.total_seconds:g} s "
            f"(paragon.retry_timeout_seconds). Fix: check that {self.base_url} is reachable and healthy, or "
            "raise paragon.retry_timeout_seconds"
        )

    def _untrusted(self, method: str, path: str, err: ssl.SSLCertVerificationError) -> ParagonTLSError:
        host = urlsplit(self.base_url).hostname
        reason = err.verify_message or err.reason or "verification failed"
        return ParagonTLSError(
            f"Paragon {method} {path}: the TLS certificate of {host} could not be verified ({reason}); not "
            "retried. Fix: if Paragon uses a private CA, set paragon.ca_bundle to a PEM file with that CA's "
            "certificate, or set SSL_CERT_FILE to such a file in the environment of `pulumi up` (either replaces "
            "the default CA store); if the CA is public, check the host name in paragon.base_url / PARAGON_BASE_URL"
        )

    def _hint(self, method: str, path: str, status: int) -> str:
        if path == "/auth/login/email" and status in (400, 401, 403):
            return (
                "Login refused: check PARAGON_EMAIL and PARAGON_PASSWORD (the user needs admin rights in the "
                "project's Paragon organization)"
            )
        if status in (401, 403):
            return "The login has no access to this project: use a user of the project's organization"
        if status == 404 and path.endswith("/integrations"):
            return "Project not found: check paragon.project_id (the GUID in the dashboard URL) and base_url"
        return ""

    @staticmethod
    def _json(response: httpx.Response, endpoint: str) -> Any:
        try:
            return loads_json(response.content)
        except ValueError as err:
            if str(err) == JSON_TOO_DEEP:
                raise ParagonResponseError(f"{endpoint}: the JSON body is {err}, not a Paragon answer") from None
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            raise ParagonResponseError(
                f"{endpoint}: expected JSON but got {kind} ({len(response.content)} bytes); is the base URL "
                "Paragon's API host (zeus), not the dashboard?"
            ) from None

    @staticmethod
    def _parse(model: type[_M], payload: Any, endpoint: str) -> _M:
        try:
            return model.model_validate(payload)
        except ValidationError as err:
            missing = ", ".join(".".join(str(p) for p in e["loc"]) or "(body)" for e in err.errors(include_input=False))
            raise ParagonResponseError(
                f"{endpoint}: unexpected response shape, missing or invalid: {missing}"
            ) from None

    # --- integrations ----------------------------------------------------------------------------------

    def _pages(self, project_id: str) -> Iterator[Any]:
        """Every item of every page, under one deadline; a cursor seen before ends it with ParagonResponseError."""
        path = f"/projects/{project_id}/integrations"
        endpoint = f"GET {path}"
        params: dict[str, str] = {"size": str(DEFAULT_PAGE_SIZE)}
        deadline = self._deadline()
        seen: set[str] = set()  # every cursor followed so far
        for page in range(1, MAX_PAGES + 1):
            payload = self._json(self._send("GET", path, params=params, deadline=deadline), endpoint)
            if isinstance(payload, list):  # 2024 shape: a bare array
                yield from payload
                return
            if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
                raise ParagonResponseError(f"{endpoint}: expected a JSON array or an object with 'items'")
            yield from payload["items"]
            cursor = payload.get("nextPageCursor")
            if not cursor:
                return
            if str(cursor) in seen:
                raise ParagonResponseError(
                    f"{endpoint}: page {page} returned a nextPageCursor already followed; the list does not "
                    "advance, so it was stopped (a Paragon pagination fault: retry later or report it to Paragon)"
                )
            seen.add(str(cursor))
            params = {"size": str(DEFAULT_PAGE_SIZE), "cursor": str(cursor)}
        raise ParagonResponseError(f"{endpoint}: more than {MAX_PAGES} pages; the cursor does not end")

    def list_integrations(self, project_id: str, *, refresh: bool = False) -> list[Integration]:
        """All integrations of a project, following the cursor of the paged (2025) shape; cached per client cache.

        Raises:
            ParagonNotFound: The project does not exist (or is not visible to this login).
            ParagonResponseError: Neither known list shape.
        """
        key = (self.base_url, self._login.identity, project_id)
        endpoint = f"GET /projects/{project_id}/integrations"

        def fetch() -> list[Integration]:
            return [self._parse(Integration, item, endpoint) for item in self._pages(project_id)]

        if refresh:
            items = fetch()
            self._cache.store_integrations(key, items)
            return items
        return self._cache.integrations_or_fetch(key, fetch, self._flight_wait)

    def find_integration(self, project_id: str, integration_key: str) -> Integration:
        """The built-in integration ``integration_key`` (e.g. ``powerbi``) of the project.

        Raises:
            IntegrationNotInProject: It has not been added to the project.
        """
        for integration in self.list_integrations(project_id):
            if integration.type == integration_key:
                return integration
        raise IntegrationNotInProject(
            f"integration {integration_key!r} is not added to Paragon project {project_id}: add it from the "
            "Catalog in the Paragon dashboard (Catalog → the integration → Connect), then re-run"
        )

    def set_integration_active(self, project_id: str, integration_id: str, active: bool) -> Integration:
        """``PATCH /projects/{p}/integrations/{i}`` with ``{"isActive": active}``.

        Raises:
            ParagonAPIError: An error status after retries (`ParagonNotFound` for an unknown project or object,
                `ParagonAuthError` for a refused login); ParagonResponseError: an unexpected body;
                ParagonTransportError / ParagonTimeout: no answer within ``retry_timeout_seconds``.
        """
        path = f"/projects/{project_id}/integrations/{integration_id}"
        response = self._send("PATCH", path, json={"isActive": active})
        return self._parse(Integration, self._json(response, f"PATCH {path}"), f"PATCH {path}")

    # --- OAuth app credentials -------------------------------------------------------------------------

    def upsert_oauth_credential(
        self,
        project_id: str,
        integration: Integration,
        *,
        name: str,
        client_id: str,
        client_secret: SecretStr,
        scopes: str,
        extra_values: Mapping[str, str] | None = None,
    ) -> Credential:
        """Create or update the integration's OAuth app credential (``PUT .../credentials/oauth``).

        Args:
            project_id: The Paragon project.
            integration: From `find_integration`.
            name: Label shown in Paragon.
            client_id: Application (client) ID.
            client_secret: The client secret value.
            scopes: ONE string, scopes separated by single spaces.
            extra_values: Non-secret values merged into ``values`` next to the three above (an integration's
                extra settings, e.g. a Dynamics organization URL); they may not use those three keys.

        Returns:
            The stored credential (its ``id`` identifies it for reads and deletes).
        """
        body = OAuthCredentialUpsert(
            name=name,
            provider=integration.type,
            integration_id=integration.id,
            values=OAuthCredentialValues(
                client_id=client_id, client_secret=client_secret, scopes=scopes, extra_values=dict(extra_values or {})
            ),
        )
        path = f"/projects/{project_id}/credentials/oauth"
        # Idempotent upsert: a retried PUT with the same body leaves the same state, so retrying is safe.
        response = self._send("PUT", path, json=body.wire(), redact=(client_secret.get_secret_value(),))
        return self._parse(Credential, self._json(response, f"PUT {path}"), f"PUT {path}")

    def get_decrypted_credential(self, project_id: str, credential_id: str) -> DecryptedCredential | None:
        """The credential with its values (secret included: never log it), or None when it is gone.

        Raises:
            ParagonAPIError: An error status after retries (`ParagonNotFound` for an unknown project or object,
                `ParagonAuthError` for a refused login); ParagonResponseError: an unexpected body;
                ParagonTransportError / ParagonTimeout: no answer within ``retry_timeout_seconds``.
        """
        path = f"/projects/{project_id}/credentials/{credential_id}/decrypted"
        response = self._send("GET", path, allow=(404,))
        if response.status_code == 404:
            return None
        return self._parse(DecryptedCredential, self._json(response, f"GET {path}"), f"GET {path}")

    def list_credentials(self, project_id: str) -> list[Credential]:
        """``GET /projects/{p}/credentials``: a bare array of credentials (without values).

        Raises:
            ParagonAPIError: An error status after retries (`ParagonNotFound` for an unknown project or object,
                `ParagonAuthError` for a refused login); ParagonResponseError: an unexpected body;
                ParagonTransportError / ParagonTimeout: no answer within ``retry_timeout_seconds``.
        """
        path = f"/projects/{project_id}/credentials"
        payload = self._json(self._send("GET", path), f"GET {path}")
        if not isinstance(payload, list):
            raise ParagonResponseError(f"GET {path}: expected a JSON array")
        return [self._parse(Credential, item, f"GET {path}") for item in payload]

    def find_oauth_credential(self, project_id: str, integration_id: str) -> Credential | None:
        """The ``oauth_app`` credential of an integration, if one exists.

        Raises:
            ParagonAPIError: An error status after retries (`ParagonNotFound` for an unknown project or object,
                `ParagonAuthError` for a refused login); ParagonResponseError: an unexpected body;
                ParagonTransportError / ParagonTimeout: no answer within ``retry_timeout_seconds``.
        """
        for credential in self.list_credentials(project_id):
            if credential.integration_id == integration_id and credential.scheme == "oauth_app":
                return credential
        return None

    def delete_credential(self, project_id: str, credential_id: str) -> bool:
        """Delete a credential. Returns False when it was already gone (404).

        Raises:
            ParagonAPIError: An error status after retries (`ParagonNotFound` for an unknown project or object,
                `ParagonAuthError` for a refused login); ParagonResponseError: an unexpected body;
                ParagonTransportError / ParagonTimeout: no answer within ``retry_timeout_seconds``.
        """
        path = f"/projects/{project_id}/credentials/{credential_id}"
        response = self._send("DELETE", path, allow=(404,))
        return response.status_code != 404


__all__ = [
    "ParagonClient",
    "RetryPolicy",
    "SessionCache",
    "parse_retry_after",
]
