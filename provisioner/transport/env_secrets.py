"""Every secret value this process holds: the one list scrubbed from every message shown (`scrub_message`).

Read from the environment at each call (values change between calls in tests, and a provider process reads its
login late), plus the values the process learnt elsewhere and `remember_secrets` was told about (the Paragon
login from secret stack config).

* **Named secrets** (`SECRET_ENV`): the Paragon login (``PARAGON_ACCESS_TOKEN``, ``PARAGON_PASSWORD``), the
  Azure sign-ins (``ARM_CLIENT_SECRET``, ``ARM_OIDC_TOKEN``, ``ARM_OIDC_REQUEST_TOKEN``,
  ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``, ``AZURE_CLIENT_SECRET``, the certificate passwords), Pulumi's
  (``PULUMI_ACCESS_TOKEN``, ``PULUMI_CONFIG_PASSPHRASE``) and Azure Pipelines' ``SYSTEM_ACCESSTOKEN``.
* **Token files** (`TOKEN_FILE_ENV`): the content of ``ARM_OIDC_TOKEN_FILE_PATH`` and
  ``AZURE_FEDERATED_TOKEN_FILE`` (a federated token), not their path.
* **The alert webhook** ``PROVISIONER_ALERT_WEBHOOK``: whoever has the URL can post, so the URL whole, its path
  and query, its password, every query value named like a secret (``sig=``, ``token=``, ``code=``…) and every
  path segment or query value of `URL_TOKEN_MIN` or more characters (Slack's path token, a Teams Workflows
  ``sig``). Its host and short words of its path (``workflows``, ``services``) are not secrets and are kept.
* **Any other variable named like a secret** (`SECRET_ENV_NAME`: ``TOKEN``, ``SECRET``, ``PASSWORD``,
  ``PASSPHRASE``, ``CREDENTIAL``, ``PRIVATE``, a ``_KEY`` suffix, ``WEBHOOK``): its value; a name ending in
  ``_FILE`` / ``_FILE_PATH`` names a file whose content is the secret; a URL value (``scheme://…``) is scrubbed
  whole, with its password and its query values named like secrets (``ACTIONS_ID_TOKEN_REQUEST_URL`` keeps
  ``https://`` readable elsewhere); any other value of a name ending in ``_PATH``, ``_DIR``, ``_ID``, ``_NAME``,
  ``_TYPE``, ``_KIND``, ``_HOST``, ``_VERSION``, ``_URL``, ``_URI`` or ``_ENDPOINT`` is about a secret, not one.

Values shorter than `MIN_SECRET_LENGTH` characters are ignored: scrubbing them would shred ordinary words.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote_plus, urlsplit

PARAGON_SECRET_ENV: Final = ("PARAGON_ACCESS_TOKEN", "PARAGON_PASSWORD")
"""The Paragon login's secrets (`provisioner.paragon.login`; a fixed interface)."""
SIGN_IN_SECRET_ENV: Final = (
    "ARM_CLIENT_SECRET",
    "ARM_OIDC_TOKEN",
    "ARM_OIDC_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ARM_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
)
"""The Azure sign-ins' secrets (the azuread provider's ``ARM_*``, azure-identity's ``AZURE_*``, GitHub's OIDC)."""
TOOL_SECRET_ENV: Final = ("PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "SYSTEM_ACCESSTOKEN")
"""Secrets of the tools around a run (Pulumi Cloud, the passphrase secrets provider, Azure Pipelines)."""
TOKEN_FILE_ENV: Final = ("ARM_OIDC_TOKEN_FILE_PATH", "AZURE_FEDERATED_TOKEN_FILE")
"""Variables naming a file whose content (a federated token) is a secret."""
WEBHOOK_ENV: Final = "PROVISIONER_ALERT_WEBHOOK"
"""The status alert's webhook URL (`provisioner.cli.alerts`): a secret as a whole and in its parts."""
SECRET_ENV: Final = (*PARAGON_SECRET_ENV, *SIGN_IN_SECRET_ENV, *TOOL_SECRET_ENV, *TOKEN_FILE_ENV, WEBHOOK_ENV)
"""Every variable known by name to hold a secret (or name a file holding one)."""

SECRET_ENV_NAME: Final = re.compile(r"TOKEN|SECRET|PASSWORD|PASSPHRASE|CREDENTIAL|PRIVATE|_KEY$|WEBHOOK", re.IGNORECASE)
"""Any other variable whose name says it holds a secret."""
_FILE_NAME: Final = re.compile(r"_FILE(_PATH)?$", re.IGNORECASE)
_ABOUT_NAME: Final = re.compile(r"_(PATH|DIR|ID|NAME|TYPE|KIND|HOST|VERSION|URL|URI|ENDPOINT)$", re.IGNORECASE)

MIN_SECRET_LENGTH: Final = 4
"""Shorter values are never scrubbed."""
URL_TOKEN_MIN: Final = 16
"""A webhook path segment or query value at least this long is taken as a token."""
TOKEN_FILE_MAX_BYTES: Final = 64 * 1024
"""Longest token file read (a federated token is a few KiB)."""
_SECRET_QUERY_KEYS: Final = frozenset(
    {"sig", "signature", "code", "key", "apikey", "api_key", "token", "access_token", "secret", "password", "pwd"}
)

_REMEMBERED: set[str] = set()
_REMEMBERED_LOCK = threading.Lock()


@dataclass(frozen=True)
class HeldSecrets:
    """The secrets to scrub.

    Attributes:
        values: Scrubbed wherever they appear, also in runs of a few characters (`provisioner.transport.scrub`).
        whole: Scrubbed only where they appear whole (URLs, whose host and scheme are not secret).
    """

    values: tuple[str, ...] = ()
    whole: tuple[str, ...] = ()


def remember_secrets(*values: str | None) -> None:
    """Add values this process holds outside the environment (the Paragon login read from secret stack config);
    every later `env_secrets` includes them."""
    with _REMEMBERED_LOCK:
        _REMEMBERED.update(v.strip() for v in values if v and len(v.strip()) >= MIN_SECRET_LENGTH)


def forget_remembered() -> None:
    """Drop what `remember_secrets` was told (tests start each case from an empty process)."""
    with _REMEMBERED_LOCK:
        _REMEMBERED.clear()


def _read_token_file(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            data = handle.read(TOKEN_FILE_MAX_BYTES)
    except (OSError, ValueError):
        return None
    return data.decode("utf-8", "replace").strip() or None


def url_secrets(url: str, *, long_parts: bool) -> HeldSecrets:
    """The secret parts of a URL (see the module docstring).

    Args:
        url: The URL as set.
        long_parts: Also every path segment and query value of `URL_TOKEN_MIN` or more characters (a webhook).
    """
    whole = [url]
    values: list[str] = []
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not parseable (a bad IPv6 host, a bad port): everything after the scheme is secret
        rest = url.split("://", 1)[-1]
        return HeldSecrets(values=(rest,), whole=(url,))
    if password:
        values.append(password)
    query, fragment = f"?{parts.query}" if parts.query else "", f"#{parts.fragment}" if parts.fragment else ""
    after_host = parts.path + query + fragment
    if len(after_host) >= MIN_SECRET_LENGTH:
        whole.append(after_host)
    for pair in parts.query.split("&"):
        key, _, raw = pair.partition("=")
        named = unquote_plus(key).strip().lower() in _SECRET_QUERY_KEYS
        for value in {raw, unquote_plus(raw)}:
            if (named and len(value) >= MIN_SECRET_LENGTH) or (long_parts and len(value) >= URL_TOKEN_MIN):
                values.append(value)
    if long_parts:
        values += [s for s in (*parts.path.split("/"), parts.fragment) if len(s) >= URL_TOKEN_MIN]
    return HeldSecrets(tuple(values), tuple(whole))


def _of_variable(name: str, value: str) -> HeldSecrets:
    """The secrets one variable holds (nothing when its name does not say it holds one)."""
    upper = name.upper()
    value = value.strip()
    if len(value) < MIN_SECRET_LENGTH:
        return HeldSecrets()
    if upper == WEBHOOK_ENV:
        return url_secrets(value, long_parts=True)
    if upper in TOKEN_FILE_ENV or (SECRET_ENV_NAME.search(upper) and _FILE_NAME.search(upper)):
        content = _read_token_file(value)
        return HeldSecrets(values=(content,)) if content and len(content) >= MIN_SECRET_LENGTH else HeldSecrets()
    if upper in SECRET_ENV:
        return HeldSecrets(values=(value,))
    if not SECRET_ENV_NAME.search(upper):
        return HeldSecrets()
    if "://" in value:
        return url_secrets(value, long_parts=False)
    if _ABOUT_NAME.search(upper):
        return HeldSecrets()
    return HeldSecrets(values=(value,))


def env_secrets(env: Mapping[str, str] | None = None, extra: Iterable[str] = ()) -> HeldSecrets:
    """Every secret value in ``env`` (default ``os.environ``) and the remembered ones, plus ``extra`` (the
    caller's own secrets, kept at any length).

    Never raises; a token file that cannot be read adds nothing.
    """
    env = os.environ if env is None else env
    values: dict[str, None] = dict.fromkeys(v for v in extra if v)
    whole: dict[str, None] = {}
    for name, value in list(env.items()):
        if not isinstance(value, str):
            continue
        held = _of_variable(name, value)
        values.update(dict.fromkeys(held.values))
        whole.update(dict.fromkeys(held.whole))
    with _REMEMBERED_LOCK:
        values.update(dict.fromkeys(sorted(_REMEMBERED)))
    return HeldSecrets(tuple(values), tuple(whole))


__all__ = [
    "MIN_SECRET_LENGTH",
    "SECRET_ENV",
    "SECRET_ENV_NAME",
    "WEBHOOK_ENV",
    "HeldSecrets",
    "env_secrets",
    "forget_remembered",
    "remember_secrets",
    "url_secrets",
]
