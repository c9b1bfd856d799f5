"""The command line as users run it: plan (text and JSON), validate, schema."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import VALID_CONFIG
from typer.testing import CliRunner

from provisioner.cli.app import app

runner = CliRunner()


def test_plan_json_is_one_document_with_resources_and_outputs(project_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "provisioner", "plan", "--format", "json", "--at", "2026-11-29"],
        cwd=project_dir,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["stack"] == "dev" and doc["at"] == "2026-11-29T00:00:00Z"
    by_name = {r["name"]: r for r in doc["resources"]}
    assert set(by_name) == {
        "powerbi",
        "powerbi-app",
        "powerbi-sp",
        "powerbi-secret-0",
        "powerbi-secret-1",
        "powerbi-paragon",
    }
    sp = by_name["powerbi-sp"]
    assert sp["type"] == "azuread:index/servicePrincipal:ServicePrincipal"
    assert sp["inputs"]["clientId"] == "(known after deploy)"  # the new app's client ID
    assert doc["outputs"]["integrations"]["powerbi"]["service_principal_object_id"] == "(known after deploy)"
    app_inputs = by_name["powerbi-app"]["inputs"]
    assert app_inputs["web"]["redirectUris"] == ["https://passport.useparagon.com/oauth"]
    assert app_inputs["requiredResourceAccesses"][0]["resourceAppId"] == "00000009-0000-0000-c000-000000000000"
    assert by_name["powerbi-secret-1"]["inputs"]["endDate"] == "2027-04-05T00:00:00Z"
    push = by_name["powerbi-paragon"]
    assert push["type"] == "pulumi-python:dynamic/paragon:OAuthCredential"
    assert push["inputs"]["integrationKey"] == "powerbi"
    assert push["inputs"]["clientSecret"] == "[secret]"
    assert push["inputs"]["clientId"] == "(known after deploy)"
    assert doc["outputs"]["client_secrets"] == "[secret]"
    assert doc["outputs"]["integrations"]["powerbi"]["paragon_scopes"] == push["inputs"]["scopes"]


def test_plan_text_shows_the_resources(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project_dir)
    result = runner.invoke(app, ["plan", "--at", "2026-11-29"])
    assert result.exit_code == 0, result.output
    for expected in (
        "azuread:index/application:Application",
        "web.redirectUris: https://passport.useparagon.com/oauth",
        "00000009-0000-0000-c000-000000000000",
        "endDate: 2027-04-05T00:00:00Z",
        "pulumi-python:dynamic/paragon:OAuthCredential",
        "clientSecret: [secret]",
        "https://analysis.windows.net/powerbi/api/Dataset.Read.All",
    ):
        assert expected in result.output


def test_plan_across_a_boundary_replaces_exactly_one_secret(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project_dir)

    def secrets(at: str) -> dict[str, dict[str, str]]:
        result = runner.invoke(app, ["plan", "--at", at, "--format", "json"])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.output)
        return {r["name"]: r["inputs"] for r in doc["resources"] if r["type"].endswith("ApplicationPassword")}

    before, after = secrets("2026-12-21"), secrets("2026-12-22")
    assert [name for name in before if before[name] != after[name]] == ["powerbi-secret-0"]


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("paragon:\n", "paragon:\n  redirect_uri: http://passport.useparagon.com/oauth\n"), "paragon.redirect_uri"),
        (("paragon:\n", "paragon:\n  redirect_uri: https://*.example.com/oauth\n"), "paragon.redirect_uri"),
        (
            ("powerbi:\n    scopes: [Dataset.Read.All, Report.Read.All]", "azuredevops:\n    scopes: [vso.wrok]"),
            "integrations.azuredevops.scopes[0]",
        ),
        (("scopes:", "scoeps:"), "integrations.powerbi.scoeps"),
        (("    scopes:", "    scopes: [Dataset.Read.All]\n    scopes:"), "integrations.powerbi.scopes"),
    ],
    ids=["http-redirect", "wildcard-redirect", "unknown-scope", "misspelt-key", "duplicate-key"],
)
def test_bad_config_exits_1_with_one_line_naming_the_key(
    project_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    write_config: Callable[[str], Path],
    change: tuple[str, str],
    key: str,
) -> None:
    path = write_config(VALID_CONFIG.replace(*change))
    monkeypatch.chdir(tmp_path)
    for args in (["validate"], ["plan", "--project-dir", str(project_dir), "--config", str(path)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, lines
        assert f": {key}: " in lines[0]
        assert "Traceback" not in result.output


def test_validate_reports_each_file(write_config: Callable[[str, str], Path]) -> None:
    good = write_config(VALID_CONFIG, "dev.yaml")
    bad = write_config(VALID_CONFIG.replace("powerbi:", "powerbl:"), "prod.yaml")
    result = runner.invoke(app, ["validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert f"{good}: valid" in result.output
    assert "integrations.powerbl: unknown Paragon integration key" in result.output
    assert runner.invoke(app, ["validate", str(good)]).exit_code == 0


def test_schema_check_passes_on_the_published_schema(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project_dir)
    result = runner.invoke(app, ["schema", "--check"])
    assert result.exit_code == 0, result.output


def test_bad_at_is_a_usage_error(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project_dir)
    result = runner.invoke(app, ["plan", "--at", "next tuesday"])
    assert result.exit_code == 2
    assert "--at: expected YYYY-MM-DD" in result.output
