"""Advice that is right for the case, fixed as kinds: each table covers the whole kind.

* keys written directly under an integration that are its Paragon settings → "move it under
  `paragon_values` as `<name>`" (a secret setting: "enter it in Paragon's dashboard");
* ``app:`` naming a missing integration → only valid targets (same resource API, an app owner);
* keys named like secrets → wording by what they hold (a value may have leaked; empty or settings did not);
* messages never cite README step numbers (they move), and name a section instead;
* pydantic's model-level and range errors in plain words, never a schema path a config repository lacks;
* a rotation anchor after the day judged (today, or ``--at``) is a warning.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT_DIR

from provisioner.catalog import CATALOG
from provisioner.config import load_config_report
from provisioner.config.advice import valid_app_targets
from provisioner.config.load import load_config
from provisioner.errors import ConfigError, Problem

Writer = Callable[..., Path]
HEAD = "paragon:\n  project_id: 38b1f170-0c43-4eae-9a04-ab85325d99f7\nintegrations:\n"


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    return raised.value.problems


# --- keys that belong under paragon_values ----------------------------------------------------------------

SETTINGS = [(key, x.name) for key, entry in CATALOG.items() for x in entry.extras if not x.secret]


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize("spelling", ["as-is", "snake_case"])
@pytest.mark.parametrize(("integration", "name"), SETTINGS, ids=[f"{k}.{n}" for k, n in SETTINGS])
def test_a_paragon_setting_under_the_integration_moves_under_paragon_values(
    write_config: Writer, integration: str, name: str, spelling: str
) -> None:
    key = name if spelling == "as-is" else _snake(name)
    [problem] = problems_of(write_config(HEAD + f"  {integration}:\n    {key}: contoso\n"))
    assert f"integrations.{integration}.{key}: `{key}` is a Paragon setting of {CATALOG[integration].title}" in problem
    assert problem.endswith(f"Fix: move it under `paragon_values` as `{name}`")
    assert "unknown key" not in problem and "remove it" not in problem


def test_the_settings_table_covers_dynamics_and_teams() -> None:
    assert ("microsoftDynamics", "organizationUrl") in SETTINGS
    assert {("microsoftTeams", "teamsAppId"), ("microsoftTeams", "botId")} <= set(SETTINGS)


def test_a_setting_of_another_integration_is_still_unknown(write_config: Writer) -> None:
    [problem] = problems_of(write_config(HEAD + "  powerbi:\n    organizationUrl: https://x.crm.dynamics.com\n"))
    assert "integrations.powerbi.organizationUrl: unknown key" in problem


# --- app: names a missing integration ----------------------------------------------------------------------

APP_CASES = [
    # (integrations block, the fix expected)
    (
        "  onedrive:\n    app: outlook\n  powerbi: {}\n",
        "add `outlook:` under integrations, or remove `app:` to give onedrive its own app",
    ),
    ("  onedrive:\n    app: exel\n  excel: {}\n  powerbi: {}\n", "did you mean `app: excel`?"),
    (
        "  onedrive:\n    app: nothing\n  excel: {}\n  sharepoint:\n    app: excel\n  powerbi: {}\n",
        "use one of excel, or remove `app:` to give onedrive its own app",
    ),
    (
        "  onedrive:\n    app: nothing\n  powerbi: {}\n  microsoftDynamics: {}\n",
        "remove `app:` to give onedrive its own app (no integration in this file can share one with it)",
    ),
]


@pytest.mark.parametrize(("block", "fix"), APP_CASES, ids=["add-it", "typo", "only-owners", "none"])
def test_app_naming_a_missing_integration_offers_only_valid_targets(write_config: Writer, block: str, fix: str) -> None:
    problems = problems_of(write_config(HEAD + block))
    [problem] = [p for p in problems if "integrations.onedrive.app:" in p]
    assert "is not an integration in this file" in problem
    assert problem.endswith(f"Fix: {fix}")
    for invalid in ("powerbi", "microsoftDynamics", "sharepoint"):  # other resource API, or itself sharing
        assert invalid not in problem.split("Fix: ")[1]


def test_valid_app_targets_are_owners_on_the_same_resource_api(write_config: Writer) -> None:
    text = HEAD + "  onedrive: {}\n  excel: {}\n  sharepoint:\n    app: excel\n  powerbi: {}\n  outlook: {}\n"
    config = load_config(write_config(text))
    assert valid_app_targets(config, "onedrive") == ["excel", "outlook"]
    assert valid_app_targets(config, "powerbi") == []


# --- keys named like secrets: wording by case ---------------------------------------------------------------

ROTATE = "rotate it if it was ever committed"
SECRET_CASES = [
    ("  powerbi:\n    client_secret: s3cr3t-value\n", "integrations.powerbi.client_secret", True, "PARAGON_*"),
    ("  powerbi:\n    client_secret:\n", "integrations.powerbi.client_secret", False, "is empty"),
    ("  powerbi:\n    api_key: ''\n", "integrations.powerbi.api_key", False, "is empty"),
    (
        "  powerbi:\n    secret_defaults: &policy\n      rotation_days: 30\n      anchor: 2025-01-01\n",
        "integrations.powerbi.secret_defaults",
        False,
        "holds settings, not a secret",
    ),
    ("  powerbi:\n    password:\n      value: hunter2\n", "integrations.powerbi.password", True, "what it holds"),
    (
        "  microsoftTeams:\n    botClientSecret: abc123\n",
        "integrations.microsoftTeams.botClientSecret",
        True,
        "enter the botClientSecret of Microsoft Teams in Paragon's dashboard",
    ),
    (
        "  microsoftTeams:\n    paragon_values:\n      botClientSecret: abc123\n",
        "integrations.microsoftTeams.paragon_values.botClientSecret",
        True,
        "enter the botClientSecret of Microsoft Teams in Paragon's dashboard",
    ),
]


@pytest.mark.parametrize(
    ("block", "key", "leaked", "words"),
    SECRET_CASES,
    ids=["value", "empty", "empty-quoted", "anchor-holder", "nested-value", "teams-bot-secret", "in-paragon-values"],
)
def test_secret_refusals_are_worded_by_what_the_key_holds(
    write_config: Writer, block: str, key: str, leaked: bool, words: str
) -> None:
    problems = [p for p in problems_of(write_config(HEAD + block)) if f": {key}: " in p]
    assert len(problems) == 1, problems
    assert (ROTATE in problems[0]) is leaked
    assert words in problems[0]
    for value in ("s3cr3t-value", "hunter2", "abc123"):
        assert value not in problems[0]


# --- README step numbers ------------------------------------------------------------------------------------


def _string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


STEP = re.compile(r"\bstep\s+\d|\bstep\)", re.IGNORECASE)


@pytest.mark.parametrize(
    "path",
    sorted((PROJECT_DIR / "provisioner").rglob("*.py")),
    ids=lambda p: str(p.relative_to(PROJECT_DIR)),
)
def test_no_message_points_at_a_readme_step_number(path: Path) -> None:
    """Step numbers move when the README changes; messages name a section instead."""
    for text in _string_constants(path):
        if "README" in text or "step" in text.lower():
            assert not STEP.search(text), f"{path.name}: {text!r}"


def test_readme_sections_named_in_messages_exist() -> None:
    from provisioner.errors import README_ENTRA_SIGN_IN, README_LOGIN

    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    for reference in (README_LOGIN, README_ENTRA_SIGN_IN):
        section, item = reference.removeprefix("README.md, section ").split(", ", 1)
        assert f"## {section}" in readme, section
        assert f"**{item}**" in readme, item


# --- model-level messages in plain words ----------------------------------------------------------------------

PLAIN_CASES = [
    ("  {}\n", "integrations: lists no integration; a stack needs at least one. Fix: add one under it"),
    ("  powerbi:\n    scopes: []\n", "integrations.powerbi.scopes: is an empty list"),
    ("  powerbi:\n    secret:\n      rotation_days: 0\n", "rotation_days: must be at least 1, got 0"),
    ("  powerbi:\n    secret:\n      grace_days: 400\n", "grace_days: must be at most 365, got 400"),
    ("  powerbi:\n    secret:\n      rotation_days: 30.5\n", "rotation_days: expected a whole number, got 30.5"),
    ("  powerbi:\n    display_name: ''\n", "display_name: is empty"),
    ("  powerbi:\n    activate: maybe\n", "activate: expected true or false, got maybe"),
]


@pytest.mark.parametrize(
    ("block", "expected"),
    PLAIN_CASES,
    ids=["empty-integrations", "empty-scopes", "too-small", "too-big", "fraction", "empty-text", "not-bool"],
)
def test_model_level_messages_are_plain_words(write_config: Writer, block: str, expected: str) -> None:
    text = HEAD.removesuffix("\n") + (" " + block.strip() + "\n" if block.strip() == "{}" else "\n" + block)
    [problem] = problems_of(write_config(text))
    assert expected in problem
    for jargon in ("Dictionary should", "Input should", "List should", "after validation", "schema.json"):
        assert jargon not in problem


# --- anchors after the day judged -------------------------------------------------------------------------------

ANCHORED = HEAD + "  powerbi:\n    secret:\n      anchor: 2027-01-01\n"


def anchor_warnings(path: Path, **when: Any) -> list[Problem]:
    """The config's warnings but the owners one (no ``scheduled_deployer`` here; tests/test_owners.py has it)."""
    return [w for w in load_config_report(path, **when).warnings if w.key != "scheduled_deployer"]


def test_a_future_anchor_is_a_warning_on_its_line(write_config: Writer) -> None:
    path = write_config(ANCHORED)
    [warning] = anchor_warnings(path, as_of=date(2026, 11, 29))
    assert str(warning) == (
        f"{path}:6: integrations.powerbi.secret.anchor: warning: 2027-01-01 is in the future (today is 2026-11-29); "
        "rotation windows are counted from it, so this is probably a mistake (the year?). Fix: use a date on or "
        "before today: the anchor only fixes where the windows start"
    )
    assert anchor_warnings(path, as_of=date(2027, 1, 1)) == []
    assert anchor_warnings(path) == []  # no day given: nothing to compare with


def test_an_at_before_the_anchor_is_a_warning(write_config: Writer) -> None:
    [warning] = anchor_warnings(write_config(ANCHORED), as_of=date(2026, 6, 1), as_of_flag="--at")
    assert "--at 2026-06-01 is before this anchor (2027-01-01)" in str(warning)
    assert "Fix: choose --at 2027-01-01 or later, or an earlier anchor" in str(warning)


def test_status_and_validate_print_anchor_warnings(
    write_config: Writer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from provisioner.cli.app import app
    from provisioner.cli.validate import run_validate

    path = write_config(ANCHORED)
    report = run_validate([path], tmp_path, today=date(2026, 11, 29))
    kinds = [kind for kind, text in report.lines if "scheduled_deployer: warning" not in text]
    assert kinds == ["warning", "valid"]
    monkeypatch.chdir(tmp_path)
    outputs = tmp_path / "outputs.json"
    outputs.write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(app, ["status", "--outputs", str(outputs), "--at", "2026-06-01"])
    assert result.exit_code == 3  # never deployed: the warning changes no exit code
    assert "warning: --at 2026-06-01 is before this anchor (2027-01-01)" in result.output
