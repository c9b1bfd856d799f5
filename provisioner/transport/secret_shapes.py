"""Text shaped like a credential: recognised in config files (`provisioner.config.secret_guard`) and scrubbed
from every message shown (`provisioner.transport.scrub.scrub_message`). The one list of secret shapes.

* an Entra client secret in the current format: 40 characters with ``Q~`` after the first four, as GitHub
  secret scanning and Microsoft document it;
* a JSON Web Token: three base64url parts, the first starting ``eyJ`` (a JSON object);
* an HTTP ``Authorization`` value: ``Bearer <token>``, ``Basic <base64>``;
* a connection string carrying a credential: ``Password=``, ``Pwd=``, ``AccountKey=``, ``SharedAccessKey=``,
  ``SharedAccessSignature=`` (Azure Storage and Service Bus connection strings);
* a SAS query signature (``?sig=…`` / ``&sig=…``);
* a URL holding a password (``https://user:password@host``).

Where a shape has a ``value`` group, only that part is the secret (``Bearer [redacted]``); otherwise the whole
match is.
"""

from __future__ import annotations

import re
from typing import Final

REDACTED: Final = "[redacted]"
"""What a scrubbed secret is replaced by."""

ENTRA_CLIENT_SECRET: Final = re.compile(r"(?<![\w~.\-])[A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}(?![\w~.\-])")
JWT: Final = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
CREDENTIAL_SHAPES: Final = re.compile(
    r"\bbearer\s+(?P<bearer>[A-Za-z0-9._~+/=-]{16,})"  # an Authorization header value
    r"|\bbasic\s+(?P<basic>(?-i:(?=[A-Za-z0-9+/]*(?:\d|[a-z][A-Z]|[+/])))[A-Za-z0-9+/]{8,}={0,2})"  # not a word
    r"|(?:^|[;\s])(?:password|pwd|accountkey|sharedaccesskey|sharedaccesssignature)\s*=\s*(?P<conn>[^;\s]+)"
    r"|[?&]sig=(?P<sig>[A-Za-z0-9%/+=_-]{10,})"  # a SAS signature
    r"|://[^/\s:@]+:(?P<userinfo>[^/\s@]+)@",  # a URL holding a password
    re.IGNORECASE,
)
SECRET_SHAPES: Final = (ENTRA_CLIENT_SECRET, JWT, CREDENTIAL_SHAPES)
"""Every shape, in the order they are scrubbed."""


def looks_like_secret(text: str) -> bool:
    """True when ``text`` contains anything shaped like a credential (see the module docstring)."""
    return any(shape.search(text) for shape in SECRET_SHAPES)


def _redact(match: re.Match[str]) -> str:
    named = [name for name, value in match.groupdict().items() if value is not None]
    if not named:
        return REDACTED
    start, end = match.span(named[0])
    whole_start = match.start()
    text = match.group(0)
    return text[: start - whole_start] + REDACTED + text[end - whole_start :]


def scrub_shapes(text: str) -> str:
    """``text`` with every credential-shaped part replaced by `REDACTED` (the secret part only, where the shape
    says which: ``Bearer [redacted]``)."""
    for shape in SECRET_SHAPES:
        text = shape.sub(_redact, text)
    return text
