"""The expiry report on hand-made stack outputs, at frozen times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from provisioner.config import load_config
from provisioner.rotation import rfc3339, rotation_state
from provisioner.status import Health, OutputsError, assess, exit_code

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def outputs_at(config_path: Path, deployed_at: datetime, generation: int = 0) -> dict[str, Any]:
    policy = load_config(config_path).integrations["powerbi"].secret
    state = rotation_state(policy, deployed_at)
    return {
        "integrations": {
            "powerbi": {
                "secret": {
                    "active_slot": state.active_slot,
                    "window": state.window,
                    "next_rotation": rfc3339(state.next_rotation),
                    "slots": [
                        {"slot": s.slot, "window": s.window, "generation": generation, "end_date": s.end_date_rfc3339}
                        for s in state.slots
                    ],
                }
            }
        }
    }


@pytest.mark.parametrize(
    ("deployed_at", "now", "warn_days", "health"),
    [
        (NOW, NOW, 30, Health.HEALTHY),
        (NOW - timedelta(days=80), NOW, 30, Health.OVERDUE),  # a window boundary passed since the deployment
        (NOW, datetime(2027, 3, 20, tzinfo=UTC), 30, Health.EXPIRING),
        (NOW, datetime(2027, 4, 6, tzinfo=UTC), 30, Health.EXPIRED),
    ],
    ids=["healthy", "overdue", "expiring", "expired"],
)
def test_verdicts(project_dir: Path, deployed_at: datetime, now: datetime, warn_days: int, health: Health) -> None:
    path = project_dir / "config" / "dev.yaml"
    reports = assess(outputs_at(path, deployed_at), load_config(path), now, warn_days)
    assert [r.health for r in reports] == [health]
    assert exit_code(reports) == int(health)


def test_not_deployed_and_malformed(project_dir: Path) -> None:
    config = load_config(project_dir / "config" / "dev.yaml")
    assert assess({}, config, NOW, 30)[0].health is Health.OVERDUE
    with pytest.raises(OutputsError, match=r"integrations\.powerbi\.secret"):
        assess({"integrations": {"powerbi": {"secret": {"active_slot": "x", "slots": []}}}}, config, NOW, 30)
