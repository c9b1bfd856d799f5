"""A stateful, in-process fake of Paragon's dashboard API ("zeus") for tests and benchmarks.

It serves the endpoints described in ``/work/shared/reference/paragon-api.md`` on
``http://127.0.0.1:<random port>`` from a :class:`http.server.ThreadingHTTPServer` running in a daemon
thread, keeps its state (users, tokens, projects, integrations, credentials) in memory behind a lock, records
every request it receives, and can be scripted to misbehave (error statuses, extra headers such as
``Retry-After``, raw bodies, dropped connections, delays, responses trickled byte by byte) for the next N
matching requests. With ``tls=`` (an ``ssl.SSLContext`` holding a server certificate) it serves
``https://127.0.0.1:<port>`` instead.

Typical use::

    with FakeParagon(list_shape="paged") as fake:
        fake.add_user("admin@example.com", "pw")
        fake.add_project("proj-1")
        integration_id = fake.add_integration("proj-1", "powerbi")
        fake.script("PUT", r"/projects/[^/]+/credentials/oauth", Fault(429, headers={"Retry-After": "0"}))
        ...  # point the client under test at fake.url
        assert fake.credential_for("proj-1", integration_id)["values"]["clientId"] == "..."

Behaviour worth knowing (all modelled on the reference and on how an Express/NestJS app answers):

* Routing happens first: an unknown path, or a known path with the wrong method, is a 404
  ``Cannot <METHOD> <path>``. A single trailing slash is tolerated, path segments are percent-decoded.
* A request body that claims ``Content-Type: application/json`` but is not valid JSON is a 400, even
  before authentication. A body sent with another content type is ignored (treated as absent), so
  endpoints that need a body answer 400.
* Then ``Authorization: Bearer <token>`` must name a live token (401 otherwise), then the project must
  exist (404 ``Project not found``).
* ``PUT .../credentials/oauth`` wants ``provider`` equal to the integration's ``type`` and every ``values``
  entry a string (extra keys next to clientId/clientSecret/scopes are stored as sent).
  `MICROSOFT_INTEGRATION_TYPES` lists Paragon's Microsoft integration types; `add_microsoft_integrations`
  adds one of each.
* Every response is JSON (``Content-Type: application/json``) unless a :class:`Fault` says otherwise.
  Connections are HTTP/1.1 keep-alive, like the real service behind its load balancer.
"""

from __future__ import annotations

import base64
import copy
import json as jsonlib
import re
import secrets
import socket
import ssl
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["MICROSOFT_INTEGRATION_TYPES", "Fault", "FakeParagon", "RecordedRequest"]

JSON = Any
LOGIN = r"/auth/login/email"
"""Path patterns of Paragon's endpoints, for `FakeParagon.count` / `Fault` rules in tests and the bench."""
LIST = r"/projects/[^/]+/integrations"
PUT = r"/projects/[^/]+/credentials/oauth"
DECRYPTED = r"/projects/[^/]+/credentials/[^/]+/decrypted"
CREDENTIALS = r"/projects/[^/]+/credentials"
ONE_CREDENTIAL = r"/projects/[^/]+/credentials/[^/]+"
_OAUTH_SCHEME = "oauth_app"
_PUT_OAUTH_KEYS = frozenset({"name", "provider", "scheme", "integrationId", "values"})
MICROSOFT_INTEGRATION_TYPES = (
    # Paragon's Microsoft-family integration types, as listed in paragon-api.md (written out here, not read
    # from the provisioner's catalog, so a test can compare the two).
    "powerbi",
    "outlook",
    "microsoftTeams",
    "sharepoint",
    "onedrive",
    "onenote",
    "excel",
    "microsoftDynamics",
    "dynamicsbusinesscentral",
    "dynamicsfinance",
    "azuredevops",
)


@dataclass
class RecordedRequest:
    """One request as the fake received it (recorded before any fault or normal handling).

    ``query`` keeps the last value of a repeated parameter; ``headers`` has lower-cased names;
    ``json`` is the parsed body when it parses as JSON (whatever the content type), else ``None``.
    ``body`` is the raw body and ``received_at`` a :func:`time.monotonic` timestamp, handy for
    asserting back-off delays between retries.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    body: bytes = b""
    received_at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """What to do instead of normal handling for one scripted request (see :meth:`FakeParagon.script`).

    * ``drop``: close the connection without writing anything (the client sees a disconnect).
    * ``delay``: sleep this many seconds first (interrupted by :meth:`FakeParagon.stop`, which then drops).
      A long delay (e.g. 3600) is a server that never answers.
    * ``trickle``: send the response (status line, headers and body) one byte at a time, this many seconds
      apart (a server that is alive but too slow; interrupted by :meth:`FakeParagon.stop`).
    * ``status``/``headers``/``body``/``content_type``: the response to send. ``body`` is sent raw;
      when ``None`` it defaults to a Paragon-shaped JSON error
      ``{"message": <reason phrase>, "meta": {"errors": [{"error": <reason phrase>}]}}``.
    * Pass-through: a fault with ``status == 200``, ``body is None`` and no ``drop`` does not replace the
      response; the request is handled normally (after ``delay``) and ``headers`` are added to the normal
      response. ``Fault(200, delay=2.0)`` therefore means "answer correctly, but late". A 200 fault with
      an explicit ``body`` sends that body instead (useful for "unexpected response shape" tests).
    """

    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: str | bytes | None = None
    content_type: str = "application/json"
    drop: bool = False
    delay: float = 0.0
    trickle: float = 0.0

    def __post_init__(self) -> None:
        if not 100 <= self.status <= 599:
            raise ValueError(f"Fault.status must be an HTTP status code, got {self.status}")
        if self.delay < 0 or self.trickle < 0:
            raise ValueError("Fault.delay and Fault.trickle must be >= 0")

    @property
    def passes_through(self) -> bool:
        """True when this fault only delays/decorates normal handling instead of replacing it."""
        return self.status == 200 and self.body is None and not self.drop

    def render_body(self) -> bytes:
        """The bytes this fault sends as its response body."""
        if self.body is None:
            return _json_bytes(_error_body(_reason(self.status)))
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return self.body


@dataclass
class _Response:
    status: int
    payload: JSON

    def encode(self) -> bytes:
        return _json_bytes(self.payload)


@dataclass
class _Scripted:
    method: str
    pattern: re.Pattern[str]
    faults: deque[Fault]


@dataclass
class _Ctx:
    """Per-request data handed to a route handler."""

    groups: tuple[str, ...]
    query: dict[str, str]
    body: JSON  # parsed JSON body, or None when absent / not sent as JSON


_RouteHandler = Callable[["FakeParagon", _Ctx], _Response]


def _json_bytes(payload: JSON) -> bytes:
    return jsonlib.dumps(payload, separators=(",", ":")).encode("utf-8")


def _error_body(message: str, errors: list[str] | None = None) -> dict[str, Any]:
    errs = errors if errors else [message]
    return {"message": message, "meta": {"errors": [{"error": e} for e in errs]}}


def _error(status: int, message: str, errors: list[str] | None = None) -> _Response:
    return _Response(status, _error_body(message, errors))


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _now_iso() -> str:
    """JavaScript ``Date.prototype.toISOString()`` format, as Paragon returns dates."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _make_jwt(subject: str) -> str:
    """A JWT-shaped random token (not verifiable; the fake only compares strings)."""
    header = _b64url(_json_bytes({"alg": "HS256", "typ": "JWT"}))
    payload = _b64url(_json_bytes({"sub": subject, "iat": int(time.time()), "jti": secrets.token_hex(8)}))
    return f"{header}.{payload}.{_b64url(secrets.token_bytes(32))}"


class FakeParagon:
    """A stateful fake of Paragon's API. Start it (or use it as a context manager) and use :attr:`url`.

    ``list_shape`` selects the integrations-list response shape:

    * ``"bare"`` (2024): ``GET /projects/{p}/integrations`` returns a bare JSON array; ``size`` and
      ``cursor`` query parameters are ignored.
    * ``"paged"`` (2025): returns ``{"items": [...], "nextPageCursor": <str | None>}``; honours
      ``?size=N`` (default ``page_size``) and ``?cursor=X`` (an opaque string from the previous page).
      Integration objects then also carry ``configs`` ({}) and ``resourceId`` (null).

    All state-changing helpers and all request handling take one lock, so the fake may be driven from
    the test thread while the client under test hits it from others. :attr:`credentials` and
    :attr:`requests` are live objects: read them when no request is in flight, or use
    :meth:`credential_for` / :meth:`count`, which lock.
    """

    def __init__(self, *, list_shape: str = "paged", page_size: int = 2, tls: ssl.SSLContext | None = None) -> None:
        if list_shape not in ("bare", "paged"):
            raise ValueError(f"list_shape must be 'bare' or 'paged', got {list_shape!r}")
        if page_size < 1:
            raise ValueError("page_size must be >= 1")
        self.list_shape = list_shape
        self.page_size = page_size
        self.tls = tls
        """Server-side TLS context: when set, connections are TLS and :attr:`url` is ``https://``."""
        self.url = ""
        self.requests: list[RecordedRequest] = []
        self.credentials: dict[str, dict[str, Any]] = {}
        self.connections = 0
        """TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests)."""
        self.tls_refusals = 0
        """TLS handshakes that failed (with ``tls=``: e.g. the client did not trust the certificate)."""
        self.server_errors: list[BaseException] = []
        """Exceptions raised inside the fake's own handlers (answered with 500); should stay empty."""
        self.after_put: Callable[[dict[str, Any]], None] | None = None
        """Called, lock held, with the stored credential record after each OAuth PUT: edit ``record["values"]``
        to model a Paragon that keeps something other than it was sent (a read-back that differs)."""

        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._users: dict[str, str] = {}
        self._live_tokens: set[str] = set()
        self._projects: dict[str, dict[str, dict[str, Any]]] = {}
        self._scripts: list[_Scripted] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeParagon:
        """Bind to 127.0.0.1 on a free port, serve in a daemon thread, set :attr:`url`; returns self."""
        if self._server is not None:
            raise RuntimeError("FakeParagon already started")
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), self)
        host, port = server.server_address[:2]
        self.url = f"{'https' if self.tls else 'http'}://{host!s}:{port}"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"FakeParagon:{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: interrupt delays, close open connections, close the socket, join all threads.

        Idempotent. State (users, projects, credentials, the request log) is kept, but the instance cannot
        be started again on the same port.
        """
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        server.join_handlers(timeout=5.0)
        if thread is not None:
            thread.join(timeout=5.0)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeParagon:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ state set-up

    def add_user(self, email: str, password: str) -> None:
        """Register a dashboard user that may log in with ``POST /auth/login/email``."""
        with self._lock:
            self._users[email] = password

    def accept_token(self, token: str) -> None:
        """Treat ``token`` as a live access token (a pre-issued one, like ``PARAGON_ACCESS_TOKEN``)."""
        with self._lock:
            self._live_tokens.add(token)

    def expire_tokens(self) -> None:
        """Expire every token issued or accepted so far: they now get 401. Later logins still work."""
        with self._lock:
            self._live_tokens.clear()

    def add_project(self, project_id: str) -> None:
        """Create an empty project (no-op if it exists)."""
        with self._lock:
            self._projects.setdefault(project_id, {})

    def add_integration(
        self,
        project_id: str,
        type_: str,
        *,
        integration_id: str | None = None,
        is_active: bool = False,
    ) -> str:
        """Add an integration of type ``type_`` (e.g. ``"powerbi"``) to a project; return its id.

        The project is created if it does not exist yet. The id is a random uuid4 unless given.
        """
        iid = integration_id if integration_id is not None else str(uuid.uuid4())
        now = _now_iso()
        with self._lock:
            integrations = self._projects.setdefault(project_id, {})
            if iid in integrations:
                raise ValueError(f"integration {iid!r} already exists in project {project_id!r}")
            integrations[iid] = {
                "id": iid,
                "projectId": project_id,
                "type": type_,
                "isActive": is_active,
                "dateCreated": now,
                "dateUpdated": now,
            }
        return iid

    def add_microsoft_integrations(self, project_id: str) -> dict[str, str]:
        """Add one integration of every type in `MICROSOFT_INTEGRATION_TYPES`; return ``{type: id}``."""
        return {type_: self.add_integration(project_id, type_) for type_ in MICROSOFT_INTEGRATION_TYPES}

    def integration(self, project_id: str, integration_id: str) -> dict[str, Any] | None:
        """The integration as the API would render it now (a copy), or ``None``."""
        with self._lock:
            record = self._projects.get(project_id, {}).get(integration_id)
            return self._render_integration(record) if record is not None else None

    def script(self, method: str, path_pattern: str, *faults: Fault) -> None:
        """Give the next ``len(faults)`` requests matching ``method`` and ``path_pattern`` these faults.

        ``method`` is compared case-insensitively (``"*"`` matches any method); ``path_pattern`` must
        match the whole request path (``re.fullmatch``, query string excluded). Faults are consumed in
        order, one per matching request, then normal handling resumes. When several scripts match a
        request, the one registered first is used. Faulted requests are still recorded.
        """
        if not faults:
            return
        with self._lock:
            self._scripts.append(_Scripted(method.upper(), re.compile(path_pattern), deque(faults)))

    def pending_faults(self) -> int:
        """How many scripted faults have not been consumed yet."""
        with self._lock:
            return sum(len(s.faults) for s in self._scripts)

    # ------------------------------------------------------------------ inspection

    def credential_for(self, project_id: str, integration_id: str) -> dict[str, Any] | None:
        """A copy of the stored ``oauth_app`` credential record (including ``values``) or ``None``."""
        with self._lock:
            for record in self.credentials.values():
                if (
                    record["projectId"] == project_id
                    and record["integrationId"] == integration_id
                    and record["scheme"] == _OAUTH_SCHEME
                ):
                    return copy.deepcopy(record)
        return None

    def count(self, method: str | None = None, path_pattern: str | None = None) -> int:
        """Number of recorded requests with this method (any if None) and path (``re.fullmatch``)."""
        pattern = re.compile(path_pattern) if path_pattern is not None else None
        want = method.upper() if method is not None else None
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (want is None or r.method == want) and (pattern is None or pattern.fullmatch(r.path) is not None)
            )

    def reset_log(self) -> None:
        """Forget the recorded requests (the :attr:`requests` list is cleared in place)."""
        with self._lock:
            self.requests.clear()

    # ------------------------------------------------------------------ request pipeline (server side)

    def _record_and_take_fault(self, req: RecordedRequest) -> Fault | None:
        with self._lock:
            self.requests.append(req)
            for scripted in self._scripts:
                if scripted.method not in ("*", req.method):
                    continue
                if scripted.pattern.fullmatch(req.path) is None:
                    continue
                fault = scripted.faults.popleft()
                if not scripted.faults:
                    self._scripts.remove(scripted)
                return fault
        return None

    def _handle(self, req: RecordedRequest, json_body: JSON, malformed_json: bool) -> _Response:
        route_path = req.path
        if len(route_path) > 1 and route_path.endswith("/"):
            route_path = route_path[:-1]
        for method, pattern, handler, needs_auth in _ROUTES:
            match = pattern.fullmatch(route_path)
            if match is None or method != req.method:
                continue
            if malformed_json:
                return _error(400, "Request body is not valid JSON")
            with self._lock:
                if needs_auth:
                    if not self._authorized(req.headers.get("authorization")):
                        return _error(401, "Unauthorized")
                    if match.re.groups and unquote(match.group(1)) not in self._projects:
                        return _error(404, "Project not found")
                groups = tuple(unquote(g) for g in match.groups())
                return handler(self, _Ctx(groups, req.query, json_body))
        return _error(404, f"Cannot {req.method} {req.path}")

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, token = header.strip().partition(" ")
        return scheme.lower() == "bearer" and token.strip() in self._live_tokens

    # ------------------------------------------------------------------ rendering

    def _render_integration(self, record: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": record["id"],
            "projectId": record["projectId"],
            "type": record["type"],
            "isActive": record["isActive"],
            "customIntegrationId": None,
            "customIntegration": None,
            "connectedUserCount": 0,
            "dateCreated": record["dateCreated"],
            "dateUpdated": record["dateUpdated"],
        }
        if self.list_shape == "paged":
            out["configs"] = {}
            out["resourceId"] = None
        return out

    @staticmethod
    def _render_credential(record: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in record.items() if k != "values"}

    # ------------------------------------------------------------------ route handlers (lock held)

    def _login(self, ctx: _Ctx) -> _Response:
        body = ctx.body
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("username"), str)
            or not isinstance(body.get("password"), str)
        ):
            return _error(
                400,
                "username and password are required",
                ["username must be a string", "password must be a string"],
            )
        email, password = body["username"], body["password"]
        if self._users.get(email) != password:
            return _error(401, "Invalid email or password")
        token = _make_jwt(email)
        self._live_tokens.add(token)
        return _Response(201, {"accessToken": token})

    def _list_integrations(self, ctx: _Ctx) -> _Response:
        records = list(self._projects[ctx.groups[0]].values())
        if self.list_shape == "bare":
            return _Response(200, [self._render_integration(r) for r in records])
        size = self.page_size
        if "size" in ctx.query:
            try:
                size = int(ctx.query["size"])
            except ValueError:
                size = 0
            if size < 1:
                return _error(400, "size must be a positive integer")
        offset = 0
        if ctx.query.get("cursor"):
            decoded = _decode_cursor(ctx.query["cursor"])
            if decoded is None or decoded > len(records):
                return _error(400, "Invalid cursor")
            offset = decoded
        page = records[offset : offset + size]
        end = offset + len(page)
        next_cursor = _encode_cursor(end) if end < len(records) else None
        return _Response(
            200,
            {"items": [self._render_integration(r) for r in page], "nextPageCursor": next_cursor},
        )

    def _get_integration(self, ctx: _Ctx) -> _Response:
        project_id, integration_id = ctx.groups
        record = self._projects[project_id].get(integration_id)
        if record is None:
            return _error(404, "Integration not found")
        return _Response(200, self._render_integration(record))

    def _patch_integration(self, ctx: _Ctx) -> _Response:
        project_id, integration_id = ctx.groups
        record = self._projects[project_id].get(integration_id)
        if record is None:
            return _error(404, "Integration not found")
        body = ctx.body
        if not isinstance(body, dict) or not isinstance(body.get("isActive"), bool):
            return _error(400, "isActive must be a boolean value")
        record["isActive"] = body["isActive"]
        record["dateUpdated"] = _now_iso()
        return _Response(200, self._render_integration(record))

    def _put_oauth(self, ctx: _Ctx) -> _Response:
        project_id = ctx.groups[0]
        body = ctx.body
        if not isinstance(body, dict):
            return _error(400, "Request body must be a JSON object")
        errors = [f"property {k} should not exist" for k in body if k not in _PUT_OAUTH_KEYS]
        for key in ("name", "provider"):
            if not isinstance(body.get(key), str) or not body[key]:
                errors.append(f"{key} must be a non-empty string")
        if body.get("scheme") != _OAUTH_SCHEME:
            errors.append(f"scheme must be one of the following values: {_OAUTH_SCHEME}")
        integration_id = body.get("integrationId")
        if not isinstance(integration_id, str):
            errors.append("integrationId must be a string")
        elif integration_id not in self._projects[project_id]:
            errors.append(f"Integration {integration_id} not found in project")
        elif body.get("provider") != self._projects[project_id][integration_id]["type"]:
            errors.append(
                f"provider must be the integration's type ({self._projects[project_id][integration_id]['type']})"
            )
        values = body.get("values")
        if not isinstance(values, dict):
            errors.append("values must be an object")
        else:
            for key in ("clientId", "clientSecret"):
                if not isinstance(values.get(key), str) or not values[key]:
                    errors.append(f"values.{key} must be a non-empty string")
            if not isinstance(values.get("scopes"), str):
                errors.append("values.scopes must be a string")
            errors += [f"values.{k} must be a string" for k, v in values.items() if not isinstance(v, str)]
        if errors:
            return _error(400, errors[0], errors)

        assert isinstance(integration_id, str) and isinstance(values, dict)
        now = _now_iso()
        existing = next(
            (
                r
                for r in self.credentials.values()
                if r["projectId"] == project_id
                and r["integrationId"] == integration_id
                and r["scheme"] == _OAUTH_SCHEME
            ),
            None,
        )
        if existing is None:
            existing = {
                "id": str(uuid.uuid4()),
                "projectId": project_id,
                "integrationId": integration_id,
                "provider": body["provider"],
                "scheme": _OAUTH_SCHEME,
                "name": body["name"],
                "status": "VALID",
                "onboardingOnly": False,
                "dateCreated": now,
                "dateUpdated": now,
                "dateRefreshed": now,
                "dateValidUntil": None,
                "values": copy.deepcopy(values),
            }
            self.credentials[existing["id"]] = existing
        else:
            existing.update(
                provider=body["provider"],
                name=body["name"],
                status="VALID",
                dateUpdated=now,
                dateRefreshed=now,
                values=copy.deepcopy(values),
            )
        if self.after_put is not None:
            self.after_put(existing)
        return _Response(200, self._render_credential(existing))

    def _list_credentials(self, ctx: _Ctx) -> _Response:
        project_id = ctx.groups[0]
        return _Response(
            200,
            [self._render_credential(r) for r in self.credentials.values() if r["projectId"] == project_id],
        )

    def _find_credential(self, project_id: str, credential_id: str) -> dict[str, Any] | None:
        record = self.credentials.get(credential_id)
        if record is None or record["projectId"] != project_id:
            return None
        return record

    def _decrypted(self, ctx: _Ctx) -> _Response:
        record = self._find_credential(*ctx.groups)
        if record is None:
            return _error(404, "Credential not found")
        keys = ("id", "projectId", "integrationId", "provider", "scheme", "status")
        out: dict[str, Any] = {k: record[k] for k in keys}
        out["values"] = copy.deepcopy(record["values"])
        return _Response(200, out)

    def _delete_credential(self, ctx: _Ctx) -> _Response:
        record = self._find_credential(*ctx.groups)
        if record is None:
            return _error(404, "Credential not found")
        del self.credentials[record["id"]]
        return _Response(200, {})


def _encode_cursor(offset: int) -> str:
    return _b64url(f"offset:{offset}".encode())


def _decode_cursor(cursor: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    prefix, _, number = raw.partition(":")
    if prefix != "offset" or not number.isdigit():
        return None
    return int(number)


_P = r"/projects/([^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], _RouteHandler, bool]] = [
    ("POST", re.compile(r"/auth/login/email"), FakeParagon._login, False),
    ("GET", re.compile(_P + r"/integrations"), FakeParagon._list_integrations, True),
    ("GET", re.compile(_P + r"/integrations/([^/]+)"), FakeParagon._get_integration, True),
    ("PATCH", re.compile(_P + r"/integrations/([^/]+)"), FakeParagon._patch_integration, True),
    ("PUT", re.compile(_P + r"/credentials/oauth"), FakeParagon._put_oauth, True),
    ("GET", re.compile(_P + r"/credentials"), FakeParagon._list_credentials, True),
    ("GET", re.compile(_P + r"/credentials/([^/]+)/decrypted"), FakeParagon._decrypted, True),
    ("DELETE", re.compile(_P + r"/credentials/([^/]+)"), FakeParagon._delete_credential, True),
]


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks its connections and handler threads so stop() can end them."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], fake: FakeParagon) -> None:
        self.fake = fake
        self._track_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._handler_threads: list[threading.Thread] = []
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self.process_request_thread, args=(request, client_address), daemon=True)
        with self.fake._lock:
            self.fake.connections += 1
        with self._track_lock:
            self._handler_threads = [t for t in self._handler_threads if t.is_alive()]
            self._handler_threads.append(thread)
            self._connections.add(request)
        thread.start()

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Serve one connection, after a TLS handshake when the fake has a TLS context (in the handler thread)."""
        tls = self.fake.tls
        if tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(5.0)  # a client that never finishes the handshake does not pin the thread
        try:
            secure = tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            with self.fake._lock:  # the client refused our certificate (the point of some tests) or went away
                self.fake.tls_refusals += 1
            return
        secure.settimeout(None)
        with self._track_lock:  # stop() must shut down the socket the handler actually reads from
            self._connections.discard(request)
            self._connections.add(secure)
        try:
            super().finish_request(secure, client_address)
        finally:
            with self._track_lock:
                self._connections.discard(secure)
            secure.close()

    def shutdown_request(self, request: Any) -> None:
        with self._track_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet; a client hanging up mid-response is normal, anything else is kept for tests."""
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, OSError):
            with self.fake._lock:
                self.fake.server_errors.append(exc)

    def close_connections(self) -> None:
        """Shut down every open client connection, waking handlers blocked on keep-alive reads."""
        with self._track_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join_handlers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._track_lock:
            threads = list(self._handler_threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class _BadRequest(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "FakeParagon/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet (requests may carry secrets; tests want clean output)."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    @property
    def _fake(self) -> FakeParagon:
        return cast(_Server, self.server).fake

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError as exc:
                    raise _BadRequest("bad chunk size") from exc
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError as exc:
            raise _BadRequest("bad Content-Length") from exc
        if n < 0:
            raise _BadRequest("bad Content-Length")
        return self.rfile.read(n) if n else b""

    def _dispatch(self) -> None:
        fake = self._fake
        try:
            raw = self._read_body()
        except _BadRequest as exc:
            self.close_connection = True
            self._send(400, _json_bytes(_error_body(str(exc))), {"Connection": "close"})
            return

        split = urlsplit(self.path)
        parsed: JSON = None
        parses = False
        if raw:
            try:
                parsed = jsonlib.loads(raw)
                parses = True
            except ValueError:
                parsed = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = RecordedRequest(
            method=self.command.upper(),
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers=headers,
            json=parsed,
            body=raw,
        )

        extra_headers: dict[str, str] = {}
        trickle = 0.0
        fault = fake._record_and_take_fault(req)
        if fault is not None:
            if fault.delay > 0 and fake._stopping.wait(fault.delay):
                self._drop()
                return
            if fault.drop:
                self._drop()
                return
            if not fault.passes_through:
                hdrs = {"Content-Type": fault.content_type}
                hdrs.update(fault.headers)
                self._send(fault.status, fault.render_body(), hdrs, fault.trickle)
                return
            extra_headers = dict(fault.headers)
            trickle = fault.trickle

        is_json = headers.get("content-type", "").split(";", 1)[0].strip().lower() == "application/json"
        json_body = parsed if is_json and parses else None
        malformed = is_json and bool(raw.strip()) and not parses
        try:
            response = fake._handle(req, json_body, malformed)
            status, body = response.status, response.encode()
        except Exception as exc:  # noqa: BLE001 - a bug in the fake must surface, not hang the client
            with fake._lock:
                fake.server_errors.append(exc)
            status, body = 500, _json_bytes(_error_body("Internal server error (fake)"))
        hdrs = {"Content-Type": "application/json; charset=utf-8"}
        hdrs.update(extra_headers)
        self._send(status, body, hdrs, trickle)

    def _send(self, status: int, body: bytes, headers: dict[str, str], trickle: float = 0.0) -> None:
        if trickle > 0:
            self._trickle(status, body, headers, trickle)
            return
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self, status: int, body: bytes, headers: dict[str, str], interval: float) -> None:
        """Write the whole response one byte at a time, ``interval`` seconds apart; stop when the fake stops."""
        head = f"HTTP/1.1 {status} {_reason(status)}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head += f"Content-Length: {len(body)}\r\n\r\n"
        raw = head.encode("latin-1") + body
        self.close_connection = True
        for index in range(len(raw)):
            if self._fake._stopping.wait(interval):
                self._drop()
                return
            self.wfile.write(raw[index : index + 1])

    def _drop(self) -> None:
        """Close the connection without writing a status line."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
