"""Advice that depends on the case: where a misplaced Paragon setting belongs, which ``app:`` targets are
valid, and rotation anchors later than the day a command judges.

Each function returns what `provisioner.config.problems` and `provisioner.config.load` put in one-line
messages; a wrong fix is worse than none, so each answer is narrowed to what would really work.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from typing import Any, Final

from provisioner.catalog import CATALOG, CatalogEntry, ExtraValue
from provisioner.config.model import ProvisionerConfig
from provisioner.config.yaml_source import KeyPath, YamlDocument
from provisioner.errors import Problem

PARAGON_VALUES = "paragon_values"
"""The integration key that holds extra (non-secret) values pushed to Paragon."""


def _normal(word: str) -> str:
    return re.sub(r"[_\-\s]", "", word.lower())


def paragon_setting(integration: str, key: str) -> ExtraValue | None:
    """The catalog's Paragon setting of ``integration`` that ``key`` names (case, ``_`` and ``-`` ignored;
    a close spelling counts), or None. ``organization_url`` under ``microsoftDynamics`` → ``organizationUrl``.
    """
    entry = CATALOG.get(integration)
    if entry is None:
        return None
    by_normal = {_normal(x.name): x for x in entry.extras}
    close = difflib.get_close_matches(_normal(key), list(by_normal), n=1, cutoff=0.85)
    return by_normal[close[0]] if close else None


def misplaced_setting_advice(loc: KeyPath) -> tuple[str, str] | None:
    """For an unknown key directly under ``integrations.<key>`` that is one of that integration's Paragon
    settings: the message and the fix ("move it under `paragon_values` as `<name>`"; for a secret setting,
    "enter it in Paragon's dashboard"). None for any other key."""
    if len(loc) != 3 or loc[0] != "integrations":
        return None
    integration, key = str(loc[1]), str(loc[2])
    setting = paragon_setting(integration, key)
    if setting is None:
        return None
    title = CATALOG[integration].title
    if setting.secret:
        return (
            f"`{key}` is {title}'s {setting.description.split(':')[0]}, a secret Paragon setting; secrets never go "
            "in this file",
            "remove it and enter it in Paragon's dashboard (docs/integrations.md)",
        )
    return (
        f"`{key}` is a Paragon setting of {title} ({setting.description}), not an app registration setting",
        f"move it under `{PARAGON_VALUES}` as `{setting.name}`",
    )


def valid_app_targets(config: ProvisionerConfig, key: str) -> list[str]:
    """The integrations ``integrations.<key>.app`` could name: in this file, not ``key`` itself, owning
    their app (no ``app:`` of their own: sharing does not chain), and on the same resource API (one sign-in
    targets one resource API, AADSTS28000)."""
    entry: CatalogEntry | None = CATALOG.get(key)
    targets = []
    for other, integration in config.integrations.items():
        other_entry = CATALOG.get(other)
        if other == key or integration.app is not None or other_entry is None:
            continue
        if entry is not None and other_entry.resource_app_id != entry.resource_app_id:
            continue
        targets.append(other)
    return targets


def app_target_fix(config: ProvisionerConfig, key: str, target: str) -> str:
    """The fix for ``app:`` naming ``target``, an integration missing from the file: only valid targets,
    else removing ``app:`` (or adding the integration it names, when that could be shared)."""
    targets = valid_app_targets(config, key)
    close = difflib.get_close_matches(target, targets, n=1, cutoff=0.6)
    if close:
        return f"did you mean `app: {close[0]}`?"
    if targets:
        return f"use one of {', '.join(targets)}, or remove `app:` to give {key} its own app"
    entry, wanted = CATALOG.get(key), CATALOG.get(target)
    if entry is not None and wanted is not None and wanted.resource_app_id == entry.resource_app_id:
        return f"add `{target}:` under integrations, or remove `app:` to give {key} its own app"
    return f"remove `app:` to give {key} its own app (no integration in this file can share one with it)"


KEYS_REFERENCE: Final = "README.md, section Configuration, lists every key and its values"
"""Where messages send a reader for the keys (a config repository has no schema file of its own)."""


def plain_words(loc: KeyPath, kind: str, ctx: dict[str, Any], value: Any) -> tuple[str, str] | None:
    """pydantic's model-level and range errors in plain words, as (message, fix); None for other kinds."""
    where = str(loc[-1]) if loc else ""
    if kind == "too_short" and where == "integrations":
        return (
            "lists no integration; a stack needs at least one",
            "add one under it, e.g. `powerbi: {}` (python -m provisioner catalog lists the keys)",
        )
    if kind == "too_short" and where == "scopes":
        return "is an empty list", "list at least one permission, or remove `scopes:` for the catalog's default set"
    if kind in ("too_short", "string_too_short"):
        return "is empty", "write a value, or remove the line"
    if kind in ("too_long", "string_too_long"):
        limit = ctx.get("max_length")
        return f"is too long (at most {limit} {'characters' if kind == 'string_too_long' else 'items'})", "shorten it"
    bounds = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le")}
    bounds |= {"greater_than": ("more than", "gt"), "less_than": ("less than", "lt")}
    if kind in bounds:
        words, name = bounds[kind]
        return f"must be {words} {ctx.get(name)}", f"use a number {words} {ctx.get(name)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "expected a whole number", "write digits only, e.g. 90"
    if kind in ("float_type", "float_parsing"):
        return "expected a number", "write digits only, e.g. 120"
    if kind in ("bool_type", "bool_parsing"):
        return "expected true or false", "write true or false"
    return None


def anchor_warnings(doc: YamlDocument, config: ProvisionerConfig, as_of: date, flag: str | None) -> list[Problem]:
    """A warning for each app whose rotation ``anchor`` is after ``as_of``.

    Windows are counted from the anchor, so before it the schedule runs backwards from a day that has not
    come: a future anchor is almost always a typo (the year), and an ``--at`` before the anchor shows
    secrets the schedule has not begun to issue.

    Args:
        doc: The stack file's document (for the line of each anchor).
        config: The validated config.
        as_of: The day judged: today, or the date of ``flag``.
        flag: ``--at`` when ``as_of`` came from it; None for today.
    """
    warnings = []
    for key in config.integrations:
        if config.app_key(key) != key:
            continue  # a shared app follows its owner's policy
        anchor = config.app_settings(key).secret.anchor
        if anchor <= as_of:
            continue
        where: KeyPath = ("integrations", key, "secret", "anchor")
        if flag is None:
            message = (
                f"{anchor} is in the future (today is {as_of}); rotation windows are counted from it, so this "
                "is probably a mistake (the year?)"
            )
            fix = "use a date on or before today: the anchor only fixes where the windows start"
        else:
            message = (
                f"{flag} {as_of} is before this anchor ({anchor}): the rotation schedule has not begun on that day"
            )
            fix = f"choose {flag} {anchor} or later, or an earlier anchor"
        warnings.append(doc.problem(where, message, fix, severity="warning"))
    return warnings
