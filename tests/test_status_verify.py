"""``status --verify`` and the status alert, against the Paragon fake, the Entra fake and a webhook receiver."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from entra_fake import FakeEntra, Scripted, fingerprint
from paragon_fake import FakeParagon
from test_status import REPO_DEV_CONFIG, deployed
from typer.testing import CliRunner
from webhook_fake import FakeWebhook

from provisioner.cli.alerts import AlertFormat, AlertItem, AlertSummary, guess_format, payload_for
from provisioner.cli.app import app
from provisioner.config import load_config

PROJECT = "38b1f170-0c43-4eae-9a04-ab85325d99f7"  # config/dev.yaml
TENANT = "aaaaaaaa-1111-4111-8111-111111111111"
CLIENT_ID = "11111111-1111-4111-8111-111111111111"
HELD = "held-secret-canary~0123456789abcdef"
EMAIL, PASSWORD = "ops@example.com", "status-password-canary"
HOOK_TOKEN = "sig=webhook-url-canary-token"
CANARIES = (HELD, PASSWORD, HOOK_TOKEN)
NOW = datetime(2026, 11, 29, tzinfo=UTC)

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("no_ca_bundle")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "config").mkdir()
    shutil.copy(REPO_DEV_CONFIG, tmp_path / "config" / "dev.yaml")
    monkeypatch.chdir(tmp_path)
    for name in ("PROVISIONER_ALERT_WEBHOOK", "PROVISIONER_ALERT_ON", "PROVISIONER_ALERT_FORMAT", "GITHUB_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def paragon(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeParagon]:
    with FakeParagon() as fake:
        fake.add_user(EMAIL, PASSWORD)
        iid = fake.add_integration(PROJECT, "powerbi")
        fake.credentials["cred-1"] = {
            "id": "cred-1",
            "projectId": PROJECT,
            "integrationId": iid,
            "provider": "powerbi",
            "scheme": "oauth_app",
            "status": "VALID",
            "values": {"clientId": CLIENT_ID, "clientSecret": HELD, "scopes": "offline_access"},
        }
        for name, value in (("PARAGON_BASE_URL", fake.url), ("PARAGON_EMAIL", EMAIL), ("PARAGON_PASSWORD", PASSWORD)):
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("PARAGON_ACCESS_TOKEN", raising=False)
        yield fake


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEntra]:
    with FakeEntra() as fake:
        fake.trust(monkeypatch)
        monkeypatch.setenv("AZURE_AUTHORITY_HOST", fake.url)
        fake.add_app(TENANT, CLIENT_ID)
        yield fake


def outputs_file(workdir: Path) -> str:
    outputs = deployed(load_config(workdir / "config" / "dev.yaml"), NOW)
    outputs["integrations"]["powerbi"].update(tenant_id=TENANT, paragon_credential_id="cred-1")
    path = workdir / "outputs.json"
    path.write_text(json.dumps(outputs), encoding="utf-8")
    return str(path)


def status(workdir: Path, *args: str, at: str = "2026-11-29") -> Any:
    result = runner.invoke(app, ["status", "--outputs", outputs_file(workdir), "--at", at, *args])
    assert not any(c in result.stdout + result.stderr for c in CANARIES), "a secret reached the output"
    return result


def test_verify_accepts_the_secret_paragon_holds(workdir: Path, paragon: FakeParagon, entra: FakeEntra) -> None:
    entra.add_secret(TENANT, CLIENT_ID, HELD)

    result = status(workdir, "--verify", "--format", "json")

    assert result.exit_code == 0, result.output
    [check] = json.loads(result.stdout)["verify"]
    assert (check["integration"], check["verdict"], check["code"]) == ("powerbi", "accepted", None)
    [token] = entra.token_requests(CLIENT_ID)
    assert token.secret_fingerprint == fingerprint(HELD) and token.tenant == TENANT.lower()


def test_a_refused_secret_is_exit_6_after_one_request(workdir: Path, paragon: FakeParagon, entra: FakeEntra) -> None:
    entra.add_secret(TENANT, CLIENT_ID, "the-secret-entra-knows")  # Paragon holds another one

    result = status(workdir, "--verify")

    assert result.exit_code == 6, result.output
    assert "REFUSED" in result.stdout and "AADSTS7000215" in result.stdout
    assert len(entra.token_requests()) == 1, "an old secret that is refused is not retried"


def test_refused_outranks_expired(workdir: Path, paragon: FakeParagon, entra: FakeEntra) -> None:
    entra.add_secret(TENANT, CLIENT_ID, HELD, expired=True)
    result = status(workdir, "--verify", at="2027-04-06")
    assert result.exit_code == 6 and "AADSTS7000222" in result.stdout


def test_a_credential_missing_in_paragon_is_exit_6(workdir: Path, paragon: FakeParagon, entra: FakeEntra) -> None:
    del paragon.credentials["cred-1"]
    result = status(workdir, "--verify", "--format", "json")
    assert result.exit_code == 6 and json.loads(result.stdout)["verify"][0]["verdict"] == "missing"
    assert entra.token_requests() == []


def test_without_a_paragon_login_the_check_is_unverified_exit_1(
    workdir: Path, paragon: FakeParagon, entra: FakeEntra, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARAGON_PASSWORD")
    result = status(workdir, "--verify", "--format", "json")
    assert result.exit_code == 1
    [check] = json.loads(result.stdout)["verify"]
    assert check["verdict"] == "unverified" and "PARAGON" in check["detail"]


def test_without_verify_nothing_is_called(workdir: Path, paragon: FakeParagon, entra: FakeEntra) -> None:
    result = status(workdir, "--format", "json")
    assert result.exit_code == 0 and "verify" not in json.loads(result.stdout)
    assert paragon.requests == [] and entra.token_requests() == []


# --- Entra without an AADSTS answer: an UNVERIFIED row, the report kept ------------------------------------

ECHO_500 = Scripted(500, {"error": "server_error", "error_description": f"AADSTS90033: busy {HELD} {PASSWORD}"})
NO_ANSWER = [
    ("always 500", [ECHO_500] * 100, "HTTP 500 server_error AADSTS90033"),
    ("always 503", [Scripted(503)] * 100, "HTTP 503 temporarily_unavailable"),
    ("429 past the window", [Scripted.throttled("60")], "asked to wait 60 s"),
    ("always a gateway's page", [Scripted.garbage(200)] * 100, "a body that is not JSON"),
    ("a proxy's 403 page", [Scripted.garbage(403)], "HTTP 403 a body that is not JSON"),
    ("always dropped", [Scripted(drop=True)] * 100, "ConnectionError"),
    ("metadata 502", [Scripted(502)] * 100, "HTTP 502"),
]


@pytest.fixture
def short_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """``status --verify`` gives Entra 30 s; half a second here keeps the test short (real waits, real MSAL)."""
    monkeypatch.setattr("provisioner.cli.verify.VERIFY_WINDOW_SECONDS", 0.5)


@pytest.mark.usefixtures("short_window")
@pytest.mark.parametrize(("at", "code"), [("2026-11-29", 1), ("2027-04-06", 5)])
@pytest.mark.parametrize(("name", "answers", "said"), NO_ANSWER, ids=[row[0] for row in NO_ANSWER])
def test_no_answer_from_entra_is_an_unverified_row_and_exit_1_unless_worse(
    workdir: Path, paragon: FakeParagon, entra: FakeEntra, name: str, answers: list[Scripted], said: str, at: str,
    code: int,
) -> None:  # fmt: skip
    entra.add_secret(TENANT, CLIENT_ID, HELD)
    entra.script(*answers, endpoint="metadata" if name.startswith("metadata") else "token")

    text = status(workdir, "--verify", at=at)
    entra.script(*answers, endpoint="metadata" if name.startswith("metadata") else "token")
    as_json = status(workdir, "--verify", "--format", "json", at=at)

    assert (text.exit_code, as_json.exit_code) == (code, code), text.output
    assert "UNVERIFIED" in text.stdout and "Client secrets, stack dev" in text.stdout, "the report is kept"
    [check] = json.loads(as_json.stdout)["verify"]
    assert check["verdict"] == "unverified" and check["code"] is None
    detail = check["detail"]
    assert detail.startswith("powerbi: the secret Paragon holds: no usable answer from Entra") and said in detail
    assert "Fix: " in detail and "This is a bug" not in text.output + as_json.output


@pytest.mark.usefixtures("short_window")
def test_entra_busy_twice_then_answering_is_accepted(workdir: Path, paragon: FakeParagon, entra: FakeEntra) -> None:
    entra.add_secret(TENANT, CLIENT_ID, HELD)
    entra.script(Scripted(503), Scripted.throttled("0"))
    result = status(workdir, "--verify", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["verify"][0]["verdict"] == "accepted"
    assert [t.status for t in entra.token_requests()] == [503, 429, 200]


# --- alerts -----------------------------------------------------------------------------------------------


def hook_env(monkeypatch: pytest.MonkeyPatch, hook: FakeWebhook, fmt: str | None = None) -> None:
    monkeypatch.setenv("PROVISIONER_ALERT_WEBHOOK", f"{hook.url}/workflows/abc/triggers/manual?{HOOK_TOKEN}")
    if fmt:
        monkeypatch.setenv("PROVISIONER_ALERT_FORMAT", fmt)


def test_a_refusal_is_posted_as_critical_json_with_the_run_link(
    workdir: Path, paragon: FakeParagon, entra: FakeEntra, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/paragon-config")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    with FakeWebhook() as hook:
        hook_env(monkeypatch, hook)
        result = status(workdir, "--verify")
    assert result.exit_code == 6
    [post] = hook.posts
    assert post.headers["content-type"] == "application/json" and HOOK_TOKEN in post.path
    body = post.json
    assert (body["stack"], body["severity"], body["exit_code"]) == ("dev", "critical", 6)
    assert body["run_url"] == "https://github.com/acme/paragon-config/actions/runs/42"
    [item] = body["integrations"]
    assert item["state"] == "refused" and "AADSTS7000215" in item["reason"] and "pulumi up" in item["action"]
    assert not any(c.encode() in post.body for c in (HELD, PASSWORD)), "no secret in the payload"
    assert "status alert posted (json, critical)" in result.stderr


def test_a_healthy_report_is_not_posted_unless_asked(
    workdir: Path, paragon: FakeParagon, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeWebhook() as hook:
        hook_env(monkeypatch, hook)
        assert status(workdir).exit_code == 0 and hook.posts == []
        assert status(workdir, "--alert-on", "info").exit_code == 0
    assert [p.json["severity"] for p in hook.posts] == ["info"]


def test_an_overdue_report_reaches_teams_as_an_adaptive_card(
    workdir: Path, paragon: FakeParagon, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeWebhook() as hook:
        hook_env(monkeypatch, hook, "teams")
        result = status(workdir, at="2026-12-22")  # a rotation window began and was not deployed
    assert result.exit_code == 3
    [post] = hook.posts
    [attachment] = post.json["attachments"]
    assert post.json["type"] == "message" and attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert "stack dev: WARNING (exit 3)" in card["body"][0]["text"]
    assert card["body"][2]["facts"][0]["value"].startswith("powerbi: OVERDUE")


@pytest.mark.parametrize("statuses", [(404,), (500, 500)], ids=["refused", "server-error-twice"])
def test_a_failed_post_is_a_warning_and_keeps_the_exit_code(
    workdir: Path, paragon: FakeParagon, monkeypatch: pytest.MonkeyPatch, statuses: tuple[int, ...]
) -> None:
    with FakeWebhook(*statuses) as hook:
        hook_env(monkeypatch, hook, "slack")
        result = status(workdir, at="2026-12-22")
    assert result.exit_code == 3
    assert len(hook.posts) == len(statuses), "5xx is retried once, 4xx is not"
    assert f"warning: the status alert was not delivered (HTTP {statuses[-1]};" in result.stderr
    assert "127.0.0.1" not in result.stderr, "the webhook URL is never shown"


def test_an_unreachable_webhook_is_a_warning(
    workdir: Path, paragon: FakeParagon, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("PROVISIONER_ALERT_WEBHOOK", f"http://127.0.0.1:{port}/hook?{HOOK_TOKEN}")
    result = status(workdir, at="2026-12-22")
    assert result.exit_code == 3 and "not delivered (no answer (ConnectError)" in result.stderr


def test_a_webhook_that_is_not_https_is_refused_without_showing_it(
    workdir: Path, paragon: FakeParagon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVISIONER_ALERT_WEBHOOK", f"http://hooks.example.com/x?{HOOK_TOKEN}")
    result = status(workdir, at="2026-12-22")
    assert result.exit_code == 3 and "PROVISIONER_ALERT_WEBHOOK is not an https URL" in result.stderr


@pytest.mark.parametrize(
    ("url", "fmt"),
    [
        ("https://hooks.slack.com/services/T0/B0/x", AlertFormat.SLACK),
        ("https://prod-01.westeurope.logic.azure.com:443/workflows/1/triggers/manual/paths/invoke", AlertFormat.TEAMS),
        ("https://default1.environment.api.powerplatform.com/powerautomate/automations/direct/x", AlertFormat.TEAMS),
        ("https://alerts.example.com/hook", AlertFormat.JSON),
    ],
)
def test_the_format_follows_the_host(url: str, fmt: AlertFormat) -> None:
    from pydantic import SecretStr

    assert guess_format(SecretStr(url)) is fmt


def test_slack_text_is_escaped_and_carries_the_run_link() -> None:
    item = AlertItem("powerbi", "expired", -2, "2027-04-05T00:00:00Z", "expired on <date> & more")
    payload = payload_for(AlertFormat.SLACK, AlertSummary("prod", "2027-04-07T00:00:00Z", 5, [item], "https://ci/1"))
    assert payload["text"] == "Paragon client secrets, stack prod: CRITICAL (exit 5)"
    assert "&lt;date&gt; &amp; more" in payload["blocks"][1]["text"]["text"]
    assert "<https://ci/1|the run>" in payload["blocks"][-1]["elements"][0]["text"]
