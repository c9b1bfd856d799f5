"""The dynamic provider under the real SDK provider process, driven over gRPC as the Pulumi engine drives it.

Each test starts ``python -m pulumi.dynamic`` (tests/engine_harness.py) with the Paragon environment pointing
at a fresh stateful Paragon fake, so the process's session cache starts empty and request counts are exact.
Inputs carry ``__provider`` serialized by the SDK's own serializer; secrets are marshalled as the engine
marshals them for this provider; preview unknowns are the engine's sentinel string.
"""

from __future__ import annotations

import base64
import os
import pickletools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from engine_harness import (
    UNKNOWN,
    Engine,
    ProviderCallError,
    ProviderProcess,
    Secret,
    State,
    provider_blob,
    provider_env,
    urn,
)
from paragon_fake import LIST, LOGIN, PUT, FakeParagon, Fault
from pulumi.runtime import proto

from provisioner.paragon.resource import IMPORT_NOT_SUPPORTED, ParagonCredentialProvider, secret_fingerprint

EMAIL, PASSWORD = "admin@example.com", "engine-test-password-canary"
PROJECT = "38b1f170-0c43-4eae-9a04-ab85325d99f7"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET, NEW_SECRET = "engine-secret-canary-one", "engine-secret-canary-two"
SCOPES = "https://analysis.windows.net/powerbi/api/Dataset.Read.All offline_access"
FIXTURE_BLOB = (Path(__file__).parent / "fixtures" / "provider-v1.b64").read_text().strip()
BLOB = provider_blob(ParagonCredentialProvider())
NAME = urn("powerbi-paragon")

pytestmark = pytest.mark.usefixtures("no_ca_bundle")


@pytest.fixture
def fake() -> Iterator[FakeParagon]:
    with FakeParagon() as server:
        server.add_user(EMAIL, PASSWORD)
        server.add_project(PROJECT)
        yield server
    assert server.server_errors == [], "the fake itself failed while handling a request"


@pytest.fixture
def engine(fake: FakeParagon, project_dir: Path) -> Iterator[Engine]:
    """A fresh provider process with the Paragon login and PARAGON_BASE_URL, configured; always stopped."""
    paragon = {"PARAGON_BASE_URL": fake.url, "PARAGON_EMAIL": EMAIL, "PARAGON_PASSWORD": PASSWORD}
    process = ProviderProcess(provider_env(dict(os.environ), paragon, project_dir), project_dir)
    with process:
        client = Engine(process)
        client.configure()
        yield client
        stderr = process.stderr_text()
    for canary in (SECRET, NEW_SECRET, PASSWORD):
        assert canary not in stderr, "a secret reached the provider process's output"


def inputs(blob: str = BLOB, **overrides: Any) -> dict[str, Any]:
    """The program's inputs for one OAuthCredential, as registered: secret and provider marked secret."""
    props: dict[str, Any] = {
        "projectId": PROJECT,
        "integrationKey": "powerbi",
        "baseUrl": "https://zeus.useparagon.com",  # PARAGON_BASE_URL in the process points at the fake
        "credentialName": "Power BI (dev)",
        "clientId": CLIENT_ID,
        "clientSecret": Secret(SECRET),
        "scopes": SCOPES,
        "activate": False,
        "deleteOnDestroy": False,
        "retryTimeoutSeconds": 5.0,
        "__provider": Secret(blob),
    }
    props.update(overrides)
    return props


def counts(fake: FakeParagon) -> tuple[int, int, int]:
    """(logins, integrations lists, credential PUTs)."""
    return fake.count("POST", LOGIN), fake.count("GET", LIST), fake.count("PUT", PUT)


def test_the_provider_process_does_not_accept_secrets_so_the_engine_strips_them(engine: Engine) -> None:
    assert engine.accept_secrets is False


def test_create_through_the_engine_pushes_and_keeps_the_secret_out_of_outputs(
    engine: Engine, fake: FakeParagon
) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")

    state = engine.up(NAME, inputs())

    stored = fake.credential_for(PROJECT, iid)
    assert stored is not None and stored["values"] == {"clientId": CLIENT_ID, "clientSecret": SECRET, "scopes": SCOPES}
    assert engine.ops == ["Check", "Create"] and state.id == stored["id"]
    assert state.outputs["credentialId"] == stored["id"] and state.outputs["integrationId"] == iid
    assert state.outputs["secretFingerprint"] == secret_fingerprint(SECRET)
    assert "clientSecret" not in state.outputs and SECRET not in repr(state.outputs)
    assert state.outputs["__provider"] == BLOB
    assert counts(fake) == (1, 1, 1)


# --- preview: unknowns, no network ---------------------------------------------------------------------


def test_check_passes_every_unknown_through_without_a_call(engine: Engine, fake: FakeParagon) -> None:
    news = inputs(clientId=UNKNOWN, clientSecret=Secret(UNKNOWN), scopes=UNKNOWN, baseUrl=UNKNOWN, projectId=UNKNOWN)

    checked, failures = engine.check(NAME, {}, news)

    assert failures == [], "a check must never fail on a value not known yet"
    assert {k: checked[k] for k in ("clientId", "clientSecret", "scopes", "baseUrl", "projectId")} == dict.fromkeys(
        ("clientId", "clientSecret", "scopes", "baseUrl", "projectId"), UNKNOWN
    ), "unknowns go back to the engine as unknowns"
    assert fake.requests == []


def test_check_still_reports_known_bad_inputs(engine: Engine) -> None:
    _, failures = engine.check(NAME, {}, inputs(scopes="Dataset.Read.All  offline_access", clientId=""))
    assert sorted(p for p, _ in failures) == ["clientId", "scopes"]


@pytest.mark.parametrize(
    ("prop", "value", "replaces"),
    [
        ("clientSecret", Secret(UNKNOWN), []),
        ("clientId", UNKNOWN, []),
        ("scopes", UNKNOWN, []),
        ("projectId", UNKNOWN, ["projectId"]),
        ("integrationKey", UNKNOWN, ["integrationKey"]),
    ],
)
def test_diff_of_an_unknown_is_an_update_or_a_replace_without_a_call(
    engine: Engine, fake: FakeParagon, prop: str, value: Any, replaces: list[str]
) -> None:
    fake.add_integration(PROJECT, "powerbi")
    state = engine.up(NAME, inputs())
    fake.reset_log()

    checked, failures = engine.check(NAME, state.inputs, inputs(**{prop: value}))
    diff = engine.diff(state, checked)

    assert failures == []
    assert (diff.changes, diff.replaces) == (proto.DiffResponse.DIFF_SOME, replaces)
    assert diff.delete_before_replace is True
    assert fake.requests == [], "check and diff never call Paragon"


def test_nothing_changed_is_no_diff_and_no_call(engine: Engine, fake: FakeParagon) -> None:
    fake.add_integration(PROJECT, "powerbi")
    state = engine.up(NAME, inputs())
    fake.reset_log()

    again = engine.up(NAME, inputs(), state)

    assert engine.ops[-2:] == ["Check", "Diff"] and again is state
    assert fake.requests == []


def test_a_new_secret_is_an_update_that_reuses_the_session(engine: Engine, fake: FakeParagon) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    state = engine.up(NAME, inputs())

    updated = engine.up(NAME, inputs(clientSecret=Secret(NEW_SECRET)), state)

    stored = fake.credential_for(PROJECT, iid)
    assert engine.ops == ["Check", "Create", "Check", "Diff", "Update"]
    assert stored is not None and stored["values"]["clientSecret"] == NEW_SECRET and updated.id == state.id
    assert updated.outputs["secretFingerprint"] == secret_fingerprint(NEW_SECRET)
    assert counts(fake) == (1, 1, 2)


# --- replacement order ---------------------------------------------------------------------------------


def test_replace_deletes_first_so_paragon_keeps_a_credential(engine: Engine, fake: FakeParagon) -> None:
    """``pulumi up --replace`` with delete_credentials_on_destroy: the engine follows deleteBeforeReplace."""
    iid = fake.add_integration(PROJECT, "powerbi")
    state = engine.up(NAME, inputs(deleteOnDestroy=True))
    engine.ops.clear()

    replaced = engine.up(NAME, inputs(deleteOnDestroy=True), state, replace=True)

    assert engine.ops == ["Check", "Diff", "Delete", "Create"], "the provider's diff asks for delete-before-replace"
    stored = fake.credential_for(PROJECT, iid)
    assert stored is not None and stored["id"] == replaced.id, "Paragon ends the replacement with the credential"
    assert engine.refresh(replaced) is not None, "state and Paragon agree"


@pytest.mark.parametrize(
    ("order", "survives"),
    [
        # The upsert of the create returns the SAME credential (one per integration), so the delete that
        # follows removes what the create just wrote: Paragon has none while state says it has one.
        (["Create", "Delete"], False),
        # Deleting first removes the old credential; the create then writes the new one.
        (["Delete", "Create"], True),
    ],
)
def test_the_two_replacement_orders(engine: Engine, fake: FakeParagon, order: list[str], survives: bool) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    old = engine.up(NAME, inputs(deleteOnDestroy=True))
    checked, _ = engine.check(NAME, old.inputs, inputs(deleteOnDestroy=True, clientSecret=Secret(NEW_SECRET)))

    new: State | None = None
    for step in order:
        if step == "Create":
            new = engine.create(NAME, checked)
        else:
            engine.delete(old)

    assert new is not None and (new.id == old.id) is (order[0] == "Create"), "the upsert reuses the credential"
    assert (fake.credential_for(PROJECT, iid) is not None) is survives
    assert (engine.refresh(new) is not None) is survives


# --- parallel creates: single flight -------------------------------------------------------------------

KINDS = ("powerbi", "outlook", "sharepoint", "onedrive")


def test_four_parallel_creates_cost_one_login_one_list_and_four_puts(engine: Engine, fake: FakeParagon) -> None:
    ids = {kind: fake.add_integration(PROJECT, kind) for kind in KINDS}
    slow = Fault(200, delay=0.5)  # answer correctly, but late: the other calls arrive meanwhile
    fake.script("POST", LOGIN, *[slow] * len(KINDS))
    fake.script("GET", LIST, *[slow] * len(KINDS))
    checked = [engine.check(urn(f"{k}-paragon"), {}, inputs(integrationKey=k))[0] for k in KINDS]

    with ThreadPoolExecutor(max_workers=len(KINDS)) as pool:
        states = list(pool.map(lambda p: engine.create(urn(f"{p[0]}-paragon"), p[1]), zip(KINDS, checked, strict=True)))

    assert counts(fake) == (1, 1, len(KINDS)), "concurrent first callers share one login and one list"
    assert [s.outputs["integrationId"] for s in states] == [ids[k] for k in KINDS]
    assert all(fake.credential_for(PROJECT, iid) is not None for iid in ids.values())


def test_a_failed_login_is_reported_and_not_cached(engine: Engine, fake: FakeParagon) -> None:
    fake.add_integration(PROJECT, "powerbi")
    fake.script("POST", LOGIN, Fault(403))

    with pytest.raises(ProviderCallError) as caught:
        engine.up(NAME, inputs())
    state = engine.up(NAME, inputs())

    assert "ParagonAuthError" in caught.value.details and "/auth/login/email answered 403" in caught.value.details
    assert PASSWORD not in caught.value.details and SECRET not in caught.value.details
    assert state.id and counts(fake) == (2, 1, 1), "the next call logs in afresh"


# --- the provider's import path is a contract ----------------------------------------------------------


def _global_refs(blob: str) -> list[str]:
    ops = pickletools.genops(base64.b64decode(blob))
    return [str(arg) for op, arg, _ in ops if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE")]


def test_todays_provider_blob_names_the_same_class_path_as_deployed_stacks() -> None:
    expected = ["provisioner.paragon.resource", "ParagonCredentialProvider"]
    assert _global_refs(FIXTURE_BLOB) == expected
    assert _global_refs(BLOB) == expected, "moving or renaming the provider class breaks every deployed stack"


def test_a_stored_provider_blob_still_reads_and_deletes(engine: Engine, fake: FakeParagon) -> None:
    """`pulumi refresh` and `pulumi destroy` unpickle the blob stored at the last create or update."""
    iid = fake.add_integration(PROJECT, "powerbi")
    state = engine.up(NAME, inputs(FIXTURE_BLOB, deleteOnDestroy=True))
    assert state.outputs["__provider"] == FIXTURE_BLOB

    refreshed = engine.refresh(state)
    assert refreshed is not None and refreshed.outputs["secretFingerprint"] == secret_fingerprint(SECRET)
    engine.delete(refreshed)

    assert fake.credential_for(PROJECT, iid) is None


# --- refresh, delete, import ---------------------------------------------------------------------------


def test_refresh_reports_drift_and_the_next_up_restores_it(engine: Engine, fake: FakeParagon) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    state = engine.up(NAME, inputs())
    fake.credentials[state.id]["values"]["clientSecret"] = "edited-in-the-dashboard"

    refreshed = engine.refresh(state)
    assert refreshed is not None
    assert refreshed.outputs["secretFingerprint"] == secret_fingerprint("edited-in-the-dashboard")
    engine.up(NAME, inputs(), refreshed)

    stored = fake.credential_for(PROJECT, iid)
    assert engine.ops[-1] == "Update" and stored is not None and stored["values"]["clientSecret"] == SECRET


def test_refresh_of_a_deleted_credential_drops_it(engine: Engine, fake: FakeParagon) -> None:
    fake.add_integration(PROJECT, "powerbi")
    state = engine.up(NAME, inputs())
    del fake.credentials[state.id]
    assert engine.refresh(state) is None


def test_destroy_leaves_paragon_alone_unless_asked(engine: Engine, fake: FakeParagon) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    kept = engine.up(NAME, inputs())
    engine.delete(kept)
    assert fake.credential_for(PROJECT, iid) is not None and fake.count("DELETE") == 0

    removed = engine.up(NAME, inputs(deleteOnDestroy=True), kept)
    engine.delete(removed)
    engine.delete(removed)  # already gone: not an error
    assert fake.credential_for(PROJECT, iid) is None and fake.count("DELETE") == 2


def test_read_without_inputs_says_pulumi_import_does_not_apply(engine: Engine, fake: FakeParagon) -> None:
    """What `pulumi import` would send, given the serialized provider: an ID and nothing else."""
    with pytest.raises(ProviderCallError) as caught:
        engine.read("cred-from-the-dashboard", NAME, {}, {"__provider": Secret(BLOB)})

    assert IMPORT_NOT_SUPPORTED in caught.value.details
    assert "KeyError" not in caught.value.details
    assert fake.requests == []


# --- hostile inputs and answers -------------------------------------------------------------------------


@pytest.mark.parametrize("unknown", [UNKNOWN, Secret(UNKNOWN)], ids=["unknown", "secret-unknown"])
def test_nested_unknown_extra_values_pass_check_and_diff_as_an_update(
    engine: Engine, fake: FakeParagon, unknown: Any
) -> None:
    fake.add_integration(PROJECT, "powerbi")
    state = engine.up(NAME, inputs(extraValues={"organizationUrl": "https://a.crm.dynamics.com"}))
    fake.reset_log()
    news = inputs(extraValues={"organizationUrl": unknown})

    checked, failures = engine.check(NAME, state.inputs, news)
    diff = engine.diff(state, checked)

    assert failures == [], "a check must never fail on a value not known yet, however deep"
    assert (diff.changes, diff.replaces) == (proto.DiffResponse.DIFF_SOME, [])
    assert fake.requests == []


def test_a_put_answering_deeply_nested_json_ends_in_one_response_error(engine: Engine, fake: FakeParagon) -> None:
    fake.add_integration(PROJECT, "powerbi")
    fake.script("PUT", PUT, Fault(200, body="[" * 100_000 + "]" * 100_000))

    with pytest.raises(ProviderCallError) as caught:
        engine.up(NAME, inputs())

    details = caught.value.details
    assert "ParagonResponseError" in details and "RecursionError" not in details
    assert "PUT /projects/38b1f170-0c43-4eae-9a04-ab85325d99f7/credentials/oauth: the JSON body is nested" in details
