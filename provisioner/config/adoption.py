"""Problems with adopted app registrations (``integrations.<key>.client_id``; docs/adopt.md)."""

from __future__ import annotations

from provisioner.catalog import CATALOG
from provisioner.catalog.permissions import all_resource_permissions
from provisioner.config.model import ProvisionerConfig
from provisioner.config.yaml_source import YamlDocument
from provisioner.errors import Problem


def first_party_resources() -> dict[str, str]:
    """Application IDs of the Microsoft first-party resource APIs the catalog knows (Microsoft Graph, Power BI,
    Dataverse, ...), with their titles."""
    known = {e.resource_app_id: e.resource_title for e in CATALOG.values()}
    for app_id, data in all_resource_permissions().items():
        known.setdefault(app_id, data.resource_title)
    return known


def client_id_problems(doc: YamlDocument, config: ProvisionerConfig) -> list[Problem]:
    """``client_id`` written empty (``client_id:``, null: the model reads it as unset), ``client_id`` naming a
    Microsoft resource API rather than an app registration of the tenant, and one app
    registration adopted by two integrations of the file (client IDs compare case-insensitively).

    A resource API's application ID (Graph's ``00000003-0000-0000-c000-000000000000``) names Microsoft's own
    multi-tenant application: no tenant can manage it, add a redirect URI or a client secret to it. Two
    integrations on one app must share it with ``app:``: two `AppRegistration` components managing the same app
    would overwrite each other's redirect URIs, scopes and owners on every run.
    """
    resources = first_party_resources()
    problems: list[Problem] = []
    first: dict[str, str] = {}
    for key, integration in config.integrations.items():
        client_id = integration.client_id
        at = ("integrations", key, "client_id")
        if client_id is None and at in doc.lines and not doc.is_reported(at):
            problems.append(
                doc.problem(
                    at,
                    "is empty; it names the app registration this stack adopted",
                    "write the application (client) ID of an app registration (a GUID) from its Overview page in "
                    "Entra, or remove the line so the stack creates its own app",
                )
            )
            continue
        if client_id is None or integration.app is not None:  # a sharer's client_id is refused as app-level
            continue
        if client_id in resources:
            problems.append(
                doc.problem(
                    ("integrations", key, "client_id"),
                    f"is the application ID of {resources[client_id]}, Microsoft's own resource API, not an app "
                    "registration of your tenant; no tenant can add redirect URIs or client secrets to it",
                    "write the application (client) ID of your own app registration (Entra: App registrations, "
                    "Overview), or remove client_id so the stack creates one",
                )
            )
            continue
        if client_id in first:
            problems.append(
                doc.problem(
                    ("integrations", key, "client_id"),
                    f"the same app registration as integrations.{first[client_id]}.client_id",
                    f"remove client_id here and write `app: {first[client_id]}` to share that app",
                )
            )
        else:
            first[client_id] = key
    return problems
