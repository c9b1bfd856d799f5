"""Prove that Microsoft Entra ID accepts an app's client secret: a client-credentials token request (MSAL).

Used by the dynamic provider before it pushes a new secret to Paragon (``fresh=True``) and by
``status --verify`` for the secret Paragon holds (``fresh=False``). Each attempt is one
``msal.ConfidentialClientApplication`` for authority ``{AZURE_AUTHORITY_HOST}/{tenant}`` (the app's home tenant)
asking for ``https://graph.microsoft.com/.default``. That succeeds for any app with a service principal and a
valid secret, even one with no application permissions (the token then carries no roles); the token is
dropped at once and never stored or shown (``shared/reference/entra-facts.md``, "Verifying a secret").

* **Authority host:** ``AZURE_AUTHORITY_HOST`` (the Azure SDKs' variable: national clouds, tests), else
  ``https://login.microsoftonline.com``. For a host MSAL does not know, instance discovery is turned off
  (``instance_discovery=False``), as MSAL requires.
* **Every attempt is a real request:** MSAL's HTTP layer answers an identical request that got HTTP 400 from a
  60-second cache inside one application object (``msal/throttled_http_client.py``), and its token cache
  would answer a repeated success. A new application object per attempt has empty caches.
* **What is retried** (capped exponential backoff with full jitter, `provisioner.transport.retry.RetryPolicy`,
  inside a window of ``window_seconds``): every way the request can end without an AADSTS answer, "no answer
  yet": no HTTP answer (connection refused or dropped, timeouts), HTTP 5xx (MSAL raises
  ``MsalServiceError``), 429 and 408 (a ``Retry-After`` is honoured when it ends inside the window, else the
  check stops at once), a 2xx body that is not Entra's JSON (a gateway's page); and, for a secret just created
  (``fresh``), the codes a new secret, app or service principal answers for seconds to minutes while it
  replicates: AADSTS7000215 (invalid secret), 7000222 (expired secret), 700016 (app not found in the tenant),
  7000229 (no service principal in the tenant). Nothing else is retried: 7000112 (disabled app), 900144
  (malformed request), 90002 (tenant not found) cannot heal, nor can an untrusted TLS certificate or a 4xx that
  is not Entra's (a proxy's page). No answer in the window is one `EntraUnavailable` line naming the step,
  what came back (``HTTP 503 temporarily_unavailable AADSTS90033``) and the fix for that kind. Error codes:
  Microsoft's "Microsoft Entra authentication and authorization error codes" (learn.microsoft.com).
* **Secrets:** the secret travels only to the token endpoint. Messages name the app, tenant, step and
  Entra's code, never the secret or Entra's free-text description.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol
from urllib.parse import urlsplit

from pydantic import SecretStr

from provisioner.errors import (
    EntraTLSError,
    EntraUnavailable,
    InvalidEnvironmentValue,
    SecretRefused,
    escape_controls,
)
from provisioner.transport.retry import RetryPolicy, parse_retry_after

if TYPE_CHECKING:
    import requests

AUTHORITY_HOST_ENV: Final = "AZURE_AUTHORITY_HOST"
DEFAULT_AUTHORITY_HOST: Final = "https://login.microsoftonline.com"
PROBE_SCOPE: Final = "https://graph.microsoft.com/.default"
DEFAULT_WINDOW_SECONDS: Final = 120.0
"""Default time to keep trying a fresh secret (``paragon.verify_timeout_seconds``)."""
REQUEST_TIMEOUT_SECONDS: Final = 10.0
"""Cap on one HTTP request's timeout; each attempt also fits in what is left of the window."""
KNOWN_AUTHORITY_HOSTS: Final = frozenset(
    {
        # MSAL's well-known hosts (msal/authority.py WELL_KNOWN_AUTHORITY_HOSTS): instance discovery may stay on.
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
        "login.microsoftonline.de",
        "login.microsoftonline.us",
        "login.usgovcloudapi.net",
        "login.sovcloud-identity.fr",
        "login.sovcloud-identity.de",
        "login.sovcloud-identity.sg",
    }
)

HEALS_AFTER_CREATION: Final = {
    7000215: "invalid client secret",
    7000222: "client secret expired",
    700016: "application not found in the tenant",
    7000229: "the application has no service principal in the tenant",
}
"""AADSTS codes a new secret, app or service principal answers while it replicates; retried only when fresh."""
NEVER_HEALS: Final = {
    7000112: "the application is disabled",
    900144: "malformed token request",
    90002: "tenant not found",
}
_AADSTS = re.compile(r"AADSTS(\d{4,9})")


Failure = Literal["", "network", "service", "throttled", "not-entra"]
"""Why there was no usable answer: no HTTP answer at all (``network``: refused or dropped connection,
timeout); HTTP 5xx (``service``); HTTP 429 or 408 (``throttled``); an answer that is not Entra's
(``not-entra``: a body that is not JSON, JSON without Entra's fields, a 4xx without an AADSTS code)."""


@dataclass(frozen=True)
class TokenAnswer:
    """What one token request came to.

    Attributes:
        accepted: Entra issued a token.
        code: Entra's AADSTS code when it refused (None when it gave none, or on no usable answer).
        error: The OAuth ``error`` (e.g. ``invalid_client``) of a refusal; for no usable answer, what came back
            instead, for people (e.g. ``HTTP 503 temporarily_unavailable AADSTS90033``, ``ReadTimeout``); never
            Entra's free-text description (it can echo what was sent).
        transient: No usable answer that another try may change (network, timeouts, 5xx, 429, a gateway's page).
        failure: The kind of "no usable answer" (`Failure`); empty for a refusal. An answer with a failure but
            not ``transient`` cannot change by retrying (e.g. a proxy's 403 page) and is reported at once.
        retry_after: Seconds the server asked to wait (``Retry-After``), when it said.
    """

    accepted: bool
    code: int | None = None
    error: str = ""
    transient: bool = False
    failure: Failure = ""
    retry_after: float | None = None

    @property
    def unanswered(self) -> bool:
        """No AADSTS answer: reported as `EntraUnavailable`, never as a refusal."""
        return self.transient or bool(self.failure)


class TokenRequester(Protocol):
    """One token request (`request_token`'s signature; injectable for tests)."""

    def __call__(
        self, tenant: str, client_id: str, secret: SecretStr, *, authority: str, timeout: float
    ) -> TokenAnswer: ...


@dataclass(frozen=True)
class Verified:
    """A secret Entra accepted: how many requests it took and when (UTC)."""

    attempts: int
    at: datetime

    @property
    def at_rfc3339(self) -> str:
        """``at`` as UTC RFC 3339, seconds precision (``2026-12-07T01:02:03Z``)."""
        return self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def authority_host(env: Mapping[str, str]) -> str:
    """The authority host: ``AZURE_AUTHORITY_HOST`` (a host or an https URL), else the public cloud's.

    Raises:
        InvalidEnvironmentValue: The variable is not an https host URL (plain http only for loopback).
    """
    raw = (env.get(AUTHORITY_HOST_ENV) or "").strip()
    if not raw:
        return DEFAULT_AUTHORITY_HOST
    url = raw if "://" in raw else f"https://{raw}"
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if (
        not parts.hostname
        or (parts.scheme != "https" and not (parts.scheme == "http" and loopback))
        or parts.path.strip("/")
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise InvalidEnvironmentValue(
            f"{AUTHORITY_HOST_ENV}={escape_controls(raw)!r} is not an authority host. Fix: set it to the host of "
            "your cloud's sign-in endpoint, e.g. https://login.microsoftonline.us, or unset it for the public cloud"
        )
    return f"{parts.scheme}://{parts.netloc}"


def _code_in(*texts: Any) -> int | None:
    for text in texts:
        found = _AADSTS.search(str(text or ""))
        if found:
            return int(found.group(1))
    return None


_OAUTH_ERROR = re.compile(r"[a-z_]{1,40}")


class _DropRawBodies(logging.Filter):
    """MSAL logs a token answer that is not JSON as it came (``Token response is not in json format: <body>``);
    a body can echo the request, secret included, so that record is dropped (the answer is reported by kind)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "not in json format" not in str(record.msg)


_MSAL_OAUTH_LOGGER: Final = "msal.oauth2cli.oauth2"


def _quiet_msal() -> None:
    logger = logging.getLogger(_MSAL_OAUTH_LOGGER)
    if not any(isinstance(f, _DropRawBodies) for f in logger.filters):
        logger.addFilter(_DropRawBodies())


def _json_object(response: requests.Response) -> dict[str, Any] | None:
    try:
        value = json.loads(response.text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _answer_from(response: requests.Response) -> TokenAnswer:
    """What an HTTP answer that gave no token came to (MSAL raised, or answered 429/408/5xx)."""
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    body = _json_object(response)
    raw_error = str(body.get("error") or "") if body else ""
    error = raw_error if _OAUTH_ERROR.fullmatch(raw_error) else ("an unrecognised error" if raw_error else "")
    codes = body.get("error_codes") if body else None
    code = codes[0] if isinstance(codes, list) and codes and isinstance(codes[0], int) else None
    if code is None and body:
        code = _code_in(body.get("error_description"))
    if body is not None:
        seen = " ".join(part for part in (error, f"AADSTS{code}" if code else "") if part) or "JSON without an error"
    else:
        kind = (response.headers.get("Content-Type") or "no content type").split(";")[0].strip()
        seen = f"a body that is not JSON ({escape_controls(kind)[:40]}, {len(response.content)} bytes)"
    said = f"HTTP {status} {seen}"
    if status >= 500:
        return TokenAnswer(False, error=said, transient=True, failure="service", retry_after=retry_after)
    if status in (408, 429):
        return TokenAnswer(False, error=said, transient=True, failure="throttled", retry_after=retry_after)
    if code is not None and error:
        return TokenAnswer(False, code=code, error=error)  # Entra's refusal, e.g. AADSTS90002 from the metadata
    # Not Entra's answer: a gateway's page or a truncated body (2xx/3xx) may change; a 4xx without a code won't.
    return TokenAnswer(False, error=said, transient=status < 400, failure="not-entra", retry_after=retry_after)


def request_token(tenant: str, client_id: str, secret: SecretStr, *, authority: str, timeout: float) -> TokenAnswer:
    """One client-credentials token request through a new MSAL application object (see the module docstring).

    MSAL sends through a `requests.Session` of ours (``timeout`` on every request, no retry of its own) whose
    answers are recorded, so every way MSAL can fail without Entra's JSON answer (`msal.exceptions.
    MsalServiceError` for a 5xx, a 429's JSON, a body that is not JSON, metadata without Entra's fields) is
    judged from the HTTP answer itself: its status, ``Retry-After``, and Entra's ``error`` and code if any.

    Args:
        tenant: The app's home tenant (ID or domain).
        client_id: Application (client) ID.
        secret: The client secret.
        authority: Authority host (`authority_host`).
        timeout: Seconds per HTTP request (connect and read).

    Raises:
        EntraTLSError: The authority host's certificate is not trusted (``REQUESTS_CA_BUNDLE`` decides).
    """
    import msal
    import requests

    _quiet_msal()
    host = urlsplit(authority).hostname or ""
    options: dict[str, Any] = {} if host in KNOWN_AUTHORITY_HOSTS else {"instance_discovery": False}
    answers: list[requests.Response] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: answers.append(response))
    session.request = functools.partial(session.request, timeout=timeout)  # type: ignore[method-assign]
    try:
        app = msal.ConfidentialClientApplication(
            client_id,
            client_credential=secret.get_secret_value(),
            authority=f"{authority}/{tenant}",
            http_client=session,
            token_cache=msal.TokenCache(),
            **options,
        )
        result = app.acquire_token_for_client(scopes=[PROBE_SCOPE])
    except requests.exceptions.SSLError:
        raise EntraTLSError(
            f"{authority}: TLS certificate not trusted. Fix: trust its CA with REQUESTS_CA_BUNDLE, or check "
            f"{AUTHORITY_HOST_ENV}"
        ) from None
    except (
        requests.exceptions.ConnectionError,
        requests.exceptions.Timeout,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    ) as err:
        return TokenAnswer(False, error=type(err).__name__, transient=True, failure="network")
    except requests.exceptions.RequestException as err:  # too many redirects, an invalid header: cannot heal
        return TokenAnswer(False, error=type(err).__name__, failure="not-entra")
    except (msal.exceptions.MsalServiceError, ValueError, KeyError, TypeError):
        # MSAL found no usable answer: a 5xx (MsalServiceError), a body that is not JSON or metadata that is
        # not Entra's (ValueError, KeyError), a 4xx for the tenant's metadata (ValueError). Judge the answer.
        if not answers:
            raise
        return _answer_from(answers[-1])
    finally:
        session.close()
    if isinstance(result, dict) and result.get("access_token"):
        return TokenAnswer(True)
    if answers and (answers[-1].status_code >= 500 or answers[-1].status_code in (408, 429)):
        return _answer_from(answers[-1])  # MSAL hands a 429's JSON back as if it were a refusal
    result = result if isinstance(result, dict) else {}
    codes = result.get("error_codes") or []
    code = codes[0] if codes and isinstance(codes[0], int) else _code_in(result.get("error_description"))
    raw = str(result.get("error") or "")
    error = raw if _OAUTH_ERROR.fullmatch(raw) else ("an unrecognised error" if raw else "no token")
    if code is None and error in ("temporarily_unavailable", "server_error"):
        return TokenAnswer(False, error=error, transient=True, failure="service")
    if code is None and not raw:  # JSON without a token or an error: not Entra's answer (it may be a gateway's)
        return TokenAnswer(False, error="an answer without a token or an error", transient=True, failure="not-entra")
    return TokenAnswer(False, code=code, error=error)


def _advice(code: int | None, error: str, fresh: bool, tenant: str, client_id: str, authority: str) -> str:
    """What the refusal means and the fix, for one line."""
    if code == 7000215:
        fix = (
            "a new secret can take minutes to replicate: run pulumi up again, or raise "
            "paragon.verify_timeout_seconds; if it persists, the secret in state was deleted in Entra: run "
            "pulumi refresh, then pulumi up"
            if fresh
            else "Paragon holds a secret Entra does not know (deleted in Entra, or edited in Paragon): run pulumi up "
            "--refresh to push the current one"
        )
    elif code == 7000222:
        fix = "run pulumi up again" if fresh else "the secret Paragon holds has expired: run pulumi up now"
    elif code == 700016:
        fix = (
            f"a new app can take minutes to replicate: run pulumi up again; if it persists, tenant {tenant} is not "
            "the app's home tenant (the azuread provider's sign-in decides it)"
            if fresh
            else f"no app {client_id} in tenant {tenant}: the client ID in Paragon was edited or the app was "
            "deleted: run pulumi up --refresh"
        )
    elif code == 7000229:
        fix = (
            f"the app has no service principal (enterprise application) in its home tenant {tenant}, so Entra "
            "issues it no token: create it (pulumi refresh, then pulumi up recreates the one the provisioner "
            f"manages; or once by hand: az ad sp create --id {client_id})"
        )
    elif code == 7000112:
        fix = (
            "enable the app's service principal (Entra admin center > Enterprise applications > the app > "
            "Properties > Enabled for users to sign in)"
        )
    elif code == 900144:
        fix = "the token request was malformed, a provisioner fault: report it with this line"
    elif code == 90002:
        fix = (
            f"check {AUTHORITY_HOST_ENV} (national clouds; now {authority}) and that the azuread provider signs in "
            "to the app's home tenant"
        )
    elif code is not None:
        fix = f"look the code up at https://login.microsoftonline.com/error?code={code}"
    else:
        fix = "run it again; if it persists, check the tenant and the authority host"
    meaning = HEALS_AFTER_CREATION.get(code or 0) or NEVER_HEALS.get(code or 0) or escape_controls(error)[:80]
    head = f"AADSTS{code} ({meaning})" if code is not None else meaning
    return f"{head}. Fix: {fix}"


def _unavailable(
    answer: TokenAnswer, what: str, authority: str, tenant: str, client_id: str, took: str, fresh: bool, window: float
) -> str:
    """The one line of `EntraUnavailable`: what came back instead of an answer, and the fix for that kind."""
    last = escape_controls(answer.error)[:120] or "no answer"
    again = "run pulumi up again later (nothing was pushed)" if fresh else "run it again later"
    if answer.retry_after is not None and answer.retry_after > 0 and answer.transient:
        last += f"; it asked to wait {answer.retry_after:.0f} s (Retry-After)"
    failure = answer.failure or "network"
    if failure == "network":
        fix = f"check the network path to {authority} (proxy, firewall, DNS), then {again}"
    elif failure == "service":
        fix = f"Entra's token endpoint (or a gateway in front of it) is failing, a fault on its side: {again}"
    elif failure == "throttled":
        fix = f"Entra is throttling requests from here: {again}, after the wait it asked for"
    else:
        fix = (
            f"something other than Entra answered: a proxy or gateway between here and {authority}, or "
            f"{AUTHORITY_HOST_ENV} naming a host that is not a sign-in endpoint; check both"
        )
    if fresh and failure != "not-entra" and answer.transient:
        fix += f", or raise paragon.verify_timeout_seconds (now {window:g} s)"
    return (
        f"{what}: no usable answer from Entra ({authority}) for app {client_id} in tenant {tenant} {took} "
        f"(last: {last}). Fix: {fix}"
    )


def verify_client_secret(
    tenant: str,
    client_id: str,
    secret: SecretStr,
    *,
    window_seconds: float = DEFAULT_WINDOW_SECONDS,
    fresh: bool,
    what: str,
    env: Mapping[str, str] | None = None,
    request: TokenRequester = request_token,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Verified:
    """Request a token for the app with ``secret`` until Entra accepts it, retrying only what can heal.

    Args:
        tenant: The app's home tenant ID.
        client_id: Application (client) ID.
        secret: The client secret to prove.
        window_seconds: Time budget, attempts and waits included (seconds, > 0). Backoff starts at
            ``min(1, window/40)`` s and doubles up to ``min(15, window/4)`` s (full jitter).
        fresh: The secret (or app) was just created: also retry the codes in `HEALS_AFTER_CREATION`.
        what: Start of every message, e.g. ``powerbi: verify before push``.
        env: Where ``AZURE_AUTHORITY_HOST`` is read (default ``os.environ``).
        request: One token request (tests inject a recorder).
        sleep: Waits (tests inject a fake).
        clock: Monotonic seconds (tests inject a fake).

    Returns:
        `Verified`: attempts made and the UTC time Entra accepted the secret.

    Raises:
        SecretRefused: Entra refused with a code that cannot heal, or one that did not heal within the window;
            one line: ``<what>: Entra refused the client secret of app <id> in tenant <t> with AADSTS<code>
            (<meaning>) after N attempt(s) in S s. Fix: ...``.
        EntraUnavailable: No usable answer within the window (`EntraTLSError` at once for an untrusted
            certificate).
        InvalidEnvironmentValue: ``AZURE_AUTHORITY_HOST`` is not an authority host.
    """
    authority = authority_host(os.environ if env is None else env)
    policy = RetryPolicy(
        max_attempts=1_000_000,
        total_seconds=window_seconds,
        base_delay=min(1.0, window_seconds / 40),
        max_delay=min(15.0, window_seconds / 4),
        sleep=sleep,
        clock=clock,
    )
    start = clock()
    deadline = start + window_seconds
    attempt = 0
    while True:
        attempt += 1
        timeout = max(0.05, min(REQUEST_TIMEOUT_SECONDS, (deadline - clock()) / 3))
        try:
            answer = request(tenant, client_id, secret, authority=authority, timeout=timeout)
        except EntraTLSError as err:
            raise EntraTLSError(f"{what}: {err}") from None
        if answer.accepted:
            return Verified(attempt, datetime.now(UTC))
        heals = answer.transient or (fresh and answer.code in HEALS_AFTER_CREATION)
        wait = policy.backoff(attempt)
        if answer.retry_after is not None:
            wait = max(wait, answer.retry_after)  # Entra's Retry-After, honoured when it fits in the window
        if not heals or clock() + wait >= deadline:
            break
        sleep(wait)
    took = f"after {attempt} attempt(s) in {clock() - start:.0f} s"
    if answer.unanswered:
        raise EntraUnavailable(_unavailable(answer, what, authority, tenant, client_id, took, fresh, window_seconds))
    advice = _advice(answer.code, answer.error, fresh, tenant, client_id, authority)
    raise SecretRefused(
        f"{what}: Entra refused a token to app {client_id} in tenant {tenant} with its client secret: "
        f"{advice.split('. Fix: ')[0]} "
        f"{took}. Fix: {advice.split('. Fix: ', 1)[1]}",
        answer.code,
        attempt,
    )
