"""The machinery under `GraphReader`: the Graph endpoint, the token, and one GET with retries and a deadline.

Built on the same transport pieces as Paragon's client (`provisioner.transport`): the process-wide
`HttpClientPool` (TLS trust, proxies), `deadline_scope` (every socket wait ends by the call's deadline),
`RetryPolicy` (capped exponential backoff with full jitter, ``Retry-After`` honoured in seconds or as an HTTP
date) and `scrub_message` (every secret the environment holds, the tokens obtained, and credential shapes).
Retried: 408, 429, 5xx, dropped connections and timeouts, within the attempt limit and the call's time budget.
Never retried: other 4xx (403 → `GraphForbidden` carrying the permission the read needs), and a certificate
that cannot be verified (`GraphTLSError`). A 401 gets one fresh token and one retry.
Only GET is ever sent.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import httpx

from provisioner.config import check_base_url
from provisioner.config.safe_io import JSON_TOO_DEEP, loads_json
from provisioner.errors import (
    GraphAPIError,
    GraphError,
    GraphForbidden,
    GraphInvalidRequest,
    GraphNotFound,
    GraphRateLimited,
    GraphResponseError,
    GraphServerError,
    GraphSignInError,
    GraphTimeout,
    GraphTLSError,
    GraphTransportError,
    GraphUnauthorized,
    escape_controls,
)
from provisioner.graph.signin import HOW_TO_SIGN_IN, SignIn
from provisioner.transport.connections import capped_timeout, certificate_failure, deadline_scope
from provisioner.transport.retry import RetryPolicy, parse_retry_after
from provisioner.transport.scrub import scrub_message

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

log = logging.getLogger("provisioner.graph")

DEFAULT_GRAPH_URL: Final = "https://graph.microsoft.com"
GRAPH_URL_ENV: Final = "PROVISIONER_GRAPH_URL"
API_VERSION: Final = "v1.0"
RETRYABLE_STATUSES: Final = frozenset({408, 429})
"""Retried besides every 5xx."""
MESSAGE_LIMIT: Final = 300
TOKEN_MARGIN: Final = 300.0
"""Seconds before its expiry at which a cached token is replaced."""


def graph_url(env: Mapping[str, str] | None = None) -> str:
    """The Graph endpoint: ``PROVISIONER_GRAPH_URL`` or ``https://graph.microsoft.com`` (no trailing slash).

    Raises:
        GraphError: The variable is not an https URL (http only for loopback); one line naming it.
    """
    env = os.environ if env is None else env
    value = (env.get(GRAPH_URL_ENV) or "").strip().rstrip("/")
    if not value:
        return DEFAULT_GRAPH_URL
    try:
        check_base_url(value, GRAPH_URL_ENV)
    except ValueError as err:
        raise GraphError(f"{GRAPH_URL_ENV}: {err}") from None
    return value


def graph_message(
    response: httpx.Response, secrets: list[str], env: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """Graph's ``(error.code, error.message)`` from an error body, scrubbed and truncated; empty when absent.

    Scrubbed of ``secrets`` (the tokens obtained), every secret in ``env`` (default ``os.environ``;
    `provisioner.transport.env_secrets`) and credential-shaped text, before truncation.
    """
    try:
        payload = loads_json(response.content)
    except ValueError:
        return "", ""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return "", ""
    code, message = str(error.get("code") or ""), str(error.get("message") or "")
    message = escape_controls(scrub_message(message, secrets, env))
    if len(message) > MESSAGE_LIMIT:
        message = message[: MESSAGE_LIMIT - 1] + "…"
    return escape_controls(scrub_message(code, secrets, env))[:100], message


class TokenSource:
    """A Graph access token from an azure-identity credential, cached until 5 minutes before it expires.

    Thread-safe; concurrent callers share one token request. ``secrets`` grows with every token obtained, for
    scrubbing (with every secret of ``env``, default ``os.environ``). Failures become `GraphSignInError` naming
    the sign-in and how to sign in.
    """

    def __init__(
        self,
        credential: TokenCredential,
        scope: str,
        sign_in: SignIn | None,
        secrets: list[str],
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._credential = credential
        self._scope = scope
        self._sign_in = sign_in
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self.secrets = secrets
        self.env = env

    def __repr__(self) -> str:
        return f"TokenSource(scope={self._scope!r}, sign_in={self._sign_in!r})"

    def get(self, *, fresh: bool = False) -> str:
        """The token; ``fresh`` drops the cached one first (after a 401)."""
        with self._lock:
            if fresh:
                self._token = None
            if self._token is not None and time.time() < self._expires - TOKEN_MARGIN:
                return self._token
            from azure.core.exceptions import AzureError

            try:
                access = self._credential.get_token(self._scope)
            except GraphSignInError:
                raise
            except AzureError as err:
                raise self._failure(err) from None
            if access.token not in self.secrets:
                self.secrets.append(access.token)
            self._token, self._expires = access.token, float(access.expires_on)
            return access.token

    def _failure(self, err: Exception) -> GraphSignInError:
        text = str(getattr(err, "message", None) or err).strip().splitlines()
        first = next((line for line in text if line.strip()), type(err).__name__)
        detail = escape_controls(scrub_message(first, self.secrets, self.env))[:MESSAGE_LIMIT]
        who = self._sign_in.describe() if self._sign_in else "the given credential"
        return GraphSignInError(f"Microsoft Graph sign-in with {who} failed: {detail}. {HOW_TO_SIGN_IN}")


class GraphSession:
    """One Graph endpoint and token; `GraphReader` adds the reads. Every method raises `GraphError` subclasses."""

    def __init__(
        self, base_url: str, tokens: TokenSource, http: httpx.Client, retry: RetryPolicy, timeout: httpx.Timeout
    ) -> None:
        self.base_url = base_url
        self._root = f"{base_url}/{API_VERSION}"
        self._tokens = tokens
        self._http = http
        self._retry = retry
        self._timeout = timeout

    def deadline(self) -> float:
        """The end of a call's budget that starts now, in ``RetryPolicy.clock`` seconds."""
        return self._retry.clock() + self._retry.total_seconds

    def get_json(
        self, path: str, *, permissions: tuple[str, ...], deadline: float | None = None, absolute: str | None = None
    ) -> Any:
        """``GET {graph}/v1.0{path}`` (or the ``absolute`` URL of a next page) → parsed JSON, with retries.

        Args:
            path: Path under ``/v1.0`` (shown in messages; never holds a secret).
            permissions: The Graph permission(s) the read needs, carried by `GraphForbidden`.
            deadline: Share a budget between calls (pages); default now + ``total_seconds``.
            absolute: A full URL on this Graph host to send instead (``@odata.nextLink``).
        """
        response = self._get(path, permissions, deadline if deadline is not None else self.deadline(), absolute)
        try:
            return loads_json(response.content)
        except ValueError as err:
            raise GraphResponseError(self._not_json(path, response, str(err))) from None

    def _not_json(self, path: str, response: httpx.Response, reason: str) -> str:
        """The one line for a success whose body cannot be parsed: what came, whose fault it is, and the fix."""
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        size = f"{len(response.content)} bytes"
        if kind == "application/json" or kind.endswith("+json"):
            what = "nested too deeply" if reason == JSON_TOO_DEEP else "not valid JSON"
            return (
                f"Microsoft Graph GET {path}: the body is {what} ({escape_controls(kind)}, {size}): Graph sent a "
                "broken answer, or a proxy in between cut or changed it. Fix: if a proxy is in the path (HTTPS_PROXY, "
                "a TLS-inspecting gateway), check it; if not, the fault is Graph's: run it again later, and report it "
                "to Microsoft if it persists"
            )
        shown = escape_controls(kind) if kind else "no content type"
        return (
            f"Microsoft Graph GET {path}: expected JSON but got {shown} ({size}): something other than Graph "
            f"answered. Fix: check that {self.base_url} ({GRAPH_URL_ENV}) is a Microsoft Graph endpoint and that no "
            "proxy (HTTPS_PROXY) answers in its place"
        )

    def _get(self, path: str, permissions: tuple[str, ...], deadline: float, absolute: str | None) -> httpx.Response:
        policy = self._retry
        url = absolute or self._root + path
        attempt = 0
        refreshed = fresh_next = False
        while True:
            attempt += 1
            left = deadline - policy.clock()
            if left <= 0:
                raise self._out_of_time(path)
            token = self._tokens.get(fresh=fresh_next)
            fresh_next = False
            left = deadline - policy.clock()
            if left <= 0:
                raise self._out_of_time(path)
            retry_after: float | None = None
            try:
                with deadline_scope(left):
                    response = self._http.get(
                        url,
                        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                        timeout=self._attempt_timeout(left),
                    )
                    response.read()
            except httpx.TimeoutException as err:
                if policy.clock() >= deadline:
                    raise self._out_of_time(path) from None
                failure: GraphError = GraphTimeout(
                    f"Microsoft Graph GET {path}: timed out ({type(err).__name__}) after {attempt} attempt(s); is "
                    f"{self.base_url} reachable?"
                )
            except httpx.TransportError as err:
                untrusted = certificate_failure(err)
                if untrusted is not None:
                    raise self._untrusted(path, untrusted) from None
                failure = GraphTransportError(
                    f"Microsoft Graph GET {path}: cannot reach {self.base_url} ({type(err).__name__}) after "
                    f"{attempt} attempt(s). Check {GRAPH_URL_ENV}, proxies (HTTPS_PROXY) and the network"
                )
            else:
                status = response.status_code
                log.debug("GET %s -> %s (attempt %d)", path, status, attempt)
                if 200 <= status < 300:
                    return response
                code, message = graph_message(response, self._tokens.secrets, self._tokens.env)
                if status == 401 and not refreshed:
                    refreshed = fresh_next = True
                    attempt -= 1  # one fresh token and one retry, outside the retry budget
                    continue
                if status not in RETRYABLE_STATUSES and status < 500:
                    raise self._refused(path, status, code, message, permissions)
                error_class = GraphRateLimited if status == 429 else GraphServerError
                failure = error_class("GET", path, status, code, message, f"gave up after {attempt} attempt(s)")
                retry_after = parse_retry_after(response.headers.get("retry-after"))
            delay = retry_after if retry_after is not None else policy.backoff(attempt)
            if attempt >= policy.max_attempts:
                raise failure
            if policy.clock() + delay > deadline:
                raise self._out_of_time(path) if isinstance(failure, GraphTimeout) else failure
            log.info("Microsoft Graph GET %s failed (%s); retrying in %.1f s", path, type(failure).__name__, delay)
            policy.sleep(delay)

    @staticmethod
    def _refused(path: str, status: int, code: str, message: str, permissions: tuple[str, ...]) -> GraphAPIError:
        if status == 403:
            return GraphForbidden("GET", path, status, code, message, permissions)
        if status == 404:
            return GraphNotFound("GET", path, status, code, message)
        if status == 401:
            return GraphUnauthorized(
                "GET",
                path,
                status,
                code,
                message,
                "A fresh token was refused too: check that the sign-in's tenant and cloud match "
                f"{GRAPH_URL_ENV} / AZURE_AUTHORITY_HOST",
            )
        return GraphInvalidRequest("GET", path, status, code, message)

    def _attempt_timeout(self, left: float) -> httpx.Timeout:
        """The configured per-operation timeouts, none longer than the ``left`` seconds of the budget."""
        return capped_timeout(self._timeout, left)

    def _out_of_time(self, path: str) -> GraphTimeout:
        return GraphTimeout(
            f"Microsoft Graph GET {path} did not finish within {self._retry.total_seconds:g} s. Fix: check that "
            f"{self.base_url} is reachable and healthy, or allow a longer time budget"
        )

    def _untrusted(self, path: str, err: ssl.SSLCertVerificationError) -> GraphTLSError:
        host = urlsplit(self.base_url).hostname
        reason = err.verify_message or err.reason or "verification failed"
        return GraphTLSError(
            f"Microsoft Graph GET {path}: the TLS certificate of {host} could not be verified ({reason}); not "
            "retried. Fix: behind a TLS-inspecting proxy, set SSL_CERT_FILE to a PEM file with its CA certificate; "
            f"otherwise check {GRAPH_URL_ENV}"
        )


__all__ = ["DEFAULT_GRAPH_URL", "GRAPH_URL_ENV", "GraphSession", "TokenSource", "graph_message", "graph_url"]
