"""Scope names to IDs for every app registration of one run, with at most one lookup per resource API.

Microsoft Graph's delegated permission IDs are the same in every tenant and come from the generated data
(`provisioner.catalog.permissions`), so an app whose scopes all have a published ID needs no lookup. Other
resources (Power BI, Dataverse, Azure DevOps, ...) publish no IDs: their names are resolved from the resource
API's service principal (``azuread.get_service_principal``, its ``oauth2_permission_scope_ids``). A
`ScopeResolver` makes that lookup once per resource API per run, however many integrations use it.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_azuread as azuread

from provisioner.catalog import OPENID_SCOPE_IDS, CatalogEntry, published_scope_id


def needs_lookup(entry: CatalogEntry, scopes: tuple[str, ...]) -> bool:
    """True when some resource scope of ``scopes`` has no published ID (so the service principal must say)."""
    return any(
        published_scope_id(entry.resource_app_id, name) is None for name in scopes if name not in OPENID_SCOPE_IDS
    )


class ScopeResolver:
    """Per-run cache of service-principal lookups, by resource application ID.

    Create one per program run (`provisioner.program.stack.build`) and pass it to every `AppRegistration`.
    Nothing is kept beyond the run.
    """

    def __init__(self) -> None:
        self._lookups: dict[str, pulumi.Output[Mapping[str, str]]] = {}

    def published(self, resource_app_id: str) -> pulumi.Output[Mapping[str, str]]:
        """Name -> ID of every delegated scope the resource's service principal publishes (one invoke per ID)."""
        key = resource_app_id.lower()
        if key not in self._lookups:
            principal = azuread.get_service_principal_output(client_id=resource_app_id)
            self._lookups[key] = principal.oauth2_permission_scope_ids
        return self._lookups[key]

    def scope_ids(self, entry: CatalogEntry, scopes: tuple[str, ...]) -> pulumi.Output[Mapping[str, str]]:
        """Name -> ID for the resource scopes of ``scopes``: published IDs first, the lookup only when needed."""
        known = {
            name: scope_id
            for name in scopes
            if name not in OPENID_SCOPE_IDS and (scope_id := published_scope_id(entry.resource_app_id, name))
        }
        if not needs_lookup(entry, scopes):
            return pulumi.Output.from_input(known)
        return self.published(entry.resource_app_id).apply(lambda published: {**published, **known})
