"""``doctor`` on a stack whose ``Pulumi.<stack>.yaml`` imports Pulumi ESC environments (``environment:``).

Fake ``pulumi``/``esc`` executables answer ``env get <env> --value json`` with canary values where a real CLI
would show ``[secret]``: doctor must report only names, never a value, run nothing but read-only subcommands,
and turn login failures that the environment answers into skips with the right advice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from paragon_fake import FakeParagon
from test_doctor import (  # the fake tools and the Paragon fake of the main doctor tests
    NOW,
    TENANT,
    FakeTools,
    answer,
    deployed_outputs,
    paragon,  # noqa: F401  (fixture)
    tools,  # noqa: F401  (fixture)
)
from typer.testing import CliRunner

from provisioner.cli.app import app
from provisioner.cli.doctor import CheckResult, DoctorDeps, DoctorOptions, doctor_exit_code, run_doctor
from provisioner.cli.doctor.esc import imported_environments

ENV = "paragon/dev"
CANARY_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeS0xMjM0"
CANARY_PASSWORD = "canary-esc-paragon-password-4411"
CANARY_SECRET = "canary-esc-client-secret-9d0e"
READ_ONLY = (("version",), ("whoami",), ("stack", "output"), ("config", "get"), ("env", "get"))


def esc_value(**variables: str) -> dict[str, Any]:
    """`pulumi env get --value json` of an environment exporting ``variables`` (values as a careless CLI
    would print them: the canaries stand for secrets a real CLI redacts)."""
    return {
        "azure": {"login": {"clientId": "11111111-1111-4111-8111-111111111111", "oidc": {"token": CANARY_TOKEN}}},
        "environmentVariables": variables,
        "pulumiConfig": {"greeting": "hello"},
    }


AZURE_AND_PARAGON = {
    "ARM_USE_OIDC": "true",
    "ARM_CLIENT_ID": "11111111-1111-4111-8111-111111111111",
    "ARM_TENANT_ID": TENANT,
    "ARM_OIDC_TOKEN": CANARY_TOKEN,
    "PARAGON_EMAIL": "automation@example.com",
    "PARAGON_PASSWORD": CANARY_PASSWORD,
}


def cloud_pulumi(env_answer: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """A current Pulumi CLI logged in to Pulumi Cloud, answering ``env get`` for ENV."""
    spec = {
        "version": answer("v3.200.0\n"),
        "whoami --json": answer({"user": "ci", "url": "https://api.pulumi.com", "organizations": ["acme"]}),
        "stack output --json": answer(deployed_outputs(NOW)),
    }
    if env_answer is not None:
        spec[f"env get {ENV} --value json"] = env_answer
    return spec


def import_env(*refs: str, extra: str = "") -> None:
    lines = "".join(f"  - {ref}\n" for ref in refs)
    Path("config/Pulumi.dev.yaml").write_text(f"environment:\n{lines}{extra}", encoding="utf-8")


def doctor(*, offline: bool = False) -> dict[str, CheckResult]:
    options = DoctorOptions(stack="dev", config_file=Path("config/dev.yaml"), project_dir=Path("."), offline=offline)
    rows = run_doctor(options, DoctorDeps(env=os.environ, now=NOW))
    return {r.check: r for r in rows}


def shown(rows: dict[str, CheckResult]) -> str:
    return json.dumps([r.to_json() for r in rows.values()])


def assert_read_only(fakes: FakeTools) -> None:
    for name in ("pulumi", "esc"):
        for argv in fakes.calls(name):
            assert any(tuple(argv[: len(p)]) == p for p in READ_ONLY), argv
            assert "--show-secrets" not in argv


@pytest.fixture
def esc_stack(tools: FakeTools, paragon: FakeParagon, monkeypatch: pytest.MonkeyPatch) -> FakeTools:  # noqa: F811
    """Stack dev imports ENV, which supplies both logins; this process has neither (no az either)."""
    monkeypatch.setenv("PARAGON_BASE_URL", paragon.url)  # never the real zeus.useparagon.com
    tools.install("pulumi", cloud_pulumi(answer(esc_value(**AZURE_AND_PARAGON))))
    import_env(ENV)
    return tools


def test_logins_from_the_environment_are_named_and_not_blamed_on_this_process(esc_stack: FakeTools) -> None:
    rows = doctor()
    names = list(rows)
    assert names.index(f"esc:{ENV}") == names.index("pulumi-secrets") + 1, "right after the Pulumi rows"
    row = rows[f"esc:{ENV}"]
    assert row.status.value == "ok"
    assert row.detail.startswith(
        "imported by config/Pulumi.dev.yaml: Azure login ARM_CLIENT_ID, ARM_OIDC_TOKEN, ARM_TENANT_ID, "
        "ARM_USE_OIDC; Paragon login PARAGON_EMAIL, PARAGON_PASSWORD"
    )
    assert f"pulumi env run {ENV} -- python -m provisioner doctor" in row.detail
    # Without ESC these would fail with `az login` / `export PARAGON_*` advice: wrong for this stack.
    for check in ("azure-credentials", "paragon-login-source"):
        assert rows[check].status.value == "skipped", rows[check]
        assert f"comes from ESC environment {ENV}" in rows[check].detail
        assert rows[check].fix.startswith(f"pulumi env run {ENV} -- ")
    assert doctor_exit_code(list(rows.values())) == 0
    text = shown(rows)
    for canary in (CANARY_TOKEN, CANARY_PASSWORD, "automation@example.com"):
        assert canary not in text
    assert ["env", "get", ENV, "--value", "json"] in esc_stack.calls("pulumi")
    assert_read_only(esc_stack)


def test_cli_output_never_shows_an_environment_value(esc_stack: FakeTools) -> None:
    for fmt in ("text", "json"):
        result = CliRunner().invoke(app, ["doctor", "--format", fmt])
        assert result.exit_code == 0, result.output
        assert f"esc:{ENV}" in result.output
        for canary in (CANARY_TOKEN, CANARY_PASSWORD, "automation@example.com"):
            assert canary not in result.output


def test_under_pulumi_env_run_the_process_logins_are_checked_as_usual(
    esc_stack: FakeTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in AZURE_AND_PARAGON.items():
        monkeypatch.setenv(name, value)
    rows = doctor()
    assert "set in this process too" in rows[f"esc:{ENV}"].detail
    assert rows["azure-credentials"].status.value == "ok"
    assert rows["paragon-login-source"].status.value == "ok"
    assert CANARY_PASSWORD not in shown(rows) and CANARY_TOKEN not in shown(rows)


def test_a_stack_without_imports_gets_no_esc_row(esc_stack: FakeTools) -> None:
    Path("config/Pulumi.dev.yaml").write_text("config:\n  paragon-provisioner:configFile: dev.yaml\n", "utf-8")
    rows = doctor()
    assert not [name for name in rows if name.startswith("esc")]
    assert rows["azure-credentials"].status.value == "failed", "no ESC: the usual advice stands"
    assert not [argv for argv in esc_stack.calls("pulumi") if argv[:1] == ["env"]]


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({**AZURE_AND_PARAGON, "ARM_CLIENT_SECRET": CANARY_SECRET}, "ARM_CLIENT_SECRET is a client secret"),
        ({k: v for k, v in AZURE_AND_PARAGON.items() if k != "ARM_OIDC_TOKEN"}, "ARM_USE_OIDC without ARM_OIDC_TOKEN"),
        ({k: v for k, v in AZURE_AND_PARAGON.items() if k != "PARAGON_PASSWORD"}, "only one of PARAGON_EMAIL and"),
    ],
    ids=["client-secret", "oidc-without-token", "half-a-paragon-login"],
)
def test_environment_warnings(esc_stack: FakeTools, variables: dict[str, str], expected: str) -> None:
    esc_stack.install("pulumi", cloud_pulumi(answer(esc_value(**variables))))
    row = doctor()[f"esc:{ENV}"]
    assert row.status.value == "warning" and expected in row.detail and row.fix
    assert CANARY_SECRET not in row.detail + row.fix


def test_paragon_login_from_pulumi_config(esc_stack: FakeTools) -> None:
    value = esc_value(ARM_USE_OIDC="true", ARM_CLIENT_ID="x", ARM_TENANT_ID=TENANT, ARM_OIDC_TOKEN=CANARY_TOKEN)
    value["pulumiConfig"] = {
        "paragon-provisioner:paragonEmail": "automation@example.com",
        "paragonPassword": CANARY_PASSWORD,
        "other-project:paragonAccessToken": "not ours",
    }
    esc_stack.install("pulumi", cloud_pulumi(answer(value)))
    rows = doctor()
    assert "stack config paragonEmail, paragonPassword (pulumiConfig)" in rows[f"esc:{ENV}"].detail
    assert "paragonAccessToken" not in rows[f"esc:{ENV}"].detail, "another project's key is not this stack's"
    assert rows["paragon-login-source"].status.value == "skipped"


def test_unreadable_environment_is_a_warning_without_its_secrets(esc_stack: FakeTools) -> None:
    esc_stack.install("pulumi", cloud_pulumi(answer(rc=1, stderr=f"error: [404] Not found {CANARY_TOKEN}\n")))
    rows = doctor()
    row = rows[f"esc:{ENV}"]
    assert row.status.value == "warning"
    assert "cannot be read: `pulumi env get` failed: error: [404] Not found [redacted]" in row.detail
    assert "pulumi env ls" in row.fix
    assert rows["azure-credentials"].status.value == "failed", "nothing known about the environment: no rewrite"


def test_offline_reads_nothing(esc_stack: FakeTools) -> None:
    row = doctor(offline=True)[f"esc:{ENV}"]
    assert row.status.value == "skipped" and "--offline" in row.detail
    assert not [argv for argv in esc_stack.calls("pulumi") if argv[:1] == ["env"]]


def test_self_managed_backend_cannot_import(esc_stack: FakeTools) -> None:
    spec = cloud_pulumi(answer(esc_value(**AZURE_AND_PARAGON)))
    spec["whoami --json"] = answer({"user": "ci", "url": "azblob://state", "organizations": []})
    esc_stack.install("pulumi", spec)
    rows = doctor()
    assert rows[f"esc:{ENV}"].status.value == "failed"
    assert "azblob://state is self-managed" in rows[f"esc:{ENV}"].detail
    assert doctor_exit_code(list(rows.values())) == 1


def test_the_esc_cli_when_pulumi_is_absent(esc_stack: FakeTools) -> None:
    (esc_stack.folder / "pulumi").unlink()
    esc_stack.install("esc", {f"env get {ENV} --value json": answer(esc_value(**AZURE_AND_PARAGON))})
    rows = doctor()
    assert rows[f"esc:{ENV}"].status.value == "ok"
    assert esc_stack.calls("esc") == [["env", "get", ENV, "--value", "json"]]
    assert_read_only(esc_stack)


def test_no_cli_at_all_skips_with_a_reason(esc_stack: FakeTools) -> None:
    (esc_stack.folder / "pulumi").unlink()
    row = doctor()[f"esc:{ENV}"]
    assert row.status.value == "skipped" and "no pulumi or esc CLI" in row.detail


def test_several_environments_each_get_a_row(esc_stack: FakeTools) -> None:
    spec = cloud_pulumi(answer(esc_value(ARM_CLIENT_ID="x", ARM_TENANT_ID=TENANT)))
    spec["env get paragon/secrets@stable --value json"] = answer(esc_value(PARAGON_ACCESS_TOKEN=CANARY_PASSWORD))
    esc_stack.install("pulumi", spec)
    import_env(ENV, "paragon/secrets@stable")
    rows = doctor()
    assert rows[f"esc:{ENV}"].status.value == "ok"
    assert "Paragon login PARAGON_ACCESS_TOKEN" in rows["esc:paragon/secrets@stable"].detail
    assert rows["paragon-login-source"].status.value == "skipped"
    assert CANARY_PASSWORD not in shown(rows)


@pytest.mark.parametrize(
    ("stack_file", "expected"),
    [
        ({}, []),
        ({"environment": ["a/b", "org/proj/env@3"]}, ["a/b", "org/proj/env@3"]),
        ({"environment": {"imports": ["a/b"]}}, ["a/b"]),
        ({"environment": "a/b"}, "expected a list"),
        ({"environment": ["a/b; rm -rf /"]}, "expected a list"),
        ({"environment": ["--show-secrets"]}, "expected a list"),
    ],
    ids=["none", "list", "imports-mapping", "not-a-list", "not-a-name", "an-option"],
)
def test_imported_environments(stack_file: dict[str, Any], expected: list[str] | str) -> None:
    found = imported_environments(stack_file)
    assert found == expected if isinstance(expected, list) else expected in str(found)


def test_malformed_environment_list_fails(esc_stack: FakeTools) -> None:
    Path("config/Pulumi.dev.yaml").write_text("environment: paragon/dev\n", encoding="utf-8")
    row = doctor()["esc"]
    assert row.status.value == "failed" and "environment: expected a list" in row.detail
