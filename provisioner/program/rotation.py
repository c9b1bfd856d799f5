"""Client secret rotation as pure functions of a `SecretPolicy` and "now" (no Pulumi, no clock reads).

Two password slots take turns. Time is cut into rotation windows of ``rotation_days``, counted in whole
periods from the policy's ``anchor`` (never from "now"), so every run inside one window computes identical
inputs. The secret issued for window ``k`` lives in slot ``k % 2``::

    window:    k-1            k              k+1
    slot 0:  [== secret k-1 =============+grace]
    slot 1:                 [== secret k ===============+grace]
    active:   secret k-1    secret k       secret k+1 ...

* A secret issued for window ``k`` ends at ``start(k) + 2 * rotation_days + grace_days`` (UTC midnight), so
  no secret outlives the policy's lifetime, however late it was created.
* The active secret (pushed to Paragon) is always the newest: window ``k``'s during window ``k``. The
  previous one stays valid for at least one more period plus grace, so consumers have time to switch.
* Crossing a boundary changes exactly one slot's keepers (the slot of the new window); the secret it
  replaces is two windows old and is never the one Paragon holds.
* ``generation`` is part of both slots' keepers: bumping it replaces both secrets at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from provisioner.config import SecretPolicy

SLOT_COUNT = 2
MIN_YEAR = 2000
"""Earliest year `parse_rfc3339` accepts (evaluation times: ``--at``, the stack setting ``at``, outputs)."""
MAX_YEAR = 2999
"""Latest year `parse_rfc3339` accepts: far from ``datetime.max`` (9999), so adding any policy's windows and
lifetimes (at most 730 + 365 days) to an accepted time cannot overflow."""
SUPPORTED_RANGE = f"{MIN_YEAR}-01-01 to {MAX_YEAR}-12-31 (UTC)"


def rfc3339(moment: datetime) -> str:
    """Format a UTC datetime as RFC 3339 with a ``Z`` suffix, e.g. ``2026-03-31T00:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (``Z`` or offset) or a bare ``YYYY-MM-DD`` (UTC midnight) to aware UTC.

    Only times from `MIN_YEAR` to `MAX_YEAR` (``SUPPORTED_RANGE``, in UTC) are accepted.

    Raises:
        ValueError: The text is neither form, or outside the supported range (one line).
    """
    value = text.strip()
    if len(value) == 10:
        parsed = datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
    else:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        if parsed.tzinfo is None:
            raise ValueError(f"timestamp {text!r} has no timezone; use a trailing Z for UTC")
    # Checked before the UTC conversion too: converting 9999-12-31T23:00-05:00 would overflow.
    if not MIN_YEAR <= parsed.year <= MAX_YEAR or not MIN_YEAR <= parsed.astimezone(UTC).year <= MAX_YEAR:
        raise ValueError(f"{text!r} is outside the supported range {SUPPORTED_RANGE}")
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class SecretSlot:
    """What one password slot should hold at the evaluation time.

    Attributes:
        slot: 0 or 1; stable, part of the Pulumi resource name.
        window: Index of the rotation window this slot's secret was issued for (may be negative before
            the anchor).
        issued_at: Start of that window, UTC.
        end_date: When the secret expires, UTC midnight: ``issued_at + 2 * rotation_days + grace_days``.
        generation: The policy's forced-rotation counter.
    """

    slot: int
    window: int
    issued_at: datetime
    end_date: datetime
    generation: int

    @property
    def end_date_rfc3339(self) -> str:
        """``end_date`` as RFC 3339, the form azuread's ``end_date`` takes."""
        return rfc3339(self.end_date)

    @property
    def keepers(self) -> dict[str, str]:
        """``rotate_when_changed`` map: changes exactly when this slot must get a new secret."""
        return {
            "window": str(self.window),
            "windowStart": self.issued_at.date().isoformat(),
            "generation": str(self.generation),
        }

    def display_name(self, integration_key: str) -> str:
        """Credential display name shown in the Entra portal, e.g. ``paragon-powerbi 2026-10-28 g0``."""
        return f"paragon-{integration_key} {self.issued_at.date().isoformat()} g{self.generation}"


@dataclass(frozen=True)
class RotationState:
    """The whole desired state of an app's secrets at one instant.

    Attributes:
        at: The evaluation time (UTC).
        window: The current rotation window index.
        slots: Both slots, index = slot number.
        active_slot: The slot whose secret Paragon holds (the newest).
        next_rotation: Start of the next window, UTC: the first moment a run replaces a secret.
    """

    at: datetime
    window: int
    slots: tuple[SecretSlot, ...]
    active_slot: int
    next_rotation: datetime

    @property
    def active(self) -> SecretSlot:
        """The slot Paragon holds."""
        return self.slots[self.active_slot]


def _anchor(policy: SecretPolicy) -> datetime:
    return datetime.combine(policy.anchor, time(), tzinfo=UTC)


def window_index(policy: SecretPolicy, at: datetime) -> int:
    """Which rotation window ``at`` falls in: whole periods since the anchor (floor, so negative before it)."""
    period = timedelta(days=policy.rotation_days)
    return (at.astimezone(UTC) - _anchor(policy)) // period


def window_start(policy: SecretPolicy, window: int) -> datetime:
    """UTC start of rotation window ``window``."""
    return _anchor(policy) + timedelta(days=policy.rotation_days * window)


def _slot_for(policy: SecretPolicy, slot: int, current: int) -> SecretSlot:
    window = current if current % SLOT_COUNT == slot else current - 1
    issued = window_start(policy, window)
    return SecretSlot(
        slot=slot,
        window=window,
        issued_at=issued,
        end_date=issued + timedelta(days=policy.lifetime_days),
        generation=policy.generation,
    )


def rotation_state(policy: SecretPolicy, at: datetime) -> RotationState:
    """Desired secrets at time ``at``.

    Args:
        policy: The integration's validated secret policy.
        at: Evaluation time; must be timezone-aware (it is converted to UTC).

    Returns:
        The slots, the active slot and the next rotation time. Two calls with times in the same window
        return equal states apart from ``at``.

    Raises:
        ValueError: ``at`` is naive (no timezone).
    """
    if at.tzinfo is None:
        raise ValueError("rotation_state needs a timezone-aware time (UTC)")
    current = window_index(policy, at)
    slots = tuple(_slot_for(policy, slot, current) for slot in range(SLOT_COUNT))
    return RotationState(
        at=at.astimezone(UTC),
        window=current,
        slots=slots,
        active_slot=current % SLOT_COUNT,
        next_rotation=window_start(policy, current + 1),
    )
