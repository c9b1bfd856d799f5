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
  inside a window of ``window_seconds``): no answer (connection refused or dropped, timeouts), HTTP 5xx/429,
  and, for a secret just created (``fresh``), the codes a new secret, app or service principal answers for
  seconds to minutes while it replicates: AADSTS7000215 (invalid secret), 7000222 (expired secret),
  700016 (app not found in the tenant), 7000229 (no service principal in the tenant). Nothing else is
  retried: 7000112 (disabled app), 900144 (malformed request), 90002 (tenant not found) cannot heal, nor can
  an untrusted TLS certificate. Error codes: Microsoft's "Microsoft Entra authentication and authorization
  error codes" (learn.microsoft.com).
* **Secrets:** the secret travels only to the token endpoint. Messages name the app, tenant, step and
  Entra's code, never the secret or Entra's free-text description.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from pydantic import SecretStr

from provisioner.errors import (
    EntraTLSError,
    EntraUnavailable,
    InvalidEnvironmentValue,
    SecretRefused,
    escape_controls,
)
from provisioner.transport.retry import RetryPolicy

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


@dataclass(frozen=True)
class TokenAnswer:
    """What one token request came to.

    Attributes:
        accepted: Entra issued a token.
        code: Entra's AADSTS code when it refused (None when it gave none, or on no answer).
        error: The OAuth ``error`` (e.g. ``invalid_client``), or the kind of failure when there was no answer.
        transient: No usable answer (network, timeout, 5xx, 429): worth another try in any mode.
    """

    accepted: bool
    code: int | None = None
    error: str = ""
    transient: bool = False


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


def request_token(tenant: str, client_id: str, secret: SecretStr, *, authority: str, timeout: float) -> TokenAnswer:
    """One client-credentials token request through a new MSAL application object (see the module docstring).

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

    host = urlsplit(authority).hostname or ""
    options: dict[str, Any] = {} if host in KNOWN_AUTHORITY_HOSTS else {"instance_discovery": False}
    try:
        app = msal.ConfidentialClientApplication(
            client_id,
            client_credential=secret.get_secret_value(),
            authority=f"{authority}/{tenant}",
            timeout=timeout,
            token_cache=msal.TokenCache(),
            **options,
        )
    except requests.exceptions.SSLError:
        raise EntraTLSError(
            f"{authority}: TLS certificate not trusted. Fix: trust its CA with REQUESTS_CA_BUNDLE, or check "
            f"{AUTHORITY_HOST_ENV}"
        ) from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as err:
        return TokenAnswer(False, error=type(err).__name__, transient=True)
    except requests.exceptions.HTTPError as err:  # the tenant's metadata answered 5xx
        return TokenAnswer(False, error=f"HTTP {getattr(err.response, 'status_code', '?')}", transient=True)
    except ValueError as err:  # the tenant's OpenID metadata refused (4xx), e.g. AADSTS90002
        return TokenAnswer(False, code=_code_in(err, err.__context__), error="tenant metadata refused")
    try:
        result = app.acquire_token_for_client(scopes=[PROBE_SCOPE])
    except requests.exceptions.SSLError:
        raise EntraTLSError(
            f"{authority}: TLS certificate not trusted. Fix: trust its CA with REQUESTS_CA_BUNDLE"
        ) from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as err:
        return TokenAnswer(False, error=type(err).__name__, transient=True)
    except ValueError:  # not Entra's JSON (a proxy's or a gateway's error page)
        return TokenAnswer(False, error="an answer that is not Entra's JSON", transient=True)
    if isinstance(result, dict) and result.get("access_token"):
        return TokenAnswer(True)
    result = result if isinstance(result, dict) else {}
    codes = result.get("error_codes") or []
    code = codes[0] if codes and isinstance(codes[0], int) else _code_in(result.get("error_description"))
    error = str(result.get("error") or "no token")
    transient = code is None and error in ("temporarily_unavailable", "server_error", "no token")
    return TokenAnswer(False, code=code, error=error, transient=transient)


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
        if not heals or clock() + wait >= deadline:
            break
        sleep(wait)
    took = f"after {attempt} attempt(s) in {clock() - start:.0f} s"
    if answer.transient:
        raise EntraUnavailable(
            f"{what}: no usable answer from Entra ({authority}) for app {client_id} in tenant {tenant} {took} "
            f"(last: {escape_controls(answer.error)[:80]}). Fix: check the network path to {authority} (proxy, "
            "firewall) and run it again"
        )
    advice = _advice(answer.code, answer.error, fresh, tenant, client_id, authority)
    raise SecretRefused(
        f"{what}: Entra refused a token to app {client_id} in tenant {tenant} with its client secret: "
        f"{advice.split('. Fix: ')[0]} "
        f"{took}. Fix: {advice.split('. Fix: ', 1)[1]}",
        answer.code,
        attempt,
    )
