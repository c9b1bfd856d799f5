"""Verified rotation through the SDK's real provider process: verify with Entra, push, read back.

The provider process runs with ``AZURE_AUTHORITY_HOST`` pointing at the fake token endpoint
(tests/entra_fake.py, https with a test CA trusted through ``REQUESTS_CA_BUNDLE``) and ``PARAGON_BASE_URL`` at
the Paragon fake. Windows are a few seconds at most, so every wait stays short; request counts come from the
fakes, which are the boundaries.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_harness import Engine, ProviderCallError, ProviderProcess, Secret, provider_blob, provider_env, urn
from entra_fake import FakeEntra, Scripted, fingerprint
from paragon_fake import DECRYPTED, PUT, FakeParagon

from provisioner.paragon.resource import ParagonCredentialProvider, secret_fingerprint

EMAIL, PASSWORD = "admin@example.com", "verify-test-password-canary"
PROJECT = "38b1f170-0c43-4eae-9a04-ab85325d99f7"
TENANT = "aaaaaaaa-1111-4111-8111-111111111111"
CLIENT_ID = "11111111-2222-4333-8444-555555555555"
SECRET, NEW_SECRET = "verify-secret-canary~one.0123456789", "verify-secret-canary~two.0123456789"
SCOPES = "https://analysis.windows.net/powerbi/api/Dataset.Read.All offline_access"
BLOB = provider_blob(ParagonCredentialProvider())
FIXTURE_BLOB = (Path(__file__).parent / "fixtures" / "provider-v1.b64").read_text().strip()
NAME = urn("powerbi-paragon")
CANARIES = (SECRET, NEW_SECRET, PASSWORD)
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

pytestmark = pytest.mark.usefixtures("no_ca_bundle")


@pytest.fixture
def paragon() -> Iterator[FakeParagon]:
    with FakeParagon() as server:
        server.add_user(EMAIL, PASSWORD)
        server.add_project(PROJECT)
        server.add_integration(PROJECT, "powerbi")
        yield server
    assert server.server_errors == []


@pytest.fixture
def entra() -> Iterator[FakeEntra]:
    with FakeEntra() as fake:
        fake.add_app(TENANT, CLIENT_ID)
        yield fake


@pytest.fixture
def engine(paragon: FakeParagon, entra: FakeEntra, project_dir: Path) -> Iterator[Engine]:
    """A provider process that signs in to the Paragon fake and trusts the Entra fake; always stopped."""
    base = {k: v for k, v in os.environ.items() if k not in ("CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE")}
    base.update(AZURE_AUTHORITY_HOST=entra.url, REQUESTS_CA_BUNDLE=str(entra.ca_file))
    login = {"PARAGON_BASE_URL": paragon.url, "PARAGON_EMAIL": EMAIL, "PARAGON_PASSWORD": PASSWORD}
    process = ProviderProcess(provider_env(base, login, project_dir), project_dir)
    with process:
        client = Engine(process)
        client.configure()
        yield client
        stderr = process.stderr_text()
    assert not any(canary in stderr for canary in CANARIES), "a secret reached the provider process's output"


def inputs(blob: str = BLOB, **overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "projectId": PROJECT,
        "integrationKey": "powerbi",
        "baseUrl": "https://zeus.useparagon.com",
        "credentialName": "Power BI (dev)",
        "clientId": CLIENT_ID,
        "clientSecret": Secret(SECRET),
        "scopes": SCOPES,
        "activate": False,
        "deleteOnDestroy": False,
        "retryTimeoutSeconds": 5.0,
        "tenantId": TENANT,
        "verifyTimeoutSeconds": 5.0,
        "__provider": Secret(blob),
    }
    props.update(overrides)
    return props


def held_secret(paragon: FakeParagon) -> str | None:
    [record] = paragon.credentials.values() or [None]
    return None if record is None else str(record["values"]["clientSecret"])


def assert_no_canary(*texts: Any) -> None:
    for text in texts:
        assert not any(canary in repr(text) for canary in CANARIES), "a secret reached an output or a message"


def test_a_secret_accepted_on_the_third_try_is_pushed_once_after_verification(
    engine: Engine, paragon: FakeParagon, entra: FakeEntra
) -> None:
    entra.add_secret(TENANT, CLIENT_ID, SECRET, fails_before_usable=2)  # replicating: two refusals, then good

    state = engine.up(NAME, inputs())

    tokens = entra.token_requests(CLIENT_ID)
    assert [(t.status, t.error_code) for t in tokens] == [(401, 7000215), (401, 7000215), (200, None)]
    assert {t.secret_fingerprint for t in tokens} == {fingerprint(SECRET)}, "each try is a real request"
    [put] = [r for r in paragon.requests if r.method == "PUT"]
    assert put.received_at > tokens[-1].received_at, "pushed only after Entra accepted the secret"
    assert held_secret(paragon) == SECRET and paragon.count("GET", DECRYPTED) == 1, "read back once"
    assert RFC3339_UTC.match(state.outputs["secretVerifiedAt"])
    assert state.outputs["secretFingerprint"] == secret_fingerprint(SECRET)
    assert_no_canary(state.outputs)


def test_a_wrong_new_secret_is_never_pushed_and_paragon_keeps_the_previous_one(
    engine: Engine, paragon: FakeParagon, entra: FakeEntra
) -> None:
    entra.add_secret(TENANT, CLIENT_ID, SECRET)
    state = engine.up(NAME, inputs())
    paragon.reset_log()

    started = time.monotonic()
    with pytest.raises(ProviderCallError) as caught:  # NEW_SECRET is unknown to Entra: 7000215 never heals
        engine.up(NAME, inputs(clientSecret=Secret(NEW_SECRET), verifyTimeoutSeconds=1.5), state)

    details = caught.value.details
    assert "SecretRefused" in details and "powerbi: verify before push:" in details and "AADSTS7000215" in details
    assert time.monotonic() - started < 5, "the window bounds the retries"
    assert len([t for t in entra.token_requests() if t.secret_fingerprint == fingerprint(NEW_SECRET)]) >= 2
    assert paragon.count("PUT", PUT) == 0 and held_secret(paragon) == SECRET, "nothing pushed"
    assert_no_canary(details)


@pytest.mark.parametrize(
    ("setup", "code", "retried", "words"),
    [
        ("no-service-principal", 7000229, True, "has no service principal"),
        ("expired", 7000222, True, "client secret expired"),
        ("disabled", 7000112, False, "is disabled"),
    ],
)
def test_refusals_fail_the_create_with_one_line_and_retry_only_what_heals(
    engine: Engine, paragon: FakeParagon, entra: FakeEntra, setup: str, code: int, retried: bool, words: str
) -> None:
    entra.add_secret(TENANT, CLIENT_ID, SECRET, expired=setup == "expired")
    entra.app(TENANT, CLIENT_ID).has_service_principal = setup != "no-service-principal"
    entra.app(TENANT, CLIENT_ID).disabled = setup == "disabled"

    with pytest.raises(ProviderCallError) as caught:
        engine.up(NAME, inputs(verifyTimeoutSeconds=1.0))

    line = next(line for line in caught.value.details.splitlines() if "verify before push" in line)
    assert f"AADSTS{code}" in line and words in line and "Fix: " in line
    assert (len(entra.token_requests()) > 1) is retried
    assert paragon.count("PUT", PUT) == 0
    assert_no_canary(caught.value.details)


def test_a_slow_token_endpoint_within_the_window_verifies(
    engine: Engine, paragon: FakeParagon, entra: FakeEntra
) -> None:
    entra.add_secret(TENANT, CLIENT_ID, SECRET)
    entra.delay = 0.3
    state = engine.up(NAME, inputs(verifyTimeoutSeconds=5.0))
    assert state.outputs["secretVerifiedAt"] and paragon.count("PUT", PUT) == 1


def test_a_token_endpoint_slower_than_the_window_fails_within_it(
    engine: Engine, paragon: FakeParagon, entra: FakeEntra
) -> None:
    entra.add_secret(TENANT, CLIENT_ID, SECRET)
    entra.delay = 4.0

    started = time.monotonic()
    with pytest.raises(ProviderCallError) as caught:
        engine.up(NAME, inputs(verifyTimeoutSeconds=1.0))

    assert time.monotonic() - started < 3.5, "bounded by the window, not by the endpoint"
    assert "EntraUnavailable" in caught.value.details and "no usable answer from Entra" in caught.value.details
    assert paragon.count("PUT", PUT) == 0


def test_a_read_back_that_differs_fails_the_run(engine: Engine, paragon: FakeParagon, entra: FakeEntra) -> None:
    entra.add_secret(TENANT, CLIENT_ID, SECRET)
    paragon.after_put = lambda record: record["values"].update(scopes="Dataset.Read.All", clientSecret="other-value")

    with pytest.raises(ProviderCallError) as caught:
        engine.up(NAME, inputs())

    details = caught.value.details
    assert "ReadBackMismatch" in details and "powerbi: read back after push: Paragon credential" in details
    assert "scopes are 'Dataset.Read.All'" in details and "the client secret differs" in details
    assert_no_canary(details)
    assert "other-value" not in details


def test_a_scope_change_pushes_and_reads_back_without_a_new_token_request(
    engine: Engine, paragon: FakeParagon, entra: FakeEntra
) -> None:
    entra.add_secret(TENANT, CLIENT_ID, SECRET)
    state = engine.up(NAME, inputs())

    updated = engine.up(NAME, inputs(scopes="offline_access"), state)

    assert engine.ops[-1] == "Update" and len(entra.token_requests()) == 1, "the secret did not change"
    assert paragon.count("PUT", PUT) == 2 and paragon.count("GET", DECRYPTED) == 2
    assert updated.outputs["secretVerifiedAt"] == state.outputs["secretVerifiedAt"]


def test_a_state_from_before_verification_sees_no_change(
    engine: Engine, paragon: FakeParagon, entra: FakeEntra
) -> None:
    """Stacks deployed by the previous version have neither tenantId nor verifyTimeoutSeconds in state."""
    old_inputs = {k: v for k, v in inputs(FIXTURE_BLOB).items() if k not in ("tenantId", "verifyTimeoutSeconds")}
    old = engine.up(NAME, old_inputs)
    assert "secretVerifiedAt" not in old.outputs or old.outputs["secretVerifiedAt"] is None
    paragon.reset_log()

    same = engine.up(NAME, inputs(), old)

    assert engine.ops[-2:] == ["Check", "Diff"] and same is old, "no replace, no update"
    assert paragon.requests == [] and entra.token_requests() == []


def test_zero_window_pushes_without_asking_entra(engine: Engine, paragon: FakeParagon, entra: FakeEntra) -> None:
    state = engine.up(NAME, inputs(verifyTimeoutSeconds=0))
    assert entra.token_requests() == [] and paragon.count("PUT", PUT) == 1
    assert state.outputs.get("secretVerifiedAt") is None


# --- Entra without an AADSTS answer, through the provider process: retried in the window, else one line -------

ECHOING_500 = Scripted(500, {"error": "server_error", "error_description": f"AADSTS90033: busy {SECRET}"})
NO_ANSWER_YET = [
    ("503 twice", [Scripted(503), Scripted(503)], [503, 503, 200]),
    ("429 with Retry-After 1", [Scripted.throttled("1")], [429, 200]),
    ("a page echoing the secret", [Scripted.garbage(200, f"<html>{SECRET}</html>")], [200, 200]),
    ("a dropped connection", [Scripted(drop=True)], [0, 200]),
    ("500 echoing the secret", [ECHOING_500], [500, 200]),
]


@pytest.mark.parametrize(("name", "answers", "statuses"), NO_ANSWER_YET, ids=[row[0] for row in NO_ANSWER_YET])
def test_no_answer_yet_is_retried_and_the_secret_pushed_once(
    engine: Engine, paragon: FakeParagon, entra: FakeEntra, name: str, answers: list[Scripted], statuses: list[int]
) -> None:
    entra.add_secret(TENANT, CLIENT_ID, SECRET)
    entra.script(*answers)

    started = time.monotonic()
    state = engine.up(NAME, inputs(verifyTimeoutSeconds=4.0))

    tokens = entra.token_requests(CLIENT_ID)
    assert [t.status for t in tokens] == statuses
    if name.startswith("429"):
        assert tokens[1].received_at - tokens[0].received_at >= 0.9, "Retry-After honoured"
    assert time.monotonic() - started < 4
    [put] = [r for r in paragon.requests if r.method == "PUT"]
    assert put.received_at > tokens[-1].received_at and held_secret(paragon) == SECRET
    assert RFC3339_UTC.match(state.outputs["secretVerifiedAt"])


NEVER_ANSWERED = [
    ("always 500", [ECHOING_500] * 200, "HTTP 500 server_error AADSTS90033", True),
    ("Retry-After past the window", [Scripted.throttled("60")], "asked to wait 60 s", False),
    ("always a gateway's page", [Scripted.garbage(502)] * 200, "HTTP 502 a body that is not JSON", True),
]


@pytest.mark.parametrize(("name", "answers", "said", "retried"), NEVER_ANSWERED, ids=[r[0] for r in NEVER_ANSWERED])
def test_no_answer_in_the_window_fails_with_one_line_and_pushes_nothing(
    engine: Engine, paragon: FakeParagon, entra: FakeEntra, name: str, answers: list[Scripted], said: str, retried: bool
) -> None:
    entra.add_secret(TENANT, CLIENT_ID, SECRET)
    entra.script(*answers)

    started = time.monotonic()
    with pytest.raises(ProviderCallError) as caught:
        engine.up(NAME, inputs(verifyTimeoutSeconds=1.5))

    assert time.monotonic() - started < 3, "bounded by the window"
    details = caught.value.details
    line = next(line for line in details.splitlines() if "verify before push" in line)
    assert "EntraUnavailable" in details and "powerbi: verify before push: no usable answer from Entra" in line
    assert said in line and "Fix: " in line and "This is a bug" not in details and "MsalServiceError" not in details
    assert (len(entra.token_requests()) > 1) is retried
    assert paragon.count("PUT", PUT) == 0
    assert_no_canary(details)
