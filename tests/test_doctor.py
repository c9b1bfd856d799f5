"""``doctor``: every check against fake ``pulumi``/``az`` executables on PATH and the HTTP fake of Paragon.

The fake tools are small Python scripts written into ``tmp_path/bin`` (the whole PATH during a test). Each
records its argv in ``<name>.log`` and answers from ``<name>.json``: the longest key that starts the
command line picks ``stdout``, ``stderr``, ``rc`` and an optional ``sleep`` in seconds. That proves doctor
only ever runs read-only subcommands; the Paragon fake's request log proves it only sends GETs and logins.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from paragon_fake import FakeParagon, Fault  # tests/ has no __init__.py: pytest puts it on sys.path
from pydantic import SecretStr
from typer.testing import CliRunner

from provisioner.cli.app import app
from provisioner.cli.doctor import (
    CheckResult,
    DoctorDeps,
    DoctorOptions,
    Status,
    certificate_problem,
    doctor_exit_code,
    render_doctor,
    run_doctor,
)
from provisioner.config import load_config
from provisioner.paragon.client import ParagonClient
from provisioner.paragon.login import ParagonLogin
from provisioner.program.rotation import rfc3339, rotation_state

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT_ID = "38b1f170-0c43-4eae-9a04-ab85325d99f7"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "11111111-2222-4333-8444-555555555555"
EMAIL = "admin@example.com"
PASSWORD = "canary-paragon-password-7f3a"
NOW = datetime(2026, 11, 29, tzinfo=UTC)
CANARIES = {
    "PARAGON_PASSWORD": PASSWORD,
    "PULUMI_CONFIG_PASSPHRASE": "canary-passphrase-91bd",
    "PULUMI_ACCESS_TOKEN": "pul-canary-access-token-55e1",
    "ARM_CLIENT_SECRET": "canary-arm-client-secret-0c2d",
}
READ_ONLY_PULUMI = (("version",), ("whoami",), ("stack", "output"), ("config", "get"))
READ_ONLY_AZ = (("account", "show"), ("account", "get-access-token"))
OPENSSL = shutil.which("openssl")  # looked up before the tests narrow PATH to the fake tools
SCRUBBED_PREFIXES = ("ARM_", "AZURE_", "PARAGON_", "PULUMI_", "ACTIONS_", "PROVISIONER_")

FAKE_TOOL = """#!{python}
import json, os, sys, time
here = os.path.dirname(os.path.abspath(__file__))
name = os.path.basename(sys.argv[0])
with open(os.path.join(here, name + ".log"), "a", encoding="utf-8") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
with open(os.path.join(here, name + ".json"), encoding="utf-8") as handle:
    spec = json.load(handle)
line = " ".join(sys.argv[1:])
best = max((k for k in spec if line.startswith(k)), key=len, default=None)
if best is None:
    sys.stderr.write("fake " + name + ": unexpected command " + line + "\\n")
    sys.exit(99)
answer = spec[best]
time.sleep(answer.get("sleep", 0))
sys.stdout.write(answer.get("stdout", ""))
sys.stderr.write(answer.get("stderr", ""))
sys.exit(answer.get("rc", 0))
"""


class FakeTools:
    """Fake executables in one folder that is the whole PATH."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir()

    def install(self, name: str, spec: dict[str, dict[str, Any]]) -> None:
        """Write (or rewrite) fake ``name`` answering from ``spec``."""
        script = self.folder / name
        script.write_text(FAKE_TOOL.format(python=sys.executable), encoding="utf-8")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        (self.folder / f"{name}.json").write_text(json.dumps(spec), encoding="utf-8")

    def calls(self, name: str) -> list[list[str]]:
        """Every argv (without the program name) the fake ``name`` was run with."""
        log = self.folder / f"{name}.log"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def answer(stdout: Any = "", rc: int = 0, stderr: str = "", sleep: float = 0) -> dict[str, Any]:
    """One fake tool answer; a dict or list ``stdout`` is sent as JSON."""
    text = stdout if isinstance(stdout, str) else json.dumps(stdout)
    return {"stdout": text, "rc": rc, "stderr": stderr, "sleep": sleep}


def deployed_outputs(at: datetime, credential_id: str | None = None) -> dict[str, Any]:
    """Stack outputs as `provisioner.program` exports them after a ``pulumi up`` at ``at`` (config/dev.yaml)."""
    config = load_config(PROJECT_DIR / "config" / "dev.yaml")
    state = rotation_state(config.integrations["powerbi"].secret, at)
    secret = {
        "active_slot": state.active_slot,
        "window": state.window,
        "next_rotation": rfc3339(state.next_rotation),
        "slots": [
            {
                "slot": s.slot,
                "window": s.window,
                "generation": s.generation,
                "key_id": f"00000000-0000-4000-8000-00000000000{s.slot}",
                "end_date": s.end_date_rfc3339,
            }
            for s in state.slots
        ],
    }
    integration = {"client_id": "11111111-1111-4111-8111-111111111111", "secret": secret}
    if credential_id is not None:
        integration["paragon_credential_id"] = credential_id
    return {"integrations": {"powerbi": integration}, "client_secrets": "[secret]"}


def healthy_pulumi(outputs: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """A current, logged-in (file backend) Pulumi CLI whose stack has ``outputs``."""
    return {
        "version": answer("v3.150.0\n"),
        "whoami --json": answer({"user": "ci", "url": "file:///var/pulumi-state", "organizations": []}),
        "stack output --json": answer(outputs if outputs is not None else deployed_outputs(NOW)),
    }


HEALTHY_AZ = {"account show": answer({"tenantId": TENANT, "user": {"name": "dev@example.com", "type": "user"}})}


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused_port: int) -> FakeTools:
    """A project folder (Pulumi.yaml, config/dev.yaml, a passphrase stack file) as the working directory,
    an environment without any real Azure/Paragon/Pulumi settings, and the fake tools' folder as PATH.
    Microsoft Graph and Entra's sign-in host point at a refused loopback port, so the tenant checks can never
    reach the internet here (tests/test_doctor_tenant.py runs them against the fakes)."""
    for name in list(os.environ):
        if name.startswith(SCRUBBED_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PROVISIONER_GRAPH_URL", f"http://127.0.0.1:{refused_port}")
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", f"https://127.0.0.1:{refused_port}")
    (tmp_path / "config").mkdir()
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(PROJECT_DIR / "config" / "dev.yaml", tmp_path / "config" / "dev.yaml")
    (tmp_path / "config" / "Pulumi.dev.yaml").write_text("encryptionsalt: v1:c2FsdA==:v1:abc:def\n", "utf-8")
    fake_tools = FakeTools(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(fake_tools.folder))
    monkeypatch.chdir(tmp_path)
    return fake_tools


@pytest.fixture
def paragon(no_ca_bundle: None) -> Iterator[FakeParagon]:
    """The Paragon fake with the admin user and dev.yaml's project holding Power BI (one list page)."""
    with FakeParagon(list_shape="paged", page_size=100) as fake:
        fake.add_user(EMAIL, PASSWORD)
        fake.add_project(PROJECT_ID)
        fake.add_integration(PROJECT_ID, "powerbi")
        fake.add_integration(PROJECT_ID, "salesforce")
        yield fake


@pytest.fixture
def healthy(tools: FakeTools, paragon: FakeParagon, monkeypatch: pytest.MonkeyPatch) -> FakeTools:
    """Everything in order: pulumi, az, passphrase, Paragon login pointing at the fake."""
    tools.install("pulumi", healthy_pulumi())
    tools.install("az", HEALTHY_AZ)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", CANARIES["PULUMI_CONFIG_PASSPHRASE"])
    monkeypatch.setenv("PULUMI_ACCESS_TOKEN", CANARIES["PULUMI_ACCESS_TOKEN"])
    monkeypatch.setenv("ARM_TENANT_ID", TENANT)
    monkeypatch.setenv("PARAGON_EMAIL", EMAIL)
    monkeypatch.setenv("PARAGON_PASSWORD", PASSWORD)
    monkeypatch.setenv("PARAGON_BASE_URL", paragon.url)
    return tools


def doctor(
    *, offline: bool = False, outputs_file: Path | None = None, config: str = "config/dev.yaml", **deps: Any
) -> dict[str, CheckResult]:
    """Run every check for stack dev as of NOW; rows by check name."""
    options = DoctorOptions(
        stack="dev", config_file=Path(config), project_dir=Path("."), offline=offline, outputs_file=outputs_file
    )
    rows = run_doctor(options, DoctorDeps(env=os.environ, now=NOW, **deps))
    by_name = {r.check: r for r in rows}
    assert len(by_name) == len(rows), "check names are unique"
    return by_name


def statuses(rows: dict[str, CheckResult]) -> dict[str, str]:
    return {name: row.status.value for name, row in rows.items()}


def assert_read_only(tools: FakeTools, paragon: FakeParagon | None = None) -> None:
    """Only read-only tool subcommands ran, and Paragon saw only GETs and logins."""
    for argv in tools.calls("pulumi"):
        assert any(tuple(argv[: len(p)]) == p for p in READ_ONLY_PULUMI), argv
    for argv in tools.calls("az"):
        assert any(tuple(argv[: len(p)]) == p for p in READ_ONLY_AZ), argv
    if paragon is not None:
        for request in paragon.requests:
            assert request.method == "GET" or (request.method, request.path) == ("POST", "/auth/login/email")


# --- a healthy setup ---------------------------------------------------------------------------------


def test_healthy_setup_is_all_ok_within_the_call_budget(healthy: FakeTools, paragon: FakeParagon) -> None:
    rows = doctor()
    assert statuses(rows) == {
        "config": "ok",
        "pulumi-cli": "ok",
        "pulumi-login": "ok",
        "pulumi-secrets": "ok",
        "azure-credentials": "ok",
        "azure-tenant": "ok",
        "paragon-login-source": "ok",
        "paragon-tls": "ok",
        "paragon-login": "ok",
        "paragon-project": "ok",
        "paragon-integration:powerbi": "ok",
        "paragon-credential:powerbi": "ok",
        "redirect-uri": "skipped",  # the fake listens on 127.0.0.1, not zeus.<domain>
        "rotation:powerbi": "ok",
        # The tenant rows: the fake az has no Graph token here (tests/test_doctor_tenant.py reads the fake Graph).
        "deployer": "skipped",
        "app-policy": "ok",  # every app of the stack is deployed
        "app-policy:powerbi": "skipped",
        "resource-sp:powerbi": "skipped",
        "owners:powerbi": "skipped",
        "publisher:powerbi": "skipped",
    }
    assert rows["deployer"].detail.startswith("no Azure sign-in for Microsoft Graph: Microsoft Graph sign-in with ")
    assert doctor_exit_code(list(rows.values())) == 0
    assert "pulumi v3.150.0" in rows["pulumi-cli"].detail
    assert "file:///var/pulumi-state" in rows["pulumi-login"].detail
    assert TENANT in rows["azure-tenant"].detail
    assert "project 38b1f170-0c43-4eae-9a04-ab85325d99f7 has 2 integration(s)" in rows["paragon-project"].detail
    # The budget: one login, one integrations list, one credentials list; nothing else but the TLS probe.
    assert paragon.count("POST", "/auth/login/email") == 1
    assert paragon.count("GET", f"/projects/{PROJECT_ID}/integrations") == 1
    assert paragon.count("GET", f"/projects/{PROJECT_ID}/credentials") == 1
    assert paragon.count() == 4
    assert_read_only(healthy, paragon)
    assert healthy.calls("pulumi") == [
        ["version"],
        ["whoami", "--json"],
        ["stack", "output", "--json", "--stack", "dev"],
    ]
    assert healthy.calls("az")[0] == ["account", "show", "--output", "json"]
    assert [argv[:2] for argv in healthy.calls("az")[1:]] == [["account", "get-access-token"]]  # one token try


def test_access_token_login_makes_no_login_call(
    healthy: FakeTools, paragon: FakeParagon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARAGON_EMAIL")
    monkeypatch.delenv("PARAGON_PASSWORD")
    monkeypatch.setenv("PARAGON_ACCESS_TOKEN", "canary-token-4d1e")
    paragon.accept_token("canary-token-4d1e")
    rows = doctor()
    assert rows["paragon-login-source"].detail.startswith("an access token from the environment")
    assert rows["paragon-project"].status is Status.OK
    assert paragon.count("POST") == 0
    assert "canary-token-4d1e" not in json.dumps([r.to_json() for r in rows.values()])


# --- pulumi ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "check", "status", "detail"),
    [
        (None, "pulumi-cli", "failed", "not on PATH"),
        ({"version": answer("v3.100.2\n")}, "pulumi-cli", "failed", "v3.100.2 is older than v3.121.0"),
        ({"version": answer("", rc=1, stderr="boom\n")}, "pulumi-cli", "failed", "`pulumi version` failed: boom"),
        (
            {
                "version": answer("v3.150.0\n"),
                "whoami": answer("", rc=255, stderr="error: PULUMI_ACCESS_TOKEN must be set"),
            },
            "pulumi-login",
            "failed",
            "not logged in: error: PULUMI_ACCESS_TOKEN must be set",
        ),
        (
            {"version": answer("v3.150.0\n"), "whoami": answer("not json")},
            "pulumi-login",
            "failed",
            "not logged in",
        ),
    ],
)
def test_pulumi_cli_faults(
    tools: FakeTools, spec: dict[str, dict[str, Any]] | None, check: str, status: str, detail: str
) -> None:
    if spec is not None:
        tools.install("pulumi", spec)
    rows = doctor(offline=False)
    assert rows[check].status.value == status
    assert detail in rows[check].detail
    assert rows[check].fix
    assert doctor_exit_code(list(rows.values())) == 1
    assert_read_only(tools)


def test_a_hanging_tool_becomes_a_failed_row(tools: FakeTools) -> None:
    tools.install("pulumi", {"version": answer("v3.150.0\n", sleep=30)})
    rows = doctor(tool_timeout=0.5)
    assert rows["pulumi-cli"].status is Status.FAILED
    assert rows["pulumi-cli"].detail == "`pulumi version` did not finish within 0.5 s"
    assert rows["pulumi-login"].status is Status.SKIPPED


def test_a_tool_that_cannot_start_becomes_a_failed_row(tools: FakeTools) -> None:
    broken = tools.folder / "pulumi"
    broken.write_text("#!/nonexistent/interpreter\n", encoding="utf-8")
    broken.chmod(0o755)
    rows = doctor()
    assert rows["pulumi-cli"].status is Status.FAILED
    assert "could not be started" in rows["pulumi-cli"].detail


@pytest.mark.parametrize(
    ("whoami_url", "stack_file", "env", "status", "detail"),
    [
        ("file:///state", None, {}, "failed", "self-managed backend file:///state, and no passphrase is set"),
        ("s3://bucket", None, {"PULUMI_CONFIG_PASSPHRASE": "x1y2z3w4"}, "ok", "PULUMI_CONFIG_PASSPHRASE is set"),
        ("azblob://c", None, {"PULUMI_CONFIG_PASSPHRASE": ""}, "warning", "set but empty"),
        ("gs://b", None, {"PULUMI_CONFIG_PASSPHRASE_FILE": "/nonexistent/pass"}, "failed", "names no readable file"),
        ("gs://b", None, {"PULUMI_CONFIG_PASSPHRASE_FILE": "Pulumi.yaml"}, "ok", "FILE is set"),
        ("file:///state", "secretsprovider: azurekeyvault://kv.vault.azure.net/keys/k\n", {}, "ok", "azurekeyvault://"),
        ("https://api.pulumi.com", None, {}, "ok", "https://api.pulumi.com encrypts the stack's secrets"),
        ("https://api.pulumi.com", "encryptionsalt: v1:abc\n", {}, "failed", "uses the passphrase provider"),
        ("https://api.pulumi.com", "secretsprovider: passphrase\n", {}, "failed", "uses the passphrase provider"),
    ],
)
def test_pulumi_secrets(
    tools: FakeTools,
    monkeypatch: pytest.MonkeyPatch,
    whoami_url: str,
    stack_file: str | None,
    env: dict[str, str],
    status: str,
    detail: str,
) -> None:
    tools.install("pulumi", {**healthy_pulumi(), "whoami --json": answer({"user": "ci", "url": whoami_url})})
    stack_path = Path("config/Pulumi.dev.yaml")
    if stack_file is None:
        stack_path.unlink()
    else:
        stack_path.write_text(stack_file, encoding="utf-8")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    row = doctor()["pulumi-secrets"]
    assert row.status.value == status, row
    assert detail in row.detail


def test_pulumi_secrets_unknown_backend_is_skipped(tools: FakeTools) -> None:
    Path("config/Pulumi.dev.yaml").unlink()
    tools.install("pulumi", healthy_pulumi())
    row = doctor(offline=True)["pulumi-secrets"]
    assert row.status is Status.SKIPPED
    assert "backend is unknown" in row.detail
    assert row.detail.startswith("no config/Pulumi.dev.yaml")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("config:\n  paragon-provisioner:configFile: config/dev.yaml\n", "exists but names no secrets provider"),
        ("config: [unclosed\n", "exists but cannot be read as YAML"),
    ],
    ids=["no-provider", "unreadable"],
)
def test_pulumi_secrets_row_says_the_stack_file_exists(tools: FakeTools, text: str, found: str) -> None:
    """An existing stack file without a secrets provider is not reported as missing (doctor --offline)."""
    Path("config/Pulumi.dev.yaml").write_text(text, encoding="utf-8")
    tools.install("pulumi", healthy_pulumi())
    row = doctor(offline=True)["pulumi-secrets"]
    assert row.status is Status.SKIPPED
    assert row.detail.startswith(f"config/Pulumi.dev.yaml {found}"), row.detail
    assert "no config/Pulumi.dev.yaml" not in row.detail


# --- azure -------------------------------------------------------------------------------------------


OIDC = {"ARM_USE_OIDC": "true", "ARM_CLIENT_ID": "22222222-3333-4444-8555-666666666666", "ARM_TENANT_ID": TENANT}


@pytest.mark.parametrize(
    ("env", "az", "status", "detail"),
    [
        (
            {**OIDC, "ACTIONS_ID_TOKEN_REQUEST_URL": "https://t", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "x1"},
            None,
            "ok",
            "OIDC",
        ),
        ({**OIDC, "ARM_OIDC_TOKEN": "eyJh.eyJi.sig"}, None, "ok", "OIDC workload identity"),
        ({**OIDC, "ARM_OIDC_TOKEN_FILE_PATH": "Pulumi.yaml"}, None, "ok", "OIDC workload identity"),
        (OIDC, None, "failed", "an OIDC token source is missing"),
        ({**OIDC, "ACTIONS_ID_TOKEN_REQUEST_URL": "https://t"}, None, "failed", "an OIDC token source"),
        ({**OIDC, "ARM_OIDC_TOKEN_FILE_PATH": "/nonexistent"}, None, "failed", "readable ARM_OIDC_TOKEN_FILE_PATH"),
        ({"ARM_USE_OIDC": "true", "ARM_OIDC_TOKEN": "t0k3n"}, None, "failed", "ARM_CLIENT_ID, ARM_TENANT_ID"),
        (
            {"ARM_CLIENT_ID": "c", "ARM_TENANT_ID": TENANT, "ARM_CLIENT_SECRET": CANARIES["ARM_CLIENT_SECRET"]},
            None,
            "warning",
            "itself a secret to rotate",
        ),
        ({"ARM_CLIENT_SECRET": CANARIES["ARM_CLIENT_SECRET"]}, None, "failed", "ARM_CLIENT_ID, ARM_TENANT_ID is not"),
        ({}, None, "failed", "the Azure CLI (az) is not on PATH"),
        (
            {},
            {"account show": answer("", rc=1, stderr="ERROR: Please run 'az login' to setup account.\n")},
            "failed",
            "no Azure CLI session: ERROR: Please run 'az login'",
        ),
        ({}, HEALTHY_AZ, "ok", f"Azure CLI session of dev@example.com in tenant {TENANT}"),
    ],
)
def test_azure_credentials(
    tools: FakeTools,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    az: dict[str, dict[str, Any]] | None,
    status: str,
    detail: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if az is not None:
        tools.install("az", az)
    rows = doctor(offline=True)
    assert rows["azure-credentials"].status.value == status, rows["azure-credentials"]
    assert detail in rows["azure-credentials"].detail
    assert_read_only(tools)
    if env.get("ARM_USE_OIDC") or env.get("ARM_CLIENT_SECRET"):
        assert tools.calls("az") == [], "the Azure CLI is asked only when no ARM_* credentials are set"


def test_azure_tenant_mismatch_is_a_warning(tools: FakeTools, monkeypatch: pytest.MonkeyPatch) -> None:
    tools.install("az", HEALTHY_AZ)
    monkeypatch.setenv("ARM_TENANT_ID", OTHER_TENANT)
    row = doctor(offline=True)["azure-tenant"]
    assert row.status is Status.WARNING
    assert f"ARM_TENANT_ID {OTHER_TENANT} differs from the Azure CLI session's tenant {TENANT}" in row.detail
    assert "config names no tenant" in row.detail
    assert row.fix == f"az login --tenant {OTHER_TENANT}, or unset ARM_TENANT_ID to deploy into {TENANT}"


# --- paragon -----------------------------------------------------------------------------------------


def test_wrong_password_fails_the_login(
    healthy: FakeTools, paragon: FakeParagon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARAGON_PASSWORD", "canary-wrong-password-11")
    rows = doctor()
    assert rows["paragon-login"].status is Status.FAILED
    assert "POST /auth/login/email answered 401" in rows["paragon-login"].detail
    assert rows["paragon-login"].fix == "check PARAGON_EMAIL and PARAGON_PASSWORD"
    assert rows["paragon-project"].status is Status.SKIPPED
    assert paragon.count("POST", "/auth/login/email") == 1  # refused logins are not retried
    assert "canary-wrong-password-11" not in json.dumps([r.to_json() for r in rows.values()])


def test_rejected_token_fails_the_login(
    healthy: FakeTools, paragon: FakeParagon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARAGON_EMAIL")
    monkeypatch.delenv("PARAGON_PASSWORD")
    monkeypatch.setenv("PARAGON_ACCESS_TOKEN", "expired-token-zz")
    rows = doctor()
    assert rows["paragon-login"].status is Status.FAILED
    assert "answered 401" in rows["paragon-login"].detail
    assert "expired-token-zz" not in rows["paragon-login"].detail


def test_missing_login_fails_without_network(
    tools: FakeTools, paragon: FakeParagon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARAGON_BASE_URL", paragon.url)
    rows = doctor()
    assert rows["paragon-login-source"].status is Status.FAILED
    assert "no Paragon login" in rows["paragon-login-source"].detail
    assert rows["paragon-login"].status is Status.SKIPPED
    assert paragon.count("POST") == 0


def test_trailing_newline_in_the_password_is_a_warning(
    healthy: FakeTools, paragon: FakeParagon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARAGON_PASSWORD", PASSWORD + "\n")
    rows = doctor()
    assert rows["paragon-env-whitespace"].status is Status.WARNING
    assert rows["paragon-env-whitespace"].detail.startswith("PARAGON_PASSWORD has leading or trailing whitespace")
    assert rows["paragon-login"].status is Status.OK  # checked with the trimmed value, as the provider will


def test_unknown_project_fails(healthy: FakeTools, monkeypatch: pytest.MonkeyPatch) -> None:
    Path("config/dev.yaml").write_text(
        Path("config/dev.yaml").read_text("utf-8").replace(PROJECT_ID, "00000000-0000-4000-8000-000000000abc"), "utf-8"
    )
    rows = doctor()
    assert rows["paragon-login"].status is Status.OK
    assert rows["paragon-project"].status is Status.FAILED
    assert "answered 404" in rows["paragon-project"].detail
    assert "paragon.project_id" in rows["paragon-project"].fix


def test_integration_not_added_names_the_dashboard_path(healthy: FakeTools, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeParagon(page_size=100) as empty:
        empty.add_user(EMAIL, PASSWORD)
        empty.add_project(PROJECT_ID)
        monkeypatch.setenv("PARAGON_BASE_URL", empty.url)
        rows = doctor()
        assert empty.count("GET", f"/projects/{PROJECT_ID}/credentials") == 0
    row = rows["paragon-integration:powerbi"]
    assert row.status is Status.FAILED
    assert row.detail == f"Power BI (powerbi) is not added to project {PROJECT_ID}"
    assert row.fix == "in Paragon's dashboard: Integrations catalog → Power BI → Connect/Add, then re-run"
    assert "paragon-credential:powerbi" not in rows


def test_a_paragon_outage_is_a_failed_row_after_a_bounded_retry(healthy: FakeTools, paragon: FakeParagon) -> None:
    paragon.script("GET", f"/projects/{PROJECT_ID}/integrations", Fault(503), Fault(503), Fault(503))
    rows = doctor()
    assert rows["paragon-login"].status is Status.FAILED
    assert "answered 503" in rows["paragon-login"].detail
    assert rows["paragon-project"].status is Status.SKIPPED
    assert paragon.count("GET", f"/projects/{PROJECT_ID}/integrations") == 2  # doctor tries twice, not six times


def _existing_credential(paragon: FakeParagon) -> str:
    login = ParagonLogin(email=EMAIL, password=SecretStr(PASSWORD))
    with ParagonClient(paragon.url, login) as client:
        integration = client.find_integration(PROJECT_ID, "powerbi")
        made = client.upsert_oauth_credential(
            PROJECT_ID,
            integration,
            name="by hand",
            client_id="c",
            client_secret=SecretStr("s3cr3t-by-hand"),
            scopes="x",
        )
    paragon.reset_log()
    return made.id


def test_an_existing_credential_is_a_takeover_warning(healthy: FakeTools, paragon: FakeParagon) -> None:
    credential_id = _existing_credential(paragon)
    row = doctor()["paragon-credential:powerbi"]
    assert row.status is Status.WARNING
    assert row.detail == f"credential {credential_id} exists; pulumi up will overwrite its client ID, secret and scopes"
    assert_read_only(healthy, paragon)


def test_the_stacks_own_credential_is_ok(healthy: FakeTools, paragon: FakeParagon) -> None:
    credential_id = _existing_credential(paragon)
    healthy.install("pulumi", healthy_pulumi(deployed_outputs(NOW, credential_id)))
    row = doctor()["paragon-credential:powerbi"]
    assert row.status is Status.OK
    assert row.detail == f"credential {credential_id} is managed by this stack"


def test_unreachable_base_url_fails_tls_and_skips_the_rest(healthy: FakeTools, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PARAGON_BASE_URL", f"http://127.0.0.1:{port}")
    rows = doctor()
    assert rows["paragon-tls"].status is Status.FAILED
    assert rows["paragon-tls"].detail == f"http://127.0.0.1:{port}: no answer (ConnectError)"
    assert rows["paragon-login"].status is Status.SKIPPED


def test_a_certificate_failure_is_named(healthy: FakeTools, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        error = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
        error.verify_message = "certificate has expired"
        raise httpx.ConnectError("certificate verify failed", request=request) from error

    monkeypatch.setenv("PARAGON_BASE_URL", "https://zeus.example.com")
    rows = doctor(transport=httpx.MockTransport(refuse))
    assert rows["paragon-tls"].status is Status.FAILED
    assert (
        rows["paragon-tls"].detail == "https://zeus.example.com: TLS certificate not trusted: certificate has expired"
    )
    assert "SSL_CERT_FILE" in rows["paragon-tls"].fix
    assert rows["paragon-login"].status is Status.SKIPPED


@pytest.fixture
def self_signed_server(tmp_path: Path) -> Iterator[int]:
    """A TLS server on 127.0.0.1 with a self-signed certificate (needs the openssl command)."""
    if OPENSSL is None:
        pytest.skip("openssl command not available")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            with context.wrap_socket(conn, server_side=True):
                pass
        except (OSError, ssl.SSLError):
            pass  # the client rejects the certificate: the handshake fails on this side too

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()
    thread.join(timeout=10)


def test_a_real_self_signed_certificate_is_named(
    healthy: FakeTools, monkeypatch: pytest.MonkeyPatch, self_signed_server: int
) -> None:
    monkeypatch.setenv("PARAGON_BASE_URL", f"https://127.0.0.1:{self_signed_server}")
    row = doctor()["paragon-tls"]
    assert row.status is Status.FAILED
    assert row.detail.startswith(f"https://127.0.0.1:{self_signed_server}: TLS certificate not trusted: ")
    assert "self" in row.detail and "signed" in row.detail


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            httpx.ConnectError(
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch (_ssl.c:1006)"
            ),
            "Hostname mismatch",
        ),
        (httpx.ConnectError("[Errno 111] Connection refused"), None),
        (httpx.ReadTimeout("timed out"), None),
    ],
)
def test_certificate_problem_from_text(error: BaseException, expected: str | None) -> None:
    assert certificate_problem(error) == expected


# --- redirect URI ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "redirect_uri", "status"),
    [
        ("https://zeus.useparagon.com", "https://passport.useparagon.com/oauth", "ok"),
        ("https://zeus.paragon.example.com", "https://passport.paragon.example.com/oauth", "ok"),
        ("https://zeus.paragon.example.com", "https://passport.useparagon.com/oauth", "warning"),
        ("https://api.example.com", "https://passport.example.com/oauth", "skipped"),
    ],
)
def test_redirect_uri_host(tools: FakeTools, base_url: str, redirect_uri: str, status: str) -> None:
    text = Path("config/dev.yaml").read_text("utf-8")
    text = text.replace("https://zeus.useparagon.com", base_url).replace(
        "https://passport.useparagon.com/oauth", redirect_uri
    )
    Path("config/dev.yaml").write_text(text, "utf-8")
    row = doctor(offline=True)["redirect-uri"]
    assert row.status.value == status
    if status == "warning":
        assert row.fix == "set paragon.redirect_uri to the value in the integration's settings " + (
            "(likely https://passport.paragon.example.com/oauth)"
        )


# --- config and rotation -----------------------------------------------------------------------------


def test_invalid_config_fails_with_validates_messages(tools: FakeTools) -> None:
    Path("config/dev.yaml").write_text(
        "paragon:\n  project_id: 38b1f170-0c43-4eae-9a04-ab85325d99f7\nintegrations:\n  powerbi:\n    scopez: []\n",
        "utf-8",
    )
    rows = doctor(offline=True)
    assert rows["config"].status is Status.FAILED
    assert "config/dev.yaml:5: integrations.powerbi.scopez" in rows["config"].detail
    assert "did you mean" in rows["config"].fix and "Fix:" not in rows["config"].detail
    assert {rows[n].status for n in ("paragon-login-source", "redirect-uri", "rotation")} == {Status.SKIPPED}


def test_never_deployed_skips_rotation(healthy: FakeTools) -> None:
    healthy.install(
        "pulumi",
        {**healthy_pulumi(), "stack output --json": answer("", rc=255, stderr="error: no stack named 'dev' found")},
    )
    row = doctor()["rotation"]
    assert row.status is Status.SKIPPED
    assert row.detail == "never deployed? error: no stack named 'dev' found"


def test_expired_secret_warns_but_does_not_fail(healthy: FakeTools, tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(deployed_outputs(datetime(2025, 1, 2, tzinfo=UTC))), "utf-8")
    rows = doctor(outputs_file=outputs)
    row = rows["rotation:powerbi"]
    assert row.status is Status.WARNING
    assert row.detail.startswith("expired: the secret Paragon holds expired on 2025-")
    assert doctor_exit_code(list(rows.values())) == 0
    assert ["stack", "output", "--json", "--stack", "dev"] not in healthy.calls("pulumi")


def test_unreadable_outputs_file_fails(healthy: FakeTools, tmp_path: Path) -> None:
    row = doctor(outputs_file=tmp_path / "missing.json")["rotation"]
    assert row.status is Status.FAILED
    assert "not readable JSON" in row.detail


# --- offline -----------------------------------------------------------------------------------------


def test_offline_makes_no_network_call(healthy: FakeTools, paragon: FakeParagon) -> None:
    rows = doctor(offline=True)
    assert paragon.count() == 0
    assert healthy.calls("pulumi") == [["version"]]
    for name in ("pulumi-login", "paragon-tls", "paragon-login", "paragon-project"):
        assert rows[name].status is Status.SKIPPED
        assert "--offline" in rows[name].detail
    assert rows["config"].status is Status.OK
    assert rows["azure-credentials"].status is Status.OK  # az account show reads the local session
    assert rows["paragon-login-source"].status is Status.OK


# --- secrets never shown -----------------------------------------------------------------------------


def test_canaries_never_appear(tools: FakeTools, paragon: FakeParagon, monkeypatch: pytest.MonkeyPatch) -> None:
    stack_secret = "canary-stack-config-password-3e9f"
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PARAGON_BASE_URL", paragon.url)
    # PARAGON_PASSWORD without PARAGON_EMAIL is no login: it comes from secret stack config instead.
    Path("config/Pulumi.dev.yaml").write_text(
        "encryptionsalt: v1:abc\nconfig:\n  paragon-provisioner:paragonEmail:\n    secure: v1:AAA\n"
        "  paragon-provisioner:paragonPassword:\n    secure: v1:BBB\n",
        "utf-8",
    )
    leak = " ".join([*CANARIES.values(), stack_secret])
    tools.install(
        "pulumi",
        {
            "version": answer("v3.150.0\n"),
            "whoami --json": answer({"user": "ci", "url": "file:///s", "token": CANARIES["PULUMI_ACCESS_TOKEN"]}),
            "config get paragonEmail": answer(EMAIL + "\n"),
            "config get paragonPassword": answer(stack_secret + "\n"),
            "stack output": answer("", rc=1, stderr=f"error: decrypt failed {leak}\n"),
        },
    )
    tools.install("az", {"account show": answer("", rc=1, stderr=f"ERROR: {leak}\n")})
    paragon.add_user("someone@example.com", stack_secret)
    rows = doctor()
    text = json.dumps([r.to_json() for r in rows.values()])
    for canary in [*CANARIES.values(), stack_secret]:
        assert canary not in text
    assert "[redacted]" in rows["rotation"].detail or "[redacted]" in rows["azure-credentials"].detail
    assert rows["paragon-login-source"].detail.startswith(f"email {EMAIL} from secret stack config")
    assert rows["paragon-login"].status is Status.FAILED  # the stack config password is not this user's
    assert_read_only(tools, paragon)
    for fmt in ("text", "json"):
        result = CliRunner().invoke(app, ["doctor", "--format", fmt])
        for canary in [*CANARIES.values(), stack_secret]:
            assert canary not in result.output


def test_stack_config_login_is_not_read_when_the_environment_has_one(healthy: FakeTools) -> None:
    Path("config/Pulumi.dev.yaml").write_text(
        "encryptionsalt: v1:abc\nconfig:\n  paragon-provisioner:paragonPassword:\n    secure: v1:BBB\n", "utf-8"
    )
    rows = doctor()
    assert rows["paragon-login-source"].detail.startswith(f"email {EMAIL} from the environment")
    assert not [argv for argv in healthy.calls("pulumi") if argv[:1] == ["config"]]


# --- command line ------------------------------------------------------------------------------------


def test_cli_json_and_exit_codes(healthy: FakeTools, paragon: FakeParagon) -> None:
    result = CliRunner().invoke(app, ["doctor", "--format", "json", "--outputs", "missing.json"])
    rows = json.loads(result.output)
    assert isinstance(rows, list) and rows
    assert all(set(r) == {"check", "status", "detail", "fix"} for r in rows)
    assert {r["status"] for r in rows} <= {"ok", "warning", "failed", "skipped"}
    assert [r["status"] for r in rows if r["check"] == "rotation"] == ["failed"]
    assert result.exit_code == 1
    result = CliRunner().invoke(app, ["doctor", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert_read_only(healthy, paragon)


def test_cli_text_is_plain_lines_when_not_a_terminal(healthy: FakeTools) -> None:
    result = CliRunner().invoke(app, ["doctor", "--offline"])
    assert result.exit_code == 0, result.output
    assert "\x1b[" not in result.output
    assert "[ok] config: config/dev.yaml: valid (integrations: powerbi)" in result.output
    assert "[skipped] paragon-tls: --offline" in result.output
    assert re.search(r"^0 failed, 0 warning\(s\), \d+ checks$", result.output, re.MULTILINE)


def test_cli_config_option_names_the_stack(healthy: FakeTools, tmp_path: Path) -> None:
    shutil.copy("config/dev.yaml", tmp_path / "prod.yaml")
    result = CliRunner().invoke(app, ["doctor", "--offline", "--config", str(tmp_path / "prod.yaml")])
    assert f"[ok] config: {tmp_path / 'prod.yaml'}: valid" in result.output
    assert "no config/Pulumi.prod.yaml" in result.output  # the stack is named after the file


def test_cli_rejects_a_bad_stack_name(healthy: FakeTools) -> None:
    result = CliRunner().invoke(app, ["doctor", "--stack", "../etc"])
    assert result.exit_code == 2


def test_render_table_on_a_terminal() -> None:
    from rich.console import Console

    console = Console(force_terminal=True, width=200, record=True)
    render_doctor([CheckResult("pulumi-cli", Status.FAILED, "missing [x]", "install it")], console)
    text = console.export_text()
    assert "pulumi-cli" in text and "failed" in text and "missing [x]" in text and "install it" in text
    assert "1 failed, 0 warning(s), 1 checks" in text


# --- the same trust store and project as the deployment -----------------------------------------------


def test_a_private_ca_from_paragon_ca_bundle_is_trusted(healthy: FakeTools, monkeypatch: pytest.MonkeyPatch) -> None:
    """On-prem behind a private CA: doctor trusts `paragon.ca_bundle` exactly as the provider does."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path("config/ca.pem")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FakeParagon(tls=context) as server:
        server.add_user(EMAIL, PASSWORD)
        server.add_project(PROJECT_ID)
        server.add_integration(PROJECT_ID, "powerbi")
        monkeypatch.setenv("PARAGON_BASE_URL", server.url)
        untrusted = doctor()["paragon-tls"]
        config = Path("config/dev.yaml")
        config.write_text(config.read_text("utf-8").replace("paragon:\n", "paragon:\n  ca_bundle: ca.pem\n"), "utf-8")
        rows = doctor()
    assert untrusted.status is Status.FAILED and "paragon.ca_bundle" in untrusted.fix
    assert {rows[n].status for n in ("paragon-tls", "paragon-login", "paragon-project")} == {Status.OK}


def test_stack_config_login_uses_the_projects_own_name(healthy: FakeTools, monkeypatch: pytest.MonkeyPatch) -> None:
    """A config repository's project name (not this repo's) prefixes the secret stack config keys."""
    project = Path("Pulumi.yaml")
    project.write_text(project.read_text("utf-8").replace("name: paragon-provisioner", "name: acme-entra"), "utf-8")
    monkeypatch.delenv("PARAGON_EMAIL")
    monkeypatch.delenv("PARAGON_PASSWORD")
    Path("config/Pulumi.dev.yaml").write_text(
        "encryptionsalt: v1:abc\nconfig:\n  acme-entra:paragonEmail:\n    secure: v1:AAA\n"
        "  acme-entra:paragonPassword:\n    secure: v1:BBB\n",
        "utf-8",
    )
    healthy.install(
        "pulumi",
        healthy_pulumi()
        | {"config get paragonEmail": answer(EMAIL + "\n"), "config get paragonPassword": answer(PASSWORD + "\n")},
    )
    rows = doctor()
    assert rows["paragon-login-source"].status is Status.OK, rows["paragon-login-source"]
    assert rows["paragon-login"].status is Status.OK
