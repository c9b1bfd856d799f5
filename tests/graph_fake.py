"""A stateful fake of Microsoft Graph v1.0 on 127.0.0.1 for tests (like tests/paragon_fake.py).

State (behind a lock), added with methods:

* `FakeGraph.add_application` → `FakeApp` (object ID, client ID, display name, audience, redirect URIs,
  password credential metadata, verified publisher, owners); `FakeGraph.add_owner` adds a user or service
  principal owner.
* `FakeGraph.add_service_principal` (any app ID, scopes and app roles); Microsoft Graph's own
  (`GRAPH_APP_ID`, with a few real delegated scopes) and Power BI's (`POWERBI_APP_ID`) are there from the start.
* `FakeGraph.default_policy` (the tenant default app-management policy, a JSON dict; none of its restrictions
  set at first) and `FakeGraph.assign_policy` (a custom policy assigned to an app).
* `FakeGraph.fail`: scripted faults for paths starting with a prefix: a status with Graph's error body
  (``{"error": {"code", "message"}}``), a ``Retry-After``, a delay (slow answers), for ``times`` requests.
* ``page_size``: collections (owners, assigned policies) are paged with absolute ``@odata.nextLink`` URLs.
* ``me``: the ``/me`` user.
* ``/_github/token`` answers GitHub Actions' OIDC token request (`FakeGraph.github_oidc`).

Every request is recorded (`FakeGraph.requests`: method, path, query, whether it carried a bearer token); the
token itself is kept only as a SHA-256 fingerprint. Serves http, or https with a ``trustme`` CA
(``tls=True``; ``ca_file`` then names the CA's PEM). Any method but GET is answered 405 (and recorded).
"""

from __future__ import annotations

import hashlib
import json
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import trustme

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
POWERBI_APP_ID = "00000009-0000-0000-c000-000000000000"
GRAPH_SCOPES = {  # Microsoft's generated permissions table (shared/reference/entra-facts.md)
    "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    "openid": "37f7f235-527c-4136-accd-4a02d197296e",
    "profile": "14dad69e-099b-42c9-810b-d002981feec1",
    "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
}


@dataclass
class FakeApp:
    """An application object as Graph returns it (``json`` is the body), plus its owners."""

    json: dict[str, Any]
    owners: list[dict[str, Any]] = field(default_factory=list)

    @property
    def object_id(self) -> str:
        return str(self.json["id"])

    @property
    def app_id(self) -> str:
        return str(self.json["appId"])


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    bearer: str | None
    """SHA-256 fingerprint of the bearer token sent, or None."""
    status: int


@dataclass
class Fault:
    prefix: str
    status: int
    times: int
    code: str
    message: str
    retry_after: str | None
    delay: float
    raw: RawBody | None = None


@dataclass(frozen=True)
class RawBody:
    """A body sent as it is, not as JSON: a malformed JSON body, a proxy's HTML page."""

    text: str
    content_type: str = "application/json; odata.metadata=minimal"


def _fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class FakeGraph:
    """The fake Graph endpoint (``url`` is ``PROVISIONER_GRAPH_URL``). Use as a context manager.

    Args:
        tls: Serve https with a certificate from ``ca`` (a new ``trustme.CA`` by default).
        page_size: Items per page of a collection.
    """

    def __init__(self, *, tls: bool = False, ca: trustme.CA | None = None, page_size: int = 100) -> None:
        self.tls = tls
        self.ca = ca or trustme.CA()
        self.page_size = page_size
        self._lock = threading.Lock()
        self.apps: dict[str, FakeApp] = {}
        self.service_principals: dict[str, dict[str, Any]] = {}
        self.default_policy: dict[str, Any] = {
            "id": "00000000-0000-0000-0000-000000000000",
            "displayName": "Default app management tenant policy",
            "isEnabled": False,
            "applicationRestrictions": {"passwordCredentials": [], "keyCredentials": []},
            "servicePrincipalRestrictions": {"passwordCredentials": [], "keyCredentials": []},
        }
        self.assigned: dict[str, list[dict[str, Any]]] = {}
        self.me: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "displayName": "Ada Admin",
            "userPrincipalName": "ada@contoso.example",
        }
        self.github_tokens: dict[str, str] = {}
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        self._server: ThreadingHTTPServer | None = None
        self._ca_path: Path | None = None
        self.add_service_principal(
            GRAPH_APP_ID,
            "Microsoft Graph",
            scopes=[
                (name, sid, "User" if name != "Directory.Read.All" else "Admin") for name, sid in GRAPH_SCOPES.items()
            ],
        )
        self.add_service_principal(
            POWERBI_APP_ID,
            "Power BI Service",
            scopes=[
                (name, str(uuid.uuid5(uuid.NAMESPACE_URL, name)), "User")
                for name in ("Dataset.Read.All", "Report.Read.All")
            ],
        )

    # --- state ------------------------------------------------------------------------------------------

    def add_application(
        self,
        app_id: str | None = None,
        display_name: str = "Paragon Power BI (dev)",
        *,
        sign_in_audience: str = "AzureADMultipleOrgs",
        redirect_uris: tuple[str, ...] = ("https://passport.useparagon.com/oauth",),
        passwords: tuple[dict[str, Any], ...] = (),
        verified_publisher_id: str | None = None,
        **extra: Any,
    ) -> FakeApp:
        """An app registration; ``passwords`` are password credential metadata dicts (``keyId``, ``endDateTime``...)."""
        app_id = app_id or str(uuid.uuid4())
        body: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "appId": app_id,
            "displayName": display_name,
            "signInAudience": sign_in_audience,
            "publisherDomain": "contoso.example",
            "api": {"requestedAccessTokenVersion": None, "oauth2PermissionScopes": []},
            "web": {"redirectUris": list(redirect_uris), "implicitGrantSettings": {}},
            "spa": {"redirectUris": []},
            "publicClient": {"redirectUris": []},
            "requiredResourceAccess": [
                {"resourceAppId": POWERBI_APP_ID, "resourceAccess": [{"id": str(uuid.uuid4()), "type": "Scope"}]}
            ],
            "passwordCredentials": [
                {"customKeyIdentifier": None, "secretText": None, "hint": "abc", "displayName": None, **p}
                for p in passwords
            ],
            "verifiedPublisher": {
                "displayName": "Contoso" if verified_publisher_id else None,
                "verifiedPublisherId": verified_publisher_id,
                "addedDateTime": "2026-01-01T00:00:00Z" if verified_publisher_id else None,
            },
            **extra,
        }
        app = FakeApp(body)
        with self._lock:
            self.apps[body["id"]] = app
        return app

    def add_owner(self, app: FakeApp, *, user: str | None = None, sp_app_id: str | None = None) -> dict[str, Any]:
        """Add a user owner (``user`` is its UPN) or a service principal owner (its app ID); returns the object."""
        if user is not None:
            owner = {
                "@odata.type": "#microsoft.graph.user",
                "id": str(uuid.uuid4()),
                "displayName": user,
                "userPrincipalName": user,
            }
        else:
            owner = {
                "@odata.type": "#microsoft.graph.servicePrincipal",
                "id": str(uuid.uuid4()),
                "displayName": "CI deployer",
                "appId": sp_app_id or str(uuid.uuid4()),
            }
        with self._lock:
            app.owners.append(owner)
        return owner

    def add_service_principal(
        self,
        app_id: str,
        display_name: str,
        *,
        scopes: Sequence[tuple[str, str, str]] = (),
        roles: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A service principal; ``scopes`` are (value, id, type ``User``/``Admin``), ``roles`` app role values."""
        body = {
            "id": str(uuid.uuid4()),
            "appId": app_id,
            "displayName": display_name,
            "oauth2PermissionScopes": [
                {
                    "id": sid,
                    "value": value,
                    "type": kind,
                    "isEnabled": True,
                    "adminConsentDisplayName": f"{value} (admin consent display name)",
                }
                for value, sid, kind in scopes
            ],
            "appRoles": [
                {
                    "id": str(uuid.uuid5(uuid.NAMESPACE_URL, r)),
                    "value": r,
                    "isEnabled": True,
                    "allowedMemberTypes": ["Application"],
                    "displayName": r,
                }
                for r in roles
            ],
        }
        with self._lock:
            self.service_principals[app_id.lower()] = body
        return body

    def restrict_passwords(self, *restrictions: dict[str, Any]) -> None:
        """Turn on the tenant default policy with these password restrictions (e.g. `block_passwords()`)."""
        with self._lock:
            self.default_policy["isEnabled"] = True
            self.default_policy["applicationRestrictions"]["passwordCredentials"] = list(restrictions)

    def assign_policy(self, app: FakeApp, *restrictions: dict[str, Any], name: str = "Exempt Paragon apps") -> None:
        """Assign a custom app-management policy with these password restrictions to ``app``."""
        policy = {
            "id": str(uuid.uuid4()),
            "displayName": name,
            "isEnabled": True,
            "restrictions": {"passwordCredentials": list(restrictions), "keyCredentials": []},
        }
        with self._lock:
            self.assigned.setdefault(app.object_id, []).append(policy)

    def fail(
        self,
        prefix: str,
        status: int,
        *,
        times: int = 1,
        code: str = "",
        message: str = "",
        retry_after: str | None = None,
        delay: float = 0.0,
        raw: RawBody | None = None,
    ) -> None:
        """The next ``times`` GETs of a path under ``/v1.0`` starting with ``prefix`` answer ``status`` (after
        ``delay`` seconds). Status 0 means only the delay, then the normal answer (a slow server). ``raw`` sends
        that body as it is instead of Graph's JSON error (e.g. ``fail(p, 200, raw=RawBody('{"value": ['))``)."""
        code = code or {
            403: "Authorization_RequestDenied",
            404: "Request_ResourceNotFound",
            429: "TooManyRequests",
        }.get(status, "serviceNotAvailable" if status >= 500 else "BadRequest")
        message = message or {403: "Insufficient privileges to complete the operation."}.get(status, "fault")
        with self._lock:
            self.faults.append(Fault(prefix, status, times, code, message, retry_after, delay, raw))

    def github_oidc(self, bearer: str, assertion: str) -> str:
        """Serve ``assertion`` to GitHub's token request made with ``bearer``; returns the request URL to set."""
        with self._lock:
            self.github_tokens[bearer] = assertion
        return f"{self.url}/_github/token?api-version=2.0"

    def methods(self) -> set[str]:
        with self._lock:
            return {r.method for r in self.requests if not r.path.startswith("/_github")}

    def calls(self, prefix: str = "") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith("/v1.0" + prefix)]

    # --- serving ----------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "use FakeGraph as a context manager"
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def ca_file(self) -> Path:
        assert self._ca_path is not None
        return self._ca_path

    def __enter__(self) -> FakeGraph:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_GET(self) -> None:
                status, body, headers = fake._answer("GET", self.path, self.headers.get("Authorization"))
                self._send(status, body, headers)

            def _other(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                status, body, headers = fake._answer(self.command, self.path, self.headers.get("Authorization"))
                self._send(status, body, headers)

            do_POST = do_PUT = do_PATCH = do_DELETE = _other

            def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
                raw = body if isinstance(body, RawBody) else None
                data = raw.text.encode() if raw else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header(
                        "Content-Type", raw.content_type if raw else "application/json; odata.metadata=minimal"
                    )
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if self.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self._ca_path = Path(tempfile.mkdtemp(prefix="fake-graph-ca-")) / "ca.pem"
            self.ca.cert_pem.write_to_path(str(self._ca_path))
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    # --- behaviour --------------------------------------------------------------------------------------

    def _answer(self, method: str, raw: str, auth: str | None) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(raw)
        path, query = unquote(parts.path), parse_qs(parts.query)
        bearer = auth[7:] if auth and auth.startswith("Bearer ") else None
        status, body, headers = self._route(method, path, query, bearer)
        with self._lock:
            self.requests.append(Recorded(method, path, query, _fingerprint(bearer) if bearer else None, status))
        return status, body, headers

    @staticmethod
    def _error(status: int, code: str, message: str) -> dict[str, Any]:
        return {
            "error": {
                "code": code,
                "message": message,
                "innerError": {"request-id": str(uuid.uuid4()), "date": "2026-12-07T00:00:00"},
            }
        }

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], bearer: str | None
    ) -> tuple[int, Any, dict[str, str]]:
        if path == "/_github/token":
            with self._lock:
                assertion = self.github_tokens.get(bearer or "")
            if assertion is None or query.get("audience") != ["api://AzureADTokenExchange"]:
                return 401, {"message": "bad token request"}, {}
            return 200, {"value": assertion}, {}
        if method != "GET":
            return 405, self._error(405, "Request_BadRequest", "The fake Graph is read-only."), {}
        if not bearer:
            return 401, self._error(401, "InvalidAuthenticationToken", "Access token is empty."), {}
        if not path.startswith("/v1.0/"):
            return 404, self._error(404, "UnknownError", "no such version"), {}
        sub = path[len("/v1.0") :]
        with self._lock:
            fault = next((f for f in self.faults if f.times > 0 and sub.startswith(f.prefix)), None)
            if fault is not None:
                fault.times -= 1
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                if fault.raw is not None:
                    return fault.status, fault.raw, headers
                return fault.status, self._error(fault.status, fault.code, fault.message), headers
        with self._lock:
            return self._read(sub, query)

    def _read(self, sub: str, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        not_found: tuple[int, Any, dict[str, str]] = (
            404,
            self._error(404, "Request_ResourceNotFound", f"Resource '{sub}' does not exist."),
            {},
        )
        if sub.startswith("/applications(appId='") and sub.endswith("')"):
            app_id = sub[len("/applications(appId='") : -2].replace("''", "'")
            app = next((a for a in self.apps.values() if a.app_id.lower() == app_id.lower()), None)
            return (200, app.json, {}) if app else not_found
        if sub.startswith("/servicePrincipals(appId='") and sub.endswith("')"):
            sp = self.service_principals.get(sub[len("/servicePrincipals(appId='") : -2].lower())
            return (200, sp, {}) if sp else not_found
        if sub == "/policies/defaultAppManagementPolicy":
            return 200, self.default_policy, {}
        if sub == "/me":
            return 200, self.me, {}
        segments = sub.strip("/").split("/")
        if len(segments) == 3 and segments[0] == "applications" and segments[2] in ("owners", "appManagementPolicies"):
            app = self.apps.get(segments[1])
            if app is None:
                return not_found
            items = app.owners if segments[2] == "owners" else self.assigned.get(app.object_id, [])
            return 200, self._page(sub, items, int((query.get("$skiptoken") or ["0"])[0])), {}
        return not_found

    def _page(self, sub: str, items: list[dict[str, Any]], start: int) -> dict[str, Any]:
        end = start + self.page_size
        body: dict[str, Any] = {"@odata.context": f"{self.url}/v1.0/$metadata", "value": items[start:end]}
        if end < len(items):
            body["@odata.nextLink"] = f"{self.url}/v1.0{sub}?$skiptoken={end}"
        return body


def password_addition_blocked(after: str = "2019-01-01T00:00:00Z") -> dict[str, Any]:
    """A ``passwordAddition`` restriction (no new secrets for apps created after ``after``)."""
    return {
        "restrictionType": "passwordAddition",
        "state": "enabled",
        "maxLifetime": None,
        "restrictForAppsCreatedAfterDateTime": after,
    }


def password_lifetime(max_lifetime: str, after: str = "2019-01-01T00:00:00Z") -> dict[str, Any]:
    """A ``passwordLifetime`` restriction (secrets at most ``max_lifetime``, an ISO 8601 duration)."""
    return {
        "restrictionType": "passwordLifetime",
        "state": "enabled",
        "maxLifetime": max_lifetime,
        "restrictForAppsCreatedAfterDateTime": after,
    }
