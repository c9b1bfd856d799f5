"""Doctor's rows about the stack's deployed app registrations, read from the tenant: owners and publisher.

Owners (docs/owners.md): with ``scheduled_deployer`` set, the owners of every app are it plus the app's
``owners``, and the identity that rotates on schedule usually holds ``Application.ReadWrite.OwnedBy``, which
manages only apps it owns and cannot add itself back (Microsoft Graph *Add owner*). Publisher
(docs/publisher-verification.md): a multi-tenant app without a verified publisher
(``verifiedPublisher.verifiedPublisherId`` empty) is shown as unverified in customers' consent prompts, and in
many tenants only an administrator can consent to it.
"""

from __future__ import annotations

from provisioner.cli.doctor.base import CheckResult, Status
from provisioner.cli.doctor.tenant_reads import TenantReads
from provisioner.config import ProvisionerConfig
from provisioner.graph.models import Application, SignedInIdentity

MULTI_TENANT = frozenset({"AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount"})
"""Sign-in audiences that let users of other work or school tenants sign in (and consent)."""
OWNED_BY = "Application.ReadWrite.OwnedBy"
READ_WRITE_ALL = "Application.ReadWrite.All"


def owners_row(
    reads: TenantReads,
    config: ProvisionerConfig,
    key: str,
    found: Application,
    deployer: SignedInIdentity | None,
) -> CheckResult:
    """``owners:<key>``: does the deployed app keep ``scheduled_deployer`` (and the declared owners)?

    ``failed`` when the app identity signed in now (``scheduled_deployer`` or another) is not an owner and lacks
    ``Application.ReadWrite.All``: its ``pulumi up`` is refused for this app. ``warning`` when
    ``scheduled_deployer`` is not an owner otherwise, or is not configured at all. Needs ``Application.Read.All``.
    """
    name = f"owners:{key}"
    owners = reads.read(f"owners:{found.id}", lambda r: r.application_owners(found.id))
    ids = {o.id.lower() for o in owners}
    shown = ", ".join(f"{o.display_name or o.user_principal_name or o.kind} ({o.id})" for o in owners) or "none"
    scheduled = config.scheduled_deployer
    me = (deployer.object_id or "").lower() if deployer is not None else ""
    if deployer is not None and deployer.kind == "app" and READ_WRITE_ALL not in deployer.roles and me not in ids:
        is_scheduled = bool(scheduled) and me == (scheduled or "").lower()
        subject = f"scheduled_deployer {scheduled}" if is_scheduled else f"app identity {deployer.app_id} ({me})"
        return CheckResult(
            name,
            Status.FAILED,
            f"{subject} is not an owner of {found.app_id} (owners: {shown}); you are signed in as it without "
            f"{READ_WRITE_ALL}, so this pulumi up will be refused for this app",
            "run pulumi up once as a person with Cloud Application Administrator (or Application Administrator) "
            "with this identity's object ID as scheduled_deployer, which makes it an owner again; "
            f"{OWNED_BY} alone cannot add an owner (docs/owners.md)",
        )
    if not scheduled:
        return CheckResult(
            name,
            Status.WARNING,
            f"owners: {shown}; scheduled_deployer is not set, so each pulumi up makes whoever runs it an owner and a "
            "run by another identity can remove the one that rotates on schedule",
            "set scheduled_deployer to the object ID of the CI identity's service principal (docs/owners.md)",
        )
    declared = [o.lower() for o in config.declared_owners(key)]
    missing = [o for o in declared if o not in ids]
    extra = sorted(ids - set(declared))
    changes = []
    if missing:
        changes.append(f"add {', '.join(missing)}")
    if extra:
        changes.append(f"remove {', '.join(extra)} (not in scheduled_deployer or owners)")
    plan = f"; pulumi up will {' and '.join(changes)}" if changes else ""
    if scheduled.lower() in ids:
        return CheckResult(name, Status.OK, f"scheduled_deployer {scheduled} is an owner (owners: {shown}){plan}")
    detail = f"scheduled_deployer {scheduled} is not an owner of {found.app_id} (owners: {shown})"
    fix = (
        "run pulumi up once as a person with Cloud Application Administrator (or Application Administrator), "
        f"which adds it back; {OWNED_BY} alone cannot add an owner (docs/owners.md)"
    )
    return CheckResult(name, Status.WARNING, f"{detail}: its scheduled pulumi up will be refused{plan}", fix)


def publisher_row(key: str, found: Application) -> CheckResult:
    """``publisher:<key>``: the app's verified publisher, a warning for an unverified multi-tenant app."""
    name = f"publisher:{key}"
    publisher = found.verified_publisher
    if publisher.verified:
        return CheckResult(
            name,
            Status.OK,
            f"verified publisher {publisher.display_name or '?'} (Partner ID {publisher.verified_publisher_id})",
        )
    audience = found.sign_in_audience or "?"
    if audience not in MULTI_TENANT:
        return CheckResult(
            name,
            Status.OK,
            f"publisher not verified; sign-in audience {audience} has no other work or school tenants to consent",
        )
    return CheckResult(
        name,
        Status.WARNING,
        f"{found.app_id} ({audience}) has no verified publisher: customers' consent prompts show it as unverified, "
        "and in tenants that allow user consent only for verified publishers their end users cannot connect until "
        "an administrator of their tenant consents",
        "verify the publisher once per app, signed in with your Microsoft AI Cloud Partner Program account (not "
        "from CI): docs/publisher-verification.md",
    )
