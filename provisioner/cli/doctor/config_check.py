"""Doctor check 1: the stack's YAML config loads and validates (every problem one row)."""

from __future__ import annotations

from dataclasses import replace

from provisioner.cli.doctor.base import (
    CheckResult,
    DoctorOptions,
    Facts,
    Status,
)
from provisioner.config import load_config
from provisioner.errors import (
    ConfigError,
)

# --- 1. config ---------------------------------------------------------------------------------------


def check_config(options: DoctorOptions, facts: Facts) -> list[CheckResult]:
    """The stack's config validates, with the same rules and messages as ``validate``."""
    try:
        facts.config = load_config(options.config_file)
    except ConfigError as err:  # one row per problem, its own fix as the row's fix
        return [
            CheckResult(
                "config",
                Status.FAILED,
                str(replace(record, fix="")),
                record.fix or f"correct it, then run `python -m provisioner validate {options.config_file}`",
            )
            for record in err.records
        ]
    keys = ", ".join(facts.config.integrations)
    return [CheckResult("config", Status.OK, f"{options.config_file}: valid (integrations: {keys})")]
