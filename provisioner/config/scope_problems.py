"""Problem finders for an integration's scopes, their consent, and its organization/environment URL.

Scope names are checked against the generated permission data of the integration's resource API
(`provisioner.catalog.permissions`): a name the data lacks is an error only where the data is the resource's
complete published list (Azure DevOps), otherwise a warning (deploy time checks it against the resource's
service principal). Suggestions come from the same resource and are never broader than the name asked for
(`provisioner.catalog.suggest`). Every configured scope that needs an admin's consent gets a warning
(`provisioner.catalog.consent`). Per-environment resources (Dataverse, Finance & Operations) get their URL
checked: https, the product's host, no path, no trailing slash.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

from provisioner.catalog import (
    CATALOG,
    MICROSOFT_GRAPH_APP_ID,
    OPENID_SCOPE_IDS,
    CatalogEntry,
    ResourcePermissions,
    ScopeFormat,
    consent_need,
    narrower_suggestions,
    resource_permissions,
)
from provisioner.config.model import ProvisionerConfig
from provisioner.config.yaml_source import KeyPath, YamlDocument, shown
from provisioner.errors import Problem

CONSENT_DOCS: Final = "docs/integrations.md, section Admin consent"
"""Where the admin-consent steps for a customer's tenant are explained."""


def _data(entry: CatalogEntry) -> ResourcePermissions:
    """The resource's generated data, or a partial list made of the catalog's known names."""
    data = resource_permissions(entry.resource_app_id)
    if data is not None:
        return data
    return ResourcePermissions(
        resource_app_id=entry.resource_app_id,
        resource_title=entry.resource_title,
        completeness="partial",
        completeness_note="Microsoft publishes no scope table for it",
        scopes={},
    )


def works_for_personal_accounts(entry: CatalogEntry, scope: str) -> bool | None:
    """Whether ``scope`` works for personal Microsoft accounts: the catalog's own list for its known scopes, else
    the generated data's flag (Microsoft Graph's ``DelegatedPersonal`` scheme); None when nothing says."""
    if scope in entry.delegated_scopes:
        return scope in entry.personal_account_scopes
    data = resource_permissions(entry.resource_app_id)
    permission = data.scopes.get(scope) if data else None
    return permission.personal if permission else None


def is_default_scope(name: str) -> bool:
    """True for ``.default`` in any form (bare, or after a resource URI or app ID)."""
    return name == ".default" or name.endswith("/.default")


def _known(name: str, entry: CatalogEntry, data: ResourcePermissions) -> bool:
    return name in OPENID_SCOPE_IDS or name in entry.delegated_scopes or name in data.scopes


def _one_scope(doc: YamlDocument, at: KeyPath, scope: str, entry: CatalogEntry) -> Problem | None:
    data = _data(entry)
    if _known(scope, entry, data):
        return None
    defaults = ", ".join(entry.default_scopes)
    if is_default_scope(scope):
        return doc.problem(
            at,
            "`.default` is not a permission: it stands for every permission the app registration already "
            "requests, and `scopes:` is what sets those",
            f"list the delegated permissions by name (without `scopes:`, {entry.title} gets {defaults})",
        )
    names = scope_names_in_one_item(scope)
    if len(names) > 1:
        return doc.problem(
            at,
            f"holds {len(names)} permission names in one item; Entra reads each item as one permission name",
            f"one permission name per item: write [{', '.join(names)}] (or one `- name` per line)",
        )
    if "://" in scope or "/" in scope:
        bare = scope.rstrip("/").rsplit("/", 1)[-1]
        owner = qualified_resource(scope)
        if owner is not None and owner[0] != entry.resource_app_id:
            title, keys = owner[1], owner[2]
            move = f" (or move it to an integration on {title}: {', '.join(keys)})" if keys else ""
            return doc.problem(
                at,
                f"{bare!r} written with {title}'s resource URI is a {title} permission, but {entry.title} requests "
                f"{entry.resource_title} scopes; one sign-in can target only one resource API (AADSTS28000)",
                f"remove it{move}",
            )
        if owner is None:
            return doc.problem(
                at,
                f"{shown(scope)} is qualified with another resource than {entry.resource_title}; one sign-in can "
                "target only one resource API (AADSTS28000)",
                f"remove it (an integration of {entry.title} requests {entry.resource_title} permissions only)",
            )
        return doc.problem(
            at,
            f"write the bare permission name ({bare!r}), not a URI; the resource URI is added where Paragon needs it",
            "use the name alone",
        )
    graph = resource_permissions(MICROSOFT_GRAPH_APP_ID)
    if not entry.resource_is_graph and graph is not None and scope in graph.scopes:
        return doc.problem(
            at,
            f"{scope!r} is a Microsoft Graph permission, but {entry.title} requests {entry.resource_title} scopes; "
            "one sign-in can target only one resource API (AADSTS28000)",
            "remove it",
        )
    close = narrower_suggestions(scope, set(data.scopes) | entry.delegated_scopes | set(OPENID_SCOPE_IDS))
    hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    if scope in data.application_only:
        return doc.problem(
            at,
            f"{scope!r} is an application permission of {entry.resource_title} (app-only access, no signed-in "
            "user), not a delegated permission",
            hint or "use a delegated permission (python -m provisioner catalog " + entry.key + ")",
        )
    if data.complete:
        return doc.problem(
            at,
            f"{scope!r} is not a known {entry.resource_title} delegated permission (Microsoft's published list, "
            f"{data.source_line()})",
            hint or f"use a name from `python -m provisioner catalog {entry.key}`",
        )
    return doc.problem(
        at,
        f"{scope!r} is not a known {entry.resource_title} delegated permission, but the data held is partial "
        f"({data.completeness_note}); deploy time checks it against the resource's service principal",
        f"{hint + ' ' if hint else ''}if the name is right, nothing to do",
        severity="warning",
    )


_NAME_SEPARATORS: Final = re.compile(r"[\s,;]+")


def scope_names_in_one_item(scope: str) -> list[str]:
    """The names of a scope item split at whitespace, commas and semicolons (several names pasted as one)."""
    return [n for n in _NAME_SEPARATORS.split(scope) if n]


def _prefix(scope: str) -> str:
    return scope.rstrip("/").rsplit("/", 1)[0].lower()


GRAPH_URIS: Final = (
    "https://graph.microsoft.com",
    "https://graph.microsoft.us",  # US Government L4 (GCC High)
    "https://dod-graph.microsoft.us",  # US Government L5 (DoD)
    "https://microsoftgraph.chinacloudapi.cn",  # China (21Vianet)
)
"""Microsoft Graph's resource URIs in each cloud (Microsoft Graph, "National cloud deployments")."""


def qualified_resource(scope: str) -> tuple[str, str, list[str]] | None:
    """For a scope written with a resource URI or app ID before its name: the resource's app ID, its title and
    the catalog's integration keys on it; None when the prefix names no resource the catalog knows."""
    prefix = _prefix(scope)
    for entry in CATALOG.values():
        known = {entry.resource_app_id, f"api://{entry.resource_app_id}"}
        if entry.resource_is_graph:
            known |= set(GRAPH_URIS)
        elif not entry.resource_uri_per_environment:
            known.add(entry.resource_uri.lower())
        host = urlsplit(prefix).hostname or ""
        per_env = entry.resource_uri_per_environment and entry.environment_host is not None
        if prefix in known or (per_env and urlsplit(prefix).path in ("", "/") and environment_host_cloud(entry, host)):
            keys = [k for k, e in CATALOG.items() if e.resource_app_id == entry.resource_app_id]
            return entry.resource_app_id, entry.resource_title, keys
    return None


def scope_problems(doc: YamlDocument, config: ProvisionerConfig, key: str, entry: CatalogEntry) -> list[Problem]:
    """Problems with ``integrations.<key>.scopes``: duplicates, only-OpenID lists, unknown or misplaced names."""
    integration = config.integrations[key]
    here: KeyPath = ("integrations", key)
    if integration.scopes is None:
        return []  # the catalog's default set: valid by construction
    problems: list[Problem] = []
    if all(scope in OPENID_SCOPE_IDS for scope in integration.scopes):
        problems.append(
            doc.problem(
                (*here, "scopes"),
                f"lists only OpenID scopes; {entry.title} needs at least one {entry.resource_title} permission",
                f"add one, e.g. {entry.default_scopes[0]}",
            )
        )
    seen: set[str] = set()
    for index, scope in enumerate(integration.scopes):
        at: KeyPath = (*here, "scopes", index)
        if scope in seen:
            problems.append(doc.problem(at, f"{scope!r} is listed twice", "remove the duplicate"))
            continue
        seen.add(scope)
        problem = _one_scope(doc, at, scope, entry)
        if problem is not None:
            problems.append(problem)
    return problems


def consent_warnings(doc: YamlDocument, config: ProvisionerConfig, key: str, entry: CatalogEntry) -> list[Problem]:
    """One warning per scope of the integration that needs an admin's consent (`consent_need`)."""
    integration = config.integrations[key]
    here: KeyPath = ("integrations", key)
    problems: list[Problem] = []
    for index, scope in enumerate(config.scopes(key)):
        need = consent_need(entry.resource_app_id, scope)
        if not need.needs_admin:
            continue
        at: KeyPath = (*here, "scopes", index) if integration.scopes else here
        default = "" if integration.scopes else " (a default scope)"
        problems.append(
            doc.problem(
                at,
                f"{scope!r}{default} needs an admin's consent in each customer's tenant: {need.note}",
                f"a customer's admin grants it once for their tenant ({CONSENT_DOCS}), or use a narrower scope",
                severity="warning",
            )
        )
    return problems


NATIONAL_CLOUD_HOSTS: Final = {
    "microsoftDynamics": (
        ("US Government GCC High", r"[a-z0-9][a-z0-9-]*\.crm\.microsoftdynamics\.us", "<org>.crm.microsoftdynamics.us"),
        ("US Government DoD", r"[a-z0-9][a-z0-9-]*\.crm\.appsplatform\.us", "<org>.crm.appsplatform.us"),
        ("China (21Vianet)", r"[a-z0-9][a-z0-9-]*\.crm\.dynamics\.cn", "<org>.crm.dynamics.cn"),
    ),
}
"""Organization hosts of national clouds, by integration key (Dataverse: Power Apps US Government, service URLs;
Dataverse global discovery service endpoints per cloud). GCC (``crm9.dynamics.com``) is in the commercial
pattern. Finance & Operations has none here: its national-cloud hosts are not published in a form to check."""
_NATIONAL_SUFFIXES: Final = (".us", ".cn", ".de", ".usgovcloudapi.net", ".chinacloudapi.cn")
"""Host endings of national clouds (US Government, China, the closed German cloud)."""


def environment_host_cloud(entry: CatalogEntry, host: str) -> str | None:
    """The cloud of an organization/environment host: ``commercial`` for the entry's own pattern, a national
    cloud's name from `NATIONAL_CLOUD_HOSTS`, or None when the host is not one of the product's."""
    if entry.environment_host and re.fullmatch(entry.environment_host, host):
        return "commercial"
    for cloud, pattern, _ in NATIONAL_CLOUD_HOSTS.get(entry.key, ()):
        if re.fullmatch(pattern, host):
            return cloud
    return None


def _url_problem(value: str, entry: CatalogEntry) -> tuple[str, str]:
    """What is wrong with an organization/environment URL and the fix (empty when nothing).

    The fix rewrites the URL from the reader's own host when that host is one of the product's (in any cloud
    supported), so it never moves an environment to another cloud; otherwise it names the host patterns."""
    national = [f"https://{example} ({cloud})" for cloud, _, example in NATIONAL_CLOUD_HOSTS.get(entry.key, ())]
    clouds = f", or in a national cloud {', '.join(national)}" if national else ""
    generic = f"write the environment's own URL, {entry.resource_uri}{clouds}"
    parts = urlsplit(value if "://" in value else "https://" + value)
    host = (parts.hostname or "").lower()
    cloud = environment_host_cloud(entry, host)
    own = f"write it as https://{host}" if cloud else generic
    if entry.environment_host and cloud is None and host.endswith(_NATIONAL_SUFFIXES):
        return (
            f"host {host!r} looks like a national cloud's (US Government or China), and national-cloud hosts of "
            f"{entry.title} are not supported here",
            "national clouds are not supported for this integration: manage its app registration by hand, "
            "or use an environment in the commercial cloud if that is where it lives",
        )
    if not value.lower().startswith("https://"):
        return "must start with https://", own
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "must be the environment's address alone, with no path, query or fragment", own
    if parts.path == "/":
        return "has a trailing slash, which makes every qualified scope invalid", own
    if parts.username or parts.password or parts.port:
        return "must hold no user, password or port", own
    if entry.environment_host and cloud is None:
        return f"host {host!r} is not a {entry.title} host", generic
    return "", ""


_PLAIN_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def plain_name_problems(doc: YamlDocument, config: ProvisionerConfig, key: str, entry: CatalogEntry) -> list[Problem]:
    """Paragon settings that are a bare name (Azure DevOps organization, Business Central environment)."""
    values = config.integrations[key].paragon_values
    problems: list[Problem] = []
    for extra in entry.extras:
        value = values.get(extra.name)
        if extra.plain_name and value is not None and not _PLAIN_NAME.fullmatch(value):
            alone = value.rstrip("/").rsplit("/", 1)[-1] if "/" in value else ""
            hint = f"write the name alone{f' ({alone})' if alone else ''}"
            problems.append(
                doc.problem(
                    ("integrations", key, "paragon_values", extra.name),
                    f"is {extra.description}: a bare name, without a URL, slash or space",
                    hint,
                )
            )
    return problems


def environment_problems(doc: YamlDocument, config: ProvisionerConfig, key: str, entry: CatalogEntry) -> list[Problem]:
    """The organization/environment URL of a per-environment resource, and the scope format it allows."""
    if not entry.resource_uri_per_environment or entry.environment_value is None:
        return []
    integration = config.integrations[key]
    here: KeyPath = ("integrations", key)
    name = entry.environment_value
    value = integration.paragon_values.get(name)
    example = entry.resource_uri.replace("<org>", "contoso").replace("<env>", "contoso")
    if value is not None:
        wrong, fix = _url_problem(value, entry)
        if wrong:
            return [
                doc.problem((*here, "paragon_values", name), f"{wrong}; it qualifies the scopes pushed to Paragon", fix)
            ]
        return []
    if integration.paragon_scope_format is ScopeFormat.QUALIFIED:
        return [
            doc.problem(
                (*here, "paragon_scope_format"),
                f"{entry.title}'s scopes are qualified with the customer's environment URL, which is not set",
                f"add `paragon_values: {{{name}: {example}}}`, or remove paragon_scope_format",
            )
        ]
    if integration.paragon_scope_format is None:
        return [
            doc.problem(
                here,
                f"without paragon_values.{name} the scopes are pushed to Paragon bare, and the Microsoft identity "
                "platform reads a bare scope as a Microsoft Graph scope (AADSTS650053)",
                f"add `paragon_values: {{{name}: {example}}}`, or set paragon_scope_format: bare if Paragon "
                "qualifies them itself",
                severity="warning",
            )
        ]
    return []


def integration_scope_problems(doc: YamlDocument, config: ProvisionerConfig, key: str) -> list[Problem]:
    """Every finder of this module for one known integration."""
    entry = CATALOG[key]
    return (
        scope_problems(doc, config, key, entry)
        + consent_warnings(doc, config, key, entry)
        + environment_problems(doc, config, key, entry)
        + plain_name_problems(doc, config, key, entry)
    )
