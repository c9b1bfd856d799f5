"""``doctor``: a read-only preflight that finds what would make ``pulumi up`` fail, before it runs.

Each check is a small function returning `CheckResult` rows (``ok``, ``warning``, ``failed`` or ``skipped``
with a reason), grouped by the outside system it asks: `config_check` (the YAML), `pulumi_cli` (CLI version,
login, secrets provider), `esc` (the Pulumi ESC environments a stack imports and which logins they
export), `azure` (the azuread provider's sign-in and tenant), `paragon` (login, TLS,
project, integrations, redirect host), `rotation` (the deployed secrets) and `tenant` (Microsoft Graph, read-only:
app-management policies, resource API service principals, deployed apps' owners and publisher, the deploying
identity's permissions; `tenant_reads`, `tenant_policy`, `tenant_apps`). `runner.run_doctor` runs them in
order, sharing what earlier checks found through a `base.Facts` record, and scrubs every row of known secret
values; `render.render_doctor` draws the table. Nothing here creates, changes or deletes anything: the
Pulumi CLI is asked only ``version``, ``whoami``, ``config get``, ``stack output`` and ``env get``; the Azure CLI only
``account show`` (and ``account get-access-token`` for a Graph token); Paragon only ``GET`` requests and
``POST /auth/login/email``; Microsoft Graph only ``GET``.
"""

from provisioner.cli.doctor.base import (
    MIN_PULUMI_VERSION,
    CheckResult,
    DoctorDeps,
    DoctorOptions,
    Status,
    ToolError,
    ToolResult,
    run_subprocess,
)
from provisioner.cli.doctor.paragon import certificate_problem
from provisioner.cli.doctor.render import render_doctor
from provisioner.cli.doctor.runner import doctor_exit_code, run_doctor, scrub

__all__ = [
    "MIN_PULUMI_VERSION",
    "CheckResult",
    "DoctorDeps",
    "DoctorOptions",
    "Status",
    "ToolError",
    "ToolResult",
    "certificate_problem",
    "doctor_exit_code",
    "render_doctor",
    "run_doctor",
    "run_subprocess",
    "scrub",
]
