"""Doctor check 7: adopted app registrations (``client_id:``; docs/adopt.md) against the stack's outputs."""

from __future__ import annotations

from provisioner.cli.doctor.base import CheckResult, Facts, Status


def check_adopted(facts: Facts) -> list[CheckResult]:
    """One row per adopted app: the client ID the stack's outputs hold equals the config's ``client_id``.

    ``failed`` when they differ (the stack manages another app: ``pulumi up`` would stop on it); ``ok`` when
    the stack was not deployed yet (import the app first) or they agree. No row without adopted apps.
    """
    if facts.config is None:
        return []
    deployed = (facts.outputs or {}).get("integrations")
    rows = []
    for key, integration in facts.config.integrations.items():
        if integration.app is not None or integration.client_id is None:
            continue
        name = f"adopted-app:{key}"
        entry = deployed.get(key) if isinstance(deployed, dict) else None
        actual = str(entry.get("client_id") or "").lower() if isinstance(entry, dict) else ""
        if not actual:
            rows.append(
                CheckResult(
                    name,
                    Status.OK,
                    f"adopts client ID {integration.client_id}; not in the stack's outputs yet",
                    "import it before the first pulumi up: python -m provisioner adopt ... --output import.json, "
                    "then pulumi import --file import.json (docs/adopt.md)",
                )
            )
        elif actual != integration.client_id:
            rows.append(
                CheckResult(
                    name,
                    Status.FAILED,
                    f"the stack manages client ID {actual}, but the config adopts {integration.client_id}",
                    "correct client_id, or import the adopted app (docs/adopt.md)",
                )
            )
        else:
            rows.append(CheckResult(name, Status.OK, f"the stack manages the adopted app {actual}"))
    return rows
