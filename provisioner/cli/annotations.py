"""Config problems as GitHub Actions workflow annotations, so they show on the pull request's diff.

A problem line ``file:line: key.path: what is wrong. Fix: ...`` becomes
``::error file=<file>,line=<line>,title=<title>::<message>``. Escaping follows GitHub's workflow command
rules ("Workflow commands for GitHub Actions", GitHub docs; the runner's ``ActionCommand`` escaping):
in the message ``%``, ``\\r`` and ``\\n`` become ``%25``, ``%0D`` and ``%0A``; in a property value ``:`` and
``,`` also become ``%3A`` and ``%2C``. Files are given relative to the working directory (the repository
root in a workflow) so GitHub can place them on the diff.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final, Literal

TITLE: Final = "Invalid provisioner config"
WARNING_TITLE: Final = "Provisioner config warning"
_WITH_LINE = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+): (?P<message>.*)$", re.DOTALL)
_FILE_ONLY = re.compile(r"^(?P<file>[^\n:]+?): (?P<message>.*)$", re.DOTALL)


def escape_data(text: str) -> str:
    """Escape a workflow command's message: ``%``, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value: as `escape_data`, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _relative(file: str, root: Path) -> str:
    path = Path(file)
    if path.is_absolute():
        try:
            return path.relative_to(root.resolve()).as_posix()
        except ValueError:
            return file
    return path.as_posix()


def github_annotation(problem: str, root: Path, level: Literal["error", "warning"] = "error") -> str:
    """One ``::error`` (or ``::warning``) workflow command for one problem line.

    Args:
        problem: ``file:line: message`` or ``file: message`` (any other text is kept whole, without a file).
        root: The working directory; absolute file paths under it are made relative to it.
        level: ``error`` for a problem, ``warning`` for a warning.

    Returns:
        The command, one line.
    """
    title = TITLE if level == "error" else WARNING_TITLE
    match = _WITH_LINE.match(problem) or _FILE_ONLY.match(problem)
    if match is None:
        return f"::{level} title={escape_property(title)}::{escape_data(problem)}"
    props = [f"file={escape_property(_relative(match['file'], root))}"]
    if "line" in match.groupdict() and match["line"]:
        props.append(f"line={match['line']}")
    props.append(f"title={escape_property(title)}")
    return f"::{level} {','.join(props)}::{escape_data(match['message'])}"
