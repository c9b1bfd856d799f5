"""Output for people never breaks an identifier, URL or GUID across lines (doctor, status, plan timeline,
diff), in a terminal or a pipe, at 80 columns or wider; tables share one style; scope changes read as names."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import PROJECT_DIR
from rich.console import Console

from provisioner.cli.diff import Change, diff_plans, parse_plan, render_markdown, render_text
from provisioner.cli.doctor.base import CheckResult, Status
from provisioner.cli.doctor.render import render_doctor
from provisioner.cli.render import TABLE_BOX, Column, build_table, table_fits
from provisioner.cli.status import Health, SecretReport
from provisioner.cli.status_render import render_status, status_markdown
from provisioner.cli.timeline import secret_timeline, timeline_lines, timeline_mermaid
from provisioner.config import load_config

AT = datetime(2026, 11, 29, tzinfo=UTC)
APP_ID = "00000009-0000-0000-c000-000000000000"
URL = "https://zeus.on-prem.example.com/api/projects/38b1f170-0c43-4eae-9a04-ab85325d99f7/integrations"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

DOCTOR_ROWS = [
    CheckResult("paragon-host", Status.OK, f"reached {URL} in 120 ms"),
    CheckResult(
        "azure-sp:powerbi",
        Status.FAILED,
        f"no service principal for resource app {APP_ID} in tenant 72f988bf-86f1-41af-91ab-2d7cd011db47",
        f"az ad sp create --id {APP_ID}",
    ),
    CheckResult("pulumi-secrets", Status.SKIPPED, "config/Pulumi.dev.yaml exists but names no secrets provider"),
]
STATUS_ROWS = [
    SecretReport(
        "powerbi",
        Health.HEALTHY,
        1,
        "2027-04-05T00:00:00Z",
        127,
        "2026-12-22T00:00:00Z",
        "next rotation 2026-12-22T00:00:00Z",
    ),
    SecretReport("microsoftDynamics", Health.OVERDUE, None, None, None, None, "not deployed yet: run pulumi up"),
]
WHOLE = [URL, APP_ID, "72f988bf-86f1-41af-91ab-2d7cd011db47", f"az ad sp create --id {APP_ID}", "microsoftDynamics"]


def console(terminal: bool, width: int) -> Console:
    return Console(
        file=io.StringIO(), width=width, force_terminal=terminal, color_system="standard" if terminal else None
    )


def output(out: Console) -> list[str]:
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return ANSI.sub("", text).splitlines()


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
@pytest.mark.parametrize("width", [60, 80, 100, 120, 160, 240])
def test_doctor_never_breaks_an_id_or_url(terminal: bool, width: int) -> None:
    out = console(terminal, width)
    render_doctor(DOCTOR_ROWS, out)
    lines = output(out)
    for value in WHOLE[:4]:
        assert any(value in line for line in lines), (value, lines)
    assert lines[-1] == "1 failed, 0 warning(s), 3 checks"


def test_doctor_is_a_table_on_a_wide_terminal_and_lines_elsewhere() -> None:
    wide = console(True, 240)
    render_doctor(DOCTOR_ROWS, wide)
    assert any(line.split() == ["Check", "Status", "Found", "Fix"] for line in output(wide))
    for terminal, width in ((True, 80), (False, 240)):
        out = console(terminal, width)
        render_doctor(DOCTOR_ROWS, out)
        wanted = f"[failed] azure-sp:powerbi: no service principal for resource app {APP_ID}"
        assert any(line.startswith(wanted) for line in output(out)), output(out)


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
@pytest.mark.parametrize("width", [60, 80, 120])
def test_status_never_breaks_a_date_or_key(terminal: bool, width: int) -> None:
    out = console(terminal, width)
    render_status(STATUS_ROWS, "Client secrets, stack dev, as of 2026-11-29T00:00:00Z", out)
    lines = output(out)
    for value in ("microsoftDynamics", "2027-04-05", "2026-12-22"):
        assert any(value in line for line in lines), (value, lines)
    if not terminal:
        assert (
            "powerbi: HEALTHY: active slot 1 ends 2027-04-05T00:00:00Z (127 days left), next rotation "
            "2026-12-22T00:00:00Z"
        ) in lines


def test_status_is_a_table_at_80_columns_on_a_terminal() -> None:
    """Dates at midnight UTC show as dates, so the report fits 80 columns as a table."""
    out = console(True, 80)
    render_status(STATUS_ROWS, "Client secrets, stack dev", out)
    lines = output(out)
    assert any(line.split()[:3] == ["Integration", "Health", "Slot"] for line in lines), lines
    assert all(len(line) <= 80 for line in lines)


def test_table_fits_counts_whole_identifiers_and_longest_words() -> None:
    columns = [Column("ID"), Column("Why", prose=True)]
    rows = [[APP_ID, "a long sentence with short words"]]
    assert table_fits(columns, rows, len(APP_ID) + len("sentence") + 3)
    assert not table_fits(columns, rows, len(APP_ID) + len("sentence") + 2)
    assert build_table("t", columns, rows).box is TABLE_BOX


def test_status_markdown_has_the_table_and_the_timeline() -> None:
    text = status_markdown(STATUS_ROWS, "dev", "2026-11-29T00:00:00Z", "```mermaid\ngantt\n```\n")
    assert "| `powerbi` | **HEALTHY** | 1 | 2027-04-05T00:00:00Z | 127 | 2026-12-22T00:00:00Z |" in text
    assert text.endswith("```mermaid\ngantt\n```\n")


# --- the stack's secret timeline -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bars() -> list[object]:
    return list(secret_timeline(load_config(PROJECT_DIR / "config" / "dev.yaml"), AT))


def test_timeline_has_both_slots_and_the_next_secret(bars: list[object]) -> None:
    lines = timeline_lines(bars, AT, 80)  # type: ignore[arg-type]
    assert lines[1] == "powerbi:"
    assert [line.split()[:2] for line in lines[2:]] == [["slot", "0"], ["slot", "1"], ["next", "w8"]]
    assert lines[2].endswith("2026-06-25 .. 2027-01-05")
    assert lines[3].endswith("2026-09-23 .. 2027-04-05  active")
    assert lines[4].endswith("2026-12-22 .. 2027-07-04")
    assert all(len(line) <= 80 for line in lines)
    assert all(line.count("|") == 1 for line in lines[2:4])  # the day judged, inside both current secrets


def test_timeline_mermaid_gantt(bars: list[object]) -> None:
    text = timeline_mermaid(bars, AT, "Client secrets, stack dev, as of 2026-11-29 (UTC)")  # type: ignore[arg-type]
    assert text.splitlines() == [
        "```mermaid",
        "gantt",
        "  title Client secrets, stack dev, as of 2026-11-29 (UTC)",
        "  dateFormat YYYY-MM-DD",
        "  axisFormat %Y-%m-%d",
        "  todayMarker off",
        "  section powerbi",
        "  as of 2026-11-29 : milestone, m0, 2026-11-29, 0d",
        "  slot 0 w6 : s0, 2026-06-25, 2027-01-05",
        "  slot 1 w7 (Paragon holds it) : active, s1, 2026-09-23, 2027-04-05",
        "  next w8 : s2, 2026-12-22, 2027-07-04",
        "```",
    ]


def test_shared_apps_follow_their_owner(write_config: object) -> None:
    path = Path(str(PROJECT_DIR / "config" / "examples" / "all-integrations.yaml"))
    config = load_config(path)
    drawn = secret_timeline(config, AT)
    owners = {bar.app for bar in drawn}
    assert owners == {k for k in config.integrations if config.app_key(k) == k}
    for bar in drawn:
        assert all(config.app_key(s) == bar.app for s in bar.sharers)


def test_plan_and_status_markdown_carry_the_gantt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from provisioner.cli.app import app

    monkeypatch.chdir(PROJECT_DIR)
    monkeypatch.delenv("PROVISIONER_CONFIG", raising=False)
    runner = CliRunner()
    plan = runner.invoke(app, ["plan", "--format", "markdown", "--at", "2026-11-29"])
    assert plan.exit_code == 0, plan.output
    assert plan.stdout.startswith("### Plan of stack `dev` as of 2026-11-29T00:00:00Z")
    assert "```mermaid\ngantt\n" in plan.stdout and "| `powerbi` | Paragon Power BI (dev) |" in plan.stdout
    outputs = tmp_path / "outputs.json"
    outputs.write_text("{}", encoding="utf-8")
    status = runner.invoke(app, ["status", "--outputs", str(outputs), "--at", "2026-11-29", "--format", "markdown"])
    assert status.exit_code == 3
    assert "```mermaid\ngantt\n" in status.stdout
    timeline = runner.invoke(app, ["status", "--outputs", str(outputs), "--at", "2026-11-29", "--timeline"])
    assert "  slot 1  w7" in timeline.stdout


# --- diff: scope changes as names ------------------------------------------------------------------------------

QUALIFIED = "https://analysis.windows.net/powerbi/api/"


@pytest.mark.parametrize(
    ("before", "after", "delta"),
    [
        (f"{QUALIFIED}A.Read {QUALIFIED}B.Read offline_access", f"{QUALIFIED}A.Read offline_access", ([], ["B.Read"])),
        (["A.Read"], ["A.Read", "C.Write"], (["C.Write"], [])),
        ("A B", "B A", ([], [])),
    ],
    ids=["qualified-removed", "list-added", "reordered"],
)
def test_scope_changes_are_names_added_and_removed(before: object, after: object, delta: object) -> None:
    assert Change("scopes", before, after).scope_delta() == delta
    assert Change("displayName", before, after).scope_delta() is None


def test_diff_text_and_markdown_show_scope_names() -> None:
    def doc(scopes: str) -> dict[str, object]:
        inputs = {"scopes": scopes, "integrationKey": "powerbi"}
        resource = {
            "type": "pulumi-python:dynamic/paragon:OAuthCredential",
            "name": "powerbi-paragon",
            "inputs": inputs,
        }
        return {"project": "p", "stack": "dev", "at": "2026-11-29T00:00:00Z", "resources": [resource], "outputs": {}}

    old = f"{QUALIFIED}Dataset.Read.All {QUALIFIED}Report.Read.All offline_access"
    new = f"{QUALIFIED}Dataset.Read.All {QUALIFIED}Workspace.Read.All offline_access"
    result = diff_plans(parse_plan(doc(old), "base"), parse_plan(doc(new), "head"))
    assert "    scopes: added Workspace.Read.All; removed Report.Read.All" in render_text(result)
    markdown = render_markdown(result)
    assert "| removed <code>Report.Read.All</code> | added <code>Workspace.Read.All</code> |" in markdown
    assert old not in render_text(result)
