"""The machinery under `ParagonClient`: one host and login, its token, and every call's retries and deadline.

`ParagonSession` owns the HTTP client, the login (token cached single-flight in `SessionCache`), and
`ParagonSession._send`: one logical call with status-aware retries inside the call's deadline, one
re-login on 401, and server messages scrubbed of secrets. The endpoints are in `provisioner.paragon.client`.

Retries (`RetryPolicy`): 408, 409, 429, 5xx, connection errors and timeouts are retried with capped
exponential backoff and full jitter, honouring ``Retry-After`` (seconds or an HTTP date), until the attempt
limit or the total time budget runs out. Other 4xx mean the request is wrong and are raised at once. A 401
triggers one re-login (when an email and password are available) and one retry. A certificate that cannot
be verified is never retried (`ParagonTLSError`).

Deadline: ``RetryPolicy.total_seconds`` bounds the whole call, attempts included, not only the waits between
them. Each attempt's httpx timeouts are shrunk to the time left, and the request runs inside
`provisioner.transport.connections.deadline_scope`, so with the default transport every socket wait (connect,
TLS, headers, a body trickled byte by byte) ends by the deadline; then `ParagonTimeout` names the budget.
"""

from __future__ import annotations

import logging
import ssl
from types import TracebackType
from typing import Any, Final, Self, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from provisioner.config import check_base_url
from provisioner.config.safe_io import JSON_TOO_DEEP, loads_json
from provisioner.errors import (
    ConfigError,
    ParagonAuthError,
    ParagonError,
    ParagonResponseError,
    ParagonTimeout,
    ParagonTLSError,
    ParagonTransportError,
    error_for_status,
    escape_controls,
)
from provisioner.paragon.login import ParagonLogin
from provisioner.paragon.session import SessionCache
from provisioner.transport.connections import (
    DEFAULT_TIMEOUT,
    HttpClientPool,
    capped_timeout,
    certificate_failure,
    deadline_scope,
    new_http_client,
    proxy_for,
)
from provisioner.transport.retry import RetryPolicy, parse_retry_after
from provisioner.transport.scrub import scrub_message

log = logging.getLogger("provisioner.paragon")

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


def _server_message(response: httpx.Response, redact: list[str]) -> str:
    """Paragon's error text (``message`` and ``meta.errors[].error``), truncated to `MESSAGE_LIMIT` characters.

    Scrubbed before truncation (`scrub_message`): the login's secrets and session token (``redact``), every
    secret the environment holds (`provisioner.transport.env_secrets`) and credential-shaped text (an Entra
    client secret, a JWT such as a Paragon session token, a Bearer value).
    """
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
    text = escape_controls(scrub_message("; ".join(dict.fromkeys(parts)) if parts else "(no message)", redact))
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


class ParagonSession:
    """One Paragon host and login: HTTP client, token, retries. Use `ParagonClient`, which adds the endpoints.

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

    def __enter__(self) -> Self:
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
        return capped_timeout(self._timeout, left)

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
