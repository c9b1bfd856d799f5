"""This stack's client secret timeline: which secret lives when, drawn from the config's rotation policies.

For every app registration (an integration that shares another's app with ``app:`` follows its owner's
schedule), the two slots' current secrets and the next one, as of an instant, by the same pure schedule the
program deploys (`provisioner.program.rotation`). Two drawings: text lines with a bar per secret for a
terminal or a log (`timeline_lines`), and a Mermaid ``gantt`` block for a pull request comment
(`timeline_mermaid`). Dates are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console

from provisioner.cli.render import print_line
from provisioner.config import ProvisionerConfig, load_config
from provisioner.program.rotation import rotation_state, window_start

BAR_MIN: int = 10
"""Narrowest bar drawn, in characters."""


@dataclass(frozen=True)
class SecretBar:
    """One client secret's life.

    Attributes:
        app: The integration owning the app registration.
        sharers: Integrations that share this app (``app:``), besides the owner.
        label: ``slot 0``, ``slot 1`` or ``next``.
        window: Rotation window the secret is issued for.
        start: When it is issued (the window's start), UTC.
        end: When it expires, UTC.
        active: True for the secret Paragon holds at the instant.
    """

    app: str
    sharers: tuple[str, ...]
    label: str
    window: int
    start: datetime
    end: datetime
    active: bool


def secret_timeline(config: ProvisionerConfig, at: datetime) -> list[SecretBar]:
    """Each app's two current secrets (by slot) and the next one, as of ``at`` (timezone-aware)."""
    bars: list[SecretBar] = []
    for key in config.integrations:
        if config.app_key(key) != key:
            continue
        sharers = tuple(k for k in config.integrations if k != key and config.app_key(k) == key)
        policy = config.app_settings(key).secret
        state = rotation_state(policy, at)
        for slot in sorted(state.slots, key=lambda s: s.window):
            bars.append(
                SecretBar(
                    key,
                    sharers,
                    f"slot {slot.slot}",
                    slot.window,
                    slot.issued_at,
                    slot.end_date,
                    slot.slot == state.active_slot,
                )
            )
        upcoming = window_start(policy, state.window + 1)
        bars.append(
            SecretBar(
                key, sharers, "next", state.window + 1, upcoming, upcoming + timedelta(days=policy.lifetime_days), False
            )
        )
    return bars


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _app_name(bar: SecretBar) -> str:
    return bar.app + (f" (also {', '.join(bar.sharers)})" if bar.sharers else "")


def timeline_lines(bars: list[SecretBar], at: datetime, width: int) -> list[str]:
    """Plain text lines: a heading per app, then one line per secret with a bar scaled to ``width`` columns
    (``=`` while valid, ``|`` at ``at``), its dates and what it is. Never wider than needed for the dates."""
    if not bars:
        return []
    first = min(b.start for b in bars)
    last = max(b.end for b in bars)
    span = max((last - first).total_seconds(), 1.0)
    fixed = len("  slot 0  w-0000  ") + len("2026-01-01 .. 2026-01-01  ") + len("active")
    bar_width = max(BAR_MIN, width - fixed - 2)

    def column(moment: datetime) -> int:
        return min(bar_width - 1, int((moment - first).total_seconds() / span * bar_width))

    now = column(at) if first <= at <= last else None
    lines = [f"Client secrets as of {_day(at)} UTC ('=' valid, '|' that day, active: Paragon's)"]
    app = None
    for bar in bars:
        if bar.app != app:
            app = bar.app
            lines.append(f"{_app_name(bar)}:")
        cells = [" "] * bar_width
        for i in range(column(bar.start), column(bar.end) + 1):
            cells[i] = "="
        if now is not None:
            cells[now] = "|"
        what = "active" if bar.active else ""
        dates = f"{_day(bar.start)} .. {_day(bar.end)}"
        lines.append(f"  {bar.label:<6}  w{bar.window:<4}  {''.join(cells)}  {dates}  {what}".rstrip())
    return lines


def timeline_mermaid(bars: list[SecretBar], at: datetime, title: str) -> str:
    """A fenced Mermaid ``gantt`` block (GitHub renders it in comments): a section per app, a task per
    secret (the active one marked ``active``), and the instant as a milestone."""
    lines = [
        "```mermaid",
        "gantt",
        f"  title {title.replace(':', ' ')}",
        "  dateFormat YYYY-MM-DD",
        "  axisFormat %Y-%m-%d",
        "  todayMarker off",
    ]
    app = None
    for index, bar in enumerate(bars):
        if bar.app != app:
            app = bar.app
            lines.append(f"  section {_app_name(bar).replace(':', ' ')}")
            lines.append(f"  as of {_day(at)} : milestone, m{index}, {_day(at)}, 0d")
        name = f"{bar.label} w{bar.window}" + (" (Paragon holds it)" if bar.active else "")
        tags = "active, " if bar.active else ""
        lines.append(f"  {name} : {tags}s{index}, {_day(bar.start)}, {_day(bar.end)}")
    lines.append("```")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class StackTimeline:
    """A stack's config, drawn as its secret timeline (what ``plan`` and ``status`` show)."""

    config: ProvisionerConfig

    @classmethod
    def of(cls, path: Path) -> StackTimeline:
        """Load the stack's YAML.

        Raises:
            ConfigError: The file is invalid (one line per problem).
        """
        return cls(load_config(path))

    def lines(self, at: datetime, width: int) -> list[str]:
        """`timeline_lines` as of ``at``, for ``width`` columns."""
        return timeline_lines(secret_timeline(self.config, at), at, width)

    def mermaid(self, at: datetime, stack: str) -> str:
        """`timeline_mermaid` as of ``at``, titled with the stack."""
        title = f"Client secrets, stack {stack}, as of {at.date()} (UTC)"
        return timeline_mermaid(secret_timeline(self.config, at), at, title)

    def print(self, at: datetime, console: Console) -> None:
        """A blank line, then the text lines, never wrapped."""
        console.print()
        for line in self.lines(at, console.width):
            print_line(console, line)
