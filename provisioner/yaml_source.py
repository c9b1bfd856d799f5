"""Read a YAML file into plain Python data with line numbers, refusing YAML's traps.

pyyaml silently keeps the last of two duplicate keys; here a duplicate key is an error naming both lines.
Unquoted ``yes/no/on/off/true/false`` become booleans (YAML 1.1, which pyyaml follows); the config model is
strict, so a boolean where a string is meant fails there, with a hint to quote the value.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    """Render ``("integrations", "powerbi", "scopes", 1)`` as ``integrations.powerbi.scopes[1]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


@dataclass
class YamlDocument:
    """A parsed YAML file.

    Attributes:
        path: The file read.
        data: The document as dicts, lists and scalars (None for an empty file).
        lines: 1-based line of each key path (mapping keys and sequence items).
        problems: Structural problems found while reading (duplicate keys), as one-line messages.
    """

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def where(self, path: KeyPath) -> str:
        """``file:line`` for the deepest known prefix of ``path`` (just ``file`` when none is known)."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return f"{self.path}:{line}"
        return str(self.path)


class _Builder:
    def __init__(self, doc: YamlDocument) -> None:
        self._doc = doc
        self._scalars = yaml.SafeLoader("")
        self._seen: set[int] = set()

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        if isinstance(node, yaml.CollectionNode):
            if id(node) in self._seen:  # an alias (*name): also stops alias bombs and self-references
                self._doc.problems.append(
                    f"{self._doc.path}:{node.start_mark.line + 1}: {format_path(path)}: YAML aliases (*name) are "
                    "not supported in config. Fix: write the values out"
                )
                return None
            self._seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            first_line: dict[Hashable, int] = {}
            for key_node, value_node in node.value:
                key = self.build(key_node, path)
                line = key_node.start_mark.line + 1
                if not isinstance(key, Hashable) or isinstance(key, (dict, list)):
                    self._doc.problems.append(f"{self._doc.path}:{line}: {format_path(path)}: a key must be a scalar.")
                    continue
                here = (*path, str(key))
                if key in first_line:
                    self._doc.problems.append(
                        f"{self._doc.path}:{line}: {format_path(here)}: duplicate key (first set on line "
                        f"{first_line[key]}); YAML would silently keep only the last one. "
                        "Fix: keep one of them."
                    )
                    continue
                first_line[key] = line
                self._doc.lines[here] = line
                result[key] = self.build(value_node, here)
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self._doc.lines[(*path, index)] = item.start_mark.line + 1
                items.append(self.build(item, (*path, index)))
            return items
        return self._scalars.construct_object(node, deep=True)


def read_yaml(path: Path) -> YamlDocument:
    """Parse one YAML file.

    Args:
        path: The file to read (UTF-8).

    Returns:
        The document, its key lines, and any duplicate-key problems (the caller decides how to report).

    Raises:
        OSError: The file cannot be read.
        yaml.YAMLError: The text is not YAML (with a line and column in the message).
    """
    text = path.read_text(encoding="utf-8")
    doc = YamlDocument(path=path, data=None)
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if node is not None:
        doc.data = _Builder(doc).build(node, ())
    return doc
