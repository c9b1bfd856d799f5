"""Recognise secrets pasted into a config file, without ever showing them.

Two independent signals, each enough to refuse a file:

* a key whose name says it holds a secret: ``client_secret``, ``clientSecret``, ``password``, ``token``,
  ``api_key``, ``secret_value``, ... at any depth (the words of the name are compared, so camelCase,
  snake_case and kebab-case all count). Keys of the config model itself (``secret:`` the rotation policy,
  ``requested_access_token_version``) are never flagged, except ``secret:`` holding a plain value.
* a value shaped like a credential, under any key: an Entra client secret (the current format, 40
  characters with ``Q~`` after the first four, as GitHub secret scanning and Microsoft document it) or a
  JSON Web Token (three base64url parts, the first two JSON objects starting ``eyJ``).

The messages built from these never contain the value.
"""

from __future__ import annotations

import re
from typing import Final

SECRET_WORDS: Final = frozenset(
    {"secret", "secrets", "password", "passwords", "passwd", "pwd", "passphrase", "token", "tokens", "apikey"}
)
"""A word in a key name that marks the key as holding a secret."""
_KEY_QUALIFIERS: Final = frozenset({"api", "private", "client", "access", "signing", "shared", "secret"})
"""Words that make a following ``key`` a secret key (``api_key``, ``private_key``)."""

_ENTRA_CLIENT_SECRET: Final = re.compile(r"(?<![\w~.\-])[A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}(?![\w~.\-])")
_JWT: Final = re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")

SECRETS_ADVICE: Final = (
    "delete it (and rotate it if it was ever committed); the client secret is created and rotated by "
    "the provisioner, and the Paragon login goes in PARAGON_* environment variables or "
    "`pulumi config set --secret` (README.md, Real use, step 3)"
)
"""The Fix: text of every secret refusal."""


def key_words(name: str) -> list[str]:
    """Split a key name into lower-case words: ``clientSecret`` / ``client-secret`` -> ``[client, secret]``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def is_secret_key(name: str) -> bool:
    """True when the key's name says it holds a secret (see the module docstring)."""
    words = key_words(name)
    if any(w in SECRET_WORDS for w in words):
        return True
    joined = "".join(words)
    if joined in {"apikey", "privatekey", "clientkey", "accesskey", "signingkey", "sharedkey"}:
        return True
    return any(w == "key" and i > 0 and words[i - 1] in _KEY_QUALIFIERS for i, w in enumerate(words))


def looks_like_secret_value(text: str) -> bool:
    """True when the text contains something shaped like an Entra client secret or a JWT."""
    return bool(_ENTRA_CLIENT_SECRET.search(text) or _JWT.search(text))
