"""Advice that depends on the case: where a misplaced Paragon setting belongs, which ``app:`` targets are
valid, and rotation anchors later than the day a command judges.

Each function returns what `provisioner.config.problems` and `provisioner.config.load` put in one-line
messages; a wrong fix is worse than none, so each answer is narrowed to what would really work.
"""

from __future__ import annotations

import difflib
import enum
import re
from datetime import date
from typing import Any, Final, Literal, get_args, get_origin

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


# --- app: loops and chains ------------------------------------------------------------------------------------


def app_loop(config: ProvisionerConfig, key: str) -> list[str]:
    """The integrations of the ``app:`` loop ``key`` is on, in config order (``[key]`` for a self-share);
    empty when following ``app:`` from ``key`` ends at an app owner or a missing integration."""
    seen: list[str] = []
    current: str | None = key
    while current is not None and current in config.integrations and current not in seen:
        seen.append(current)
        current = config.integrations[current].app
    if current is None or current not in seen:
        return []
    members = set(seen[seen.index(current) :])
    return [k for k in config.integrations if k in members] if key in members else []


def _resource(key: str) -> str:
    entry = CATALOG.get(key)
    return entry.resource_app_id if entry is not None else f"?{key}"


def loop_owners(config: ProvisionerConfig, loop: list[str]) -> dict[str, str]:
    """For each member of an ``app:`` loop, the member that should own the app it ends up on: the first member
    (config order) on the same resource API (one sign-in targets one resource API, AADSTS28000)."""
    owners: dict[str, str] = {}
    for member in loop:
        owners[member] = next(m for m in loop if _resource(m) == _resource(member))
    return owners


def app_loop_advice(config: ProvisionerConfig, loop: list[str]) -> tuple[str, str, str]:
    """For an ``app:`` loop: the member whose ``app:`` line is reported, the message and the fix. The fix removes
    ``app:`` from one member per resource API (the first in the file) and points the others at it, so it never
    creates a self-share, another loop or a chain."""
    owners = loop_owners(config, loop)
    keep = sorted(set(owners.values()), key=loop.index)
    path = " -> ".join([*loop_path(config, loop[0]), loop[0]])
    if len(loop) == 1:
        return loop[0], "an integration cannot share its own app", "remove `app:`"
    steps = [f"remove `app:` from {', '.join(keep)}"]
    retarget = [m for m in loop if m not in keep and config.integrations[m].app != owners[m]]
    for owner in keep:
        moved = [m for m in retarget if owners[m] == owner]
        if moved:
            steps.append(f"write `app: {owner}` on {', '.join(moved)}")
    message = (
        f"`app:` makes a loop ({path}): no integration of it owns an app registration; sharing needs one that "
        "has no `app:`"
    )
    return keep[0], message, f"{'; '.join(steps)} (the one without `app:` owns the app the others share)"


def loop_path(config: ProvisionerConfig, start: str) -> list[str]:
    """The keys met following ``app:`` from ``start`` until one repeats (the repeat not included)."""
    path: list[str] = []
    current: str | None = start
    while current is not None and current in config.integrations and current not in path:
        path.append(current)
        current = config.integrations[current].app
    return path


def chained_app_fix(config: ProvisionerConfig, key: str, target: str) -> tuple[str, str]:
    """Message and fix for ``integrations.<key>.app: <target>`` where ``target`` itself shares another app:
    the fix names the integration that really owns the app at the end of the chain (never ``key`` itself, never
    a member of a loop that will lose its owner), or says to fix the loop or the missing target first."""
    other = config.integrations[target].app
    path = loop_path(config, target)
    message = f"{target!r} itself shares the app of {other!r}; sharing does not chain"
    end = config.integrations[path[-1]].app
    if end is not None and end in config.integrations:  # the chain runs into an `app:` loop
        loop = app_loop(config, end)
        keep = [m for m in loop if loop_owners(config, loop)[m] == m]
        owner = next((m for m in keep if _resource(m) == _resource(key)), None)
        if owner is None:
            return message, "remove `app:` so this integration has its own app"
        where = f"integrations.{app_loop_advice(config, loop)[0]}.app"
        then = f"keep `app: {owner}`" if owner == target else f"write `app: {owner}`"
        return message, f"fix the `app:` loop first ({where}), then {then}"
    if end is not None:  # the chain ends at an integration missing from the file
        return message, f"fix integrations.{path[-1]}.app first ({end!r} is not in this file)"
    root = path[-1]
    if _resource(root) != _resource(key):
        return message, "remove `app:` so this integration has its own app"
    return message, f"write `app: {root}`"


# --- what a key accepts, in plain words -----------------------------------------------------------------------

FIELD_NAMES: Final = frozenset(
    name
    for model in ("ProvisionerConfig", "ParagonConfig", "IntegrationConfig", "SecretPolicy")
    for name in getattr(__import__("provisioner.config.model", fromlist=[model]), model).model_fields
)
"""Every key name of the stack config model."""
TEXT_VALUES: Final = {
    "project_id": "the project's ID, a GUID like 38b1f170-0c43-4eae-9a04-ab85325d99f7",
    "base_url": "an https URL, e.g. https://zeus.useparagon.com",
    "redirect_uri": "an https URL, e.g. https://passport.useparagon.com/oauth",
    "ca_bundle": "the path of a PEM file",
    "scheduled_deployer": "one object ID (a GUID) of a service principal",
    "app": "the key of another integration in this file",
    "display_name": "one line of text (at most 120 characters)",
    "client_id": "the application (client) ID of an app registration (a GUID)",
    "scopes": "a delegated permission name, e.g. User.Read",
    "owners": "an object ID (a GUID)",
    "extra_redirect_uris": "an https URL",
}
"""What each text key (or each item of a list of text) accepts, for messages; every text field of the model has
an entry (tests/test_advice_kinds.py holds the table to the model)."""


def field_at(loc: KeyPath) -> tuple[Any, Any, bool] | None:
    """The pydantic field (``FieldInfo``) and annotation at ``loc`` of the stack config, following integration
    keys, and whether ``loc`` is an item (or key) of that field's list or mapping; None when ``loc`` names no
    field."""
    from pydantic import BaseModel

    from provisioner.config.model import IntegrationConfig

    model: type[BaseModel] | None = ProvisionerConfig
    info: Any = None
    annotation: Any = ProvisionerConfig
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            info = model.model_fields[part]
            annotation = info.annotation
            if part == "integrations" and model is ProvisionerConfig:
                if parts and parts[0] != "[key]":
                    parts.pop(0)
                    model, annotation = IntegrationConfig, IntegrationConfig
                    continue
            model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
            continue
        if model is None and info is not None and (isinstance(part, int) or part == "[key]" or isinstance(part, str)):
            return info, annotation, True  # an item (or key) of a list or mapping
        return None
    return (info, annotation, False) if info is not None else None


def _bounds(info: Any) -> tuple[Any, Any, bool]:
    low = high = None
    strict_low = False
    for item in getattr(info, "metadata", ()):
        if getattr(item, "ge", None) is not None:
            low = item.ge
        if getattr(item, "gt", None) is not None:
            low, strict_low = item.gt, True
        if getattr(item, "le", None) is not None:
            high = item.le
    return low, high, strict_low


def _choices(values: list[str]) -> str:
    return " or ".join(values) if len(values) == 2 else "one of " + ", ".join(values)


def choices_in(allowed: str) -> list[str]:
    """The values named by an `allowed_values` answer for a key with a fixed set of values."""
    return [c.strip() for c in re.split(r", | or ", allowed.removeprefix("one of "))]


def allowed_values(loc: KeyPath) -> str:
    """What the key at ``loc`` accepts, in plain words: ``one of AzureADMyOrg, ...``, ``a whole number from 1 to
    365``, ``true or false``, ``a date as YYYY-MM-DD``, ``an https URL``, ...; empty when unknown."""

    found = field_at(loc)
    if found is None:
        return ""
    info, annotation, item = found
    inner = [a for a in get_args(annotation) if a is not type(None)]
    if type(None) in get_args(annotation) and len(inner) == 1:
        annotation = inner[0]  # Optional[X]: X
    name = next((str(p) for p in reversed(loc) if isinstance(p, str) and p != "[key]" and p in FIELD_NAMES), "")
    if name in TEXT_VALUES and (item or get_origin(annotation) is not list):
        return TEXT_VALUES[name]
    if item:
        return "a plain name (letters, digits, _ . -)" if loc[-1] == "[key]" else "text"
    if get_origin(annotation) is list:
        words = TEXT_VALUES.get(name, "text")
        return f"a list, each item {words}"
    if get_origin(annotation) is dict:
        return "a mapping (`key: value` lines indented under it)"
    if get_origin(annotation) is Literal:
        return _choices([str(v) for v in get_args(annotation)])
    args = [a for a in (get_args(annotation) or (annotation,)) if a is not type(None)]
    for arg in args:
        if get_origin(arg) is Literal:
            return _choices([str(v) for v in get_args(arg)])
        if isinstance(arg, type) and issubclass(arg, enum.Enum):
            return _choices([str(m.value) for m in arg])
    kind = args[0] if args else annotation
    low, high, strict = _bounds(info)
    extra = getattr(info, "json_schema_extra", None)
    if high is None and isinstance(extra, dict) and isinstance(extra.get("maximum"), int):
        high = extra["maximum"]
    span = ""
    if low is not None and high is not None:
        span = f" {'more than ' if strict else 'from '}{low} {'up to' if strict else 'to'} {high}"
    elif low is not None:
        span = f" {'more than' if strict else 'of at least'} {low}"
    default = getattr(info, "default", None)
    tail = f" (default {default:g})" if isinstance(default, (int, float)) and not isinstance(default, bool) else ""
    if kind is bool:
        return "true or false"
    if kind is int:
        return f"a whole number{span}{tail}"
    if kind is float:
        return f"a number{span}{tail}"
    if kind is date:
        return "a date as YYYY-MM-DD (UTC)"
    if isinstance(kind, type) and issubclass(kind, str):
        return "text"
    return ""
