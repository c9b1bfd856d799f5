"""`validate --format azure-pipelines`: config problems as ``##vso[task.logissue]`` logging commands.

Escaping as the Azure Pipelines task library writes them (microsoft/azure-pipelines-task-lib,
``node/taskcommand.ts``): message ``%`` CR LF; property values also ``]`` and ``;``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import VALID_CONFIG
from typer.testing import CliRunner

from provisioner.cli.annotations import (
    azure_pipelines_issue,
    ci_annotation,
    escape_azure_data,
    escape_azure_property,
    github_annotation,
)
from provisioner.cli.app import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("100%", "100%AZP25", "100%AZP25"),
        ("a\nb\r\nc", "a%0Ab%0D%0Ac", "a%0Ab%0D%0Ac"),
        ("a;b]c", "a;b]c", "a%3Bb%5Dc"),
        ("%0A", "%AZP250A", "%AZP250A"),
        (
            "x]##vso[task.complete result=Failed]",
            "x]##vso[task.complete result=Failed]",
            "x%5D##vso[task.complete result=Failed%5D",
        ),
        ("k: v, w", "k: v, w", "k: v, w"),
    ],
    ids=[
        "plain",
        "percent",
        "newlines",
        "semicolon-bracket",
        "already-escaped-looking",
        "injected-command",
        "colon-comma",
    ],
)
def test_escaping(text: str, data: str, prop: str) -> None:
    assert escape_azure_data(text) == data
    assert escape_azure_property(text) == prop


@pytest.mark.parametrize(
    ("problem", "level", "expected"),
    [
        (
            "config/prod.yaml:7: integrations.powerbi.scopes[1]: 'X' is unknown. Fix: use one of A, B",
            "error",
            "##vso[task.logissue type=error;sourcepath=config/prod.yaml;linenumber=7]"
            "integrations.powerbi.scopes[1]: 'X' is unknown. Fix: use one of A, B",
        ),
        (
            "prod.yaml: the file is empty. Fix: start from config/dev.yaml",
            "error",
            "##vso[task.logissue type=error;sourcepath=prod.yaml]the file is empty. Fix: start from config/dev.yaml",
        ),
        (
            "odd;name].yaml:3: 100% wrong\nsecond line",
            "error",
            "##vso[task.logissue type=error;sourcepath=odd%3Bname%5D.yaml;linenumber=3]100%AZP25 wrong%0Asecond line",
        ),
        (
            "config/dev.yaml:4: paragon.redirect_uri: warning: trailing slash",
            "warning",
            "##vso[task.logissue type=warning;sourcepath=config/dev.yaml;linenumber=4]"
            "paragon.redirect_uri: warning: trailing slash",
        ),
        ("no file here", "error", "##vso[task.logissue type=error]no file here"),
    ],
    ids=["file-and-line", "file-only", "escaped-file-and-message", "warning", "no-file"],
)
def test_azure_pipelines_issue(problem: str, level: str, expected: str) -> None:
    assert azure_pipelines_issue(problem, Path("/nowhere"), level) == expected  # type: ignore[arg-type]
    assert "\n" not in expected and "\r" not in expected


def test_absolute_paths_under_the_working_directory_become_relative(tmp_path: Path) -> None:
    line = azure_pipelines_issue(f"{tmp_path}/config/prod.yaml:2: paragon: bad", tmp_path)
    assert line == "##vso[task.logissue type=error;sourcepath=config/prod.yaml;linenumber=2]paragon: bad"


def test_ci_annotation_picks_the_flavour() -> None:
    problem = "a.yaml:1: k: bad"
    assert ci_annotation("github", problem, Path(".")) == github_annotation(problem, Path("."))
    assert ci_annotation("azure-pipelines", problem, Path(".")) == azure_pipelines_issue(problem, Path("."))
    with pytest.raises(ValueError, match="no annotation format 'gitlab'"):
        ci_annotation("gitlab", problem, Path("."))


def test_validate_format_azure_pipelines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "dev.yaml").write_text(VALID_CONFIG, encoding="utf-8")
    (tmp_path / "config" / "prod.yaml").write_text(
        VALID_CONFIG.replace("integrations:", "  redirect_uri: http://example.com/oauth\nintegrations:")
        + "    activ: true\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["validate", "--format", "azure-pipelines"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "config/dev.yaml: valid" in lines  # after its scheduled_deployer warning (docs/owners.md)
    errors = [line for line in lines if line.startswith("##vso[task.logissue type=error")]
    assert len(errors) == 2, lines
    assert all(e.startswith("##vso[task.logissue type=error;sourcepath=config/prod.yaml;linenumber=") for e in errors)
    assert any(";linenumber=7]" in e and "integrations.powerbi.activ: unknown key" in e for e in errors)
    assert any(";linenumber=3]" in e and "redirect_uri" in e for e in errors)
    assert runner.invoke(app, ["validate", "--format", "azure-pipelines", "config/dev.yaml"]).exit_code == 0
    assert "azure-pipelines" in runner.invoke(app, ["validate", "--help"]).stdout
