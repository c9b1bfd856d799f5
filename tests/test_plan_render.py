"""The text plan is built whole and printed once; its resource detail is exactly what line-by-line printing
gave, and no line is ever broken by Rich.

`line_by_line` is the renderer the one-print version replaced (one ``console.print`` per line, now without
Rich's wrapping: ``soft_wrap``), kept here as the reference. Both render the same plans to in-memory
consoles and the outputs are compared byte for byte: plain (a pipe or CI log) and with colour codes, narrow,
with text that looks like rich markup, emoji codes or a trailing backslash.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.markup import escape

from provisioner.cli.plan import KNOWN_AFTER_DEPLOY, Plan, PlannedResource, _secret, run_plan
from provisioner.cli.plan_text import KNOWN_AFTER_DEPLOY as TEXT_KNOWN_AFTER_DEPLOY
from provisioner.cli.plan_text import flatten as _flatten
from provisioner.cli.plan_text import plan_markdown, render_plan_text, summary_lines


def _render_plan(plan: Plan, console: Console) -> None:
    render_plan_text(plan.to_json(), plan.project, plan.stack, plan.config, console)


AT = datetime(2026, 11, 29, tzinfo=UTC)


def line_by_line(plan: Plan, console: Console) -> None:
    """The previous renderer: one print per line."""
    doc = plan.to_json()
    count = len(doc["resources"])
    console.print(
        f"[bold]pulumi up would create {count} resources[/] (project {escape(plan.project)}, stack "
        f"{escape(plan.stack)}, config {escape(plan.config)}, as of {doc['at']})",
        soft_wrap=True,
    )
    for resource in doc["resources"]:
        console.print(
            f"\n[green]+[/] [bold]{escape(resource['name'])}[/]  [dim]{escape(resource['type'])}[/]", soft_wrap=True
        )
        for line in _flatten(resource["inputs"]):
            console.print(f"    {escape(line)}", soft_wrap=True)
    console.print("\n[bold]Stack outputs[/]", soft_wrap=True)
    for line in _flatten(doc["outputs"]):
        console.print(f"    {escape(line)}", soft_wrap=True)
    console.print(
        f"\n{KNOWN_AFTER_DEPLOY}: assigned by Entra or Paragon during pulumi up. [secret]: never shown. "
        "Secret slots and their dates: docs/rotation.md.",
        markup=False,
        soft_wrap=True,
    )


def tricky_plan() -> Plan:
    inputs: dict[str, Any] = {
        "displayName": "[bold]not markup[/bold] and [link=x]no link[/link]",
        "note": "ends with a backslash \\",
        "emoji": ":rocket: stays :smile:",
        "long": "x" * 150 + " " + "word " * 40,
        "nested": {"list": [{"a": 1, "b": None}, {"c": True}], "empty": {}, "scopes": ["A.Read", "B.Write"]},
        "unicode": "Zürich – 東京",
        "secret": _secret("hunter2"),
    }
    resources = [
        PlannedResource(type="azuread:index/application:Application", name="[red]app[/red]", inputs=inputs),
        PlannedResource(type="pulumi-python:dynamic/paragon:OAuthCredential", name="push\\", inputs={"a": "b"}),
    ]
    outputs = {"integrations": {"x": {"client_id": KNOWN_AFTER_DEPLOY}}, "client_secrets": _secret({"x": "v"})}
    return Plan(stack="dev[1]", at=AT, resources=resources, outputs=outputs, project="[b]proj", config="cfg/[x].yaml")


def console(color: bool, width: int) -> Console:
    if color:
        return Console(file=io.StringIO(), width=width, highlight=False, force_terminal=True, color_system="truecolor")
    return Console(file=io.StringIO(), width=width, highlight=False)


def rendered(render: Any, plan: Plan, color: bool, width: int) -> str:
    out = console(color, width)
    render(plan, out)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


@pytest.fixture(scope="module")
def dev_plan() -> Plan:
    return run_plan(Path(__file__).resolve().parent.parent, "dev", AT)


@pytest.mark.parametrize("color", [False, True], ids=["plain", "colour"])
@pytest.mark.parametrize("width", [120, 48])
@pytest.mark.parametrize("which", ["dev", "tricky"])
def test_one_print_renders_exactly_what_line_by_line_printing_did(
    dev_plan: Plan, which: str, color: bool, width: int
) -> None:
    plan = dev_plan if which == "dev" else tricky_plan()
    expected = rendered(line_by_line, plan, color, width)
    assert rendered(_render_plan, plan, color, width).endswith(expected)
    assert "[secret]" in expected and "hunter2" not in expected


@pytest.mark.parametrize("color", [False, True], ids=["pipe", "terminal"])
def test_no_identifier_is_broken_at_80_columns(dev_plan: Plan, color: bool) -> None:
    """Every application ID, GUID, URL and scope string of the plan is whole on one line, at 80 columns."""
    text = rendered(_render_plan, dev_plan, color, 80)
    doc = dev_plan.to_json()
    whole = [
        doc["outputs"]["integrations"]["powerbi"]["paragon_scopes"],
        "00000009-0000-0000-c000-000000000000",
        "38b1f170-0c43-4eae-9a04-ab85325d99f7",
        "https://passport.useparagon.com/oauth",
    ]
    for value in whole:
        assert any(value in line for line in text.splitlines()), value


def test_the_summary_comes_first_and_says_what_paragon_will_hold(dev_plan: Plan) -> None:
    lines = summary_lines(dev_plan.to_json())
    assert lines[0] == "powerbi: app Paragon Power BI (dev)"
    assert "  audience: AzureADMultipleOrgs" in lines
    assert "  scopes: Dataset.Read.All, Report.Read.All" in lines
    assert (
        "  secrets: slot 1 active (window 7); slot 0 ends 2027-01-05T00:00:00Z; slot 1 ends 2027-04-05T00:00:00Z; "
        "next rotation 2026-12-22T00:00:00Z"
    ) in lines
    held = next(line for line in lines if line.startswith("  Paragon will hold: "))
    assert "secret [secret] (slot 1)" in held and "client ID (known after deploy)" in held
    text = rendered(_render_plan, dev_plan, False, 120)
    assert text.index("Paragon will hold") < text.index("pulumi up would create")
    assert TEXT_KNOWN_AFTER_DEPLOY == KNOWN_AFTER_DEPLOY


def test_the_plan_is_printed_with_one_call(dev_plan: Plan) -> None:
    calls: list[str] = []

    class Counting(Console):
        def print(self, *objects: Any, **kwargs: Any) -> None:
            calls.append(str(objects[0])[:40])
            super().print(*objects, **kwargs)

    _render_plan(dev_plan, Counting(file=io.StringIO(), width=120))
    assert len(calls) == 1


def test_the_summary_is_a_shared_style_table_on_a_wide_terminal(dev_plan: Plan) -> None:
    wide = rendered(_render_plan, dev_plan, True, 160)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", wide)
    header = next(line for line in plain.splitlines() if line.startswith("Integration"))
    assert header.split() == ["Integration", "App", "Audience", "Scopes", "Active", "Ends", "Rotates"]
    assert "powerbi: Paragon will hold: client ID (known after deploy); secret [secret] (slot 1)" in plain


def test_the_summary_names_the_scopes_that_need_an_admins_consent(write_config: Callable[..., Path]) -> None:
    """Issue: plan shows consent per integration (the stack output ``admin_consent_scopes``)."""
    path = write_config(
        "paragon:\n  project_id: 38b1f170-0c43-4eae-9a04-ab85325d99f7\nintegrations:\n"
        "  sharepoint: {}\n  outlook:\n    scopes: [Mail.Read, User.Read]\n",
        "consent.yaml",
    )
    doc = run_plan(Path(__file__).resolve().parent.parent, "consent", AT, config_file=path).to_json()
    lines = summary_lines(doc)
    consent = [line for line in lines if "admin consent" in line]
    assert consent == [
        "  admin consent needed in each customer's tenant for: Files.Read.All, Sites.Read.All (a customer's admin "
        "grants it once; docs/integrations.md, section Admin consent)"
    ]
    assert lines.index(consent[0]) < lines.index("outlook: app Paragon Outlook (consent)")  # under sharepoint
    markdown = plan_markdown(doc, "")
    assert "| Admin consent |" in markdown and "| Files.Read.All, Sites.Read.All |" in markdown
