"""Tests of `provisioner.program.rotation`: property tests over a simulated deployment, plus worked examples.

The simulation stands in for the two systems a ``pulumi up`` touches:

* "Entra": the live client secrets of one app registration, keyed by ``(slot, window, generation)``, each
  with its end date and the time it was created;
* "Paragon": the one secret the integration's OAuth credential holds.

Each run at time ``t`` evaluates `rotation_state` and applies it the way Pulumi applies the program: a slot
whose inputs changed is *replaced* create-before-delete (the new secret is created at ``t`` with the slot's
end date, Paragon is then given the active slot's secret, and only afterwards are the replaced secrets
deleted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from provisioner.config import SecretPolicy
from provisioner.program.rotation import (
    SLOT_COUNT,
    RotationState,
    parse_rfc3339,
    rfc3339,
    rotation_state,
    window_index,
    window_start,
)

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
SIMULATED = timedelta(days=3 * 365)
MAX_RUNS = 4000
"""Runs simulated per example at most: a plan of second-long gaps would otherwise take millions of runs."""
INTEGRATION = "powerbi"
DEFAULT = SecretPolicy()  # rotation 90, grace 14, anchor 2025-01-01

PROPERTIES = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples on every machine: CI never flakes on a fresh random draw
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

Key = tuple[int, int, int]  # (slot, window, generation)


# --- the simulated deployment ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    """One client secret as Entra holds it."""

    key: Key
    end_date: datetime
    created_at: datetime
    display_name: str


@dataclass(frozen=True)
class RunResult:
    """What one simulated ``pulumi up`` did."""

    state: RotationState
    created: list[Secret]
    deleted: list[Key]
    paragon_before: Key | None
    entra_after_create: int


@dataclass
class Deployment:
    """Entra's secrets, Pulumi's per-slot state (key and inputs) and Paragon's secret for one app."""

    entra: dict[Key, Secret] = field(default_factory=dict)
    slot_keys: dict[int, Key] = field(default_factory=dict)
    slot_inputs: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    paragon: Key | None = None

    def held(self) -> Secret:
        """The secret Paragon holds; it must exist in Entra."""
        assert self.paragon is not None, "Paragon holds no secret"
        assert self.paragon in self.entra, f"Paragon holds {self.paragon}, which Entra no longer has"
        return self.entra[self.paragon]

    def run(self, policy: SecretPolicy, at: datetime) -> RunResult:
        """One ``pulumi up`` at ``at``: replace changed slots create-before-delete, update Paragon, delete."""
        state = rotation_state(policy, at)
        created: list[Secret] = []
        replaced: list[Key] = []
        for slot in state.slots:
            key = (slot.slot, slot.window, slot.generation)
            # Every ApplicationPassword input is replace-on-change in azuread, so any change means a new secret.
            inputs = (tuple(sorted(slot.keepers.items())), slot.end_date_rfc3339, slot.display_name(INTEGRATION))
            old_key = self.slot_keys.get(slot.slot)
            inputs_changed = self.slot_inputs.get(slot.slot) != inputs
            assert inputs_changed == (old_key != key), (
                f"slot {slot.slot}: inputs changed={inputs_changed} but (window, generation) changed="
                f"{old_key != key}; the keepers must change exactly when the secret must"
            )
            if not inputs_changed:
                continue
            assert key not in self.entra, f"slot {slot.slot} would re-create the live secret {key}"
            secret = Secret(key, slot.end_date, at, slot.display_name(INTEGRATION))
            self.entra[key] = secret
            created.append(secret)
            if old_key is not None:
                replaced.append(old_key)
            self.slot_keys[slot.slot] = key
            self.slot_inputs[slot.slot] = inputs
        entra_after_create = len(self.entra)
        paragon_before = self.paragon
        active = state.active
        self.paragon = (active.slot, active.window, active.generation)
        assert self.paragon in self.entra, "Paragon was given a secret Entra does not have"
        for key in replaced:  # Pulumi deletes replaced resources only after their dependents were updated
            del self.entra[key]
        return RunResult(state, created, replaced, paragon_before, entra_after_create)


def fresh_secrets(policy: SecretPolicy, at: datetime) -> dict[Key, datetime]:
    """The secrets (key → end date) a first-ever deployment at ``at`` would create."""
    return {(s.slot, s.window, s.generation): s.end_date for s in rotation_state(policy, at).slots}


# --- strategies -----------------------------------------------------------------------------------------


@st.composite
def policies(draw: st.DrawFn) -> SecretPolicy:
    """Any valid policy: rotation 1..180 days, grace 1..60, max lifetime from 2 x rotation + grace to 730."""
    rotation = draw(st.integers(1, 180))
    grace = draw(st.integers(1, 60))
    return SecretPolicy(
        rotation_days=rotation,
        grace_days=grace,
        max_lifetime_days=draw(st.integers(2 * rotation + grace, 730)),
        generation=draw(st.integers(0, 3)),
        anchor=draw(st.dates(date(2000, 1, 1), date(2090, 12, 31))),
    )


@dataclass(frozen=True)
class Segment:
    """A stretch of CI behaviour, expanded into run gaps by `gaps`.

    Kinds: ``daily`` (``count`` runs one day apart), ``jitter`` (daily runs, each late by up to a day),
    ``missed`` (one gap of ``fraction`` of a period), ``max`` (a gap of exactly one period),
    ``boundary`` (the next run lands exactly on a window start), ``before`` (one second before it),
    ``after`` (a run ``fraction`` of a day after it). ``bump``: the generation is bumped before the
    segment's first run.
    """

    kind: str
    count: int
    fraction: float
    bump: bool


segments = st.builds(
    Segment,
    kind=st.sampled_from(["daily", "jitter", "missed", "max", "boundary", "before", "after"]),
    count=st.integers(1, 40),
    fraction=st.floats(0.0, 1.0),
    bump=st.booleans() | st.just(False),  # bumps are rarer than ordinary runs
)


def gaps(segment: Segment, policy: SecretPolicy, now: datetime) -> list[timedelta]:
    """The gaps between runs a segment produces, each in ``(0, rotation_days]``."""
    period = timedelta(days=policy.rotation_days)
    to_boundary = window_start(policy, window_index(policy, now) + 1) - now  # in (0, period]
    match segment.kind:
        case "daily":
            raw = [DAY] * segment.count
        case "jitter":
            raw = [
                DAY + timedelta(seconds=int(segment.fraction * 86_400 * ((i % 3) + 1) / 3))
                for i in range(segment.count)
            ]
        case "missed":
            raw = [timedelta(seconds=int(segment.fraction * period.total_seconds()))]
        case "max":
            raw = [period]
        case "boundary":
            raw = [to_boundary]
        case "before":
            raw = [to_boundary - SECOND if to_boundary > SECOND else to_boundary]
        case "after":
            raw = [to_boundary + timedelta(seconds=int(segment.fraction * 86_400))]
        case _:
            raise AssertionError(segment.kind)
    return [min(max(gap, SECOND), period) for gap in raw]


# --- the property ---------------------------------------------------------------------------------------


@PROPERTIES
@given(
    policy=policies(),
    start_offset_days=st.integers(-400, 400),
    start_seconds=st.integers(0, 86_399),
    plan=st.lists(segments, min_size=1, max_size=12),
)
def test_simulated_deployment_keeps_paragon_working(
    policy: SecretPolicy, start_offset_days: int, start_seconds: int, plan: list[Segment]
) -> None:
    """Three years of ``pulumi up`` runs (at most `MAX_RUNS` of them) never leave Paragon with a secret about
    to expire.

    Precondition (the guarantee needs it): at least one run per rotation period, i.e. no gap between runs
    is longer than ``rotation_days``. Runs may be daily, missed for days, late by hours, land exactly on a
    window boundary or a second before it, and the generation may be bumped at any run.
    """
    period = timedelta(days=policy.rotation_days)
    anchor = datetime.combine(policy.anchor, datetime.min.time(), tzinfo=UTC)
    now = anchor + timedelta(days=start_offset_days, seconds=start_seconds)  # may be before the anchor
    end = now + SIMULATED
    deployment = Deployment()
    previous = check_run(deployment, policy, now, None, bumped=False)
    seen: set[str] = set()
    runs = 0
    while now < end and runs < MAX_RUNS:
        for segment in plan:
            for index, gap in enumerate(gaps(segment, policy, now)):
                runs += 1
                assert SECOND <= gap <= period, "test precondition: at least one run per period"
                now += gap
                bumped = segment.bump and index == 0
                if bumped:
                    policy = SecretPolicy.model_validate({**policy.model_dump(), "generation": policy.generation + 1})
                    seen.add("generation bump")
                rotated_late = previous.state.window != window_index(policy, now) and (
                    now - window_start(policy, window_index(policy, now)) > DAY
                )
                previous = check_run(deployment, policy, now, previous, bumped=bumped)
                if now == window_start(policy, previous.state.window):
                    seen.add("run exactly on a window boundary")
                if previous.state.window < 0:
                    seen.add("negative window")
                if rotated_late:
                    seen.add("rotation more than a day late")
    for label in sorted(seen):  # shown by pytest --hypothesis-show-statistics
        event(label)


def check_run(
    deployment: Deployment, policy: SecretPolicy, now: datetime, previous: RunResult | None, *, bumped: bool
) -> RunResult:
    """Run ``pulumi up`` at ``now`` and check every guarantee just before and just after it."""
    grace = timedelta(days=policy.grace_days)
    period = timedelta(days=policy.rotation_days)
    if deployment.paragon is not None:  # just before the run
        held = deployment.held()
        assert held.end_date - now >= grace, (
            f"before the run at {rfc3339(now)} Paragon's secret {held.key} ends {rfc3339(held.end_date)}, "
            f"less than {policy.grace_days} grace day(s) away"
        )
    result = deployment.run(policy, now)
    # just after the run
    held = deployment.held()
    assert held.end_date - now >= grace, f"after the run at {rfc3339(now)} Paragon's secret ends too soon"
    assert len(deployment.entra) <= SLOT_COUNT, f"{len(deployment.entra)} secrets live after the run"
    assert result.entra_after_create <= 2 * SLOT_COUNT, "more than one replacement per slot"
    assert deployment.paragon not in result.deleted, "the secret Paragon holds was deleted"
    for secret in result.created:
        lifetime = secret.end_date - secret.created_at
        assert lifetime <= timedelta(days=policy.max_lifetime_days), (
            f"{secret.key} created {rfc3339(secret.created_at)} ends {rfc3339(secret.end_date)}: "
            f"longer than max_lifetime_days={policy.max_lifetime_days}"
        )
        assert lifetime >= grace, f"{secret.key} was created with less than grace_days to live"
    # Converged: exactly what a first deployment at this instant would hold, whatever the history.
    live = {key: secret.end_date for key, secret in deployment.entra.items()}
    fresh = {(s.slot, s.window, s.generation): s.end_date for s in result.state.slots}  # = fresh_secrets(...)
    assert live == fresh, f"the run at {rfc3339(now)} did not converge"
    assert held.key[1] == max(key[1] for key in deployment.entra), "the active secret is the newest"
    if bumped:
        assert len(result.created) == SLOT_COUNT, "a generation bump must replace both slots"
        assert {key[2] for key in deployment.entra} == {policy.generation}
    elif previous is not None:
        same_window = previous.state.window == result.state.window
        assert (not result.created and not result.deleted) == same_window, (
            "a run in the same window must change nothing; a run in a new window must rotate"
        )
        if not same_window:
            # Overlap: the secret Paragon held before the rotation survives it, valid for at least one
            # more period (plus grace) after the new window began.
            assert result.paragon_before in deployment.entra, "the rotation deleted the previous secret"
            survivor = deployment.entra[result.paragon_before]
            assert survivor.end_date >= result.state.active.issued_at + period + grace
            assert len(result.created) == 1 and len(result.deleted) == 1, "a rotation replaces exactly one slot"
    return result


@PROPERTIES
@given(
    policy=policies(),
    window=st.integers(-60, 60),
    first=st.floats(0.0, 1.0, exclude_max=True),
    second=st.floats(0.0, 1.0, exclude_max=True),
    offset_minutes=st.integers(-14 * 60, 14 * 60),
)
def test_same_window_gives_identical_inputs(
    policy: SecretPolicy, window: int, first: float, second: float, offset_minutes: int
) -> None:
    """Two evaluations anywhere in one window (in any timezone) give the same slots, keepers and names."""
    start = window_start(policy, window)
    length = policy.rotation_days * 86_400
    one = start + timedelta(seconds=int(first * length))
    two = (start + timedelta(seconds=int(second * length))).astimezone(timezone(timedelta(minutes=offset_minutes)))
    a, b = rotation_state(policy, one), rotation_state(policy, two)
    assert a.window == b.window == window
    assert a.slots == b.slots
    assert [s.keepers for s in a.slots] == [s.keepers for s in b.slots]
    assert [s.end_date_rfc3339 for s in a.slots] == [s.end_date_rfc3339 for s in b.slots]
    assert [s.display_name(INTEGRATION) for s in a.slots] == [s.display_name(INTEGRATION) for s in b.slots]
    assert (a.active_slot, a.next_rotation) == (b.active_slot, b.next_rotation)


@PROPERTIES
@given(policy=policies(), offset_seconds=st.integers(-3 * 730 * 86_400, 3 * 730 * 86_400))
def test_windows_are_whole_periods_from_the_anchor(policy: SecretPolicy, offset_seconds: int) -> None:
    """Windows start at the anchor plus whole periods (UTC midnight); ``at`` only picks which one."""
    anchor = datetime.combine(policy.anchor, datetime.min.time(), tzinfo=UTC)
    at = anchor + timedelta(seconds=offset_seconds)
    state = rotation_state(policy, at)
    period = timedelta(days=policy.rotation_days)
    assert window_start(policy, state.window) <= at < window_start(policy, state.window + 1) == state.next_rotation
    assert {s.window for s in state.slots} == {state.window, state.window - 1}
    assert state.active.window == state.window, "the active secret is the newest"
    for slot in state.slots:
        assert slot.slot == slot.window % SLOT_COUNT
        assert (slot.issued_at - anchor) % period == timedelta(0), "window starts are whole periods from the anchor"
        assert slot.issued_at.time() == datetime.min.time() and slot.issued_at.tzinfo == UTC
        assert slot.end_date - slot.issued_at == timedelta(days=policy.lifetime_days)
        assert slot.generation == policy.generation


@PROPERTIES
@given(
    moment=st.datetimes(datetime(2000, 1, 2), datetime(2999, 12, 30), timezones=st.just(UTC)),
    offset_minutes=st.integers(-14 * 60, 14 * 60),
)
def test_rfc3339_round_trips(moment: datetime, offset_minutes: int) -> None:
    """``parse_rfc3339(rfc3339(t)) == t`` to the second, from any offset; formatting is canonical UTC ``Z``."""
    moment = moment.replace(microsecond=0)
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    text = rfc3339(local)
    assert text.endswith("Z") and len(text) == 20
    assert parse_rfc3339(text) == moment
    assert parse_rfc3339(local.isoformat()) == moment
    assert rfc3339(parse_rfc3339(text)) == text


# --- examples -------------------------------------------------------------------------------------------


def _keepers(state: RotationState) -> list[dict[str, str]]:
    return [slot.keepers for slot in state.slots]


@pytest.mark.parametrize("window", [-3, -1, 0, 1, 2, 7])
def test_crossing_a_boundary_changes_exactly_one_slot(window: int) -> None:
    """At a window start only the new window's slot gets new keepers; the other (Paragon's) is untouched."""
    boundary = window_start(DEFAULT, window)
    before = rotation_state(DEFAULT, boundary - timedelta(microseconds=1))
    after = rotation_state(DEFAULT, boundary)
    changed = [i for i in range(SLOT_COUNT) if before.slots[i].keepers != after.slots[i].keepers]
    assert changed == [window % SLOT_COUNT]
    assert after.active_slot == window % SLOT_COUNT
    assert after.slots[before.active_slot] == before.active, "the secret Paragon held is kept"


def test_generation_bump_changes_both_slots() -> None:
    """Bumping ``generation`` (the response to a leak) replaces both secrets at once."""
    at = datetime(2025, 5, 1, tzinfo=UTC)
    bumped = SecretPolicy(generation=1)
    old, new = rotation_state(DEFAULT, at), rotation_state(bumped, at)
    assert all(o.keepers != n.keepers for o, n in zip(old.slots, new.slots, strict=True))
    assert [s.generation for s in new.slots] == [1, 1]
    assert [s.display_name("powerbi") for s in new.slots] == [
        "paragon-powerbi 2025-01-01 g1",
        "paragon-powerbi 2025-04-01 g1",
    ]
    assert [s.end_date for s in old.slots] == [s.end_date for s in new.slots], "a bump keeps the schedule"


def test_windows_before_the_anchor_are_negative() -> None:
    """Before the anchor, windows count backwards (floor division), and the slots still alternate."""
    state = rotation_state(DEFAULT, datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC))
    assert state.window == -1
    assert state.active_slot == 1  # -1 % 2
    assert state.active.issued_at == datetime(2024, 10, 3, tzinfo=UTC)  # 2025-01-01 minus 90 days
    assert state.slots[0].window == -2
    assert state.slots[0].issued_at == datetime(2024, 7, 5, tzinfo=UTC)
    assert state.next_rotation == datetime(2025, 1, 1, tzinfo=UTC)
    assert state.active.keepers == {"window": "-1", "windowStart": "2024-10-03", "generation": "0"}


def test_default_policy_dates() -> None:
    """The worked example of docs/rotation.md: rotation 90, grace 14, anchor 2025-01-01."""
    state = rotation_state(DEFAULT, datetime(2025, 4, 1, tzinfo=UTC))
    assert state.window == 1 and state.active_slot == 1
    assert state.active.end_date_rfc3339 == "2025-10-12T00:00:00Z"  # 2025-04-01 + 194 days
    assert state.slots[0].end_date_rfc3339 == "2025-07-14T00:00:00Z"  # 2025-01-01 + 194 days
    assert rfc3339(state.next_rotation) == "2025-06-30T00:00:00Z"


def test_naive_datetime_is_rejected() -> None:
    """A time without a timezone is ambiguous; rotation_state refuses it rather than guess."""
    with pytest.raises(ValueError, match="timezone-aware"):
        rotation_state(DEFAULT, datetime(2025, 5, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-31", datetime(2026, 3, 31, tzinfo=UTC)),
        ("2026-03-31T00:00:00Z", datetime(2026, 3, 31, tzinfo=UTC)),
        ("2026-03-31T02:30:00+02:30", datetime(2026, 3, 31, tzinfo=UTC)),
        (" 2026-03-31T12:00:00z ", datetime(2026, 3, 31, 12, tzinfo=UTC)),
    ],
)
def test_parse_rfc3339_examples(text: str, expected: datetime) -> None:
    """Bare dates are UTC midnight; offsets are converted to UTC."""
    assert parse_rfc3339(text) == expected
    assert parse_rfc3339(text).tzinfo == UTC


@pytest.mark.parametrize("text", ["2026-03-31T00:00:00", "31/03/2026", "", "yesterday"])
def test_parse_rfc3339_rejects(text: str) -> None:
    """No timezone, or not a timestamp at all: ValueError."""
    with pytest.raises(ValueError):
        parse_rfc3339(text)


def test_late_run_converges() -> None:
    """A run five days after the boundary makes exactly the rotation an on-time run would have made."""
    deployment = Deployment()
    deployment.run(DEFAULT, datetime(2025, 3, 31, 6, tzinfo=UTC))
    held_before = deployment.paragon
    late = datetime(2025, 4, 6, 6, tzinfo=UTC)
    result = deployment.run(DEFAULT, late)
    on_time = fresh_secrets(DEFAULT, datetime(2025, 4, 1, tzinfo=UTC))
    assert {key: s.end_date for key, s in deployment.entra.items()} == on_time
    assert result.created[0].end_date == datetime(2025, 10, 12, tzinfo=UTC), "the end date ignores the lateness"
    assert held_before in deployment.entra, "the previous secret stays valid after the rotation"


def test_long_outage_still_converges_in_one_run() -> None:
    """After three missed periods one run restores the schedule (the guarantee in between needs the runs)."""
    deployment = Deployment()
    deployment.run(DEFAULT, datetime(2025, 1, 2, tzinfo=UTC))
    later = datetime(2025, 10, 5, tzinfo=UTC)  # window 3: both slots are out of date
    result = deployment.run(DEFAULT, later)
    assert len(result.created) == 2 and len(deployment.entra) == 2
    assert {key: s.end_date for key, s in deployment.entra.items()} == fresh_secrets(DEFAULT, later)


def test_precondition_is_tight() -> None:
    """A gap just over one period can leave Paragon with less than grace: why CI must run every period."""
    policy = SecretPolicy(rotation_days=30, grace_days=7, max_lifetime_days=90)
    deployment = Deployment()
    deployment.run(policy, window_start(policy, 2) - SECOND)  # last second of window 1
    next_run = window_start(policy, 3) + SECOND  # a gap of 30 days + 2 seconds
    left = deployment.held().end_date - next_run
    assert left < timedelta(days=policy.grace_days)
