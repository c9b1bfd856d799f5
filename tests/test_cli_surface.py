"""The command line's surface: one set of stack flags, --version, --debug in help, help that reads at 80
columns, status refusing documents that are not stack outputs, and scripts/plan.sh taking --config."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import PROJECT_DIR
from typer.testing import CliRunner

from provisioner.cli import entry
from provisioner.cli.app import DISTRIBUTION, app
from provisioner.cli.options import CONFIG_HELP, FORCE_STACK_HELP, STACK_FLAGS, STACK_HELP
from provisioner.cli.status import OutputsError, describe_document, parse_outputs_json

runner = CliRunner()
STACK_COMMANDS = ("plan", "status", "doctor", "validate")
"""Every command that reads a stack."""


def options(name: str) -> dict[str, Any]:
    """The command's parameters by option string (typer may vendor its own click: duck-typed)."""
    group: Any = typer.main.get_command(app)
    return {opt: p for p in group.commands[name].params for opt in getattr(p, "opts", [])}


@pytest.mark.parametrize("name", STACK_COMMANDS)
def test_every_stack_reading_command_has_the_same_selection_flags(name: str) -> None:
    found = options(name)
    assert set(STACK_FLAGS) <= set(found), name
    helps = {flag: getattr(found[flag], "help", None) for flag in STACK_FLAGS}
    assert helps == {"--stack": STACK_HELP, "--config": CONFIG_HELP, "--force-stack": FORCE_STACK_HELP}


def test_version_is_the_package_metadata() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"{DISTRIBUTION} {version(DISTRIBUTION)}\n"
    import provisioner

    assert provisioner.__version__ == version(DISTRIBUTION)


def test_version_through_the_process_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"{DISTRIBUTION} {version(DISTRIBUTION)}"


def help_text(*args: str) -> str:
    """``python -m provisioner ARGS --help`` as a user sees it at 80 columns."""
    done = subprocess.run(
        [sys.executable, "-m", "provisioner", *args, "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "COLUMNS": "80", "TERM": "xterm"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("args", [[], ["plan"], ["validate"], ["status"], ["doctor"], ["diff"], ["schema"]])
def test_help_reads_well_at_80_columns(args: list[str]) -> None:
    text = help_text(*args)
    for line in text.splitlines():
        assert len(line) <= 80, line
        assert "…" not in line, f"cut short: {line!r}"
    if not args:
        assert "--debug" in text and "--version" in text
    if args and args[0] in STACK_COMMANDS:
        flat = " ".join(text.split())
        for flag, words in (("--stack", STACK_HELP), ("--config", CONFIG_HELP), ("--force-stack", FORCE_STACK_HELP)):
            assert flag in flat and " ".join(words.split()) in flat, flag


def test_debug_is_accepted_before_the_command() -> None:
    """--debug is listed in help; given to the app directly it is a no-op option, never 'No such option'."""
    result = runner.invoke(app, ["--debug", "catalog", "--format", "json"])
    assert result.exit_code == 0, result.output


# --- status refuses a document that is not stack outputs ------------------------------------------------

PLAN_DOC = {"project": "p", "stack": "dev", "config": "config/dev.yaml", "at": "x", "resources": [], "outputs": {}}
OTHER_DOCUMENTS: list[tuple[Any, str]] = [
    (PLAN_DOC, "a plan document (plan --format json)"),
    ({"base": {}, "head": {}, "changed": False, "resources": [], "outputs": []}, "a plan diff (diff --format json)"),
    (
        {"stack": "dev", "config": "c", "at": "x", "warn_days": 30, "exit_code": 0, "integrations": []},
        "an expiry report (status --format json)",
    ),
    ({"key": "powerbi", "resource_app_id": "00000009-0000-0000-c000-000000000000"}, "a catalog entry"),
    ({"name": "x", "value": 1}, "a JSON object without the provisioner's `integrations` output"),
]


@pytest.mark.parametrize(("doc", "looks_like"), OTHER_DOCUMENTS, ids=["plan", "diff", "status", "catalog", "other"])
def test_other_documents_are_not_stack_outputs(doc: Any, looks_like: str) -> None:
    kind = describe_document(doc)
    assert kind is not None and kind.startswith(looks_like)
    with pytest.raises(OutputsError, match=rf"^out\.json: not stack outputs: it looks like {re.escape(looks_like)}"):
        parse_outputs_json(json.dumps(doc), "out.json")


@pytest.mark.parametrize("doc", [{}, {"integrations": {}, "client_secrets": "[secret]"}], ids=["never-deployed", "ok"])
def test_stack_outputs_are_accepted(doc: Any) -> None:
    assert describe_document(doc) is None
    assert parse_outputs_json(json.dumps(doc), "out.json") == doc


def test_a_json_list_of_rows_is_refused() -> None:
    rows = [{"check": "config", "status": "ok", "detail": "valid", "fix": ""}]
    with pytest.raises(OutputsError, match=r"^doctor\.json: no JSON object found.*a JSON list of 1 item"):
        parse_outputs_json(json.dumps(rows), "doctor.json")


def test_status_on_a_plan_document_exits_1_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan passed as --outputs is not a never-deployed stack (exit 3, a false alert): it is refused."""
    (tmp_path / "config").mkdir()
    shutil.copy(PROJECT_DIR / "config" / "dev.yaml", tmp_path / "config" / "dev.yaml")
    monkeypatch.chdir(tmp_path)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(PLAN_DOC), encoding="utf-8")
    result = runner.invoke(app, ["status", "--outputs", str(plan), "--at", "2026-11-29"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{plan}: not stack outputs: it looks like a plan document (plan --format json)")


# --- scripts/plan.sh ---------------------------------------------------------------------------------------


def test_plan_script_passes_config_through() -> None:
    """scripts/plan.sh no longer hard-codes --stack dev: --config names the stack by its file."""
    script = (PROJECT_DIR / "scripts" / "plan.sh").read_text(encoding="utf-8")
    assert "--stack dev" not in script
    if not (PROJECT_DIR / ".venv" / "bin" / "python").exists():
        pytest.skip("no .venv: scripts/plan.sh sets one up (the gate runs it)")
    done = subprocess.run(
        ["bash", "scripts/plan.sh", "--config", "config/examples/all-integrations.yaml", "--format", "json"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "PROVISIONER_CONFIG"},
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert (doc["stack"], doc["config"]) == ("all-integrations", "config/examples/all-integrations.yaml")


def test_a_library_warning_never_reaches_stderr_beside_the_commands_own_line(tmp_path: Path) -> None:
    """azure-identity logs "AzureCliCredential.get_token failed" at WARNING; without a handler Python printed it
    raw before the command's own one line (found trying `adopt` without an Azure sign-in)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()  # no `az` on PATH and no ARM_* sign-in: the Azure CLI sign-in fails
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARM_", "AZURE_", "ACTIONS_ID_TOKEN"))}
    env.update(PATH=str(bin_dir), PROVISIONER_GRAPH_URL="http://127.0.0.1:9")
    done = subprocess.run(
        [sys.executable, "-m", "provisioner", "adopt", "--config", str(PROJECT_DIR / "config" / "dev.yaml")]
        + ["--integration", "powerbi", "--client-id", "7d3c7a0e-1b2c-4d5e-8f90-a1b2c3d4e5f6"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "AzureCliCredential.get_token failed" not in done.stderr, done.stderr


def test_the_command_line_skips_pydantics_plugin_scan(tmp_path: Path) -> None:
    """No pydantic plugin is used; the scan of every installed distribution cost ~40 ms a command (bench)."""
    script = (
        "import os, sys; os.environ.pop('PYDANTIC_DISABLE_PLUGINS', None)\n"
        "from provisioner.cli import entry\n"
        f"code = entry.main(['validate', {str(PROJECT_DIR / 'config' / 'dev.yaml')!r}])\n"
        "import pydantic.plugin._loader as loader\n"
        "print(code, loader._plugins, os.environ['PYDANTIC_DISABLE_PLUGINS'])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120)
    assert done.stdout.splitlines()[-1].split() == ["0", "None", "__all__"], done.stderr
