"""Response shapes of the Microsoft Graph v1.0 reads (pydantic; camelCase wire names, unknown fields kept).

Only what the provisioner reads is typed; every model allows extra fields (``extra="allow"``), so a property
Graph adds later does not break a read. Password credentials carry metadata only: Graph never returns a
secret's value after creation (``secretText`` is null), and the models have no field for it.
Source: Microsoft Graph v1.0 reference (application, servicePrincipal, appManagementPolicy resource types).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class GraphModel(BaseModel):
    """Base: camelCase aliases (``appId``), snake_case attributes (``app_id``), extra fields allowed."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True)


class ApiSettings(GraphModel):
    """``application.api``: ``requestedAccessTokenVersion`` is 1, 2 or null (null means 1)."""

    requested_access_token_version: int | None = None


class RedirectSettings(GraphModel):
    """``web`` / ``spa`` / ``publicClient``: the platform's redirect URIs, exactly as stored."""

    redirect_uris: list[str] = Field(default_factory=list)


class ResourceAccess(GraphModel):
    """One permission requested: ``id`` (scope or app role GUID) and ``type`` (``Scope`` delegated, ``Role`` app)."""

    id: str
    type: str


class RequiredResourceAccess(GraphModel):
    """Permissions requested from one resource API (``resourceAppId``, e.g. Graph ``00000003-...``)."""

    resource_app_id: str
    resource_access: list[ResourceAccess] = Field(default_factory=list)


class PasswordCredential(GraphModel):
    """A client secret's metadata (never its value).

    Attributes:
        key_id: The key ID (GUID).
        display_name: Its description, or None.
        start_date_time / end_date_time: Validity, UTC.
        hint: The first characters Graph shows of the secret (not secret by Graph's design).
    """

    key_id: str
    display_name: str | None = None
    start_date_time: datetime | None = None
    end_date_time: datetime | None = None
    hint: str | None = None


class VerifiedPublisher(GraphModel):
    """``verifiedPublisher``: all None when the publisher is not verified."""

    display_name: str | None = None
    verified_publisher_id: str | None = None
    added_date_time: datetime | None = None

    @property
    def verified(self) -> bool:
        """True when Microsoft verified the publisher (a Partner Program ID is set)."""
        return bool(self.verified_publisher_id)


class Application(GraphModel):
    """An app registration (``GET /applications(appId='{client-id}')``).

    Attributes:
        id: The object ID (used in ``/applications/{id}/...`` paths).
        app_id: The application (client) ID.
        created_date_time: When the app registration was created, UTC (None when Graph leaves it out).
    """

    id: str
    app_id: str
    display_name: str | None = None
    created_date_time: datetime | None = None
    sign_in_audience: str | None = None
    api: ApiSettings = Field(default_factory=ApiSettings)
    web: RedirectSettings = Field(default_factory=RedirectSettings)
    spa: RedirectSettings = Field(default_factory=RedirectSettings)
    public_client: RedirectSettings = Field(default_factory=RedirectSettings)
    required_resource_access: list[RequiredResourceAccess] = Field(default_factory=list)
    password_credentials: list[PasswordCredential] = Field(default_factory=list)
    verified_publisher: VerifiedPublisher = Field(default_factory=VerifiedPublisher)
    publisher_domain: str | None = None


class DirectoryObject(GraphModel):
    """An owner: a user (``userPrincipalName``) or a service principal (``appId``), told by ``@odata.type``."""

    id: str
    odata_type: str | None = Field(default=None, alias="@odata.type")
    display_name: str | None = None
    user_principal_name: str | None = None
    app_id: str | None = None

    @property
    def kind(self) -> str:
        """``user``, ``servicePrincipal``, ``group``... (``@odata.type`` without ``#microsoft.graph.``)."""
        return (self.odata_type or "").removeprefix("#microsoft.graph.") or "unknown"


class PermissionScope(GraphModel):
    """A delegated permission a resource API publishes (``oauth2PermissionScopes``); ``type`` ``Admin`` or ``User``
    says who may consent."""

    id: str
    value: str | None = None
    type: str | None = None
    is_enabled: bool = True
    admin_consent_display_name: str | None = None


class AppRole(GraphModel):
    """An app role (application permission when ``allowedMemberTypes`` holds ``Application``)."""

    id: str
    value: str | None = None
    is_enabled: bool = True
    allowed_member_types: list[str] = Field(default_factory=list)
    display_name: str | None = None


class ServicePrincipal(GraphModel):
    """A service principal (enterprise application) in the tenant (``GET /servicePrincipals(appId='{id}')``)."""

    id: str
    app_id: str
    display_name: str | None = None
    oauth2_permission_scopes: list[PermissionScope] = Field(default_factory=list)
    app_roles: list[AppRole] = Field(default_factory=list)

    def scope(self, value: str) -> PermissionScope | None:
        """The published delegated permission named ``value`` (case-insensitive), or None."""
        return next((s for s in self.oauth2_permission_scopes if (s.value or "").lower() == value.lower()), None)


_DURATION = re.compile(
    r"P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)


def duration_days(value: str) -> float | None:
    """An ISO 8601 duration (``P90D``, ``P4DT12H30M5S``, ``P1Y``) in days; years are 365 days, months 30.

    Returns:
        Days (fractional for hours and below), or None when ``value`` is not such a duration.
    """
    match = _DURATION.fullmatch(value.strip().upper())
    if match is None or value.strip().upper() in ("P", "PT"):
        return None
    n = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return n["y"] * 365 + n["mo"] * 30 + n["w"] * 7 + n["d"] + n["h"] / 24 + n["mi"] / 1440 + n["s"] / 86400


class PasswordRestriction(GraphModel):
    """One ``applicationRestrictions.passwordCredentials`` entry of an app-management policy.

    Attributes:
        restriction_type: ``passwordAddition`` (no new secrets for apps created after
            ``restrict_for_apps_created_after_date_time``), ``passwordLifetime`` (secrets at most ``max_lifetime``),
            or another type Graph defines (kept as text).
        state: ``enabled`` or ``disabled`` (None counts as enabled, Graph's default).
        max_lifetime: ISO 8601 duration, for ``passwordLifetime``; `max_lifetime_days` is it in days.
        restrict_for_apps_created_after_date_time: UTC; apps created before it are exempt.
    """

    restriction_type: str
    state: str | None = None
    max_lifetime: str | None = None
    restrict_for_apps_created_after_date_time: datetime | None = None

    @property
    def enabled(self) -> bool:
        """True unless Graph says the restriction is ``disabled`` (a missing ``state`` means enabled)."""
        return (self.state or "enabled").lower() == "enabled"

    @property
    def max_lifetime_days(self) -> float | None:
        """``max_lifetime`` in days, or None when absent or not an ISO 8601 duration."""
        return duration_days(self.max_lifetime) if self.max_lifetime else None


class AppRestrictions(GraphModel):
    """``applicationRestrictions`` (or ``servicePrincipalRestrictions``): password and key credential rules."""

    password_credentials: list[PasswordRestriction] = Field(default_factory=list)


class AppManagementPolicy(GraphModel):
    """The tenant default (``/policies/defaultAppManagementPolicy``, restrictions under ``applicationRestrictions``)
    or a custom policy assigned to apps (restrictions under ``restrictions``), read into one shape.

    Attributes:
        source: ``default`` (tenant default) or ``assigned`` (a custom policy assigned to the app).
        is_enabled: Whether the policy applies at all (Graph's ``isEnabled``).
        restrictions: Password-credential restrictions (for the default policy: its application restrictions).
    """

    id: str
    display_name: str | None = None
    is_enabled: bool = True
    source: Literal["default", "assigned"] = "assigned"
    application_restrictions: AppRestrictions | None = None
    restrictions_: AppRestrictions | None = Field(default=None, alias="restrictions")

    @property
    def restrictions(self) -> list[PasswordRestriction]:
        """The password restrictions, wherever the policy kind keeps them."""
        found = self.application_restrictions or self.restrictions_
        return list(found.password_credentials) if found else []

    @property
    def blocks_password_addition(self) -> PasswordRestriction | None:
        """The enabled ``passwordAddition`` restriction, if the (enabled) policy has one."""
        return next(
            (
                r
                for r in self.restrictions
                if self.is_enabled and r.enabled and r.restriction_type == "passwordAddition"
            ),
            None,
        )

    @property
    def max_password_lifetime_days(self) -> float | None:
        """The shortest enabled ``passwordLifetime`` maximum, in days, or None."""
        days = [
            d
            for r in self.restrictions
            if self.is_enabled and r.enabled and r.restriction_type == "passwordLifetime"
            if (d := r.max_lifetime_days) is not None
        ]
        return min(days) if days else None


class SignedInIdentity(GraphModel):
    """Who the reader's token belongs to, from its claims (and ``GET /me`` for a user when asked).

    Attributes:
        object_id: ``oid``: the user's or service principal's object ID.
        tenant_id: ``tid``.
        kind: ``user`` (delegated token: ``scp``) or ``app`` (app-only: ``idtyp=app`` or roles without ``scp``).
        app_id: ``appid`` / ``azp``: the client that got the token (for ``app``: the identity's own client ID).
        roles: Application permissions granted (``roles``), e.g. ``["Application.Read.All"]``.
        scopes: Delegated permissions (``scp``, space-separated in the token).
        user_principal_name: ``upn`` / ``preferred_username`` for a user (or ``/me``'s), else None.
        display_name: From ``/me`` when read, else ``name`` when present.
    """

    object_id: str | None = None
    tenant_id: str | None = None
    kind: Literal["user", "app"]
    app_id: str | None = None
    roles: list[str] = Field(default_factory=list)
    scopes: list[str] = Field(default_factory=list)
    user_principal_name: str | None = None
    display_name: str | None = None


__all__ = [
    "ApiSettings",
    "AppManagementPolicy",
    "AppRestrictions",
    "AppRole",
    "Application",
    "DirectoryObject",
    "PasswordCredential",
    "PasswordRestriction",
    "PermissionScope",
    "RedirectSettings",
    "RequiredResourceAccess",
    "ResourceAccess",
    "ServicePrincipal",
    "SignedInIdentity",
    "VerifiedPublisher",
    "duration_days",
]
