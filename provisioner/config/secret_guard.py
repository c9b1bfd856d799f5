"""Recognise secrets pasted into a config file, without ever showing them.

Two independent signals, each enough to refuse a file:

* a key whose name says it holds a secret: ``client_secret``, ``clientSecret``, ``password``, ``pass``,
  ``pw``, ``token``, ``api_key``, ``authorization``, ``auth``, ``bearer``, ``pat`` (personal access token),
  ``sas`` (shared access signature), ``connectionString``, ``secret_value``, ... at any depth (the words of the
  name are compared, so camelCase, snake_case and kebab-case all count). A name whose last word says it is
  about a secret rather than the secret itself (``secret_end_date``, ``token_url``, ``key_id``,
  ``rotation_days``, ``..._version``, ``..._name``) is not flagged. Keys of the config model itself (``secret:``
  the rotation policy, ``requested_access_token_version``) are never flagged, except ``secret:`` holding a
  plain value.
* a value shaped like a credential, under any key: an Entra client secret, a JSON Web Token, an HTTP
  ``Authorization`` value, a connection string carrying a credential, a SAS query (``sig=``) or a URL with a
  password (``https://u:p@host``): the shapes of `provisioner.transport.secret_shapes`, the same ones scrubbed
  from every message shown.

The messages built from these never contain the value.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from provisioner.errors import README_LOGIN
from provisioner.transport.secret_shapes import looks_like_secret

SECRET_WORDS: Final = frozenset(
    {
        "secret",
        "secrets",
        "password",
        "passwords",
        "passwd",
        "pwd",
        "pw",
        "pass",
        "passphrase",
        "token",
        "tokens",
        "apikey",
        "authorization",
        "auth",
        "bearer",
        "pat",
        "sas",
        "connectionstring",
        "connstr",
    }
)
"""A word in a key name that marks the key as holding a secret."""
_KEY_QUALIFIERS: Final = frozenset({"api", "private", "client", "access", "signing", "shared", "secret"})
"""Words that make a following ``key`` a secret key (``api_key``, ``private_key``)."""

_SECRET_JOINED: Final = frozenset(
    {"apikey", "privatekey", "clientkey", "accesskey", "signingkey", "sharedkey", "connectionstring", "connstring"}
)
"""Whole key names (words joined) that hold a secret."""
_ABOUT_WORDS: Final = frozenset(
    {
        "date",
        "at",
        "days",
        "day",
        "id",
        "ids",
        "name",
        "names",
        "url",
        "uri",
        "endpoint",
        "version",
        "type",
        "slot",
        "slots",
        "window",
        "generation",
        "count",
        "policy",
        "rotation",
        "expiry",
        "expires",
        "lifetime",
        "length",
        "format",
        "hint",
    }
)
"""A key name ending in one of these words is about a secret, not the secret (``secret_end_date``)."""

WHERE_SECRETS_GO: Final = (
    "the client secret is created and rotated by the provisioner, and the Paragon login goes in PARAGON_* "
    f"environment variables or `pulumi config set --secret` ({README_LOGIN})"
)
"""Where the secrets a stack needs really go (the end of every refusal's fix)."""
SECRETS_ADVICE: Final = f"delete it (and rotate it if it was ever committed); {WHERE_SECRETS_GO}"
"""The Fix: text of a refusal where a secret value was written: it may have leaked."""


class SecretKeyCase(StrEnum):
    """What a key named like a secret holds, which decides the advice (`secret_key_advice`)."""

    VALUE = "value"
    """A plain value: a secret may have been written, and committed."""
    EMPTY = "empty"
    """Nothing (``client_secret:`` alone, or ``""``): nothing leaked."""
    SETTINGS = "settings"
    """A mapping of the config's own settings (e.g. a YAML anchor holder ``x-secret-policy: &p {rotation_days:
    30}``): named like a secret, holding none."""
    UNKNOWN = "unknown"
    """A mapping or list holding anything else: it may hold a secret."""


def secret_key_advice(case: SecretKeyCase, dashboard_setting: str | None = None) -> tuple[str, str]:
    """Message and fix for a key named like a secret, by what it holds. Never names the value.

    Args:
        case: What the key holds.
        dashboard_setting: ``the <setting> of <integration title>`` when the key is one of an integration's secret
            Paragon settings (the Teams bot secret): those are entered in Paragon's dashboard by hand.
    """
    if case is SecretKeyCase.EMPTY:
        return "this key is named like a secret but is empty; secrets never go in this file", "remove the line"
    if case is SecretKeyCase.SETTINGS:
        return (
            "this key is named like a secret but holds settings, not a secret; it is not a config key",
            "remove it, and write the settings where they apply (YAML anchors are not supported; to share a secret "
            "policy, put it under integration_defaults.secret in defaults.yaml)",
        )
    where = (
        f"enter {dashboard_setting} in Paragon's dashboard instead (docs/integrations.md)"
        if dashboard_setting
        else WHERE_SECRETS_GO
    )
    held = "it" if case is SecretKeyCase.VALUE else "what it holds"
    return (
        "this key looks like it holds a secret; secrets never go in this file",
        f"delete {held} (and rotate it if it was ever committed); {where}",
    )


def key_words(name: str) -> list[str]:
    """Split a key name into lower-case words: ``clientSecret`` / ``client-secret`` -> ``[client, secret]``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def is_secret_key(name: str) -> bool:
    """True when the key's name says it holds a secret (see the module docstring)."""
    words = key_words(name)
    if not words or words[-1] in _ABOUT_WORDS:
        return False
    if any(w in SECRET_WORDS for w in words):
        return True
    joined = "".join(words)
    if joined in _SECRET_JOINED or any(joined.endswith(j) for j in _SECRET_JOINED):
        return True
    return any(w == "key" and i > 0 and words[i - 1] in _KEY_QUALIFIERS for i, w in enumerate(words))


def looks_like_secret_value(text: str) -> bool:
    """True when the text contains something shaped like a credential (see the module docstring)."""
    return looks_like_secret(text)
