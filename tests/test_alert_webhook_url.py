"""A ``PROVISIONER_ALERT_WEBHOOK`` that cannot be posted to (a control character pasted into it, or a URL httpx
refuses) is one warning line that never shows the URL, and ``status`` keeps its exit code: the whole kind."""

from __future__ import annotations

from pathlib import Path

import pytest
from paragon_fake import FakeParagon
from test_status_verify import HOOK_TOKEN, paragon, status, workdir  # noqa: F401  (fixtures)

from provisioner.cli.alerts import AlertFormat, AlertSummary, Severity, send_status_alert

HOST = "hooks.example.com"
CONTROL = {"esc": "\x1b", "tab": "\t", "cr": "\r", "lf": "\n", "nul": "\x00", "del": "\x7f", "nel": "\x85"}
"""Control characters (Unicode category Cc) a copy and paste can carry; NUL only reaches a process through a
mapping (an environment variable cannot hold it), so it is checked below the command line."""
PLACES = {
    "inside": f"https://{HOST}/workflows/x?{HOOK_TOKEN}{{c}}tail",
    "at-the-end": f"https://{HOST}/workflows/x?{HOOK_TOKEN}{{c}}[2J",
    "in-the-host": f"https://hooks{{c}}.example.com/x?{HOOK_TOKEN}",
}
CONTROL_CASES = [
    pytest.param(place.format(c=char), id=f"{name}-{where}")
    for name, char in CONTROL.items()
    for where, place in PLACES.items()
]
HTTPX_REFUSES = [
    pytest.param(f"https://{HOST}:abc/x?{HOOK_TOKEN}", id="port-not-a-number"),
    pytest.param(f"https://hooks\u202eexample.com/x?{HOOK_TOKEN}", id="host-idna-refuses"),
    pytest.param(f"https://[{HOOK_TOKEN}/x", id="unclosed-ipv6-bracket"),
]
WARNING = "warning: the status alert was not posted: PROVISIONER_ALERT_WEBHOOK "


def _summary() -> AlertSummary:
    return AlertSummary("dev", "2026-12-22T00:00:00Z", 3, [])


def _assert_one_safe_line(line: str | None, url: str) -> None:
    assert line is not None and line.startswith(WARNING), line
    assert "\n" not in line and HOST not in line and HOOK_TOKEN not in line and url not in line
    assert "Fix: " in line


@pytest.mark.parametrize("url", [*CONTROL_CASES, *HTTPX_REFUSES])
def test_a_webhook_that_cannot_be_posted_to_is_one_warning(url: str) -> None:
    line = send_status_alert(_summary(), {"PROVISIONER_ALERT_WEBHOOK": url}, AlertFormat.AUTO, Severity.INFO)

    _assert_one_safe_line(line, url)
    if any(c in url for c in CONTROL.values()):
        assert "contains a control character" in line  # type: ignore[operator]


@pytest.mark.parametrize("url", [c for c in CONTROL_CASES if "\x00" not in str(c.values[0])] + HTTPX_REFUSES)
def test_status_keeps_its_exit_code_with_such_a_webhook(
    url: str,
    workdir: Path,  # noqa: F811
    paragon: FakeParagon,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROVISIONER_ALERT_WEBHOOK", url)

    result = status(workdir, at="2026-12-22")  # rotation overdue: exit 3, a warning alert

    assert result.exit_code == 3, result.output
    [line] = [x for x in result.stderr.splitlines() if x.startswith("warning: the status alert")]
    _assert_one_safe_line(line, url)
    assert "This is a bug" not in result.stderr and HOST not in result.stdout + result.stderr


def test_a_trailing_newline_is_trimmed_not_refused() -> None:
    from provisioner.cli.alerts import webhook_from

    url = webhook_from({"PROVISIONER_ALERT_WEBHOOK": f"https://{HOST}/x?{HOOK_TOKEN}\n"})

    assert url is not None and url.get_secret_value() == f"https://{HOST}/x?{HOOK_TOKEN}"
