"""The command-line options several commands share, defined once so they read the same everywhere.

Every command that reads a stack (``plan``, ``status``, ``doctor``, ``validate``) selects it with the same
three flags, ``--stack``, ``--config`` and ``--force-stack``, by the rule in
`provisioner.config.stackfile` (docs/config-repo.md). Use them as parameter annotations::

    def plan(stack: StackOption = None, config: ConfigOption = None, force_stack: ForceStackOption = False): ...

Only typer and the standard library are imported here: ``--help`` and ``validate`` must stay light
(tests/test_imports.py).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Final

import typer

STACK_HELP: Final = "Stack name. Default: the config file's name (prod.yaml is stack prod), else dev."
CONFIG_HELP: Final = (
    "The stack's YAML. Default: the stack setting configFile, else $PROVISIONER_CONFIG, else config/<stack>.yaml."
)
FORCE_STACK_HELP: Final = "Accept a --stack that differs from the config file's name."
AT_HELP: Final = "As of this UTC date or time (YYYY-MM-DD or RFC 3339). Default: now."

StackOption = Annotated[str | None, typer.Option("--stack", help=STACK_HELP, metavar="NAME")]
ConfigOption = Annotated[Path | None, typer.Option("--config", help=CONFIG_HELP, metavar="FILE")]
ForceStackOption = Annotated[bool, typer.Option("--force-stack", help=FORCE_STACK_HELP)]
AtOption = Annotated[str | None, typer.Option("--at", help=AT_HELP, metavar="DATE")]

STACK_FLAGS: Final = ("--stack", "--config", "--force-stack")
"""The selection flags every stack-reading command accepts (a test holds each command to them)."""


class OutputFormat(StrEnum):
    """Output formats of doctor (plan and status also take `ReportFormat`'s markdown)."""

    TEXT = "text"
    JSON = "json"


AlertLevel = StrEnum("AlertLevel", {"INFO": "info", "WARNING": "warning", "CRITICAL": "critical"})
"""Lowest severity of a status report posted to the alert webhook (provisioner.cli.alerts)."""
AlertPayload = StrEnum("AlertPayload", {"AUTO": "auto", "TEAMS": "teams", "SLACK": "slack", "JSON": "json"})


class ReportFormat(StrEnum):
    """Output formats of plan, status, diff and catalog (markdown: a pull request comment)."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


class ValidateFormat(StrEnum):
    """Output formats of validate."""

    TEXT = "text"
    GITHUB = "github"
    AZURE_PIPELINES = "azure-pipelines"
