"""The expiry report: how healthy each integration's client secret is, from stack outputs and config.

Pure functions (no Pulumi, no clock reads): `assess` takes the stack outputs (as ``pulumi stack output
--json`` prints them), the config and the time. Exit codes, worst first (fixed: CI scripts rely on them):

====  =========================================================================================
5     EXPIRED: the secret Paragon holds has passed its end date; connected users are failing now
4     EXPIRING: it ends within ``--warn-days`` days
3     OVERDUE: the deployed secrets are behind the schedule (a rotation window or a generation bump has
      not been applied yet; run ``pulumi up``), or the integration was never deployed
0     HEALTHY
1     the report could not be made (invalid config, unreadable outputs); 2 is a command-line usage error
6     (``status --verify``, `provisioner.cli.verify`) Entra refuses the secret Paragon holds, or Paragon holds
      none; it outranks every verdict above
====  =========================================================================================
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from provisioner.config import ProvisionerConfig
from provisioner.config.safe_io import raw_decode_json
from provisioner.program.rotation import parse_rfc3339, rfc3339, rotation_state


class Health(IntEnum):
    """Per-integration verdict; the value is the process exit code."""

    HEALTHY = 0
    OVERDUE = 3
    EXPIRING = 4
    EXPIRED = 5


class OutputsError(ValueError):
    """Stack outputs lack what the report needs (names the integration and the missing key)."""


@dataclass(frozen=True)
class SecretReport:
    """One integration's line in the report.

    Attributes:
        integration: Paragon integration key.
        health: The verdict.
        active_slot: Slot Paragon holds (None when not deployed).
        end_date: RFC 3339 end date of that secret (None when not deployed).
        days_left: Whole days until it ends, rounded down; negative once expired.
        next_rotation: RFC 3339 time of the next scheduled rotation per the deployed state.
        reason: One sentence for people.
    """

    integration: str
    health: Health
    active_slot: int | None
    end_date: str | None
    days_left: int | None
    next_rotation: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict; ``health`` as its lower-case name."""
        data = asdict(self)
        data["health"] = self.health.name.lower()
        return data


def parse_outputs_json(text: str, source: str) -> dict[str, Any]:
    """The JSON object in ``pulumi stack output --json`` text, tolerating lines printed around it.

    Some Pulumi CLI setups print SDK warnings or upgrade notices on stdout before or after the JSON. The
    object is decoded with `json.JSONDecoder.raw_decode` from the first ``{`` that starts a line (then any
    ``{``), ignoring text after it.

    Args:
        text: What the command printed on stdout (or a file holding it).
        source: The command or file, for the message.

    Raises:
        OutputsError: No JSON object is found (one line naming ``source``).
    """
    decoder = json.JSONDecoder()
    starts = [i for i, ch in enumerate(text) if ch == "{"]
    line_starts = [i for i in starts if not text[:i].rpartition("\n")[2].strip()]
    for start in dict.fromkeys(line_starts + starts):
        try:
            data, _ = raw_decode_json(decoder, text, start)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    raise OutputsError(
        f"{source}: no JSON object found in the stack outputs. Fix: run `pulumi stack output --json` yourself to "
        "see what it prints, or pass --outputs FILE with its JSON"
    )


def _require(data: Any, key: str, where: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise OutputsError(f"stack outputs: {where}.{key} is missing; was the stack deployed by this version?")
    return data[key]


def assess(outputs: dict[str, Any], config: ProvisionerConfig, now: datetime, warn_days: int) -> list[SecretReport]:
    """Judge every configured integration.

    Args:
        outputs: Stack outputs (``pulumi stack output --json``); secrets may be masked.
        config: The stack's validated config (the schedule the outputs should follow).
        now: Evaluation time, timezone-aware.
        warn_days: Report EXPIRING when the active secret ends within this many days.

    Raises:
        OutputsError: An integration's outputs are present but malformed.
    """
    deployed = outputs.get("integrations") or {}
    if not isinstance(deployed, dict):
        raise OutputsError("stack outputs: 'integrations' must be an object")
    reports: list[SecretReport] = []
    for key in config.integrations:
        policy = config.app_settings(key).secret  # a shared app's rotation is its owner's
        if key not in deployed:
            reports.append(SecretReport(key, Health.OVERDUE, None, None, None, None, "not deployed yet: run pulumi up"))
            continue
        secret = _require(deployed[key], "secret", f"integrations.{key}")
        active = _require(secret, "active_slot", f"integrations.{key}.secret")
        slots = _require(secret, "slots", f"integrations.{key}.secret")
        window = secret.get("window")
        if (
            type(active) is not int
            or not isinstance(slots, list)
            or not all(isinstance(s, dict) for s in slots)
            or (window is not None and type(window) is not int)
        ):
            raise OutputsError(
                f"stack outputs: integrations.{key}.secret: active_slot and window must be whole numbers and slots "
                "a list of objects; were the outputs edited by hand?"
            )
        slot = next((s for s in slots if isinstance(s, dict) and s.get("slot") == active), None)
        if slot is None:
            raise OutputsError(f"stack outputs: integrations.{key}.secret.slots has no slot {active}")
        try:
            end = parse_rfc3339(str(_require(slot, "end_date", f"integrations.{key}.secret.slots[{active}]")))
            next_rotation = parse_rfc3339(str(_require(secret, "next_rotation", f"integrations.{key}.secret")))
        except ValueError as err:
            raise OutputsError(f"stack outputs: integrations.{key}.secret: {err}") from None
        days_left = (end - now).days
        due = rotation_state(policy, now)
        behind_window = window is not None and window != due.window
        behind_generation = any(s.get("generation") != policy.generation for s in slots)
        if end <= now:
            health, reason = Health.EXPIRED, f"the secret Paragon holds expired on {rfc3339(end)}"
        elif days_left < warn_days:
            health, reason = Health.EXPIRING, f"the secret Paragon holds ends in {days_left} day(s)"
        elif behind_window or behind_generation:
            what = "a rotation window" if behind_window else "a generation bump (forced rotation)"
            health, reason = Health.OVERDUE, f"{what} is not deployed yet: run pulumi up"
        else:
            health, reason = Health.HEALTHY, f"next rotation {rfc3339(next_rotation)}"
        reports.append(SecretReport(key, health, active, rfc3339(end), days_left, rfc3339(next_rotation), reason))
    return reports


def exit_code(reports: list[SecretReport]) -> int:
    """The worst verdict's code (0 when every integration is healthy)."""
    return max((int(r.health) for r in reports), default=0)
