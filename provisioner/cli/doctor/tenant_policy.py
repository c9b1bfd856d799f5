"""Doctor's app-management policy rows: will the tenant let ``pulumi up`` add this stack's client secrets?

Which policy applies (Microsoft Graph, ``tenantAppManagementPolicy`` resource type): the tenant default applies to
every app "unless overridden when an appManagementPolicy is applied to the object". So an app with an enabled
custom policy assigned is judged by that policy alone; every other app, and every app the stack has not created
yet, by the tenant default. A restriction applies to apps created after its
``restrictForAppsCreatedAfterDateTime`` (an app Graph gives no creation time counts as created on 2019-01-01, as
Graph treats such objects). A disabled assigned policy is treated as not overriding (the default applies).

What the program asks for: each secret ends ``2 × rotation_days + grace_days`` after the start of its rotation
window (`provisioner.program.rotation`), and config validation keeps that within ``max_lifetime_days``; the
secret created at a window's first run lives exactly that long, so that is the lifetime compared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from provisioner.cli.doctor.base import CheckResult, Status
from provisioner.cli.doctor.tenant_reads import TenantReads, Unchecked
from provisioner.config.model import SecretPolicy
from provisioner.errors import escape_controls
from provisioner.graph.models import Application, AppManagementPolicy, PasswordRestriction

POLICY_DOC = (
    'Microsoft: "Microsoft Entra application management policies API overview", '
    "https://learn.microsoft.com/graph/api/resources/applicationauthenticationmethodpolicy"
)
UNDATED: datetime = datetime(2019, 1, 1, tzinfo=UTC)
"""Creation time Graph assumes for an object whose ``createdDateTime`` is null."""


@dataclass(frozen=True)
class AppSecrets:
    """One app registration of the stack and the secret lifetime the program requests for it.

    Attributes:
        key: The integration that owns the app (``app:`` sharers use their target's app).
        policy: That integration's ``secret:`` policy.
    """

    key: str
    policy: SecretPolicy

    @property
    def lifetime_days(self) -> int:
        """Days the program asks for a new secret: two periods plus grace, never above ``max_lifetime_days``."""
        return min(self.policy.lifetime_days, self.policy.max_lifetime_days)


def _utc(moment: datetime) -> datetime:
    """A time without a zone read as UTC (Graph's times are UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _applies(restriction: PasswordRestriction, created: datetime) -> bool:
    after = restriction.restrict_for_apps_created_after_date_time
    return restriction.enabled and (after is None or _utc(created) > _utc(after))


UNREADABLE_LIMIT_FIX = (
    "check the policy in Entra (Microsoft Graph: GET /policies/defaultAppManagementPolicy, or the policy assigned "
    "to the app): its passwordLifetime restriction's maxLifetime should be a duration such as P90D; until it can "
    "be read, keep 2 x rotation_days + grace_days within the limit your tenant's administrators set, or pulumi up "
    f"may be refused the secrets. {POLICY_DOC}"
)
"""The fix of a passwordLifetime restriction whose limit cannot be read."""


def _shown_value(value: str | None) -> str:
    """A value Graph sent, shown quoted, escaped and short (it can hold anything)."""
    if value is None:
        return "(null)"
    text = escape_controls(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _named(policy: AppManagementPolicy) -> str:
    name = policy.display_name or policy.id
    if policy.source == "default":
        return f'the tenant default app-management policy "{name}"'
    return f'the app-management policy "{name}" ({policy.id}) assigned to the app'


def _exemption(targets: str, new: bool) -> str:
    first = (
        "; an app must exist before a policy can be assigned to it, so a first pulumi up creates the apps and stops "
        "at their secrets, and the run after the assignment completes"
        if new
        else ""
    )
    return (
        "the exemption route: a Cloud Application Administrator creates a custom app-management policy without the "
        f"passwordAddition restriction (POST /policies/appManagementPolicies) and assigns it to {targets} "
        f"(POST /applications/{{object-id}}/appManagementPolicies/$ref){first}. {POLICY_DOC}"
    )


def _lifetime_fix(app: AppSecrets, allowed: float) -> str:
    n = math.floor(allowed)
    key = f"integrations.{app.key}.secret"
    grace = app.policy.grace_days if n - app.policy.grace_days >= 2 else max(1, n // 4)
    rotation = (n - grace) // 2
    example = f" (e.g. rotation_days: {rotation}, grace_days: {grace})" if rotation >= 1 else ""
    return (
        f"set {key}.max_lifetime_days: {n} and shorten {key}.rotation_days / grace_days so that "
        f"2 x rotation_days + grace_days <= {n}{example}; or assign these apps a custom app-management policy that "
        f"allows {app.lifetime_days} days. {POLICY_DOC}"
    )


def judge(
    policies: Sequence[AppManagementPolicy],
    created: datetime,
    apps: Sequence[AppSecrets],
    what: str,
    targets: str,
    new: bool,
) -> tuple[Status, str, str]:
    """The verdict of the policies that apply to ``apps`` (created at ``created``): status, detail, fix.

    Args:
        policies: The policies in force for these apps (the assigned ones, or the tenant default).
        created: The apps' creation time (now for apps ``pulumi up`` will create).
        apps: The apps judged and the lifetime each requests.
        what: The apps in words, e.g. ``the app registration of powerbi``.
        targets: The apps in the fix, e.g. ``app 1111…``.
        new: True for apps ``pulumi up`` has yet to create.
    """
    in_force = [p for p in policies if p.is_enabled]
    for policy in in_force:
        block = next(
            (r for r in policy.restrictions if r.restriction_type == "passwordAddition" and _applies(r, created)),
            None,
        )
        if block is not None:
            after = block.restrict_for_apps_created_after_date_time
            since = f" created after {after.date().isoformat()}" if after else ""
            return (
                Status.FAILED,
                f"{_named(policy)} blocks adding client secrets (passwordAddition) to apps{since}, which covers "
                f"{what}: pulumi up would fail at both secret slots and Paragon would get no secret",
                _exemption(targets, new),
            )
    problems: list[tuple[str, str]] = []
    caps: list[str] = []
    unread: list[str] = []
    for policy in in_force:
        for restriction in policy.restrictions:
            days = restriction.max_lifetime_days
            if restriction.restriction_type != "passwordLifetime" or not _applies(restriction, created):
                continue
            if days is None:  # enabled and in force, but its limit is not an ISO 8601 duration: never "no limit"
                unread.append(
                    f"{_named(policy)} limits client secret lifetimes (passwordLifetime), but its maxLifetime "
                    f"{_shown_value(restriction.max_lifetime)} is not an ISO 8601 duration, so the limit could not "
                    "be read"
                )
                continue
            caps.append(f"{_named(policy)} allows secrets of at most {days:g} days")
            for app in apps:
                if app.lifetime_days > days:
                    s = app.policy
                    problems.append(
                        (
                            f"{_named(policy)} allows client secrets of at most {days:g} days, but the program "
                            f"requests {app.lifetime_days} days for {app.key} (integrations.{app.key}.secret: "
                            f"2 x rotation_days {s.rotation_days} + grace_days {s.grace_days})",
                            _lifetime_fix(app, days),
                        )
                    )
    asked = ", ".join(f"{a.key} {a.lifetime_days} days" for a in apps)
    if problems:
        detail = "; ".join([*(p for p, _ in problems), *unread])
        return Status.FAILED, detail, "; ".join(dict.fromkeys(f for _, f in problems))
    if unread:
        return Status.WARNING, f"{'; '.join(unread)} ({what}; secrets requested: {asked})", UNREADABLE_LIMIT_FIX
    if not in_force:
        names = ", ".join(_named(p) for p in policies) or "no app-management policy"
        return Status.OK, f"{names}: not enabled, so no password restriction applies to {what}", ""
    found = "; ".join(caps) if caps else "no password restriction applies"
    return Status.OK, f"{found} ({what}; secrets requested: {asked})", ""


def new_apps_row(reads: TenantReads, apps: Sequence[AppSecrets], now: datetime) -> CheckResult:
    """``app-policy``: the tenant default as it applies to the apps ``pulumi up`` will create (none deployed yet)."""
    name = "app-policy"
    if not apps:
        return CheckResult(name, Status.OK, "every app registration of this stack is deployed (rows below)")
    try:
        default = reads.read("default-policy", lambda r: r.default_app_management_policy())
    except Unchecked as err:
        return CheckResult(name, err.status, err.detail, err.fix)
    keys = ", ".join(a.key for a in apps)
    status, detail, fix = judge(
        [default], now, apps, f"the new app registration(s) of {keys}", "each of them once created", new=True
    )
    return CheckResult(name, status, detail, fix)


def deployed_app_row(reads: TenantReads, app: AppSecrets, found: Application) -> CheckResult:
    """``app-policy:<key>``: the policy in force for a deployed app: its assigned one(s), else the default."""
    name = f"app-policy:{app.key}"
    try:
        assigned = reads.read(f"assigned:{found.id}", lambda r: r.assigned_app_management_policies(found.id))
        enabled = [p for p in assigned if p.is_enabled]
        policies = enabled or [reads.read("default-policy", lambda r: r.default_app_management_policy())]
    except Unchecked as err:
        return CheckResult(name, err.status, err.detail, err.fix)
    created = found.created_date_time or UNDATED
    what = f"the app registration of {app.key} (client {found.app_id}, created {created.date().isoformat()})"
    status, detail, fix = judge(policies, created, [app], what, f"app {found.app_id}", new=False)
    if enabled and status is Status.OK:
        detail += "; its assigned policy overrides the tenant default"
    return CheckResult(name, status, detail, fix)
