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
import shutil
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import Any, Final

from provisioner.config import ProvisionerConfig
from provisioner.config.safe_io import raw_decode_json, read_text_capped, unreadable
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
    fix = "Fix: run `pulumi stack output --json` yourself to see what it prints, or pass --outputs FILE with its JSON"
    first = text.lstrip()[:1]
    if first == "[":
        try:
            top, _ = raw_decode_json(decoder, text, text.index("["))
        except ValueError:
            top = None
        if isinstance(top, list) and top:
            raise OutputsError(
                f"{source}: no JSON object found in the stack outputs: it is a JSON list of {len(top)} item(s), "
                f"like the rows of `doctor --format json`. {fix}"
            )
    starts = [i for i, ch in enumerate(text) if ch == "{"]
    line_starts = [i for i in starts if not text[:i].rpartition("\n")[2].strip()]
    for start in dict.fromkeys(line_starts + starts):
        try:
            data, _ = raw_decode_json(decoder, text, start)
        except ValueError:
            continue
        if isinstance(data, dict):
            check_outputs_shape(data, source)
            return data
    raise OutputsError(f"{source}: no JSON object found in the stack outputs. {fix}")


OTHER_DOCUMENTS: Final = (
    (frozenset({"project", "stack", "resources", "outputs"}), "a plan document (plan --format json)"),
    (frozenset({"base", "head", "resources"}), "a plan diff (diff --format json)"),
    (frozenset({"stack", "warn_days", "exit_code", "integrations"}), "an expiry report (status --format json)"),
    (frozenset({"check", "status", "detail"}), "a doctor row (doctor --format json)"),
    (frozenset({"key", "resource_app_id"}), "a catalog entry (catalog --format json)"),
)
"""Documents this tool prints that are not stack outputs: the keys that identify each, and its name."""


def describe_document(data: dict[str, Any]) -> str | None:
    """What a JSON object that is not stack outputs looks like (`OTHER_DOCUMENTS`), or None when it could be
    stack outputs: empty (a stack never deployed) or with an ``integrations`` object and no other document's
    keys."""
    keys = set(data)
    for needed, name in OTHER_DOCUMENTS:
        if needed <= keys:
            return name
    if not data or isinstance(data.get("integrations"), dict):
        return None
    shown = ", ".join(sorted(map(str, keys))[:5])
    return f"a JSON object without the provisioner's `integrations` output (its keys: {shown})"


def check_outputs_shape(data: dict[str, Any], source: str) -> None:
    """Refuse a JSON object that is not this program's stack outputs, saying what it looks like.

    A plan, a diff or a status report passed as ``--outputs`` would otherwise be judged as a stack that
    was never deployed (OVERDUE, exit 3): a CI alert for the wrong reason.

    Raises:
        OutputsError: ``data`` is another document (one line naming ``source`` and what it looks like).
    """
    kind = describe_document(data)
    if kind is not None:
        raise OutputsError(
            f"{source}: not stack outputs: it looks like {kind}. Fix: pass the JSON of "
            "`pulumi stack output --json --stack <stack>` (or leave out --outputs to run it)"
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


def read_outputs(stack: str, outputs_file: Path | None) -> dict[str, Any]:
    """The stack's outputs: from ``outputs_file`` (saved ``pulumi stack output --json``), else by running
    ``pulumi stack output --json --stack STACK`` (read-only).

    Raises:
        OutputsError: The file cannot be read, the CLI is missing or fails, or the text is not stack outputs
            (one line naming the file or command and the fix).
    """
    if outputs_file is not None:
        try:
            text = read_text_capped(outputs_file)
        except (OSError, UnicodeDecodeError) as err:
            reason, fix = unreadable(outputs_file, err, "save `pulumi stack output --json` to it")
            raise OutputsError(f"{outputs_file}: cannot read stack outputs JSON ({reason}). Fix: {fix}") from None
        source = str(outputs_file)
    else:
        if shutil.which("pulumi") is None:
            raise OutputsError(
                "the pulumi CLI is not on PATH. Fix: install it, or pass --outputs FILE with the "
                "output of `pulumi stack output --json`"
            )
        command = ["pulumi", "stack", "output", "--json", "--stack", stack]
        source = " ".join(command)
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as err:
            raise OutputsError(f"{source}: could not run ({err.strerror})") from None
        if done.returncode != 0:
            raise OutputsError(f"{source} failed: {' '.join(done.stderr.split())[:500]}")
        text = done.stdout if done.stdout.strip() else "{}"
    return parse_outputs_json(text, source)
