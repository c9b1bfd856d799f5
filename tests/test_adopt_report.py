"""The pure comparison behind ``adopt``: each kind of change the first ``pulumi up`` makes to a live app, whether it
hurts connected users, and the config edit that avoids it (one row per kind); the personal-account secret cap."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from provisioner.cli.adopt_report import (
    Change,
    Declared,
    LiveApp,
    ParagonView,
    compare,
    password_cap_problem,
    suggested_config,
)

PBI = "00000009-0000-0000-c000-000000000000"
GRAPH = "00000003-0000-0000-c000-000000000000"
READ, WRITE, ROLE, OFFLINE = "aaaa0001", "aaaa0002", "aaaa0003", "7427e0e9-2fba-42fe-b0c0-848c9e6a8182"
PARAGON_URI = "https://passport.useparagon.com/oauth"
LIVE = LiveApp(
    client_id="7d3c7a0e-52f4-4d0c-9a3e-5e1f9d1b2c3a",
    object_id="2f6b1c8e-9d4a-4e7b-8c5d-3a1f0e9b7c64",
    display_name="Paragon Power BI (prod)",
    sign_in_audience="AzureADMultipleOrgs",
    access_token_version=None,
    web=(PARAGON_URI,),
    spa=(),
    public_client=(),
    permissions=((PBI, READ, "Scope"), (GRAPH, OFFLINE, "Scope")),
    permission_names={
        (PBI, READ): "Power BI Service Dataset.Read.All",
        (PBI, WRITE): "Power BI Service Dataset.ReadWrite.All",
        (PBI, ROLE): "Power BI Service Tenant.Read.All (application permission)",
        (GRAPH, OFFLINE): "Microsoft Graph offline_access",
    },
    owners=(("5b1f0d2c-7a43-4c9e-9f0e-2d6c1a8b3e71", "CI deployer"),),
    passwords=(),
    service_principal_id=None,
)
INPUTS: dict[str, Any] = {
    "displayName": "Paragon Power BI (prod)",
    "signInAudience": "AzureADMultipleOrgs",
    "web": {"redirectUris": [PARAGON_URI]},
    "requiredResourceAccesses": [
        {"resourceAppId": PBI, "resourceAccesses": [{"id": READ, "type": "Scope"}]},
        {"resourceAppId": GRAPH, "resourceAccesses": [{"id": OFFLINE, "type": "Scope"}]},
    ],
    "owners": ["5b1f0d2c-7a43-4c9e-9f0e-2d6c1a8b3e71"],
}
SCOPE_KEYS = {"Dataset.Read.All": ("powerbi",), "Dataset.ReadWrite.All": ("powerbi",)}
PARAGON = ParagonView("holds it", LIVE.client_id, frozenset({"dataset.read.all", "offline_access"}))


def declared(**changes: Any) -> Declared:
    return Declared({**INPUTS, **changes}, "powerbi", SCOPE_KEYS, PARAGON_URI)


def test_an_app_that_matches_the_config_has_no_change() -> None:
    assert compare(LIVE, declared(), PARAGON) == []


WITH_WRITE = [
    {"resourceAppId": PBI, "resourceAccesses": [{"id": READ, "type": "Scope"}, {"id": WRITE, "type": "Scope"}]},
    INPUTS["requiredResourceAccesses"][1],
]


@pytest.mark.parametrize(
    ("live", "inputs", "paragon", "expected"),
    [
        (
            {"display_name": "Hand made"},
            {},
            PARAGON,
            Change(
                "display name",
                "change",
                "Hand made",
                "Paragon Power BI (prod)",
                False,
                "",
                "integrations.powerbi.display_name: Hand made",
            ),
        ),
        (
            {"sign_in_audience": "AzureADMyOrg"},
            {},
            PARAGON,
            Change(
                "sign-in audience",
                "change",
                "AzureADMyOrg",
                "AzureADMultipleOrgs",
                True,
                "",
                "integrations.powerbi.sign_in_audience: AzureADMyOrg",
            ),
        ),
        (
            {},
            {"api": {"requestedAccessTokenVersion": 2}},
            PARAGON,
            Change(
                "access token version",
                "change",
                "1",
                "2",
                False,
                "",
                "integrations.powerbi.requested_access_token_version: 1",
            ),
        ),
        (
            {"web": (PARAGON_URI, "https://other.example/cb")},
            {},
            PARAGON,
            Change(
                "Web redirect URI",
                "remove",
                "https://other.example/cb",
                None,
                True,
                "",
                "add https://other.example/cb to integrations.powerbi.extra_redirect_uris",
            ),
        ),
        (
            {"spa": ("https://spa.example/",)},
            {},
            PARAGON,
            Change("SPA redirect URI", "remove", "https://spa.example/", None, True, "", ""),
        ),
        (
            {"permissions": (*LIVE.permissions, (PBI, WRITE, "Scope"))},
            {},
            replace(PARAGON, scopes=frozenset({"dataset.read.all", "dataset.readwrite.all"})),
            Change(
                "permission",
                "remove",
                "Power BI Service Dataset.ReadWrite.All",
                None,
                True,
                "",
                "add Dataset.ReadWrite.All to integrations.powerbi.scopes",
            ),
        ),
        (
            {"permissions": (*LIVE.permissions, (PBI, WRITE, "Scope"))},
            {},
            PARAGON,
            Change(
                "permission",
                "remove",
                "Power BI Service Dataset.ReadWrite.All",
                None,
                False,
                "",
                "add Dataset.ReadWrite.All to integrations.powerbi.scopes",
            ),
        ),
        (
            {"permissions": (*LIVE.permissions, (PBI, ROLE, "Role"))},
            {},
            PARAGON,
            Change(
                "permission", "remove", "Power BI Service Tenant.Read.All (application permission)", None, False, "", ""
            ),
        ),
        (
            {},
            {"requiredResourceAccesses": WITH_WRITE},
            PARAGON,
            Change(
                "permission",
                "add",
                None,
                "Power BI Service Dataset.ReadWrite.All",
                True,
                "",
                "remove Dataset.ReadWrite.All from integrations.powerbi.scopes",
            ),
        ),
        (
            {"owners": (*LIVE.owners, ("4b2e8f1a-3c5d-4e6f-8a9b-0c1d2e3f4a5b", "maker@contoso.example"))},
            {},
            PARAGON,
            Change(
                "owner",
                "remove",
                "4b2e8f1a-3c5d-4e6f-8a9b-0c1d2e3f4a5b",
                None,
                False,
                "",
                "add 4b2e8f1a-3c5d-4e6f-8a9b-0c1d2e3f4a5b to integrations.powerbi.owners",
            ),
        ),
    ],
    ids=[
        "display-name",
        "audience",
        "token-version",
        "web-redirect-removed",
        "spa-redirect-removed",
        "scope-paragon-uses-removed",
        "scope-paragon-does-not-use-removed",
        "application-permission-removed",
        "scope-not-consented-added",
        "owner-removed",
    ],
)
def test_each_kind_of_change(
    live: dict[str, Any], inputs: dict[str, Any], paragon: ParagonView, expected: Change
) -> None:
    [change] = compare(replace(LIVE, **live), declared(**inputs), paragon)
    assert replace(change, why="") == expected
    assert change.why


def test_without_paragons_scopes_a_removed_scope_is_flagged_and_an_added_one_explained() -> None:
    unread = ParagonView("not checked: no Paragon login")
    live = replace(LIVE, permissions=(*LIVE.permissions, (PBI, WRITE, "Scope")))
    [removed] = compare(live, declared(), unread)
    assert removed.harmful and "were not read" in removed.why
    [added] = compare(LIVE, declared(requiredResourceAccesses=WITH_WRITE), unread)
    assert not added.harmful and added.fix == "remove Dataset.ReadWrite.All from integrations.powerbi.scopes"
    assert "were not read" in added.why


def test_the_suggested_config_keeps_the_live_app() -> None:
    live = replace(LIVE, display_name="Hand made", web=(PARAGON_URI, "https://other.example/cb"))
    lines = suggested_config(live, compare(live, declared(), PARAGON), "powerbi")
    assert lines == [
        f"client_id: {LIVE.client_id}",
        "display_name: Hand made",
        "extra_redirect_uris: [https://other.example/cb]",
    ]


@pytest.mark.parametrize(
    ("audience", "secrets", "refused"),
    [
        ("AzureADMultipleOrgs", 3, False),
        ("AzureADandPersonalMicrosoftAccount", 0, False),
        ("AzureADandPersonalMicrosoftAccount", 1, True),
        ("PersonalMicrosoftAccount", 2, True),
    ],
)
def test_the_personal_account_secret_cap(audience: str, secrets: int, refused: bool) -> None:
    passwords = tuple((f"0000000{i}-0000-4000-8000-000000000000", None, None) for i in range(secrets))
    live = replace(LIVE, sign_in_audience=audience, passwords=passwords)
    problem = password_cap_problem(live, declared(signInAudience=audience))
    assert (problem is not None) == refused
    if problem:
        assert problem.count("az ad app credential delete") == secrets and "Fix:" in problem
