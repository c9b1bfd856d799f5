"""docs/adopt.md, followed step by step against the fakes: every ``python -m provisioner`` command it shows runs
and prints the lines it shows (``…`` matches any text), with the YAML it shows written in between. The blocks it
does not run (```bash) hold only ``pulumi`` commands, which need the Pulumi CLI and a cloud account; their
effect (a deployment: the managed secrets on the app, the stack outputs) is simulated before ``status``."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from graph_fake import GRAPH_APP_ID, GRAPH_SCOPES, POWERBI_APP_ID, FakeApp, FakeGraph
from graph_helpers import install_az
from paragon_fake import FakeParagon
from pydantic import SecretStr
from test_adopt import PARAGON_PASSWORD, PROJECT, SCOPES, SECRET_CANARY
from test_status import secret_outputs
from typer.testing import CliRunner

from provisioner.cli.app import app
from provisioner.config import load_config
from provisioner.paragon.client import ParagonClient
from provisioner.paragon.login import login_from
from provisioner.program.rotation import rotation_state

DOC = Path(__file__).resolve().parent.parent / "docs" / "adopt.md"
CLIENT_ID = "7d3c7a0e-52f4-4d0c-9a3e-5e1f9d1b2c3a"
OBJECT_ID = "2f6b1c8e-9d4a-4e7b-8c5d-3a1f0e9b7c64"
SP_ID = "8e4d2a1b-6c3f-4b5e-9a7d-1f0c2b3e4d5a"
OWNER_ID = "4b2e8f1a-3c5d-4e6f-8a9b-0c1d2e3f4a5b"
HAND_KEY_ID = "0f0e0d0c-0b0a-4909-8807-060504030201"
runner = CliRunner()


def blocks(text: str) -> Iterator[tuple[str, str]]:
    """(info string, body) of every fenced block, in order."""
    for match in re.finditer(r"^```([^\n]*)\n(.*?)^```$", text, re.MULTILINE | re.DOTALL):
        yield match[1].strip(), match[2]


def steps(body: str) -> list[tuple[str, list[str]]]:
    """A console block's commands (after ``$ ``), each with the lines it must print."""
    found: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        elif line.strip():
            found[-1][1].append(line)
    return found


def pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in expected.rstrip().split("…")))


@pytest.fixture
def tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_ca_bundle: None) -> Iterator[tuple[FakeGraph, FakeApp]]:
    """The docs' tenant and Paragon project, a signed-in `az`, and a project folder to run in."""
    project = Path(__file__).resolve().parent.parent
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(project / name, tmp_path / name)
    (tmp_path / "config").mkdir()
    monkeypatch.chdir(tmp_path)
    for name in ("ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_USE_OIDC", "ARM_USE_MSI", "ARM_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(install_az(tmp_path / "bin")))
    paragon = FakeParagon().start()
    try:
        paragon.add_user("admin@contoso.example", PARAGON_PASSWORD)
        paragon.add_integration(PROJECT, "powerbi")
        login = login_from({"PARAGON_EMAIL": "admin@contoso.example", "PARAGON_PASSWORD": PARAGON_PASSWORD})
        with ParagonClient(paragon.url, login) as client:
            client.upsert_oauth_credential(
                PROJECT,
                client.find_integration(PROJECT, "powerbi"),
                name="set up by hand",
                client_id=CLIENT_ID,
                client_secret=SecretStr(SECRET_CANARY),
                scopes=" ".join(f"https://analysis.windows.net/powerbi/api/{n}" for n in SCOPES) + " offline_access",
            )
        paragon.reset_log()
        for name, value in (
            ("PARAGON_BASE_URL", paragon.url),
            ("PARAGON_EMAIL", "admin@contoso.example"),
            ("PARAGON_PASSWORD", PARAGON_PASSWORD),
        ):
            monkeypatch.setenv(name, value)
        with FakeGraph() as graph:
            monkeypatch.setenv("PROVISIONER_GRAPH_URL", graph.url)
            graph.add_service_principal(
                POWERBI_APP_ID, "Power BI Service", scopes=[(n, i, "User") for n, i in SCOPES.items()]
            )
            made = graph.add_application(
                CLIENT_ID,
                "Paragon Power BI",
                id=OBJECT_ID,
                redirect_uris=("https://passport.useparagon.com/oauth", "https://app.contoso.example/auth/callback"),
                passwords=(
                    {"keyId": HAND_KEY_ID, "displayName": "for Paragon", "endDateTime": "2027-03-01T00:00:00Z"},
                ),
                requiredResourceAccess=[
                    {
                        "resourceAppId": POWERBI_APP_ID,
                        "resourceAccess": [{"id": i, "type": "Scope"} for i in SCOPES.values()],
                    },
                    {
                        "resourceAppId": GRAPH_APP_ID,
                        "resourceAccess": [{"id": GRAPH_SCOPES["offline_access"], "type": "Scope"}],
                    },
                ],
            )
            graph.add_owner(made, user="maker@contoso.example")["id"] = OWNER_ID
            graph.add_service_principal(CLIENT_ID, "Paragon Power BI")["id"] = SP_ID
            yield graph, made
            assert graph.methods() == {"GET"}
            assert {(r.method, r.path) for r in paragon.requests if r.method != "GET"} <= {
                ("POST", "/auth/login/email")
            }
    finally:
        paragon.stop()


def deployed(graph: FakeGraph, made: FakeApp, config: Path) -> None:
    """What ``pulumi up`` and ``pulumi stack output --json > outputs.json`` leave: the managed slots' secrets on
    the app (key IDs in the outputs), the adopted client ID in the outputs."""
    policy = load_config(config).integrations["powerbi"].secret
    secret = secret_outputs(rotation_state(policy, datetime.now(UTC)))
    made.json["passwordCredentials"] += [
        {
            "keyId": slot["key_id"],
            "endDateTime": slot["end_date"],
            "displayName": f"paragon-powerbi slot {slot['slot']}",
        }
        for slot in secret["slots"]
    ]
    outputs = {"integrations": {"powerbi": {"client_id": CLIENT_ID, "secret": secret}}}
    Path("outputs.json").write_text(json.dumps(outputs), encoding="utf-8")


def test_following_docs_adopt_md(tenant: tuple[FakeGraph, FakeApp]) -> None:
    graph, made = tenant
    ran: list[str] = []
    for info, body in blocks(DOC.read_text(encoding="utf-8")):
        if info.startswith("yaml "):
            Path(info.split()[1]).write_text(body, encoding="utf-8")
        elif info == "bash":
            commands = [line.split("#")[0].strip() for line in body.splitlines()]
            assert all(c.startswith("pulumi ") for c in commands if c), f"an offline step left out: {body}"
        elif info == "console":
            for command, expected in steps(body):
                argv = shlex.split(command)
                assert argv[:3] == ["python", "-m", "provisioner"], command
                if argv[3] == "status":
                    deployed(graph, made, Path("config/prod.yaml"))
                result = runner.invoke(app, argv[3:])
                assert result.exit_code == 0, (command, result.output)
                lines = [line.rstrip() for line in result.output.splitlines()]
                for line in expected:
                    assert any(pattern(line).fullmatch(out) for out in lines), (command, line, result.output)
                assert SECRET_CANARY not in result.output and PARAGON_PASSWORD not in result.output
                ran.append(argv[3])
    assert ran == ["adopt", "validate", "adopt", "plan", "status"]
    document = json.loads(Path("import.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in document["resources"]] == ["powerbi", "powerbi-app", "powerbi-sp"]
    assert document["resources"][1]["id"] == f"/applications/{OBJECT_ID}"
    assert document["resources"][2]["id"] == SP_ID
