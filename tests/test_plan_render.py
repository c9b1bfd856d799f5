"""The text plan is built whole and printed once; what it prints is exactly what line-by-line printing gave.

`line_by_line` is the renderer the one-print version replaced (one ``console.print`` per line), kept here
as the reference. Both render the same plans to in-memory consoles and the outputs are compared byte for
byte: plain (a pipe or CI log) and with colour codes, narrow enough to wrap, with text that looks like rich
markup, emoji codes or a trailing backslash.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.markup import escape

from provisioner.cli.app import _flatten, _render_plan
from provisioner.cli.plan import KNOWN_AFTER_DEPLOY, Plan, PlannedResource, _secret, run_plan

AT = datetime(2026, 11, 29, tzinfo=UTC)


def line_by_line(plan: Plan, console: Console) -> None:
    """The previous renderer: one print per line."""
    doc = plan.to_json()
    count = len(doc["resources"])
    console.print(
        f"[bold]pulumi up would create {count} resources[/] (project {escape(plan.project)}, stack "
        f"{escape(plan.stack)}, config {escape(plan.config)}, as of {doc['at']})"
    )
    for resource in doc["resources"]:
        console.print(f"\n[green]+[/] [bold]{escape(resource['name'])}[/]  [dim]{escape(resource['type'])}[/]")
        for line in _flatten(resource["inputs"]):
            console.print(f"    {escape(line)}")
    console.print("\n[bold]Stack outputs[/]")
    for line in _flatten(doc["outputs"]):
        console.print(f"    {escape(line)}")
    console.print(
        f"\n{KNOWN_AFTER_DEPLOY}: assigned by Entra or Paragon during pulumi up. [secret]: never shown. "
        "Secret slots and their dates: docs/rotation.md.",
        markup=False,
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
    assert rendered(_render_plan, plan, color, width) == expected
    assert "[secret]" in expected and "hunter2" not in expected


def test_the_plan_is_printed_with_one_call(dev_plan: Plan) -> None:
    calls: list[str] = []

    class Counting(Console):
        def print(self, *objects: Any, **kwargs: Any) -> None:
            calls.append(str(objects[0])[:40])
            super().print(*objects, **kwargs)

    _render_plan(dev_plan, Counting(file=io.StringIO(), width=120))
    assert len(calls) == 1
