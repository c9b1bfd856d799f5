"""Value rules of the stack config, usable on their own: https URLs, Paragon's base URL, GUIDs, redirect URIs.

Each ``check_*`` returns the value (possibly normalised) or raises ``ValueError`` with a message that ends in
``Fix: ...``; pydantic turns those into `provisioner.errors.Problem` lines. Rules restated from
``shared/reference/entra-facts.md`` (Microsoft identity platform redirect URI documentation).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final
from urllib.parse import urlsplit

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_LOOPBACK_NAMES: Final = frozenset({"localhost"})


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` and loopback IP literals (``127.0.0.0/8``, ``::1``)."""
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_https_url(value: str, what: str) -> str:
    """Accept an absolute ``https://`` URL, or ``http://`` on a loopback host; return it unchanged.

    The message names ``what`` but never repeats the value (callers show it once, as written).

    Raises:
        ValueError: Not absolute, another scheme, or http on a non-loopback host.
    """
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc or not parts.hostname:
        raise ValueError(f"{what} must be an absolute URL like https://host/path. Fix: write it in full")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{what} must not contain a user name or password (user:pass@). Fix: remove them")
    if value.split(":", 1)[0] not in ("https", "http"):
        raise ValueError(f"{what} must start with lower-case https://. Fix: write https://")
    if parts.scheme == "https":
        return value
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return value
    raise ValueError(f"{what} must use https:// (http:// is allowed only for localhost/loopback). Fix: write https://")


def check_base_url(value: str, what: str) -> str:
    """Accept a Paragon API root: `check_https_url`, plus nothing an HTTP client would refuse or misroute.

    Refused: a ``?query`` or ``#fragment`` (request paths are appended to the base URL, so either would
    swallow every path), a port that is not a number in 1-65535, a host name that is not a valid IDNA name,
    and spaces or control characters. The message never repeats the value (callers show it once, and never
    one holding user info).

    Raises:
        ValueError: One line ending in ``Fix: ...``.
    """
    check_https_url(value, what)
    parts = urlsplit(value)
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValueError(
            f"{what} must be the API root alone, without a ?query or #fragment (request paths are appended to "
            "it). Fix: remove everything from the ? or #"
        )
    host = parts.hostname or ""
    problem = ""
    try:
        port = parts.port
    except ValueError as err:
        text = parts.netloc.rpartition(":")[2]
        problem = str(err) if "out of range" in str(err) else f"Invalid port: {text!r}"
    else:
        if port == 0:
            problem = "port 0"
        elif any(c.isspace() or not c.isprintable() for c in value):
            problem = "a space or control character"
        elif not host.startswith("[") and ":" not in host:
            try:
                host.encode("idna")
            except UnicodeError as err:
                problem = str(err)
    if problem:
        raise ValueError(f"not a usable URL ({problem}). Fix: write it as https://host[:port][/path]")
    return value


NIL_GUID: Final = "00000000-0000-0000-0000-000000000000"


def check_uuid(value: str, what: str) -> str:
    """Accept a GUID like ``38b1f170-0c43-4eae-9a04-ab85325d99f7`` in any case; return it lower-case.

    GUIDs compare case-insensitively (Entra and Paragon print them lower-case), so one spelling is kept.

    Raises:
        ValueError: Not a GUID, or the nil GUID (all zeros), which names nothing.
    """
    if not _UUID.fullmatch(value):
        raise ValueError(
            f"{what} must be a GUID like 38b1f170-0c43-4eae-9a04-ab85325d99f7. Fix: copy the ID exactly as "
            "shown (Paragon: the dashboard URL; Entra: the object's Overview page)"
        )
    if value == NIL_GUID:
        raise ValueError(f"{what} is the nil GUID (all zeros), which names nothing. Fix: copy the real ID")
    return value.lower()


REDIRECT_URI_MAX_LENGTH: Final = 256
"""Longest redirect URI Entra accepts, in characters (Microsoft identity platform, "Redirect URI (reply
URL) outline and restrictions", Maximum URI length)."""
REDIRECT_URI_FORBIDDEN: Final = "!$'(),;"
"""Characters Entra does not support in redirect URIs (same document, restrictions list)."""


def check_redirect_uri(value: str) -> str:
    """Apply the redirect URI rules that do not depend on other settings; return the value unchanged.

    Sources: RFC 6749 section 3.1.2 (the redirection endpoint URI must not include a fragment) and
    Microsoft's "Redirect URI (reply URL) outline and restrictions" (https, or http only for localhost and
    loopback; at most 256 characters; no ``! $ ' ( ) , ;``; no wildcards for Web redirect URIs).

    Raises:
        ValueError: The first rule broken, with a ``Fix:``.
    """
    if value != value.strip():
        raise ValueError(
            "redirect_uri has leading or trailing spaces; Entra compares it character by character. Fix: remove them"
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("redirect_uri contains a space or control character. Fix: copy the URL again from Paragon")
    if "*" in value:
        raise ValueError(
            "redirect_uri may not contain a wildcard (Graph rejects them). Fix: use the exact "
            "Redirect URL shown in the integration's settings in Paragon"
        )
    if "#" in value:
        raise ValueError(
            "redirect_uri must not contain a fragment (#...); OAuth 2.0 forbids it (RFC 6749 section 3.1.2). "
            "Fix: remove everything from #"
        )
    if len(value) > REDIRECT_URI_MAX_LENGTH:
        raise ValueError(
            f"redirect_uri is {len(value)} characters; Entra accepts at most {REDIRECT_URI_MAX_LENGTH}. "
            "Fix: use a shorter URL"
        )
    bad = sorted({ch for ch in value if ch in REDIRECT_URI_FORBIDDEN})
    if bad:
        raise ValueError(
            f"redirect_uri contains {' '.join(bad)}, which Entra does not support in redirect URIs. "
            "Fix: remove or percent-encode them"
        )
    return check_https_url(value, "redirect_uri")


def check_object_id(value: str) -> str:
    """An owner's object ID (a GUID), lower-case. Raises ``ValueError`` as `check_uuid`."""
    return check_uuid(value, "an owner (an object ID)")


def check_client_id(value: str | None) -> str | None:
    """Accept the application (client) ID of an adopted app registration (a GUID, any case), lower-case.

    Raises:
        ValueError: Not a GUID, or the nil GUID; the fix names where Entra shows the client ID. (Written empty,
            ``client_id:`` reads as None here; `provisioner.config.adoption` refuses it from the document.)
    """
    if value is None:
        return None
    if not _UUID.fullmatch(value):
        raise ValueError(
            "client_id must be the application (client) ID of the adopted app registration, a GUID. Fix: copy it "
            "from the app's Overview page in Entra (Application (client) ID), not its object ID"
        )
    return check_uuid(value, "client_id")


def check_scheduled_deployer(value: str | None) -> str | None:
    """Accept the object ID of the scheduled deployer (a GUID, any case), lower-case; None stays None.

    Raises:
        ValueError: Not a GUID, or the nil GUID. The fix names where to read the object ID: Entra shows a
            service principal's object ID under Enterprise applications (not the app registration's).
    """
    if value is None:
        return None
    if not _UUID.fullmatch(value):
        raise ValueError(
            "scheduled_deployer must be the object ID (a GUID) of the service principal that runs the scheduled "
            "pulumi up. Fix: copy it from `az ad sp show --id <its client ID> --query id -o tsv`"
        )
    return check_uuid(value, "scheduled_deployer")
