"""The doctor's rows as a table on a Rich console."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from provisioner.cli.doctor.base import CheckResult, Status

_STYLE: Final = {Status.OK: "green", Status.WARNING: "yellow", Status.FAILED: "red", Status.SKIPPED: "dim"}


def render_doctor(rows: Sequence[CheckResult], console: Console) -> None:
    """A table on a terminal; plain lines (``[status] check: detail. Fix: fix``) in logs and pipes."""
    failed = sum(r.status is Status.FAILED for r in rows)
    warnings = sum(r.status is Status.WARNING for r in rows)
    summary = f"{failed} failed, {warnings} warning(s), {len(rows)} checks"
    if console.is_terminal:
        table = Table(title="doctor: will pulumi up work?")
        for column in ("Check", "Status", "Found", "Fix"):
            table.add_column(column, overflow="fold")
        for r in rows:
            style = _STYLE[r.status]
            table.add_row(escape(r.check), f"[{style}]{r.status.value}[/]", escape(r.detail), escape(r.fix))
        console.print(table)
        console.print(summary, markup=False)
        return
    for r in rows:
        line = f"[{r.status.value}] {r.check}: {r.detail}"
        console.print(line + (f". Fix: {r.fix}" if r.fix else ""), markup=False, soft_wrap=True)
    console.print(summary, markup=False)
