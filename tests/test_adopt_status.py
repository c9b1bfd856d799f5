"""``status`` after adoption: the hand-made secrets still on an adopted app, when each is safe to delete and the
command; skipped in one line without a sign-in; ``status``'s exit codes never change; Graph sees only GETs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from graph_fake import FakeGraph
from graph_helpers import install_az
from test_status import secret_outputs
from typer.testing import CliRunner

from provisioner.cli.app import app
from provisioner.config import load_config
from provisioner.program.rotation import rotation_state

runner = CliRunner()
CLIENT_ID = "7d3c7a0e-52f4-4d0c-9a3e-5e1f9d1b2c3a"
HAND_KEY_ID = "0f0e0d0c-0b0a-4909-8807-060504030201"
AT = datetime(2026, 12, 7, tzinfo=UTC)
CONFIG = f"""\
paragon:
  project_id: 38b1f170-0c43-4eae-9a04-ab85325d99f7
scheduled_deployer: 5b1f0d2c-7a43-4c9e-9f0e-2d6c1a8b3e71
integrations:
  powerbi:
    client_id: {CLIENT_ID}
"""


@pytest.fixture
def graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGraph]:
    for name in ("ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_USE_OIDC", "ARM_USE_MSI", "ARM_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(install_az(tmp_path / "bin")))
    with FakeGraph() as fake:
        monkeypatch.setenv("PROVISIONER_GRAPH_URL", fake.url)
        yield fake


def files(tmp_path: Path, *, deployed_client_id: str = CLIENT_ID) -> tuple[Path, Path]:
    config = tmp_path / "config" / "dev.yaml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(CONFIG, encoding="utf-8")
    policy = load_config(config).integrations["powerbi"].secret
    outputs = {
        "integrations": {
            "powerbi": {"client_id": deployed_client_id, "secret": secret_outputs(rotation_state(policy, AT))}
        }
    }
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs), encoding="utf-8")
    return config, path


def adopted_app(graph: FakeGraph, *, deployed: bool = True) -> None:
    """The adopted app: its hand-made secret, and after a deployment the two managed slots' secrets."""
    managed = [
        {"keyId": f"00000000-0000-4000-8000-00000000000{slot}", "endDateTime": "2027-04-05T00:00:00Z"}
        for slot in ((0, 1) if deployed else ())
    ]
    hand = {"keyId": HAND_KEY_ID, "displayName": "for Paragon", "endDateTime": "2027-03-01T00:00:00Z"}
    graph.add_application(CLIENT_ID, "Paragon Power BI", passwords=(*managed, hand))


def status(config: Path, outputs: Path, *extra: str) -> Any:
    args = ["status", "--config", str(config), "--outputs", str(outputs), "--at", "2026-12-07", *extra]
    return runner.invoke(app, args)


def test_status_lists_the_hand_made_secret_and_the_command(graph: FakeGraph, tmp_path: Path) -> None:
    adopted_app(graph)
    config, outputs = files(tmp_path)
    result = status(config, outputs, "--format", "json")
    assert result.exit_code == 0, result.output
    [secret] = json.loads(result.output)["adopted"]["unmanaged_secrets"]
    assert secret["key_id"] == HAND_KEY_ID and secret["end_date"] == "2027-03-01T00:00:00Z"
    assert secret["safe_to_delete"] is True
    assert secret["command"] == f"az ad app credential delete --id {CLIENT_ID} --key-id {HAND_KEY_ID}"
    text = status(config, outputs)
    assert text.exit_code == 0
    assert f"powerbi: key ID {HAND_KEY_ID} 'for Paragon', ends 2027-03-01T00:00:00Z: safe to delete now" in text.output
    assert graph.methods() == {"GET"}


def test_not_safe_before_paragon_holds_a_managed_secret(graph: FakeGraph, tmp_path: Path) -> None:
    adopted_app(graph, deployed=False)
    config, outputs = files(tmp_path)
    outputs.write_text("{}", encoding="utf-8")  # imported, never deployed
    result = status(config, outputs, "--format", "json")
    assert result.exit_code == 3  # unchanged: never deployed is OVERDUE
    [secret] = json.loads(result.output)["adopted"]["unmanaged_secrets"]
    assert secret["safe_to_delete"] is False and "run pulumi up first" in secret["reason"]


def test_a_stack_managing_another_app_is_named(graph: FakeGraph, tmp_path: Path) -> None:
    adopted_app(graph)
    config, outputs = files(tmp_path, deployed_client_id="22222222-2222-4222-8222-222222222222")
    result = status(config, outputs, "--format", "json")
    assert result.exit_code == 0
    [note] = json.loads(result.output)["adopted"]["notes"]
    assert note.startswith("powerbi: the stack manages client ID 22222222-2222-4222-8222-222222222222, but the config")


def test_without_a_sign_in_the_section_is_one_line_and_the_exit_code_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_TENANT_ID", "ARM_USE_MSI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ARM_USE_CLI", "false")
    config, outputs = files(tmp_path)
    result = status(config, outputs, "--format", "json")
    assert result.exit_code == 0, result.output
    adopted = json.loads(result.output)["adopted"]
    assert adopted["unmanaged_secrets"] == []
    [note] = adopted["notes"]
    assert note.startswith("skipped: no Microsoft Graph sign-in (") and "\n" not in note


@pytest.mark.parametrize(
    ("outputs", "status", "detail"),
    [
        ({}, "ok", f"adopts client ID {CLIENT_ID}; not in the stack's outputs yet"),
        ({"integrations": {"powerbi": {"client_id": CLIENT_ID.upper()}}}, "ok", "the stack manages the adopted app"),
        (
            {"integrations": {"powerbi": {"client_id": "22222222-2222-4222-8222-222222222222"}}},
            "failed",
            "the stack manages client ID 22222222-2222-4222-8222-222222222222, but the config adopts",
        ),
    ],
)
def test_doctor_compares_the_stack_with_the_adopted_client_id(
    outputs: dict[str, Any], status: str, detail: str, tmp_path: Path
) -> None:
    from provisioner.cli.doctor.adopted import check_adopted
    from provisioner.cli.doctor.base import Facts

    config, _ = files(tmp_path)
    [row] = check_adopted(Facts(config=load_config(config), outputs=outputs))
    assert (row.check, row.status.value) == ("adopted-app:powerbi", status)
    assert row.detail.startswith(detail)
    assert check_adopted(Facts(config=load_config(config).model_copy(update={"integrations": {}}))) == []
