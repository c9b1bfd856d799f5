"""`GraphReader`: read-only Microsoft Graph v1.0 calls the provisioner needs (apps, owners, service principals,
app-management policies, who am I). It sends only GET. Machinery (token, retries, deadline) in `base.py`."""

from __future__ import annotations

import base64
import json
import os
import ssl
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from provisioner.errors import GraphError, GraphResponseError, GraphSignInError
from provisioner.graph.base import GraphSession, TokenSource, graph_url
from provisioner.graph.models import (
    Application,
    AppManagementPolicy,
    DirectoryObject,
    ServicePrincipal,
    SignedInIdentity,
)
from provisioner.graph.signin import SignIn, build_credential, choose_sign_in, sign_in_secrets
from provisioner.transport.connections import DEFAULT_TIMEOUT, HttpClientPool, new_http_client, proxy_for
from provisioner.transport.retry import RetryPolicy

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

_M = TypeVar("_M", bound=BaseModel)
MAX_PAGES: Final = 50
"""Most pages one list follows (``@odata.nextLink``); more fails with `GraphResponseError`."""
APP_READ: Final = ("Application.Read.All",)
POLICY_READ: Final = ("Policy.Read.All",)
ASSIGNED_POLICY_READ: Final = ("Policy.Read.All", "Application.Read.All")
ME_READ: Final = ("User.Read",)


def _quote_id(value: str) -> str:
    """An ID for an OData key literal (``appId='...'``): quotes doubled, then percent-encoded."""
    return quote(value.replace("'", "''"), safe="")


class GraphReader:
    """Read-only Microsoft Graph v1.0 client, signed in as the azuread provider would be.

    Args:
        base_url: Graph endpoint; default `graph_url` (``PROVISIONER_GRAPH_URL`` or ``https://graph.microsoft.com``).
        credential: An azure-identity credential to use instead of the one the environment selects.
        env: Environment to read the sign-in and the endpoint from (``os.environ`` by default).
        retry: Retry policy; ``total_seconds`` is each call's deadline (default 60 s, 6 attempts).
        timeout: Per-operation timeouts (each attempt shrinks them to the time left).
        clients: A process-wide `HttpClientPool` to take the HTTP client from (kept open on `close`).
        http: An ``httpx.Client`` to use (its lifetime stays the caller's).
        ca_bundle: PEM file to trust instead of the default store (``SSL_CERT_FILE`` / certifi).

    Every method raises `GraphError` subclasses: `GraphSignInError`, `GraphForbidden` (``.permissions`` names what
    the read needs), `GraphNotFound`, `GraphTimeout`, `GraphTransportError`, `GraphTLSError`,
    `GraphResponseError`. No message, log line or repr holds a token or secret.

    Raises:
        GraphError: ``PROVISIONER_GRAPH_URL`` is not https (http only for loopback), or the trust store or proxy
            cannot be used. GraphSignInError: no sign-in can be chosen (`choose_sign_in`).
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        credential: TokenCredential | None = None,
        env: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        clients: HttpClientPool | None = None,
        http: httpx.Client | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        env = os.environ if env is None else env
        self.base_url = graph_url({"PROVISIONER_GRAPH_URL": base_url} if base_url else env)
        self._retry = retry or RetryPolicy(total_seconds=60.0)
        self.sign_in: SignIn | None = None
        secrets = sign_in_secrets(env)
        if credential is None:
            self.sign_in = choose_sign_in(env)
            credential = build_credential(self.sign_in, env, timeout=min(30.0, self._retry.total_seconds))
        self._owns_http = http is None and clients is None
        try:
            if http is None:
                http = (
                    clients.get(self.base_url, ca_bundle)
                    if clients is not None
                    else new_http_client(ca_bundle, timeout, proxy_for(self.base_url))
                )
        except ValueError as err:
            raise GraphError(f"HTTPS_PROXY / HTTP_PROXY / ALL_PROXY: {err}") from None
        except (OSError, ssl.SSLError) as err:
            raise GraphError(f"cannot load the CA bundle {ca_bundle} ({err})") from None
        self._tokens = TokenSource(credential, f"{self.base_url}/.default", self.sign_in, secrets, env)
        self._session = GraphSession(self.base_url, self._tokens, http, self._retry, timeout)
        self._http = http

    def __repr__(self) -> str:
        who = self.sign_in.describe() if self.sign_in else "given credential"
        return f"GraphReader(base_url={self.base_url!r}, sign_in={who!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client if this reader created it."""
        if self._owns_http:
            self._http.close()

    # --- reads ------------------------------------------------------------------------------------------

    def application(self, client_id: str) -> Application:
        """The app registration with this application (client) ID: ``GET /applications(appId='{client_id}')``.

        Shape: `Application` (object ID ``id``, ``appId``, ``displayName``, ``signInAudience``,
        ``api.requestedAccessTokenVersion``, web/spa/publicClient ``redirectUris``, ``requiredResourceAccess``,
        password credential metadata (key ID, display name, start/end UTC, hint; never a value),
        ``verifiedPublisher``, ``publisherDomain``).

        Needs ``Application.Read.All`` (application or delegated; an owner with
        ``Application.ReadWrite.OwnedBy`` can also read its own apps).

        Raises:
            GraphNotFound: No app registration with this client ID in the tenant.
            GraphForbidden: ``.permissions == ("Application.Read.All",)``.
        """
        path = f"/applications(appId='{_quote_id(client_id)}')"
        return self._model(Application, self._session.get_json(path, permissions=APP_READ), path)

    def application_owners(self, object_id: str) -> list[DirectoryObject]:
        """Owners of an app registration (by its **object** ID): ``GET /applications/{id}/owners``, all pages.

        Shape: `DirectoryObject` list (``id``, ``@odata.type`` user/servicePrincipal, ``displayName``,
        ``userPrincipalName`` for users, ``appId`` for service principals). Needs ``Application.Read.All``.
        """
        return self._list(DirectoryObject, f"/applications/{_quote_id(object_id)}/owners", APP_READ)

    def service_principal(self, app_id: str) -> ServicePrincipal:
        """The tenant's service principal of an application: ``GET /servicePrincipals(appId='{app_id}')``.

        Shape: `ServicePrincipal` (``id``, ``appId``, ``displayName``, ``oauth2PermissionScopes`` with
        id/value/type/isEnabled/adminConsentDisplayName, ``appRoles``). Needs ``Application.Read.All``.

        Raises:
            GraphNotFound: The API has no service principal in this tenant (create it with
                ``az ad sp create --id <app-id>``).
        """
        path = f"/servicePrincipals(appId='{_quote_id(app_id)}')"
        return self._model(ServicePrincipal, self._session.get_json(path, permissions=APP_READ), path)

    def default_app_management_policy(self) -> AppManagementPolicy:
        """The tenant's default app-management policy: ``GET /policies/defaultAppManagementPolicy``.

        Shape: `AppManagementPolicy` with ``source="default"``; `AppManagementPolicy.blocks_password_addition`
        and `AppManagementPolicy.max_password_lifetime_days` summarise its password restrictions. Needs
        ``Policy.Read.All``.
        """
        path = "/policies/defaultAppManagementPolicy"
        payload = self._session.get_json(path, permissions=POLICY_READ)
        if isinstance(payload, dict):
            payload = {**payload, "source": "default"}
        return self._model(AppManagementPolicy, payload, path)

    def assigned_app_management_policies(self, object_id: str) -> list[AppManagementPolicy]:
        """Custom app-management policies assigned to an app (by **object** ID):
        ``GET /applications/{id}/appManagementPolicies``, all pages (``source="assigned"``).

        Needs ``Policy.Read.All`` and ``Application.Read.All``. An assigned policy overrides the tenant default for
        that app (the exemption route when the default blocks secrets).
        """
        path = f"/applications/{_quote_id(object_id)}/appManagementPolicies"
        return self._list(AppManagementPolicy, path, ASSIGNED_POLICY_READ)

    def whoami(self, *, read_me: bool = False) -> SignedInIdentity:
        """Who the token belongs to, from its claims: ``oid``, ``tid``, kind, ``roles`` or ``scp``.

        The access token's JWT payload is decoded without checking its signature: it is our own token, just
        received from Entra over TLS, read for display and planning only, never to grant anything (Graph
        checks the signature on every call). With ``read_me`` and a user token, ``GET /me`` (needs
        ``User.Read``) fills the display name and user principal name.

        Raises:
            GraphSignInError: No token. GraphResponseError: The token is not a JWT (claims unreadable).
        """
        claims = _claims(self._tokens.get())
        scopes = str(claims.get("scp") or "").split()
        roles = [str(r) for r in claims.get("roles") or [] if isinstance(r, str)]
        kind = "app" if claims.get("idtyp") == "app" or not scopes and "upn" not in claims else "user"
        identity = SignedInIdentity(
            object_id=_text(claims.get("oid")),
            tenant_id=_text(claims.get("tid")),
            kind=kind,
            app_id=_text(claims.get("appid") or claims.get("azp")),
            roles=roles,
            scopes=scopes,
            user_principal_name=_text(claims.get("upn") or claims.get("preferred_username"))
            if kind == "user"
            else None,
            display_name=_text(claims.get("name")),
        )
        if read_me and kind == "user":
            me = self._session.get_json("/me", permissions=ME_READ)
            if isinstance(me, dict):
                identity = identity.model_copy(
                    update={
                        "display_name": _text(me.get("displayName")) or identity.display_name,
                        "user_principal_name": _text(me.get("userPrincipalName")) or identity.user_principal_name,
                    }
                )
        return identity

    # --- helpers ----------------------------------------------------------------------------------------

    def _list(self, model: type[_M], path: str, permissions: tuple[str, ...]) -> list[_M]:
        """Every item of a collection, following ``@odata.nextLink`` (same host only, at most `MAX_PAGES`, no
        repeats) within one shared deadline."""
        deadline = self._session.deadline()
        items: list[_M] = []
        seen: set[str] = set()
        link: str | None = None
        for page in range(1, MAX_PAGES + 1):
            payload = self._session.get_json(path, permissions=permissions, deadline=deadline, absolute=link)
            values = payload.get("value") if isinstance(payload, dict) else None
            if not isinstance(values, list):
                raise GraphResponseError(f"Microsoft Graph GET {path}: page {page} has no 'value' list")
            items += [self._model(model, v, path) for v in values]
            link = payload.get("@odata.nextLink")
            if not link:
                return items
            if not isinstance(link, str) or not link.startswith(self.base_url + "/"):
                raise GraphResponseError(
                    f"Microsoft Graph GET {path}: page {page}'s @odata.nextLink points outside {self.base_url}; "
                    "not followed (the token is sent only to the Graph endpoint)"
                )
            if link in seen:
                raise GraphResponseError(f"Microsoft Graph GET {path}: page {page} repeats an earlier next link")
            seen.add(link)
        raise GraphResponseError(f"Microsoft Graph GET {path}: more than {MAX_PAGES} pages; stopped")

    @staticmethod
    def _model(model: type[_M], payload: Any, path: str) -> _M:
        try:
            return model.model_validate(payload)
        except ValidationError as err:
            missing = ", ".join(".".join(str(p) for p in e["loc"]) or "(body)" for e in err.errors(include_input=False))
            raise GraphResponseError(f"Microsoft Graph GET {path}: unexpected response shape: {missing}") from None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _claims(token: str) -> dict[str, Any]:
    """A JWT's payload (the middle part), without a signature check (see `GraphReader.whoami`)."""
    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError
        data = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        if not isinstance(data, dict):
            raise ValueError
        return data
    except (ValueError, UnicodeDecodeError):
        raise GraphResponseError("the Microsoft Graph access token is not a JWT; its claims cannot be read") from None


__all__ = ["MAX_PAGES", "GraphReader", "GraphSignInError"]
