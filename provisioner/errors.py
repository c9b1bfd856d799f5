"""Every error the provisioner raises, in one tree::

    ProvisionerError                    base: catch this to catch everything below
    ├── ConfigError                     bad config/<stack>.yaml (file, key path, rule, fix); raised before
    │                                   any resource is declared
    ├── MissingScopeError (entra.py)    at deploy: the resource API's service principal lacks a scope
    │                                   (also a pulumi.RunError: one line in `pulumi up`, no traceback)
    ├── ImportNotSupported (paragon/resource.py)  Read without inputs: `pulumi import` does not apply
    ├── StackFileError (stackfile.py)   which YAML configures which stack cannot be decided (usage: exit 2)
    ├── DiffInputError (diff.py)        a file given to `diff` is not a readable plan document
    └── ParagonError                    anything on the way to Paragon's API
        ├── ParagonLoginMissing         no PARAGON_ACCESS_TOKEN and no PARAGON_EMAIL + PARAGON_PASSWORD
        ├── ParagonTransportError       base URL unreachable, connection dropped (after retries)
        │   ├── ParagonTimeout          connect/read timeout (after retries), or the call's time budget spent
        │   └── ParagonTLSError         the server's certificate is not trusted; never retried
        ├── ParagonResponseError        a 2xx whose body is not the JSON shape paragon-api.md describes
        ├── IntegrationNotInProject     the integration has not been added to the Paragon project
        └── ParagonAPIError             an HTTP error status; carries method, path, status, server message
            ├── ParagonAuthError        401/403: login refused, or token not accepted after one re-login
            ├── ParagonNotFound         404 (project or object not found)
            ├── ParagonInvalidRequest   other 4xx: the request was wrong; never retried
            ├── ParagonRateLimited      429 after the retry budget ran out
            └── ParagonServerError      5xx, 408 or 409 after the retry budget ran out

Messages never contain a secret, a token, a password or a request body: API errors carry only the method,
the URL path, the status and Paragon's own (scrubbed, truncated) message. `error_for_status` is the one
place that maps a status code to a class.
"""

from __future__ import annotations


class ProvisionerError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(ProvisionerError):
    """One or more problems in a config file, each a line ``file:line: key.path: rule. Fix: ...``.

    Attributes:
        problems: The individual one-line messages, in file order.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


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
