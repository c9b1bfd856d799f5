"""Every error the provisioner raises, in one tree::

    ProvisionerError                    base: catch this to catch everything below
    ├── ConfigError                     bad config/<stack>.yaml: a list of `Problem` records (file, line,
    │                                   key path, rule, fix); raised before any resource is declared
    ├── InvalidEnvironmentValue         a PARAGON_* variable or secret stack config value holds control characters
    ├── MissingScopeError (entra.py)    at deploy: the resource API's service principal lacks a scope
    │                                   (also a pulumi.RunError: one line in `pulumi up`, no traceback)
    ├── ImportNotSupported (paragon/resource.py)  Read without inputs: `pulumi import` does not apply
    ├── StackFileError (stackfile.py)   which YAML configures which stack cannot be decided (usage: exit 2)
    ├── DiffInputError (diff.py)        a file given to `diff` is not a readable plan document
    ├── EntraError                      a token request proving an app's client secret did not succeed
    │   ├── SecretRefused               Entra refused it (an AADSTS code), after retrying the codes that heal
    │   └── EntraUnavailable            no answer from Entra's token endpoint within the window
    │       └── EntraTLSError           its certificate is not trusted; never retried
    ├── ParagonError                    anything on the way to Paragon's API
    │   ├── ParagonLoginMissing         no PARAGON_ACCESS_TOKEN and no PARAGON_EMAIL + PARAGON_PASSWORD
    │   ├── ParagonTransportError       base URL unreachable, connection dropped (after retries)
    │   │   ├── ParagonTimeout          connect/read timeout (after retries), or the call's time budget spent
    │   │   └── ParagonTLSError         the server's certificate is not trusted; never retried
    │   ├── ParagonResponseError        a 2xx whose body is not the JSON shape paragon-api.md describes
    │   ├── IntegrationNotInProject     the integration has not been added to the Paragon project
    │   ├── ReadBackMismatch            after a push, Paragon holds other values than were pushed
    │   └── ParagonAPIError             an HTTP error status; carries method, path, status, server message
    │       ├── ParagonAuthError        401/403: login refused, or token not accepted after one re-login
    │       ├── ParagonNotFound         404 (project or object not found)
    │       ├── ParagonInvalidRequest   other 4xx: the request was wrong; never retried
    │       ├── ParagonRateLimited      429 after the retry budget ran out
    │       └── ParagonServerError      5xx, 408 or 409 after the retry budget ran out
    └── GraphError                      anything on the way to Microsoft Graph (read-only, provisioner/graph/)
        ├── GraphSignInError            no usable Azure sign-in, or its token request failed
        ├── GraphTransportError         Graph unreachable, connection dropped (after retries)
        │   ├── GraphTimeout            timeouts after retries, or the call's time budget spent
        │   └── GraphTLSError           Graph's certificate is not trusted; never retried
        ├── GraphResponseError          a 2xx whose body is not the JSON shape Graph documents
        └── GraphAPIError               an HTTP error status; carries method, path, status, Graph's error code
            ├── GraphUnauthorized       401 even with a fresh token
            ├── GraphForbidden          403: carries the Graph permission(s) the read needs
            ├── GraphNotFound           404 (no such application, service principal, ...)
            ├── GraphInvalidRequest     other 4xx; never retried
            ├── GraphRateLimited        429 after the retry budget ran out
            └── GraphServerError        5xx or 408 after the retry budget ran out

Messages never contain a secret, a token, a password or a request body: API errors carry only the method,
the URL path, the status and Paragon's own (scrubbed, truncated) message. `error_for_status` is the one
place that maps a status code to a class.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

Severity = Literal["error", "warning"]

_LINE = re.compile(r"^(?P<file>[^\n]+?)(?::(?P<line>\d+))?: (?P<rest>.*)$", re.DOTALL)


_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
"""Unicode categories never shown raw: controls (newline, ESC), format characters (bidi overrides such as
U+202E, zero-width spaces) and line/paragraph separators."""


def control_characters(text: str) -> list[str]:
    """The distinct control, format and line-separator characters in ``text``, in order of appearance."""
    if text.isprintable():  # fast path: no Cc/Cf/Zl/Zp character can be in a printable string
        return []
    return list(dict.fromkeys(ch for ch in text if unicodedata.category(ch) in _CONTROL_CATEGORIES))


def escape_char(char: str) -> str:
    """One character as a Python-style escape: ``\\x1b``, ``\\u202e``, ``\\U000e0001``."""
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape_controls(text: str) -> str:
    """``text`` with every control, format and line-separator character written as an escape (`escape_char`),
    so a message built from it stays on one line and carries no terminal escape or bidi override."""
    found = control_characters(text)
    for char in found:
        text = text.replace(char, escape_char(char))
    return text


class ProvisionerError(Exception):
    """Base class of every error this package raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem (or warning) found in a config file, as a record.

    ``str()`` gives the one-line form ``file:line: key.path: message. Fix: fix`` (a warning reads
    ``file:line: key.path: warning: message. Fix: fix``); parts that are empty are left out.

    Attributes:
        file: The file, as given to the loader.
        line: 1-based line, or None when the problem concerns the whole file.
        key: Dotted key path such as ``integrations.powerbi.scopes[1]``; empty for the whole file.
        message: What is wrong, without a trailing period. Never contains a secret value.
        fix: What to do, without a trailing period; may be empty.
        severity: ``error`` (the config is refused) or ``warning`` (accepted, but worth a look).
    """

    file: str
    line: int | None
    key: str
    message: str
    fix: str = ""
    severity: Severity = "error"

    def __str__(self) -> str:
        head = escape_controls(self.file) + (f":{self.line}" if self.file and self.line is not None else "")
        text = self.message.rstrip(". ")
        if self.severity == "warning":
            text = f"warning: {text}"
        if self.fix:
            text += f". Fix: {self.fix.rstrip('. ')}"
        # Belt and braces: whatever a key or value echoed, the line stays one line without terminal escapes.
        return ": ".join(part for part in (head, escape_controls(self.key), escape_controls(text)) if part)

    @property
    def sort_key(self) -> tuple[str, int]:
        """Order of reporting: by file, then line (whole-file problems first)."""
        return (self.file, self.line or 0)

    @classmethod
    def parse(cls, text: str) -> Problem:
        """A record from a one-line message in the ``file:line: rest. Fix: fix`` form (key left in the message)."""
        match = _LINE.match(text)
        if match is None:
            return cls(file="", line=None, key="", message=text)
        message, _, fix = match["rest"].partition(". Fix: ")
        line = int(match["line"]) if match["line"] else None
        return cls(file=match["file"], line=line, key="", message=message, fix=fix)


class ConfigError(ProvisionerError):
    """One or more problems in a config file, each a line ``file:line: key.path: rule. Fix: ...``.

    Args:
        problems: `Problem` records, or one-line strings (parsed with `Problem.parse`).

    Attributes:
        records: The problems as `Problem` records, sorted by file and line (stable).
        problems: The same, as one-line strings (``str`` of each record), in the same order.
    """

    def __init__(self, problems: Iterable[Problem | str]) -> None:
        records = [p if isinstance(p, Problem) else Problem.parse(p) for p in problems]
        self.records = sorted(records, key=lambda p: p.sort_key)
        self.problems = [str(p) for p in self.records]
        super().__init__("\n".join(self.problems))


class InvalidEnvironmentValue(ProvisionerError):
    """A ``PARAGON_*`` environment variable or secret stack config value is unusable (names it, never its value)."""


class EntraError(ProvisionerError):
    """A client-credentials token request for an app's own secret (`provisioner.entra`) did not succeed."""


class SecretRefused(EntraError):
    """Entra refused the client secret (or the app): an AADSTS code that did not heal within the window.

    Attributes:
        code: Entra's AADSTS error code (e.g. 7000215), or None when the answer carried none.
        attempts: Token requests made.
    """

    def __init__(self, message: str, code: int | None, attempts: int) -> None:
        self.code = code
        self.attempts = attempts
        super().__init__(message)


class EntraUnavailable(EntraError):
    """No usable answer from Entra's token endpoint (network, 5xx, timeouts) within the window."""


class EntraTLSError(EntraUnavailable):
    """The authority host's TLS certificate could not be verified; never retried."""


class ParagonError(ProvisionerError):
    """Base class for failures talking to Paragon."""


class ParagonLoginMissing(ParagonError):
    """No Paragon login in the environment or in secret stack config."""


class ParagonTransportError(ParagonError):
    """The request never got an HTTP answer (DNS, refused or dropped connection), after retries."""


class ParagonTimeout(ParagonTransportError):
    """Connect, read or write timeout, after retries."""


class ParagonTLSError(ParagonTransportError):
    """The TLS certificate of the Paragon host could not be verified (untrusted CA, wrong host name, expired)."""


class ParagonResponseError(ParagonError):
    """A success status whose body is not the JSON shape expected from that endpoint."""


class IntegrationNotInProject(ParagonError):
    """The integration (e.g. ``powerbi``) is not added to the Paragon project yet."""


class ReadBackMismatch(ParagonError):
    """Read back right after a push, Paragon holds another client ID, other scopes or another secret."""


class ParagonAPIError(ParagonError):
    """Paragon answered with an error status.

    Attributes:
        method: HTTP method, e.g. ``PUT``.
        path: URL path without host or query, e.g. ``/projects/<id>/credentials/oauth``.
        status: HTTP status code.
        server_message: Paragon's ``message`` (and ``meta.errors``), scrubbed and truncated; may be empty.
    """

    def __init__(self, method: str, path: str, status: int, server_message: str, hint: str = "") -> None:
        self.method = method
        self.path = path
        self.status = status
        self.server_message = server_message
        text = f"Paragon {method} {path} answered {status}"
        if server_message:
            text += f": {server_message}"
        if hint:
            text += f". {hint}"
        super().__init__(text)


class ParagonAuthError(ParagonAPIError):
    """401/403: the login was refused, or the token was rejected even after one re-login."""


class ParagonNotFound(ParagonAPIError):
    """404: the project, integration or credential does not exist."""


class ParagonInvalidRequest(ParagonAPIError):
    """A 4xx meaning the request itself is wrong (400, 422, ...); never retried."""


class ParagonRateLimited(ParagonAPIError):
    """429 that persisted beyond the retry budget."""


class ParagonServerError(ParagonAPIError):
    """5xx (or 408/409) that persisted beyond the retry budget."""


def error_for_status(status: int) -> type[ParagonAPIError]:
    """Map an HTTP error status to its exception class (the only such mapping in the package)."""
    if status in (401, 403):
        return ParagonAuthError
    if status == 404:
        return ParagonNotFound
    if status == 429:
        return ParagonRateLimited
    if status >= 500 or status in (408, 409):
        return ParagonServerError
    return ParagonInvalidRequest


README_LOGIN: Final = "README.md, section Real use: `pulumi up`, Give the provisioner a Paragon login"
"""Where messages send a reader about the Paragon login (a section name: step numbers move)."""
README_ENTRA_SIGN_IN: Final = "README.md, section Real use: `pulumi up`, Sign in to Entra ID"
"""Where messages send a reader about signing in to Entra ID for the azuread provider."""


class GraphError(ProvisionerError):
    """Base class for failures reading Microsoft Graph."""


class GraphSignInError(GraphError):
    """No usable Azure sign-in, or acquiring a Graph token with it failed (the message names the sign-in)."""


class GraphTransportError(GraphError):
    """The request never got an HTTP answer (DNS, refused or dropped connection), after retries."""


class GraphTimeout(GraphTransportError):
    """Connect, read or write timeout after retries, or the call's deadline passed."""


class GraphTLSError(GraphTransportError):
    """The TLS certificate of the Graph host could not be verified; never retried."""


class GraphResponseError(GraphError):
    """A success status whose body is not the JSON shape Graph documents for that endpoint."""


class GraphAPIError(GraphError):
    """Microsoft Graph answered with an error status (body ``{"error": {"code": ..., "message": ...}}``).

    Attributes:
        method: Always ``GET`` (the reader never writes).
        path: URL path without host or query, e.g. ``/applications(appId='...')``.
        status: HTTP status code.
        code: Graph's ``error.code`` (e.g. ``Authorization_RequestDenied``); may be empty.
        server_message: Graph's ``error.message``, scrubbed and truncated; may be empty.
    """

    def __init__(self, method: str, path: str, status: int, code: str, server_message: str, hint: str = "") -> None:
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.server_message = server_message
        text = f"Microsoft Graph {method} {path} answered {status}"
        detail = ": ".join(part for part in (code, server_message) if part)
        if detail:
            text += f" ({detail})"
        if hint:
            text += f". {hint}"
        super().__init__(escape_controls(text))


class GraphUnauthorized(GraphAPIError):
    """401 even after a fresh token: the token is not accepted by this Graph endpoint (wrong cloud or tenant?)."""


class GraphForbidden(GraphAPIError):
    """403 (``Authorization_RequestDenied``, insufficient privileges): the identity lacks a Graph permission.

    Attributes:
        permissions: The least-privileged Graph permission(s) this read needs, e.g. ``("Policy.Read.All",)``,
            so callers can say "skipped: needs Policy.Read.All".
    """

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        code: str,
        server_message: str,
        permissions: tuple[str, ...] = (),
    ) -> None:
        self.permissions = permissions
        hint = f"This read needs the Microsoft Graph permission {' and '.join(permissions)}" if permissions else ""
        super().__init__(method, path, status, code, server_message, hint)

    @property
    def needs(self) -> str:
        """The permissions as one phrase, e.g. ``Policy.Read.All and Application.Read.All``."""
        return " and ".join(self.permissions)


class GraphNotFound(GraphAPIError):
    """404: the application, service principal or policy does not exist (``Request_ResourceNotFound``)."""


class GraphInvalidRequest(GraphAPIError):
    """A 4xx meaning the request itself is wrong (400, ...); never retried."""


class GraphRateLimited(GraphAPIError):
    """429 that persisted beyond the retry budget."""


class GraphServerError(GraphAPIError):
    """5xx (or 408) that persisted beyond the retry budget."""
