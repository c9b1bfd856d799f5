"""`validate --format github`: config problems as workflow annotations, escaped by GitHub's rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import VALID_CONFIG
from typer.testing import CliRunner

from provisioner.cli.annotations import escape_data, escape_property, github_annotation
from provisioner.cli.app import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\nb\r\nc", "a%0Ab%0D%0Ac", "a%0Ab%0D%0Ac"),
        ("k: v, w", "k: v, w", "k%3A v%2C w"),
        ("%0A", "%250A", "%250A"),
        ("::error::x", "::error::x", "%3A%3Aerror%3A%3Ax"),
    ],
    ids=["plain", "percent", "newlines", "colon-comma", "already-escaped-looking", "injected-command"],
)
def test_escaping(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (
            "config/prod.yaml:7: integrations.powerbi.scopes[1]: 'X' is unknown. Fix: use one of A, B",
            "::error file=config/prod.yaml,line=7,title=Invalid provisioner config::"
            "integrations.powerbi.scopes[1]: 'X' is unknown. Fix: use one of A, B",
        ),
        (
            "prod.yaml: the file is empty. Fix: start from config/dev.yaml",
            "::error file=prod.yaml,title=Invalid provisioner config::"
            "the file is empty. Fix: start from config/dev.yaml",
        ),
        (
            "odd, name.yaml:3: 100% wrong",
            "::error file=odd%2C name.yaml,line=3,title=Invalid provisioner config::100%25 wrong",
        ),
        ("no file here", "::error title=Invalid provisioner config::no file here"),
    ],
    ids=["file-and-line", "file-only", "escaped-file-and-message", "no-file"],
)
def test_github_annotation(problem: str, expected: str) -> None:
    assert github_annotation(problem, Path("/nowhere")) == expected


def test_absolute_paths_under_the_working_directory_become_relative(tmp_path: Path) -> None:
    line = github_annotation(f"{tmp_path}/config/prod.yaml:2: paragon: bad", tmp_path)
    assert line.startswith("::error file=config/prod.yaml,line=2,")


def test_validate_format_github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "dev.yaml").write_text(VALID_CONFIG, encoding="utf-8")
    (tmp_path / "config" / "prod.yaml").write_text(
        VALID_CONFIG.replace("integrations:", "  redirect_uri: http://example.com/oauth\nintegrations:")
        + "    activ: true\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["validate", "--format", "github"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert warnings == [w for w in warnings if w.startswith("::warning file=config/dev.yaml,line=1,")]
    assert len(warnings) == 1 and "scheduled_deployer: warning: not set" in warnings[0]  # prod has errors
    lines = [line for line in lines if not line.startswith("::warning ")]
    assert lines[0] == "config/dev.yaml: valid"
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == 2, lines
    assert all(e.startswith("::error file=config/prod.yaml,line=") for e in errors)
    assert any("line=7," in e and "integrations.powerbi.activ: unknown key" in e for e in errors)
    assert any(e.startswith("::error file=config/prod.yaml,line=3,") and "redirect_uri" in e for e in errors)
    assert runner.invoke(app, ["validate", "--format", "github", "config/dev.yaml"]).exit_code == 0
