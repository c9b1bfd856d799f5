"""The expiry report for people: a table on a terminal, one line per integration elsewhere, or Markdown.

Tables and lines come from `provisioner.cli.render` (the style doctor and plan share; dates and keys are
never broken across lines). The Markdown form is for a pull request or issue comment, with the stack's
secret timeline as a Mermaid gantt (`provisioner.cli.timeline`).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Final

from rich.console import Console

from provisioner.cli.render import Cell, CellLike, Column, keep_whole, print_rows
from provisioner.cli.status import Health, SecretReport

HEALTH_STYLE: Final = {
    Health.HEALTHY: "green",
    Health.OVERDUE: "yellow",
    Health.EXPIRING: "yellow",
    Health.EXPIRED: "red",
}
COLUMNS: Final = (
    Column("Integration"),
    Column("Health"),
    Column("Slot"),
    Column("Ends"),
    Column("Days"),
    Column("Rotates"),
    Column("Why", prose=True),
)


def _dash(value: object) -> str:
    return "-" if value is None else str(value)


def _why(report: SecretReport) -> str:
    """The report's reason, or ``-`` where it only repeats the next rotation shown beside it (a healthy one)."""
    return "-" if report.next_rotation and report.reason == f"next rotation {report.next_rotation}" else report.reason


def _plain(cells: Sequence[str]) -> str:
    integration, health, slot, ends, days, next_rotation, why = cells
    if slot == "-":
        return f"{integration}: {health}: {why}"
    line = f"{integration}: {health}: active slot {slot} ends {ends} ({days} days left), next rotation {next_rotation}"
    return line if why == "-" else f"{line}: {why}"


def render_status(reports: Sequence[SecretReport], title: str, console: Console) -> None:
    """The report as a table (a terminal wide enough; dates at UTC midnight as dates, ``Rotates`` is the next
    rotation) or one line per integration (full RFC 3339 dates)."""
    terminal = console.is_terminal

    def shown(value: str | None) -> str:
        return keep_whole(value) if terminal and value else _dash(value)

    rows: list[list[CellLike]] = [
        [
            r.integration,
            Cell(r.health.name, HEALTH_STYLE[r.health]),
            _dash(r.active_slot),
            shown(r.end_date),
            _dash(r.days_left),
            shown(r.next_rotation),
            _why(r).replace("T00:00:00Z", "") if terminal else _why(r),
        ]
        for r in reports
    ]
    print_rows(console, title, COLUMNS, rows, _plain)


def status_markdown(reports: Sequence[SecretReport], stack: str, at: str, timeline: str) -> str:
    """The report as Markdown: a heading, a table, and the timeline block. Values are HTML-escaped."""
    lines = [
        f"### Client secrets of stack `{escape(stack)}` as of {escape(at)}",
        "",
        "| Integration | Health | Active slot | Ends | Days left | Next rotation | Why |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        cells = [
            f"`{escape(r.integration)}`",
            f"**{r.health.name}**",
            _dash(r.active_slot),
            escape(_dash(r.end_date)),
            _dash(r.days_left),
            escape(_dash(r.next_rotation)),
            escape(_why(r)).replace("|", "&#124;"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", timeline])
