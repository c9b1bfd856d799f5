"""Secret canaries: distinctive secret values must never surface anywhere a person or a log can see.

The client secret, the Paragon password, the pre-issued access token and a session token issued by login
are set to unmistakable strings. Successful create/update/read runs and failing calls (including error
bodies that echo those secrets back, as a careless server might) run with every logger at DEBUG (httpx
and httpcore included) and stdout/stderr captured. None of the canaries may appear in a log record, the
captured output, the str/repr/traceback of a raised exception, the repr of the login, client or models,
the pickled provider, or the provider's outputs. Positive controls check that the canaries really went
over the wire, so a test cannot pass by never using them.
"""

from __future__ import annotations

import json
import logging
import pickle
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from paragon_fake import (  # tests/ has no __init__.py: pytest puts it on sys.path
    DECRYPTED,
    LIST,
    LOGIN,
    PUT,
    FakeParagon,
    Fault,
)
from pydantic import SecretStr

from provisioner.errors import (
    ParagonAuthError,
    ParagonError,
    ParagonInvalidRequest,
    ParagonResponseError,
    ParagonServerError,
)
from provisioner.paragon.client import ParagonClient
from provisioner.paragon.login import ENV_ACCESS_TOKEN, ENV_EMAIL, ENV_PASSWORD, login_from
from provisioner.paragon.models import (
    CredentialValues,
    DecryptedCredential,
    OAuthCredentialUpsert,
    OAuthCredentialValues,
)
from provisioner.paragon.resource import ParagonCredentialProvider

SECRET = "CANARY-SECRET-7f3e1b9d4c2a"
NEW_SECRET = "CANARY-SECRET-ROTATED-5a8c0e3f"
PASSWORD = "CANARY-PASSWORD-2b6d9e41"
TOKEN = "CANARY-TOKEN-c81f07aa93"
SESSION = "CANARY-SESSION-4e2a9f60d1"
CANARIES = (SECRET, NEW_SECRET, PASSWORD, TOKEN, SESSION)
EMAIL, PROJECT, CLIENT_ID = "admin@example.com", "proj-canary", "11111111-2222-3333-4444-555555555555"


def echo(*values: str) -> str:
    """A Paragon-shaped error body that repeats the given values back."""
    text = " ".join(values)
    return json.dumps({"message": f"rejected: {text}", "meta": {"errors": [{"error": f"bad value {text}"}]}})


def exposures(err: BaseException) -> str:
    """Everything a raised error shows: str, repr, args, attributes and the full chained traceback."""
    parts = [str(err), repr(err), repr(err.args), repr(vars(err))]
    parts += traceback.format_exception(err)
    return "\n".join(parts)


def session_tokens(fake: FakeParagon) -> list[str]:
    """The bearer tokens the client actually sent (issued by the fake's login, or pre-issued)."""
    return sorted(
        {r.headers["authorization"].removeprefix("Bearer ") for r in fake.requests if "authorization" in r.headers}
    )


class Leaks:
    """Collects every place a canary could surface, then asserts none does."""

    def __init__(self, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
        self.caplog = caplog
        self.capsys = capsys
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, value: Any) -> None:
        self.texts.append((where, value if isinstance(value, str) else repr(value)))

    def check(self, *extra_canaries: str) -> None:
        for record in self.caplog.records:
            self.add(f"log {record.name}", record.getMessage())
            self.add(f"log {record.name} args", record.args)
            if record.exc_info and record.exc_info[1] is not None:
                self.add(f"log {record.name} exc", exposures(record.exc_info[1]))
        self.add("caplog.text", self.caplog.text)
        captured = self.capsys.readouterr()
        self.add("stdout", captured.out)
        self.add("stderr", captured.err)
        canaries = [c for c in (*CANARIES, *extra_canaries) if c]
        found = [(where, canary) for where, text in self.texts for canary in canaries if canary in text]
        assert found == [], f"secret canaries leaked: {found}"
        assert any(r.name.startswith("httpx") for r in self.caplog.records), "control: DEBUG logs were captured"


@pytest.fixture
def leaks(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Leaks:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "provisioner"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return Leaks(caplog, capsys)


@pytest.fixture(autouse=True)
def fresh_process(fresh_provider_process: None, no_ca_bundle: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh provider process logged in with the canary password."""
    monkeypatch.setenv(ENV_EMAIL, EMAIL)
    monkeypatch.setenv(ENV_PASSWORD, PASSWORD)


@pytest.fixture
def fake() -> Iterator[FakeParagon]:
    with FakeParagon() as server:
        server.add_user(EMAIL, PASSWORD)
        server.add_project(PROJECT)
        server.add_integration(PROJECT, "powerbi", integration_id="int-powerbi")
        yield server
    assert server.server_errors == []


def inputs(fake: FakeParagon, secret: str = SECRET, **overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "projectId": PROJECT,
        "integrationKey": "powerbi",
        "baseUrl": fake.url,
        "credentialName": "Power BI",
        "clientId": CLIENT_ID,
        "clientSecret": secret,
        "scopes": "Dataset.Read.All offline_access",
        "deleteOnDestroy": True,
        "retryTimeoutSeconds": 5.0,
    }
    props.update(overrides)
    return props


def test_create_update_read_delete_leak_nothing(fake: FakeParagon, leaks: Leaks) -> None:
    provider = ParagonCredentialProvider()
    created = provider.create(inputs(fake))
    assert created.outs is not None
    updated = provider.update(created.id, created.outs, inputs(fake, NEW_SECRET))
    assert updated.outs is not None
    fake.credentials[created.id]["values"]["clientSecret"] = SECRET  # drift: the old secret is back
    read = provider.read(created.id, updated.outs)
    assert read.outs is not None
    diff = provider.diff(created.id, read.outs, inputs(fake, NEW_SECRET))
    provider.delete(created.id, updated.outs)

    # Positive controls: the canaries did travel where they must.
    logins = [r for r in fake.requests if r.method == "POST"]
    assert logins and logins[0].json == {"username": EMAIL, "password": PASSWORD}
    puts = [r.json for r in fake.requests if r.method == "PUT"]
    assert [p["values"]["clientSecret"] for p in puts] == [SECRET, NEW_SECRET]
    assert diff.changes is True and fake.credentials == {}

    for where, result in (("create", created), ("update", updated), ("read", read)):
        leaks.add(f"{where} outs", json.dumps(result.outs, default=repr))
        leaks.add(f"{where} result", vars(result))
    leaks.add("diff", vars(diff))
    leaks.add("provider vars", vars(provider))
    leaks.add("provider pickle", pickle.dumps(provider).decode("latin-1"))
    leaks.check(*session_tokens(fake))


@pytest.mark.parametrize(
    ("method", "pattern", "fault", "error"),
    [
        pytest.param("PUT", PUT, Fault(400, body=echo(SECRET, PASSWORD)), ParagonInvalidRequest, id="400-echo"),
        pytest.param(
            "PUT",
            PUT,
            Fault(400, body=echo("x" * 290, SECRET)),
            ParagonInvalidRequest,
            id="400-echo-past-the-truncation-point",
        ),
        pytest.param(
            "PUT",
            PUT,
            *[Fault(503, headers={"Retry-After": "0"}, body=echo(SECRET))],
            ParagonServerError,
            id="503-echo",
        ),
        pytest.param("POST", LOGIN, Fault(401, body=echo(PASSWORD)), ParagonAuthError, id="login-401-echo"),
        pytest.param("POST", LOGIN, Fault(400, body=echo(EMAIL, PASSWORD)), ParagonInvalidRequest, id="login-400"),
        pytest.param(
            "PUT",
            PUT,
            Fault(200, body=f"<html>{SECRET}</html>", content_type="text/html"),
            ParagonResponseError,
            id="html-echo",
        ),
        pytest.param(
            "PUT",
            PUT,
            Fault(200, body=json.dumps({"values": {"clientSecret": SECRET}})),
            ParagonResponseError,
            id="bad-shape-echo",
        ),
    ],
)
def test_failing_create_with_echoed_secrets_leaks_nothing(
    fake: FakeParagon, leaks: Leaks, method: str, pattern: str, fault: Fault, error: type[ParagonError]
) -> None:
    faults = [fault] * (6 if fault.status == 503 else 1)  # 503: every attempt of the default policy fails
    fake.script(method, pattern, *faults)

    with pytest.raises(error) as caught:
        ParagonCredentialProvider().create(inputs(fake))

    assert fake.pending_faults() == 0, "control: the echoing answer was served"
    if fault.status >= 400 and len(str(fault.body)) < 200:  # longer messages are truncated past the marker
        assert "[redacted]" in str(caught.value), "control: Paragon's message was passed through, scrubbed"
    leaks.add("exception", exposures(caught.value))
    leaks.check(*session_tokens(fake))


def test_rejected_access_token_echoed_back_leaks_nothing(
    fake: FakeParagon, leaks: Leaks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_EMAIL)
    monkeypatch.delenv(ENV_PASSWORD)
    monkeypatch.setenv(ENV_ACCESS_TOKEN, TOKEN)
    fake.script("GET", LIST, Fault(401, body=echo(f"Bearer {TOKEN}")))

    with pytest.raises(ParagonAuthError) as caught:
        ParagonCredentialProvider().create(inputs(fake))

    assert fake.requests[0].headers["authorization"] == f"Bearer {TOKEN}", "control: the token was sent"
    assert "[redacted]" in str(caught.value) and "PARAGON_ACCESS_TOKEN" in str(caught.value)
    leaks.add("exception", exposures(caught.value))
    leaks.check()


def test_session_token_from_login_echoed_back_leaks_nothing(fake: FakeParagon, leaks: Leaks) -> None:
    """The token a login returns is a secret too, even when it is not JWT-shaped."""
    fake.accept_token(SESSION)
    fake.script("POST", LOGIN, Fault(201, body=json.dumps({"accessToken": SESSION})))
    fake.script("PUT", PUT, Fault(400, body=echo(f"Bearer {SESSION}", SECRET)))

    with pytest.raises(ParagonInvalidRequest) as caught:
        ParagonCredentialProvider().create(inputs(fake))

    assert fake.requests[-1].headers["authorization"] == f"Bearer {SESSION}", "control: the session token was used"
    leaks.add("exception", exposures(caught.value))
    leaks.check()


def test_jwt_session_token_echoed_back_leaks_nothing(fake: FakeParagon, leaks: Leaks) -> None:
    provider = ParagonCredentialProvider()
    created = provider.create(inputs(fake))
    assert created.outs is not None
    [jwt] = session_tokens(fake)
    fake.script("GET", DECRYPTED, Fault(400, body=echo(jwt)))

    with pytest.raises(ParagonInvalidRequest) as caught:
        provider.read(created.id, created.outs)

    leaks.add("exception", exposures(caught.value))
    leaks.check(jwt)


def test_malformed_decrypted_read_leaks_nothing(fake: FakeParagon, leaks: Leaks) -> None:
    provider = ParagonCredentialProvider()
    created = provider.create(inputs(fake))
    assert created.outs is not None
    bad = {"id": created.id, "values": {"clientId": CLIENT_ID, "clientSecret": {"plain": SECRET}}}
    fake.script("GET", DECRYPTED, Fault(200, body=json.dumps(bad)))

    with pytest.raises(ParagonResponseError, match=r"values\.clientSecret") as caught:
        provider.read(created.id, created.outs)

    leaks.add("exception", exposures(caught.value))
    leaks.check(*session_tokens(fake))


def test_reprs_of_login_client_and_models_hide_secrets(fake: FakeParagon, leaks: Leaks) -> None:
    env = {ENV_ACCESS_TOKEN: TOKEN, ENV_EMAIL: EMAIL, ENV_PASSWORD: PASSWORD}
    login = login_from(env)
    assert login.secrets() == [TOKEN, PASSWORD], "control: the login holds the canaries"
    values = OAuthCredentialValues(client_id=CLIENT_ID, client_secret=SecretStr(SECRET), scopes="a b")
    body = OAuthCredentialUpsert(name="n", provider="powerbi", integration_id="i", values=values)
    assert body.wire()["values"]["clientSecret"] == SECRET  # type: ignore[index]
    decrypted = DecryptedCredential.model_validate(
        {"id": "c", "values": {"clientId": CLIENT_ID, "clientSecret": SECRET, "scopes": ["a", "b"]}}
    )

    with ParagonClient(fake.url, login) as client:
        for where, obj in (
            ("login", login),
            ("client", client),
            ("upsert body", body),
            ("decrypted", decrypted),
            ("values", decrypted.values),
            ("CredentialValues", CredentialValues.model_validate({"clientSecret": SECRET})),
        ):
            leaks.add(f"repr {where}", repr(obj))
            leaks.add(f"str {where}", str(obj))
        leaks.add("upsert model_dump_json", body.model_dump_json())
        leaks.add("decrypted model_dump_json", decrypted.model_dump_json())
        client.list_integrations(PROJECT)  # one real call, so the DEBUG capture control has a record
    leaks.check()
