"""Scopes as config sees them: every published scope accepted, suggestions never broader than the name, one
answer for `.default`, consent warnings, organization/environment URLs, and the catalog views of all that."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provisioner.catalog import (
    AZURE_DEVOPS_APP_ID,
    CATALOG,
    MICROSOFT_GRAPH_APP_ID,
    POWER_BI_APP_ID,
    consent_need,
    narrower_suggestions,
    resource_permissions,
)
from provisioner.catalog.suggest import breadth, not_broader
from provisioner.cli.app import app
from provisioner.config import load_config_report
from provisioner.errors import ConfigError, Problem

Writer = Callable[..., Path]
runner = CliRunner()
HEAD = "paragon:\n  project_id: 38b1f170-0c43-4eae-9a04-ab85325d99f7\nintegrations:\n"


def report(path: Path) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of a config file; the owners warning of a config without ``scheduled_deployer``
    (docs/owners.md, tested in tests/test_owners.py) is left out, so each case sees only its own."""
    try:
        loaded = load_config_report(path)
    except ConfigError as err:
        records = err.records
    else:
        records = list(loaded.warnings)
    records = [p for p in records if p.key != "scheduled_deployer"]
    return [p for p in records if p.severity == "error"], [p for p in records if p.severity == "warning"]


def one_scope(write_config: Writer, key: str, scope: str, extra: str = "") -> tuple[list[Problem], list[Problem]]:
    return report(write_config(HEAD + f"  {key}:\n    scopes: ['{scope}']\n{extra}"))


# --- published scopes are accepted -------------------------------------------------------------------------

GRAPH_NAMES = {
    "mail": [
        "Mail.Read",
        "Mail.ReadBasic",
        "Mail.ReadWrite",
        "Mail.Send",
        "Mail.Read.Shared",
        "Mail.ReadWrite.Shared",
        "Mail.Send.Shared",
        "MailboxSettings.Read",
        "MailboxSettings.ReadWrite",
    ],
    "files": [
        "Files.Read",
        "Files.Read.All",
        "Files.ReadWrite",
        "Files.ReadWrite.All",
        "Files.ReadWrite.AppFolder",
        "Files.Read.Selected",
        "Files.ReadWrite.Selected",
    ],
    "sites": ["Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All", "Sites.Selected"],
    "chat": [
        "Chat.Create",
        "Chat.Read",
        "Chat.ReadBasic",
        "Chat.ReadWrite",
        "ChatMessage.Send",
        "ChannelMessage.Send",
        "ChannelMessage.Read.All",
        "Channel.ReadBasic.All",
        "ChannelMember.Read.All",
        "Team.ReadBasic.All",
        "TeamMember.Read.All",
    ],
    "people": ["People.Read", "People.Read.All", "User.Read", "User.ReadBasic.All", "User.Read.All", "Contacts.Read"],
    "presence": ["Presence.Read", "Presence.Read.All", "Presence.ReadWrite"],
    "calendars": [
        "Calendars.Read",
        "Calendars.ReadBasic",
        "Calendars.ReadWrite",
        "Calendars.Read.Shared",
        "Calendars.ReadWrite.Shared",
        "OnlineMeetings.Read",
        "OnlineMeetings.ReadWrite",
    ],
    "tasks": ["Tasks.Read", "Tasks.ReadWrite", "Tasks.Read.Shared", "Tasks.ReadWrite.Shared", "Notes.Read"],
}
ALL_GRAPH_NAMES = [name for names in GRAPH_NAMES.values() for name in names]


def test_the_graph_table_covers_at_least_fifty_names_across_the_kinds() -> None:
    assert len(set(ALL_GRAPH_NAMES)) >= 50
    graph = resource_permissions(MICROSOFT_GRAPH_APP_ID)
    assert graph is not None and set(ALL_GRAPH_NAMES) <= set(graph.scopes), "each is in Microsoft's data"


@pytest.mark.parametrize("scope", ALL_GRAPH_NAMES)
def test_published_graph_scopes_validate_without_an_unknown_name_warning(write_config: Writer, scope: str) -> None:
    errors, warnings = one_scope(write_config, "outlook", scope)
    assert errors == []
    assert not [w for w in warnings if "not a known" in w.message], warnings


AZURE_DEVOPS_NAMES = sorted(resource_permissions(AZURE_DEVOPS_APP_ID).scopes)  # type: ignore[union-attr]


@pytest.mark.parametrize("scope", AZURE_DEVOPS_NAMES)
def test_every_azure_devops_scope_microsoft_lists_validates(write_config: Writer, scope: str) -> None:
    errors, warnings = one_scope(write_config, "azuredevops", scope)
    assert errors == [] and warnings == []


@pytest.mark.parametrize(
    "scope",
    ["Item.Read.All", "Item.ReadWrite.All", "Connection.ReadWrite.All", "Gateway.Read.All", "Workspace.Read.All"],
)
def test_fabric_scopes_on_the_power_bi_resource_validate(write_config: Writer, scope: str) -> None:
    errors, warnings = one_scope(write_config, "powerbi", scope)
    assert errors == [] and warnings == []


# --- unknown names and misspellings ------------------------------------------------------------------------

MISSPELLINGS = [
    # (integration, typo, the suggestion expected first, names that must never be offered)
    ("outlook", "Mail.Raed", "Mail.Read", {"Mail.ReadWrite", "Mail.ReadWrite.Shared"}),
    ("outlook", "Mail.Sned", "Mail.Send", {"Mail.Send.Shared"}),
    ("outlook", "Calendar.Read", "Calendars.Read", {"Calendars.ReadWrite", "Calendars.Read.Shared"}),
    ("outlook", "Tasks.Raed", "Tasks.Read", {"Tasks.ReadWrite", "Tasks.Read.Shared"}),
    ("outlook", "Peple.Read", "People.Read", {"People.Read.All"}),
    ("onedrive", "Files.Raed", "Files.Read", {"Files.Read.All", "Files.ReadWrite", "Files.ReadWrite.All"}),
    ("onedrive", "Files.Read.Al", "Files.Read.All", {"Files.ReadWrite.All"}),
    ("onedrive", "Files.ReadWrit", "Files.ReadWrite", {"Files.ReadWrite.All"}),
    (
        "sharepoint",
        "Sites.Reed.All",
        "Sites.Read.All",
        {"Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"},
    ),
    ("sharepoint", "Sites.Selcted", "Sites.Selected", {"Sites.Read.All", "Sites.FullControl.All"}),
    ("microsoftTeams", "Chat.Reed", "Chat.Read", {"Chat.ReadWrite", "Chat.Read.All", "Chat.ReadWrite.All"}),
    ("microsoftTeams", "Presense.Read", "Presence.Read", {"Presence.Read.All", "Presence.ReadWrite"}),
    ("microsoftTeams", "Teams.ReadBasic.All", "Team.ReadBasic.All", {"Team.ReadWrite.All"}),
    ("powerbi", "Dataset.Reed.All", "Dataset.Read.All", {"Dataset.ReadWrite.All", "Tenant.Read.All"}),
    ("powerbi", "Report.Read.Al", "Report.Read.All", {"Report.ReadWrite.All", "Tenant.Read.All"}),
    ("azuredevops", "vso.cod", "vso.code", {"vso.code_write", "vso.code_manage", "vso.code_full"}),
    ("azuredevops", "vso.code_wrte", "vso.code_write", {"vso.code_manage", "vso.code_full"}),
    ("azuredevops", "vso.projct", "vso.project", {"vso.project_write", "vso.project_manage"}),
    ("azuredevops", "vso.wrk", "vso.work", {"vso.work_write", "vso.work_full"}),
]


@pytest.mark.parametrize(("key", "typo", "first", "never"), MISSPELLINGS, ids=[m[1] for m in MISSPELLINGS])
def test_misspellings_get_suggestions_never_broader_than_the_name(
    write_config: Writer, key: str, typo: str, first: str, never: set[str]
) -> None:
    entry = CATALOG[key]
    data = resource_permissions(entry.resource_app_id)
    candidates = set(data.scopes) if data else set(entry.delegated_scopes)
    offered = narrower_suggestions(typo, candidates | entry.delegated_scopes)
    assert offered and offered[0] == first, offered
    assert not set(offered) & never, f"{typo}: offered broader access {set(offered) & never}"
    assert all(not_broader(name, typo) for name in offered)
    assert set(offered) <= candidates | entry.delegated_scopes, "suggestions come from the same resource"
    errors, warnings = one_scope(write_config, key, typo)
    [line] = [p for p in errors + warnings if "not a known" in p.message]
    assert line.severity == ("error" if data is not None and data.complete else "warning")
    assert line.fix.startswith(f"did you mean {first!r}")
    assert not any(repr(n) in line.fix for n in never)


@pytest.mark.parametrize(
    ("name", "rank"),
    [
        ("Files.Read", (1, 0)),
        ("Files.Read.All", (1, 2)),
        ("Files.ReadWrite.All", (2, 2)),
        ("Mail.Send.Shared", (2, 1)),
        ("Sites.FullControl.All", (4, 2)),
        ("Sites.Manage.All", (3, 2)),
        ("Tenant.Read.All", (1, 3)),
        ("vso.code", (1, 0)),
        ("vso.code_manage", (3, 0)),
        ("vso.work_full", (4, 0)),
        ("Team.ReadBasic.All", (0, 2)),
    ],
)
def test_breadth_ranks_what_a_scope_allows_and_over_what(name: str, rank: tuple[int, int]) -> None:
    assert breadth(name) == rank


def test_an_unknown_name_on_a_partial_list_is_a_warning_and_deploy_time_verifies(write_config: Writer) -> None:
    errors, warnings = one_scope(write_config, "powerbi", "Report.Reed.All")
    assert errors == []
    [warning] = warnings
    assert str(warning).endswith(
        "warning: 'Report.Reed.All' is not a known Power BI Service delegated permission, but the data held is "
        "partial (Microsoft publishes no complete list of Power BI Service scopes, and no IDs); deploy time checks "
        "it against the resource's service principal. Fix: did you mean 'Report.Read.All'? if the name is right, "
        "nothing to do"
    )


def test_an_application_permission_is_not_a_scope(write_config: Writer) -> None:
    [error], _ = one_scope(write_config, "outlook", "Application.ReadWrite.OwnedBy")
    assert "is an application permission of Microsoft Graph" in error.message


@pytest.mark.parametrize(
    ("key", "scope"),
    [
        ("outlook", ".default"),
        ("outlook", "https://graph.microsoft.com/.default"),
        ("powerbi", "https://analysis.windows.net/powerbi/api/.default"),
        ("azuredevops", "499b84ac-1321-427f-aa17-267ca6975798/.default"),
        ("azuredevops", ".default"),
    ],
)
def test_dot_default_gets_one_answer_in_every_form(write_config: Writer, key: str, scope: str) -> None:
    [error], _ = one_scope(write_config, key, scope)
    assert error.message.startswith("`.default` is not a permission: it stands for every permission")
    assert error.fix.startswith("list the delegated permissions by name")


def test_a_qualified_name_is_written_bare(write_config: Writer) -> None:
    [error], _ = one_scope(write_config, "powerbi", "https://analysis.windows.net/powerbi/api/Report.Read.All")
    assert "write the bare permission name ('Report.Read.All')" in error.message


# --- consent -------------------------------------------------------------------------------------------------

MANAGED_POLICY = ["Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All"]


@pytest.mark.parametrize("scope", MANAGED_POLICY)
def test_managed_policy_scopes_get_a_consent_warning_on_their_line(write_config: Writer, scope: str) -> None:
    path = write_config(HEAD + f"  sharepoint:\n    scopes: [User.Read, {scope}]\n")
    errors, warnings = report(path)
    assert errors == []
    [warning] = warnings
    assert warning.line == 5 and warning.key == "integrations.sharepoint.scopes[1]"
    assert f"'{scope}' needs an admin's consent in each customer's tenant" in warning.message
    assert "managed policy since 2025-07" in warning.message
    assert "docs/integrations.md, section Admin consent" in warning.fix
    need = consent_need(MICROSOFT_GRAPH_APP_ID, scope)
    assert need.user_consent_blocked and need.needs_admin and need.admin_consent_required is False


@pytest.mark.parametrize(
    ("scope", "warned"),
    [("User.Read.All", True), ("Group.Read.All", True), ("User.Read", False), ("Mail.Read", False)],
)
def test_admin_consent_required_scopes_warn_and_others_do_not(write_config: Writer, scope: str, warned: bool) -> None:
    _, warnings = one_scope(write_config, "outlook", scope)
    assert bool(warnings) is warned
    if warned:
        assert "admin consent required" in warnings[0].message


def test_default_scopes_that_need_consent_are_warned_at_the_integration(write_config: Writer) -> None:
    _, warnings = report(write_config(HEAD + "  sharepoint: {}\n"))
    assert [(w.line, w.key) for w in warnings] == [(4, "integrations.sharepoint")] * 2
    assert all("(a default scope)" in w.message for w in warnings)


def test_consent_need_for_resources_without_a_flag() -> None:
    need = consent_need(POWER_BI_APP_ID, "Dataset.Read.All")
    assert need.admin_consent_required is None and not need.user_consent_blocked and not need.needs_admin
    assert "not published" in need.note and "fabric-rest-api-specs" in need.source
    assert consent_need(MICROSOFT_GRAPH_APP_ID, "offline_access").note == "users can consent"


def test_catalog_json_carries_the_admin_consent_flag_per_known_scope() -> None:
    result = runner.invoke(app, ["catalog", "--format", "json"])
    assert result.exit_code == 0
    for entry in json.loads(result.output):
        details = {d["name"]: d for d in entry["scope_details"]}
        assert sorted(details) == entry["scopes"]
        for name, d in details.items():
            assert d["admin_consent_required"] == consent_need(entry["resource_app_id"], name).admin_consent_required
            assert d["needs_admin_consent"] in (True, False)
    sharepoint = next(e for e in json.loads(result.output) if e["key"] == "sharepoint")
    by_name = {d["name"]: d for d in sharepoint["scope_details"]}
    assert by_name["Sites.Read.All"]["user_consent_blocked"] and by_name["User.Read.All"]["admin_consent_required"]
    assert sharepoint["default_scopes_needing_admin_consent"] == ["Sites.Read.All", "Files.Read.All"]


# --- catalog text views ------------------------------------------------------------------------------------


def _lines_keep_tokens_whole(output: str, tokens: list[str], width: int) -> None:
    lines = output.splitlines()
    for token in tokens:
        assert any(token in line for line in lines), f"{token} is split or missing"
    for line in lines:
        assert len(line) <= width or " " not in line.strip(), f"an over-long line that could wrap: {line!r}"


def test_catalog_text_at_80_columns_keeps_every_key_and_app_id_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = runner.invoke(app, ["catalog"])
    assert result.exit_code == 0
    tokens = [*CATALOG, *{e.resource_app_id for e in CATALOG.values()}]
    for line in result.output.splitlines():
        assert len(line) <= 80, line
    _lines_keep_tokens_whole(result.output, tokens, 80)


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_catalog_key_shows_one_integration_whole(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    entry = CATALOG[key]
    result = runner.invoke(app, ["catalog", key])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith(f"{key}  ({entry.title})")
    tokens = [entry.resource_app_id, *entry.delegated_scopes, *(x.name for x in entry.extras)]
    _lines_keep_tokens_whole(out, tokens, 80)
    for name in entry.delegated_scopes:
        # a scope with nothing to add stands alone (a resource that publishes no consent flag says so once)
        [line] = [ln for ln in out.splitlines() if ln == f"    {name}" or ln.startswith(f"    {name} ")]
        assert consent_need(entry.resource_app_id, name).note.split(";")[0].split(" ")[0] in out
        assert line.startswith("    ")
    assert "default scopes" in out and "audiences" in out and "source" in out
    for setting, _ in entry.dashboard_settings:
        assert setting in out
    json_result = runner.invoke(app, ["catalog", key, "--format", "json"])
    assert json.loads(json_result.output)["key"] == key


def test_catalog_with_an_unknown_key_exits_2_naming_the_closest() -> None:
    result = runner.invoke(app, ["catalog", "sharepont"])
    assert result.exit_code == 2
    assert "unknown integration key 'sharepont'" in result.output and "did you mean 'sharepoint'?" in result.output


def test_azure_devops_carries_the_application_type_paragon_asks_for() -> None:
    entry = CATALOG["azuredevops"]
    assert entry.dashboard_settings and entry.dashboard_settings[0][0] == "Application type"
    assert "Microsoft Entra ID App" in entry.dashboard_settings[0][1]
    assert "Application type: Microsoft Entra ID App" in runner.invoke(app, ["catalog", "azuredevops"]).output


def test_teams_bot_fields_match_the_docs_and_the_2025_bot_change(project_dir: Path) -> None:
    teams = CATALOG["microsoftTeams"]
    secret = next(x for x in teams.extras if x.secret)
    assert secret.name == "botClientSecret" and "neither stores nor rotates it" in secret.description
    docs = " ".join((project_dir / "docs" / "integrations.md").read_text(encoding="utf-8").split())
    assert "not pushed or rotated by the provisioner" in docs and "single-tenant" in docs


# --- organization and environment URLs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "url", "wrong"),
    [
        ("microsoftDynamics", "https://contoso.crm.dynamics.com", ""),
        ("microsoftDynamics", "https://contoso.crm4.dynamics.com", ""),
        ("microsoftDynamics", "https://contoso.crm.dynamics.com/", "trailing slash"),
        ("microsoftDynamics", "contoso.crm.dynamics.com", "must start with https://"),
        ("microsoftDynamics", "http://contoso.crm.dynamics.com", "must start with https://"),
        ("microsoftDynamics", "https://contoso.crm.dynamics.com/main.aspx", "no path"),
        ("microsoftDynamics", "https://contoso.operations.dynamics.com", "is not a Dynamics 365 Sales host"),
        ("microsoftDynamics", "https://contoso.example.com", "is not a Dynamics 365 Sales host"),
        ("dynamicsfinance", "https://contoso.operations.dynamics.com", ""),
        ("dynamicsfinance", "https://contoso.sandbox.operations.dynamics.com", ""),
        ("dynamicsfinance", "https://contoso.crm.dynamics.com", "is not a Dynamics 365 Finance host"),
        ("dynamicsfinance", "https://contoso.operations.dynamics.com/?cmp=USMF", "no path"),
    ],
)
def test_environment_urls_are_checked(write_config: Writer, key: str, url: str, wrong: str) -> None:
    name = CATALOG[key].environment_value
    errors, warnings = report(write_config(HEAD + f"  {key}:\n    paragon_values:\n      {name}: '{url}'\n"))
    if not wrong:
        assert errors == [] and warnings == []
        return
    [error] = errors
    assert error.key == f"integrations.{key}.paragon_values.{name}" and wrong in error.message
    if "host" in wrong:  # a host of no cloud: the fix names the product's host patterns, never one of them as theirs
        assert error.fix.startswith(f"write the environment's own URL, {CATALOG[key].resource_uri}")
    else:  # the reader's own host, rewritten: never moved to another cloud
        assert error.fix == f"write it as https://{url.split('://')[-1].split('/')[0]}"


def test_without_an_environment_url_bare_scopes_get_a_warning(write_config: Writer) -> None:
    _, warnings = report(write_config(HEAD + "  microsoftDynamics: {}\n"))
    [warning] = warnings
    assert "AADSTS650053" in warning.message and "organizationUrl" in warning.fix
    _, none = report(write_config(HEAD + "  microsoftDynamics:\n    paragon_scope_format: bare\n"))
    assert none == [], "an explicit bare format is the operator's choice"


def test_a_graph_scope_outside_the_catalog_list_is_checked_for_personal_accounts(write_config: Writer) -> None:
    audience = "    sign_in_audience: AzureADandPersonalMicrosoftAccount\n"
    [error], _ = one_scope(write_config, "outlook", "Presence.Read", audience)
    assert "'Presence.Read' does not work for personal Microsoft accounts" in error.message
    errors, _ = one_scope(write_config, "outlook", "Tasks.ReadWrite", audience)
    assert errors == [], "the data marks Tasks.ReadWrite as working for personal accounts"


def test_the_advice_for_a_pasted_bot_secret_is_the_manual_step_not_rotation() -> None:
    from provisioner.catalog import secret_extra_fix

    fix = secret_extra_fix("botclientsecret")
    assert fix is not None and "neither stores nor rotates it" in fix
    assert "docs/integrations.md, section Extra Paragon settings" in fix and "step" not in fix
    assert secret_extra_fix("clientSecret") is None, "the app's own client secret keeps its own advice"


@pytest.mark.parametrize(
    ("key", "name", "value", "fix"),
    [
        ("azuredevops", "organization", "https://dev.azure.com/contoso", "write the name alone (contoso)"),
        ("azuredevops", "organization", "https://dev.azure.com/contoso/", "write the name alone (contoso)"),
        ("dynamicsbusinesscentral", "environment", "my env", "write the name alone"),
        ("azuredevops", "organization", "contoso", ""),
        ("dynamicsbusinesscentral", "environment", "production", ""),
    ],
)
def test_name_settings_refuse_urls(write_config: Writer, key: str, name: str, value: str, fix: str) -> None:
    errors, _ = report(write_config(HEAD + f"  {key}:\n    paragon_values:\n      {name}: '{value}'\n"))
    if not fix:
        assert errors == []
        return
    [error] = errors
    assert error.key == f"integrations.{key}.paragon_values.{name}" and error.fix == fix
