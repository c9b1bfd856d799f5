"""``doctor`` reads the tenant: the real ``doctor`` command against the fake Microsoft Graph and Entra token endpoint.

The deploying identity signs in by OIDC (``ARM_OIDC_TOKEN``, accepted by the fake Entra, whose token carries the
app's Graph application permissions as ``roles``); the fake Graph holds the tenant: its default app-management
policy, app registrations with owners, assigned policies and publisher state, and the resource APIs' service
principals. Paragon and ``pulumi`` are the fakes of tests/test_doctor.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from entra_fake import FakeEntra
from graph_fake import POWERBI_APP_ID, FakeApp, FakeGraph, password_addition_blocked, password_lifetime
from graph_helpers import USER_CLAIMS, jwt
from paragon_fake import FakeParagon
from test_doctor import (  # the fake tools, Paragon and a healthy environment of the main doctor tests
    NOW,
    PROJECT_DIR,
    TENANT,
    FakeTools,
    answer,
    deployed_outputs,
    healthy,  # noqa: F401  (fixture)
    healthy_pulumi,
    paragon,  # noqa: F401  (fixture)
    tools,  # noqa: F401  (fixture)
)
from typer.testing import CliRunner

from provisioner.cli.app import app

CI_CLIENT = "22222222-3333-4444-8555-666666666666"
CI_OBJECT = "77777777-7777-4777-8777-777777777777"  # its service principal's object ID (the token's oid)
OIDC_TOKEN = "canary.oidc-federated-token.4c7e19"
GRAPH_403_CANARY = "canary-graph-message-8b2d"
PARAGON_SECRET = "c4n4ry-7e1f-9a0b-q3x8"
DEPLOYED_CLIENT = "11111111-1111-4111-8111-111111111111"  # deployed_outputs()'s client ID
SCHEDULED = "5b1f0d2c-7a43-4c9e-9f0e-2d6c1a8b3e71"
OWNED_BY = ("Application.ReadWrite.OwnedBy", "Application.Read.All")
TENANT_ROWS = ("deployer", "app-policy", "app-policy:", "resource-sp:", "owners:", "publisher:", "tenant")
DOC_URL = "https://learn.microsoft.com/graph/api/resources/applicationauthenticationmethodpolicy"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEntra]:
    with FakeEntra() as fake:
        fake.trust(monkeypatch)
        yield fake


@pytest.fixture
def tenant(
    healthy: FakeTools,  # noqa: F811
    paragon: FakeParagon,  # noqa: F811
    graph: FakeGraph,
    entra: FakeEntra,
    monkeypatch: pytest.MonkeyPatch,
) -> FakeTools:
    """The healthy doctor environment, signed in by OIDC as a CI app with OwnedBy + Read.All, nothing deployed.

    The Paragon password is one without English words in it: the scrubber redacts any 8-character run of a
    secret, and test_doctor's canary password contains "password", which every passwordAddition row names."""
    entra.add_app(TENANT, CI_CLIENT, roles=OWNED_BY).object_id = CI_OBJECT
    entra.add_assertion(TENANT, CI_CLIENT, OIDC_TOKEN)
    paragon.add_user("tenant@example.com", PARAGON_SECRET)
    for name, value in {
        "PARAGON_EMAIL": "tenant@example.com",
        "PARAGON_PASSWORD": PARAGON_SECRET,
        "PROVISIONER_GRAPH_URL": graph.url,
        "AZURE_AUTHORITY_HOST": entra.url,
        "ARM_USE_OIDC": "true",
        "ARM_CLIENT_ID": CI_CLIENT,
        "ARM_OIDC_TOKEN": OIDC_TOKEN,
    }.items():
        monkeypatch.setenv(name, value)
    healthy.install("pulumi", healthy_pulumi({}))  # never deployed
    return healthy


def set_roles(entra: FakeEntra, *roles: str) -> None:
    entra.app(TENANT, CI_CLIENT).roles = roles


def with_scheduled_deployer(object_id: str = SCHEDULED) -> None:
    path = Path("config/dev.yaml")
    path.write_text(f"scheduled_deployer: {object_id}\n" + path.read_text("utf-8"), "utf-8")


def deploy(
    fake_tools: FakeTools,
    graph: FakeGraph,
    created: str = "2026-06-01T00:00:00Z",
    owners: tuple[str, ...] = (CI_OBJECT,),
    **fields: Any,
) -> FakeApp:
    """The stack as deployed (by the CI identity, an owner by default): its outputs name DEPLOYED_CLIENT, and the
    tenant holds that app registration."""
    fake_tools.install("pulumi", healthy_pulumi(deployed_outputs(NOW)))
    fake_app = graph.add_application(DEPLOYED_CLIENT, createdDateTime=created, **fields)
    for owner in owners:
        add_owner(fake_app, owner)
    return fake_app


def add_owner(fake_app: FakeApp, object_id: str) -> None:
    fake_app.owners.append(
        {"@odata.type": "#microsoft.graph.servicePrincipal", "id": object_id, "displayName": "CI", "appId": CI_CLIENT}
    )


def run(*args: str) -> tuple[int, dict[str, dict[str, str]], str]:
    """``doctor --format json`` through the CLI: exit code, rows by check, and the raw output."""
    result = CliRunner().invoke(app, ["doctor", "--format", "json", *args])
    rows = json.loads(result.stdout)
    return result.exit_code, {r["check"]: r for r in rows}, result.stdout


def tenant_rows(rows: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {k: v for k, v in rows.items() if k.startswith(TENANT_ROWS)}


def failed(rows: dict[str, dict[str, str]]) -> list[str]:
    return [k for k, r in rows.items() if r["status"] == "failed"]


# --- the acceptance cases ------------------------------------------------------------------------------


def test_a_tenant_without_restrictions_is_all_ok(tenant: FakeTools, graph: FakeGraph) -> None:
    code, rows, _ = run()
    assert code == 0, failed(rows)
    assert {k: r["status"] for k, r in tenant_rows(rows).items()} == {
        "deployer": "ok",
        "app-policy": "ok",
        "resource-sp:powerbi": "ok",
    }
    assert "not enabled" in rows["app-policy"]["detail"]
    assert f"app identity {CI_CLIENT}" in rows["deployer"]["detail"]
    assert graph.methods() == {"GET"}


def test_default_policy_blocking_secrets_fails_before_anything_is_deployed(tenant: FakeTools, graph: FakeGraph) -> None:
    graph.restrict_passwords(password_addition_blocked())
    code, rows, _ = run()
    assert code == 1
    assert failed(rows) == ["app-policy"]
    row = rows["app-policy"]
    assert 'the tenant default app-management policy "Default app management tenant policy"' in row["detail"]
    assert "blocks adding client secrets (passwordAddition)" in row["detail"]
    assert "powerbi" in row["detail"]
    assert "custom app-management policy without the passwordAddition restriction" in row["fix"]
    assert "/appManagementPolicies/$ref" in row["fix"]
    assert "Microsoft Entra application management policies API overview" in row["fix"]
    assert DOC_URL in row["fix"]


@pytest.mark.parametrize(
    ("restriction", "status", "found"),
    [
        (password_lifetime("P90D"), "failed", "at most 90 days, but the program requests 194 days for powerbi"),
        (password_lifetime("P6M"), "failed", "at most 180 days"),
        (password_lifetime("P194D"), "ok", "at most 194 days"),
        (password_lifetime("P2Y"), "ok", "at most 730 days"),
        ({**password_lifetime("P30D"), "state": "disabled"}, "ok", "no password restriction applies"),
        (password_lifetime("P30D", after="2099-01-01T00:00:00Z"), "ok", "no password restriction applies"),
        (password_addition_blocked(after="2099-01-01T00:00:00Z"), "ok", "no password restriction applies"),
        ({**password_addition_blocked(), "state": "disabled"}, "ok", "no password restriction applies"),
    ],
    ids=["90d", "6-months", "exactly", "2-years", "disabled", "future-lifetime", "future-block", "block-disabled"],
)
def test_default_policy_kinds_against_new_apps(
    tenant: FakeTools, graph: FakeGraph, restriction: dict[str, Any], status: str, found: str
) -> None:
    graph.restrict_passwords(restriction)
    code, rows, _ = run()
    row = rows["app-policy"]
    assert row["status"] == status, row
    assert found in row["detail"]
    assert code == (1 if status == "failed" else 0)
    if status == "failed":
        assert failed(rows) == ["app-policy"]
        assert "integrations.powerbi.secret: 2 x rotation_days 90 + grace_days 14" in row["detail"]
        assert "set integrations.powerbi.secret.max_lifetime_days:" in row["fix"]
        assert "rotation_days" in row["fix"] and "grace_days" in row["fix"]


# --- deployed apps: the policy in force, owners, publisher ---------------------------------------------


@pytest.mark.parametrize(
    ("default", "assigned", "created", "status", "found"),
    [
        ([password_addition_blocked()], None, "2026-06-01T00:00:00Z", "failed", "tenant default"),
        ([password_addition_blocked()], [], "2026-06-01T00:00:00Z", "ok", "overrides the tenant default"),
        ([password_addition_blocked(after="2026-07-01T00:00:00Z")], None, "2026-06-01T00:00:00Z", "ok", "created"),
        ([password_addition_blocked()], [password_lifetime("P60D")], "2026-06-01T00:00:00Z", "failed", "at most 60"),
        ([], [password_addition_blocked()], "2026-06-01T00:00:00Z", "failed", "assigned to the app"),
        ([password_addition_blocked()], "disabled", "2026-06-01T00:00:00Z", "failed", "tenant default"),
        ([password_addition_blocked(after="2026-07-01T00:00:00")], None, "2026-08-01T00:00:00", "failed", "2026-07"),
    ],
    ids=[
        "default-blocks",
        "exempted",
        "created-before",
        "assigned-cap",
        "assigned-blocks",
        "disabled-assignment",
        "times-without-zone",
    ],
)
def test_the_policy_in_force_for_a_deployed_app(
    tenant: FakeTools,
    graph: FakeGraph,
    default: list[dict[str, Any]],
    assigned: list[dict[str, Any]] | str | None,
    created: str,
    status: str,
    found: str,
) -> None:
    fake_app = deploy(tenant, graph, created)
    if default:
        graph.restrict_passwords(*default)
    if assigned == "disabled":
        graph.assign_policy(fake_app)
        graph.assigned[fake_app.object_id][0]["isEnabled"] = False
    elif assigned is not None:
        graph.assign_policy(fake_app, *assigned)
    code, rows, _ = run()
    row = rows["app-policy:powerbi"]
    assert row["status"] == status, row
    assert found in row["detail"]
    assert rows["app-policy"]["status"] == "ok"  # nothing new to create
    assert code == (1 if status == "failed" else 0), failed(rows)


OTHER = "99999999-9999-4999-8999-999999999999"
REFUSED = "you are signed in as it without Application.ReadWrite.All, so this pulumi up will be refused"


@pytest.mark.parametrize(
    ("scheduled", "owners", "roles", "status", "found"),
    [
        ("scheduled", (SCHEDULED, "ci"), OWNED_BY, "ok", f"scheduled_deployer {SCHEDULED} is an owner"),
        ("scheduled", (OTHER, "ci"), OWNED_BY, "warning", "is not an owner"),
        ("ci", (OTHER,), OWNED_BY, "failed", f"scheduled_deployer <ci> is not an owner of {DEPLOYED_CLIENT}"),
        ("scheduled", (SCHEDULED,), OWNED_BY, "failed", f"app identity {CI_CLIENT} (<ci>) is not an owner"),
        ("scheduled", (SCHEDULED,), ("Application.ReadWrite.All",), "ok", "is an owner"),
        (None, (OTHER, "ci"), OWNED_BY, "warning", "scheduled_deployer is not set"),
        (None, (OTHER,), OWNED_BY, "failed", REFUSED),
    ],
    ids=["kept", "lost", "lost-signed-in-as-it", "ci-not-owner", "ci-all", "not-configured", "not-configured-refused"],
)
def test_owners_of_a_deployed_app(
    tenant: FakeTools,
    graph: FakeGraph,
    entra: FakeEntra,
    scheduled: str | None,
    owners: tuple[str, ...],
    roles: tuple[str, ...],
    status: str,
    found: str,
) -> None:
    if scheduled is not None:
        with_scheduled_deployer(CI_OBJECT if scheduled == "ci" else SCHEDULED)
    deploy(tenant, graph, owners=tuple(CI_OBJECT if o == "ci" else o for o in owners))
    set_roles(entra, *roles)
    code, rows, _ = run()
    row = rows["owners:powerbi"]
    assert row["status"] == status, row
    assert found.replace("<ci>", CI_OBJECT) in row["detail"]
    assert "docs/owners.md" in row["fix"] or status == "ok"
    if status == "failed":
        assert REFUSED in row["detail"]
        assert "Cloud Application Administrator" in row["fix"] and code == 1


@pytest.mark.parametrize(
    ("audience", "publisher", "status", "found"),
    [
        ("AzureADMultipleOrgs", "1234567", "ok", "verified publisher Contoso (Partner ID 1234567)"),
        ("AzureADMultipleOrgs", None, "warning", "only for verified publishers"),
        ("AzureADandPersonalMicrosoftAccount", None, "warning", "has no verified publisher"),
        ("AzureADMyOrg", None, "ok", "publisher not verified; sign-in audience AzureADMyOrg"),
    ],
)
def test_publisher_of_a_deployed_app(
    tenant: FakeTools, graph: FakeGraph, audience: str, publisher: str | None, status: str, found: str
) -> None:
    deploy(tenant, graph, sign_in_audience=audience, verified_publisher_id=publisher)
    code, rows, _ = run()
    row = rows["publisher:powerbi"]
    assert row["status"] == status, row
    assert found in row["detail"]
    if status == "warning":
        assert "docs/publisher-verification.md" in row["fix"]
        assert "administrator" in row["detail"]
    assert code == 0


def test_a_deployed_app_missing_from_the_tenant_is_a_warning_on_each_row(tenant: FakeTools) -> None:
    tenant.install("pulumi", healthy_pulumi(deployed_outputs(NOW)))
    _, rows, _ = run()
    for name in ("app-policy:powerbi", "owners:powerbi", "publisher:powerbi"):
        assert rows[name]["status"] == "warning"
        assert f"client ID {DEPLOYED_CLIENT}" in rows[name]["detail"]


# --- resource API service principals --------------------------------------------------------------------


def test_a_missing_resource_service_principal_fails_with_the_az_line(tenant: FakeTools, graph: FakeGraph) -> None:
    del graph.service_principals[POWERBI_APP_ID]
    code, rows, _ = run()
    row = rows["resource-sp:powerbi"]
    assert code == 1 and failed(rows) == ["resource-sp:powerbi"]
    assert f"Power BI Service ({POWERBI_APP_ID}) has no service principal" in row["detail"]
    assert row["fix"].startswith(f"az ad sp create --id {POWERBI_APP_ID} (once, by a person with Cloud Application")


# --- the deploying identity -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "status", "found", "fix"),
    [
        (OWNED_BY, "ok", "what pulumi up needs", ""),
        (
            ("Application.ReadWrite.All",),
            "warning",
            "broader than pulumi up needs",
            "grant Application.ReadWrite.OwnedBy and Application.Read.All instead",
        ),
        (
            ("Application.ReadWrite.OwnedBy",),
            "failed",
            "without Application.Read.All pulumi up cannot read the resource APIs' published scopes",
            "application permission(s) Application.Read.All, with admin consent",
        ),
        (
            ("Application.Read.All",),
            "failed",
            "without Application.ReadWrite.OwnedBy pulumi up cannot create or update",
            "application permission(s) Application.ReadWrite.OwnedBy, with admin consent",
        ),
        ((), "failed", "holds no application permissions", "Application.ReadWrite.OwnedBy and Application.Read.All"),
    ],
    ids=["least", "broader", "no-read", "no-write", "none"],
)
def test_deployer_permissions(
    tenant: FakeTools, entra: FakeEntra, roles: tuple[str, ...], status: str, found: str, fix: str
) -> None:
    set_roles(entra, *roles)
    _, rows, _ = run()
    row = rows["deployer"]
    assert row["status"] == status, row
    assert found in row["detail"]
    assert fix in row["fix"]
    assert "Directory." not in row["fix"]  # never broader advice


def test_a_person_signed_in_with_the_azure_cli_gets_the_role_to_hold(
    tenant: FakeTools, graph: FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ARM_USE_OIDC", "ARM_CLIENT_ID", "ARM_OIDC_TOKEN"):
        monkeypatch.delenv(name)
    token = jwt({**USER_CLAIMS, "tid": TENANT, "exp": int(time.time()) + 3600})
    tenant.install(
        "az",
        {
            "account show": answer({"tenantId": TENANT, "user": {"name": "ada@contoso.example", "type": "user"}}),
            "account get-access-token": answer(
                {"accessToken": token, "expiresOn": "2099-01-01 00:00:00.000000", "tokenType": "Bearer"}
            ),
        },
    )
    code, rows, output = run()
    row = rows["deployer"]
    assert row["status"] == "skipped"
    assert "signed in as user ada@contoso.example" in row["detail"]
    assert "Cloud Application Administrator" in row["fix"] and "owners" in row["fix"]
    assert rows["app-policy"]["status"] == "ok"  # the user's token reads the rest
    assert token not in output
    assert code == 0


# --- reads that cannot be made --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "deployed", "check", "needs"),
    [
        ("/policies/", False, "app-policy", "needs Policy.Read.All"),
        ("/servicePrincipals", False, "resource-sp:powerbi", "needs Application.Read.All"),
        ("/applications(", True, "owners:powerbi", "needs Application.Read.All"),
        ("/applications/", True, "app-policy:powerbi", "needs Policy.Read.All and Application.Read.All"),
    ],
)
def test_a_refused_read_is_a_skipped_row_naming_the_permission(
    tenant: FakeTools, graph: FakeGraph, prefix: str, deployed: bool, check: str, needs: str
) -> None:
    if deployed:
        deploy(tenant, graph)
    graph.fail(prefix, 403, times=99, message=f"Insufficient privileges {GRAPH_403_CANARY}")
    code, rows, output = run()
    row = rows[check]
    assert row["status"] == "skipped", row
    assert row["detail"].startswith(needs)
    policy = "Policy.Read.All is read-only and only doctor needs it"
    assert (policy if "Policy" in needs else "pulumi up needs it too") in row["fix"]
    assert "Traceback" not in output
    assert code == 0


def test_offline_skips_every_tenant_row_without_a_graph_request(
    tenant: FakeTools, graph: FakeGraph, entra: FakeEntra, tmp_path: Path
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(deployed_outputs(NOW)), "utf-8")
    graph.restrict_passwords(password_addition_blocked())
    code, rows, _ = run("--offline", "--outputs", str(outputs))
    names = tenant_rows(rows)
    assert set(names) == {
        "deployer",
        "app-policy",
        "app-policy:powerbi",
        "resource-sp:powerbi",
        "owners:powerbi",
        "publisher:powerbi",
    }
    assert all(r["status"] == "skipped" and r["detail"].startswith("--offline") for r in names.values())
    assert graph.requests == [] and entra.token_requests() == []
    assert code == 0


def test_without_usable_credentials_every_tenant_row_is_skipped(
    tenant: FakeTools, graph: FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARM_OIDC_TOKEN")
    _, rows, _ = run()
    assert rows["azure-credentials"]["status"] == "failed"
    assert all(
        r["status"] == "skipped" and "no usable Azure credentials" in r["detail"] for r in tenant_rows(rows).values()
    )
    assert graph.requests == []


def test_a_refused_sign_in_skips_the_rows_with_one_reason(
    tenant: FakeTools, graph: FakeGraph, entra: FakeEntra, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARM_OIDC_TOKEN", "canary.unknown-assertion.77aa")
    code, rows, output = run()
    for row in tenant_rows(rows).values():
        assert row["status"] == "skipped"
        assert row["detail"].startswith("no Azure sign-in for Microsoft Graph")
        assert "AADSTS700213" in row["detail"]
    assert len(entra.token_requests()) == 1  # one attempt, not one per row
    assert "canary.unknown-assertion.77aa" not in output
    assert graph.requests == []
    assert code == 0


def test_an_unreachable_graph_is_one_bounded_warning(
    tenant: FakeTools, graph: FakeGraph, monkeypatch: pytest.MonkeyPatch, refused_port: int
) -> None:
    monkeypatch.setenv("PROVISIONER_GRAPH_URL", f"http://127.0.0.1:{refused_port}")
    started = time.monotonic()
    code, rows, _ = run()
    assert time.monotonic() - started < 20
    rows = tenant_rows(rows)
    assert rows.pop("deployer")["status"] == "ok"  # read from the token alone
    assert {k: r["status"] for k, r in rows.items()} == {"app-policy": "warning", "resource-sp:powerbi": "warning"}
    assert all(r["detail"].startswith("Microsoft Graph could not be read: ") for r in rows.values())
    assert code == 0


def test_no_secret_or_token_in_any_row(tenant: FakeTools, graph: FakeGraph) -> None:
    """Canaries: the federated token, Graph's access token and a Graph error message naming a canary."""
    fake_app = deploy(tenant, graph)
    graph.restrict_passwords(password_addition_blocked())
    graph.fail("/applications/", 400, times=99, message=f"boom {OIDC_TOKEN}")
    for fmt in ("json", "text"):
        result = CliRunner().invoke(app, ["doctor", "--format", fmt])
        assert OIDC_TOKEN not in result.stdout
        assert "eyJ" not in result.stdout  # no JWT (Graph's access token) anywhere
        assert "Traceback" not in result.stdout
    assert fake_app.app_id in result.stdout


def test_docs_list_every_tenant_row() -> None:
    text = (PROJECT_DIR / "docs" / "doctor.md").read_text("utf-8")
    for name in ("deployer", "app-policy", "app-policy:<key>", "resource-sp:<key>", "owners:<key>", "publisher:<key>"):
        assert f"| `{name}` |" in text, name
    for permission in ("Policy.Read.All", "Application.Read.All"):
        assert permission in text
