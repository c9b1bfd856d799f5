"""The integration catalog: its listing, its config rules (defaults, audiences, sharing, extras), and one stack
holding every integration, planned under mocks and pushed to the Paragon fake."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pulumi
import pytest
from paragon_fake import LIST, LOGIN, MICROSOFT_INTEGRATION_TYPES, PUT, FakeParagon
from pydantic import SecretStr, ValidationError
from typer.testing import CliRunner

from provisioner.catalog import (
    ALL_AUDIENCES,
    CATALOG,
    GRAPH_DELEGATED_SCOPE_IDS,
    OUTLOOK,
    PERSONAL_ACCOUNTS,
    CatalogEntry,
)
from provisioner.cli.app import app
from provisioner.cli.catalog_report import catalog_markdown
from provisioner.cli.plan import Plan, RecordingMocks, _secret, plan_json, run_plan
from provisioner.cli.status import Health, assess
from provisioner.config import APP_LEVEL_KEYS, load_config
from provisioner.errors import ConfigError
from provisioner.paragon import resource
from provisioner.paragon.client import SessionCache
from provisioner.paragon.login import ENV_EMAIL, ENV_PASSWORD
from provisioner.paragon.models import OAuthCredentialUpsert, OAuthCredentialValues
from provisioner.paragon.resource import ParagonCredentialProvider, secret_fingerprint

Writer = Callable[..., Path]
runner = CliRunner()
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
PROJECT = "38b1f170-0c43-4eae-9a04-ab85325d99f7"
HEAD = f"paragon:\n  project_id: {PROJECT}\nintegrations:\n"
EXAMPLE = Path("config/examples/all-integrations.yaml")
EMAIL, PASSWORD = "admin@example.com", "pw-for-tests"

# What the issue asks for, written out (not read from the catalog): key -> resource API application ID.
EXPECTED_APP_IDS = {
    "powerbi": "00000009-0000-0000-c000-000000000000",
    "outlook": "00000003-0000-0000-c000-000000000000",
    "microsoftTeams": "00000003-0000-0000-c000-000000000000",
    "sharepoint": "00000003-0000-0000-c000-000000000000",
    "onedrive": "00000003-0000-0000-c000-000000000000",
    "onenote": "00000003-0000-0000-c000-000000000000",
    "excel": "00000003-0000-0000-c000-000000000000",
    "microsoftDynamics": "00000007-0000-0000-c000-000000000000",
    "dynamicsbusinesscentral": "996def3d-b36c-4153-8607-a6fd3c01b89f",
    "dynamicsfinance": "00000015-0000-0000-c000-000000000000",
    "azuredevops": "499b84ac-1321-427f-aa17-267ca6975798",
}


def problems_of(path: Path) -> list[str]:
    """The errors that refuse the file (warnings, such as consent notes, left out)."""
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(p) for p in caught.value.records if p.severity == "error"]


# --- the listing -----------------------------------------------------------------------------------------


def test_catalog_json_lists_every_integration_with_its_resource_api() -> None:
    result = runner.invoke(app, ["catalog", "--format", "json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)
    assert {e["key"]: e["resource_app_id"] for e in entries} == EXPECTED_APP_IDS
    for e in entries:
        assert {"title", "scopes", "default_scopes", "sign_in_audiences", "sources"} <= set(e)
        assert set(e["default_scopes"]) <= set(e["scopes"]), e["key"]
        assert any("https://" in s for s in e["sources"]), f"{e['key']} names no source document"
    dynamics = next(e for e in entries if e["key"] == "microsoftDynamics")
    assert dynamics["scopes"] == ["user_impersonation"] and dynamics["sign_in_audiences"] == [
        "AzureADMultipleOrgs",
        "AzureADMyOrg",
    ]


def test_catalog_text_shows_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    result = runner.invoke(app, ["catalog"])
    assert result.exit_code == 0
    assert all(key in result.output for key in CATALOG)


def test_docs_integrations_md_is_generated_from_the_catalog(project_dir: Path) -> None:
    on_disk = (project_dir / "docs" / "integrations.md").read_text(encoding="utf-8")
    assert on_disk == catalog_markdown(), "run: python -m provisioner catalog --format markdown > docs/integrations.md"
    assert runner.invoke(app, ["catalog", "--format", "markdown"]).output == on_disk
    assert all(f"| `{key}` |" in on_disk for key in CATALOG)


def test_the_fake_knows_every_catalog_key() -> None:
    assert sorted(MICROSOFT_INTEGRATION_TYPES) == sorted(CATALOG)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"default_scopes": ("Nope.Read",)}, "default scopes"),
        ({"default_scopes": ()}, "default scopes"),
        ({"sign_in_audiences": frozenset({"Everyone"})}, "sign-in audiences"),
        ({"personal_account_scopes": frozenset({"Nope.Read"})}, "personal-account"),
    ],
)
def test_a_malformed_entry_is_refused_when_the_catalog_loads(change: dict[str, Any], reason: str) -> None:
    fields = {name: getattr(OUTLOOK, name) for name in OUTLOOK.__dataclass_fields__}
    with pytest.raises(ValueError, match=reason):
        CatalogEntry(**{**fields, **change})


# --- defaults and audiences ------------------------------------------------------------------------------


def test_no_scopes_means_the_entry_default_set(write_config: Writer) -> None:
    config = load_config(write_config(HEAD + "  outlook: {}\n  powerbi:\n    scopes: [Dataset.Read.All]\n"))
    assert config.integrations["outlook"].scopes is None
    assert config.scopes("outlook") == ("Mail.Read", "Calendars.Read", "User.Read")
    assert config.scopes("powerbi") == ("Dataset.Read.All",), "scopes: still wins"


def test_an_empty_scopes_list_is_refused(write_config: Writer) -> None:
    [problem] = problems_of(write_config(HEAD + "  outlook:\n    scopes: []\n"))
    assert "integrations.outlook.scopes: is an empty list. Fix: list at least one permission" in problem


def _audience_cases() -> Iterator[Any]:
    for entry in CATALOG.values():
        for audience in sorted(ALL_AUDIENCES):
            yield pytest.param(entry, audience, id=f"{entry.key}-{audience}")


@pytest.mark.parametrize(("entry", "audience"), list(_audience_cases()))
def test_each_entry_accepts_exactly_its_audiences(write_config: Writer, entry: CatalogEntry, audience: str) -> None:
    scopes = sorted(entry.personal_account_scopes) if audience in PERSONAL_ACCOUNTS else list(entry.default_scopes)
    text = HEAD + f"  {entry.key}:\n    scopes: [{', '.join(scopes) or entry.default_scopes[0]}]\n"
    path = write_config(text + f"    sign_in_audience: {audience}\n")
    if audience in entry.sign_in_audiences:
        assert load_config(path).app_settings(entry.key).sign_in_audience == audience
    else:
        [problem] = problems_of(path)
        assert problem.startswith(f"{path}:6: integrations.{entry.key}.sign_in_audience: ")
        assert entry.audience_reason in problem and "Fix: use one of AzureADMultipleOrgs, AzureADMyOrg" in problem


@pytest.mark.parametrize(
    ("key", "scope"),
    [("onenote", "Notes.Read.All"), ("onenote", "Notes.ReadWrite.All")],
)
def test_a_work_only_graph_scope_is_refused_for_personal_accounts(write_config: Writer, key: str, scope: str) -> None:
    path = write_config(
        HEAD
        + f"  {key}:\n    scopes: [Notes.Read, {scope}]\n    sign_in_audience: AzureADandPersonalMicrosoftAccount\n"
    )
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:5: integrations.{key}.scopes[1]: '{scope}' does not work for personal")


def test_qualified_scopes_need_the_environment_url_where_the_resource_uri_is_per_environment(
    write_config: Writer,
) -> None:
    path = write_config(HEAD + "  microsoftDynamics:\n    paragon_scope_format: qualified\n")
    [problem] = problems_of(path)
    assert "integrations.microsoftDynamics.paragon_scope_format: " in problem and "is not set" in problem
    assert "Fix: add `paragon_values: {organizationUrl: https://contoso.crm.dynamics.com}`" in problem


def test_a_graph_scope_on_a_non_graph_integration_names_the_reason(write_config: Writer) -> None:
    [problem] = problems_of(write_config(HEAD + "  azuredevops:\n    scopes: [vso.work, Mail.Read]\n"))
    assert "'Mail.Read' is a Microsoft Graph permission" in problem and "AADSTS28000" in problem


# --- paragon_values ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ("{clientId: x}", "set by the provisioner itself"),
        ("{ClientSecret: x}", "secrets never go in this file"),
        ("{scopes: x}", "set by the provisioner itself"),
        ("{botClientSecret: x}", "secrets never go in this file"),
        ("{apiKey: x}", "secrets never go in this file"),
        ("{botPassword: x}", "secrets never go in this file"),
        ("{accessToken: x}", "secrets never go in this file"),
        ("{'has space': x}", "not a plain name"),
        ("{botId: 12}", "expected text but YAML read a number"),
    ],
)
def test_bad_paragon_values_are_refused(write_config: Writer, values: str, fragment: str) -> None:
    path = write_config(HEAD + f"  microsoftTeams:\n    paragon_values: {values}\n")
    [problem] = problems_of(path)
    assert "integrations.microsoftTeams.paragon_values" in problem and fragment in problem
    assert "Fix:" in problem


# --- sharing one app -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("  onedrive:\n    app: outlok\n  outlook: {}\n", "onedrive.app", "is not an integration in this file"),
        ("  onedrive:\n    app: onedrive\n", "onedrive.app", "cannot share its own app"),
        (
            "  outlook: {}\n  excel:\n    app: outlook\n  onedrive:\n    app: excel\n",
            "onedrive.app",
            "sharing does not chain. Fix: write `app: outlook`",
        ),
        ("  powerbi: {}\n  onedrive:\n    app: powerbi\n", "onedrive.app", "AADSTS28000"),
        (
            "  sharepoint: {}\n  onedrive:\n    app: sharepoint\n  outlook:\n    app: sharepoint\n",
            "",
            "",
        ),
    ],
    ids=["unknown-target", "itself", "chained", "other-resource-api", "valid"],
)
def test_app_sharing_rules(write_config: Writer, text: str, where: str, fragment: str) -> None:
    path = write_config(HEAD + text)
    if not fragment:
        config = load_config(path)
        assert config.app_scopes("sharepoint") == (
            "Sites.Read.All",
            "Files.Read.All",
            "User.Read",
            "Files.Read",
            "Mail.Read",
            "Calendars.Read",
        ), "the shared app requests the union, in order"
        return
    [problem] = problems_of(path)
    assert f"integrations.{where}: " in problem and fragment in problem


@pytest.mark.parametrize("setting", APP_LEVEL_KEYS)
def test_a_sharing_integration_sets_no_app_level_setting(write_config: Writer, setting: str) -> None:
    value = {
        "display_name": "X",
        "sign_in_audience": "AzureADMyOrg",
        "requested_access_token_version": "2",
        "owners": "[11111111-2222-3333-4444-555555555555]",
        "secret": "{rotation_days: 30}",
        "client_id": "7d3c7a0e-52f4-4d0c-9a3e-5e1f9d1b2c3a",
        "extra_redirect_uris": "[https://app.contoso.example/auth/callback]",
    }[setting]
    path = write_config(HEAD + f"  outlook: {{}}\n  onedrive:\n    app: outlook\n    {setting}: {value}\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:7: integrations.onedrive.{setting}: onedrive shares the app of 'outlook'")
    assert problem.endswith("Fix: remove it here (set it on integrations.outlook)")


def test_sharing_with_a_work_only_integration_checks_the_shared_audience(write_config: Writer) -> None:
    text = "  outlook:\n    sign_in_audience: AzureADandPersonalMicrosoftAccount\n  sharepoint:\n    app: outlook\n"
    [problem] = problems_of(write_config(HEAD + text))
    assert "integrations.outlook.sign_in_audience: SharePoint does not accept" in problem
    assert "(the audience of outlook's app, which sharepoint shares)" in problem


class Deployed(RecordingMocks):
    """Apps get client IDs from their names and passwords distinct secrets, as after a deployment."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        if args.typ.endswith("ApplicationPassword"):
            state["value"] = _secret(f"value-of-{args.name}")
        if args.typ.endswith("application:Application"):
            state.update(clientId=f"client-of-{args.name}", objectId=f"object-of-{args.name}")
        return resource_id, state


def plan_of(project_dir: Path, config_file: Path) -> Plan:
    return run_plan(project_dir, "dev", NOW, config_file=config_file, mocks=Deployed())


def by_name(plan: Plan) -> dict[str, dict[str, Any]]:
    return {r.name: r.inputs for r in plan.resources}


def test_shared_app_is_one_registration_with_the_union_and_one_secret_for_both(
    project_dir: Path, write_config: Writer
) -> None:
    path = write_config(HEAD + "  outlook: {}\n  onedrive:\n    app: outlook\n    scopes: [Files.Read]\n")
    plan = plan_of(project_dir, path)
    resources = by_name(plan)
    apps = [r for r in plan.resources if r.type.endswith("application:Application")]
    assert [a.name for a in apps] == ["outlook-app"] and "onedrive-secret-0" not in resources
    assert apps[0].inputs["displayName"] == "Paragon Outlook + OneDrive (dev)"
    [graph] = apps[0].inputs["requiredResourceAccesses"]
    requested = {access["id"] for access in graph["resourceAccesses"]}
    expected = {GRAPH_DELEGATED_SCOPE_IDS[n] for n in ("Mail.Read", "Calendars.Read", "User.Read", "Files.Read")}
    assert expected <= requested, "the shared app requests both integrations' scopes (Graph IDs from the data)"
    outlook, onedrive = resources["outlook-paragon"], resources["onedrive-paragon"]
    assert outlook["clientId"] == onedrive["clientId"] == "client-of-outlook-app"
    assert outlook["clientSecret"] == onedrive["clientSecret"] == _secret("value-of-outlook-secret-1")
    assert "value-of-" not in plan_json(plan), "the shared secret stays secret in the plan and the outputs"
    assert onedrive["scopes"] == "Files.Read offline_access", "each credential keeps its own scopes"
    assert outlook["scopes"] == "Calendars.Read Mail.Read User.Read offline_access", "sorted: order is no change"
    assert plan.outputs["integrations"]["onedrive"]["app"] == "outlook"


# --- one stack with every integration ----------------------------------------------------------------------------


def test_the_all_integrations_example_validates_and_plans(project_dir: Path) -> None:
    result = runner.invoke(app, ["validate", str(project_dir / EXAMPLE)])
    assert result.exit_code == 0, result.output
    config = load_config(project_dir / EXAMPLE)
    assert sorted(config.integrations) == sorted(CATALOG)
    assert all(i.scopes is None for i in config.integrations.values()), "every integration on its defaults"
    plan = plan_of(project_dir, project_dir / EXAMPLE)
    resources = by_name(plan)
    for key, entry in CATALOG.items():
        app_inputs = resources[f"{key}-app"]
        assert app_inputs["requiredResourceAccesses"][0]["resourceAppId"] == entry.resource_app_id
        assert plan.outputs["integrations"][key]["scopes"] == sorted(entry.default_scopes), "the plan shows defaults"
    assert resources["microsoftDynamics-paragon"]["extraValues"] == {
        "organizationUrl": "https://contoso.crm.dynamics.com"
    }
    assert "extraValues" not in resources["outlook-paragon"], "no extras, no input (old state stays unchanged)"
    assert sum(r.type.endswith("OAuthCredential") for r in plan.resources) == len(CATALOG)


def test_plan_cli_shows_default_scopes_for_the_example(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project_dir)
    result = runner.invoke(app, ["plan", "--config", str(EXAMPLE), "--format", "json", "--at", "2026-11-29"])
    assert result.exit_code == 0, result.output
    outputs = json.loads(result.output)["outputs"]["integrations"]
    assert outputs["azuredevops"]["scopes"] == ["vso.profile", "vso.project", "vso.work"]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeParagon]:
    monkeypatch.setenv(ENV_EMAIL, EMAIL)
    monkeypatch.setenv(ENV_PASSWORD, PASSWORD)
    with FakeParagon() as server:
        server.add_user(EMAIL, PASSWORD)
        server.add_project(PROJECT)
        yield server
    assert server.server_errors == []


def provider_inputs(plan: Plan, base_url: str, secret_suffix: str = "") -> dict[str, dict[str, Any]]:
    """Each credential's planned inputs as the provider process gets them after Entra has answered."""
    pushed: dict[str, dict[str, Any]] = {}
    for r in plan.resources:
        if r.type.endswith("OAuthCredential"):
            props = {k: v for k, v in r.inputs.items() if v is not None}
            key = props["integrationKey"]
            props.update(baseUrl=base_url, clientId=f"client-{key}", clientSecret=f"secret-{key}{secret_suffix}")
            props.update(verifyTimeoutSeconds=0)  # Paragon's side only: Entra's is tests/test_engine_verify.py
            pushed[key] = props
    return pushed


def counts(fake: FakeParagon) -> tuple[int, int, int]:
    return fake.count("POST", LOGIN), fake.count("GET", LIST), fake.count("PUT", PUT)


@pytest.mark.usefixtures("no_ca_bundle", "fresh_provider_process")
def test_every_integration_pushes_with_one_login_one_list_and_k_puts(
    project_dir: Path, fake: FakeParagon, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = fake.add_microsoft_integrations(PROJECT)
    plan = plan_of(project_dir, project_dir / EXAMPLE)
    provider = ParagonCredentialProvider()

    first = provider_inputs(plan, fake.url)
    state = {}
    for key, props in first.items():
        assert provider.check({}, props).failures == []
        created = provider.create(props)
        assert created.outs is not None
        state[key] = created.outs
    assert counts(fake) == (1, 1, len(CATALOG)) and len(fake.requests) == 2 * len(CATALOG) + 2, "each PUT is read back"
    for key, iid in ids.items():
        stored = fake.credential_for(PROJECT, iid)
        assert stored is not None and stored["provider"] == key
        assert stored["values"]["clientSecret"] == f"secret-{key}"
        assert stored["values"]["scopes"] == first[key]["scopes"]
    assert fake.credential_for(PROJECT, ids["dynamicsbusinesscentral"])["values"] == {  # type: ignore[index]
        "clientId": "client-dynamicsbusinesscentral",
        "clientSecret": "secret-dynamicsbusinesscentral",
        "scopes": "https://api.businesscentral.dynamics.com/Financials.ReadWrite.All offline_access",
        "environment": "production",
    }

    # The next run, a fresh provider process: three integrations got a new secret, the rest are unchanged.
    monkeypatch.setattr(resource, "PROCESS_SESSIONS", SessionCache())
    fake.reset_log()
    rotated = {"outlook", "microsoftDynamics", "azuredevops"}
    second = {k: {**p, "clientSecret": p["clientSecret"] + ("-2" if k in rotated else "")} for k, p in first.items()}
    changed = [k for k, p in second.items() if provider.diff(state[k]["credentialId"], state[k], p).changes]
    assert sorted(changed) == sorted(rotated) and fake.requests == [], "diff is local"
    for key in changed:
        provider.update(state[key]["credentialId"], state[key], second[key])
    assert counts(fake) == (1, 1, len(rotated)) and len(fake.requests) == 2 * len(rotated) + 2
    assert fake.credential_for(PROJECT, ids["outlook"])["values"]["clientSecret"] == "secret-outlook-2"  # type: ignore[index]


@pytest.mark.usefixtures("no_ca_bundle", "fresh_provider_process")
def test_changed_extra_values_are_an_update_and_refresh_reads_them_back(fake: FakeParagon) -> None:
    iid = fake.add_integration(PROJECT, "microsoftDynamics")
    provider = ParagonCredentialProvider()
    props = {
        "projectId": PROJECT,
        "integrationKey": "microsoftDynamics",
        "baseUrl": fake.url,
        "credentialName": "Dynamics (dev)",
        "clientId": "client-1",
        "clientSecret": "secret-1",
        "scopes": "user_impersonation offline_access",
        "extraValues": {"organizationUrl": "https://a.crm.dynamics.com"},
    }
    outs = provider.create(props).outs
    assert outs is not None and outs["secretFingerprint"] == secret_fingerprint("secret-1")
    moved = {**props, "extraValues": {"organizationUrl": "https://b.crm.dynamics.com"}}
    assert provider.diff("c", outs, props).changes is False
    assert provider.diff("c", outs, moved).changes is True
    outs = provider.update("c", outs, moved).outs
    assert fake.credential_for(PROJECT, iid)["values"]["organizationUrl"] == "https://b.crm.dynamics.com"  # type: ignore[index]
    stored = fake.credential_for(PROJECT, iid)
    assert stored is not None
    fake.credentials[stored["id"]]["values"]["organizationUrl"] = "https://drifted.example.com"
    read = provider.read(stored["id"], outs or {})
    assert read.outs is not None and read.outs["extraValues"] == {"organizationUrl": "https://drifted.example.com"}


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"clientSecret": "x"}, "may not set clientSecret"),
        ({"scopes": "x"}, "may not set scopes"),
        ({"organizationUrl": 3}, "map names to strings"),
        (["organizationUrl"], "map names to strings"),
    ],
)
def test_check_refuses_bad_extra_values(extra: Any, reason: str) -> None:
    props = {"extraValues": extra}
    failures = ParagonCredentialProvider().check({}, props).failures
    assert any(f.property == "extraValues" and reason in f.reason for f in failures)


def test_status_judges_a_sharing_integration_by_the_shared_app_policy(project_dir: Path, write_config: Writer) -> None:
    text = "  outlook:\n    secret: {rotation_days: 30, grace_days: 5}\n  onedrive:\n    app: outlook\n"
    path = write_config(HEAD + text)
    outputs = plan_of(project_dir, path).outputs
    config = load_config(path)
    reports = {r.integration: r for r in assess(outputs, config, NOW, warn_days=10)}
    assert reports["onedrive"].health is Health.HEALTHY
    assert reports["onedrive"].end_date == reports["outlook"].end_date
    # Judged by onedrive's own (default, 90-day) policy, the 30-day windows in the outputs would look overdue at
    # once; judged by the shared app's policy they are healthy now and fall overdue together with outlook's.
    later = {r.integration: r.health for r in assess(outputs, config, NOW + timedelta(days=31), warn_days=1)}
    assert later == {"outlook": Health.OVERDUE, "onedrive": Health.OVERDUE}


def test_upsert_body_merges_extra_values_beside_the_three_and_refuses_reserved_keys() -> None:
    values = OAuthCredentialValues(
        client_id="c", client_secret=SecretStr("s"), scopes="x", extra_values={"environment": "production"}
    )
    body = OAuthCredentialUpsert(name="n", provider="dynamicsbusinesscentral", integration_id="i", values=values)
    assert body.wire()["values"] == {"environment": "production", "clientId": "c", "clientSecret": "s", "scopes": "x"}
    assert "production" in repr(body) and "'s'" not in repr(body), "the secret stays out of reprs"
    with pytest.raises(ValidationError, match="may not set clientSecret"):
        OAuthCredentialValues(
            client_id="c", client_secret=SecretStr("s"), scopes="x", extra_values={"clientSecret": "t"}
        )
