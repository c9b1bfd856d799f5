"""Running the doctor: every check in order, rows scrubbed of known secret values, the exit code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from provisioner.cli.doctor.adopted import check_adopted
from provisioner.cli.doctor.azure import check_azure
from provisioner.cli.doctor.base import (
    CheckResult,
    DoctorDeps,
    DoctorOptions,
    Facts,
    Status,
)
from provisioner.cli.doctor.config_check import check_config
from provisioner.cli.doctor.esc import with_esc_environments
from provisioner.cli.doctor.paragon import (
    check_paragon_login_source,
    check_paragon_project,
    check_paragon_tls,
    check_redirect_uri,
)
from provisioner.cli.doctor.pulumi_cli import check_pulumi_cli, check_pulumi_login, check_pulumi_secrets
from provisioner.cli.doctor.rotation import check_rotation, load_outputs
from provisioner.cli.doctor.tenant import check_tenant
from provisioner.transport.env_secrets import MIN_SECRET_LENGTH
from provisioner.transport.scrub import scrub_message

# --- running -----------------------------------------------------------------------------------------


def scrub(text: str, secrets: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """``text`` with every secret replaced by ``[redacted]`` (`scrub_message`): the values in ``secrets`` (also
    fragments and encoded forms), every secret of ``env`` (`provisioner.transport.env_secrets`: the Paragon
    login, the Azure sign-ins, the alert webhook, any variable named like a secret) and credential-shaped text
    (JWTs, Entra client secrets, Bearer values)."""
    return scrub_message(text, [s for s in secrets if len(s) >= MIN_SECRET_LENGTH], env or {})


def run_doctor(options: DoctorOptions, deps: DoctorDeps) -> list[CheckResult]:
    """Run every check in order and return the rows, scrubbed of secrets (`scrub`: the environment's secrets,
    the Paragon login, stack-config secrets read on the way, credential shapes). Never raises for an outside
    failure."""
    facts = Facts()
    rows = check_config(options, facts)
    rows += check_pulumi_cli(deps, facts)
    rows += check_pulumi_login(deps, options, facts)
    rows += check_pulumi_secrets(deps, options, facts)
    rows += check_azure(deps, facts)
    outputs_problem = load_outputs(deps, options, facts) if facts.config is not None else None
    rows += check_paragon_login_source(deps, options, facts)
    rows += check_paragon_tls(deps, options, facts)
    rows += check_paragon_project(deps, options, facts)
    rows += check_redirect_uri(facts)
    rows += [outputs_problem] if outputs_problem is not None else check_rotation(deps, facts)
    rows += check_tenant(deps, options, facts, rows)
    rows += check_adopted(facts)
    rows = with_esc_environments(deps, options, facts, rows)
    return [
        CheckResult(r.check, r.status, scrub(r.detail, facts.secrets, deps.env), scrub(r.fix, facts.secrets, deps.env))
        for r in rows
    ]


def doctor_exit_code(rows: Sequence[CheckResult]) -> int:
    """1 when any row failed, else 0 (warnings and skips do not fail)."""
    return 1 if any(r.status is Status.FAILED for r in rows) else 0
