"""What a pull request changes: the difference between two ``plan --format json`` documents.

``python -m provisioner diff BASE.json HEAD.json`` compares the plan of the base branch with the plan of
the pull request. Resources are matched by logical name. Each one is:

* ``added``: only in HEAD (``pulumi up`` creates it);
* ``removed``: only in BASE (``pulumi up`` deletes it);
* ``replaced``: an input changed that the resource cannot update in place (`REPLACE_ON`), or its type
  changed; ``pulumi up`` creates a new one and deletes the old one;
* ``changed``: inputs changed, all updatable in place;
* ``unchanged``.

Stack outputs are compared too. Inputs are compared as the plan shows them: a secret is ``[secret]`` on both
sides (a changed secret shows through the inputs that rotate it), and a value known only after deployment
is ``(known after deploy)``. Whatever a plan file holds, a value under a key named like a secret
(``clientSecret``, ``password``) or shaped like a credential is shown as ``[secret]`` too. Pure data in,
data out: no Pulumi, no network. An empty file stands for "no plan" (a stack added or deleted by the pull
request).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from provisioner.config.safe_io import loads_json, read_text_capped, unreadable
from provisioner.config.secret_guard import is_secret_key, looks_like_secret_value
from provisioner.errors import ProvisionerError

MARKER: Final = "<!-- provisioner-plan-diff -->"
"""First line of the markdown output: a workflow finds (and updates) its pull request comment by it."""

REPLACE_ON: Final[Mapping[str, tuple[str, ...]]] = {
    # pulumi-azuread v6 API docs (ApplicationPassword, Application): the arguments documented as
    # "Changing this forces a new resource to be created" (a test reads them from the installed SDK).
    "azuread:index/applicationPassword:ApplicationPassword": (
        "applicationId",
        "displayName",
        "endDate",
        "endDateRelative",
        "rotateWhenChanged",
        "startDate",
    ),
    "azuread:index/application:Application": ("templateId",),
    # Our dynamic provider's diff: provisioner/paragon/resource.py REPLACE_ON (a test keeps the two equal).
    "pulumi-python:dynamic/paragon:OAuthCredential": ("projectId", "integrationKey"),
}
"""Per resource type, the inputs (wire names) whose change replaces the resource instead of updating it."""

_SECRET_SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
_SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"
"""Pulumi's wire form of a secret (``pulumi.runtime.rpc``); redacted should one reach a plan file."""
SECRET_MARK: Final = "[secret]"


class DiffInputError(ProvisionerError):
    """A plan file cannot be read or is not a ``plan --format json`` document (one line, names the file)."""


class Action(StrEnum):
    """What ``pulumi up`` would do to one resource, going from BASE to HEAD."""

    ADDED = "added"
    REMOVED = "removed"
    REPLACED = "replaced"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
"""Marks the side of a `Change` where the value does not exist."""


@dataclass(frozen=True)
class Change:
    """One changed value.

    Attributes:
        path: Dotted path, e.g. ``rotateWhenChanged.window`` or ``web.redirectUris``.
        before: Value in BASE, or `ABSENT`.
        after: Value in HEAD, or `ABSENT`.
        forces_replacement: The change replaces the resource (see `REPLACE_ON`).
    """

    path: str
    before: Any
    after: Any
    forces_replacement: bool = False

    def to_json(self) -> dict[str, Any]:
        """``path``, ``before``/``after`` (left out where absent), ``forces_replacement``."""
        data: dict[str, Any] = {"path": self.path}
        if self.before is not ABSENT:
            data["before"] = self.before
        if self.after is not ABSENT:
            data["after"] = self.after
        data["forces_replacement"] = self.forces_replacement
        delta = self.scope_delta()
        if delta is not None:
            data["scopes_added"], data["scopes_removed"] = delta
        return data

    def scope_delta(self) -> tuple[list[str], list[str]] | None:
        """For a change of a scope list (a path ending in ``scopes``: a space-separated string or a list of
        names) present on both sides: the scope names added and removed, in order; None otherwise. A
        resource-qualified scope (``https://…/Dataset.Read.All``) is named by its last part."""
        if self.path.rsplit(".", 1)[-1].lower() not in SCOPE_FIELDS:
            return None
        old, new = _scope_names(self.before), _scope_names(self.after)
        if old is None or new is None:
            return None
        return [n for n in new if n not in old], [n for n in old if n not in new]


SCOPE_FIELDS: Final = frozenset({"scopes", "paragon_scopes"})
"""Last parts of the paths whose changes are shown as scope names added and removed."""


def _scope_names(value: Any) -> list[str] | None:
    if isinstance(value, str):
        words = value.split()
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        words = list(value)
    else:
        return None
    return list(dict.fromkeys(w.rstrip("/").rsplit("/", 1)[-1] for w in words))


def delta_text(added: list[str], removed: list[str]) -> str:
    """``added A, B; removed C`` (either part left out when empty; ``reordered`` when both are)."""
    parts = [f"added {', '.join(added)}"] if added else []
    parts += [f"removed {', '.join(removed)}"] if removed else []
    return "; ".join(parts) or "reordered"


@dataclass(frozen=True)
class ResourceDiff:
    """One resource's verdict and the inputs that differ."""

    name: str
    type: str
    action: Action
    changes: tuple[Change, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "type": self.type,
            "action": str(self.action),
            "changes": [c.to_json() for c in self.changes],
        }


@dataclass(frozen=True)
class PlanDoc:
    """The parts of a ``plan --format json`` document the diff reads."""

    project: str
    stack: str
    at: str
    resources: dict[str, tuple[str, dict[str, Any]]]
    outputs: dict[str, Any]


@dataclass(frozen=True)
class PlanDiff:
    """BASE → HEAD.

    Attributes:
        base: BASE's project, stack and evaluation time.
        head: HEAD's.
        resources: Every resource in either plan, by name.
        outputs: Changed stack outputs.
    """

    base: PlanDoc
    head: PlanDoc
    resources: tuple[ResourceDiff, ...]
    outputs: tuple[Change, ...] = field(default_factory=tuple)

    def count(self, action: Action) -> int:
        """How many resources get ``action``."""
        return sum(1 for r in self.resources if r.action is action)

    @property
    def changed(self) -> bool:
        """Anything to do at all (resources or outputs)."""
        return bool(self.outputs) or any(r.action is not Action.UNCHANGED for r in self.resources)

    def summary(self) -> str:
        """One line, e.g. ``1 to add, 1 to replace, 0 to change, 0 to remove; 3 stack outputs change``."""
        if not self.changed:
            return "no changes"
        parts = [
            f"{self.count(Action.ADDED)} to add",
            f"{self.count(Action.REPLACED)} to replace",
            f"{self.count(Action.CHANGED)} to change",
            f"{self.count(Action.REMOVED)} to remove",
        ]
        outputs = f"; {len(self.outputs)} stack output{'s' if len(self.outputs) != 1 else ''} change"
        return ", ".join(parts) + (outputs if self.outputs else "")

    def to_json(self) -> dict[str, Any]:
        """The diff as one JSON document (unchanged resources left out of ``resources``)."""
        return {
            "base": {"project": self.base.project, "stack": self.base.stack, "at": self.base.at},
            "head": {"project": self.head.project, "stack": self.head.stack, "at": self.head.at},
            "changed": self.changed,
            "summary": {str(a): self.count(a) for a in Action} | {"outputs_changed": len(self.outputs)},
            "resources": [r.to_json() for r in self.resources if r.action is not Action.UNCHANGED],
            "outputs": [c.to_json() for c in self.outputs],
        }


def _redact(value: Any) -> Any:
    """``value`` with every secret replaced by `SECRET_MARK`: Pulumi's secret wire form, any value (but a
    mapping, which is walked) under a key named like a secret (``clientSecret``, ``password``, ...:
    `provisioner.config.secret_guard.is_secret_key`), and any text shaped like a credential."""
    if isinstance(value, dict) and value.get(_SECRET_SIG_KEY) == _SECRET_SIG:
        return SECRET_MARK
    if isinstance(value, dict):
        return {
            k: SECRET_MARK if is_secret_key(str(k)) and not isinstance(v, dict) and v is not None else _redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(v) for v in value]
    if isinstance(value, str) and looks_like_secret_value(value):
        return SECRET_MARK
    return value


def _text(data: Any, key: str) -> str:
    value = data.get(key, "")
    return value if isinstance(value, str) else ""


def parse_plan(data: Any, source: str) -> PlanDoc:
    """Check the shape of a plan document and index its resources by name.

    Args:
        data: The parsed JSON, or None for an empty file (no plan: no resources, no outputs).
        source: The file's name, for messages.

    Raises:
        DiffInputError: Not a plan document (no ``resources`` list of ``{type, name, inputs}``, duplicate names).
    """
    if data is None:
        return PlanDoc("", "", "", {}, {})
    fix = "Fix: pass the output of `python -m provisioner plan --format json`"
    if not isinstance(data, dict) or not isinstance(data.get("resources"), list):
        raise DiffInputError(f"{source}: not a plan document (no `resources` list). {fix}")
    resources: dict[str, tuple[str, dict[str, Any]]] = {}
    for index, item in enumerate(data["resources"]):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("type"), str)
            and isinstance(item.get("inputs", {}), dict)
        ):
            raise DiffInputError(f"{source}: resources[{index}] needs a text name and type and an inputs object. {fix}")
        if item["name"] in resources:
            raise DiffInputError(f"{source}: resources[{index}]: resource {item['name']!r} is listed twice. {fix}")
        resources[item["name"]] = (item["type"], _redact(item.get("inputs", {})))
    outputs = data.get("outputs", {})
    if not isinstance(outputs, dict):
        raise DiffInputError(f"{source}: `outputs` must be an object. {fix}")
    return PlanDoc(_text(data, "project"), _text(data, "stack"), _text(data, "at"), resources, _redact(outputs))


def read_plan(path: Path) -> PlanDoc:
    """Read a ``plan --format json`` file (an empty file is an empty plan).

    Raises:
        DiffInputError: Unreadable, not JSON, or not a plan document.
    """
    try:
        text = read_text_capped(path)
    except (OSError, UnicodeDecodeError) as err:
        reason, fix = unreadable(path, err, "save the output of `python -m provisioner plan --format json` to it")
        raise DiffInputError(f"{path}: cannot read the plan ({reason}). Fix: {fix}") from None
    if not text.strip():
        return parse_plan(None, str(path))
    try:
        data = loads_json(text)
    except ValueError as err:
        raise DiffInputError(
            f"{path}: not JSON ({err}). Fix: pass the output of `python -m provisioner plan --format json`"
        ) from None
    return parse_plan(data, str(path))


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values by dotted path. Lists of plain values are one leaf; lists holding objects are indexed."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out |= flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        out = {}
        for index, item in enumerate(value):
            out |= flatten(item, f"{prefix}[{index}]")
        return out
    return {prefix: value} if prefix else {}


def _top_input(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


def _changes(before: Any, after: Any, replace_on: tuple[str, ...] = ()) -> tuple[Change, ...]:
    old, new = flatten(before), flatten(after)
    found = []
    for path in sorted(old.keys() | new.keys()):
        a, b = old.get(path, ABSENT), new.get(path, ABSENT)
        if a is ABSENT or b is ABSENT or a != b or type(a) is not type(b):
            found.append(Change(path, a, b, _top_input(path) in replace_on))
    return tuple(found)


def diff_plans(base: PlanDoc, head: PlanDoc) -> PlanDiff:
    """Compare two plans (see the module docstring for the verdicts)."""
    results: list[ResourceDiff] = []
    for name in sorted(base.resources.keys() | head.resources.keys()):
        if name not in base.resources:
            kind, inputs = head.resources[name]
            results.append(ResourceDiff(name, kind, Action.ADDED, _changes({}, inputs)))
            continue
        if name not in head.resources:
            kind, inputs = base.resources[name]
            results.append(ResourceDiff(name, kind, Action.REMOVED, _changes(inputs, {})))
            continue
        (old_kind, old_inputs), (kind, inputs) = base.resources[name], head.resources[name]
        if old_kind != kind:
            changes = (Change("(type)", old_kind, kind, True), *_changes(old_inputs, inputs))
            results.append(ResourceDiff(name, kind, Action.REPLACED, changes))
            continue
        changes = _changes(old_inputs, inputs, REPLACE_ON.get(kind, ()))
        if any(c.forces_replacement for c in changes):
            action = Action.REPLACED
        else:
            action = Action.CHANGED if changes else Action.UNCHANGED
        results.append(ResourceDiff(name, kind, action, changes))
    return PlanDiff(base, head, tuple(results), _changes(base.outputs, head.outputs))


# --- rendering ----------------------------------------------------------------------------------------

_SIGN: Final = {
    Action.ADDED: "+",
    Action.REMOVED: "-",
    Action.REPLACED: "+-",
    Action.CHANGED: "~",
    Action.UNCHANGED: " ",
}


def show(value: Any) -> str:
    """A value for people: text as is, everything else as JSON, `ABSENT` as ``(none)``."""
    if value is ABSENT:
        return "(none)"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def short_type(kind: str) -> str:
    """``azuread:index/applicationPassword:ApplicationPassword`` → ``ApplicationPassword``."""
    return kind.rsplit(":", 1)[-1]


def _heading(diff: PlanDiff) -> str:
    stack = diff.head.stack or diff.base.stack or "?"
    where = f"stack {stack}" + (f" (was {diff.base.stack})" if diff.base.stack and diff.base.stack != stack else "")
    project = diff.head.project or diff.base.project
    dates = f"base as of {diff.base.at or '-'}, head as of {diff.head.at or '-'}"
    return f"{'project ' + project + ', ' if project else ''}{where}; {dates}"


def render_text(diff: PlanDiff) -> str:
    """Plain text for a terminal or a CI log."""
    lines = [f"Plan diff: {_heading(diff)}", diff.summary()]
    for resource in diff.resources:
        if resource.action is Action.UNCHANGED:
            continue
        lines.append(f"\n{_SIGN[resource.action]} {resource.name}  {resource.type}  ({resource.action})")
        for change in resource.changes:
            if resource.action is Action.ADDED:
                lines.append(f"    {change.path}: {show(change.after)}")
            elif resource.action is Action.REMOVED:
                lines.append(f"    {change.path}: {show(change.before)}")
            else:
                lines.append(f"    {change.path}: {_before_after(change)}")
    if diff.outputs:
        lines.append("\nStack outputs")
        lines += [f"    {c.path}: {_before_after(c)}" for c in diff.outputs]
    return "\n".join(lines) + "\n"


def _before_after(change: Change) -> str:
    """``before -> after``, or for a scope list the names added and removed."""
    forces = "  (forces replacement)" if change.forces_replacement else ""
    delta = change.scope_delta()
    if delta is not None:
        return f"{delta_text(*delta)}{forces}"
    return f"{show(change.before)} -> {show(change.after)}{forces}"


def _cells(change: Change) -> tuple[str, str]:
    """Before and after cells of a markdown row; a scope list shows its removed and added names."""
    delta = change.scope_delta()
    if delta is None:
        return _code(change.before), _code(change.after)
    added, removed = delta
    if not added and not removed:
        return "reordered", "reordered"
    return (
        "removed " + ", ".join(_code(n) for n in removed) if removed else "",
        "added " + ", ".join(_code(n) for n in added) if added else "",
    )


def _code(value: Any) -> str:
    """A value inside a markdown table cell: HTML-escaped ``<code>``, pipes and newlines neutralised."""
    text = html.escape(show(value)).replace("|", "&#124;").replace("\n", " ")
    return f"<code>{text}</code>"


_LABEL: Final = {
    Action.ADDED: "add",
    Action.REMOVED: "remove",
    Action.REPLACED: "**replace**",
    Action.CHANGED: "update",
}


def render_markdown(diff: PlanDiff) -> str:
    """A pull request comment: marker, heading, summary, a table, one collapsible block per resource."""
    stack = diff.head.stack or diff.base.stack
    lines = [MARKER, f"<!-- provisioner-plan-diff:stack={html.escape(stack)} -->" if stack else ""]
    lines = [line for line in lines if line]
    lines += [f"### Provisioner plan: {html.escape(_heading(diff))}", "", f"**{diff.summary()}**", ""]
    touched = [r for r in diff.resources if r.action is not Action.UNCHANGED]
    if touched:
        lines += ["| Action | Resource | Type | Inputs |", "|---|---|---|---|"]
        for r in touched:
            names = list(dict.fromkeys(_top_input(c.path) for c in r.changes))
            shown = ", ".join(_code(n) for n in names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
            lines.append(f"| {_LABEL[r.action]} | {_code(r.name)} | {_code(short_type(r.type))} | {shown} |")
        lines.append("")
    for r in touched:
        lines += [
            f"<details><summary>{_LABEL[r.action].strip('*')} <code>{html.escape(r.name)}</code> "
            f"({html.escape(r.type)})</summary>",
            "",
            "| Input | Before | After | Replaces |",
            "|---|---|---|---|",
        ]
        for c in r.changes:
            forces = "yes" if c.forces_replacement else ""
            before, after = _cells(c)
            lines.append(f"| {_code(c.path)} | {before} | {after} | {forces} |")
        lines += ["", "</details>", ""]
    if diff.outputs:
        lines += [
            f"<details><summary>Stack outputs: {len(diff.outputs)} changed</summary>",
            "",
            "| Output | Before | After |",
            "|---|---|---|",
        ]
        lines += [f"| {_code(c.path)} | {' | '.join(_cells(c))} |" for c in diff.outputs]
        lines += ["", "</details>", ""]
    lines.append("<sub>[secret]: never shown. (known after deploy): assigned by Entra or Paragon.</sub>")
    return "\n".join(lines) + "\n"


def render_json(diff: PlanDiff) -> str:
    """`PlanDiff.to_json` as indented JSON text."""
    return json.dumps(diff.to_json(), indent=2, ensure_ascii=False) + "\n"
