"""Scope resolution in the program, under mocks: Graph IDs from the data with no lookup, one service-principal
lookup per resource API per run, scope order that changes nothing, and qualified Dataverse scopes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from provisioner.catalog import CATALOG, GRAPH_DELEGATED_SCOPE_IDS, MICROSOFT_GRAPH_APP_ID
from provisioner.cli.plan import RecordingMocks, plan_json, run_plan

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
HEAD = "paragon:\n  project_id: 38b1f170-0c43-4eae-9a04-ab85325d99f7\nintegrations:\n"
EXAMPLE = Path("config/examples/all-integrations.yaml")
LOOKUP = "azuread:index/getServicePrincipal:getServicePrincipal"


def lookups(mocks: RecordingMocks) -> list[str]:
    return [str(args["clientId"]) for token, args in mocks.invokes if token == LOOKUP]


def test_every_integration_costs_one_lookup_per_non_graph_resource_api_and_none_for_graph(project_dir: Path) -> None:
    mocks = RecordingMocks()
    run_plan(project_dir, "dev", NOW, config_file=project_dir / EXAMPLE, mocks=mocks)
    expected = sorted({e.resource_app_id for e in CATALOG.values() if not e.resource_is_graph})
    assert sorted(lookups(mocks)) == expected, "one invoke per resource API; Graph IDs come from the data"


def test_many_integrations_on_one_resource_api_share_one_lookup(project_dir: Path, write_config: Any) -> None:
    # Six Graph integrations with a name outside the data need Graph's service principal: asked once.
    text = HEAD + "".join(
        f"  {key}:\n    scopes: [User.Read, Not.In.The.Data]\n"
        for key in ("outlook", "onedrive", "excel", "onenote", "sharepoint", "microsoftTeams")
    )
    text += "  powerbi: {}\n"
    published = {
        MICROSOFT_GRAPH_APP_ID: {"Not.In.The.Data": "0b7643bb-5336-476f-80b5-18fbfbc91806"},
        "00000009-0000-0000-c000-000000000000": {"Dataset.Read.All": "d1", "Report.Read.All": "r1"},
    }
    mocks = RecordingMocks(scope_ids=published)
    plan = run_plan(project_dir, "dev", NOW, config_file=write_config(text), mocks=mocks)
    assert sorted(lookups(mocks)) == sorted(published)
    app = next(r for r in plan.resources if r.name == "outlook-app")
    [graph] = app.inputs["requiredResourceAccesses"]
    ids = [a["id"] for a in graph["resourceAccesses"]]
    assert ids == [
        "0b7643bb-5336-476f-80b5-18fbfbc91806",
        GRAPH_DELEGATED_SCOPE_IDS["User.Read"],
        GRAPH_DELEGATED_SCOPE_IDS["offline_access"],
    ], "names sorted (Not.In.The.Data, User.Read), then the OpenID scopes; data IDs and looked-up IDs together"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "[Mail.Read, Calendars.Read, User.Read, offline_access]",
            "[offline_access, User.Read, Calendars.Read, Mail.Read]",
        ),
        ("[Dataset.Read.All, Report.Read.All]", "[Report.Read.All, Dataset.Read.All]"),
    ],
    ids=["graph", "power-bi"],
)
def test_reordering_scopes_changes_nothing_in_the_plan(
    project_dir: Path, write_config: Any, first: str, second: str
) -> None:
    key = "outlook" if "Mail" in first else "powerbi"
    text = HEAD + f"  {key}:\n    scopes: {{}}\n  onedrive:\n    app: {key}\n"
    if key == "powerbi":
        text = HEAD + f"  {key}:\n    scopes: {{}}\n"
    plans = []
    for scopes in (first, second):
        path = write_config(text.format(scopes))
        plans.append(plan_json(run_plan(project_dir, "dev", NOW, config_file=path, mocks=RecordingMocks())))
    assert plans[0] == plans[1], "the app, the Paragon credential and the outputs are the same"


def test_dataverse_scopes_are_qualified_with_the_organization_url(project_dir: Path, write_config: Any) -> None:
    text = (
        HEAD + "  microsoftDynamics:\n    paragon_values:\n      organizationUrl: https://contoso.crm4.dynamics.com\n"
    )
    plan = run_plan(project_dir, "dev", NOW, config_file=write_config(text), mocks=RecordingMocks())
    push = next(r for r in plan.resources if r.name == "microsoftDynamics-paragon")
    assert push.inputs["scopes"] == "https://contoso.crm4.dynamics.com/user_impersonation offline_access"
    bare = text + "    paragon_scope_format: bare\n"
    plan = run_plan(project_dir, "dev", NOW, config_file=write_config(bare), mocks=RecordingMocks())
    push = next(r for r in plan.resources if r.name == "microsoftDynamics-paragon")
    assert push.inputs["scopes"] == "user_impersonation offline_access", "paragon_scope_format overrides"


def test_outputs_list_the_scopes_needing_admin_consent_beside_the_consent_url(
    project_dir: Path, write_config: Any
) -> None:
    text = HEAD + "  sharepoint: {}\n  outlook:\n    scopes: [Mail.Read, User.Read.All]\n  powerbi: {}\n"
    plan = run_plan(project_dir, "dev", NOW, config_file=write_config(text), mocks=RecordingMocks())
    outputs = plan.outputs["integrations"]
    assert outputs["sharepoint"]["admin_consent_scopes"] == ["Files.Read.All", "Sites.Read.All"]
    assert outputs["outlook"]["admin_consent_scopes"] == ["User.Read.All"]
    assert outputs["powerbi"]["admin_consent_scopes"] == []
    assert all("admin_consent_url" in o for o in outputs.values())
