"""Problem finders: a YAML document and the model's verdict turned into one-line `Problem` records.

Every problem names the file, line and key path, what is wrong and the fix (``file:line: key.path: what is
wrong. Fix: what to do``): unknown and misplaced keys with a "did you mean", pydantic's errors in plain
words, ``app:`` sharing and audience rules, catalog checks (integration keys, scopes), owners and redirect
URIs. `provisioner.config.load` runs them in order.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import date
from typing import Any, Final, get_args, get_origin

from pydantic import (
    BaseModel,
    ValidationError,
)

from provisioner.catalog import (
    CATALOG,
    OPENID_SCOPE_IDS,
    PERSONAL_ACCOUNTS,
    CatalogEntry,
)
from provisioner.config.advice import (
    KEYS_REFERENCE,
    allowed_values,
    app_loop,
    app_loop_advice,
    app_target_fix,
    chained_app_fix,
    choices_in,
    field_at,
    misplaced_setting_advice,
    plain_words,
)
from provisioner.config.model import APP_LEVEL_KEYS, ProvisionerConfig
from provisioner.config.scope_problems import (
    integration_scope_problems,
    scope_names_in_one_item,
    works_for_personal_accounts,
)
from provisioner.config.yaml_source import KeyPath, YamlDocument, format_path, shown
from provisioner.errors import Problem

# --- turning problems into one-line messages ------------------------------------------------------------

ANY_INTEGRATION: Final = "*"
"""Stands for any integration key in `FIELD_HOMES` paths."""


def _submodel(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """The model inside a field's annotation, and whether it is keyed by name (``dict[str, Model]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    args = get_args(annotation)
    if get_origin(annotation) is dict and len(args) == 2:
        inner = _submodel(args[1])
        return (inner[0], True) if inner else None
    for arg in args:  # Optional[Model], Annotated[Model, ...]
        inner = _submodel(arg)
        if inner:
            return inner
    return None


def _field_homes(model: type[BaseModel], parent: tuple[str, ...], homes: dict[str, list[tuple[str, ...]]]) -> None:
    for name, info in model.model_fields.items():
        homes.setdefault(name, []).append(parent)
        inner = _submodel(info.annotation)
        if inner:
            sub, keyed = inner
            _field_homes(sub, (*parent, name, ANY_INTEGRATION) if keyed else (*parent, name), homes)


def _all_field_homes() -> dict[str, list[tuple[str, ...]]]:
    homes: dict[str, list[tuple[str, ...]]] = {}
    _field_homes(ProvisionerConfig, (), homes)
    return homes


FIELD_HOMES: Final = _all_field_homes()
"""Every key of the model and the parent path(s) it belongs under (``*`` = an integration key)."""
ALL_KEYS: Final = sorted(FIELD_HOMES)
SUGGESTION_CUTOFF: Final = 0.75
"""Least difflib similarity (0..1, after lower-casing and dropping ``_``/``-``) for a "did you mean"."""


def _normal(word: str) -> str:
    return re.sub(r"[_\-\s]", "", word.lower())


def _close(word: str, choices: Iterable[str]) -> list[str]:
    by_normal = {_normal(c): c for c in sorted(choices)}
    return [
        by_normal[c] for c in difflib.get_close_matches(_normal(word), list(by_normal), n=3, cutoff=SUGGESTION_CUTOFF)
    ]


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = _close(word, choices)
    return f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _matches(template: tuple[str, ...], path: KeyPath) -> bool:
    return len(template) == len(path) and all(t in (ANY_INTEGRATION, p) for t, p in zip(template, path, strict=True))


def _keys_at(parent: KeyPath) -> list[str]:
    """The model's keys valid directly under ``parent``."""
    return [name for name, homes in FIELD_HOMES.items() if any(_matches(h, parent) for h in homes)]


def _home_for(key: str, parent: KeyPath, data: Any) -> KeyPath | None:
    """Where a known ``key`` found under the wrong ``parent`` belongs, as a concrete path (None if unknown)."""
    homes = FIELD_HOMES.get(key)
    if not homes or any(_matches(h, parent) for h in homes):
        return None
    home = homes[0]
    if ANY_INTEGRATION not in home:
        return home
    if len(parent) >= 2 and parent[0] == "integrations" and str(parent[1]) in CATALOG:
        name = str(parent[1])
    else:
        configured = data.get("integrations") if isinstance(data, dict) else None
        known = [k for k in configured if k in CATALOG] if isinstance(configured, dict) else []
        name = known[0] if len(known) == 1 else "<integration>"
    return tuple(name if part == ANY_INTEGRATION else part for part in home)


def _misplaced(doc: YamlDocument, parent: KeyPath, key: str) -> Problem | None:
    home = _home_for(key, parent, doc.data)
    if home is None:
        return None
    here = (*parent, key)
    if not home:
        return doc.problem(
            here, f"`{key}` is a top-level key, not a setting of `{format_path(parent)}`", "move it to the top level"
        )
    target = format_path(home)
    if home[: len(parent)] == parent or parent[: len(home)] == home:
        deeper = len(home) > len(parent)
        message = f"`{key}` belongs under `{target}`; it is indented one level too {'little' if deeper else 'far'}"
        return doc.problem(here, message, f"indent it under `{target}:`")
    return doc.problem(here, f"`{key}` belongs under `{target}`, not here", f"move it to `{target}:`")


def integration_keys_that_are_settings(doc: YamlDocument) -> list[Problem]:
    """Keys under ``integrations:`` that are settings of an integration (a block indented too little)."""
    problems: list[Problem] = []
    integrations = doc.data.get("integrations") if isinstance(doc.data, dict) else None
    if not isinstance(integrations, dict):
        return problems
    for key in integrations:
        if str(key) in CATALOG or str(key) not in FIELD_HOMES:
            continue
        problem = _misplaced(doc, ("integrations",), str(key))
        if problem is not None:
            problems.append(problem)
            doc.reported.add(("integrations", str(key)))
    return problems


_INTERNALS: Final = re.compile(r"(?: or)? instance of \w+")


def _split_fix(message: str) -> tuple[str, str]:
    text, _, fix = message.partition(". Fix: ")
    return text, fix


def _pydantic_problem(doc: YamlDocument, error: Any) -> Problem | None:
    loc: KeyPath = tuple(error["loc"])
    kind: str = error["type"]
    value = error.get("input")
    raw = doc.raw.get(loc)
    # A model-level error (value is the whole mapping) is about the model, not one value: no "got".
    got = f", got {shown(raw)}" if raw and not isinstance(value, (dict, list)) else ""
    message, fix = _split_fix(_INTERNALS.sub("", str(error["msg"]).removeprefix("Value error, ")))
    if kind == "extra_forbidden":
        setting = misplaced_setting_advice(loc)
        if setting is not None:
            return doc.problem(loc, *setting)
        misplaced = _misplaced(doc, loc[:-1], str(loc[-1]))
        if misplaced is not None:
            return misplaced
        hint = _suggest(str(loc[-1]), _keys_at(loc[:-1]))
        return doc.problem(loc, "unknown key", f"remove it or correct the spelling{'; ' + hint if hint else ''}")
    if kind == "missing":
        return doc.problem(loc, "required key is missing", f"add `{loc[-1]}:` here")
    if loc and loc[-1] == "[key]":  # a mapping key YAML did not read as text (a number, a boolean, null)
        at: KeyPath = (*loc[:-2], str(loc[-2]).lower() if isinstance(loc[-2], bool) else str(loc[-2]))
        what = (
            "an empty key (null)"
            if value is None
            else f"a {type(value).__name__.replace('int', 'number').replace('bool', 'boolean')}"
        )
        if loc[:-2] == ("integrations",):
            fix = f"write an integration key as text, one of {', '.join(sorted(CATALOG))}"
        else:
            fix = "write the key as a plain name (letters, digits, _ . -), in quotes if YAML would read it otherwise"
        return doc.problem(at, f"a key must be text, but YAML read {what}", fix)
    allowed = allowed_values(loc)
    if value is None and kind not in ("model_type", "dict_type", "model_attributes_type", "value_error") and allowed:
        info = field_at(loc)
        has_default = info is not None and not info[2] and not info[0].is_required()
        default = ", or remove the line to use the default" if has_default else ""
        return doc.problem(loc, "is empty (null)", f"write {allowed}{default}")
    if kind in ("string_type", "str_type") and isinstance(value, (list, dict)) and allowed:
        shape = "a list" if isinstance(value, list) else "a mapping"
        if isinstance(value, list) and len(value) == 1 and not isinstance(value[0], (list, dict)):
            fix = f"write the value alone on the key's line, without [ ]: {allowed}"
        else:
            fix = f"write one value on the key's line: {allowed}"
        return doc.problem(loc, f"expected {allowed}, not {shape}", fix)
    if kind in ("literal_error", "enum") and allowed:
        hint = _suggest(str(value), choices_in(allowed)) if isinstance(value, str) else ""
        return doc.problem(loc, f"must be {allowed}{got}", f"{hint + ' ' if hint else ''}write {allowed}")
    if kind == "string_type" and isinstance(value, bool):
        return doc.problem(
            loc,
            f"expected text but YAML read a boolean ({str(value).lower()}); unquoted yes/no/on/off/true/false "
            "are booleans in YAML",
            f"quote the value if it is right, else write {allowed}" if allowed else "quote the value",
        )
    if kind == "string_type" and value is not None and not isinstance(value, (dict, list)):
        what = "a number" if isinstance(value, (int, float)) else "a date" if isinstance(value, date) else "a value"
        fix = f"write {allowed}, in quotes if YAML would read it as {what}" if allowed else "quote the value"
        return doc.problem(loc, f"expected text but YAML read {what} ({shown(raw or str(value))})", fix)
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        if value is None:
            return doc.problem(
                loc, "is empty; its keys must be indented under it", "indent its keys under it, or remove the line"
            )
        return doc.problem(
            loc, f"expected a mapping (keys indented under it){got}", "indent `key: value` lines under it"
        )
    if kind == "list_type":
        names = scope_names_in_one_item(value) if isinstance(value, str) and loc[-1] == "scopes" else []
        if len(names) > 1:
            return doc.problem(
                loc, f"expected a list{got}", f"one permission name per item: write [{', '.join(names)}]"
            )
        each = allowed if allowed.startswith("a list") else "a list"
        return doc.problem(loc, f"expected a list{got}", f"write {each}, e.g. [A, B], or one `- item` per line")
    if kind in ("date_type", "date_from_datetime_inexact", "date_from_datetime_parsing"):
        return doc.problem(loc, f"expected a date{got}", f"write {allowed or 'a date as YYYY-MM-DD (UTC)'}, alone")
    plain = plain_words(loc, kind, error.get("ctx") or {}, value)
    if plain is not None:
        typed = kind in ("int_type", "int_parsing", "int_from_float", "float_type", "float_parsing", "bool_type")
        return doc.problem(loc, f"{plain[0]}{got}", f"write {allowed}" if typed and allowed else plain[1])
    if message.startswith("Input should") or "valid" in message and not fix:
        message = f"expected {allowed}" if allowed else "is not a value this key accepts"
        fix = f"write {allowed}" if allowed else ""
    return doc.problem(loc, f"{message}{got}", fix or f"correct the value ({KEYS_REFERENCE})")


def _sharing_and_audience_problems(
    doc: YamlDocument, config: ProvisionerConfig, key: str, entry: CatalogEntry
) -> list[Problem]:
    """Problems with ``app:`` sharing, sign-in audiences and Paragon extras of one integration."""
    problems: list[Problem] = []
    here: KeyPath = ("integrations", key)
    integration = config.integrations[key]
    target = integration.app
    if target is not None:
        at_app: KeyPath = (*here, "app")
        other = config.integrations.get(target)
        loop = app_loop(config, key)
        if loop:  # a self-share or a loop of any length: reported once, at the member whose `app:` goes
            reported, message, fix = app_loop_advice(config, loop)
            return [doc.problem(at_app, message, fix)] if reported == key else []
        if other is None:
            return [
                doc.problem(
                    at_app, f"{target!r} is not an integration in this file", app_target_fix(config, key, target)
                )
            ]
        if other.app is not None:
            return [doc.problem(at_app, *chained_app_fix(config, key, target))]
        target_entry = CATALOG.get(target)
        if target_entry is not None and target_entry.resource_app_id != entry.resource_app_id:
            return [
                doc.problem(
                    at_app,
                    f"{target!r} requests {target_entry.resource_title} scopes but {key} requests "
                    f"{entry.resource_title} scopes; one app shared by both would need two resource APIs in one "
                    "sign-in (AADSTS28000)",
                    "remove `app:` so each has its own app",
                )
            ]
        for name in APP_LEVEL_KEYS:
            if name in integration.model_fields_set:
                problems.append(
                    doc.problem(
                        (*here, name),
                        f"{key} shares the app of {target!r}, so app-level settings come from {target!r}",
                        f"remove it here (set it on integrations.{target})",
                    )
                )
    if target is not None and CATALOG.get(target) is None:
        return problems
    settings = config.app_settings(key)
    audience = settings.sign_in_audience
    owner = config.app_key(key)
    via = "" if owner == key else f" (the audience of {owner}'s app, which {key} shares)"
    if audience not in entry.sign_in_audiences:
        problems.append(
            doc.problem(
                ("integrations", owner, "sign_in_audience"),
                f"{entry.title} does not accept sign_in_audience {audience}{via}: {entry.audience_reason}",
                f"use one of {', '.join(sorted(entry.sign_in_audiences))}",
            )
        )
    elif audience in PERSONAL_ACCOUNTS:
        for index, scope in enumerate(config.scopes(key)):
            if scope in OPENID_SCOPE_IDS:
                continue
            if works_for_personal_accounts(entry, scope) is False:
                at_scope: KeyPath = (*here, "scopes", index) if integration.scopes else (*here,)
                problems.append(
                    doc.problem(
                        at_scope,
                        f"{scope!r} does not work for personal Microsoft accounts, but sign_in_audience is "
                        f"{audience}{via}",
                        "remove the scope or use AzureADMultipleOrgs",
                    )
                )
    secret_extras = {x.name for x in entry.extras if x.secret}
    for name in integration.paragon_values:
        if name in secret_extras:
            problems.append(
                doc.problem(
                    (*here, "paragon_values", name),
                    "is a secret and secrets never go in YAML",
                    "remove it and enter it in Paragon's dashboard (docs/integrations.md)",
                )
            )
    return problems


def model_problems(doc: YamlDocument, err: ValidationError) -> list[Problem]:
    """pydantic's verdict on ``doc`` as `Problem` records in plain words (file, line, key path, fix), leaving
    out keys already reported while reading and naming a misplaced key's home once."""
    errors = [e for e in err.errors() if not doc.is_reported(tuple(e["loc"]))]
    problems: list[Problem] = []
    moved_to: set[KeyPath] = set()  # (home, key) of misplaced keys, and their homes
    for e in errors:
        if e["type"] == "extra_forbidden":
            loc: KeyPath = tuple(e["loc"])
            home = _home_for(str(loc[-1]), loc[:-1], doc.data)
            if home is not None:
                moved_to |= {home, (*home, str(loc[-1]))}
    # A misspelt required key shows up twice (unknown key + missing key); report it once, as the typo.
    misspelt = {
        (*tuple(e["loc"][:-1]), close)
        for e in errors
        if e["type"] == "extra_forbidden"
        for close in _close(str(e["loc"][-1]), _keys_at(tuple(e["loc"][:-1])))
    }
    for e in errors:
        loc = tuple(e["loc"])
        if e["type"] == "missing" and (loc in misspelt or loc in moved_to):
            continue
        if e["type"] in ("model_type", "dict_type") and e.get("input") is None and loc in moved_to:
            continue
        problem = _pydantic_problem(doc, e)
        if problem is not None:
            problems.append(problem)
    return problems


def catalog_problems(doc: YamlDocument, config: ProvisionerConfig) -> list[Problem]:
    """Integration keys, sharing and audiences, then scopes, consent and environment URLs
    (`provisioner.config.scope_problems`)."""
    problems: list[Problem] = []
    for key in config.integrations:
        here: KeyPath = ("integrations", key)
        entry = CATALOG.get(key)
        if entry is None:
            hint = _suggest(key, list(CATALOG))
            problems.append(
                doc.problem(
                    here,
                    "unknown Paragon integration key",
                    f"use one of {', '.join(sorted(CATALOG))}{' (' + hint + ')' if hint else ''}",
                )
            )
            continue
        problems += _sharing_and_audience_problems(doc, config, key, entry)
        problems += integration_scope_problems(doc, config, key)  # scopes, consent, environment URL
    return problems
