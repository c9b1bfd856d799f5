"""The guardrail checks of the CrossGuard policy pack, as plain functions of resource inputs.

Each check takes the resource's inputs exactly as the policy engine passes them (``args.props``: Pulumi
wire names, camelCase, e.g. ``web.redirectUris``), the policy's config (``args.get_config()``, possibly
empty: every limit has a default here) and, where time matters, ``now``. It returns the violations as
one sentence each, empty when the resource complies. No Pulumi import: `policy/__main__.py` wires these
into ``ResourceValidationPolicy`` objects, and tests call them directly with a frozen ``now``.

Wire names are those of pulumi-azuread v6 (``azuread:index/application:Application``,
``azuread:index/servicePrincipal:ServicePrincipal``,
``azuread:index/applicationPassword:ApplicationPassword``): ``owners``, ``signInAudience``, ``web.redirectUris``,
``singlePageApplication.redirectUris``, ``publicClient.redirectUris``, ``requiredResourceAccesses[]
.resourceAccesses[].{id,type}`` (``type`` is ``Scope`` for a delegated permission, ``Role`` for an
application permission), ``appRoles[].{id,allowedMemberTypes}``, and ``endDate`` / ``endDateRelative``
on a password. Outside facts: Microsoft identity platform, "Redirect URI (reply URL) restrictions"
(https only, ``http://localhost`` allowed; wildcards not recommended) and "Application manifest"
(``signInAudience`` values); Paragon's redirect URI from its Microsoft integration setup guide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

APPLICATION: Final = "azuread:index/application:Application"
PASSWORD: Final = "azuread:index/applicationPassword:ApplicationPassword"
SERVICE_PRINCIPAL: Final = "azuread:index/servicePrincipal:ServicePrincipal"

DEFAULT_MAX_SECRET_DAYS: Final = 365
"""Longest allowed client secret lifetime, days from now (a common tenant app-management-policy maximum)."""
DEFAULT_SIGN_IN_AUDIENCES: Final = ("AzureADMyOrg", "AzureADMultipleOrgs")
"""Work or school accounts only; personal Microsoft accounts must be allowed explicitly."""
DEFAULT_PARAGON_REDIRECT_URIS: Final = ("https://passport.useparagon.com/oauth",)
"""Paragon's hosted OAuth callback; on-prem installations list their own passport host."""
LOOPBACK_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1"})
ENTRA_DEFAULT_AUDIENCE: Final = "AzureADMyOrg"
"""What Entra uses when ``signInAudience`` is not set."""

_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s)")


def _list(value: Any) -> list[Any]:
    """A JSON array as a list (the engine passes a Sequence proxy), anything else as empty."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return []


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int_setting(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    # JSON numbers arrive as float from protobuf Structs: accept whole numbers only.
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value < 1:
        raise ValueError(f"policy config {key}: expected a whole number of days >= 1, got {value!r}")
    return int(value)


def _str_list_setting(config: Mapping[str, Any], key: str, default: Sequence[str]) -> list[str]:
    value = config.get(key, list(default))
    items = _list(value)
    if not isinstance(value, Sequence) or isinstance(value, str) or not all(isinstance(v, str) for v in items):
        raise ValueError(f"policy config {key}: expected a list of strings, got {value!r}")
    return items


def parse_end_date(value: str) -> datetime:
    """An RFC 3339 time (``2025-07-14T00:00:00Z``) as an aware datetime.

    Raises:
        ValueError: Not RFC 3339 with a time zone.
    """
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return parsed


def parse_relative(value: str) -> timedelta:
    """A Go duration of hours, minutes and seconds (``8760h``, ``2160h30m``), as the provider accepts.

    Raises:
        ValueError: Empty, or not made only of ``<number><h|m|s>`` parts.
    """
    parts = _GO_DURATION.findall(value)
    if not value or "".join(n + u for n, u in parts) != value:
        raise ValueError(f"{value!r} is not a duration like 8760h")
    unit = {"h": 3600.0, "m": 60.0, "s": 1.0}
    return timedelta(seconds=sum(float(n) * unit[u] for n, u in parts))


def check_secret_end_date(props: Mapping[str, Any], config: Mapping[str, Any], now: datetime) -> list[str]:
    """An ApplicationPassword must end within ``maxDays`` (default 365) days from ``now``.

    A password with neither ``endDate`` nor ``endDateRelative`` gets Entra's default lifetime (two
    years), so it is a violation too.

    Args:
        props: The password's inputs (``endDate`` RFC 3339, or ``endDateRelative`` as ``<hours>h``).
        config: Policy config; ``maxDays`` (whole days).
        now: Evaluation time, timezone-aware.

    Raises:
        ValueError: ``maxDays`` is not a whole number >= 1.
    """
    max_days = _int_setting(config, "maxDays", DEFAULT_MAX_SECRET_DAYS)
    limit = now + timedelta(days=max_days)
    end_date, relative = props.get("endDate"), props.get("endDateRelative")
    if isinstance(end_date, str) and end_date:
        try:
            end = parse_end_date(end_date)
        except ValueError:
            return [f"endDate {end_date!r} is not an RFC 3339 time; set an explicit UTC end date"]
        label = f"endDate {end_date}"
    elif isinstance(relative, str) and relative:
        try:
            end = now + parse_relative(relative)
        except ValueError as err:
            return [f"endDateRelative: {err}"]
        label = f"endDateRelative {relative}"
    else:
        return [f"no endDate: Entra would issue a two-year secret; set an end date within {max_days} days"]
    if end > limit:
        days = (end - now).days
        return [f"{label} is {days} days from now, more than the allowed {max_days}; shorten the rotation policy"]
    return []


def _redirect_uri_problem(uri: str, where: str) -> str | None:
    if "*" in uri:
        return f"{where}: {uri!r} contains a wildcard; list each redirect URI exactly"
    parts = urlsplit(uri)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS:
        return None
    return f"{where}: {uri!r} is not https (plain http is allowed only for localhost/127.0.0.1/[::1])"


def check_redirect_uris(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """Web and single-page redirect URIs are https (loopback http excepted) and never wildcards.

    Public-client (mobile/desktop) redirect URIs may use custom schemes, so only the wildcard rule
    applies to them.

    Args:
        props: The Application's inputs.
        config: Unused (the rule has no settings); accepted for a uniform signature.
    """
    del config
    problems: list[str] = []
    for block in ("web", "singlePageApplication"):
        for uri in _list(_map(props.get(block)).get("redirectUris")):
            problem = _redirect_uri_problem(str(uri), f"{block}.redirectUris")
            if problem:
                problems.append(problem)
    for uri in _list(_map(props.get("publicClient")).get("redirectUris")):
        if "*" in str(uri):
            problems.append(f"publicClient.redirectUris: {str(uri)!r} contains a wildcard")
    return problems


def check_sign_in_audience(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """``signInAudience`` (Entra default ``AzureADMyOrg``) is one of ``allowedAudiences``.

    Raises:
        ValueError: ``allowedAudiences`` is not a list of strings.
    """
    allowed = _str_list_setting(config, "allowedAudiences", DEFAULT_SIGN_IN_AUDIENCES)
    audience = props.get("signInAudience") or ENTRA_DEFAULT_AUDIENCE
    if audience not in allowed:
        return [f"signInAudience {audience!r} is not allowed here (allowed: {', '.join(allowed)})"]
    return []


def check_application_permissions(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """No application permissions unless their IDs are in ``allowedAppRoleIds``.

    Two shapes count: a requested app role (``requiredResourceAccesses[].resourceAccesses[]`` with
    ``type: Role``), which a tenant admin would grant to the app itself, without a user; and an app role
    this app defines for applications (``appRoles[]`` whose ``allowedMemberTypes`` has ``Application``).
    Delegated permissions (``type: Scope``) are what Paragon's integrations use.

    Raises:
        ValueError: ``allowedAppRoleIds`` is not a list of strings.
    """
    allowed = {v.lower() for v in _str_list_setting(config, "allowedAppRoleIds", ())}
    problems: list[str] = []
    for access in _list(props.get("requiredResourceAccesses")):
        resource = _map(access).get("resourceAppId", "?")
        for item in _list(_map(access).get("resourceAccesses")):
            entry = _map(item)
            role_id = str(entry.get("id", ""))
            if entry.get("type") == "Role" and role_id.lower() not in allowed:
                problems.append(
                    f"requiredResourceAccesses: application permission (type Role) {role_id} on resource app "
                    f"{resource}; request delegated scopes, or add the ID to allowedAppRoleIds"
                )
    for role in _list(props.get("appRoles")):
        entry = _map(role)
        role_id = str(entry.get("id", ""))
        if "Application" in _list(entry.get("allowedMemberTypes")) and role_id.lower() not in allowed:
            problems.append(
                f"appRoles: {entry.get('value') or role_id} can be granted to applications; remove it or add "
                f"{role_id} to allowedAppRoleIds"
            )
    return problems


def check_paragon_redirect_uri(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """One of ``paragonRedirectUris`` is among the Application's **web** redirect URIs, character for character.

    Paragon's callback must be registered on the Web platform (not SPA or public client), or sign-in
    fails with AADSTS50011.

    Raises:
        ValueError: ``paragonRedirectUris`` is not a list of strings.
    """
    expected = _str_list_setting(config, "paragonRedirectUris", DEFAULT_PARAGON_REDIRECT_URIS)
    present = {str(u) for u in _list(_map(props.get("web")).get("redirectUris"))}
    if not present.intersection(expected):
        return [f"web.redirectUris lacks Paragon's redirect URI ({' or '.join(expected)}); add it to the Web platform"]
    return []


def check_owners(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """An Application or ServicePrincipal lists at least one owner, and every one of ``requiredOwners``.

    The azuread provider treats ``owners`` as the whole set and removes owners missing from it. An identity
    with only ``Application.ReadWrite.OwnedBy`` (the usual CI identity) can manage only apps it owns, so
    setting ``requiredOwners`` to its object ID blocks any deployment that would drop it (Microsoft Graph
    permissions reference; docs/owners.md). Object IDs compare without regard to case.

    Raises:
        ValueError: ``requiredOwners`` is not a list of strings.
    """
    required = _str_list_setting(config, "requiredOwners", ())
    owners = {str(o).lower() for o in _list(props.get("owners"))}
    if not owners:
        return ["owners is empty: no identity could manage the app except tenant-wide administrators; list owners"]
    return [
        f"owners lacks {owner}, a required owner (e.g. the identity that runs the scheduled pulumi up); "
        "set scheduled_deployer or owners in the stack's YAML"
        for owner in required
        if owner.lower() not in owners
    ]
