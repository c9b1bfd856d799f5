"""Who can consent to a delegated permission: the one public answer every view uses.

`consent_need` says, for a resource API and a scope name, whether the resource marks the scope "admin consent
required" and whether Microsoft's managed user-consent policy (since July 2025) blocks user consent in
tenants on the default setting, with the source of each fact. `validate` warnings, the catalog views, the
stack outputs and the plan summary all read it.

Admin consent for a customer's tenant is granted at ``ADMIN_CONSENT_URL`` (Microsoft identity platform, "Grant
tenant-wide admin consent to an application").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from provisioner.catalog.permissions import consent_policy, resource_permissions

ADMIN_CONSENT_URL: Final = "https://login.microsoftonline.com/{tenant}/adminconsent?client_id={client_id}"
"""Tenant-wide admin consent URL; ``{tenant}`` is a tenant ID, or ``organizations`` for any customer's admin."""

OPENID_NAMES: Final = frozenset({"openid", "profile", "email", "offline_access"})


@dataclass(frozen=True)
class ConsentNeed:
    """Consent facts for one delegated permission.

    Attributes:
        resource_app_id: The resource API's application ID.
        scope: The scope name.
        admin_consent_required: True/False as the resource's published data says; None when the resource
            publishes no flag (Power BI, Azure DevOps, Dynamics) or the name is not in the data.
        user_consent_blocked: True when Microsoft's managed user-consent policy blocks user consent to it in
            tenants on the default consent setting (an admin must approve).
        source: Where the facts come from (data file's repository and commit, or the policy's document).
        note: One phrase for messages, e.g. ``admin consent required`` or ``not published``.
    """

    resource_app_id: str
    scope: str
    admin_consent_required: bool | None
    user_consent_blocked: bool
    source: str
    note: str

    @property
    def needs_admin(self) -> bool:
        """True when an admin must consent (flag set, or blocked for users by the managed policy)."""
        return self.admin_consent_required is True or self.user_consent_blocked


def consent_need(resource_app_id: str, scope: str) -> ConsentNeed:
    """Whether ``scope`` on the resource needs admin consent, and whether the managed policy blocks users.

    Args:
        resource_app_id: Application (client) ID of the resource API (any case).
        scope: A delegated permission name (bare, e.g. ``Files.Read.All``).

    Returns:
        A `ConsentNeed`; never raises. Unknown resources or names give ``admin_consent_required=None``.

    Sources: ``provisioner/catalog/permissions/*.json`` (Microsoft Graph's permissions reference data, with
    ``requiresAdminConsent`` per scope; the other resources publish no flag) and ``consent_policy.json``
    (Microsoft's managed user-consent policy, entra-facts.md "User consent since 2025").
    """
    data = resource_permissions(resource_app_id)
    permission = data.scopes.get(scope) if data else None
    required = permission.admin_consent if permission else None
    if scope in OPENID_NAMES:
        required = False
    policies = consent_policy()
    rule = policies.covering(resource_app_id, scope)
    sources = []
    if data is not None:
        sources.append(data.source_line())
    if rule is not None:
        sources.append(f"{policies.source['document']} (recorded {policies.source['recorded']})")
    parts = []
    if required is True:
        parts.append("admin consent required")
    elif required is None:
        parts.append("admin-consent flag not published")
    if rule is not None:
        parts.append(f"user consent blocked by Microsoft's managed policy since {rule.since} ({rule.name})")
    return ConsentNeed(
        resource_app_id=resource_app_id.lower(),
        scope=scope,
        admin_consent_required=required,
        user_consent_blocked=rule is not None,
        source="; ".join(sources) or "no published data",
        note="; ".join(parts) or "users can consent",
    )


def admin_consent_scopes(resource_app_id: str, scopes: Iterable[str]) -> list[str]:
    """Of ``scopes``, those that need an admin's consent (`ConsentNeed.needs_admin`), sorted."""
    return sorted({s for s in scopes if consent_need(resource_app_id, s).needs_admin})
