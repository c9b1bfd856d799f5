"""examples/config-repo end to end, from a copy outside this repository, with the installed provisioner.

Nothing is installed from the network: the copy's requirements.txt is not used; the current interpreter
(where `provisioner` is installed) runs the CLI with the copy as working directory, as a config repo's CI
job would after `pip install -r requirements.txt`.
"""

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
from typer.testing import CliRunner

from provisioner.cli.app import app
from provisioner.cli.diff import MARKER

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "config-repo"
DIST = "paragon-entra-provisioner"
runner = CliRunner()
AT = "2026-11-29"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of examples/config-repo in a temporary folder, as the working directory."""
    copy = tmp_path / "acme-config"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    monkeypatch.chdir(copy)
    monkeypatch.delenv("PROVISIONER_CONFIG", raising=False)
    return copy


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m provisioner ARGS`` in the working directory, as a user or CI job runs it."""
    environ = {k: v for k, v in os.environ.items() if k != "PROVISIONER_CONFIG"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "provisioner", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=environ,
    )


def plan_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["plan", "--format", "json", "--at", AT, *args])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r["inputs"] for r in doc["resources"]}


def test_the_layout_is_a_config_repo() -> None:
    """Only what a config repo needs; the program is the pinned dependency's."""
    names = {p.name for p in EXAMPLE.iterdir() if p.name not in (".github", ".venv", "__pycache__")}
    assert {"Pulumi.yaml", "__main__.py", "requirements.txt", "README.md", "defaults.yaml"} <= names
    assert {"staging.yaml", "prod.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"} <= names
    main = [line for line in (EXAMPLE / "__main__.py").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert main == ["from provisioner.program import main", "main()"]
    requirement = [
        line for line in (EXAMPLE / "requirements.txt").read_text(encoding="utf-8").splitlines() if line[:1] != "#"
    ]
    assert requirement == [
        f"paragon-entra-provisioner @ git+https://github.com/YOUR-ORG/paragon-entra-provisioner@v{version(DIST)}"
    ]


def test_the_pin_names_this_version_and_the_pin_forms_are_documented() -> None:
    """The example pins the release tag of the version in the package metadata (v<version>), and the
    commit-pin form and the upgrade path are written down where users look."""
    text = (EXAMPLE / "requirements.txt").read_text(encoding="utf-8")
    assert f"@v{version(DIST)}\n" in text
    assert "@<40-character commit SHA>" in text
    assert re.fullmatch(r"\d+\.\d+\.\d+", version(DIST)), "MAJOR.MINOR.PATCH (docs/gitops.md)"
    gitops = (EXAMPLE.parent.parent / "docs" / "gitops.md").read_text(encoding="utf-8")
    assert "## Upgrading the provisioner" in gitops and "--version" in gitops


def test_validate_finds_the_stacks_by_their_config_file_setting(repo: Path) -> None:
    done = cli("validate")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["prod.yaml: valid", "staging.yaml: valid"]


def shell_glob(folder: Path, pattern: str) -> list[str]:
    """``pattern`` expanded as a shell does in ``folder``: sorted names (hidden files left out)."""
    return sorted(p.name for p in folder.glob(pattern) if not p.name.startswith("."))


VALIDATE_FORMS = {"no-arguments": [], "folder": ["."], "glob": ["*.yaml"]}
"""The three ways a config repository's user runs validate (the glob is expanded by `shell_glob`)."""


def validate_args(repo: Path, form: str) -> list[str]:
    return shell_glob(repo, "*.yaml") if form == "glob" else VALIDATE_FORMS[form]


@pytest.mark.parametrize("form", list(VALIDATE_FORMS))
def test_validate_passes_in_a_config_repo_in_every_form(repo: Path, form: str) -> None:
    """Pulumi's own files are skipped, defaults.yaml is defaults, not a broken stack file."""
    args = validate_args(repo, form)
    if form == "glob":
        assert {"Pulumi.yaml", "Pulumi.prod.yaml", "defaults.yaml"} <= set(args)
    done = cli("validate", *args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines() == ["prod.yaml: valid", "staging.yaml: valid"]


BAD_STACK = """\
paragon:
  project_id: 5c3e1a0b-7d2f-4b6e-9a81-2f4c6d8e0a13
integrations:
  azuredevops:
    scopes: [vso.cod]
"""
"""A misspelt scope of a resource whose published list is complete (Azure DevOps): an error, not a warning."""


@pytest.mark.parametrize("form", list(VALIDATE_FORMS))
def test_a_new_stack_file_with_a_bad_scope_fails_every_form(repo: Path, form: str) -> None:
    (repo / "qa.yaml").write_text(BAD_STACK, encoding="utf-8")
    done = cli("validate", *validate_args(repo, form))
    assert done.returncode == 1, done.stdout
    problems = [line for line in done.stderr.splitlines() if ": warning: " not in line]
    assert problems == [
        "qa.yaml:5: integrations.azuredevops.scopes[0]: 'vso.cod' is not a known Azure DevOps delegated permission "
        "(Microsoft's published list, MicrosoftDocs/azure-devops-docs@0741e44566e6 (generated 2026-12-07)). Fix: "
        "did you mean 'vso.code'?"
    ]
    assert done.stdout.splitlines() == ["prod.yaml: valid", "staging.yaml: valid"]


def test_validate_warns_for_a_stack_file_no_stack_selects(repo: Path) -> None:
    """CI selects stacks and never creates them: qa.yaml without Pulumi.qa.yaml would not be deployed."""
    (repo / "qa.yaml").write_text((repo / "prod.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    done = cli("validate")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["prod.yaml: valid", "qa.yaml: valid", "staging.yaml: valid"]
    assert done.stderr.splitlines() == [
        "qa.yaml: warning: no Pulumi.qa.yaml selects this file (stack setting configFile), so CI does not deploy "
        "it and `pulumi up` on stack qa would read config/qa.yaml. Fix: pulumi stack init qa && pulumi config set "
        "configFile qa.yaml, then commit Pulumi.qa.yaml (docs/gitops.md, Adding and removing stacks)"
    ]
    github = cli("validate", "--format", "github")
    assert github.returncode == 0
    assert "::warning file=qa.yaml," in github.stdout
    (repo / "Pulumi.qa.yaml").write_text("config:\n  acme-paragon-entra:configFile: qa.yaml\n", encoding="utf-8")
    assert cli("validate").stderr == ""


@pytest.mark.parametrize(
    ("args", "stdout"),
    [
        (["--config", "prod.yaml"], ["prod.yaml: valid"]),
        (["--stack", "staging"], ["staging.yaml: valid"]),
        (["--stack", "qa", "--config", "prod.yaml", "--force-stack"], ["prod.yaml: valid"]),
    ],
    ids=["config", "stack-by-setting", "force-stack"],
)
def test_validate_takes_the_stack_selection_flags(repo: Path, args: list[str], stdout: list[str]) -> None:
    result = runner.invoke(app, ["validate", *args])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == stdout


def test_validate_refuses_files_and_a_stack_together(repo: Path) -> None:
    result = runner.invoke(app, ["validate", "prod.yaml", "--stack", "prod"])
    assert result.exit_code == 2
    assert "name files, or choose one stack with --stack/--config, not both" in result.output


@pytest.mark.parametrize("command", ["plan", "status", "doctor", "validate"])
def test_every_stack_reading_command_accepts_config(repo: Path, command: str) -> None:
    """--config prod.yaml selects stack prod for every command that reads a stack (exit codes by command)."""
    args = [command, "--config", "prod.yaml"]
    if command in ("plan", "status"):
        args += ["--format", "json", "--at", AT]
    if command == "status":
        outputs = repo / "outputs.json"
        outputs.write_text(json.dumps(plan_json("--config", "prod.yaml")["outputs"]), encoding="utf-8")
        args += ["--outputs", str(outputs)]
    if command == "doctor":
        args += ["--offline", "--format", "json"]
    result = runner.invoke(app, args)
    assert "No such option" not in result.output
    if command == "doctor":  # no pulumi or az here: some checks fail, the config check passes
        rows = {row["check"]: row for row in json.loads(result.stdout)}
        assert rows["config"]["status"] == "ok", rows["config"]
    else:
        assert result.exit_code == 0, result.output
        if command != "validate":
            doc = json.loads(result.stdout)
            assert (doc["stack"], doc["config"]) == ("prod", "prod.yaml")


def test_plan_prod_from_its_file(repo: Path) -> None:
    done = cli("plan", "--config", "prod.yaml", "--format", "json", "--at", AT)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert (doc["project"], doc["stack"], doc["config"]) == ("acme-paragon-entra", "prod", "prod.yaml")
    inputs = by_name(doc)
    assert inputs["powerbi-app"]["displayName"] == "Paragon Power BI (prod)"
    assert inputs["powerbi-app"]["web"]["redirectUris"] == ["https://passport.useparagon.com/oauth"]
    paragon = inputs["powerbi-paragon"]
    assert paragon["projectId"] == "9a7d2c4e-1b3f-4e5a-8c6d-0f1e2d3c4b5a" and paragon["activate"] is True
    assert paragon["credentialName"] == "Power BI app registration (prod, managed by Pulumi)"
    assert doc["outputs"]["integrations"]["powerbi"]["scopes"] == [
        "Dataset.Read.All",
        "Report.Read.All",
        "Workspace.Read.All",
    ]
    assert inputs["powerbi-secret-1"]["endDate"] == "2027-04-05T00:00:00Z"  # 90 + 90 + 14 days, from defaults.yaml
    text = cli("plan", "--config", "prod.yaml", "--at", AT)
    assert text.returncode == 0, text.stderr
    assert "(project acme-paragon-entra, stack prod, config prod.yaml, as of 2026-11-29T00:00:00Z)" in " ".join(
        text.stdout.split()
    )


def test_plan_staging_by_stack_setting_and_by_environment(repo: Path) -> None:
    doc = plan_json("--stack", "staging")
    assert (doc["stack"], doc["config"]) == ("staging", "staging.yaml")
    secret = doc["outputs"]["integrations"]["powerbi"]["secret"]
    assert secret["next_rotation"] == "2026-12-22T00:00:00Z"  # rotation_days 30 from staging.yaml
    assert doc["outputs"]["integrations"]["powerbi"]["scopes"] == ["Dataset.Read.All", "Report.Read.All"]
    done = cli("plan", "--format", "json", "--at", AT, env={"PROVISIONER_CONFIG": "staging.yaml"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == doc


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["plan", "--stack", "prod", "--config", "staging.yaml"], 2, "--stack prod disagrees with --config"),
        (["status", "--stack", "prod", "--config", "staging.yaml"], 2, "--stack prod disagrees with --config"),
        (["plan", "--config", "defaults.yaml"], 2, "defaults.yaml: holds defaults shared by the stack files"),
        (["plan", "--stack", "qa"], 1, "config/qa.yaml: file not found"),
    ],
    ids=["plan-mismatch", "status-mismatch", "defaults-is-no-stack", "unknown-stack"],
)
def test_refusals_are_one_line(repo: Path, args: list[str], code: int, message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines


def test_force_stack_plans_a_file_as_another_stack(repo: Path) -> None:
    doc = plan_json("--stack", "prod", "--config", "staging.yaml", "--force-stack")
    assert (doc["stack"], doc["config"]) == ("prod", "staging.yaml")
    assert by_name(doc)["powerbi-paragon"]["projectId"] == "5c3e1a0b-7d2f-4b6e-9a81-2f4c6d8e0a13"


def test_status_with_outputs_json(repo: Path) -> None:
    outputs = repo / "outputs.json"
    outputs.write_text(json.dumps(plan_json("--config", "prod.yaml")["outputs"]), encoding="utf-8")
    args = ["status", "--config", "prod.yaml", "--outputs", str(outputs), "--at", AT, "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["stack"], doc["config"], doc["exit_code"]) == ("prod", "prod.yaml", 0)
    assert [i["health"] for i in doc["integrations"]] == ["healthy"]
    later = runner.invoke(app, [*args[:-4], "--at", "2027-03-20", "--format", "json"])
    assert later.exit_code == 4, later.output  # ends 2027-04-05: within the 30 warning days, never rotated


def test_a_bad_default_is_reported_once_at_defaults_yaml(repo: Path) -> None:
    defaults = repo / "defaults.yaml"
    text = defaults.read_text(encoding="utf-8")
    defaults.write_text(text.replace("grace_days: 14", "grace_days: 0"), encoding="utf-8")
    line = next(n for n, s in enumerate(text.splitlines(), 1) if "grace_days" in s)
    result = runner.invoke(app, ["validate", "--format", "github"])
    assert result.exit_code == 1
    errors = [s for s in result.stdout.splitlines() if s.startswith("::error")]
    assert len(errors) == 1, result.stdout
    assert errors[0].startswith(f"::error file=defaults.yaml,line={line},")
    assert "secret.grace_days" in errors[0]
    plan = runner.invoke(app, ["plan", "--config", "staging.yaml", "--at", AT])
    assert plan.exit_code == 1 and plan.output.startswith(f"defaults.yaml:{line}: ")


def test_diff_of_a_pull_request_that_adds_a_scope(repo: Path) -> None:
    base = repo / "base.json"
    base.write_text(json.dumps(plan_json("--config", "staging.yaml")), encoding="utf-8")
    staging = repo / "staging.yaml"
    staging.write_text(
        staging.read_text(encoding="utf-8").replace(
            "  powerbi:\n", "  powerbi:\n    scopes: [Dataset.Read.All, Report.Read.All, Dashboard.Read.All]\n"
        ),
        encoding="utf-8",
    )
    head = repo / "head.json"
    head.write_text(json.dumps(plan_json("--config", "staging.yaml")), encoding="utf-8")
    result = runner.invoke(app, ["diff", str(base), str(head), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {r["name"]: r["action"] for r in doc["resources"]} == {
        "powerbi-app": "changed",
        "powerbi-paragon": "changed",
    }
    assert doc["summary"]["outputs_changed"] == 2  # scopes and paragon_scopes
    markdown = runner.invoke(app, ["diff", str(base), str(head), "--format", "markdown"])
    assert markdown.output.startswith(MARKER + "\n<!-- provisioner-plan-diff:stack=staging -->\n")


def test_schema_writes_anywhere(repo: Path) -> None:
    missing = runner.invoke(app, ["schema"])
    assert missing.exit_code == 1 and "config: no such folder. Fix:" in missing.output
    to_stdout = runner.invoke(app, ["schema", "--output", "-"])
    assert to_stdout.exit_code == 0 and json.loads(to_stdout.stdout)["title"].startswith("Paragon provisioner")
    written = runner.invoke(app, ["schema", "--output", "provisioner.schema.json"])
    assert written.exit_code == 0, written.output
    assert json.loads((repo / "provisioner.schema.json").read_text(encoding="utf-8")) == json.loads(to_stdout.stdout)
    assert runner.invoke(app, ["schema", "--check", "--output", "provisioner.schema.json"]).exit_code == 0
    (repo / "provisioner.schema.json").write_text("{}\n", encoding="utf-8")
    stale = runner.invoke(app, ["schema", "--check", "--output", "provisioner.schema.json"])
    assert stale.exit_code == 1 and "out of date" in stale.output
