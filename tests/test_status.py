"""The expiry report: `assess` and `exit_code` on hand-made stack outputs, then ``python -m provisioner status``.

Stack outputs are built from `rotation_state` in the shape `provisioner.program` exports
(``outputs["integrations"][key]["secret"]``), as ``pulumi stack output --json`` prints them.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from provisioner.cli.app import app
from provisioner.cli.status import Health, OutputsError, SecretReport, assess, exit_code
from provisioner.config import ProvisionerConfig, load_config
from provisioner.program.rotation import RotationState, rfc3339, rotation_state, window_start

REPO_DEV_CONFIG = Path(__file__).resolve().parent.parent / "config" / "dev.yaml"
NOW = datetime(2026, 11, 29, tzinfo=UTC)
KEY = "powerbi"
REPORT_FIELDS = {"integration", "health", "active_slot", "end_date", "days_left", "next_rotation", "reason"}

runner = CliRunner()


def secret_outputs(state: RotationState) -> dict[str, Any]:
    """``outputs["integrations"][key]["secret"]`` as `provisioner.program` exports it for ``state``."""
    return {
        "active_slot": state.active_slot,
        "window": state.window,
        "next_rotation": rfc3339(state.next_rotation),
        "slots": [
            {
                "slot": slot.slot,
                "window": slot.window,
                "generation": slot.generation,
                "key_id": f"00000000-0000-4000-8000-00000000000{slot.slot}",
                "end_date": slot.end_date_rfc3339,
            }
            for slot in state.slots
        ],
    }


def deployed(config: ProvisionerConfig, at: datetime) -> dict[str, Any]:
    """Stack outputs of a ``pulumi up`` of every configured integration at ``at``."""
    return {
        "integrations": {
            key: {
                "client_id": "11111111-1111-4111-8111-111111111111",
                "secret": secret_outputs(rotation_state(i.secret, at)),
            }
            for key, i in config.integrations.items()
        }
    }


def bump_generation(config: ProvisionerConfig) -> ProvisionerConfig:
    """The same config with every integration's ``generation`` raised by one (a forced rotation)."""
    data = config.model_dump()
    for integration in data["integrations"].values():
        integration["secret"]["generation"] += 1
    return ProvisionerConfig.model_validate(data)


@pytest.fixture
def config(tmp_path: Path) -> ProvisionerConfig:
    """A copy of config/dev.yaml (rotation 90, grace 14, anchor 2025-01-01, one integration: powerbi)."""
    path = tmp_path / "dev.yaml"
    shutil.copy(REPO_DEV_CONFIG, path)
    loaded = load_config(path)
    assert list(loaded.integrations) == [KEY], "these tests assume config/dev.yaml configures powerbi only"
    policy = loaded.integrations[KEY].secret
    assert (policy.rotation_days, policy.grace_days, policy.generation) == (90, 14, 0), "dev.yaml policy changed"
    return loaded


def only(reports: list[SecretReport]) -> SecretReport:
    assert len(reports) == 1
    return reports[0]


# --- assess ---------------------------------------------------------------------------------------------


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
def test_verdicts(
    config: ProvisionerConfig, deployed_at: datetime, now: datetime, warn_days: int, health: Health
) -> None:
    """One verdict per situation; the exit code is the verdict's value."""
    reports = assess(deployed(config, deployed_at), config, now, warn_days)
    assert [r.health for r in reports] == [health]
    assert exit_code(reports) == int(health)


def test_healthy_through_the_whole_window(config: ProvisionerConfig) -> None:
    """Deployed on schedule, the report stays healthy until the next window starts; then it is overdue."""
    policy = config.integrations[KEY].secret
    start = window_start(policy, 7)  # 2026-09-23
    outputs = deployed(config, start)
    first = only(assess(outputs, config, start, 30))
    assert first.health is Health.HEALTHY
    assert first.active_slot == 1
    assert first.end_date == "2027-04-05T00:00:00Z"  # 2026-09-23 + 2 x 90 + 14 days
    assert first.days_left == 194
    assert first.next_rotation == "2026-12-22T00:00:00Z"
    assert first.reason == "next rotation 2026-12-22T00:00:00Z"
    last = only(assess(outputs, config, window_start(policy, 8) - timedelta(seconds=1), 30))
    assert (last.health, last.days_left) == (Health.HEALTHY, 104)  # a full period plus grace still left
    late = only(assess(outputs, config, window_start(policy, 8), 30))
    assert late.health is Health.OVERDUE
    assert late.reason == "a rotation window is not deployed yet: run pulumi up"
    assert exit_code([late]) == 3


def test_expiring_is_strictly_within_warn_days(config: ProvisionerConfig) -> None:
    """EXPIRING when fewer than ``warn_days`` whole days are left; exactly ``warn_days`` is still healthy."""
    at = datetime(2026, 10, 1, tzinfo=UTC)
    outputs = deployed(config, at)
    left = only(assess(outputs, config, at, 0)).days_left
    assert left == 186  # window 7's secret ends 2027-04-05
    assert only(assess(outputs, config, at, left)).health is Health.HEALTHY
    report = only(assess(outputs, config, at, left + 1))
    assert report.health is Health.EXPIRING
    assert report.reason == f"the secret Paragon holds ends in {left} day(s)"
    assert exit_code([report]) == 4


def test_expired_at_and_after_the_end_date(config: ProvisionerConfig) -> None:
    """At the end date itself the secret no longer works: EXPIRED, with days counted negative afterwards."""
    outputs = deployed(config, NOW)
    end = datetime(2027, 4, 5, tzinfo=UTC)
    at_end = only(assess(outputs, config, end, 30))
    assert (at_end.health, at_end.days_left) == (Health.EXPIRED, 0)
    assert at_end.reason == "the secret Paragon holds expired on 2027-04-05T00:00:00Z"
    after = only(assess(outputs, config, end + timedelta(days=3, hours=1), 30))
    assert (after.health, after.days_left) == (Health.EXPIRED, -4)  # rounded down
    assert exit_code([after]) == 5


def test_overdue_after_a_generation_bump(config: ProvisionerConfig) -> None:
    """A generation bump in config that has not been deployed is overdue, even inside the same window."""
    report = only(assess(deployed(config, NOW), bump_generation(config), NOW, 30))
    assert report.health is Health.OVERDUE
    assert report.reason == "a generation bump (forced rotation) is not deployed yet: run pulumi up"
    bumped = bump_generation(config)
    assert only(assess(deployed(bumped, NOW), bumped, NOW, 30)).health is Health.HEALTHY, "fixed by pulumi up"


def test_expiring_outranks_overdue(config: ProvisionerConfig) -> None:
    """Overdue and expiring at once reports the worse verdict: EXPIRING."""
    at = NOW + timedelta(days=120)  # next window; the deployed active secret ends 2027-04-05
    report = only(assess(deployed(config, NOW), config, at, 30))
    assert report.days_left is not None and report.days_left < 30
    assert report.health is Health.EXPIRING


@pytest.mark.parametrize("outputs", [{}, {"integrations": {}}, {"integrations": {"other": {}}}])
def test_not_deployed_is_overdue(config: ProvisionerConfig, outputs: dict[str, Any]) -> None:
    """An integration missing from the outputs was never deployed: OVERDUE (3), nothing else known."""
    report = only(assess(outputs, config, NOW, 30))
    assert report == SecretReport(KEY, Health.OVERDUE, None, None, None, None, "not deployed yet: run pulumi up")
    assert exit_code([report]) == 3


def test_exit_code_is_the_worst_verdict() -> None:
    """Several integrations: the worst verdict wins; no integrations at all is healthy."""

    def report(health: Health) -> SecretReport:
        return SecretReport(health.name, health, 0, None, None, None, "")

    assert exit_code([]) == 0
    assert exit_code([report(Health.HEALTHY), report(Health.OVERDUE)]) == 3
    assert exit_code([report(Health.EXPIRED), report(Health.OVERDUE), report(Health.EXPIRING)]) == 5
    assert exit_code([report(Health.EXPIRING), report(Health.HEALTHY)]) == 4


def test_report_json(config: ProvisionerConfig) -> None:
    """``to_json`` has every field, with the verdict as a lower-case name."""
    data = only(assess(deployed(config, NOW), config, NOW, 30)).to_json()
    assert set(data) == REPORT_FIELDS
    assert data["health"] == "healthy" and data["integration"] == KEY


def malformed(config: ProvisionerConfig, mutate: str) -> dict[str, Any]:
    """Outputs of a deployment at NOW, broken in one way."""
    outputs = deployed(config, NOW)
    secret = outputs["integrations"][KEY]["secret"]
    active = secret["slots"][secret["active_slot"]]
    match mutate:
        case "integrations-list":
            outputs["integrations"] = [KEY]
        case "no-secret":
            outputs["integrations"][KEY] = {"client_id": "x"}
        case "secret-not-object":
            outputs["integrations"][KEY]["secret"] = "[secret]"
        case "no-active-slot":
            del secret["active_slot"]
        case "active-slot-text":
            secret["active_slot"] = "x"
        case "active-slot-null":
            secret["active_slot"] = None
        case "no-slots":
            del secret["slots"]
        case "slots-not-list":
            secret["slots"] = 5
        case "active-slot-absent":
            secret["slots"] = [s for s in secret["slots"] if s is not active]
        case "slot-not-object":
            secret["slots"].append("junk")
        case "no-end-date":
            del active["end_date"]
        case "end-date-garbage":
            active["end_date"] = "next spring"
        case "end-date-naive":
            active["end_date"] = "2027-04-05T00:00:00"
        case "no-next-rotation":
            del secret["next_rotation"]
        case "window-text":
            secret["window"] = "abc"
        case _:
            raise AssertionError(mutate)
    return outputs


MALFORMED = [
    "integrations-list",
    "no-secret",
    "secret-not-object",
    "no-active-slot",
    "active-slot-text",
    "active-slot-null",
    "no-slots",
    "slots-not-list",
    "active-slot-absent",
    "slot-not-object",
    "no-end-date",
    "end-date-garbage",
    "end-date-naive",
    "no-next-rotation",
    "window-text",
]


@pytest.mark.parametrize("mutate", MALFORMED)
def test_malformed_outputs_raise_outputs_error(config: ProvisionerConfig, mutate: str) -> None:
    """Broken outputs are an OutputsError naming where (never a TypeError/AttributeError traceback)."""
    with pytest.raises(OutputsError, match=r"^stack outputs: .*integrations"):
        assess(malformed(config, mutate), config, NOW, 30)


@pytest.mark.parametrize("window", ["absent", None])
def test_window_is_optional(config: ProvisionerConfig, window: str | None) -> None:
    """Outputs without a (or with a null) ``window`` are judged by end date and generation alone."""
    outputs = deployed(config, NOW)
    secret = outputs["integrations"][KEY]["secret"]
    if window == "absent":
        del secret["window"]
    else:
        secret["window"] = window
    assert only(assess(outputs, config, NOW, 30)).health is Health.HEALTHY
    assert only(assess(outputs, bump_generation(config), NOW, 30)).health is Health.OVERDUE


def test_outputs_match_what_the_program_exports(config: ProvisionerConfig) -> None:
    """The hand-made outputs above have the exact shape `provisioner.program` exports."""
    from provisioner.program.stack import _secret_outputs

    state = rotation_state(config.integrations[KEY].secret, NOW)
    fake_app = SimpleNamespace(key_ids=[f"00000000-0000-4000-8000-00000000000{i}" for i in range(2)])
    assert _secret_outputs(fake_app, state) == secret_outputs(state)  # type: ignore[arg-type]


# --- the command line -----------------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder holding config/dev.yaml (a copy of the repository's), as the working directory."""
    (tmp_path / "config").mkdir()
    shutil.copy(REPO_DEV_CONFIG, tmp_path / "config" / "dev.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_outputs(workdir: Path, outputs: Any, name: str = "outputs.json") -> Path:
    path = workdir / name
    path.write_text(json.dumps(outputs), encoding="utf-8")
    return path


def status(*args: str) -> Any:
    return runner.invoke(app, ["status", *args])


def test_cli_healthy_text(workdir: Path, config: ProvisionerConfig) -> None:
    """Exit 0 and a table naming the integration, its verdict, end date and next rotation."""
    path = write_outputs(workdir, deployed(config, NOW))
    result = status("--outputs", str(path), "--at", "2026-11-29", "--warn-days", "30")
    assert result.exit_code == 0, result.output
    for expected in (KEY, "HEALTHY", "2027-04-05T00:00:00Z", "2026-12-22T00:00:00Z", "as of 2026-11-29T00:00:00Z"):
        assert expected in result.stdout


@pytest.mark.parametrize(
    ("outputs_at", "at", "warn_days", "code", "health"),
    [
        ("2026-11-29", "2026-11-29", "30", 0, "healthy"),
        ("2026-11-29", "2026-12-22", "30", 3, "overdue"),  # window 8 began, not deployed
        ("2026-11-29", "2027-03-20", "30", 4, "expiring"),
        ("2026-11-29", "2027-03-20", "0", 3, "overdue"),  # the same, without the warning
        ("2026-11-29", "2027-04-05T00:00:00Z", "30", 5, "expired"),
    ],
)
def test_cli_exit_codes_and_json(
    workdir: Path, config: ProvisionerConfig, outputs_at: str, at: str, warn_days: str, code: int, health: str
) -> None:
    """``--format json``: one document whose exit_code is the process's, with one entry per integration."""
    path = write_outputs(workdir, deployed(config, datetime.fromisoformat(outputs_at).replace(tzinfo=UTC)))
    result = status("--outputs", str(path), "--at", at, "--warn-days", warn_days, "--format", "json")
    assert result.exit_code == code, result.output
    doc = json.loads(result.stdout)
    assert set(doc) == {"stack", "config", "at", "warn_days", "exit_code", "integrations"}
    assert doc["stack"] == "dev" and doc["warn_days"] == int(warn_days) and doc["exit_code"] == code
    assert doc["config"] == "config/dev.yaml"
    assert doc["at"] == rfc3339(datetime.fromisoformat(at.replace("Z", "+00:00")).replace(tzinfo=UTC))
    [entry] = doc["integrations"]
    assert set(entry) == REPORT_FIELDS
    assert entry["integration"] == KEY and entry["health"] == health
    assert entry["end_date"] == "2027-04-05T00:00:00Z" and entry["active_slot"] == 1


def test_cli_not_deployed_is_3(workdir: Path) -> None:
    """No outputs for the integration: exit 3, reported with empty fields."""
    result = status("--outputs", str(write_outputs(workdir, {})), "--at", "2026-11-29", "--format", "json")
    assert result.exit_code == 3, result.output
    [entry] = json.loads(result.stdout)["integrations"]
    assert entry["health"] == "overdue" and entry["active_slot"] is None and entry["days_left"] is None


def test_cli_generation_bump_is_3(workdir: Path, config: ProvisionerConfig) -> None:
    """Config with a bumped generation against outputs of the old one: exit 3 until pulumi up runs."""
    data = yaml.safe_load((workdir / "config" / "dev.yaml").read_text(encoding="utf-8"))
    data["integrations"][KEY]["secret"]["generation"] += 1
    (workdir / "config" / "bumped.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    path = write_outputs(workdir, deployed(config, NOW))
    result = status("--stack", "bumped", "--outputs", str(path), "--at", "2026-11-29", "--format", "json")
    assert result.exit_code == 3, result.output
    assert "generation bump" in json.loads(result.stdout)["integrations"][0]["reason"]


@pytest.mark.parametrize("mutate", ["no-secret", "active-slot-text", "end-date-garbage", "slot-not-object"])
def test_cli_malformed_outputs_exit_1(workdir: Path, config: ProvisionerConfig, mutate: str) -> None:
    """Malformed outputs: exit 1 with a one-line message on stderr, no traceback."""
    result = status("--outputs", str(write_outputs(workdir, malformed(config, mutate))), "--at", "2026-11-29")
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), "crashed instead of reporting"
    assert result.stderr.startswith("stack outputs: integrations")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read stack outputs JSON"),
        ("{not json", "no JSON object found in the stack outputs"),
        ("[1, 2]", "no JSON object found in the stack outputs"),
    ],
    ids=["missing-file", "not-json", "not-an-object"],
)
def test_cli_unreadable_outputs_exit_1(workdir: Path, content: str | None, message: str) -> None:
    """An outputs file that is missing, not JSON, or not an object: exit 1."""
    path = workdir / "outputs.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = status("--outputs", str(path), "--at", "2026-11-29")
    assert result.exit_code == 1, result.output
    assert message in result.stderr


def test_cli_missing_config_exit_1(workdir: Path) -> None:
    """No config/<stack>.yaml: exit 1, naming the file."""
    path = write_outputs(workdir, {})
    result = status("--stack", "prod", "--outputs", str(path), "--at", "2026-11-29")
    assert result.exit_code == 1, result.output
    assert "prod.yaml: file not found" in result.stderr


def test_cli_bad_at_is_a_usage_error(workdir: Path) -> None:
    """A malformed --at is a command-line usage error: exit 2."""
    result = status("--outputs", str(write_outputs(workdir, {})), "--at", "next tuesday")
    assert result.exit_code == 2, result.output
    assert "--at" in result.stderr
