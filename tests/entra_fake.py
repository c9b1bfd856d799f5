"""A stateful fake of Microsoft Entra ID's token endpoint (login.microsoftonline.com) for tests.

It serves, over **https** on ``127.0.0.1`` with a certificate from a throwaway CA (``trustme``), what MSAL and
azure-identity ask of an authority host when instance discovery is off:

* ``GET /{tenant}/v2.0/.well-known/openid-configuration``: the tenant's OpenID metadata (its token endpoint).
* ``POST /{tenant}/oauth2/v2.0/token``: the client-credentials grant (``client_secret``, or a
  ``client_assertion`` for workload identity federation), answered as Entra answers it: a JSON token
  response, or a JSON error with ``error``, ``error_description`` (``AADSTS<code>: ...``) and ``error_codes``.

State (behind a lock): tenants; apps registered in a home tenant (client ID, whether it is disabled, whether
its service principal exists in the home tenant); each app's client secrets (value, whether expired, how many
token requests it fails with AADSTS7000215 before it has "replicated"); federated assertions accepted per app.
Behaviour modelled on Microsoft's documented error codes (``shared/reference/entra-facts.md``):

* unknown tenant → 400 ``invalid_request`` AADSTS90002; unknown client ID in that tenant → 400
  ``unauthorized_client`` AADSTS700016;
* app without a service principal in the tenant → 401 ``invalid_client`` AADSTS7000229;
* disabled app → 400 ``unauthorized_client`` AADSTS7000112 (cannot heal by retrying);
* wrong secret, or a right one still replicating → 401 ``invalid_client`` AADSTS7000215;
* expired secret → 401 ``invalid_client`` AADSTS7000222;
* a request without ``grant_type``/``client_id`` → 400 ``invalid_request`` AADSTS900144.

**Scripted answers** (`FakeEntra.script`): `Scripted` answers queued per endpoint (``"token"`` or
``"metadata"``) are served, one per request and in order, before the modelled behaviour: an HTTP status with a
JSON or raw body and headers (503 twice then normal, 429 with ``Retry-After``, a gateway's HTML page), a delay,
or a connection closed without an answer (``drop``). Scripted token requests are recorded too (``status`` 0 for
a dropped one).

Every request is recorded with the secret replaced by its SHA-256 fingerprint, so tests can count attempts
and check which secret was presented without holding the value in a log. ``delay`` slows every answer
(seconds), for deadline tests. Use as a context manager; ``url`` is the authority host
(``AZURE_AUTHORITY_HOST``), ``ca_file`` the PEM to trust; `FakeEntra.trust` sets ``REQUESTS_CA_BUNDLE`` to it
(MSAL and azure-identity send with ``requests``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import trustme

__all__ = ["AppState", "FakeEntra", "Scripted", "TokenRequest", "fingerprint"]

GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"


def fingerprint(value: str) -> str:
    """SHA-256 hex of a secret: how the fake records which secret a request presented."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class SecretState:
    """One client secret of an app: its value's fingerprint and how it behaves."""

    fingerprint: str
    expired: bool = False
    fails_before_usable: int = 0
    """Token requests answered AADSTS7000215 before the secret has replicated (then it works)."""


@dataclass(frozen=True)
class Scripted:
    """One scripted answer (see `FakeEntra.script`).

    Attributes:
        status: HTTP status.
        body: A JSON object, or raw text sent as it is (with ``content_type``).
        headers: Extra headers, e.g. ``{"Retry-After": "2"}``.
        content_type: The Content-Type header.
        delay: Seconds to wait before answering (or before dropping).
        drop: Close the connection without any answer.
    """

    status: int = 503
    body: dict[str, Any] | str = field(
        default_factory=lambda: {
            "error": "temporarily_unavailable",
            "error_description": "AADSTS90033: A transient error has occurred. Please try again.",
            "error_codes": [90033],
        }
    )
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    delay: float = 0.0
    drop: bool = False

    @classmethod
    def throttled(cls, retry_after: str | None = "1") -> Scripted:
        """429 as Entra throttles, with ``Retry-After`` (seconds or an HTTP date; None: no header)."""
        body = {"error": "temporarily_unavailable", "error_description": "AADSTS50196: too many requests"}
        return cls(429, body, {"Retry-After": retry_after} if retry_after is not None else {})

    @classmethod
    def garbage(cls, status: int = 200, text: str = "<html><body>502 Bad Gateway</body></html>") -> Scripted:
        """A body that is not JSON, as a proxy or gateway sends it."""
        return cls(status, text, content_type="text/html")


@dataclass
class AppState:
    """An app registration as the token endpoint sees it."""

    client_id: str
    tenant: str
    has_service_principal: bool = True
    disabled: bool = False
    secrets: list[SecretState] = field(default_factory=list)
    assertions: set[str] = field(default_factory=set)
    roles: tuple[str, ...] = ()
    object_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class TokenRequest:
    """One request to the token endpoint, as recorded (no secret value: only its fingerprint)."""

    tenant: str
    client_id: str
    grant_type: str
    scope: str
    secret_fingerprint: str | None
    status: int
    error_code: int | None
    received_at: float = field(default_factory=time.monotonic)
    """`time.monotonic` when it was answered (compare with `paragon_fake.RecordedRequest.received_at`)."""


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class FakeEntra:
    """The fake authority host. See the module docstring.

    Args:
        ca: The test CA that signs the server certificate (a new one by default).
        delay: Seconds to wait before every answer.
    """

    def __init__(self, ca: trustme.CA | None = None, delay: float = 0.0) -> None:
        self.ca = ca or trustme.CA()
        self.delay = delay
        self._lock = threading.Lock()
        self._tenants: set[str] = set()
        self._apps: dict[tuple[str, str], AppState] = {}
        self.requests: list[TokenRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ca_path: Path | None = None
        self._scripts: dict[str, list[Scripted]] = {"token": [], "metadata": []}

    # --- state ------------------------------------------------------------------------------------------

    def add_tenant(self, tenant: str) -> None:
        with self._lock:
            self._tenants.add(tenant.lower())

    def add_app(
        self,
        tenant: str,
        client_id: str,
        *,
        service_principal: bool = True,
        disabled: bool = False,
        roles: tuple[str, ...] = (),
    ) -> AppState:
        """Register an app in its home tenant (adds the tenant too)."""
        with self._lock:
            self._tenants.add(tenant.lower())
            app = AppState(client_id.lower(), tenant.lower(), service_principal, disabled, roles=roles)
            self._apps[(tenant.lower(), client_id.lower())] = app
            return app

    def app(self, tenant: str, client_id: str) -> AppState:
        with self._lock:
            return self._apps[(tenant.lower(), client_id.lower())]

    def add_secret(
        self, tenant: str, client_id: str, value: str, *, fails_before_usable: int = 0, expired: bool = False
    ) -> None:
        """Give an app a client secret; ``fails_before_usable`` requests get AADSTS7000215 first (replication)."""
        with self._lock:
            self._apps[(tenant.lower(), client_id.lower())].secrets.append(
                SecretState(fingerprint(value), expired, fails_before_usable)
            )

    def add_assertion(self, tenant: str, client_id: str, assertion: str) -> None:
        """Accept ``assertion`` (a federated token, e.g. GitHub's OIDC token) as the app's client assertion."""
        with self._lock:
            self._apps[(tenant.lower(), client_id.lower())].assertions.add(assertion)

    def script(self, *answers: Scripted, endpoint: str = "token") -> None:
        """Queue ``answers`` for ``endpoint`` (``token``: the token POST; ``metadata``: the OpenID metadata GET)."""
        with self._lock:
            self._scripts[endpoint].extend(answers)

    def _scripted(self, endpoint: str) -> Scripted | None:
        with self._lock:
            queue = self._scripts[endpoint]
            return queue.pop(0) if queue else None

    def token_requests(self, client_id: str | None = None) -> list[TokenRequest]:
        with self._lock:
            return [r for r in self.requests if client_id is None or r.client_id == client_id.lower()]

    # --- serving ----------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "use FakeEntra as a context manager"
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def trust(self, monkeypatch: Any) -> None:
        """Make MSAL / azure-identity (``requests``) trust this fake: ``REQUESTS_CA_BUNDLE`` names its CA.

        ``requests`` takes ``REQUESTS_CA_BUNDLE`` (else ``CURL_CA_BUNDLE``) over a session's own ``verify``, and
        machines often set both to the system bundle, so both are replaced for the test (``monkeypatch``).
        """
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(self.ca_file))
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)

    @property
    def ca_file(self) -> Path:
        assert self._ca_path is not None, "use FakeEntra as a context manager"
        return self._ca_path

    def __enter__(self) -> FakeEntra:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
                return

            def do_GET(self) -> None:
                fake._wait()
                parts = urlsplit(self.path).path.strip("/").split("/")
                if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                    scripted = fake._scripted("metadata")
                    if scripted is not None:
                        self._send_scripted(scripted)
                        return
                    tenant = parts[0].lower()
                    if not fake._known_tenant(tenant):
                        self._send(400, fake._error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found."))
                        return
                    base = f"{fake.url}/{tenant}"
                    self._send(
                        200,
                        {
                            "token_endpoint": f"{base}/oauth2/v2.0/token",
                            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                            "issuer": f"{fake.url}/{tenant}/v2.0",
                            "jwks_uri": f"{base}/discovery/v2.0/keys",
                            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                        },
                    )
                    return
                self._send(404, {"error": "not_found"})

            def do_POST(self) -> None:
                fake._wait()
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode("utf-8", "replace")))
                parts = urlsplit(self.path).path.strip("/").split("/")
                if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
                    scripted = fake._scripted("token")
                    if scripted is not None:
                        fake._record(parts[0].lower(), form, 0 if scripted.drop else scripted.status, scripted.body)
                        self._send_scripted(scripted)
                        return
                    status, body = fake._token(parts[0].lower(), form)
                    self._send(status, body)
                    return
                self._send(404, {"error": "not_found"})

            def _send_scripted(self, scripted: Scripted) -> None:
                if scripted.delay:
                    time.sleep(scripted.delay)
                if scripted.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                raw = scripted.body
                data = raw.encode() if isinstance(raw, str) else json.dumps(raw).encode()
                self.send_response(scripted.status)
                self.send_header("Content-Type", scripted.content_type)
                for name, value in scripted.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        ca_dir = Path(__import__("tempfile").mkdtemp(prefix="fake-entra-ca-"))
        self._ca_path = ca_dir / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self._ca_path))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    # --- behaviour --------------------------------------------------------------------------------------

    def _wait(self) -> None:
        if self.delay:
            time.sleep(self.delay)

    def _known_tenant(self, tenant: str) -> bool:
        with self._lock:
            return tenant in self._tenants or tenant in ("organizations", "common")

    @staticmethod
    def _error(status: int, error: str, code: int, text: str) -> dict[str, Any]:
        return {
            "error": error,
            "error_description": f"AADSTS{code}: {text} Trace ID: {uuid.uuid4()} Correlation ID: {uuid.uuid4()} "
            f"Timestamp: 2026-12-07 00:00:00Z",
            "error_codes": [code],
            "timestamp": "2026-12-07 00:00:00Z",
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        }

    def _token(self, tenant: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        status, body = self._decide(tenant, form.get("client_id", "").lower(), form)
        self._record(tenant, form, status, body)
        return status, body

    def _record(self, tenant: str, form: dict[str, str], status: int, body: dict[str, Any] | str) -> None:
        client_id = form.get("client_id", "").lower()
        secret = form.get("client_secret")
        codes = body.get("error_codes") if isinstance(body, dict) and status != 200 else None
        code = codes[0] if isinstance(codes, list) and codes else None
        with self._lock:
            self.requests.append(
                TokenRequest(
                    tenant,
                    client_id,
                    form.get("grant_type", ""),
                    form.get("scope", ""),
                    fingerprint(secret) if secret is not None else None,
                    status,
                    code,
                )
            )

    def _decide(self, tenant: str, client_id: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if not form.get("grant_type") or not client_id:
            return 400, self._error(400, "invalid_request", 900144, "The request body must contain 'grant_type'.")
        if form["grant_type"] != "client_credentials":
            return 400, self._error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant.")
        with self._lock:
            if tenant not in self._tenants:
                return 400, self._error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
            app = self._apps.get((tenant, client_id))
            if app is None:
                return 400, self._error(
                    400,
                    "unauthorized_client",
                    700016,
                    f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
                )
            if app.disabled:
                return 400, self._error(400, "unauthorized_client", 7000112, f"Application '{client_id}' is disabled.")
            if not app.has_service_principal:
                return 401, self._error(
                    401, "invalid_client", 7000229, "The client application is missing service principal in the tenant."
                )
            if "client_assertion" in form:
                if form["client_assertion"] not in app.assertions:
                    return 401, self._error(
                        401,
                        "invalid_client",
                        700213,
                        "No matching federated identity record found for presented assertion subject.",
                    )
            else:
                presented = fingerprint(form.get("client_secret", ""))
                match = next((s for s in app.secrets if s.fingerprint == presented), None)
                if match is None:
                    return 401, self._error(401, "invalid_client", 7000215, "Invalid client secret provided.")
                if match.fails_before_usable > 0:
                    match.fails_before_usable -= 1
                    return 401, self._error(401, "invalid_client", 7000215, "Invalid client secret provided.")
                if match.expired:
                    return 401, self._error(
                        401,
                        "invalid_client",
                        7000222,
                        f"The provided client secret keys for app '{client_id}' are expired.",
                    )
            now = int(time.time())
            claims = {
                "aud": "https://graph.microsoft.com",
                "iss": f"https://sts.windows.net/{tenant}/",
                "iat": now,
                "nbf": now,
                "exp": now + 3599,
                "appid": client_id,
                "azp": client_id,
                "idtyp": "app",
                "oid": app.object_id,
                "tid": tenant,
                "roles": list(app.roles),
            }
        token = f"{_b64({'typ': 'JWT', 'alg': 'none'})}.{_b64(claims)}.fake-signature"
        return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
