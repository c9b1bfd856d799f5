"""Read a YAML file into plain Python data with line numbers, refusing YAML's traps.

pyyaml silently keeps the last of two duplicate keys; here a duplicate key is an error naming both lines.
Unquoted ``yes/no/on/off/true/false`` become booleans (YAML 1.1, which pyyaml follows); the config model is
strict, so a boolean where a string is meant fails there, with a hint to quote the value.

Every way YAML can fail becomes a keyed `Problem` with a line and a fix, never an exception from here on:
tabs in indentation, syntax errors, aliases and merge keys (``*name``, ``<<: *name``; each reported at the
alias's own line, and never expanded, so alias bombs cost nothing), tags (``!Ref``, ``!!binary``,
``!!python/...``, ``!!set``),
and plain values the safe loader's constructors cannot build (``2025-13-01``, 29 February in a common
year, a number too long for Python). Keys and values that look like secrets are refused without their
value (`provisioner.config.secret_guard`) and left out of the data.

A key or value holding a control, format or line-separator character (Unicode categories Cc, Cf, Zl, Zp:
a newline or tab inside a value, ESC, bidi overrides such as U+202E, zero-width spaces) is refused too:
no config value needs one (names, GUIDs, URLs and scopes are single-line text, so a tab or a line break
from a block scalar ``|`` is refused as well), and they can forge or hide text in messages and logs. Messages
show such characters escaped (``\\x1b``, ``\\u202e``), never raw: `format_path` and `shown` escape them.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from provisioner.catalog import CATALOG
from provisioner.config.safe_io import read_text_capped
from provisioner.config.secret_guard import (
    SECRETS_ADVICE,
    WHERE_SECRETS_GO,
    SecretKeyCase,
    is_secret_key,
    looks_like_secret_value,
    secret_key_advice,
)
from provisioner.errors import Problem, Severity, control_characters, escape_char, escape_controls

KeyPath = tuple[str | int, ...]

_YAML: Final = "tag:yaml.org,2002:"
_PLAIN_SCALAR_TAGS: Final = frozenset(_YAML + t for t in ("null", "bool", "int", "float", "str", "timestamp"))
_TAG_WORDS: Final = {
    _YAML + "timestamp": "a date",
    _YAML + "int": "a whole number",
    _YAML + "float": "a number",
    _YAML + "bool": "a boolean",
}
_SETTING_TAGS: Final = frozenset(_YAML + t for t in ("null", "bool", "int", "float", "timestamp"))
"""Scalar kinds that cannot be a secret (a secret is text)."""
_TAB_INDENT: Final = re.compile(r"^ *\t")
_LINE_KEY: Final = re.compile(r"^[ \t]*(?:- +)?([^\s:#'\"\[\]{}][^:#]*?)\s*:(?:\s|$)")


def format_path(path: KeyPath) -> str:
    """Render ``("integrations", "powerbi", "scopes", 1)`` as ``integrations.powerbi.scopes[1]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return escape_controls(out) or "(top level)"


def shown(raw: str, limit: int = 60) -> str:
    """A value's text for a message: as written (control characters escaped), cut to ``limit`` characters."""
    raw = escape_controls(raw)
    return raw if len(raw) <= limit else raw[: limit - 3] + "..."


def short_tag(tag: str) -> str:
    """``tag:yaml.org,2002:binary`` -> ``!!binary``; other tags as written (``!Ref``)."""
    return "!!" + tag.removeprefix(_YAML) if tag.startswith(_YAML) else tag


@dataclass
class YamlDocument:
    """A parsed YAML file.

    Attributes:
        path: The file read.
        data: The document as dicts, lists and scalars (None for an empty or unreadable file).
        lines: 1-based line of each key path (mapping keys and sequence items).
        raw: Each scalar value's text exactly as written in the file (quotes included), by key path.
        problems: Problems found while reading, as records.
        reported: Key paths already reported (their value is left out or None); later checks skip them.
        fatal: True when the file could not be read as a whole (tabs, syntax): ``data`` is None.
    """

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    raw: dict[KeyPath, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    reported: set[KeyPath] = field(default_factory=set)
    fatal: bool = False

    def line_of(self, path: KeyPath) -> int | None:
        """Line of the deepest known prefix of ``path`` (None when none is known)."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def where(self, path: KeyPath) -> str:
        """``file:line`` for the deepest known prefix of ``path`` (just ``file`` when none is known)."""
        line = self.line_of(path)
        return f"{self.path}:{line}" if line is not None else str(self.path)

    def problem(
        self, path: KeyPath, message: str, fix: str = "", severity: Severity = "error", line: int | None = None
    ) -> Problem:
        """A `Problem` at ``path`` (its line unless ``line`` is given)."""
        return Problem(
            file=str(self.path),
            line=line if line is not None else self.line_of(path),
            key=format_path(path) if path else "",
            message=message,
            fix=fix,
            severity=severity,
        )

    def add(self, path: KeyPath, message: str, fix: str = "", line: int | None = None) -> None:
        """Record an error at ``path`` and mark the path reported."""
        self.problems.append(self.problem(path, message, fix, line=line))
        self.reported.add(path)

    def is_reported(self, path: KeyPath) -> bool:
        """True when ``path`` or one of its parents was already reported."""
        return any(path[:end] in self.reported for end in range(len(path), -1, -1))


_MERGE_TAG: Final = _YAML + "merge"
_ALIAS_FIX: Final = "write the values out in full"


class _AliasNode(yaml.ScalarNode):
    """Stands for an alias (``*name``) where it is written; the anchored node is never shared or expanded."""


class _Loader(yaml.SafeLoader):
    """The safe loader, composing each alias as an `_AliasNode` at the alias's own position."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()  # type: ignore[no-untyped-call]
            return _AliasNode("alias", str(event.anchor), event.start_mark, event.end_mark)
        return super().compose_node(parent, index)


def _control_message(text: str, what: str) -> str:
    chars = ", ".join(escape_char(ch) for ch in control_characters(text))
    return f"{what} contains the control or invisible character(s) {chars}, which no config value needs"


class _Builder:
    def __init__(self, doc: YamlDocument, text: str, known_keys: frozenset[str]) -> None:
        self._doc = doc
        self._text = text
        self._known_keys = known_keys
        self._scalars = yaml.SafeLoader("")

    def _secret_key(self, key: str, value_node: yaml.Node) -> bool:
        if key in self._known_keys:
            return (
                key == "secret"
                and isinstance(value_node, yaml.ScalarNode)
                and value_node.tag == _YAML + "str"
                and bool(value_node.value.strip())
            )
        return is_secret_key(key)

    def _secret_case(self, node: yaml.Node) -> SecretKeyCase:
        """What a key named like a secret holds (`secret_key_advice` words the refusal by it)."""
        if isinstance(node, yaml.ScalarNode) and not isinstance(node, _AliasNode):
            empty = node.tag == _YAML + "null" or not str(node.value).strip()
            return SecretKeyCase.EMPTY if empty else SecretKeyCase.VALUE
        if isinstance(node, yaml.MappingNode) and node.value and self._only_settings(node):
            return SecretKeyCase.SETTINGS
        return SecretKeyCase.UNKNOWN

    def _only_settings(self, node: yaml.MappingNode) -> bool:
        """Every key below is one of the config's own (not a secret name), every value a number, date,
        boolean or mapping of the same."""
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value not in self._known_keys:
                return False
            if isinstance(value_node, yaml.MappingNode):
                if not self._only_settings(value_node):
                    return False
            elif not isinstance(value_node, yaml.ScalarNode) or value_node.tag not in _SETTING_TAGS:
                return False
        return True

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        line = node.start_mark.line + 1
        if isinstance(node, _AliasNode):
            self._doc.add(
                path, f"YAML alias *{escape_controls(node.value)} is not supported in config", _ALIAS_FIX, line
            )
            return None
        if isinstance(node, yaml.CollectionNode):
            expected = _YAML + ("map" if isinstance(node, yaml.MappingNode) else "seq")
            if node.tag != expected:
                self._doc.add(
                    path, f"YAML tag {short_tag(node.tag)} is not supported in config", "remove the tag", line
                )
                return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self._doc.lines[(*path, index)] = item.start_mark.line + 1
                items.append(self.build(item, (*path, index)))
            return items
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        return None

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_line: dict[Hashable, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                self._doc.add(
                    (*path, "<<"), "YAML merge keys (<<: *name) are not supported in config", _ALIAS_FIX, line
                )
                continue
            if isinstance(key_node, _AliasNode) or not isinstance(key_node, yaml.ScalarNode):
                what = "an alias" if isinstance(key_node, _AliasNode) else "a list or mapping"
                self._doc.add(path, f"a key must be a plain name, not {what}", "write `name: value`", line)
                continue
            if control_characters(key_node.value):
                self._doc.add(
                    (*path, key_node.value),
                    _control_message(key_node.value, "this key"),
                    "retype the key with plain characters",
                    line,
                )
                continue
            if looks_like_secret_value(str(key_node.value)):
                # The key's own text is secret-shaped: never shown, never marks its parent reported.
                self._doc.problems.append(
                    Problem(
                        file=str(self._doc.path),
                        line=line,
                        key=format_path(path),  # "(top level)" for a top-level key
                        message="the key on this line (its name, not its value) looks like a client secret or an "
                        "access token (JWT, bearer token, password, key or signature); secrets never go in this file",
                        fix=f"delete the line (and rotate the secret if it was ever committed); {WHERE_SECRETS_GO}",
                    )
                )
                continue
            key = self._scalar(key_node, path, record=False)
            if not isinstance(key, Hashable):
                continue
            here = (*path, str(key))
            if key in first_line:
                self._doc.add(
                    here,
                    f"duplicate key (first set on line {first_line[key]}); YAML would silently keep only the last one",
                    "keep one of them",
                    line,
                )
                continue
            first_line[key] = line
            self._doc.lines[here] = line
            if self._secret_key(str(key), value_node):
                self._doc.add(here, *secret_key_advice(self._secret_case(value_node), _dashboard_setting(here)))
                continue
            result[key] = self.build(value_node, here)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: KeyPath, record: bool = True) -> Any:
        """A scalar's value; ``record`` keeps its raw text under ``path`` (not for keys: ``path`` is the parent)."""
        line = node.start_mark.line + 1
        if control_characters(node.value):
            self._doc.add(path, _control_message(node.value, "the value"), "retype it with plain characters", line)
            return None
        if looks_like_secret_value(str(node.value)):
            self._doc.add(
                path,
                "this value looks like a client secret or an access token (JWT, bearer token, password, key or "
                "signature); secrets never go in this file",
                SECRETS_ADVICE,
                line,
            )
            return None
        raw = self._text[node.start_mark.index : node.end_mark.index]
        if path and record:
            self._doc.raw[path] = raw
        if node.tag not in _PLAIN_SCALAR_TAGS:
            self._doc.add(
                path,
                f"YAML tag {short_tag(node.tag)} is not supported in config (only plain values are)",
                "remove the tag and write the value itself",
                line,
            )
            return None
        try:
            return self._scalars.construct_object(node, deep=True)
        except Exception as err:  # noqa: BLE001 - whatever a constructor raises becomes a keyed problem
            what = _TAG_WORDS.get(node.tag, "a value")
            if isinstance(err, (yaml.YAMLError, ValueError, OverflowError)):
                reason = str(getattr(err, "problem", None) or err).split("\n")[0]
            else:
                reason = "it is not written in that form"
            if "limit" in reason and "digits" in reason:
                reason = "it has more digits than Python converts"
            if node.tag == _YAML + "timestamp":
                fix = "write a real date as YYYY-MM-DD, or quote the value if it is text"
            elif node.tag in (_YAML + "int", _YAML + "float"):
                digits = "digits" in reason
                fix = f"write {'a smaller number' if digits else 'digits only'}, or quote the value if it is text"
            else:
                fix = "quote the value if it is text"
            self._doc.add(path, f"{shown(raw)} reads as {what} but YAML cannot build it ({reason})", fix, line)
            return None


def _dashboard_setting(path: KeyPath) -> str | None:
    """``the <setting> of <title>`` when ``path`` is ``integrations.<key>.<name>`` (or under its ``paragon_values``)
    and ``<name>`` is one of its secret Paragon settings (`provisioner.catalog.ExtraValue`), else None."""
    if len(path) < 3 or path[0] != "integrations":
        return None
    entry = CATALOG.get(str(path[1]))
    if entry is None or any(isinstance(p, int) for p in path):
        return None
    names = {x.name.lower(): x.name for x in entry.extras if x.secret}
    name = names.get(str(path[-1]).lower())
    return f"the {name} of {entry.title}" if name else None


def _tab_problems(doc: YamlDocument, text: str) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        if _TAB_INDENT.match(line) and line.strip():
            key = _LINE_KEY.match(line)
            doc.problems.append(
                Problem(
                    file=str(doc.path),
                    line=number,
                    key=key.group(1) if key else "",
                    message="indented with a tab; YAML allows only spaces in indentation",
                    fix="indent with spaces",
                )
            )


def _syntax_problem(doc: YamlDocument, err: yaml.YAMLError) -> Problem:
    mark = getattr(err, "problem_mark", None)
    problem = str(getattr(err, "problem", None) or "not valid YAML")
    fix = "check the indentation and quoting on this line and the one before"
    if "mapping values are not allowed" in problem:
        fix = "quote a value that contains ': ', or line this key up with its siblings"
    elif "could not find expected ':'" in problem or "expected <block end>" in problem:
        fix = "line this key up with the keys it belongs with (same number of spaces)"
    return Problem(
        file=str(doc.path),
        line=mark.line + 1 if mark is not None else None,
        key="",
        message=f"not valid YAML: {problem}",
        fix=fix,
    )


def read_yaml(path: Path, known_keys: Iterable[str] = ()) -> YamlDocument:
    """Parse one YAML file; problems are collected, not raised.

    Args:
        path: The file to read (UTF-8).
        known_keys: Key names of the config model: never taken for secret keys (``secret:`` holding a mapping
            is the rotation policy; holding a plain value, it is a pasted secret).

    Returns:
        The document, its key lines, raw value texts and problems (``fatal`` when it could not be parsed).

    Raises:
        OSError: The file cannot be read.
        UnicodeDecodeError: The file is not UTF-8.
    """
    text = read_text_capped(path)
    doc = YamlDocument(path=path, data=None)
    _tab_problems(doc, text)
    if doc.problems:
        doc.fatal = True
        return doc
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as err:
        doc.problems.append(_syntax_problem(doc, err))
        doc.fatal = True
        return doc
    if node is not None:
        doc.data = _Builder(doc, text, frozenset(known_keys)).build(node, ())
    return doc
