"""Doctor checks 3: the Azure sign-in the azuread provider will use, and its tenant.

The azuread provider's credentials: OIDC (``ARM_USE_OIDC``, ``ARM_CLIENT_ID``, ``ARM_TENANT_ID`` and a token
from ``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN``, ``ARM_OIDC_REQUEST_URL``/``_TOKEN``, ``ARM_OIDC_TOKEN`` or
``ARM_OIDC_TOKEN_FILE_PATH``), a client secret (``ARM_CLIENT_SECRET``) or the Azure CLI session
(``shared/reference/ci-facts.md``, the azuread provider's authentication guides).
"""

from __future__ import annotations

from pathlib import Path

from provisioner.cli.doctor.base import (
    OIDC_TOKEN_SOURCES,
    CheckResult,
    DoctorDeps,
    Facts,
    Status,
    ToolError,
    run_tool,
    tail,
)
from provisioner.config.safe_io import loads_json
from provisioner.errors import README_ENTRA_SIGN_IN

# --- 3. azure ----------------------------------------------------------------------------------------


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def check_azure(deps: DoctorDeps, facts: Facts) -> list[CheckResult]:
    """Credentials for the azuread provider (OIDC, client secret or Azure CLI), then their tenant.

    The tenant is compared with ``ARM_TENANT_ID`` when both it and an Azure CLI session exist; the config
    names no tenant, so that comparison is skipped with a reason.
    """
    env = deps.env
    name = "azure-credentials"
    tenant_env = env.get("ARM_TENANT_ID", "").strip()
    rows: list[CheckResult] = []
    cli_tenant: str | None = None
    if _truthy(env.get("ARM_USE_OIDC")):
        missing = [v for v in ("ARM_CLIENT_ID", "ARM_TENANT_ID") if not env.get(v, "").strip()]
        token_ok = any(all(env.get(v, "").strip() for v in source) for source in OIDC_TOKEN_SOURCES)
        token_file = env.get("ARM_OIDC_TOKEN_FILE_PATH", "").strip()
        if token_file and not Path(token_file).is_file():
            missing.append("a readable ARM_OIDC_TOKEN_FILE_PATH")
        elif not token_ok:
            missing.append("an OIDC token source")
        if missing:
            rows.append(
                CheckResult(
                    name,
                    Status.FAILED,
                    f"ARM_USE_OIDC is set but {', '.join(missing)} is missing",
                    "set ARM_CLIENT_ID and ARM_TENANT_ID; on GitHub Actions give the job `permissions: id-token: "
                    "write`, elsewhere set ARM_OIDC_TOKEN or ARM_OIDC_TOKEN_FILE_PATH",
                )
            )
        else:
            rows.append(CheckResult(name, Status.OK, f"OIDC workload identity for client {env['ARM_CLIENT_ID']}"))
    elif env.get("ARM_CLIENT_SECRET", "").strip():
        missing = [v for v in ("ARM_CLIENT_ID", "ARM_TENANT_ID") if not env.get(v, "").strip()]
        if missing:
            rows.append(
                CheckResult(
                    name, Status.FAILED, f"ARM_CLIENT_SECRET is set but {', '.join(missing)} is not", "set them"
                )
            )
        else:
            rows.append(
                CheckResult(
                    name,
                    Status.WARNING,
                    f"client secret for client {env['ARM_CLIENT_ID']} (itself a secret to rotate)",
                    f"prefer OIDC workload identity federation: ARM_USE_OIDC=true ({README_ENTRA_SIGN_IN})",
                )
            )
    else:
        found = _az_session(deps)
        if isinstance(found, CheckResult):
            rows.append(found)
        else:
            cli_tenant, user = found
            rows.append(CheckResult(name, Status.OK, f"Azure CLI session of {user} in tenant {cli_tenant}"))
    if rows[0].status is Status.FAILED:
        return [*rows, CheckResult("azure-tenant", Status.SKIPPED, "no usable Azure credentials")]
    rows.append(_tenant_row(tenant_env, cli_tenant))
    return rows


def _az_session(deps: DoctorDeps) -> tuple[str, str] | CheckResult:
    """(tenant ID, user name) of the Azure CLI's current account, or a failed row."""
    name = "azure-credentials"
    fix = "az login --tenant <tenant-id>, or in CI set ARM_USE_OIDC=true, ARM_CLIENT_ID and ARM_TENANT_ID"
    az = deps.find("az")
    if az is None:
        return CheckResult(name, Status.FAILED, "no ARM_* credentials and the Azure CLI (az) is not on PATH", fix)
    try:
        done = run_tool(deps, [az, "account", "show", "--output", "json"])
    except ToolError as err:
        return CheckResult(name, Status.FAILED, str(err), fix)
    try:
        data = loads_json(done.stdout) if done.returncode == 0 else None
    except ValueError:
        data = None
    tenant = data.get("tenantId") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(tenant, str):
        return CheckResult(name, Status.FAILED, f"no Azure CLI session: {tail(done.stderr or done.stdout)}", fix)
    user = data.get("user")
    who = user.get("name") if isinstance(user, dict) else None
    return tenant, str(who or "?")


def _tenant_row(tenant_env: str, cli_tenant: str | None) -> CheckResult:
    name = "azure-tenant"
    note = "config names no tenant, so only ARM_TENANT_ID and the Azure CLI session are compared"
    if tenant_env and cli_tenant and tenant_env.lower() != cli_tenant.lower():
        return CheckResult(
            name,
            Status.WARNING,
            f"ARM_TENANT_ID {tenant_env} differs from the Azure CLI session's tenant {cli_tenant}; the provider "
            f"asks for a token in {tenant_env} ({note})",
            f"az login --tenant {tenant_env}, or unset ARM_TENANT_ID to deploy into {cli_tenant}",
        )
    tenant = tenant_env or cli_tenant
    if tenant:
        return CheckResult(name, Status.OK, f"deploying into tenant {tenant} ({note})")
    return CheckResult(name, Status.SKIPPED, note)
