"""Paragon's Microsoft integrations as data: one `CatalogEntry` per Paragon integration key.

Adding an integration means adding an entry to `CATALOG`, not writing code. Each entry names the Microsoft
document its facts come from (``sources``); the resource app IDs and scope names were checked against those
documents. Which names a resource API publishes, their IDs and admin-consent flags are generated data
(`provisioner.catalog.permissions`): Microsoft Graph's IDs come from that data (no lookup at deploy time);
other resources' IDs are resolved from their service principal at deploy time
(`provisioner.program.app_registration`).
"""

from __future__ import annotations

from typing import Final

from provisioner.catalog.entry import (
    ALL_AUDIENCES,
    MICROSOFT_GRAPH_APP_ID,
    PERSONAL_ACCOUNTS,
    WORK_OR_SCHOOL,
    CatalogEntry,
    ExtraValue,
    ScopeFormat,
)
from provisioner.catalog.permissions import resource_permissions


def _published(resource_app_id: str) -> frozenset[str]:
    """Names in the generated permission data of a resource (empty when there is none)."""
    data = resource_permissions(resource_app_id)
    return frozenset(data.scopes) if data else frozenset()


def _published_personal(resource_app_id: str, names: frozenset[str]) -> frozenset[str]:
    """Of ``names``, those the generated data marks as working for personal Microsoft accounts."""
    data = resource_permissions(resource_app_id)
    return frozenset(n for n in names if data is not None and n in data.scopes and data.scopes[n].personal)


def _graph_ids() -> dict[str, str]:
    data = resource_permissions(MICROSOFT_GRAPH_APP_ID)
    return {n: p.id for n, p in data.scopes.items() if p.id} if data else {}


GRAPH_DELEGATED_SCOPE_IDS: Final[dict[str, str]] = _graph_ids()
"""Microsoft Graph's delegated permission IDs (the same in every tenant), from the generated data."""

GRAPH_PERMISSIONS_REFERENCE: Final = (
    "Microsoft Graph permissions reference, https://learn.microsoft.com/en-us/graph/permissions-reference"
)
GRAPH_PERMISSIONS_DATA: Final = (
    "Microsoft Graph permissions data (names, IDs, admin consent, personal accounts), generated from "
    "microsoftgraph/microsoft-graph-devx-content permissions/new/, "
    "https://github.com/microsoftgraph/microsoft-graph-devx-content"
)
GRAPH_MSA_NOTE: Final = (
    "Microsoft Graph API reference, per-API 'Permissions' table (Delegated (personal Microsoft account) row), "
    "https://learn.microsoft.com/en-us/graph/api/overview"
)


_GRAPH_URI: Final = "https://graph.microsoft.com"


def _graph_entry(
    *,
    key: str,
    title: str,
    delegated_scopes: frozenset[str],
    default_scopes: tuple[str, ...],
    sign_in_audiences: frozenset[str],
    audience_reason: str,
    default_reason: str,
    extras: tuple[ExtraValue, ...] = (),
) -> CatalogEntry:
    """An integration on Microsoft Graph: Graph's app ID and URI, bare scope names for Paragon, Graph's
    permissions reference as source, and the personal-account scopes as its data marks them."""
    personal = (
        _published_personal(MICROSOFT_GRAPH_APP_ID, delegated_scopes)
        if sign_in_audiences & PERSONAL_ACCOUNTS
        else frozenset()
    )
    return CatalogEntry(
        key=key,
        title=title,
        resource_app_id=MICROSOFT_GRAPH_APP_ID,
        resource_uri=_GRAPH_URI,
        resource_title="Microsoft Graph",
        delegated_scopes=delegated_scopes,
        default_scopes=default_scopes,
        sign_in_audiences=sign_in_audiences,
        personal_account_scopes=personal,
        audience_reason=audience_reason,
        default_reason=default_reason,
        paragon_scope_format=ScopeFormat.BARE,
        extras=extras,
        sources=(GRAPH_PERMISSIONS_REFERENCE, GRAPH_MSA_NOTE, GRAPH_PERMISSIONS_DATA),
    )


_WORK_OR_SCHOOL_REASON: Final = "{api} accepts work or school (Entra ID) accounts only"

POWER_BI_APP_ID: Final = "00000009-0000-0000-c000-000000000000"
AZURE_DEVOPS_APP_ID: Final = "499b84ac-1321-427f-aa17-267ca6975798"

POWER_BI: Final = CatalogEntry(
    key="powerbi",
    title="Power BI",
    resource_app_id=POWER_BI_APP_ID,
    resource_uri="https://analysis.windows.net/powerbi/api",
    resource_title="Power BI Service",
    # Every name in the generated Power BI / Fabric data (classic Power BI REST API and the Fabric specs'
    # "Required Delegated Scopes"). Microsoft publishes no IDs: they are resolved at deploy time.
    delegated_scopes=_published(POWER_BI_APP_ID),
    default_scopes=("Dataset.Read.All", "Report.Read.All"),
    default_reason="read-only access to datasets and reports; Power BI publishes no narrower delegated scope "
    "for them (every Power BI read scope is .All over what the user can access)",
    sign_in_audiences=WORK_OR_SCHOOL,
    audience_reason="Power BI accepts work or school (Entra ID) accounts only; personal accounts cannot sign in",
    sources=(
        "Power BI REST API definition (azure-rest-api-specs, powerbi), scope names",
        "Microsoft Fabric REST API specs, 'Required Delegated Scopes' per API, "
        "https://github.com/microsoft/fabric-rest-api-specs",
        "Register a Microsoft Entra app to use with Power BI, "
        "https://learn.microsoft.com/en-us/power-bi/developer/embedded/register-app",
    ),
)

_OUTLOOK_SCOPES: Final = frozenset(
    {
        "Calendars.Read",
        "Calendars.Read.Shared",
        "Calendars.ReadBasic",
        "Calendars.ReadWrite",
        "Calendars.ReadWrite.Shared",
        "Contacts.Read",
        "Contacts.Read.Shared",
        "Contacts.ReadWrite",
        "Mail.Read",
        "Mail.Read.Shared",
        "Mail.ReadBasic",
        "Mail.ReadWrite",
        "Mail.ReadWrite.Shared",
        "Mail.Send",
        "Mail.Send.Shared",
        "MailboxSettings.Read",
        "MailboxSettings.ReadWrite",
        "People.Read",
        "Tasks.Read",
        "Tasks.ReadWrite",
        "User.Read",
    }
)

OUTLOOK: Final = _graph_entry(
    key="outlook",
    title="Outlook",
    delegated_scopes=_OUTLOOK_SCOPES,
    default_scopes=("Mail.Read", "Calendars.Read", "User.Read"),
    default_reason="the signed-in user's own mail and calendar, read only (Mail.ReadBasic and "
    "Calendars.ReadBasic leave out message bodies and event details, which the integration reads)",
    sign_in_audiences=ALL_AUDIENCES,
    audience_reason="Outlook mail, calendar and contacts APIs accept work or school and personal accounts",
)

_FILES: Final = frozenset(
    {
        "Files.Read",
        "Files.Read.All",
        "Files.Read.Selected",
        "Files.ReadWrite",
        "Files.ReadWrite.All",
        "Files.ReadWrite.AppFolder",
        "Files.ReadWrite.Selected",
    }
)

ONEDRIVE: Final = _graph_entry(
    key="onedrive",
    title="OneDrive",
    delegated_scopes=_FILES | {"User.Read"},
    default_scopes=("Files.Read", "User.Read"),
    default_reason="the signed-in user's own files, read only; Files.Read.All (files shared with the user too) "
    "needs an admin's approval in tenants on Microsoft's default consent setting since July 2025",
    sign_in_audiences=ALL_AUDIENCES,
    audience_reason="OneDrive (Files.*) accepts work or school and personal accounts",
)

EXCEL: Final = _graph_entry(
    key="excel",
    title="Excel",
    delegated_scopes=_FILES | {"User.Read"},
    default_scopes=("Files.ReadWrite", "User.Read"),
    default_reason="the signed-in user's own workbooks, read and write (the Excel API writes through sessions "
    "even to read calculated values)",
    sign_in_audiences=ALL_AUDIENCES,
    audience_reason="Excel workbooks in OneDrive (Files.*) accept work or school and personal accounts",
)

ONENOTE: Final = _graph_entry(
    key="onenote",
    title="OneNote",
    delegated_scopes=frozenset(
        {"Notes.Create", "Notes.Read", "Notes.Read.All", "Notes.ReadWrite", "Notes.ReadWrite.All", "User.Read"}
    ),
    default_scopes=("Notes.Read", "User.Read"),
    default_reason="the signed-in user's own notebooks, read only",
    sign_in_audiences=ALL_AUDIENCES,
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
            "Sites.Selected",
            "User.Read",
            "User.Read.All",
        }
    ),
    default_scopes=("Sites.Read.All", "Files.Read.All", "User.Read"),
    default_reason="read only; Sites.Read.All and Files.Read.All are kept although Microsoft's managed consent "
    "policy makes them need an admin's approval: SharePoint content spans sites the user can access, and "
    "Sites.Selected (narrower) works only after an admin grants the app each site",
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
            "ChannelMember.Read.All",
            "ChannelMessage.Read.All",
            "ChannelMessage.Send",
            "Chat.Create",
            "Chat.Read",
            "Chat.ReadBasic",
            "Chat.ReadWrite",
            "ChatMessage.Send",
            "OnlineMeetings.Read",
            "Presence.Read",
            "Presence.Read.All",
            "Team.ReadBasic.All",
            "TeamMember.Read.All",
            "User.Read",
            "User.ReadBasic.All",
        }
    ),
    default_scopes=("Team.ReadBasic.All", "Channel.ReadBasic.All", "ChannelMessage.Send", "User.Read"),
    default_reason="list the user's teams and channels and post messages; none needs admin consent "
    "(ChannelMessage.Read.All, to read messages, does)",
    sign_in_audiences=WORK_OR_SCHOOL,
    audience_reason=_WORK_OR_SCHOOL_REASON.format(api="Microsoft Teams (teams, channels, chats)"),
    paragon_scope_format=ScopeFormat.BARE,
    extras=(
        ExtraValue("teamsAppId", "Teams app (manifest) ID, a GUID"),
        ExtraValue(
            "botId",
            "the Azure Bot's Microsoft App ID, a GUID; bots created since 2025 are single-tenant (or use a "
            "managed identity), so the bot's own app registration lives in your tenant",
        ),
        ExtraValue(
            "botClientSecret",
            "the bot app registration's client secret: enter it in Paragon's dashboard and renew it there; "
            "the provisioner neither stores nor rotates it",
            secret=True,
        ),
    ),
    sources=(
        GRAPH_PERMISSIONS_REFERENCE,
        GRAPH_MSA_NOTE,
        GRAPH_PERMISSIONS_DATA,
        "Paragon Microsoft Teams setup guide (Teams app and bot fields), https://docs.useparagon.com/resources/integrations/microsoft-teams",
        "Azure Bot registrations: multi-tenant creation deprecated in 2025 (SingleTenant or user-assigned "
        "managed identity), https://learn.microsoft.com/en-us/azure/bot-service/bot-service-quickstart-registration",
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
    default_reason="Dataverse publishes one delegated scope; what the user can do is set by their security roles",
    sign_in_audiences=WORK_OR_SCHOOL,
    audience_reason=_WORK_OR_SCHOOL_REASON.format(api="Dataverse (Dynamics CRM)"),
    paragon_scope_format=ScopeFormat.BARE,
    resource_uri_per_environment=True,
    environment_value="organizationUrl",
    environment_host=r"[a-z0-9][a-z0-9-]*\.crm(?:[0-9]{1,2})?\.dynamics\.com",
    extras=(
        ExtraValue(
            "organizationUrl", "the Dataverse organization URL, https://<org>.crm<N>.dynamics.com (no path or slash)"
        ),
    ),
    sources=(
        "Use OAuth authentication with Microsoft Dataverse (app registration: Dynamics CRM, delegated "
        "user_impersonation; scopes qualified with the environment URL), "
        "https://learn.microsoft.com/en-us/power-apps/developer/data-platform/authenticate-oauth",
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
    default_reason="Business Central publishes no read-only delegated scope; Financials.ReadWrite.All is the "
    "one its web services document, and the user's permission sets limit it",
    sign_in_audiences=WORK_OR_SCHOOL,
    audience_reason=_WORK_OR_SCHOOL_REASON.format(api="Business Central"),
    extras=(ExtraValue("environment", "the Business Central environment name, e.g. production", plain_name=True),),
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
    default_reason="Finance & Operations publishes only FullAccess delegated scopes; Odata.FullAccess covers "
    "the OData data entities alone (not custom services or AX), and the user's security roles limit it",
    sign_in_audiences=WORK_OR_SCHOOL,
    audience_reason=_WORK_OR_SCHOOL_REASON.format(api="Finance & Operations (Dynamics ERP)"),
    paragon_scope_format=ScopeFormat.BARE,
    resource_uri_per_environment=True,
    environment_value="environmentUrl",
    environment_host=r"(?:[a-z0-9][a-z0-9-]*\.)+operations(?:\.[a-z0-9-]+)?\.dynamics\.com",
    extras=(
        ExtraValue(
            "environmentUrl",
            "the Finance & Operations environment URL, https://<env>.operations.dynamics.com (no path or slash)",
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
    resource_app_id=AZURE_DEVOPS_APP_ID,
    # Microsoft's Entra OAuth page writes Azure DevOps scopes as <app ID>/<scope>.
    resource_uri=AZURE_DEVOPS_APP_ID,
    resource_title="Azure DevOps",
    # Every scope in Microsoft's published Azure DevOps scope table (generated data).
    delegated_scopes=_published(AZURE_DEVOPS_APP_ID),
    default_scopes=("vso.profile", "vso.project", "vso.work"),
    default_reason="read the user's profile, projects and work items; none is high-privilege in Microsoft's "
    "table (user_impersonation, full access to every REST API, is)",
    sign_in_audiences=WORK_OR_SCHOOL,
    audience_reason="Microsoft Entra OAuth apps do not natively support personal (MSA) users for Azure DevOps",
    dashboard_settings=(
        (
            "Application type",
            "Microsoft Entra ID App (Azure DevOps OAuth apps take no new registrations since April 2025)",
        ),
    ),
    extras=(
        ExtraValue(
            "organization",
            "the Azure DevOps organization name, e.g. contoso (not https://dev.azure.com/contoso)",
            plain_name=True,
        ),
    ),
    sources=(
        "Use Microsoft Entra ID OAuth for Azure DevOps, "
        "https://learn.microsoft.com/en-us/azure/devops/integrate/get-started/authentication/entra-oauth",
        "Azure DevOps OAuth scopes (MicrosoftDocs/azure-devops-docs docs/integrate/includes/scopes.md), "
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


def secret_extra_fix(name: str) -> str | None:
    """The Fix: text for a secret Paragon setting found in YAML (e.g. Teams' ``botClientSecret``), else None.

    Such secrets belong to another app registration (the Teams bot's), which the provisioner neither stores
    nor rotates: the right advice is the manual step in docs/integrations.md, not the client-secret advice.
    Compared without regard to case.
    """
    for entry in CATALOG.values():
        for extra in entry.extras:
            if extra.secret and extra.name.lower() == name.lower():
                return (
                    f"delete it (and renew it if it was ever committed); enter the {entry.title} {extra.name} in the "
                    "integration's settings in Paragon's dashboard and renew it there: the provisioner neither "
                    "stores nor rotates it (docs/integrations.md, section Extra Paragon settings)"
                )
    return None
