"""Values read from a live app registration, handled as untrusted input (docs/adopt.md: "Values adopt cannot keep").

Whoever can edit the app in Entra (an owner, an Application Administrator, a script) chooses its display name,
its redirect URIs, its owners' names and its secrets' descriptions, and so does a resource API's publisher for
its permission names. Before any of them reaches the ``adopt`` report or the config edits it suggests:

* **Shown** (`shown`, `shown_uri`, `shown_description`): control and invisible formatting characters (Unicode
  Cc, Cf such as U+202E, Zl, Zp) are written as escapes (`provisioner.errors.escape_controls`), the user info
  of a URI (``user:password@``) is replaced by ``[redacted]``, a description shaped like a credential is not
  shown, and a value longer than `SHOWN_LIMIT` characters is cut.
* **Suggested** only when the config's own rules accept it (`refusal`): the loader's rules for every scalar (no
  control characters, nothing shaped like a credential; `provisioner.config.yaml_source`) and the key's own
  rule (`provisioner.config.values.check_redirect_uri`, the model's display name length and audiences, GUIDs,
  and Entra's rule that redirect URIs with a ``?query`` are for work or school accounts only).
* **Written** as YAML that parses back to exactly the value (`yaml_line`): plain where a YAML parser reads the
  plain text back unchanged, else quoted by PyYAML's emitter.
"""

from __future__ import annotations

import re
import shlex
from typing import Final, get_args
from urllib.parse import urlsplit

import yaml
from annotated_types import MaxLen, MinLen

from provisioner.config.model import PERSONAL_AUDIENCES, IntegrationConfig, SignInAudience
from provisioner.config.secret_guard import looks_like_secret_value
from provisioner.config.values import check_object_id, check_redirect_uri
from provisioner.errors import control_characters, escape_char, escape_controls

REDACTED: Final = "[redacted]"
SHOWN_LIMIT: Final = 300
"""Longest value shown in full, in characters (Entra's longest redirect URI is 256)."""
DELETE_COMMAND: Final = "az ad app credential delete --id {app_id} --key-id {key_id}"
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")
"""A URI's user info: after ``scheme://``, up to the authority's last ``@`` (the authority ends at the first
``/``, ``?`` or ``#``; RFC 3986 section 3.2). Spaces do not end it here, so more is hidden rather than less."""


def redact_userinfo(text: str) -> str:
    """``https://user:password@host/cb`` → ``https://[redacted]@host/cb``, for every URI anywhere in ``text``."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)


def shown(text: str) -> str:
    """A live value as the report shows it: the user info of any URI in it redacted (`redact_userinfo`),
    control and formatting characters escaped, cut at `SHOWN_LIMIT` characters."""
    text = redact_userinfo(text)
    if len(text) > SHOWN_LIMIT:
        text = f"{text[:SHOWN_LIMIT]}… ({len(text)} characters)"
    return escape_controls(text)


def shown_value(what: str, value: str) -> str:
    """A live value of a `provisioner.cli.adopt_report.Change` (``what`` names its kind) as the report shows it."""
    del what  # every kind is shown alike: any value may hold a URI with user info
    return shown(value)


def shown_description(name: str | None) -> str:
    """A client secret's description, quoted: ``'for Paragon'``; never one shaped like a credential."""
    if not name:
        return "(no description)"
    if looks_like_secret_value(name):
        return "(a description shaped like a credential: not shown)"
    return f"'{shown(name)}'"


def delete_command(app_id: str, key_id: str) -> str:
    """The ``az`` command deleting one client secret, its arguments quoted for a POSIX shell."""
    return DELETE_COMMAND.format(app_id=shlex.quote(shown(app_id)), key_id=shlex.quote(shown(key_id)))


def _length_limits() -> tuple[int, int]:
    metadata = IntegrationConfig.model_fields["display_name"].metadata
    low = next((m.min_length for m in metadata if isinstance(m, MinLen)), 1)
    high = next((m.max_length for m in metadata if isinstance(m, MaxLen)), 256)
    return low, high


def _redirect_refusal(uri: str, personal: bool) -> str | None:
    try:
        check_redirect_uri(uri)
    except ValueError as err:
        # The rule's own words, without its fix (written for a URI typed into the config, not a live one).
        return str(err).partition(". Fix:")[0].replace("redirect_uri", "it", 1)
    if personal and urlsplit(uri).query:
        return (
            "it has a ?query, which Entra allows only for apps that sign in work or school accounts, and the "
            "app's sign-in audience includes personal Microsoft accounts"
        )
    return None


def refusal(key: str, value: str | int, *, personal: bool = False) -> str | None:
    """Why the config would refuse ``value`` under ``integrations.<integration>.<key>``, or None if it accepts it.

    Args:
        key: ``display_name``, ``sign_in_audience``, ``requested_access_token_version``, ``owners`` (one item)
            or ``extra_redirect_uris`` (one item).
        value: The live value.
        personal: The config's sign-in audience (after the suggested edits) includes personal Microsoft accounts.

    Returns:
        One clause starting ``it ...`` (it never repeats the value), or None.
    """
    if isinstance(value, str) and control_characters(value):
        chars = ", ".join(escape_char(ch) for ch in control_characters(value))
        return f"it contains the control or invisible character(s) {chars}, which the config refuses"
    reason: str | None = None
    if key == "extra_redirect_uris":
        reason = _redirect_refusal(str(value), personal)
    elif key == "display_name":
        low, high = _length_limits()
        if not low <= len(str(value)) <= high:
            reason = f"it is {len(str(value))} characters; the config accepts {low} to {high}"
    elif key == "sign_in_audience" and value not in get_args(SignInAudience):
        reason = f"it is not one of {', '.join(get_args(SignInAudience))}"
    elif key == "requested_access_token_version" and value not in (1, 2):
        reason = "it is not 1 or 2"
    elif key == "owners":
        try:
            check_object_id(str(value))
        except ValueError:
            reason = "it is not an object ID (a GUID)"
    if reason is None and isinstance(value, str) and redact_userinfo(value) != value:
        reason = "it holds a URL with a user name or password (user:password@), which is never shown or suggested"
    if reason is None and isinstance(value, str) and looks_like_secret_value(value):
        reason = (
            "it is shaped like a credential (a password in a URL, a signature or a token), which the config refuses"
        )
    if reason is None and key == "requested_access_token_version" and personal and value == 1:
        reason = "it must be 2: personal Microsoft accounts require version 2"
    return reason


def keep_or_refuse(integration: str, key: str, value: str | int) -> tuple[str, str]:
    """``(fix, refused)``: the config line keeping a live setting (``integrations.<integration>.<key>: <value>``)
    and "", or "" and why the config cannot hold the value (`refusal`)."""
    reason = refusal(key, value)
    if reason is not None:
        return "", reason
    return f"integrations.{integration}.{yaml_line(key, value)}", ""


def kept_audience(live: str, declared: str) -> str:
    """The sign-in audience once the suggested edits are applied: the live one when the config can hold it."""
    return live if refusal("sign_in_audience", live) is None else declared


def personal_audience(audience: str) -> bool:
    """True for the sign-in audiences that include personal Microsoft accounts."""
    return audience in PERSONAL_AUDIENCES


def _same(parsed: object, value: object) -> bool:
    if isinstance(value, list):
        return isinstance(parsed, list) and len(parsed) == len(value) and all(map(_same, parsed, value))
    return type(parsed) is type(value) and parsed == value


def _reads_back(line: str, key: str, value: object) -> bool:
    if "\n" in line or control_characters(line):
        return False
    try:
        parsed = yaml.safe_load(line)
    except yaml.YAMLError:
        return False
    return isinstance(parsed, dict) and list(parsed) == [key] and _same(parsed[key], value)


def yaml_line(key: str, value: str | int | list[str]) -> str:
    """One line ``key: value`` that a YAML parser reads back as exactly ``{key: value}``.

    The plain form (``display_name: Paragon Power BI``, ``owners: [<guid>, <guid>]``) when it reads back
    unchanged; else PyYAML's emitter quotes what needs it (``display_name: 'Paragon: Power BI #prod'``), with
    every character outside printable ASCII escaped if need be.

    Raises:
        ValueError: No single line reads back as the value (never for a value `refusal` accepts).
    """
    plain = f"{key}: [{', '.join(value)}]" if isinstance(value, list) else f"{key}: {value}"
    if _reads_back(plain, key, value):
        return plain
    flow = None if isinstance(value, list) else False
    for unicode in (True, False):
        dumped = yaml.safe_dump(
            {key: value}, default_flow_style=flow, allow_unicode=unicode, width=float("inf"), sort_keys=False
        ).rstrip("\n")
        if _reads_back(dumped, key, value):
            return dumped
    raise ValueError(f"{key}: no one-line YAML form reads back as the value")


__all__ = [
    "DELETE_COMMAND",
    "REDACTED",
    "delete_command",
    "keep_or_refuse",
    "kept_audience",
    "personal_audience",
    "redact_userinfo",
    "refusal",
    "shown",
    "shown_description",
    "shown_value",
    "yaml_line",
]
