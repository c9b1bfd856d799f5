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
from provisioner.config.yaml_source import KeyPath, YamlDocument
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
    if "://" in scope or scope.startswith(entry.resource_uri) or scope.startswith(entry.resource_app_id + "/"):
        bare = scope.rsplit("/", 1)[-1]
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


def _url_problem(value: str, entry: CatalogEntry) -> str:
    """What is wrong with an organization/environment URL (empty when nothing)."""
    example = entry.resource_uri.replace("<org>", "contoso").replace("<env>", "contoso")
    if not value.lower().startswith("https://"):
        return f"must start with https:// (e.g. {example})"
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "must be the environment's address alone, with no path, query or fragment"
    if parts.path == "/":
        return "has a trailing slash, which makes every qualified scope invalid"
    if parts.username or parts.password or parts.port:
        return "must hold no user, password or port"
    if entry.environment_host and not re.fullmatch(entry.environment_host, host):
        return f"host {host!r} is not a {entry.title} host (like {urlsplit(example).hostname})"
    return ""


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
        wrong = _url_problem(value, entry)
        if wrong:
            return [
                doc.problem(
                    (*here, "paragon_values", name),
                    f"{wrong}; it qualifies the scopes pushed to Paragon",
                    f"write it as {example}",
                )
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
