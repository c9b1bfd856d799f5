"""``adopt`` end to end against the fake Graph (a hand-made app: two redirect URIs, one extra scope, one hand-made
secret) and the fake Paragon (its credential holds the app's client ID and a secret canary): the report, the
one-line refusals, the import file against the program's URNs, and the adopted config's plan."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi
import pytest
from graph_fake import GRAPH_APP_ID, GRAPH_SCOPES, POWERBI_APP_ID, FakeApp, FakeGraph
from graph_helpers import install_az
from paragon_fake import FakeParagon
from pydantic import SecretStr
from typer.testing import CliRunner

from provisioner.cli.adopt import RegistrationRecorder, adopt
from provisioner.cli.adopt_report import (
    APPLICATION_TYPE,
    COMPONENT_TYPE,
    SERVICE_PRINCIPAL_TYPE,
    import_file_urns,
)
from provisioner.cli.app import app
from provisioner.cli.plan import RecordingMocks, run_plan
from provisioner.config import load_config
from provisioner.graph.reader import GraphReader
from provisioner.paragon.client import ParagonClient
from provisioner.paragon.login import login_from

runner = CliRunner()
PROJECT = "38b1f170-0c43-4eae-9a04-ab85325d99f7"
CLIENT_ID = "7d3c7a0e-52f4-4d0c-9a3e-5e1f9d1b2c3a"
HAND_KEY_ID = "0f0e0d0c-0b0a-4909-8807-060504030201"
EXTRA_URI = "https://app.contoso.example/auth/callback"
PARAGON_URI = "https://passport.useparagon.com/oauth"
SECRET_CANARY = "hand~made.SECRET_canary-0123456789"
PARAGON_PASSWORD = "paragon-PASSWORD-canary"
AT = datetime(2026, 12, 7, tzinfo=UTC)
SCOPES = {name: str(uuid.uuid5(uuid.NAMESPACE_URL, name)) for name in ("Dataset.Read.All", "Report.Read.All")}
SCOPES["Workspace.Read.All"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "Workspace.Read.All"))
CONFIG = f"""\
paragon:
  project_id: {PROJECT}
scheduled_deployer: 5b1f0d2c-7a43-4c9e-9f0e-2d6c1a8b3e71
integrations:
  powerbi:
    scopes: [Dataset.Read.All, Report.Read.All]
"""


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        fake.add_service_principal(
            POWERBI_APP_ID, "Power BI Service", scopes=[(n, i, "User") for n, i in SCOPES.items()]
        )
        yield fake


def hand_made_app(graph: FakeGraph, *, audience: str = "AzureADMultipleOrgs") -> FakeApp:
    """The app a customer made by following Paragon's guide, plus a second redirect URI and an extra scope."""
    made = graph.add_application(
        CLIENT_ID,
        "Paragon Power BI",
        sign_in_audience=audience,
        redirect_uris=(PARAGON_URI, EXTRA_URI),
        passwords=({"keyId": HAND_KEY_ID, "displayName": "for Paragon", "endDateTime": "2027-03-01T00:00:00Z"},),
        requiredResourceAccess=[
            {"resourceAppId": POWERBI_APP_ID, "resourceAccess": [{"id": i, "type": "Scope"} for i in SCOPES.values()]},
            {
                "resourceAppId": GRAPH_APP_ID,
                "resourceAccess": [{"id": GRAPH_SCOPES["offline_access"], "type": "Scope"}],
            },
        ],
    )
    graph.add_owner(made, user="maker@contoso.example")
    graph.add_service_principal(CLIENT_ID, "Paragon Power BI")
    return made


@pytest.fixture
def paragon(no_ca_bundle: None) -> Iterator[FakeParagon]:
    fake = FakeParagon().start()
    try:
        fake.add_user("admin@contoso.example", PARAGON_PASSWORD)
        integration = fake.add_integration(PROJECT, "powerbi")
        login = login_from({"PARAGON_EMAIL": "admin@contoso.example", "PARAGON_PASSWORD": PARAGON_PASSWORD})
        with ParagonClient(fake.url, login) as client:
            client.upsert_oauth_credential(
                PROJECT,
                client.find_integration(PROJECT, "powerbi"),
                name="set up by hand",
                client_id=CLIENT_ID,
                client_secret=SecretStr(SECRET_CANARY),
                scopes=" ".join(f"https://analysis.windows.net/powerbi/api/{n}" for n in SCOPES) + " offline_access",
            )
        assert integration
        fake.reset_log()
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def env(
    graph: FakeGraph, paragon: FakeParagon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project_dir: Path
) -> dict[str, str]:
    """Signed in through a fake `az`; Paragon's login in the environment; run from the project folder."""
    for name in ("ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_USE_OIDC", "ARM_USE_MSI", "ARM_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    values = {
        "PATH": str(install_az(tmp_path / "bin")),
        "PROVISIONER_GRAPH_URL": graph.url,
        "PARAGON_BASE_URL": paragon.url,
        "PARAGON_EMAIL": "admin@contoso.example",
        "PARAGON_PASSWORD": PARAGON_PASSWORD,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(project_dir)
    return values


def config_file(tmp_path: Path, text: str = CONFIG, name: str = "dev.yaml") -> Path:
    path = tmp_path / "config" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run_adopt(config: Path, *extra: str, client_id: str = CLIENT_ID, key: str = "powerbi") -> Any:
    return runner.invoke(
        app, ["adopt", "--config", str(config), "--integration", key, "--client-id", client_id, *extra]
    )


def only_gets(graph: FakeGraph, paragon: FakeParagon) -> None:
    assert graph.methods() == {"GET"}
    sent = {(r.method, r.path) for r in paragon.requests}
    assert {m for m, _ in sent} <= {"GET", "POST"}
    assert {p for m, p in sent if m == "POST"} <= {"/auth/login/email"}


# --- the report ----------------------------------------------------------------------------------------


def test_adopt_reports_the_changes_the_secret_and_paragon(
    graph: FakeGraph, paragon: FakeParagon, env: dict[str, str], tmp_path: Path
) -> None:
    hand_made_app(graph)
    result = run_adopt(config_file(tmp_path), "--output", str(tmp_path / "import.json"))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "display name: Paragon Power BI -> Paragon Power BI (dev)" in out
    assert f"! remove Web redirect URI {EXTRA_URI}" in out
    assert f"Avoid it: add {EXTRA_URI} to integrations.powerbi.extra_redirect_uris" in out
    assert "! remove permission Power BI Service Workspace.Read.All: Paragon requests it today" in out
    assert "Avoid it: add Workspace.Read.All to integrations.powerbi.scopes" in out
    assert "- remove owner" in out and "maker@contoso.example loses the right" in out
    assert "+ add owner 5b1f0d2c-7a43-4c9e-9f0e-2d6c1a8b3e71" in out
    assert f"key ID {HAND_KEY_ID} 'for Paragon', ends 2027-03-01T00:00:00Z" in out
    assert f"az ad app credential delete --id {CLIENT_ID} --key-id {HAND_KEY_ID}" in out
    assert "imported with the app (no second one is created)" in out
    assert f"holds client ID {CLIENT_ID}, this app: connected users keep working" in out
    assert f"pulumi import --file {tmp_path / 'import.json'} --stack dev --generate-code=false" in out
    for secret in (SECRET_CANARY, PARAGON_PASSWORD):
        assert secret not in out
    only_gets(graph, paragon)


def test_the_reported_changes_are_the_plans(
    graph: FakeGraph, paragon: FakeParagon, env: dict[str, str], tmp_path: Path, project_dir: Path
) -> None:
    """The report's redirect URIs, permissions and owners are exactly the differences between the live app and
    the Application the program declares (run independently here under mocks with the tenant's scope IDs)."""
    hand_made_app(graph)
    path = config_file(tmp_path)
    config = load_config(path)
    with GraphReader() as reader:
        result = adopt(project_dir, "dev", path, config, "powerbi", CLIENT_ID, AT, env, reader)
    plan = run_plan(project_dir, "dev", AT, config_file=path, mocks=RecordingMocks(scope_ids={POWERBI_APP_ID: SCOPES}))
    inputs = next(r.inputs for r in plan.resources if r.name == "powerbi-app")
    by_kind: dict[tuple[str, str], set[str]] = {}
    for change in result.changes:
        by_kind.setdefault((change.what, change.action), set()).add(str(change.after or change.before))
    assert (
        by_kind[("Web redirect URI", "remove")]
        == {EXTRA_URI}
        == {PARAGON_URI, EXTRA_URI} - set(inputs["web"]["redirectUris"])
    )
    declared = {a["id"] for b in inputs["requiredResourceAccesses"] for a in b["resourceAccesses"]}
    live = {*SCOPES.values(), GRAPH_SCOPES["offline_access"]}
    assert live - declared == {SCOPES["Workspace.Read.All"]}
    assert by_kind[("permission", "remove")] == {"Power BI Service Workspace.Read.All"}
    assert ("permission", "add") not in by_kind and declared - live == set()
    assert by_kind[("owner", "add")] == set(inputs["owners"])
    assert by_kind[("display name", "change")] == {inputs["displayName"]}
    assert [s for s, _ in result.slots] == ["powerbi-secret-0", "powerbi-secret-1"]


def test_the_adopted_config_keeps_the_app_and_adds_two_slots(
    graph: FakeGraph, paragon: FakeParagon, env: dict[str, str], tmp_path: Path, project_dir: Path
) -> None:
    """Applying the suggested edits: the plan declares the adopted display name, both redirect URIs, every
    consented scope, the two managed slots, and the report lists no harmful change left."""
    hand_made_app(graph)
    first = run_adopt(config_file(tmp_path))
    edits = first.output.split("Config edits under integrations.powerbi in")[1].splitlines()[1:]
    yaml_lines = [line.strip() for line in edits if line.startswith("    ") and not line.strip().startswith("#")]
    assert f"client_id: {CLIENT_ID}" in yaml_lines and "display_name: Paragon Power BI" in yaml_lines
    adopted = CONFIG.replace("    scopes: [Dataset.Read.All, Report.Read.All]\n", "").rstrip("\n") + "\n"
    adopted += "".join(f"    {line}\n" for line in yaml_lines)
    adopted += "    scopes: [Dataset.Read.All, Report.Read.All, Workspace.Read.All]\n"
    path = config_file(tmp_path, adopted)
    second = run_adopt(path)
    assert second.exit_code == 0, second.output
    assert "[hurts connected users]" not in second.output
    plan = run_plan(project_dir, "dev", AT, config_file=path, mocks=RecordingMocks(scope_ids={POWERBI_APP_ID: SCOPES}))
    names = sorted(r.name for r in plan.resources)
    assert names == ["powerbi", "powerbi-app", "powerbi-paragon", "powerbi-secret-0", "powerbi-secret-1", "powerbi-sp"]
    application = next(r for r in plan.resources if r.name == "powerbi-app")
    assert application.inputs["displayName"] == "Paragon Power BI"
    assert application.inputs["web"]["redirectUris"] == [PARAGON_URI, EXTRA_URI]
    assert "templateId" not in application.inputs  # the one Application input that forces a replacement


# --- the import file -----------------------------------------------------------------------------------


def test_the_import_file_names_the_programs_urns(
    graph: FakeGraph, paragon: FakeParagon, env: dict[str, str], tmp_path: Path, project_dir: Path
) -> None:
    made = hand_made_app(graph)
    output = tmp_path / "import.json"
    assert run_adopt(config_file(tmp_path), "--output", str(output)).exit_code == 0
    document = json.loads(output.read_text())
    assert document["nameTable"] == {}
    component, application, service_principal = document["resources"]
    assert component == {"type": COMPONENT_TYPE, "name": "powerbi", "component": True}
    assert application["type"] == APPLICATION_TYPE and application["id"] == f"/applications/{made.object_id}"
    assert service_principal["type"] == SERVICE_PRINCIPAL_TYPE
    assert service_principal["id"] == graph.service_principals[CLIENT_ID]["id"]
    assert application["parent"] == service_principal["parent"] == "powerbi"
    # The program, run under the SDK's own mock monitor: its URNs, with the root stack's type left out as the
    # engine does, are the ones `pulumi import` computes from the file.
    recorder = RegistrationRecorder(RecordingMocks())
    run_plan(project_dir, "dev", AT, config_file=tmp_path / "config" / "dev.yaml", monitor=recorder)
    program = {
        urn.split("::")[-1]: "::".join(urn.split("::")[:2] + [urn.split("::")[2].replace("pulumi:pulumi:Stack$", "")])
        + "::"
        + urn.split("::")[-1]
        for urn in recorder.registrations
    }
    for name, urn in import_file_urns(document, "dev", "paragon-provisioner").items():
        assert urn == program[name], name
    assert program["powerbi-app"] == (
        "urn:pulumi:dev::paragon-provisioner::provisioner:entra:AppRegistration$azuread:index/application:Application"
        "::powerbi-app"
    )


def test_a_shared_app_is_imported_under_its_owner(
    graph: FakeGraph, paragon: FakeParagon, env: dict[str, str], tmp_path: Path
) -> None:
    graph.add_application(CLIENT_ID, "Paragon Outlook", redirect_uris=(PARAGON_URI,))
    published = [
        *GRAPH_SCOPES.items(),
        *((n, str(uuid.uuid5(uuid.NAMESPACE_URL, n))) for n in ("Mail.Read", "Files.Read.All")),
    ]
    graph.add_service_principal(GRAPH_APP_ID, "Microsoft Graph", scopes=[(n, i, "User") for n, i in published])
    text = (
        f"paragon:\n  project_id: {PROJECT}\nintegrations:\n  outlook:\n    scopes: [Mail.Read]\n"
        "  onedrive:\n    app: outlook\n"
    )
    output = tmp_path / "import.json"
    result = run_adopt(config_file(tmp_path, text), "--output", str(output), key="onedrive")
    assert result.exit_code == 0, result.output
    assert "for integration onedrive (shares the app of outlook)" in result.output
    assert "Config edits under integrations.outlook" in result.output
    names = [r["name"] for r in json.loads(output.read_text())["resources"]]
    assert names == ["outlook", "outlook-app"]  # no service principal in the tenant: pulumi up creates it


# --- refusals: one line, exit 1 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("bad-guid", "--client-id must be a GUID"),
        ("not-found", f"app registration with client ID {CLIENT_ID.replace('7d', '6d', 1)}: not found"),
        ("refused", "Microsoft Graph refused the read. Fix: sign in as an identity with Application.Read.All"),
        ("wrong-key", "--integration outlook: not an integration of"),
        ("other-client-id", "integrations.powerbi.client_id is 11111111-2222-4333-8444-555555555555"),
        ("no-resource-sp", f"({POWERBI_APP_ID}) has no readable service principal in this tenant"),
    ],
)
def test_each_refusal_is_one_line(
    case: str, expected: str, graph: FakeGraph, paragon: FakeParagon, env: dict[str, str], tmp_path: Path
) -> None:
    hand_made_app(graph)
    text = CONFIG
    client_id, key = CLIENT_ID, "powerbi"
    if case == "bad-guid":
        client_id = "not-a-guid"
    elif case == "not-found":
        client_id = CLIENT_ID.replace("7d", "6d", 1)
    elif case == "refused":
        graph.fail("/applications", 403, times=5)
    elif case == "wrong-key":
        key = "outlook"
    elif case == "no-resource-sp":
        del graph.service_principals[POWERBI_APP_ID]
    else:
        text += "    client_id: 11111111-2222-4333-8444-555555555555\n"
    output = tmp_path / "import.json"
    result = run_adopt(config_file(tmp_path, text), "--output", str(output), client_id=client_id, key=key)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.output
    assert not output.exists()
    assert graph.methods() <= {"GET"}


def test_a_personal_account_app_with_a_hand_made_secret_is_refused(
    graph: FakeGraph, paragon: FakeParagon, env: dict[str, str], tmp_path: Path
) -> None:
    hand_made_app(graph, audience="AzureADandPersonalMicrosoftAccount")
    output = tmp_path / "import.json"
    result = run_adopt(config_file(tmp_path), "--output", str(output))
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("adopt refused: the app's audience includes personal Microsoft accounts")
    assert f"az ad app credential delete --id {CLIENT_ID} --key-id {HAND_KEY_ID}" in last
    assert not output.exists()


def test_paragon_holding_another_client_id_is_a_warning(
    graph: FakeGraph, paragon: FakeParagon, env: dict[str, str], tmp_path: Path
) -> None:
    hand_made_app(graph)
    other = "9a9a9a9a-1b1b-4c4c-8d8d-0e0e0e0e0e0e"
    graph.add_application(other, "Some other app")
    result = run_adopt(config_file(tmp_path), client_id=other)
    assert result.exit_code == 0, result.output
    assert f"WARNING: its powerbi credential holds client ID {CLIENT_ID}, not {other}" in result.output
    assert SECRET_CANARY not in result.output


def test_without_a_paragon_login_the_report_says_so(
    graph: FakeGraph, paragon: FakeParagon, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hand_made_app(graph)
    monkeypatch.delenv("PARAGON_PASSWORD")
    result = run_adopt(config_file(tmp_path))
    assert result.exit_code == 0, result.output
    assert "Paragon: not checked: no Paragon login" in result.output
    assert paragon.requests == []


# --- the program keeps the adopted app ------------------------------------------------------------------


class ClientIdMocks(RecordingMocks):
    """The deployed Application answers with ``client_id`` (as a preview of an imported app knows it)."""

    def __init__(self, client_id: str) -> None:
        super().__init__(scope_ids={POWERBI_APP_ID: SCOPES, GRAPH_APP_ID: {}})
        self.client_id = client_id

    def new_resource(self, args: Any) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        if args.typ == APPLICATION_TYPE:
            state["clientId"] = self.client_id
        return resource_id, state


class ProtectRecorder(RegistrationRecorder):
    def __init__(self, mocks: Any) -> None:
        super().__init__(mocks)
        self.protected: dict[str, bool] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802
        self.protected[request.name] = bool(request.protect)
        return super().RegisterResource(request)


def test_the_adopted_application_is_protected_and_keeps_its_client_id(tmp_path: Path, project_dir: Path) -> None:
    path = config_file(tmp_path, CONFIG + f"    client_id: {CLIENT_ID}\n")
    mocks = ClientIdMocks(CLIENT_ID)
    recorder = ProtectRecorder(mocks)
    plan = run_plan(project_dir, "dev", AT, config_file=path, mocks=mocks, monitor=recorder)
    assert recorder.protected["powerbi-app"] is True
    assert not any(v for k, v in recorder.protected.items() if k != "powerbi-app")
    push = next(r for r in plan.resources if r.name == "powerbi-paragon")
    assert push.inputs["clientId"] == CLIENT_ID
    mocks = ClientIdMocks(CLIENT_ID)
    unadopted = ProtectRecorder(mocks)
    run_plan(project_dir, "dev", AT, config_file=config_file(tmp_path, CONFIG), mocks=mocks, monitor=unadopted)
    assert unadopted.protected["powerbi-app"] is False


def test_a_stack_holding_another_app_stops_before_anything_uses_it(tmp_path: Path, project_dir: Path) -> None:
    other = "9a9a9a9a-1b1b-4c4c-8d8d-0e0e0e0e0e0e"
    path = config_file(tmp_path, CONFIG + f"    client_id: {CLIENT_ID}\n")
    mocks = ClientIdMocks(other)
    with pytest.raises(
        pulumi.RunError,
        match=rf"^integrations\.powerbi\.client_id: the stack's app registration has client ID {other}, not the "
        rf"adopted {CLIENT_ID}",
    ):
        run_plan(project_dir, "dev", AT, config_file=path, mocks=mocks)
    used = [r.name for r in mocks.resources if other in json.dumps(r.inputs)]
    assert used == []  # no service principal, secret slot or Paragon push was given the other app
