"""Config problems as CI annotations (GitHub Actions or Azure Pipelines), so they show on the right line.

A problem line ``file:line: key.path: what is wrong. Fix: ...`` becomes
``::error file=<file>,line=<line>,title=<title>::<message>``. Escaping follows GitHub's workflow command
rules ("Workflow commands for GitHub Actions", GitHub docs; the runner's ``ActionCommand`` escaping):
in the message ``%``, ``\\r`` and ``\\n`` become ``%25``, ``%0D`` and ``%0A``; in a property value ``:`` and
``,`` also become ``%3A`` and ``%2C``. Files are given relative to the working directory (the repository
root in a workflow) so GitHub can place them on the diff.

Azure Pipelines: a problem becomes the logging command
``##vso[task.logissue type=error;sourcepath=<file>;linenumber=<line>]<message>`` ("Logging commands", Azure
DevOps docs). Escaping follows the agent's task library (microsoft/azure-pipelines-task-lib,
``node/taskcommand.ts``): in the message ``%``, ``\\r`` and ``\\n`` become ``%AZP25``, ``%0D`` and ``%0A``; in a
property value ``]`` and ``;`` also become ``%5D`` and ``%3B``. A command is one line, so no problem text can
end it early or start another.
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


def escape_azure_data(text: str) -> str:
    """Escape an Azure Pipelines logging command's message: ``%``, CR and LF."""
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def escape_azure_property(text: str) -> str:
    """Escape an Azure Pipelines logging command's property value: as `escape_azure_data`, plus ``]`` and ``;``."""
    return escape_azure_data(text).replace("]", "%5D").replace(";", "%3B")


def azure_pipelines_issue(problem: str, root: Path, level: Literal["error", "warning"] = "error") -> str:
    """One ``##vso[task.logissue ...]`` logging command for one problem line.

    Args:
        problem: ``file:line: message`` or ``file: message`` (any other text is kept whole, without a file).
        root: The working directory; absolute file paths under it are made relative to it.
        level: ``error`` for a problem, ``warning`` for a warning.

    Returns:
        The command, one line: ``##vso[task.logissue type=<level>;sourcepath=<file>;linenumber=<n>]<message>``.
    """
    match = _WITH_LINE.match(problem) or _FILE_ONLY.match(problem)
    if match is None:
        return f"##vso[task.logissue type={level}]{escape_azure_data(problem)}"
    props = [f"type={level}", f"sourcepath={escape_azure_property(_relative(match['file'], root))}"]
    if "line" in match.groupdict() and match["line"]:
        props.append(f"linenumber={match['line']}")
    return f"##vso[task.logissue {';'.join(props)}]{escape_azure_data(match['message'])}"


def ci_annotation(flavour: str, problem: str, root: Path, level: Literal["error", "warning"] = "error") -> str:
    """`github_annotation` for ``flavour`` ``github``, `azure_pipelines_issue` for ``azure-pipelines``.

    Raises:
        ValueError: Any other flavour.
    """
    if flavour == "github":
        return github_annotation(problem, root, level)
    if flavour == "azure-pipelines":
        return azure_pipelines_issue(problem, root, level)
    raise ValueError(f"no annotation format {flavour!r}")
