"""`python -m provisioner diff BASE.json HEAD.json`: what a pull request changes, for people and workflows."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc
from typer.testing import CliRunner

from provisioner.cli import diff as plan_diff
from provisioner.cli.app import app
from provisioner.cli.diff import MARKER, Action, diff_plans, parse_plan, render_json, render_markdown, render_text
from provisioner.paragon import resource

runner = CliRunner()
PASSWORD = "azuread:index/applicationPassword:ApplicationPassword"
APPLICATION = "azuread:index/application:Application"
CREDENTIAL = "pulumi-python:dynamic/paragon:OAuthCredential"

BASE: dict[str, Any] = {
    "project": "acme",
    "stack": "prod",
    "config": "prod.yaml",
    "at": "2026-11-29T00:00:00Z",
    "resources": [
        {"type": "provisioner:entra:AppRegistration", "name": "powerbi", "inputs": {}},
        {
            "type": APPLICATION,
            "name": "powerbi-app",
            "inputs": {"displayName": "Paragon Power BI (prod)", "web": {"redirectUris": ["https://p/oauth"]}},
        },
        {
            "type": PASSWORD,
            "name": "powerbi-secret-0",
            "inputs": {"endDate": "2027-01-05T00:00:00Z", "rotateWhenChanged": {"window": "6"}},
        },
        {
            "type": CREDENTIAL,
            "name": "powerbi-paragon",
            "inputs": {"projectId": "p1", "integrationKey": "powerbi", "scopes": "a b", "clientSecret": "[secret]"},
        },
    ],
    "outputs": {"integrations": {"powerbi": {"secret_end_date": "2027-04-05T00:00:00Z"}}, "client_secrets": "[secret]"},
}


def edited(path: list[Any], value: Any) -> dict[str, Any]:
    """BASE with the value at ``path`` set (``...`` as the last part deletes the key or item)."""
    doc = copy.deepcopy(BASE)
    target: Any = doc
    for part in path[:-1]:
        target = target[part]
    if value is Ellipsis:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("head", "name", "action", "paths"),
    [
        (edited(["resources", 1, "inputs", "displayName"], "New"), "powerbi-app", Action.CHANGED, ["displayName"]),
        (
            edited(["resources", 1, "inputs", "web", "redirectUris"], ["https://q/oauth"]),
            "powerbi-app",
            Action.CHANGED,
            ["web.redirectUris"],
        ),
        (
            edited(["resources", 2, "inputs", "endDate"], "2027-07-04T00:00:00Z"),
            "powerbi-secret-0",
            Action.REPLACED,
            ["endDate"],
        ),
        (
            edited(["resources", 2, "inputs", "rotateWhenChanged", "window"], "8"),
            "powerbi-secret-0",
            Action.REPLACED,
            ["rotateWhenChanged.window"],
        ),
        (edited(["resources", 3, "inputs", "scopes"], "a b c"), "powerbi-paragon", Action.CHANGED, ["scopes"]),
        (edited(["resources", 3, "inputs", "projectId"], "p2"), "powerbi-paragon", Action.REPLACED, ["projectId"]),
        (
            edited(["resources", 3, "inputs", "integrationKey"], "teams"),
            "powerbi-paragon",
            Action.REPLACED,
            ["integrationKey"],
        ),
        (edited(["resources", 3, "type"], "x:y:Other"), "powerbi-paragon", Action.REPLACED, ["(type)"]),
        (edited(["resources", 2], ...), "powerbi-secret-0", Action.REMOVED, ["endDate", "rotateWhenChanged.window"]),
        (
            {
                **BASE,
                "resources": [
                    *BASE["resources"],
                    {"type": PASSWORD, "name": "powerbi-secret-1", "inputs": {"endDate": "x"}},
                ],
            },
            "powerbi-secret-1",
            Action.ADDED,
            ["endDate"],
        ),
    ],
    ids=[
        "app-update",
        "nested-list-update",
        "password-end-date-replaces",
        "password-keeper-replaces",
        "credential-scopes-update",
        "credential-project-replaces",
        "credential-integration-replaces",
        "type-change-replaces",
        "removed",
        "added",
    ],
)
def test_each_kind_of_change(head: dict[str, Any], name: str, action: Action, paths: list[str]) -> None:
    result = diff_plans(parse_plan(BASE, "base"), parse_plan(head, "head"))
    verdicts = {r.name: r for r in result.resources}
    assert verdicts[name].action is action
    assert [c.path for c in verdicts[name].changes] == paths
    others = [r.action for r in result.resources if r.name != name]
    assert all(a is Action.UNCHANGED for a in others)
    assert result.changed


def test_identical_plans_say_no_changes() -> None:
    result = diff_plans(parse_plan(BASE, "base"), parse_plan(copy.deepcopy(BASE), "head"))
    assert not result.changed and result.summary() == "no changes"
    assert "no changes" in render_text(result)
    assert "**no changes**" in render_markdown(result)
    doc = json.loads(render_json(result))
    assert doc["changed"] is False and doc["resources"] == [] and doc["summary"]["unchanged"] == 4


def test_output_changes_and_summary() -> None:
    head = edited(["outputs", "integrations", "powerbi", "secret_end_date"], "2027-07-04T00:00:00Z")
    result = diff_plans(parse_plan(BASE, "base"), parse_plan(head, "head"))
    assert [(c.path, c.before, c.after) for c in result.outputs] == [
        ("integrations.powerbi.secret_end_date", "2027-04-05T00:00:00Z", "2027-07-04T00:00:00Z")
    ]
    assert result.summary() == "0 to add, 0 to replace, 0 to change, 0 to remove; 1 stack output change"


def test_empty_base_is_a_new_stack() -> None:
    result = diff_plans(parse_plan(None, "base"), parse_plan(BASE, "head"))
    assert [r.action for r in result.resources] == [Action.ADDED] * 4
    assert result.summary().startswith("4 to add")


def test_markdown_is_a_pr_comment_with_marker_table_and_details() -> None:
    head = edited(["resources", 2, "inputs", "endDate"], "2027-07-04T00:00:00Z")
    head["resources"][1]["inputs"]["displayName"] = "A | <b>B</b>"
    text = render_markdown(diff_plans(parse_plan(BASE, "base"), parse_plan(head, "head")))
    lines = text.splitlines()
    assert lines[0] == MARKER and lines[1] == "<!-- provisioner-plan-diff:stack=prod -->"
    assert "**0 to add, 1 to replace, 1 to change, 0 to remove**" in text
    assert (
        "| **replace** | <code>powerbi-secret-0</code> | <code>ApplicationPassword</code> | <code>endDate</code> |"
        in text
    )
    assert text.count("<details>") == 2 and text.count("</details>") == 2
    assert "| Input | Before | After | Replaces |" in text and "| yes |" in text
    assert "A &#124; &lt;b&gt;B&lt;/b&gt;" in text and "<b>B</b>" not in text
    table_rows = [line for line in lines if line.startswith("| <code>displayName")]
    assert len(table_rows) == 1 and table_rows[0].count(" | ") == 3


def test_json_lists_changes_with_before_and_after() -> None:
    head = edited(["resources", 3, "inputs", "scopes"], "a b c")
    doc = json.loads(render_json(diff_plans(parse_plan(BASE, "base"), parse_plan(head, "head"))))
    assert doc["base"] == {"project": "acme", "stack": "prod", "at": "2026-11-29T00:00:00Z"}
    assert doc["resources"] == [
        {
            "name": "powerbi-paragon",
            "type": CREDENTIAL,
            "action": "changed",
            "changes": [
                {
                    "path": "scopes",
                    "before": "a b",
                    "after": "a b c",
                    "forces_replacement": False,
                    "scopes_added": ["c"],
                    "scopes_removed": [],
                }
            ],
        }
    ]
    assert doc["summary"] == {
        "added": 0,
        "removed": 0,
        "replaced": 0,
        "changed": 1,
        "unchanged": 3,
        "outputs_changed": 0,
    }


def test_secrets_stay_secret_even_if_a_wrapped_value_reaches_the_file() -> None:
    canary = "CANARY-client-secret-Zq8~"
    head = edited(
        ["resources", 3, "inputs", "clientSecret"], {rpc._special_sig_key: rpc._special_secret_sig, "value": canary}
    )
    head["outputs"]["client_secrets"] = {rpc._special_sig_key: rpc._special_secret_sig, "value": {"powerbi": canary}}
    result = diff_plans(parse_plan(BASE, "base"), parse_plan(head, "head"))
    for render in (render_text, render_markdown, render_json):
        assert canary not in render(result)
    assert not result.changed


def test_replace_table_matches_the_providers() -> None:
    """The diff's table for our dynamic provider is the provider's own REPLACE_ON, and secrets use Pulumi's sig."""
    assert plan_diff.REPLACE_ON[CREDENTIAL] == resource.REPLACE_ON
    assert (plan_diff._SECRET_SIG_KEY, plan_diff._SECRET_SIG) == (rpc._special_sig_key, rpc._special_secret_sig)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_formats(tmp_path: Path) -> None:
    base = write(tmp_path, "base.json", json.dumps(BASE))
    head = write(tmp_path, "head.json", json.dumps(edited(["resources", 3, "inputs", "projectId"], "p2")))
    text = runner.invoke(app, ["diff", str(base), str(head)])
    assert text.exit_code == 0 and "+- powerbi-paragon" in text.output and "(forces replacement)" in text.output
    markdown = runner.invoke(app, ["diff", str(base), str(head), "--format", "markdown"])
    assert markdown.exit_code == 0 and markdown.output.startswith(MARKER)
    as_json = runner.invoke(app, ["diff", str(base), str(head), "--format", "json"])
    assert as_json.exit_code == 0 and json.loads(as_json.output)["summary"]["replaced"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the plan"),
        ("{not json", "not JSON"),
        ("[1, 2]", "not a plan document (no `resources` list)"),
        ('{"resources": [{"name": 1}]}', "resources[0] needs a text name and type"),
        ('{"resources": [], "outputs": []}', "`outputs` must be an object"),
        (
            '{"resources": [{"name": "a", "type": "t"}, {"name": "a", "type": "t"}]}',
            "resources[1]: resource 'a' is listed twice",
        ),
    ],
    ids=["missing", "not-json", "not-object", "bad-resource", "bad-outputs", "duplicate"],
)
def test_unreadable_input_exits_1_with_one_line(tmp_path: Path, content: str | None, message: str) -> None:
    base = write(tmp_path, "base.json", json.dumps(BASE))
    head = tmp_path / "head.json"
    if content is not None:
        head.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["diff", str(base), str(head)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{head}: ") and message in lines[0], lines


def test_diff_imports_neither_pulumi_nor_httpx() -> None:
    """A workflow's diff step stays fast and needs no cloud SDK: the module imports no heavy package."""
    import subprocess
    import sys

    code = "import sys, provisioner.cli.diff; print(sorted(m for m in ('pulumi', 'httpx') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("token", "module", "args"),
    [
        (
            "azuread:index/applicationPassword:ApplicationPassword",
            "application_password",
            "ApplicationPasswordInitArgs",
        ),
        ("azuread:index/application:Application", "application", "ApplicationArgs"),
    ],
)
def test_replace_table_matches_the_azuread_sdk(token: str, module: str, args: str) -> None:
    """The resource's inputs pulumi-azuread documents as "forces a new resource", as wire (camelCase) names."""
    import importlib
    import re

    sdk = importlib.import_module(f"pulumi_azuread.{module}")
    doc = getattr(sdk, args).__init__.__doc__ or ""
    forced = re.findall(r":param [^:\n]+ (\w+): [^\n]*forces a new resource", doc)
    camel = {re.sub(r"_(\w)", lambda m: m.group(1).upper(), name) for name in forced}
    assert camel and camel == set(plan_diff.REPLACE_ON[token])
