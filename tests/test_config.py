"""Config loading and validation: every bad config fails with one pinned line naming file, key and fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import VALID_CONFIG

from provisioner.catalog import POWER_BI, ScopeFormat, paragon_scope_string
from provisioner.config import json_schema, load_config
from provisioner.errors import ConfigError

Writer = Callable[..., Path]


ADO_TYPO = "azuredevops:\n    scopes: [vso.profile, vso.wrok]"
"""A misspelt Azure DevOps scope: its published list is complete, so the name is an error."""


def test_shipped_example_is_valid(project_dir: Path) -> None:
    config = load_config(project_dir / "config" / "dev.yaml")
    assert config.paragon.redirect_uri == "https://passport.useparagon.com/oauth"
    assert config.integrations["powerbi"].scopes == ["Dataset.Read.All", "Report.Read.All"]


def test_defaults_fill_optional_keys(write_config: Writer) -> None:
    config = load_config(write_config(VALID_CONFIG))
    powerbi = config.integrations["powerbi"]
    assert config.paragon.base_url == "https://zeus.useparagon.com"
    assert powerbi.sign_in_audience == "AzureADMultipleOrgs"
    assert powerbi.access_token_version is None
    assert (powerbi.secret.rotation_days, powerbi.secret.grace_days, powerbi.secret.lifetime_days) == (90, 14, 194)


def test_redirect_uri_is_kept_exactly(write_config: Writer) -> None:
    text = VALID_CONFIG.replace("paragon:\n", "paragon:\n  redirect_uri: https://passport.Example.com/oauth/\n")
    assert load_config(write_config(text)).paragon.redirect_uri == "https://passport.Example.com/oauth/"


def test_loopback_http_is_allowed_for_development(write_config: Writer) -> None:
    text = VALID_CONFIG.replace("paragon:\n", "paragon:\n  redirect_uri: http://localhost:8080/oauth\n")
    assert load_config(write_config(text)).paragon.redirect_uri == "http://localhost:8080/oauth"


def test_personal_audience_gets_token_version_2(write_config: Writer) -> None:
    text = VALID_CONFIG + "  outlook:\n    sign_in_audience: AzureADandPersonalMicrosoftAccount\n"
    assert load_config(write_config(text)).integrations["outlook"].access_token_version == 2


BAD_CONFIGS = [
    pytest.param(
        VALID_CONFIG.replace("paragon:\n", "paragon:\n  redirect_uri: http://passport.useparagon.com/oauth\n"),
        r"dev\.yaml:2: paragon\.redirect_uri: redirect_uri must use https:// \(http:// is allowed only for "
        r"localhost/loopback\)",
        id="http-redirect",
    ),
    pytest.param(
        VALID_CONFIG.replace("paragon:\n", "paragon:\n  redirect_uri: https://*.useparagon.com/oauth\n"),
        r"dev\.yaml:2: paragon\.redirect_uri: redirect_uri may not contain a wildcard",
        id="wildcard-redirect",
    ),
    pytest.param(
        VALID_CONFIG.replace("powerbi:\n    scopes: [Dataset.Read.All, Report.Read.All]", ADO_TYPO),
        r"dev\.yaml:5: integrations\.azuredevops\.scopes\[1\]: 'vso\.wrok' is not a known Azure DevOps "
        r"delegated permission \(Microsoft's published list, .*\)\. Fix: did you mean 'vso\.work'",
        id="unknown-scope",
    ),
    pytest.param(
        VALID_CONFIG.replace("scopes:", "scoeps:"),
        r"dev\.yaml:5: integrations\.powerbi\.scoeps: unknown key\. Fix: remove it or correct the spelling; "
        r"did you mean 'scopes'\?",
        id="misspelt-key",
    ),
    pytest.param(
        VALID_CONFIG + "    scopes: [Dataset.Read.All]\n",
        r"dev\.yaml:6: integrations\.powerbi\.scopes: duplicate key \(first set on line 5\)",
        id="duplicate-key",
    ),
    pytest.param(
        VALID_CONFIG.replace("38b1f170-0c43-4eae-9a04-ab85325d99f7", "my-project"),
        r"dev\.yaml:2: paragon\.project_id: project_id must be a GUID",
        id="project-id-not-guid",
    ),
    pytest.param(
        VALID_CONFIG + "    display_name: no\n",
        r"dev\.yaml:6: integrations\.powerbi\.display_name: expected text but YAML read a boolean \(false\).*"
        r"Fix: quote the value",
        id="yaml11-boolean",
    ),
    pytest.param(
        VALID_CONFIG.replace("powerbi:", "powerbl:"),
        r"dev\.yaml:4: integrations\.powerbl: unknown Paragon integration key\. Fix: use one of azuredevops, .*"
        r"powerbi, sharepoint \(did you mean 'powerbi'\?\)",
        id="unknown-integration",
    ),
    pytest.param(
        VALID_CONFIG.replace("[Dataset.Read.All, Report.Read.All]", "[Dataset.Read.All, User.Read]"),
        r"scopes\[1\]: 'User\.Read' is a Microsoft Graph permission, but Power BI requests Power BI Service "
        r"scopes; one sign-in can target only one resource API \(AADSTS28000\)",
        id="scope-of-another-resource",
    ),
    pytest.param(
        VALID_CONFIG.replace("Dataset.Read.All,", "https://analysis.windows.net/powerbi/api/Dataset.Read.All,"),
        r"scopes\[0\]: write the bare permission name \('Dataset\.Read\.All'\), not a URI",
        id="qualified-scope",
    ),
    pytest.param(
        VALID_CONFIG.replace("Report.Read.All", "Dataset.Read.All"),
        r"scopes\[1\]: 'Dataset\.Read\.All' is listed twice",
        id="scope-twice",
    ),
    pytest.param(
        VALID_CONFIG + "    secret:\n      rotation_days: 200\n",
        r"integrations\.powerbi\.secret: 2 x rotation_days \+ grace_days = 414 days exceeds max_lifetime_days "
        r"\(365\).*Fix: shorten rotation_days",
        id="lifetime-over-tenant-maximum",
    ),
    pytest.param(
        VALID_CONFIG + "    secret:\n      rotation_days: 30.5\n",
        r"integrations\.powerbi\.secret\.rotation_days: expected a whole number, got 30\.5",
        id="fractional-days",
    ),
    pytest.param(
        VALID_CONFIG + "    sign_in_audience: PersonalMicrosoftAccount\n    requested_access_token_version: 1\n",
        r"integrations\.powerbi: sign_in_audience PersonalMicrosoftAccount includes personal Microsoft accounts, "
        r"which require requested_access_token_version 2",
        id="personal-audience-token-v1",
    ),
    pytest.param(
        VALID_CONFIG + "    sign_in_audience: AnyOrg\n",
        r"integrations\.powerbi\.sign_in_audience: must be one of AzureADMyOrg, AzureADMultipleOrgs, "
        r"AzureADandPersonalMicrosoftAccount, PersonalMicrosoftAccount, got AnyOrg\. Fix: write one of AzureADMyOrg",
        id="unknown-audience",
    ),
    pytest.param(
        "integrations:\n  powerbi:\n    scopes: [Dataset.Read.All]\n",
        r"dev\.yaml: paragon: required key is missing\. Fix: add `paragon:` here",
        id="missing-section",
    ),
    pytest.param(
        VALID_CONFIG.replace("paragon:\n", "paragon:\n  base_url: http://zeus.example.com\n"),
        r"paragon\.base_url: base_url must use https://",
        id="http-base-url",
    ),
    pytest.param("", r"dev\.yaml: the file is empty", id="empty-file"),
    pytest.param("paragon: [\n", r"dev\.yaml:2: not valid YAML", id="not-yaml"),
    pytest.param("- a\n- b\n", r"dev\.yaml: the top level must be a mapping", id="top-level-list"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CONFIGS)
def test_bad_config_is_one_clear_line(write_config: Writer, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load_config(write_config(text))
    assert len(raised.value.problems) == 1, raised.value.problems
    assert "\n" not in raised.value.problems[0]


def test_all_problems_are_reported_together(write_config: Writer) -> None:
    text = VALID_CONFIG.replace("scopes:", "scoeps:").replace("paragon:\n", "paragon:\n  base_ur: x\n")
    with pytest.raises(ConfigError) as raised:
        load_config(write_config(text))
    assert [p.split(": ")[1] for p in raised.value.problems] == [
        "paragon.base_ur",
        "integrations.powerbi.scoeps",
    ]


def test_missing_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"prod\.yaml: file not found\. Fix: create it"):
        load_config(tmp_path / "prod.yaml")


def test_published_schema_is_in_sync(project_dir: Path) -> None:
    published = json.loads((project_dir / "config" / "provisioner.schema.json").read_text(encoding="utf-8"))
    assert published == json_schema(), "config/provisioner.schema.json is stale: run python -m provisioner schema"


def test_scope_string_formats() -> None:
    scopes = ("Dataset.Read.All", "offline_access", "Report.Read.All")
    assert paragon_scope_string(POWER_BI, scopes) == (
        "https://analysis.windows.net/powerbi/api/Dataset.Read.All "
        "https://analysis.windows.net/powerbi/api/Report.Read.All offline_access"
    )
    assert paragon_scope_string(POWER_BI, scopes, ScopeFormat.BARE) == (
        "Dataset.Read.All Report.Read.All offline_access"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            VALID_CONFIG.replace("[Dataset.Read.All, Report.Read.All]", "&x [*x]"),
            r"integrations\.powerbi\.scopes\[0\]: YAML alias \*x is not supported",
        ),
        (
            VALID_CONFIG.replace("paragon:\n", "paragon:\n  base_url: https://admin:hunter2@zeus.example.com\n"),
            r"paragon\.base_url: this value looks like a client secret or an access token",
        ),
        (
            VALID_CONFIG.replace("[Dataset.Read.All, Report.Read.All]", "[offline_access]"),
            r"integrations\.powerbi\.scopes: lists only OpenID scopes",
        ),
        (
            VALID_CONFIG.replace("ab85325d99f7", "ab85325d99f7\\n")
            .replace("project_id: ", 'project_id: "')
            .replace("\\n\n", '\\n"\n'),
            r"paragon\.project_id: the value contains the control or invisible character\(s\) \\x0a",
        ),
    ],
    ids=["alias", "userinfo", "openid-only", "guid-newline"],
)
def test_traps_found_by_review(write_config: Writer, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(text))


def test_non_utf8_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "dev.yaml"
    path.write_bytes(VALID_CONFIG.replace("powerbi:", "powerbi: # caf\xe9").encode("latin-1"))
    with pytest.raises(ConfigError, match=r"not UTF-8 text\. Fix: save the file as UTF-8"):
        load_config(path)


def test_verify_timeout_defaults_to_two_minutes_and_zero_is_a_warning(write_config: Writer) -> None:
    from provisioner.config import load_config_report

    assert load_config(write_config(VALID_CONFIG)).paragon.verify_timeout_seconds == 120.0
    loaded = load_config_report(
        write_config(VALID_CONFIG.replace("paragon:\n", "paragon:\n  verify_timeout_seconds: 0\n"))
    )
    [warning] = [str(w) for w in loaded.warnings if w.key != "scheduled_deployer"]  # owners: test_owners.py
    assert ":2: paragon.verify_timeout_seconds: warning: 0 turns verification off" in warning and "Fix: " in warning


@pytest.mark.parametrize("value", ["-1", "3601", "false", "soon"])
def test_a_bad_verify_timeout_is_one_line(write_config: Writer, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(VALID_CONFIG.replace("paragon:\n", f"paragon:\n  verify_timeout_seconds: {value}\n")))
    [problem] = caught.value.problems
    assert ":2: paragon.verify_timeout_seconds: " in problem
