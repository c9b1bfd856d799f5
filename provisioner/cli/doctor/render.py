"""The doctor's rows in the shared table style (`provisioner.cli.render`): a table on a terminal wide enough
to keep every URL and ID whole, else one plain line per row (``[status] check: detail. Fix: fix``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from rich.console import Console

from provisioner.cli.doctor.base import CheckResult, Status
from provisioner.cli.render import Cell, CellLike, Column, print_line, print_rows

_STYLE: Final = {Status.OK: "green", Status.WARNING: "yellow", Status.FAILED: "red", Status.SKIPPED: "dim"}
COLUMNS: Final = (Column("Check"), Column("Status"), Column("Found", prose=True), Column("Fix", prose=True))


def _plain(cells: Sequence[str]) -> str:
    check, status, detail, fix = cells
    return f"[{status}] {check}: {detail}" + (f". Fix: {fix}" if fix else "")


def render_doctor(rows: Sequence[CheckResult], console: Console) -> None:
    """Every row, then a summary line (how many failed, warned, ran)."""
    failed = sum(r.status is Status.FAILED for r in rows)
    warnings = sum(r.status is Status.WARNING for r in rows)
    cells: list[list[CellLike]] = [[r.check, Cell(r.status.value, _STYLE[r.status]), r.detail, r.fix] for r in rows]
    print_rows(console, "doctor: will pulumi up work?" if console.is_terminal else None, COLUMNS, cells, _plain)
    print_line(console, f"{failed} failed, {warnings} warning(s), {len(rows)} checks")
