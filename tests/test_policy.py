"""The CrossGuard policy pack (policy/): each check as a plain function, then through the engine's analyzer.

Props are written as the policy engine passes them (``args.props``): pulumi-azuread v6 wire names in
camelCase. "Now" is frozen. policy/ is on sys.path through pytest's ``pythonpath`` setting, as it is
when CrossGuard runs the folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paragon_policies as checks
import pytest
from google.protobuf import struct_pb2
from paragon_pack import build_policies
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer  # the analyzer CrossGuard serves over gRPC

from provisioner.cli.plan import run_plan

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PARAGON = "https://passport.useparagon.com/oauth"
CI = "5b1f0d2c-7a43-4c9e-9f0e-2d6c1a8b3e71"  # object ID of the identity that runs the scheduled pulumi up
UNKNOWN_ARRAY = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"  # the engine's sentinel for a list not known in preview


def app(**props: Any) -> dict[str, Any]:
    """A compliant Application's inputs, with ``props`` replacing top-level keys."""
    base: dict[str, Any] = {
        "displayName": "Paragon Power BI (dev)",
        "owners": [CI],
        "signInAudience": "AzureADMultipleOrgs",
        "web": {"redirectUris": [PARAGON]},
        "requiredResourceAccesses": [
            {
                "resourceAppId": "00000009-0000-0000-c000-000000000000",
                "resourceAccesses": [{"id": "7f33e027-4039-419b-938e-2f8ca153e68e", "type": "Scope"}],
            }
        ],
    }
    return base | props


@pytest.mark.parametrize(
    ("props", "config", "violation"),
    [
        ({"endDate": "2026-07-14T00:00:00Z"}, {}, None),
        ({"endDate": "2027-01-01T00:00:00Z"}, {}, None),  # exactly 365 days: allowed
        ({"endDate": "2027-01-01T00:00:01Z"}, {}, "365 days from now, more than the allowed 365"),
        ({"endDate": "2026-07-14T00:00:00+02:00"}, {}, None),
        ({"endDate": "2026-07-14T00:00:00Z"}, {"maxDays": 180}, "194 days from now, more than the allowed 180"),
        ({"endDate": "2026-07-14T00:00:00Z"}, {"maxDays": 194.0}, None),  # protobuf numbers arrive as float
        ({"endDate": "2026-07-14"}, {}, "not an RFC 3339 time"),
        ({"endDate": "next year"}, {}, "not an RFC 3339 time"),
        ({}, {}, "no endDate: Entra would issue a two-year secret"),
        ({"endDate": ""}, {}, "no endDate"),
        ({"endDateRelative": "4656h"}, {}, None),
        ({"endDateRelative": "8784h"}, {}, "366 days from now"),
        ({"endDateRelative": "2h30m"}, {}, None),
        ({"endDateRelative": "1y"}, {}, "not a duration like 8760h"),
    ],
)
def test_secret_end_date(props: dict[str, Any], config: dict[str, Any], violation: str | None) -> None:
    problems = checks.check_secret_end_date(props, config, NOW)
    if violation is None:
        assert problems == []
    else:
        assert len(problems) == 1 and violation in problems[0], problems


@pytest.mark.parametrize("bad", [0, -5, 1.5, "90", True, None])
def test_secret_end_date_rejects_bad_max_days(bad: object) -> None:
    with pytest.raises(ValueError, match="maxDays: expected a whole number of days"):
        checks.check_secret_end_date({"endDate": "2026-02-01T00:00:00Z"}, {"maxDays": bad}, NOW)


@pytest.mark.parametrize(
    ("props", "violation"),
    [
        (app(), None),
        (app(web={"redirectUris": [PARAGON, "http://localhost:3000/callback"]}), None),
        (app(web={"redirectUris": ["http://127.0.0.1/cb", "http://[::1]:8080/cb"]}), None),
        (app(web={"redirectUris": ["http://passport.useparagon.com/oauth"]}), "is not https"),
        (app(web={"redirectUris": ["http://localhost.example.com/cb"]}), "is not https"),
        (app(web={"redirectUris": ["https://*.useparagon.com/oauth"]}), "contains a wildcard"),
        (app(web={"redirectUris": ["passport.useparagon.com/oauth"]}), "is not https"),
        (app(singlePageApplication={"redirectUris": ["http://spa.example.com"]}), "singlePageApplication.redirectUris"),
        (app(publicClient={"redirectUris": ["msauth.com.example.app://auth"]}), None),
        (app(publicClient={"redirectUris": ["https://login.example.com/*"]}), "publicClient.redirectUris"),
        (app(web=None), None),
    ],
)
def test_redirect_uris(props: dict[str, Any], violation: str | None) -> None:
    problems = checks.check_redirect_uris(props, {})
    if violation is None:
        assert problems == []
    else:
        assert len(problems) == 1 and violation in problems[0], problems


@pytest.mark.parametrize(
    ("audience", "config", "allowed"),
    [
        ("AzureADMultipleOrgs", {}, True),
        ("AzureADMyOrg", {}, True),
        (None, {}, True),  # Entra's default, AzureADMyOrg
        ("AzureADandPersonalMicrosoftAccount", {}, False),
        ("PersonalMicrosoftAccount", {}, False),
        ("AzureADMultipleOrgs", {"allowedAudiences": ["AzureADMyOrg"]}, False),
        ("PersonalMicrosoftAccount", {"allowedAudiences": ["PersonalMicrosoftAccount"]}, True),
    ],
)
def test_sign_in_audience(audience: str | None, config: dict[str, Any], allowed: bool) -> None:
    problems = checks.check_sign_in_audience(app(signInAudience=audience), config)
    assert (problems == []) is allowed, problems
    if not allowed:
        assert "is not allowed here" in problems[0]


def test_sign_in_audience_rejects_bad_config() -> None:
    with pytest.raises(ValueError, match="allowedAudiences: expected a list of strings"):
        checks.check_sign_in_audience(app(), {"allowedAudiences": "AzureADMyOrg"})


ROLE_ID = "7ab1d382-f21e-4acd-a863-ba3e13f7da61"  # Microsoft Graph Directory.Read.All (application)


@pytest.mark.parametrize(
    ("props", "config", "violation"),
    [
        (app(), {}, None),
        (
            app(
                requiredResourceAccesses=[
                    {
                        "resourceAppId": "00000003-0000-0000-c000-000000000000",
                        "resourceAccesses": [{"id": ROLE_ID, "type": "Role"}],
                    }
                ]
            ),
            {},
            f"application permission (type Role) {ROLE_ID} on resource app 00000003",
        ),
        (
            app(
                requiredResourceAccesses=[
                    {
                        "resourceAppId": "00000003-0000-0000-c000-000000000000",
                        "resourceAccesses": [{"id": ROLE_ID, "type": "Role"}],
                    }
                ]
            ),
            {"allowedAppRoleIds": [ROLE_ID.upper()]},
            None,
        ),
        (
            app(
                appRoles=[
                    {
                        "id": "1b4f816e-5eaf-48b9-8613-7923830595ad",
                        "value": "Data.Sync",
                        "allowedMemberTypes": ["Application"],
                    }
                ]
            ),
            {},
            "appRoles: Data.Sync can be granted to applications",
        ),
        (app(appRoles=[{"id": "1b4f816e-5eaf-48b9-8613-7923830595ad", "allowedMemberTypes": ["User"]}]), {}, None),
    ],
)
def test_application_permissions(props: dict[str, Any], config: dict[str, Any], violation: str | None) -> None:
    problems = checks.check_application_permissions(props, config)
    if violation is None:
        assert problems == []
    else:
        assert len(problems) == 1 and violation in problems[0], problems


@pytest.mark.parametrize(
    ("props", "config", "present"),
    [
        (app(), {}, True),
        (app(web={"redirectUris": ["https://passport.useparagon.com/oauth/"]}), {}, False),  # character for character
        (app(web={"redirectUris": []}), {}, False),
        (app(web=None, singlePageApplication={"redirectUris": [PARAGON]}), {}, False),  # wrong platform
        (
            app(web={"redirectUris": ["https://passport.paragon.example.com/oauth"]}),
            {"paragonRedirectUris": ["https://passport.paragon.example.com/oauth"]},
            True,
        ),
    ],
)
def test_paragon_redirect_uri(props: dict[str, Any], config: dict[str, Any], present: bool) -> None:
    problems = checks.check_paragon_redirect_uri(props, config)
    assert (problems == []) is present, problems
    if not present:
        assert "web.redirectUris lacks Paragon's redirect URI" in problems[0]


def test_pack_defaults_match_the_checks() -> None:
    """The config schema shown to users states the same defaults the checks apply without config."""
    defaults = {
        p.name: {k: v.get("default") for k, v in p.config_schema.properties.items()}
        for p in build_policies()
        if p.config_schema is not None
    }
    assert defaults == {
        "secret-end-date-within-max": {"maxDays": checks.DEFAULT_MAX_SECRET_DAYS},
        "sign-in-audience-allowed": {"allowedAudiences": list(checks.DEFAULT_SIGN_IN_AUDIENCES)},
        "no-application-permissions": {"allowedAppRoleIds": []},
        "paragon-redirect-uri-present": {"paragonRedirectUris": list(checks.DEFAULT_PARAGON_REDIRECT_URIS)},
        "owners-kept": {"requiredOwners": []},
    }
    assert all(p.enforcement_level is EnforcementLevel.MANDATORY for p in build_policies())


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(values))
    return struct


class Analyzer:
    """The pack's policies behind pulumi_policy's own analyzer servicer, fed protobuf requests as the engine does."""

    def __init__(self, config: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.servicer = _PolicyAnalyzerServicer(
            "paragon-entra-guardrails", "0.1.0", build_policies(lambda: NOW), EnforcementLevel.ADVISORY
        )
        policy_config = {
            name: proto.PolicyConfig(enforcementLevel=proto.MANDATORY, properties=_struct(values))
            for name, values in (config or {}).items()
        }
        self.servicer.Configure(  # type: ignore[no-untyped-call]
            proto.ConfigureAnalyzerRequest(policyConfig=policy_config), None
        )

    def analyze(self, resource_type: str, name: str, props: Mapping[str, Any]) -> list[tuple[str, str, int]]:
        """(policy name, message, enforcement level) for each diagnostic."""
        request = proto.AnalyzeRequest(
            type=resource_type, properties=_struct(props), urn=f"urn:test::{name}", name=name
        )
        response = self.servicer.Analyze(request, None)  # type: ignore[no-untyped-call]
        return [(d.policyName, d.message, d.enforcementLevel) for d in response.diagnostics]


def test_engine_reports_violations_as_mandatory() -> None:
    found = Analyzer().analyze(
        checks.APPLICATION,
        "powerbi-app",
        app(signInAudience="PersonalMicrosoftAccount", web={"redirectUris": ["http://example.com/oauth"]}),
    )
    names = sorted(name for name, _, _ in found)
    assert names == ["paragon-redirect-uri-present", "redirect-uris-https-no-wildcards", "sign-in-audience-allowed"]
    assert {level for _, _, level in found} == {proto.MANDATORY}


def test_engine_passes_policy_config_to_the_checks() -> None:
    password = {"endDate": "2026-07-14T00:00:00Z", "applicationId": "/applications/x"}
    assert Analyzer().analyze(checks.PASSWORD, "powerbi-secret-0", password) == []
    found = Analyzer({"secret-end-date-within-max": {"maxDays": 100}}).analyze(
        checks.PASSWORD, "powerbi-secret-0", password
    )
    assert [(n, lvl) for n, _, lvl in found] == [("secret-end-date-within-max", proto.MANDATORY)]
    assert "194 days from now, more than the allowed 100" in found[0][1]


def test_engine_unknown_values_in_preview_are_advisory_not_violations() -> None:
    found = Analyzer().analyze(checks.APPLICATION, "powerbi-app", app(web={"redirectUris": UNKNOWN_ARRAY}))
    assert found, "the engine says which policies could not run"
    assert all("can't be known during preview" in message for _, message, _ in found)
    assert all(level == proto.ADVISORY for _, _, level in found)


def test_policies_ignore_other_resource_types() -> None:
    assert Analyzer().analyze("azuread:index/group:Group", "group", {"owners": [], "appRoles": []}) == []


@pytest.mark.parametrize(
    ("owners", "config", "violation"),
    [
        ([CI], {}, None),
        ([CI.upper()], {"requiredOwners": [CI]}, None),  # object IDs compare without regard to case
        (["c0ffee00-1111-4222-8333-444455556666"], {}, None),
        (["c0ffee00-1111-4222-8333-444455556666"], {"requiredOwners": [CI]}, f"owners lacks {CI}, a required owner"),
        ([], {}, "owners is empty"),
        (None, {}, "owners is empty"),
    ],
)
def test_owners(owners: list[str] | None, config: dict[str, Any], violation: str | None) -> None:
    props = {} if owners is None else {"owners": owners}
    problems = checks.check_owners(props, config)
    assert problems == [] if violation is None else (len(problems) == 1 and violation in problems[0])


def test_a_service_principal_that_drops_the_scheduled_deployer_is_blocked() -> None:
    sp = {"clientId": "x", "owners": ["c0ffee00-1111-4222-8333-444455556666"], "useExisting": True}
    assert Analyzer().analyze(checks.SERVICE_PRINCIPAL, "powerbi-sp", sp) == []
    found = Analyzer({"owners-kept": {"requiredOwners": [CI]}}).analyze(checks.SERVICE_PRINCIPAL, "powerbi-sp", sp)
    assert [(name, level) for name, _, level in found] == [("owners-kept", proto.MANDATORY)]


def _violations(resources: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    analyzer = Analyzer()
    for resource in resources:
        found += [
            f"{resource['name']}: {m}"
            for _, m, _ in analyzer.analyze(resource["type"], resource["name"], resource["inputs"])
        ]
    return found


def test_the_shipped_example_complies(project_dir: Path) -> None:
    """Every resource the program declares for config/dev.yaml passes the pack (inputs as the plan shows them)."""
    resources = run_plan(project_dir, "dev", NOW).to_json()["resources"]
    assert {checks.APPLICATION, checks.SERVICE_PRINCIPAL, checks.PASSWORD} <= {r["type"] for r in resources}
    assert _violations(resources) == []


def test_a_valid_config_can_still_break_a_guardrail(
    project_dir: Path, write_config: Callable[[str, str], Path]
) -> None:
    """Config validation allows personal accounts; the default guardrail does not."""
    path = write_config(
        "paragon:\n  project_id: 38b1f170-0c43-4eae-9a04-ab85325d99f7\nintegrations:\n  outlook:\n"
        "    scopes: [Mail.Read, User.Read]\n    sign_in_audience: AzureADandPersonalMicrosoftAccount\n",
        "dev.yaml",
    )
    resources = run_plan(project_dir, "dev", NOW, config_file=path).to_json()["resources"]
    found = _violations(resources)
    assert len(found) == 1 and "outlook-app: " in found[0] and "AzureADandPersonalMicrosoftAccount" in found[0]
