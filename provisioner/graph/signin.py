"""Which Azure sign-in the Graph reader uses, decided from the environment without the network, and its credential.

The same sign-ins as the azuread provider (``ARM_*`` variables; hashicorp/go-azure-sdk's ``auth`` package tries,
in order, a client certificate, a client secret, OIDC (a token, a token file, or GitHub's / a generic token
request URL), managed identity, then the Azure CLI), built with ``azure-identity`` (no hand-written OAuth):

* ``client_secret`` (``ClientSecretCredential``): ``ARM_CLIENT_SECRET`` is set; needs ``ARM_CLIENT_ID`` and
  ``ARM_TENANT_ID``.
* ``oidc`` (``ClientAssertionCredential``): ``ARM_USE_OIDC=true``; needs ``ARM_CLIENT_ID``, ``ARM_TENANT_ID`` and
  ``ARM_OIDC_TOKEN``, ``ARM_OIDC_TOKEN_FILE_PATH``, or ``ARM_OIDC_REQUEST_URL`` + ``ARM_OIDC_REQUEST_TOKEN``
  (GitHub's ``ACTIONS_ID_TOKEN_REQUEST_URL`` + ``ACTIONS_ID_TOKEN_REQUEST_TOKEN`` likewise).
* ``managed_identity`` (``ManagedIdentityCredential``): ``ARM_USE_MSI=true``; ``ARM_CLIENT_ID`` picks a
  user-assigned identity.
* ``azure_cli`` (``AzureCliCredential``, ``az account get-access-token``): otherwise, unless ``ARM_USE_CLI=false``.

The azuread provider reads no ``AZURE_CLIENT_ID`` / ``AZURE_TENANT_ID`` / ``AZURE_CLIENT_SECRET``, so neither does
this module. ``AZURE_AUTHORITY_HOST`` (the Azure SDKs' variable, for national clouds) names the Entra host,
default ``https://login.microsoftonline.com``; a host MSAL does not know gets ``disable_instance_discovery``.
Client certificates (``ARM_CLIENT_CERTIFICATE*``) and ``ARM_*_FILE_PATH`` variants of the ID and secret are not
supported here. Secrets are read from the environment when the credential is built and never kept on
`SignIn` (its repr is safe to log).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

import httpx

from provisioner.config import check_base_url
from provisioner.errors import GraphSignInError, escape_controls

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

SignInKind = Literal["client_secret", "oidc", "managed_identity", "azure_cli"]
DEFAULT_AUTHORITY: Final = "https://login.microsoftonline.com"
KNOWN_AUTHORITIES: Final = frozenset(
    {"login.microsoftonline.com", "login.chinacloudapi.cn", "login.microsoftonline.us", "login.microsoftonline.de"}
)
"""Authority hosts MSAL's instance discovery knows (azure.identity.AzureAuthorityHosts); others skip discovery."""
OIDC_AUDIENCE: Final = "api://AzureADTokenExchange"
"""The audience a federated token for Entra must carry (GitHub's token request adds it as ``audience=``)."""
HOW_TO_SIGN_IN: Final = (
    "Fix: sign in with `az login --tenant <tenant-id>`, or in CI set ARM_TENANT_ID, ARM_CLIENT_ID and "
    "ARM_USE_OIDC=true with ARM_OIDC_TOKEN (or ARM_OIDC_TOKEN_FILE_PATH, or GitHub's id-token: write), "
    "or ARM_CLIENT_SECRET"
)
_TRUE: Final = frozenset({"1", "t", "true"})
_MAX_TOKEN_FILE: Final = 64 * 1024


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = _get(env, name)
    return default if value is None else value.lower() in _TRUE


@dataclass(frozen=True)
class SignIn:
    """The sign-in the reader will use: no secret, safe to show (doctor's "which identity" row).

    Attributes:
        kind: ``client_secret``, ``oidc``, ``managed_identity`` or ``azure_cli``.
        source: The variable(s) or session it comes from, e.g. ``ARM_OIDC_TOKEN_FILE_PATH`` or ``az login``.
        tenant_id: ``ARM_TENANT_ID``, or None (the CLI's / identity's own tenant).
        client_id: ``ARM_CLIENT_ID``, or None.
        authority_host: The Entra host, ``https://login.microsoftonline.com`` unless ``AZURE_AUTHORITY_HOST``.
    """

    kind: SignInKind
    source: str
    tenant_id: str | None
    client_id: str | None
    authority_host: str = DEFAULT_AUTHORITY

    def describe(self) -> str:
        """One phrase, e.g. ``OIDC (ARM_OIDC_TOKEN) as client 2222... in tenant 1111...``."""
        names = {
            "client_secret": "client secret",
            "oidc": "OIDC",
            "managed_identity": "managed identity",
            "azure_cli": "Azure CLI session",
        }
        text = f"{names[self.kind]} ({self.source})"
        if self.client_id:
            text += f" as client {self.client_id}"
        if self.tenant_id:
            text += f" in tenant {self.tenant_id}"
        return escape_controls(text)


def authority_host(env: Mapping[str, str] | None = None) -> str:
    """The Entra authority host: ``AZURE_AUTHORITY_HOST`` (https, no path) or ``https://login.microsoftonline.com``.

    Raises:
        GraphSignInError: The variable is not an https URL (one line naming it).
    """
    env = os.environ if env is None else env
    value = _get(env, "AZURE_AUTHORITY_HOST")
    if value is None:
        return DEFAULT_AUTHORITY
    value = value.rstrip("/")
    if "://" not in value:
        value = "https://" + value  # azure-identity accepts a bare host name too
    try:
        check_base_url(value, "AZURE_AUTHORITY_HOST")
    except ValueError as err:
        raise GraphSignInError(f"AZURE_AUTHORITY_HOST: {err}") from None
    return value


def choose_sign_in(env: Mapping[str, str] | None = None) -> SignIn:
    """Which sign-in the environment selects, without the network (see the module docstring for the order).

    Args:
        env: The environment (``os.environ`` by default).

    Returns:
        The `SignIn`; it holds no secret.

    Raises:
        GraphSignInError: The selected sign-in lacks a variable it needs (named), ``ARM_USE_CLI=false`` leaves
            none, or ``AZURE_AUTHORITY_HOST`` is not an https URL.
    """
    env = os.environ if env is None else env
    host = authority_host(env)
    tenant, client = _get(env, "ARM_TENANT_ID"), _get(env, "ARM_CLIENT_ID")

    def need(kind: str, *names: str) -> None:
        missing = [n for n in names if _get(env, n) is None]
        if missing:
            raise GraphSignInError(
                f"Microsoft Graph sign-in by {kind} needs {' and '.join(missing)} (not set). Fix: set "
                f"{' and '.join(missing)}, as for the azuread provider"
            )

    if _get(env, "ARM_CLIENT_SECRET") is not None:
        need("client secret (ARM_CLIENT_SECRET)", "ARM_CLIENT_ID", "ARM_TENANT_ID")
        return SignIn("client_secret", "ARM_CLIENT_SECRET", tenant, client, host)
    if _flag(env, "ARM_USE_OIDC"):
        need("OIDC (ARM_USE_OIDC)", "ARM_CLIENT_ID", "ARM_TENANT_ID")
        source = _oidc_source(env)
        if source is None:
            raise GraphSignInError(
                "Microsoft Graph sign-in by OIDC (ARM_USE_OIDC=true) found no federated token: none of "
                "ARM_OIDC_TOKEN, ARM_OIDC_TOKEN_FILE_PATH, ARM_OIDC_REQUEST_URL + ARM_OIDC_REQUEST_TOKEN, "
                "ACTIONS_ID_TOKEN_REQUEST_URL + ACTIONS_ID_TOKEN_REQUEST_TOKEN is set. Fix: on GitHub Actions give "
                "the job `permissions: id-token: write`; elsewhere set ARM_OIDC_TOKEN or ARM_OIDC_TOKEN_FILE_PATH"
            )
        return SignIn("oidc", source, tenant, client, host)
    if _flag(env, "ARM_USE_MSI"):
        return SignIn("managed_identity", "ARM_USE_MSI", tenant, client, host)
    if _flag(env, "ARM_USE_CLI", default=True):
        return SignIn("azure_cli", "az login", tenant, None, host)
    raise GraphSignInError(
        "no Azure sign-in for Microsoft Graph: tried ARM_CLIENT_SECRET, ARM_USE_OIDC, ARM_USE_MSI, and the Azure "
        "CLI is turned off (ARM_USE_CLI=false). " + HOW_TO_SIGN_IN
    )


def _oidc_source(env: Mapping[str, str]) -> str | None:
    if _get(env, "ARM_OIDC_TOKEN"):
        return "ARM_OIDC_TOKEN"
    if _get(env, "ARM_OIDC_TOKEN_FILE_PATH"):
        return "ARM_OIDC_TOKEN_FILE_PATH"
    for url, token in (
        ("ARM_OIDC_REQUEST_URL", "ARM_OIDC_REQUEST_TOKEN"),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ):
        if _get(env, url) and _get(env, token):
            return url
    return None


def sign_in_secrets(env: Mapping[str, str] | None = None) -> list[str]:
    """Every secret value in the sign-in variables (scrubbed from anything shown)."""
    env = os.environ if env is None else env
    names = ("ARM_CLIENT_SECRET", "ARM_OIDC_TOKEN", "ARM_OIDC_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    return [value for name in names if (value := _get(env, name))]


def build_credential(sign_in: SignIn, env: Mapping[str, str] | None = None, timeout: float = 30.0) -> TokenCredential:
    """The azure-identity credential for ``sign_in``, reading its secrets from ``env`` now.

    Args:
        sign_in: From `choose_sign_in`.
        env: The environment (``os.environ`` by default).
        timeout: Seconds for one token request (HTTP read, the ``az`` process, a federated token fetch).

    Raises:
        GraphSignInError: A variable the sign-in needs is gone.
    """
    from azure.identity import (  # lazy: azure-identity is heavy and only the reader needs it
        AzureCliCredential,
        ClientAssertionCredential,
        ClientSecretCredential,
        ManagedIdentityCredential,
    )

    env = os.environ if env is None else env
    authority = {"authority": sign_in.authority_host}
    discovery = {"disable_instance_discovery": httpx.URL(sign_in.authority_host).host not in KNOWN_AUTHORITIES}
    http = {"connection_timeout": min(5.0, timeout), "read_timeout": timeout, "retry_total": 0}
    if sign_in.kind == "azure_cli":
        return AzureCliCredential(tenant_id=sign_in.tenant_id or "", process_timeout=max(1, int(timeout)))
    if sign_in.kind == "managed_identity":
        return ManagedIdentityCredential(
            client_id=sign_in.client_id, connection_timeout=min(5.0, timeout), read_timeout=timeout, retry_total=0
        )
    assert sign_in.tenant_id and sign_in.client_id  # choose_sign_in required both
    if sign_in.kind == "client_secret":
        secret = _get(env, "ARM_CLIENT_SECRET")
        if secret is None:
            raise GraphSignInError("ARM_CLIENT_SECRET is no longer set. " + HOW_TO_SIGN_IN)
        return ClientSecretCredential(sign_in.tenant_id, sign_in.client_id, secret, **authority, **discovery, **http)
    assertion = _assertion_source(sign_in.source, env, timeout)
    return ClientAssertionCredential(sign_in.tenant_id, sign_in.client_id, assertion, **authority, **discovery, **http)


def _assertion_source(source: str, env: Mapping[str, str], timeout: float) -> Callable[[], str]:
    """A function giving the federated token (read fresh each time azure-identity asks)."""
    if source == "ARM_OIDC_TOKEN":
        token = _get(env, "ARM_OIDC_TOKEN") or ""
        return lambda: token
    if source == "ARM_OIDC_TOKEN_FILE_PATH":
        path = Path(_get(env, "ARM_OIDC_TOKEN_FILE_PATH") or "")
        return lambda: _read_token_file(path)
    token_var = "ARM_OIDC_REQUEST_TOKEN" if source == "ARM_OIDC_REQUEST_URL" else "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
    url, bearer = _get(env, source) or "", _get(env, token_var) or ""
    return lambda: _request_federated_token(source, url, bearer, timeout)


def _read_token_file(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_TOKEN_FILE + 1)
    except OSError as err:
        raise GraphSignInError(
            f"ARM_OIDC_TOKEN_FILE_PATH: cannot read {escape_controls(str(path))} ({err.strerror}). Fix: point it "
            "at the file your CI writes the federated token to"
        ) from None
    token = data.decode("utf-8", "replace").strip()
    if not token or len(data) > _MAX_TOKEN_FILE:
        raise GraphSignInError(
            f"ARM_OIDC_TOKEN_FILE_PATH: {escape_controls(str(path))} holds no token. Fix: point it at the file "
            "your CI writes the federated token to"
        )
    return token


def _request_federated_token(variable: str, url: str, bearer: str, timeout: float) -> str:
    """GitHub Actions' OIDC token request: ``GET <url>&audience=api://AzureADTokenExchange`` → ``{"value": jwt}``."""
    fix = "Fix: give the GitHub Actions job `permissions: id-token: write`, or set ARM_OIDC_TOKEN"
    try:
        response = httpx.get(
            url,
            params={"audience": OIDC_AUDIENCE},
            headers={"Authorization": f"Bearer {bearer}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
        )
    except httpx.HTTPError as err:
        raise GraphSignInError(
            f"{variable}: the federated token request failed ({type(err).__name__}). {fix}"
        ) from None
    try:
        value = response.json().get("value") if response.status_code == 200 else None
    except ValueError:
        value = None
    if not isinstance(value, str) or not value:
        raise GraphSignInError(
            f"{variable}: the federated token request answered {response.status_code} without a token. {fix}"
        )
    return value


__all__ = [
    "DEFAULT_AUTHORITY",
    "HOW_TO_SIGN_IN",
    "SignIn",
    "SignInKind",
    "authority_host",
    "build_credential",
    "choose_sign_in",
    "sign_in_secrets",
]
