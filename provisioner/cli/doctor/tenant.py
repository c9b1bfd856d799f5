"""Doctor check 7: the tenant, read from Microsoft Graph (read-only; provisioner/graph/, docs/graph.md).

Rows, in order (the read each needs, least privilege):

* ``deployer``: who signs in (the access token's claims; no permission) and, for an app identity, whether its
  application permissions (``roles``) let ``pulumi up`` work: ``Application.ReadWrite.OwnedBy`` and
  ``Application.Read.All``. ``Application.ReadWrite.All`` works but is broader than needed (warning). A user's
  directory role is not in the token, so that row is ``skipped`` with the role a person needs.
* ``app-policy``: the tenant default app-management policy against the apps ``pulumi up`` will create
  (``Policy.Read.All``); ``app-policy:<key>`` per deployed app, its assigned policy overriding the default
  (``Policy.Read.All`` and ``Application.Read.All``). See `tenant_policy`.
* ``resource-sp:<key>``: the integration's resource API (Microsoft Graph, Power BI, Dynamics CRM, ...) has a
  service principal in the tenant, where ``pulumi up`` reads its published scopes (``Application.Read.All``).
* ``owners:<key>`` and ``publisher:<key>`` per deployed app (``Application.Read.All``). See `tenant_apps`.

Deployed apps are the client IDs in the stack outputs (``integrations.<key>.client_id``). A row whose read
Graph refuses is ``skipped: needs <permission>``; without usable Azure credentials, or with ``--offline``, every
row is ``skipped`` with the reason. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from provisioner.cli.doctor.base import CheckResult, DoctorDeps, DoctorOptions, Facts, Status
from provisioner.cli.doctor.tenant_apps import OWNED_BY, READ_WRITE_ALL, owners_row, publisher_row
from provisioner.cli.doctor.tenant_policy import AppSecrets, deployed_app_row, new_apps_row
from provisioner.cli.doctor.tenant_reads import TenantReads, Unchecked
from provisioner.config import ProvisionerConfig
from provisioner.errors import README_ENTRA_SIGN_IN, GraphError, GraphNotFound
from provisioner.graph.models import Application, SignedInIdentity

APP_READ_ALL = "Application.Read.All"
PERSON_ROLES = (
    "pulumi up as a person needs the directory role Cloud Application Administrator (or Application "
    "Administrator) to manage apps it does not own; Application Developer, or the tenant setting that lets users "
    "register apps, covers only apps you create, and then list yourself in owners (docs/owners.md)"
)


def _owner_keys(config: ProvisionerConfig) -> list[str]:
    """Integrations that own an app registration (``app:`` sharers use their target's)."""
    return [k for k in config.integrations if config.app_key(k) == k]


def deployed_client_ids(config: ProvisionerConfig, outputs: dict[str, Any] | None) -> dict[str, str]:
    """App key → client ID, for the stack's apps that the outputs show deployed."""
    found = (outputs or {}).get("integrations")
    ids: dict[str, str] = {}
    for key in _owner_keys(config):
        entry = found.get(key) if isinstance(found, dict) else None
        client_id = entry.get("client_id") if isinstance(entry, dict) else None
        if isinstance(client_id, str) and client_id.strip():
            ids[key] = client_id.strip()
    return ids


def _names(config: ProvisionerConfig, deployed: Sequence[str]) -> list[str]:
    rows = ["deployer", "app-policy", *(f"app-policy:{k}" for k in deployed)]
    rows += [f"resource-sp:{k}" for k in config.integrations]
    return rows + [f"{kind}:{k}" for k in deployed for kind in ("owners", "publisher")]


def check_tenant(
    deps: DoctorDeps, options: DoctorOptions, facts: Facts, earlier: Sequence[CheckResult]
) -> list[CheckResult]:
    """The tenant rows (module docstring), or each of them ``skipped`` with the reason they cannot be read."""
    config = facts.config
    if config is None:
        return [CheckResult("tenant", Status.SKIPPED, "the config is invalid (see config)")]
    deployed = deployed_client_ids(config, facts.outputs)
    credentials = next((r for r in earlier if r.check == "azure-credentials"), None)
    reason = None
    if options.offline:
        reason = "--offline: this check reads Microsoft Graph"
    elif credentials is not None and credentials.status is Status.FAILED:
        reason = "no usable Azure credentials (see azure-credentials)"
    if reason is not None:
        return [CheckResult(name, Status.SKIPPED, reason) for name in _names(config, list(deployed))]
    with TenantReads(deps) as reads:
        return _rows(reads, deps, config, deployed)


def _guard(name: str, build: Callable[..., CheckResult], *args: Any) -> CheckResult:
    """``build(*args)``, or the row saying why it could not be checked."""
    try:
        return build(*args)
    except Unchecked as err:
        return CheckResult(name, err.status, err.detail, err.fix)
    except GraphNotFound as err:
        return CheckResult(name, Status.WARNING, f"Microsoft Graph could not find it: {err}", "run doctor again")
    except GraphError as err:  # a shape Graph should not send; never a traceback
        return CheckResult(name, Status.WARNING, f"Microsoft Graph could not be read: {err}", "run doctor again")


def _rows(
    reads: TenantReads, deps: DoctorDeps, config: ProvisionerConfig, deployed: dict[str, str]
) -> list[CheckResult]:
    rows = [_guard("deployer", deployer_row, reads)]
    try:
        identity: SignedInIdentity | None = reads.read("whoami", lambda r: r.whoami())
    except (Unchecked, GraphError):
        identity = None
    secrets = {k: AppSecrets(k, config.integrations[k].secret) for k in _owner_keys(config)}
    new = [secrets[k] for k in secrets if k not in deployed]
    rows.append(_guard("app-policy", new_apps_row, reads, new, deps.now))
    apps: dict[str, Application | CheckResult] = {}
    for key, client_id in deployed.items():
        apps[key] = _application(reads, key, client_id)
        found = apps[key]
        name = f"app-policy:{key}"
        if isinstance(found, Application):
            rows.append(_guard(name, deployed_app_row, reads, secrets[key], found))
        else:
            rows.append(CheckResult(name, found.status, found.detail, found.fix))
    rows += [_guard(f"resource-sp:{k}", resource_sp_row, reads, config, k) for k in config.integrations]
    for key, found in apps.items():
        for kind in ("owners", "publisher"):
            name = f"{kind}:{key}"
            if not isinstance(found, Application):
                rows.append(CheckResult(name, found.status, found.detail, found.fix))
            elif kind == "owners":
                rows.append(_guard(name, owners_row, reads, config, key, found, identity))
            else:
                rows.append(publisher_row(key, found))
    return rows


def _application(reads: TenantReads, key: str, client_id: str) -> Application | CheckResult:
    """The deployed app, or the row every per-app check shows instead."""
    try:
        return reads.read(f"app:{client_id.lower()}", lambda r: r.application(client_id))
    except Unchecked as err:
        return CheckResult(key, err.status, err.detail, err.fix)
    except GraphNotFound:
        return CheckResult(
            key,
            Status.WARNING,
            f"the stack outputs name client ID {client_id} for {key}, but this tenant has no such app registration "
            "(deleted, or signed in to another tenant?)",
            "check ARM_TENANT_ID / az login --tenant; if the app was deleted, run pulumi refresh, then pulumi up",
        )
    except GraphError as err:
        return CheckResult(key, Status.WARNING, f"Microsoft Graph could not be read: {err}", "run doctor again")


def resource_sp_row(reads: TenantReads, config: ProvisionerConfig, key: str) -> CheckResult:
    """``resource-sp:<key>``: the integration's resource API has a service principal in the tenant."""
    entry = config.entry(key)
    name = f"resource-sp:{key}"
    api = f"{entry.resource_title} ({entry.resource_app_id})"
    try:
        sp = reads.read(f"sp:{entry.resource_app_id}", lambda r: r.service_principal(entry.resource_app_id))
    except GraphNotFound:
        return CheckResult(
            name,
            Status.FAILED,
            f"the resource API {api} has no service principal in this tenant, so pulumi up cannot look up the "
            "scopes it publishes",
            f"az ad sp create --id {entry.resource_app_id} (once, by a person with Cloud Application Administrator "
            "or Application Administrator)",
        )
    return CheckResult(name, Status.OK, f"{api} has a service principal in this tenant (object ID {sp.id})")


def deployer_row(reads: TenantReads) -> CheckResult:
    """``deployer``: who signs in, and whether an app identity's Graph application permissions suffice."""
    name = "deployer"
    who = reads.read("whoami", lambda r: r.whoami())
    if who.kind == "user":
        user = who.user_principal_name or who.display_name or "?"
        return CheckResult(
            name,
            Status.SKIPPED,
            f"signed in as user {user} (object {who.object_id}): the token does not say which directory role the "
            "user holds, and doctor does not read role assignments",
            PERSON_ROLES,
        )
    roles = set(who.roles)
    me = f"app identity {who.app_id} (object {who.object_id})"
    held = ", ".join(sorted(roles)) or "no application permissions"
    if READ_WRITE_ALL in roles:
        return CheckResult(
            name,
            Status.WARNING,
            f"{me} holds {held}: that works, but {READ_WRITE_ALL} is broader than pulumi up needs",
            f"grant {OWNED_BY} and {APP_READ_ALL} instead and remove {READ_WRITE_ALL}, once scheduled_deployer owns "
            "the apps (docs/owners.md)",
        )
    missing = [p for p in (OWNED_BY, APP_READ_ALL) if p not in roles]
    if missing:
        cannot = []
        if OWNED_BY in missing:
            cannot.append("create or update its app registrations and their secrets")
        if APP_READ_ALL in missing:
            cannot.append("read the resource APIs' published scopes")
        return CheckResult(
            name,
            Status.FAILED,
            f"{me} holds {held}: without {' and '.join(missing)} pulumi up cannot {' or '.join(cannot)}",
            f"grant it the Microsoft Graph application permission(s) {' and '.join(missing)}, with admin consent "
            f"({README_ENTRA_SIGN_IN}); nothing broader is needed",
        )
    return CheckResult(name, Status.OK, f"{me} holds {OWNED_BY} and {APP_READ_ALL}, what pulumi up needs")
