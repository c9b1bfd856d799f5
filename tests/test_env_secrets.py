"""The one list of secrets the process holds (`provisioner.transport.env_secrets`) and the secret shapes
(`provisioner.transport.secret_shapes`), through `scrub_message`: every kind scrubbed, in every form a server
echoes it, and what is not a secret (a host, a path, a short word of a URL) left readable."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from conftest import VALID_CONFIG

from provisioner.cli.alerts import WEBHOOK_ENV
from provisioner.config.secret_guard import looks_like_secret_value
from provisioner.graph.signin import sign_in_secrets
from provisioner.paragon.login import ENV_ACCESS_TOKEN, ENV_PASSWORD, STACK_CONFIG_KEYS, login_from
from provisioner.transport.env_secrets import SECRET_ENV, env_secrets, forget_remembered
from provisioner.transport.scrub import scrub_message
from provisioner.transport.secret_shapes import looks_like_secret, scrub_shapes

SECRET = "Xk7pQ2mZ9vL4wR8t"
SIG = "Sg3dF7gH1jK5lM9nB2vX"
TEAMS = f"https://prod-01.westeurope.logic.azure.com/workflows/4f1c/triggers/manual/paths/invoke?sv=1.0&sig={SIG}"
SLACK_TOKEN = "Qm4Wn8Er2Ty6Ui0Op3As"
SLACK = f"https://hooks.slack.com/services/T0AB12CD/B0EF34GH/{SLACK_TOKEN}"
NAMED = [n for n in SECRET_ENV if n not in ("ARM_OIDC_TOKEN_FILE_PATH", "AZURE_FEDERATED_TOKEN_FILE", WEBHOOK_ENV)]


def _echoes(secret: str) -> list[str]:
    """How a server may echo a secret: whole, percent-encoded, JSON-escaped, cut short, in a sentence."""
    return [
        f"bad value {secret}",
        f"bad value {urllib.parse.quote(secret, safe='')}",
        f"body {json.dumps({'v': secret})}",
        f"prefix {secret[:10]}… was refused",
        f"tail …{secret[-9:]}",
    ]


def _assert_gone(text: str, secret: str, env: dict[str, str]) -> None:
    shown = scrub_message(text, env=env)
    assert "[redacted]" in shown
    for fragment in (secret, secret[:10], secret[-9:], urllib.parse.quote(secret, safe="")):
        assert fragment not in shown, (text, shown)


@pytest.mark.parametrize("name", NAMED)
@pytest.mark.parametrize("echo", range(5))
def test_every_named_secret_is_scrubbed_in_every_form(name: str, echo: int) -> None:
    secret = f"{SECRET}/+&={name[-3:]}"
    _assert_gone(_echoes(secret)[echo], secret, {name: secret})


@pytest.mark.parametrize(
    "name", ["MY_API_TOKEN", "DB_PASSWORD", "SIGNING_PRIVATE_KEY", "SERVICE_SECRET", "CI_WEBHOOK", "X_CREDENTIAL"]
)
def test_any_variable_named_like_a_secret_is_scrubbed(name: str) -> None:
    _assert_gone(f"echo {SECRET}", SECRET, {name: SECRET})


@pytest.mark.parametrize(
    ("value", "echo"),
    [
        (f"https://ops:{SECRET}@db.example/", f"login ops:{SECRET} refused"),
        (f"https://db.example/?token={SECRET}", f"token {SECRET} refused"),
        (f"https://db.example/?token={SECRET}", f"cannot reach https://db.example/?token={SECRET}"),
    ],
    ids=["password", "token-query", "whole"],
)
def test_a_url_named_like_a_secret_loses_its_secret_parts_not_its_scheme(value: str, echo: str) -> None:
    env = {"SERVICE_CREDENTIAL": value, "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions.example/x"}
    shown = scrub_message(echo + " via https://graph.microsoft.com", env=env)
    assert SECRET not in shown and "[redacted]" in shown and shown.endswith(" via https://graph.microsoft.com")


@pytest.mark.parametrize(
    "name", ["ARM_OIDC_TOKEN_FILE_PATH", "AZURE_FEDERATED_TOKEN_FILE", "PULUMI_CONFIG_PASSPHRASE_FILE"]
)
def test_a_token_file_s_content_is_scrubbed_not_its_path(name: str, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(SECRET + "\n", encoding="utf-8")
    env = {name: str(token_file)}

    _assert_gone(f"assertion {SECRET} refused", SECRET, env)
    assert scrub_message(f"read {token_file}", env=env) == f"read {token_file}"


def test_an_unreadable_token_file_adds_nothing(tmp_path: Path) -> None:
    env = {"ARM_OIDC_TOKEN_FILE_PATH": str(tmp_path / "missing"), "AZURE_FEDERATED_TOKEN_FILE": str(tmp_path)}
    assert env_secrets(env).values == ()


@pytest.mark.parametrize(
    ("url", "secret", "echo"),
    [
        (TEAMS, SIG, f"posted to {TEAMS}"),
        (TEAMS, SIG, f"invalid signature {SIG}"),
        (TEAMS, SIG, f"invalid signature {SIG[:9]}…"),
        (TEAMS, SIG, f"path {urllib.parse.urlsplit(TEAMS).path}?{urllib.parse.urlsplit(TEAMS).query}"),
        (TEAMS, SIG, json.dumps({"url": TEAMS})),
        (SLACK, SLACK_TOKEN, f"no_team for {SLACK}"),
        (SLACK, SLACK_TOKEN, f"invalid_token {SLACK_TOKEN}"),
        (f"https://alerts.example.com/hook?token=abcd{SECRET}", SECRET, f"token abcd{SECRET} unknown"),
        (f"https://alerts.example.com/hook?code={SECRET}", SECRET, f"code={SECRET}"),
        (f"https://ops:{SECRET}@alerts.example.com/hook", SECRET, f"user ops:{SECRET} refused"),
        (f"https://[{SECRET}/x", SECRET, f"bad host [{SECRET}"),
    ],
    ids=[
        "whole",
        "sig",
        "sig-cut",
        "path-query",
        "json",
        "slack-whole",
        "slack-token",
        "token",
        "code",
        "password",
        "bad",
    ],
)
def test_the_alert_webhook_is_scrubbed_whole_and_in_its_secret_parts(url: str, secret: str, echo: str) -> None:
    shown = scrub_message(echo, env={WEBHOOK_ENV: url})

    assert secret not in shown and secret[:9] not in shown and url not in shown, shown
    assert "[redacted]" in shown


@pytest.mark.parametrize(
    "text",
    [
        "cannot reach https://graph.microsoft.com/v1.0/applications (ConnectError)",
        "Microsoft Graph GET /v1.0/servicePrincipals answered 404",
        "see the workflows of hooks.example.com and hooks.slack.com/services/",
        "run: az login --tenant aaaaaaaa-1111-4111-8111-111111111111",
        "Basic Information, Bearer Analytics Reports",
    ],
)
def test_what_is_no_secret_stays_readable(text: str, tmp_path: Path) -> None:
    env = {
        WEBHOOK_ENV: "https://hooks.example.com/workflows/triggers?api-version=2016-06-01&sig=" + SIG,
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://pipelines.actions.example/idtoken?api-version=2.0",
        "ARM_OIDC_TOKEN_FILE_PATH": str(tmp_path / "missing"),
        "ARM_TENANT_ID": "aaaaaaaa-1111-4111-8111-111111111111",
        "ARM_CLIENT_ID": "22222222-3333-4444-8555-666666666666",
        "PARAGON_PASSWORD": "abc",  # too short to scrub without shredding words
        "PARAGON_EMAIL": "ops@example.com",
        "PARAGON_BASE_URL": "https://zeus.useparagon.com",
    }
    assert scrub_message(text, env=env) == text


def test_a_login_read_from_secret_stack_config_is_remembered() -> None:
    password = "cfg-Wd5Ft8Gy2Hu6"
    login_from({}, {STACK_CONFIG_KEYS["email"]: "ops@example.com", STACK_CONFIG_KEYS["password"]: password})

    assert scrub_message(f"echo {password}", env={}) == "echo [redacted]"
    forget_remembered()
    assert scrub_message(f"echo {password}", env={}) == f"echo {password}"


def test_the_names_are_the_ones_the_code_reads() -> None:
    assert {ENV_ACCESS_TOKEN, ENV_PASSWORD, WEBHOOK_ENV} <= set(SECRET_ENV)
    sign_in = {n: f"{SECRET}-{n}" for n in ("ARM_CLIENT_SECRET", "ARM_OIDC_TOKEN", "ARM_OIDC_REQUEST_TOKEN")}
    sign_in["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = f"{SECRET}-gh"
    assert set(sign_in_secrets(sign_in)) <= set(env_secrets(sign_in).values)


ENTRA = "abc8Q~Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0Ed9C"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeQ"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"secret {ENTRA} refused", "secret [redacted] refused"),
        (f"token {JWT}.", "token [redacted]."),
        ("session eyJh.eyJi.sig", "session [redacted]"),
        ("Authorization: Bearer abcdefghijklmnop1234", "Authorization: Bearer [redacted]"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic [redacted]"),
        (
            "AccountName=a;AccountKey=c2VjcmV0a2V5MTIz;EndpointSuffix=x",
            "AccountName=a;AccountKey=[redacted];EndpointSuffix=x",
        ),
        (
            "https://a.blob.core.windows.net/c?sv=2022&sig=abcdEFGH1234%2B",
            "https://a.blob.core.windows.net/c?sv=2022&sig=[redacted]",
        ),
        ("https://ops:hunter2hunter2@host.example/x", "https://ops:[redacted]@host.example/x"),
    ],
    ids=["entra", "jwt", "jwt-short", "bearer", "basic", "connection-string", "sas", "url-password"],
)
def test_every_secret_shape_is_scrubbed_and_is_the_config_guard_s(text: str, shown: str) -> None:
    assert scrub_shapes(text) == shown
    assert scrub_message(text, env={}) == shown
    assert looks_like_secret(text) and looks_like_secret_value(text)  # one list: config refuses the same shapes


@pytest.mark.parametrize("error", [RuntimeError, ValueError])
def test_an_escaped_exception_s_line_is_scrubbed_too(
    error: type[Exception], write_config: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from provisioner.cli import entry
    from provisioner.errors import ProvisionerError

    def broken(_path: Path, **_: object) -> None:
        raise error(f"boom {SECRET}")

    def refused(_path: Path, **_: object) -> None:
        raise ProvisionerError(f"refused {SECRET}")

    monkeypatch.delenv(entry.DEBUG_ENV, raising=False)
    monkeypatch.setenv("PARAGON_PASSWORD", SECRET)
    path = str(write_config(VALID_CONFIG))
    for fault in (broken, refused):
        monkeypatch.setattr("provisioner.config.load_config_report", fault)
        assert entry.main(["validate", path]) == 1
        err = capsys.readouterr().err
        assert SECRET not in err and "[redacted]" in err, err
