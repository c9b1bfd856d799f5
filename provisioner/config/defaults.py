"""Shared defaults: ``defaults.yaml`` beside the stack files, merged under each of them.

A platform team keeps one YAML per stack; what the stacks share (the Paragon host, the rotation policy,
the scopes of an integration) lives once in ``defaults.yaml`` in the same folder. Rules:

1. ``defaults.yaml`` has the shape of a stack file, every key optional, plus one key of its own,
   ``integration_defaults``. It is found beside the stack file (same folder) and is optional.
2. Mappings merge key by key, at every depth; where both files set a key, the stack file wins.
3. Lists and single values are replaced whole, never concatenated: a stack's ``scopes`` replaces the
   defaults' ``scopes``.
4. ``integrations.<key>`` in ``defaults.yaml`` applies only to stacks that list ``<key>``; a stack takes it
   as it is with ``<key>: {}``. Defaults never add an integration to a stack.
5. ``integration_defaults`` is merged under every integration a stack lists, below rule 4:
   stack ``integrations.<key>`` > defaults ``integrations.<key>`` > defaults ``integration_defaults``.
   An integration that shares another's app registration (``app:``) takes no app-level setting
   (``secret``, ``owners``, ``display_name``, ...) from ``integration_defaults``: those come from the app's
   owner.
6. Every value keeps the file and line it came from, so a bad value taken from the defaults is reported at
   ``defaults.yaml:LINE`` (and unknown keys there are errors, as in a stack file).

The merge works on the line-annotated documents of `provisioner.config.yaml_source`; validation happens after it,
on the merged data, by the one config model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from provisioner.config.yaml_source import KeyPath, YamlDocument
from provisioner.errors import Problem, Severity

DEFAULTS_FILE: Final = "defaults.yaml"
INTEGRATION_DEFAULTS: Final = "integration_defaults"


@dataclass
class MergedDocument(YamlDocument):
    """A stack file with ``defaults.yaml`` merged under it.

    ``path`` is the stack file; ``lines``, ``raw``, ``reported`` and ``problems`` are those of both files
    together; ``files`` names, per key path, the file its line belongs to (the stack file where absent).

    Attributes:
        files: File of each key path whose value came from ``defaults.yaml``.
    """

    files: dict[KeyPath, Path] = field(default_factory=dict)

    def file_of(self, path: KeyPath) -> Path:
        """The file the deepest known prefix of ``path`` came from."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.files.get(path[:end], self.path)
        return self.path

    def where(self, path: KeyPath) -> str:
        """``file:line`` of the deepest known prefix of ``path``, naming the file the value came from."""
        line = self.line_of(path)
        return f"{self.file_of(path)}:{line}" if line is not None else str(self.path)

    def problem(
        self, path: KeyPath, message: str, fix: str = "", severity: Severity = "error", line: int | None = None
    ) -> Problem:
        """A `Problem` at ``path``, in the file its value came from."""
        record = super().problem(path, message, fix, severity, line)
        return replace(record, file=str(self.file_of(path)))


def defaults_for(stack_file: Path) -> Path | None:
    """The ``defaults.yaml`` beside ``stack_file``, or None (also when ``stack_file`` is that file)."""
    candidate = stack_file.parent / DEFAULTS_FILE
    if stack_file.name == DEFAULTS_FILE or not candidate.is_file():
        return None
    return candidate


class _Merger:
    def __init__(self, stack: YamlDocument, defaults: YamlDocument, app_level_keys: frozenset[str]) -> None:
        self.app_level_keys = app_level_keys
        self.stack = stack
        self.defaults = defaults
        self.lines: dict[KeyPath, int] = {}
        self.raw: dict[KeyPath, str] = {}
        self.reported: set[KeyPath] = set()
        self.files: dict[KeyPath, Path] = {}

    def _copy(self, doc: YamlDocument, source: KeyPath, target: KeyPath) -> None:
        """Carry the lines, raw texts and reported marks of ``source`` and everything under it, from ``doc``,
        over to ``target``."""
        for path, line in doc.lines.items():
            if path[: len(source)] == source:
                moved = target + path[len(source) :]
                self.lines[moved] = line
                if doc is self.defaults:
                    self.files[moved] = doc.path
                else:
                    self.files.pop(moved, None)
        for path, text in doc.raw.items():
            if path[: len(source)] == source:
                self.raw[target + path[len(source) :]] = text
        for path in doc.reported:
            if path[: len(source)] == source:
                self.reported.add(target + path[len(source) :])

    def merge(self, low: Any, low_doc: YamlDocument, low_at: KeyPath, high: Any, at: KeyPath) -> Any:
        """Merge ``low`` (from ``low_doc`` at ``low_at``) under ``high`` (stack data already at ``at``)."""
        if not (isinstance(low, dict) and isinstance(high, dict)):
            return high
        merged = dict(high)
        for key, value in low.items():
            if key not in merged:
                merged[key] = value
                self._copy(low_doc, (*low_at, str(key)), (*at, str(key)))
            else:
                merged[key] = self.merge(value, low_doc, (*low_at, str(key)), merged[key], (*at, str(key)))
        return merged

    def run(self) -> Any:
        high = self.stack.data
        low = self.defaults.data
        self._copy(self.stack, (), ())
        shared = low.get(INTEGRATION_DEFAULTS) if isinstance(low, dict) else None
        low_top = {k: v for k, v in low.items() if k != INTEGRATION_DEFAULTS} if isinstance(low, dict) else low
        integrations = high.get("integrations") if isinstance(high, dict) else None
        if isinstance(integrations, dict):
            # A stack's `<key>:` with nothing under it takes the defaults as they are.
            high = {**high, "integrations": {k: ({} if v is None else v) for k, v in integrations.items()}}
            low_integrations = low_top.get("integrations") if isinstance(low_top, dict) else None
            if isinstance(low_integrations, dict):
                low_top = {**low_top, "integrations": {k: v for k, v in low_integrations.items() if k in integrations}}
        elif isinstance(low_top, dict):  # defaults never add an integration, nor the `integrations:` key
            low_top = {k: v for k, v in low_top.items() if k != "integrations"}
        merged = self.merge(low_top, self.defaults, (), high, ())
        if isinstance(shared, dict) and isinstance(integrations, dict):
            merged["integrations"] = {
                key: self.merge(
                    self._shared_for(shared, value),
                    self.defaults,
                    (INTEGRATION_DEFAULTS,),
                    value,
                    ("integrations", str(key)),
                )
                for key, value in merged["integrations"].items()
            }
        return merged

    def _shared_for(self, shared: dict[Any, Any], integration: Any) -> dict[Any, Any]:
        """``integration_defaults`` for one integration: without app-level keys when it shares an app."""
        if isinstance(integration, dict) and integration.get("app") is not None:
            return {k: v for k, v in shared.items() if k not in self.app_level_keys}
        return shared


def _shape_problems(defaults: YamlDocument) -> list[Problem]:
    data = defaults.data
    if data is None:
        return []
    if not isinstance(data, dict):
        return [
            Problem(
                str(defaults.path),
                None,
                "",
                "the top level must be a mapping like a stack file's",
                "see docs/config-repo.md",
            )
        ]
    return [
        defaults.problem((key,), "must be a mapping of settings", "indent the settings under it")
        for key in (INTEGRATION_DEFAULTS, "integrations", "paragon")
        if key in data and not isinstance(data[key], dict)
    ]


def merge_defaults(
    stack: YamlDocument, defaults: YamlDocument, app_level_keys: frozenset[str] = frozenset()
) -> YamlDocument:
    """``stack`` with ``defaults`` merged under it by the rules in the module docstring.

    Returns the stack document unchanged (with the problems of both files) when either file could not be
    parsed or the stack is not a mapping (the loader reports that); otherwise the merged document, carrying
    the problems of both files (duplicate keys, pasted secrets, a defaults file of the wrong shape).
    """
    problems = [*stack.problems, *defaults.problems, *_shape_problems(defaults)]
    if stack.fatal or defaults.fatal or not isinstance(stack.data, (dict, type(None))):
        return replace(stack, problems=problems, fatal=stack.fatal or defaults.fatal)
    if stack.data is None:
        stack = YamlDocument(path=stack.path, data={})
    merger = _Merger(stack, defaults, app_level_keys)
    data = merger.run()
    return MergedDocument(
        path=stack.path,
        data=data,
        lines=merger.lines,
        raw=merger.raw,
        problems=problems,
        reported=merger.reported,
        files=merger.files,
    )


def apply_defaults(
    doc: YamlDocument, read: Callable[[Path], YamlDocument], app_level_keys: frozenset[str] = frozenset()
) -> YamlDocument:
    """The hook in `provisioner.config.load_config_report`: merge the ``defaults.yaml`` beside ``doc.path``.

    Args:
        doc: The stack file as read.
        read: How to read ``defaults.yaml`` (the loader's own reader, so both files get the same checks).
        app_level_keys: Settings of the app registration itself, not taken from ``integration_defaults`` by an
            integration that shares another's app (rule 5).

    Returns:
        ``doc`` itself when there is no ``defaults.yaml`` beside it, else the merged document.

    Raises:
        ConfigError: ``defaults.yaml`` cannot be read (raised by ``read``; one line naming it).
    """
    path = defaults_for(doc.path)
    if path is None:
        return doc
    return merge_defaults(doc, read(path), app_level_keys)
