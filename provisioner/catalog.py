"""Paragon's Microsoft integrations as data: one `CatalogEntry` per Paragon integration key.

Adding an integration (Outlook, Teams, ...) means adding an entry to `CATALOG`, not writing code. Facts are
restated from ``shared/reference/entra-facts.md`` and ``paragon-api.md`` (Microsoft identity platform docs,
Microsoft's Power BI REST API definition, Paragon's integration guides).
"""

from __future__ import annotations

from dataclasses import dataclass
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
"""Graph permissions recognised by name, so config can say "that is a Graph scope" for non-Graph integrations."""


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
class CatalogEntry:
    """What one Paragon integration needs from an Entra app registration.

    Attributes:
        key: Paragon's integration key (its ``type``), e.g. ``powerbi``.
        title: Human name, used in display names and messages.
        resource_app_id: Application (client) ID of the resource API whose delegated permissions the
            integration requests; its service principal resolves scope names to IDs at deploy time.
        resource_uri: The resource's identifier URI, used to qualify scope names.
        resource_title: Human name of the resource API.
        delegated_scopes: Known delegated permission names on the resource API; config is checked against it.
        openid_scopes: OpenID scopes the integration always needs (``offline_access`` gives refresh tokens:
            without it connections die when the first access token expires, after about an hour).
        paragon_scope_format: How resource scopes are written in the string pushed to Paragon. Paragon does
            not document the format (an open question in paragon-api.md); config can override it.
        paragon_includes_openid: Whether the OpenID scopes are part of the string pushed to Paragon.
    """

    key: str
    title: str
    resource_app_id: str
    resource_uri: str
    resource_title: str
    delegated_scopes: frozenset[str]
    openid_scopes: tuple[str, ...] = ("offline_access",)
    paragon_scope_format: ScopeFormat = ScopeFormat.QUALIFIED
    paragon_includes_openid: bool = True

    @property
    def resource_is_graph(self) -> bool:
        """True when the resource API is Microsoft Graph itself."""
        return self.resource_app_id == MICROSOFT_GRAPH_APP_ID


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
)

CATALOG: Final[dict[str, CatalogEntry]] = {entry.key: entry for entry in (POWER_BI,)}
"""Every integration this provisioner knows, by Paragon integration key."""


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
