"""Doctor check 6: the deployed secrets' rotation state, from the stack's outputs (as ``status`` reports it)."""

from __future__ import annotations

from provisioner.cli.doctor.base import (
    WARN_DAYS,
    CheckResult,
    DoctorDeps,
    DoctorOptions,
    Facts,
    Status,
    ToolError,
    run_tool,
    tail,
)
from provisioner.cli.status import Health, OutputsError, assess, describe_document
from provisioner.config.safe_io import loads_json, read_text_capped, unreadable

# --- 6. rotation -------------------------------------------------------------------------------------


def load_outputs(deps: DoctorDeps, options: DoctorOptions, facts: Facts) -> CheckResult | None:
    """Fill ``facts.outputs`` from ``--outputs`` or ``pulumi stack output --json``; a row when that fails."""
    name = "rotation"
    if options.outputs_file is not None:
        try:
            text = read_text_capped(options.outputs_file)
        except (OSError, UnicodeDecodeError) as err:
            reason, fix = unreadable(options.outputs_file, err, "save `pulumi stack output --json` to it")
            return CheckResult(name, Status.FAILED, f"{options.outputs_file}: not readable JSON ({reason})", fix)
        try:
            data = loads_json(text)
        except ValueError as err:
            return CheckResult(
                name,
                Status.FAILED,
                f"{options.outputs_file}: not readable JSON ({type(err).__name__})",
                "save `pulumi stack output --json` to it",
            )
    elif facts.pulumi is None or facts.backend_url is None or options.offline:
        return CheckResult(
            name, Status.SKIPPED, "no stack outputs: pulumi CLI not logged in, or --offline (--outputs FILE)"
        )
    else:
        try:
            done = run_tool(deps, [facts.pulumi, "stack", "output", "--json", "--stack", options.stack])
        except ToolError as err:
            return CheckResult(name, Status.FAILED, str(err), "retry, or pass --outputs FILE")
        if done.returncode != 0:
            return CheckResult(name, Status.SKIPPED, f"never deployed? {tail(done.stderr or done.stdout)}")
        try:
            data = loads_json(done.stdout or "{}")
        except ValueError:
            return CheckResult(name, Status.FAILED, "`pulumi stack output --json` printed no JSON", "retry")
    if not isinstance(data, dict):
        return CheckResult(name, Status.FAILED, "stack outputs are not a JSON object", "pass the CLI's JSON unchanged")
    kind = describe_document(data)
    if kind is not None:
        source = options.outputs_file or "`pulumi stack output --json`"
        return CheckResult(
            name,
            Status.FAILED,
            f"{source}: not stack outputs: it looks like {kind}",
            "pass --outputs FILE with the JSON of `pulumi stack output --json`",
        )
    facts.outputs = data
    return None


def check_rotation(deps: DoctorDeps, facts: Facts) -> list[CheckResult]:
    """What ``status`` would report today (`provisioner.cli.status.assess`), one row per integration.

    Never ``failed``: ``pulumi up`` is what rotates, so a late or expired secret must not block it.
    """
    if facts.config is None:
        return [CheckResult("rotation", Status.SKIPPED, "the config is invalid (see config)")]
    if not facts.outputs or not facts.outputs.get("integrations"):
        return [CheckResult("rotation", Status.SKIPPED, "never deployed: no integrations in the stack outputs")]
    try:
        reports = assess(facts.outputs, facts.config, deps.now, WARN_DAYS)
    except OutputsError as err:
        return [CheckResult("rotation", Status.WARNING, str(err), "run pulumi up with this version")]
    rows = []
    for report in reports:
        healthy = report.health is Health.HEALTHY
        rows.append(
            CheckResult(
                f"rotation:{report.integration}",
                Status.OK if healthy else Status.WARNING,
                f"{report.health.name.lower()}: {report.reason}",
                "" if healthy else "run pulumi up (it rotates); see `python -m provisioner status`",
            )
        )
    return rows
