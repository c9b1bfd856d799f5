"""Facts as data: Paragon's Microsoft integrations and the resource APIs behind them.

`entry` says what a `CatalogEntry` is (resource app, known and default delegated permissions, sign-in
audiences, Paragon settings, sources) and how its scopes are written for Paragon; `integrations` holds one
entry per Paragon integration key, as data. `permissions` loads the generated
per-resource permission data (names, IDs, admin-consent flags, with source and date) and the managed
user-consent policy; `consent.consent_need` answers "who can consent to this scope"; `suggest` offers close
names that are never broader. Nothing here imports another layer; the config checks, the Pulumi program and
the reports all read it.
"""

from provisioner.catalog.consent import ADMIN_CONSENT_URL, ConsentNeed, admin_consent_scopes, consent_need
from provisioner.catalog.entry import (
    ALL_AUDIENCES,
    MICROSOFT_GRAPH_APP_ID,
    OPENID_SCOPE_IDS,
    PARAGON_RESERVED_VALUES,
    PERSONAL_ACCOUNTS,
    WORK_OR_SCHOOL,
    CatalogEntry,
    ExtraValue,
    ScopeFormat,
    environment_url,
    paragon_scope_format,
    paragon_scope_string,
    reserved_value_keys,
)
from provisioner.catalog.integrations import (
    AZURE_DEVOPS,
    AZURE_DEVOPS_APP_ID,
    BUSINESS_CENTRAL,
    CATALOG,
    DYNAMICS,
    DYNAMICS_FINANCE,
    EXCEL,
    GRAPH_DELEGATED_SCOPE_IDS,
    GRAPH_MSA_NOTE,
    GRAPH_PERMISSIONS_DATA,
    GRAPH_PERMISSIONS_REFERENCE,
    GRAPH_SCOPE_NAMES,
    MICROSOFT_TEAMS,
    ONEDRIVE,
    ONENOTE,
    OUTLOOK,
    POWER_BI,
    POWER_BI_APP_ID,
    SHAREPOINT,
    secret_extra_fix,
)
from provisioner.catalog.permissions import (
    Permission,
    ResourcePermissions,
    published_scope_id,
    resource_permissions,
)
from provisioner.catalog.suggest import narrower_suggestions

__all__ = [
    "ADMIN_CONSENT_URL",
    "ALL_AUDIENCES",
    "AZURE_DEVOPS",
    "AZURE_DEVOPS_APP_ID",
    "BUSINESS_CENTRAL",
    "CATALOG",
    "CatalogEntry",
    "ConsentNeed",
    "DYNAMICS",
    "DYNAMICS_FINANCE",
    "EXCEL",
    "ExtraValue",
    "GRAPH_DELEGATED_SCOPE_IDS",
    "GRAPH_MSA_NOTE",
    "GRAPH_PERMISSIONS_DATA",
    "GRAPH_PERMISSIONS_REFERENCE",
    "GRAPH_SCOPE_NAMES",
    "MICROSOFT_GRAPH_APP_ID",
    "MICROSOFT_TEAMS",
    "ONEDRIVE",
    "ONENOTE",
    "OPENID_SCOPE_IDS",
    "OUTLOOK",
    "PARAGON_RESERVED_VALUES",
    "PERSONAL_ACCOUNTS",
    "POWER_BI",
    "POWER_BI_APP_ID",
    "Permission",
    "ResourcePermissions",
    "SHAREPOINT",
    "ScopeFormat",
    "WORK_OR_SCHOOL",
    "admin_consent_scopes",
    "consent_need",
    "environment_url",
    "narrower_suggestions",
    "paragon_scope_format",
    "paragon_scope_string",
    "published_scope_id",
    "reserved_value_keys",
    "resource_permissions",
    "secret_extra_fix",
]
