"""The Pulumi program under mocks: what `pulumi up` would declare, with the engine faked.

`RecordingMocks` fakes the engine and the azuread provider; here a subclass gives every service principal
real-looking scope GUIDs and every password a distinct secret value, so the tests can follow them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi
import pytest
from conftest import VALID_CONFIG

from provisioner.catalog import POWER_BI
from provisioner.cli.plan import Plan, PlannedResource, RecordingMocks, _is_secret, _secret, run_plan
from provisioner.program.app_registration import MissingScopeError, required_resource_accesses

POWER_BI_APP = "00000009-0000-0000-c000-000000000000"
GRAPH_APP = "00000003-0000-0000-c000-000000000000"
SCOPE_IDS = {
    POWER_BI_APP: {
        "Dataset.Read.All": "7f33e027-4039-419b-938e-2f8ca153e68e",
        "Report.Read.All": "4ae1bf56-f562-4747-b7bc-2fa0874ed46f",
        "Workspace.Read.All": "b2f1b2fa-f35c-407c-979c-a858a808ba85",
    },
    GRAPH_APP: {"User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d"},
}
DEPLOYER = {"clientId": "deployer-client", "objectId": "11111111-2222-3333-4444-555555555555", "tenantId": "tenant-1"}
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


class DistinctSecrets(RecordingMocks):
    """Gives each password a distinct secret value so the test can see which one Paragon is given."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        if args.typ.endswith("ApplicationPassword"):
            state["value"] = _secret(f"value-of-{args.name}")
        if args.typ.endswith("Application"):
            state.update(clientId="app-client-id", objectId="app-object-id")
        return resource_id, state


def run(project_dir: Path, at: datetime = NOW, config_file: Path | None = None) -> Plan:
    mocks = DistinctSecrets(scope_ids=SCOPE_IDS, client_config=DEPLOYER)
    return run_plan(project_dir, "dev", at, config_file=config_file, mocks=mocks)


def one(plan: Plan, type_suffix: str, name: str | None = None) -> PlannedResource:
    found = [r for r in plan.resources if r.type.endswith(type_suffix) and (name is None or r.name == name)]
    assert len(found) == 1, [r.name for r in plan.resources]
    return found[0]


def test_app_registration_inputs(project_dir: Path) -> None:
    app = one(run(project_dir), "application:Application")
    assert app.name == "powerbi-app"
    assert app.inputs["displayName"] == "Paragon Power BI (dev)"
    assert app.inputs["signInAudience"] == "AzureADMultipleOrgs"
    assert app.inputs["web"] == {"redirectUris": ["https://passport.useparagon.com/oauth"]}
    assert app.inputs["owners"] == [DEPLOYER["objectId"]]
    assert "api" not in app.inputs
    assert app.inputs["requiredResourceAccesses"] == [
        {
            "resourceAppId": POWER_BI_APP,
            "resourceAccesses": [
                {"id": SCOPE_IDS[POWER_BI_APP]["Dataset.Read.All"], "type": "Scope"},
                {"id": SCOPE_IDS[POWER_BI_APP]["Report.Read.All"], "type": "Scope"},
            ],
        },
        {
            "resourceAppId": GRAPH_APP,
            "resourceAccesses": [{"id": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "type": "Scope"}],
        },
    ]


def test_scope_ids_are_looked_up_from_the_resource_service_principal(project_dir: Path) -> None:
    mocks = DistinctSecrets(scope_ids=SCOPE_IDS, client_config=DEPLOYER)
    run_plan(project_dir, "dev", NOW, mocks=mocks)
    lookups = [args for token, args in mocks.invokes if token.endswith("getServicePrincipal")]
    assert lookups == [{"clientId": POWER_BI_APP}]


def test_a_scope_the_service_principal_does_not_publish_fails_the_deployment() -> None:
    with pytest.raises(MissingScopeError, match=r"does not publish delegated scope\(s\) Report\.Read\.All"):
        required_resource_accesses(POWER_BI, ("Dataset.Read.All", "Report.Read.All"), {"Dataset.Read.All": "x"})


def test_two_password_slots_with_end_dates_and_no_start_date(project_dir: Path) -> None:
    plan = run(project_dir)
    passwords = [r for r in plan.resources if r.type.endswith("ApplicationPassword")]
    assert [p.name for p in passwords] == ["powerbi-secret-0", "powerbi-secret-1"]
    # Default policy: anchor 2025-01-01, 90-day windows; 2026-11-29 is in window 7 (from 2026-09-23).
    assert [p.inputs["endDate"] for p in passwords] == ["2027-01-05T00:00:00Z", "2027-04-05T00:00:00Z"]
    assert [p.inputs["rotateWhenChanged"] for p in passwords] == [
        {"generation": "0", "window": "6", "windowStart": "2026-06-25"},
        {"generation": "0", "window": "7", "windowStart": "2026-09-23"},
    ]
    for password in passwords:
        assert "startDate" not in password.inputs
        assert "endDateRelative" not in password.inputs
        assert password.inputs["applicationId"] == "(known after deploy)"


def test_paragon_push_gets_the_active_secret_and_the_same_scopes(project_dir: Path) -> None:
    plan = run(project_dir)
    push = one(plan, "dynamic/paragon:OAuthCredential")
    assert push.name == "powerbi-paragon"
    assert push.inputs["integrationKey"] == "powerbi"
    assert push.inputs["projectId"] == "38b1f170-0c43-4eae-9a04-ab85325d99f7"
    assert push.inputs["clientId"] == "app-client-id"
    assert _is_secret(push.inputs["clientSecret"])
    assert push.inputs["clientSecret"]["value"] == "value-of-powerbi-secret-1"  # slot 1 holds window 7
    assert push.inputs["scopes"] == (
        "https://analysis.windows.net/powerbi/api/Dataset.Read.All "
        "https://analysis.windows.net/powerbi/api/Report.Read.All offline_access"
    )
    assert not any(key.lower().startswith("paragon") or "password" in key.lower() for key in push.inputs)


def test_the_push_is_verified_in_the_deploying_tenant_and_no_login_is_an_input(project_dir: Path) -> None:
    push = one(run(project_dir), "dynamic/paragon:OAuthCredential")
    assert push.inputs["tenantId"] == "tenant-1", "the deploying client config's tenant: the app's home tenant"
    assert push.inputs["verifyTimeoutSeconds"] == 120.0
    assert not any(k.lower().startswith(("arm", "azure", "login")) for k in push.inputs), "no Azure login as input"


def test_the_verify_window_comes_from_config(project_dir: Path, write_config: Callable[[str], Path]) -> None:
    path = write_config(VALID_CONFIG.replace("paragon:\n", "paragon:\n  verify_timeout_seconds: 30\n"))
    push = one(run(project_dir, config_file=path), "dynamic/paragon:OAuthCredential")
    assert push.inputs["verifyTimeoutSeconds"] == 30.0


def test_the_credential_waits_for_the_apps_home_tenant_service_principal(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider proves a new secret with a token request, which needs the service principal (AADSTS7000229)."""
    from provisioner.program import stack

    waits: list[list[str]] = []
    real = stack.OAuthCredential  # type: ignore[attr-defined]  # the name the program module uses

    def recording(name: str, args: Any, opts: pulumi.ResourceOptions | None = None) -> Any:
        depends = list(opts.depends_on or []) if opts is not None else []  # type: ignore[arg-type]
        waits.append([type(d).__name__ for d in depends])
        return real(name, args, opts)

    monkeypatch.setattr(stack, "OAuthCredential", recording)
    run(project_dir)
    assert waits == [["AppRegistration", "ServicePrincipal"]]


def test_outputs_and_secret_marked_secret(project_dir: Path) -> None:
    outputs = run(project_dir).outputs
    powerbi = outputs["integrations"]["powerbi"]
    assert powerbi["client_id"] == "app-client-id"
    assert powerbi["tenant_id"] == "tenant-1"
    assert powerbi["application_object_id"] == "app-object-id"
    assert powerbi["scopes"] == ["Dataset.Read.All", "Report.Read.All"]
    assert powerbi["secret_end_date"] == "2027-04-05T00:00:00Z"
    assert powerbi["admin_consent_url"] == (
        "https://login.microsoftonline.com/tenant-1/adminconsent?client_id=app-client-id"
    )
    assert powerbi["secret"]["active_slot"] == 1
    assert powerbi["secret"]["next_rotation"] == "2026-12-22T00:00:00Z"
    assert "secret_verified_at" in powerbi, "when Entra last accepted the pushed secret (known after deploy)"
    assert _is_secret(outputs["client_secrets"])
    assert outputs["client_secrets"]["value"] == {"powerbi": "value-of-powerbi-secret-1"}
    assert "value-of" not in repr(outputs["integrations"])


def test_crossing_a_window_boundary_replaces_exactly_one_slot(project_dir: Path) -> None:
    before = run(project_dir, datetime(2026, 12, 21, 23, 59, tzinfo=UTC))
    after = run(project_dir, datetime(2026, 12, 22, 0, 0, tzinfo=UTC))

    def keepers(plan: Plan) -> list[Any]:
        return [r.inputs["rotateWhenChanged"] for r in plan.resources if r.type.endswith("ApplicationPassword")]

    changed = [i for i, (a, b) in enumerate(zip(keepers(before), keepers(after), strict=True)) if a != b]
    assert changed == [0]
    assert one(before, "OAuthCredential").inputs["clientSecret"]["value"] == "value-of-powerbi-secret-1"
    assert one(after, "OAuthCredential").inputs["clientSecret"]["value"] == "value-of-powerbi-secret-0"


def test_same_window_gives_identical_inputs(project_dir: Path) -> None:
    first = run(project_dir, datetime(2026, 10, 1, tzinfo=UTC))
    second = run(project_dir, datetime(2026, 12, 21, tzinfo=UTC))
    assert [r.inputs for r in first.resources] == [r.inputs for r in second.resources]


def test_personal_audience_sets_access_token_version(project_dir: Path, write_config: Callable[[str], Path]) -> None:
    text = (
        VALID_CONFIG + "  outlook:\n    scopes: [User.Read]\n    sign_in_audience: AzureADandPersonalMicrosoftAccount\n"
    )
    app = one(run(project_dir, config_file=write_config(text)), "application:Application", "outlook-app")
    assert app.inputs["signInAudience"] == "AzureADandPersonalMicrosoftAccount"
    assert app.inputs["api"] == {"requestedAccessTokenVersion": 2}


def test_invalid_config_declares_nothing(project_dir: Path, write_config: Callable[[str], Path]) -> None:
    path = write_config(VALID_CONFIG.replace("scopes:", "scoeps:"))
    mocks = DistinctSecrets(scope_ids=SCOPE_IDS, client_config=DEPLOYER)
    with pytest.raises(pulumi.RunError, match=r"integrations\.powerbi\.scoeps: unknown key"):
        run_plan(project_dir, "dev", NOW, config_file=path, mocks=mocks)
    assert mocks.resources == []
    assert mocks.invokes == []
