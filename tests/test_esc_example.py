"""The Pulumi ESC example (examples/config-repo/esc/): the environment definition and the stack file that
imports it parse, agree with each other and with the config repository, hold no secret, and are what
``doctor`` recognises."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.cli.doctor import CheckResult, DoctorDeps, DoctorOptions, Status, ToolResult
from provisioner.cli.doctor.base import Facts
from provisioner.cli.doctor.esc import imported_environments, with_esc_environments
from provisioner.config.secret_guard import is_secret_key, looks_like_secret_value

ROOT = Path(__file__).resolve().parent.parent
REPO = ROOT / "examples" / "config-repo"
ENVIRONMENT_FILE = REPO / "esc" / "paragon-prod.yaml"
STACK_FILE = REPO / "esc" / "Pulumi.prod.yaml"
REFERENCE = re.compile(r"\$\{([^}]+)\}")
AZURE_LOGIN_OUTPUTS = {"clientId", "tenantId", "subscriptionId", "oidc.token"}
"""Outputs of ``fn::open::azure-login`` (Pulumi ESC docs, "azure-login": clientId, tenantId, subscriptionId,
and with ``oidc: true`` the token under ``oidc``)."""


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def _strings(node: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [item for k, v in node.items() for item in _strings(v, f"{path}.{k}" if path else str(k))]
    if isinstance(node, list):
        return [item for i, v in enumerate(node) for item in _strings(v, f"{path}[{i}]")]
    return [(path, node)] if isinstance(node, str) else []


def _resolves(values: dict[str, Any], reference: str) -> bool:
    node: Any = values
    parts = reference.split(".")
    for i, part in enumerate(parts):
        if isinstance(node, dict) and "fn::open::azure-login" in node:
            return ".".join(parts[i:]) in AZURE_LOGIN_OUTPUTS
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_environment_supplies_the_azure_login_by_oidc_and_the_paragon_login_as_a_secret() -> None:
    values = _load(ENVIRONMENT_FILE)["values"]
    login = values["azure"]["login"]["fn::open::azure-login"]
    assert login["oidc"] is True and "clientSecret" not in login
    variables = values["environmentVariables"]
    assert variables == {
        "ARM_USE_OIDC": "true",
        "ARM_CLIENT_ID": "${azure.login.clientId}",
        "ARM_TENANT_ID": "${azure.login.tenantId}",
        "ARM_OIDC_TOKEN": "${azure.login.oidc.token}",
        "PARAGON_EMAIL": "${paragon.email}",
        "PARAGON_PASSWORD": "${paragon.password}",
    }
    assert set(values["paragon"]["password"]) == {"fn::secret"}, "the password only ever as an ESC secret"
    for path, text in _strings(values):
        for reference in REFERENCE.findall(text):
            assert _resolves(values, reference), f"{path}: ${{{reference}}} names nothing in the environment"


def test_no_secret_value_is_committed() -> None:
    data = _load(ENVIRONMENT_FILE)
    for path, text in _strings(data):
        assert not looks_like_secret_value(text), path
        last_key = re.split(r"[.\[]", path)[-1]
        if is_secret_key(last_key) and not path.endswith("fn::secret"):
            assert REFERENCE.fullmatch(text), f"{path}: a secret-named key holds only a reference"
        if not REFERENCE.search(text) and text not in ("true", "currentEnvironment.name"):
            assert text.startswith("<") and text.endswith(">"), f"{path}: {text!r} is not an obvious placeholder"


def test_stack_file_imports_the_environment_and_names_the_stack_yaml() -> None:
    stack = _load(STACK_FILE)
    header = ENVIRONMENT_FILE.read_text(encoding="utf-8").splitlines()[0]
    refs = imported_environments(stack)
    assert refs == ["paragon/prod"] and "ESC environment paragon/prod" in header
    project = _load(REPO / "Pulumi.yaml")["name"]
    assert stack["config"] == {f"{project}:configFile": "prod.yaml"} == _load(REPO / "Pulumi.prod.yaml")["config"]
    assert (REPO / "prod.yaml").is_file()
    assert "secretsprovider" not in stack and "encryptionsalt" not in stack, "Pulumi Cloud encrypts its secrets"


def test_doctor_recognises_the_example_as_both_logins(tmp_path: Path) -> None:
    """``pulumi env get --value json`` of the example (secrets as ``[secret]``, logins as ``[unknown]`` until
    opened), through doctor's ESC check: both logins named, none blamed on this process."""
    variables = _load(ENVIRONMENT_FILE)["values"]["environmentVariables"]
    evaluated = {"environmentVariables": {k: "[unknown]" if "login" in v else "[secret]" for k, v in variables.items()}}
    calls: list[list[str]] = []

    def run(argv: Sequence[str], env: Mapping[str, str], timeout: float) -> ToolResult:
        calls.append(list(argv[1:]))
        return ToolResult(0, json.dumps(evaluated), "")

    facts = Facts(pulumi="/bin/pulumi", backend_url="https://api.pulumi.com", stack_file=_load(STACK_FILE))
    facts.paragon_url = "https://zeus.useparagon.com"
    failed = [
        CheckResult("pulumi-login", Status.OK, "logged in"),
        CheckResult("azure-credentials", Status.FAILED, "no ARM_* credentials", "az login"),
        CheckResult("paragon-login-source", Status.FAILED, "no Paragon login", "export PARAGON_EMAIL"),
    ]
    options = DoctorOptions(stack="prod", config_file=REPO / "prod.yaml", project_dir=REPO)
    rows = with_esc_environments(DoctorDeps(env={}, run=run), options, facts, failed)
    assert calls == [["env", "get", "paragon/prod", "--value", "json"]]
    esc = next(r for r in rows if r.check == "esc:paragon/prod")
    assert esc.status is Status.OK
    assert "Azure login ARM_CLIENT_ID, ARM_OIDC_TOKEN, ARM_TENANT_ID, ARM_USE_OIDC" in esc.detail
    assert "Paragon login PARAGON_EMAIL, PARAGON_PASSWORD" in esc.detail
    assert {r.check: r.status for r in rows}["azure-credentials"] is Status.SKIPPED
    assert {r.check: r.status for r in rows}["paragon-login-source"] is Status.SKIPPED


WORKFLOWS = [
    ROOT / ".github" / "workflows" / "deploy.yml",
    ROOT / ".github" / "workflows" / "scheduled.yml",
    REPO / ".github" / "workflows" / "deploy.yml",
    REPO / ".github" / "workflows" / "scheduled.yml",
]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_github_doctor_step_runs_inside_the_esc_environment_when_one_is_named(workflow: Path, tmp_path: Path) -> None:
    """The optional switch: with the variable PULUMI_ESC_ENVIRONMENT, doctor runs under ``pulumi env run``."""
    jobs = _load(workflow)["jobs"]
    steps = [s for job in jobs.values() for s in job.get("steps", []) if "provisioner doctor" in s.get("run", "")]
    assert len(steps) == 1
    assert all(
        j["env"].get("PULUMI_ESC_ENVIRONMENT") == "${{ vars.PULUMI_ESC_ENVIRONMENT }}"
        for j in jobs.values()
        if any(s in steps for s in j.get("steps", []))
    )
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / "bin").mkdir()
    for path, says in ((tmp_path / ".venv" / "bin" / "python", "python"), (tmp_path / "bin" / "pulumi", "pulumi")):
        path.write_text(f'#!/bin/sh\necho "{says} $*"\n', encoding="utf-8")
        path.chmod(0o755)
    base = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "PROVISIONER_CONFIG": "prod.yaml", "STACK": "prod"}
    for esc, expected in (
        ("", "python -m provisioner doctor --config prod.yaml --stack prod"),
        (
            "paragon/prod",
            "pulumi env run paragon/prod -- .venv/bin/python -m provisioner doctor --config prod.yaml --stack prod",
        ),
    ):
        done = subprocess.run(
            ["bash", "-e", "-c", steps[0]["run"]],
            cwd=tmp_path,
            env={**base, "PULUMI_ESC_ENVIRONMENT": esc},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == expected
