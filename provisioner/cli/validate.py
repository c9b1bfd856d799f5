"""``validate``: check stack files without touching any cloud, one line per problem.

Which files: the ones named (folders stand for their stack files, ``defaults.yaml`` for the stack files
beside it, Pulumi's own ``Pulumi*.yaml`` are skipped), or the one stack chosen by ``--stack``/``--config``,
or with neither every stack file the workflows would deploy (`provisioner.config.stackfile.files_to_validate`).
A stack file that no stack would read (no ``Pulumi.<stack>.yaml`` selects it) gets a warning: CI selects stacks
and never creates them, so it would not be deployed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import provisioner.config
from provisioner.cli.annotations import ci_annotation
from provisioner.config.stackfile import (
    STACK_SETTING,
    StackFileError,
    files_to_validate,
    resolve,
    unselected_stack_files,
)
from provisioner.errors import ConfigError, Problem


@dataclass
class ValidateReport:
    """What ``validate`` prints, in order, and how many files failed.

    Attributes:
        lines: ``(kind, text)`` in print order; kind is ``error`` or ``warning`` (a one-line problem, each
            once: a bad value in ``defaults.yaml`` shows once, not once per stack file) or ``valid`` (a file).
        bad: How many files failed.
    """

    lines: list[tuple[str, str]] = field(default_factory=list)
    bad: int = 0

    def add(self, kind: str, text: str) -> None:
        """Record a line; a problem already recorded is not repeated."""
        if kind != "valid" and any(text == seen for _, seen in self.lines):
            return
        self.lines.append((kind, text))


def choose_files(
    files: list[Path],
    *,
    stack: str | None,
    config: Path | None,
    force_stack: bool,
    project_dir: Path,
    env: Mapping[str, str],
) -> list[Path]:
    """The files to check (see the module docstring).

    Raises:
        StackFileError: Files named together with ``--stack``/``--config`` (usage), a bad stack selection, or
            an unreadable Pulumi project or stack file.
    """
    if stack is not None or config is not None:
        if files:
            raise StackFileError(
                "name files, or choose one stack with --stack/--config, not both. Fix: drop one of them", usage=True
            )
        return [resolve(project_dir, stack=stack, config=config, env=env, force_stack=force_stack).path]
    return files_to_validate(files, project_dir, env)


def unselected_warning(path: Path, stack: str) -> Problem:
    """The warning for a stack file that no stack reads."""
    return Problem(
        str(path),
        None,
        "",
        f"no Pulumi.{stack}.yaml selects this file (stack setting {STACK_SETTING}), so CI does not deploy it "
        f"and `pulumi up` on stack {stack} would read config/{stack}.yaml",
        f"pulumi stack init {stack} && pulumi config set {STACK_SETTING} {path.as_posix()}, then commit "
        f"Pulumi.{stack}.yaml (docs/gitops.md, Adding and removing stacks)",
        severity="warning",
    )


def run_validate(paths: list[Path], project_dir: Path, today: date | None = None) -> ValidateReport:
    """Load every file in ``paths`` and collect the report (nothing printed).

    Args:
        paths: Stack files to load.
        project_dir: The Pulumi project folder (for the "no stack selects this file" warning).
        today: The day anchors are judged at (a later anchor is a warning); None skips that check.
    """
    report = ValidateReport()
    for path in paths:
        try:
            loaded = provisioner.config.load_config_report(path, as_of=today)  # looked up per call: tests patch it
        except ConfigError as err:
            report.bad += 1
            for problem in err.problems:
                report.add("error", problem)
        else:
            for warning in loaded.warnings:
                report.add("warning", str(warning))
            report.add("valid", f"{path}: valid")
    try:
        unselected = unselected_stack_files(paths, project_dir)
    except StackFileError as err:
        report.bad += 1
        report.add("error", str(err))
        unselected = []
    for path, stack in unselected:
        report.add("warning", str(unselected_warning(path, stack)))
    return report


def print_report(
    report: ValidateReport, flavour: str, out: Callable[[str], None], err: Callable[[str], None], root: Path
) -> None:
    """Problems on stderr (``flavour`` ``text``) or as CI annotations on stdout (``github``: workflow commands;
    ``azure-pipelines``: ``##vso[task.logissue]`` logging commands); ``FILE: valid`` lines on stdout."""
    for kind, text in report.lines:
        if kind == "valid":
            out(text)
        elif flavour != "text":
            out(ci_annotation(flavour, text, root, level="warning" if kind == "warning" else "error"))
        else:
            err(text)


def anchor_warning_lines(path: Path, as_of: date, flag: str | None) -> list[str]:
    """The warnings for rotation anchors after ``as_of`` (see `provisioner.config.advice.anchor_warnings`);
    none when the file is invalid (the command reports that itself)."""
    try:
        loaded = provisioner.config.load_config_report(path, as_of=as_of, as_of_flag=flag)
    except ConfigError:
        return []
    return [str(w) for w in loaded.warnings if w.key.endswith(".anchor")]
