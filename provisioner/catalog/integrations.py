"""Paragon's Microsoft integrations as data: one `CatalogEntry` per Paragon integration key.

Adding an integration means adding an entry to `CATALOG`, not writing code. Each entry names the Microsoft
document its facts come from (``sources``); the resource app IDs and scope names were checked against those
documents. Scope IDs are not in the catalog: they are resolved from the resource API's service principal at
deploy time (`provisioner.program.app_registration`), except the OpenID scopes, whose Graph IDs Microsoft publishes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

MICROSOFT_GRAPH_APP_ID: Final = "00000003-0000-0000-c000-000000000000"
"""Application (client) ID of the Microsoft Graph resource app, the same in every tenant."""

OPENID_SCOPE_IDS: Final[dict[str, str]] = {
    # Microsoft Graph delegated permission IDs, from Microsoft's generated Graph permissions reference.
    "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    "openid": "37f7f235-527c-4136-accd-4a02d197296e",
    "profile": "14dad69e-099b-42c9-810b-d002981feec1",
    "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
}
"""The OpenID Connect scopes: allowed beside any one resource in a single token request (AADSTS28000)."""

GRAPH_DELEGATED_SCOPE_IDS: Final[dict[str, str]] = {
    # Microsoft Graph delegated permission IDs beyond OpenID, from the same reference (entra-facts.md).
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
}
"""Graph permission IDs Microsoft publishes that the provisioner uses (documentation; IDs resolve at deploy)."""

WORK_OR_SCHOOL: Final = frozenset({"AzureADMyOrg", "AzureADMultipleOrgs"})
"""Sign-in audiences of work or school (Entra ID) accounts only."""
PERSONAL_ACCOUNTS: Final = frozenset({"AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"})
"""Sign-in audiences that include personal Microsoft accounts (MSA)."""
ALL_AUDIENCES: Final = WORK_OR_SCHOOL | PERSONAL_ACCOUNTS

PARAGON_RESERVED_VALUES: Final = frozenset({"clientId", "clientSecret", "scopes"})


def reserved_value_keys(keys: Iterable[str]) -> list[str]:
    """Those of ``keys`` that name a value the provisioner sets itself (`PARAGON_RESERVED_VALUES`), compared
    without regard to case (``ClientSecret`` clashes too), sorted."""
    reserved = {k.lower() for k in PARAGON_RESERVED_VALUES}
    return sorted(k for k in keys if k.lower() in reserved)


"""Keys of a Paragon OAuth credential's ``values`` that the provisioner itself sets."""

GRAPH_PERMISSIONS_REFERENCE: Final = (
    "Microsoft Graph permissions reference, https://learn.microsoft.com/en-us/graph/permissions-reference"
)
GRAPH_MSA_NOTE: Final = (
    "Microsoft Graph API reference, per-API 'Permissions' table (Delegated (personal Microsoft account) row), "
    "https://learn.microsoft.com/en-us/graph/api/overview"
)


class ScopeFormat(StrEnum):
    """How an integration's delegated scopes are written in the string pushed to Paragon.

    ``qualified``: ``<resource URI>/<name>`` (``https://analysis.windows.net/powerbi/api/Dataset.Read.All``),
    which is what the Microsoft identity platform v2 endpoint needs for a non-Graph resource: a bare
    name is read as a Graph scope and fails with AADSTS650053. ``bare``: the name alone
    (``Mail.Read``), right for Microsoft Graph. OpenID scopes are always bare.
    """

    QUALIFIED = "qualified"
    BARE = "bare"


@dataclass(frozen=True)
class ExtraValue:
    """A setting Paragon asks for beyond client ID, secret and scopes (e.g. a Dynamics organization URL).

    Paragon does not document the key its credential ``values`` use for these settings, so ``name`` is the
    suggested key, not a known one: config passes values through ``integrations.<key>.paragon_values``
    under whatever key the operator's Paragon dashboard uses.

    Attributes:
        name: Suggested key in the credential's ``values`` (unverified; see above).
        description: What the value is, with an example.
        secret: True when the value is a secret: it never goes in YAML, and the provisioner does not push
            it; it is entered in Paragon's dashboard by hand (a manual step named in docs/integrations.md).
    """

    name: str
    description: str
    secret: bool = False


@dataclass(frozen=True)
class CatalogEntry:
    """What one Paragon integration needs from an Entra app registration.

    Attributes:
        key: Paragon's integration key (its ``type``), e.g. ``powerbi``.
        title: Human name, used in display names and messages.
        resource_app_id: Application (client) ID of the resource API whose delegated permissions the
            integration requests; its service principal resolves scope names to IDs at deploy time.
        resource_uri: The resource's identifier URI (or, for Azure DevOps, the app ID Microsoft documents
            as the scope prefix), used to qualify scope names. For per-environment resources (Dataverse,
            Finance & Operations) a pattern with ``<org>`` / ``<env>``; see ``resource_uri_per_environment``.
        resource_title: Human name of the resource API.
        delegated_scopes: Known delegated permission names on the resource API; config is checked against it.
        default_scopes: Least-privilege default for the integration's common use, used when config has no
            ``scopes:``; a subset of ``delegated_scopes``.
        sign_in_audiences: The ``signInAudience`` values the resource API accepts for this integration.
        personal_account_scopes: Of ``delegated_scopes``, those that work for personal Microsoft accounts;
            only consulted when ``sign_in_audiences`` includes a personal audience.
        audience_reason: Why the audience set is what it is (shown when config asks for another one).
        openid_scopes: OpenID scopes the integration always needs (``offline_access`` gives refresh tokens:
            without it connections die when the first access token expires, after about an hour).
        paragon_scope_format: How resource scopes are written in the string pushed to Paragon. Paragon does
            not document the format (an open question in paragon-api.md); config can override it.
        paragon_includes_openid: Whether the OpenID scopes are part of the string pushed to Paragon.
        resource_uri_per_environment: True when the resource URI depends on the customer's environment
            (``https://<org>.crm.dynamics.com``): scopes are then pushed bare and ``qualified`` is refused.
        extras: Settings Paragon asks for beyond client ID, secret and scopes.
        sources: Titles and URLs of the documents the entry's facts were checked against.
    """

    key: str
    title: str
    resource_app_id: str
    resource_uri: str
    resource_title: str
    delegated_scopes: frozenset[str]
    default_scopes: tuple[str, ...]
    sign_in_audiences: frozenset[str]
    audience_reason: str
    sources: tuple[str, ...]
    personal_account_scopes: frozenset[str] = frozenset()
    openid_scopes: tuple[str, ...] = ("offline_access",)
    paragon_scope_format: ScopeFormat = ScopeFormat.QUALIFIED
    paragon_includes_openid: bool = True
    resource_uri_per_environment: bool = False
    extras: tuple[ExtraValue, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        unknown = [s for s in self.default_scopes if s not in self.delegated_scopes]
        if unknown or not self.default_scopes:
            raise ValueError(f"catalog entry {self.key}: default scopes {unknown} are not known delegated scopes")
        if not self.sign_in_audiences or not self.sign_in_audiences <= ALL_AUDIENCES:
            raise ValueError(f"catalog entry {self.key}: bad sign-in audiences {sorted(self.sign_in_audiences)}")
        if not self.personal_account_scopes <= self.delegated_scopes:
            raise ValueError(f"catalog entry {self.key}: personal-account scopes must be known delegated scopes")

    @property
    def resource_is_graph(self) -> bool:
        """True when the resource API is Microsoft Graph itself."""
        return self.resource_app_id == MICROSOFT_GRAPH_APP_ID

    @property
    def accepts_personal_accounts(self) -> bool:
        """True when some audience the entry accepts includes personal Microsoft accounts."""
        return bool(self.sign_in_audiences & PERSONAL_ACCOUNTS)


_GRAPH_URI: Final = "https://graph.microsoft.com"


def _graph_entry(
    *,
    key: str,
    title: str,
    delegated_scopes: frozenset[str],
    default_scopes: tuple[str, ...],
    sign_in_audiences: frozenset[str],
    personal_account_scopes: frozenset[str] = frozenset(),
    audience_reason: str,
    extras: tuple[ExtraValue, ...] = (),
) -> CatalogEntry:
    """An integration on Microsoft Graph: Graph's app ID and URI, bare scope names for Paragon, and Graph's
    permissions reference (and its per-API personal-account tables) as sources."""
    return CatalogEntry(
        key=key,
        title=title,
        resource_app_id=MICROSOFT_GRAPH_APP_ID,
        resource_uri=_GRAPH_URI,
        resource_title="Microsoft Graph",
        delegated_scopes=delegated_scopes,
        default_scopes=default_scopes,
        sign_in_audiences=sign_in_audiences,
        personal_account_scopes=personal_account_scopes,
        audience_reason=audience_reason,
        paragon_scope_format=ScopeFormat.BARE,
        extras=extras,
        sources=(GRAPH_PERMISSIONS_REFERENCE, GRAPH_MSA_NOTE),
    )


_WORK_OR_SCHOOL_REASON: Final = "{api} accepts work or school (Entra ID) accounts only"

POWER_BI: Final = CatalogEntry(
    key="powerbi",
    title="Power BI",
    resource_app_id="00000009-0000-0000-c000-000000000000",
    resource_uri="https://analysis.windows.net/powerbi/api",
    resource_title="Power BI Service",
    # Delegated scope names in Microsoft's current Power BI REST API definition (entra-facts.md).
    # Microsoft publishes no GUIDs for them: IDs are resolved at deploy time from the service principal.
    delegated_scopes=frozenset(
        {
            "App.Read.All",
            "Capacity.Read.All",
            "Capacity.ReadWrite.All",
            "Content.Create",
            "Dashboard.Read.All",
            "Dashboard.ReadWrite.All",
            "Dataflow.Read.All",
            "Dataflow.ReadWrite.All",
            "Dataset.Read.All",
            "Dataset.ReadWrite.All",
            "Pipeline.Deploy",
            "Pipeline.Read.All",
            "Pipeline.ReadWrite.All",
            "Report.Read.All",
            "Report.ReadWrite.All",
            "StorageAccount.Read.All",
            "StorageAccount.ReadWrite.All",
            "Tenant.Read.All",
            "Tenant.ReadWrite.All",
            "Workspace.Read.All",
            "Workspace.ReadWrite.All",
        }
    ),
    default_scopes=("Dataset.Read.All", "Report.Read.All"),
    sign_in_audiences=WORK_OR_SCHOOL,
    audience_reason="Power BI accepts work or school (Entra ID) accounts only; personal accounts cannot sign in",
    sources=(
        "Power BI REST API definition (azure-rest-api-specs, powerbi), scope names",
        "Register a Microsoft Entra app to use with Power BI, "
        "https://learn.microsoft.com/en-us/power-bi/developer/embedded/register-app",
    ),
)

OUTLOOK: Final = _graph_entry(
    key="outlook",
    title="Outlook",
    delegated_scopes=frozenset(
        {
            "Calendars.Read",
            "Calendars.ReadWrite",
            "Contacts.Read",
            "Contacts.ReadWrite",
            "Mail.Read",
            "Mail.ReadBasic",
            "Mail.ReadWrite",
            "Mail.Send",
            "MailboxSettings.Read",
            "MailboxSettings.ReadWrite",
            "User.Read",
        }
    ),
    default_scopes=("Mail.Read", "Calendars.Read", "User.Read"),
    sign_in_audiences=ALL_AUDIENCES,
    personal_account_scopes=frozenset(
        {
            "Calendars.Read",
            "Calendars.ReadWrite",
            "Contacts.Read",
            "Contacts.ReadWrite",
            "Mail.Read",
            "Mail.ReadBasic",
            "Mail.ReadWrite",
            "Mail.Send",
            "MailboxSettings.Read",
            "MailboxSettings.ReadWrite",
            "User.Read",
        }
    ),
    audience_reason="Outlook mail, calendar and contacts APIs accept work or school and personal accounts",
)

_FILES: Final = frozenset({"Files.Read", "Files.Read.All", "Files.ReadWrite", "Files.ReadWrite.All"})

ONEDRIVE: Final = _graph_entry(
    key="onedrive",
    title="OneDrive",
    delegated_scopes=_FILES | {"User.Read"},
    default_scopes=("Files.Read.All", "User.Read"),
    sign_in_audiences=ALL_AUDIENCES,
    personal_account_scopes=_FILES | {"User.Read"},
    audience_reason="OneDrive (Files.*) accepts work or school and personal accounts",
)

EXCEL: Final = _graph_entry(
    key="excel",
    title="Excel",
    delegated_scopes=_FILES | {"User.Read"},
    default_scopes=("Files.ReadWrite", "User.Read"),
    sign_in_audiences=ALL_AUDIENCES,
    personal_account_scopes=_FILES | {"User.Read"},
    audience_reason="Excel workbooks in OneDrive (Files.*) accept work or school and personal accounts",
)

ONENOTE: Final = _graph_entry(
    key="onenote",
    title="OneNote",
    delegated_scopes=frozenset(
        {"Notes.Create", "Notes.Read", "Notes.Read.All", "Notes.ReadWrite", "Notes.ReadWrite.All", "User.Read"}
    ),
    default_scopes=("Notes.Read", "User.Read"),
    sign_in_audiences=ALL_AUDIENCES,
    personal_account_scopes=frozenset({"Notes.Create", "Notes.Read", "Notes.ReadWrite", "User.Read"}),
    audience_reason="OneNote accepts personal accounts for Notes.Create/Read/ReadWrite; *.All are work or school",
)

SHAREPOINT: Final = _graph_entry(
    key="sharepoint",
    title="SharePoint",
    delegated_scopes=frozenset(
        {
            "Files.Read.All",
            "Files.ReadWrite.All",
            "Group.Read.All",
            "Sites.FullControl.All",
            "Sites.Manage.All",
            "Sites.Read.All",
            "Sites.ReadWrite.All",
            "User.Read",
            "User.Read.All",
        }
    ),
    default_scopes=("Sites.Read.All", "Files.Read.All", "User.Read"),
    sign_in_audiences=WORK_OR_SCHOOL,
    audience_reason=_WORK_OR_SCHOOL_REASON.format(api="SharePoint (Sites.*)"),
)

MICROSOFT_TEAMS: Final = CatalogEntry(
    key="microsoftTeams",
    title="Microsoft Teams",
    resource_app_id=MICROSOFT_GRAPH_APP_ID,
    resource_uri=_GRAPH_URI,
    resource_title="Microsoft Graph",
    delegated_scopes=frozenset(
        {
            "Channel.ReadBasic.All",
            "ChannelMessage.Read.All",
            "ChannelMessage.Send",
            "Chat.Read",
            "Chat.ReadBasic",
            "Chat.ReadWrite",
            "ChatMessage.Send",
            "Team.ReadBasic.All",
            "User.Read",
            "User.ReadBasic.All",
        }
    ),
    default_scopes=("Team.ReadBasic.All", "Channel.ReadBasic.All", "ChannelMessage.Send", "User.Read"),
    sign_in_audiences=WORK_OR_SCHOOL,
    audience_reason=_WORK_OR_SCHOOL_REASON.format(api="Microsoft Teams (teams, channels, chats)"),
    paragon_scope_format=ScopeFormat.BARE,
    extras=(
        ExtraValue("teamsAppId", "Teams app (manifest) ID, a GUID"),
        ExtraValue("botId", "Azure Bot (Microsoft App) ID, a GUID"),
        ExtraValue("botClientSecret", "the bot's client secret: enter it in Paragon's dashboard", secret=True),
    ),
    sources=(
        GRAPH_PERMISSIONS_REFERENCE,
        GRAPH_MSA_NOTE,
        "Paragon Microsoft Teams setup guide (Teams app and bot fields), https://docs.useparagon.com/resources/integrations/microsoft-teams",
    ),
)

DYNAMICS: Final = CatalogEntry(
    key="microsoftDynamics",
    title="Dynamics 365 Sales",
    resource_app_id="00000007-0000-0000-c000-000000000000",
    resource_uri="https://<org>.crm.dynamics.com",
    resource_title="Dynamics CRM (Dataverse)",
    delegated_scopes=frozenset({"user_impersonation"}),
    default_scopes=("user_impersonation",),
    sign_in_audiences=WORK_OR_SCHOOL,
    audience_reason=_WORK_OR_SCHOOL_REASON.format(api="Dataverse (Dynamics CRM)"),
    paragon_scope_format=ScopeFormat.BARE,
    resource_uri_per_environment=True,
    extras=(ExtraValue("organizationUrl", "the Dataverse organization URL, e.g. https://contoso.crm.dynamics.com"),),
    sources=(
        "Use OAuth authentication with Microsoft Dataverse (app registration: Dynamics CRM, delegated "
        "user_impersonation), https://learn.microsoft.com/en-us/power-apps/developer/data-platform/authenticate-oauth",
    ),
)

BUSINESS_CENTRAL: Final = CatalogEntry(
    key="dynamicsbusinesscentral",
    title="Dynamics 365 Business Central",
    resource_app_id="996def3d-b36c-4153-8607-a6fd3c01b89f",
    resource_uri="https://api.businesscentral.dynamics.com",
    resource_title="Dynamics 365 Business Central",
    delegated_scopes=frozenset({"Financials.ReadWrite.All", "user_impersonation"}),
    default_scopes=("Financials.ReadWrite.All",),
    sign_in_audiences=WORK_OR_SCHOOL,
    audience_reason=_WORK_OR_SCHOOL_REASON.format(api="Business Central"),
    extras=(ExtraValue("environment", "the Business Central environment name, e.g. production"),),
    sources=(
        "Using OAuth to authorize Business Central web services, https://learn.microsoft.com/en-us/dynamics365/"
        "business-central/dev-itpro/webservices/authenticate-web-services-using-oauth",
        "Microsoft navcontainerhelper AzureAD/Create-AadAppsForNav.ps1 (resource app 996def3d-..., "
        "Financials.ReadWrite.All)",
    ),
)

DYNAMICS_FINANCE: Final = CatalogEntry(
    key="dynamicsfinance",
    title="Dynamics 365 Finance",
    resource_app_id="00000015-0000-0000-c000-000000000000",
    resource_uri="https://<env>.operations.dynamics.com",
    resource_title="Dynamics ERP",
    delegated_scopes=frozenset({"AX.FullAccess", "CustomService.FullAccess", "Odata.FullAccess"}),
    default_scopes=("Odata.FullAccess",),
    sign_in_audiences=WORK_OR_SCHOOL,
    audience_reason=_WORK_OR_SCHOOL_REASON.format(api="Finance & Operations (Dynamics ERP)"),
    paragon_scope_format=ScopeFormat.BARE,
    resource_uri_per_environment=True,
    extras=(
        ExtraValue(
            "environmentUrl", "the Finance & Operations environment URL, e.g. https://contoso.operations.dynamics.com"
        ),
    ),
    sources=(
        "Service endpoints overview (Dynamics ERP delegated permissions), https://learn.microsoft.com/en-us/"
        "dynamics365/fin-ops-core/dev-itpro/data-entities/services-home-page",
    ),
)

AZURE_DEVOPS: Final = CatalogEntry(
    key="azuredevops",
    title="Azure DevOps",
    resource_app_id="499b84ac-1321-427f-aa17-267ca6975798",
    # Microsoft's Entra OAuth page writes Azure DevOps scopes as <app ID>/<scope>.
    resource_uri="499b84ac-1321-427f-aa17-267ca6975798",
    resource_title="Azure DevOps",
    delegated_scopes=frozenset(
        {
            "user_impersonation",
            "vso.agentpools",
            "vso.analytics",
            "vso.auditlog",
            "vso.build",
            "vso.build_execute",
            "vso.code",
            "vso.code_full",
            "vso.code_manage",
            "vso.code_status",
            "vso.code_write",
            "vso.connected_server",
            "vso.entitlements",
            "vso.extension",
            "vso.extension_manage",
            "vso.graph",
            "vso.graph_manage",
            "vso.identity",
            "vso.identity_manage",
            "vso.memberentitlementmanagement",
            "vso.memberentitlementmanagement_write",
            "vso.notification",
            "vso.notification_write",
            "vso.packaging",
            "vso.packaging_write",
            "vso.profile",
            "vso.project",
            "vso.project_manage",
            "vso.project_write",
            "vso.release",
            "vso.release_execute",
            "vso.serviceendpoint",
            "vso.test",
            "vso.test_write",
            "vso.threads_full",
            "vso.variablegroups_read",
            "vso.wiki",
            "vso.wiki_write",
            "vso.work",
            "vso.work_full",
            "vso.work_write",
        }
    ),
    default_scopes=("vso.profile", "vso.project", "vso.work"),
    sign_in_audiences=WORK_OR_SCHOOL,
    audience_reason="Microsoft Entra OAuth apps do not natively support personal (MSA) users for Azure DevOps",
    extras=(ExtraValue("organization", "the Azure DevOps organization name, e.g. contoso"),),
    sources=(
        "Use Microsoft Entra ID OAuth for Azure DevOps, "
        "https://learn.microsoft.com/en-us/azure/devops/integrate/get-started/authentication/entra-oauth",
        "Azure DevOps OAuth scopes, "
        "https://learn.microsoft.com/en-us/azure/devops/integrate/get-started/authentication/oauth#scopes",
    ),
)

CATALOG: Final[dict[str, CatalogEntry]] = {
    entry.key: entry
    for entry in (
        POWER_BI,
        OUTLOOK,
        MICROSOFT_TEAMS,
        SHAREPOINT,
        ONEDRIVE,
        ONENOTE,
        EXCEL,
        DYNAMICS,
        BUSINESS_CENTRAL,
        DYNAMICS_FINANCE,
        AZURE_DEVOPS,
    )
}
"""Every integration this provisioner knows, by Paragon integration key."""

GRAPH_SCOPE_NAMES: Final = frozenset(
    {name for entry in CATALOG.values() if entry.resource_is_graph for name in entry.delegated_scopes}
    | set(GRAPH_DELEGATED_SCOPE_IDS)
)
"""Every Microsoft Graph permission name in the catalog, so config can say "that is a Graph scope"."""


def paragon_scope_string(entry: CatalogEntry, scopes: tuple[str, ...], fmt: ScopeFormat | None = None) -> str:
    """Render the scope string pushed to Paragon: one string, scopes separated by single spaces.

    Args:
        entry: The integration's catalog entry.
        scopes: Delegated permission names on the resource API, in config order.
        fmt: Overrides ``entry.paragon_scope_format`` when given.

    Returns:
        E.g. ``"https://analysis.windows.net/powerbi/api/Dataset.Read.All offline_access"``; resource
        scopes first in the given order, then the entry's OpenID scopes when it pushes them.
    """
    fmt = fmt or entry.paragon_scope_format
    rendered = [
        f"{entry.resource_uri.rstrip('/')}/{name}" if fmt is ScopeFormat.QUALIFIED else name
        for name in scopes
        if name not in OPENID_SCOPE_IDS
    ]
    if entry.paragon_includes_openid:
        openid = [s for s in scopes if s in OPENID_SCOPE_IDS] + list(entry.openid_scopes)
        rendered += [s for s in dict.fromkeys(openid)]
    return " ".join(dict.fromkeys(rendered))
