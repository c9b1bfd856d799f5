"""`ParagonCredentialProvider` methods called directly against the stateful Paragon fake.

Dynamic providers never run under Pulumi mocks, so each test calls check/diff/create/update/read/delete
the way the provider process would, with the login in environment variables (monkeypatch) and
``baseUrl`` pointing at the fake. The process-wide token and integrations cache is replaced per test, so
every test starts like a fresh provider process and the request counts are exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from paragon_fake import (  # tests/ has no __init__.py: pytest puts it on sys.path
    CREDENTIALS,
    DECRYPTED,
    LIST,
    LOGIN,
    ONE_CREDENTIAL,
    PUT,
    FakeParagon,
)
from pulumi.dynamic import ConfigureRequest, ReadResult
from pulumi.dynamic.config import Config
from pulumi.output import Unknown
from pulumi.runtime import rpc

import provisioner.paragon.resource
from provisioner.errors import ParagonLoginMissing
from provisioner.paragon.client import SessionCache
from provisioner.paragon.login import ENV_ACCESS_TOKEN, ENV_BASE_URL, ENV_EMAIL, ENV_PASSWORD
from provisioner.paragon.resource import ParagonCredentialProvider, extra_values_problem, secret_fingerprint

EMAIL, PASSWORD = "admin@example.com", "pw-for-tests"
PROJECT = "38b1f170-0c43-4eae-9a04-ab85325d99f7"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET, NEW_SECRET = "first-client-secret-value", "second-client-secret-value"
SCOPES = "https://analysis.windows.net/powerbi/api/Dataset.Read.All offline_access"


pytestmark = pytest.mark.usefixtures("no_ca_bundle", "fresh_provider_process")


@pytest.fixture
def password_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_EMAIL, EMAIL)
    monkeypatch.setenv(ENV_PASSWORD, PASSWORD)


@pytest.fixture
def fake(password_env: None) -> Iterator[FakeParagon]:
    with FakeParagon() as server:
        server.add_user(EMAIL, PASSWORD)
        server.add_project(PROJECT)
        yield server
    assert server.server_errors == [], "the fake itself failed while handling a request"


@pytest.fixture
def provider() -> ParagonCredentialProvider:
    return ParagonCredentialProvider()


def inputs(base_url: str, **overrides: Any) -> dict[str, Any]:
    """Resource inputs as the provider process receives them (None values are dropped by the SDK)."""
    props: dict[str, Any] = {
        "projectId": PROJECT,
        "integrationKey": "powerbi",
        "baseUrl": base_url,
        "credentialName": "Power BI (dev)",
        "clientId": CLIENT_ID,
        "clientSecret": SECRET,
        "scopes": SCOPES,
        "activate": False,
        "deleteOnDestroy": False,
        "retryTimeoutSeconds": 2.0,
    }
    props.update(overrides)
    return props


def secret_wire(value: str) -> dict[str, str]:
    """A value in Pulumi's secret wire form."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def counts(fake: FakeParagon) -> tuple[int, int, int]:
    """(logins, integrations lists, credential PUTs)."""
    return fake.count("POST", LOGIN), fake.count("GET", LIST), fake.count("PUT", PUT)


# --- check ---------------------------------------------------------------------------------------------


def test_check_accepts_valid_inputs_unchanged(provider: ParagonCredentialProvider) -> None:
    news = inputs("https://zeus.useparagon.com")
    result = provider.check({}, news)
    assert result.failures == [] and result.inputs == news


@pytest.mark.parametrize(
    ("overrides", "prop", "reason"),
    [
        ({"clientId": ""}, "clientId", "clientId is required"),
        ({"clientSecret": None}, "clientSecret", "clientSecret is required"),
        ({"projectId": ""}, "projectId", "projectId is required"),
        ({"scopes": "Dataset.Read.All  offline_access"}, "scopes", "single spaces"),
        ({"scopes": ["Dataset.Read.All", "offline_access"]}, "scopes", "one string"),
        ({"baseUrl": "http://zeus.example.com"}, "baseUrl", "must use https://"),
        ({"baseUrl": "zeus.useparagon.com"}, "baseUrl", "absolute URL"),
    ],
)
def test_check_reports_each_bad_input(
    provider: ParagonCredentialProvider, overrides: dict[str, Any], prop: str, reason: str
) -> None:
    result = provider.check({}, inputs("https://zeus.useparagon.com", **overrides))
    assert [(f.property, reason in f.reason) for f in result.failures] == [(prop, True)]


def test_check_lets_unknown_values_through_during_preview(provider: ParagonCredentialProvider) -> None:
    news = inputs(rpc.UNKNOWN, clientId=rpc.UNKNOWN, clientSecret=secret_wire(rpc.UNKNOWN), scopes=rpc.UNKNOWN)
    assert provider.check({}, news).failures == []


def test_check_and_diff_make_no_paragon_call(fake: FakeParagon, provider: ParagonCredentialProvider) -> None:
    news = inputs(fake.url)
    provider.check({}, news)
    provider.diff("cred-1", {**news, "secretFingerprint": secret_fingerprint(SECRET)}, news)
    assert fake.requests == []


# --- create / update -----------------------------------------------------------------------------------


def test_create_pushes_the_credential_with_the_documented_body(
    fake: FakeParagon, provider: ParagonCredentialProvider
) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")

    result = provider.create(inputs(fake.url))

    stored = fake.credential_for(PROJECT, iid)
    assert stored is not None
    assert stored["values"] == {"clientId": CLIENT_ID, "clientSecret": SECRET, "scopes": SCOPES}
    assert stored["name"] == "Power BI (dev)" and stored["provider"] == "powerbi"
    put = next(r for r in fake.requests if r.method == "PUT")
    assert put.json == {
        "name": "Power BI (dev)",
        "provider": "powerbi",
        "scheme": "oauth_app",
        "integrationId": iid,
        "values": {"clientId": CLIENT_ID, "clientSecret": SECRET, "scopes": SCOPES},
    }
    assert put.headers["content-type"] == "application/json" and put.headers["authorization"].startswith("Bearer ")
    assert result.id == stored["id"]
    assert result.outs is not None
    assert result.outs["credentialId"] == stored["id"] and result.outs["integrationId"] == iid
    assert result.outs["secretFingerprint"] == secret_fingerprint(SECRET)
    assert "clientSecret" not in result.outs, "the secret is never an output"
    assert counts(fake) == (1, 1, 1) and fake.count("PATCH") == 0, "activate=False leaves the integration alone"


def test_create_with_activate_marks_the_integration_active(
    fake: FakeParagon, provider: ParagonCredentialProvider
) -> None:
    iid = fake.add_integration(PROJECT, "powerbi", is_active=False)
    provider.create(inputs(fake.url, activate=True))
    integration = fake.integration(PROJECT, iid)
    assert integration is not None and integration["isActive"] is True
    assert counts(fake) == (1, 1, 1) and fake.count("PATCH") == 1


def test_diff_with_nothing_changed_reports_no_changes_and_makes_no_call(
    fake: FakeParagon, provider: ParagonCredentialProvider
) -> None:
    fake.add_integration(PROJECT, "powerbi")
    news = inputs(fake.url)
    created = provider.create(news)
    assert created.outs is not None
    fake.reset_log()

    plain = provider.diff(created.id, created.outs, news)
    wrapped = provider.diff(created.id, created.outs, {**news, "clientSecret": secret_wire(SECRET)})

    assert (plain.changes, plain.replaces) == (False, [])
    assert (wrapped.changes, wrapped.replaces) == (False, []), "a secret in wire form compares by its value"
    assert fake.requests == []


def test_new_secret_shows_as_a_change_and_update_pushes_it(
    fake: FakeParagon, provider: ParagonCredentialProvider
) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    created = provider.create(inputs(fake.url))
    assert created.outs is not None
    news = inputs(fake.url, clientSecret=NEW_SECRET)

    diff = provider.diff(created.id, created.outs, news)
    assert (diff.changes, diff.replaces) == (True, []), "a new secret is an in-place update"
    assert counts(fake) == (1, 1, 1), "diff made no call"

    updated = provider.update(created.id, created.outs, news)

    stored = fake.credential_for(PROJECT, iid)
    assert stored is not None and stored["values"]["clientSecret"] == NEW_SECRET and stored["id"] == created.id
    assert updated.outs is not None and updated.outs["secretFingerprint"] == secret_fingerprint(NEW_SECRET)
    assert updated.outs["credentialId"] == created.id and "clientSecret" not in updated.outs
    assert counts(fake) == (1, 1, 2), "the update reuses the process's token and integrations list"
    assert provider.diff(created.id, updated.outs, news).changes is False


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("clientId", "99999999-0000-0000-0000-000000000000"),
        ("scopes", "User.Read"),
        # A host change is an update: a replace would create (upsert, same credential ID) and then delete it.
        ("baseUrl", "https://zeus.useparagon.com/"),
    ],
)
def test_changed_client_id_or_scopes_is_an_update(provider: ParagonCredentialProvider, prop: str, value: str) -> None:
    olds = {**inputs("https://zeus.useparagon.com"), "secretFingerprint": secret_fingerprint(SECRET)}
    diff = provider.diff("cred-1", olds, {**olds, prop: value, "clientSecret": SECRET})
    assert (diff.changes, diff.replaces) == (True, [])


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("projectId", "00000000-0000-0000-0000-000000000001"),
        ("integrationKey", "outlook"),
    ],
)
def test_changed_project_or_integration_is_a_replace(
    provider: ParagonCredentialProvider, prop: str, value: str
) -> None:
    olds = {**inputs("https://zeus.useparagon.com"), "secretFingerprint": secret_fingerprint(SECRET)}
    diff = provider.diff("cred-1", olds, {**olds, prop: value, "clientSecret": SECRET})
    assert diff.changes is True and diff.replaces == [prop]


def test_unknown_values_in_preview_are_changes(provider: ParagonCredentialProvider) -> None:
    olds = {**inputs("https://zeus.useparagon.com"), "secretFingerprint": secret_fingerprint(SECRET)}
    secret = provider.diff("cred-1", olds, {**olds, "clientSecret": secret_wire(rpc.UNKNOWN)})
    project = provider.diff("cred-1", olds, {**olds, "clientSecret": SECRET, "projectId": rpc.UNKNOWN})
    assert (secret.changes, secret.replaces) == (True, [])
    assert (project.changes, project.replaces) == (True, ["projectId"])


# --- read (refresh) and drift --------------------------------------------------------------------------


def _create(fake: FakeParagon, provider: ParagonCredentialProvider) -> tuple[str, dict[str, Any], str]:
    iid = fake.add_integration(PROJECT, "powerbi")
    created = provider.create(inputs(fake.url))
    assert created.outs is not None
    return created.id, created.outs, iid


def test_read_without_drift_keeps_the_diff_empty(fake: FakeParagon, provider: ParagonCredentialProvider) -> None:
    cid, outs, _ = _create(fake, provider)
    fake.reset_log()

    read = provider.read(cid, outs)

    assert read.id == cid and read.outs == outs
    assert provider.diff(cid, read.outs, inputs(fake.url)).changes is False
    assert (fake.count("GET", DECRYPTED), len(fake.requests)) == (1, 1), "token cached: one GET, no login"


@pytest.mark.parametrize(
    ("field", "paragon_value", "output", "expected"),
    [
        ("clientId", "ffffffff-0000-0000-0000-000000000000", "clientId", "ffffffff-0000-0000-0000-000000000000"),
        ("scopes", "Dataset.Read.All", "scopes", "Dataset.Read.All"),
        (
            "clientSecret",
            "changed-in-the-dashboard",
            "secretFingerprint",
            secret_fingerprint("changed-in-the-dashboard"),
        ),
    ],
)
def test_read_reports_drift_and_the_next_diff_and_update_fix_it(
    fake: FakeParagon,
    provider: ParagonCredentialProvider,
    field: str,
    paragon_value: str,
    output: str,
    expected: str,
) -> None:
    cid, outs, iid = _create(fake, provider)
    fake.credentials[cid]["values"][field] = paragon_value  # someone edited it in the dashboard

    read = provider.read(cid, outs)

    assert read.id == cid and read.outs is not None and read.outs[output] == expected
    assert "clientSecret" not in read.outs
    diff = provider.diff(cid, read.outs, inputs(fake.url))
    assert (diff.changes, diff.replaces) == (True, []), f"drift in {field} must show in the next preview"
    provider.update(cid, read.outs, inputs(fake.url))
    stored = fake.credential_for(PROJECT, iid)
    assert stored is not None
    assert stored["values"] == {"clientId": CLIENT_ID, "clientSecret": SECRET, "scopes": SCOPES}, "restored"


def test_read_accepts_scopes_returned_as_a_list(fake: FakeParagon, provider: ParagonCredentialProvider) -> None:
    cid, outs, _ = _create(fake, provider)
    fake.credentials[cid]["values"]["scopes"] = SCOPES.split(" ")
    read = provider.read(cid, outs)
    assert read.outs is not None and read.outs["scopes"] == SCOPES
    assert provider.diff(cid, read.outs, inputs(fake.url)).changes is False


def test_read_of_a_deleted_credential_returns_no_id(fake: FakeParagon, provider: ParagonCredentialProvider) -> None:
    cid, outs, _ = _create(fake, provider)
    del fake.credentials[cid]
    fake.reset_log()

    read = provider.read(cid, outs)

    assert isinstance(read, ReadResult) and read.id is None and read.outs == {}
    assert (fake.count("GET", DECRYPTED), fake.count("GET", CREDENTIALS), len(fake.requests)) == (1, 1, 2)


def test_read_finds_a_credential_recreated_outside_pulumi(
    fake: FakeParagon, provider: ParagonCredentialProvider
) -> None:
    cid, outs, iid = _create(fake, provider)
    del fake.credentials[cid]
    provider.update(cid, outs, inputs(fake.url, clientId="aaaaaaaa-0000-0000-0000-000000000000"))
    recreated = fake.credential_for(PROJECT, iid)
    assert recreated is not None and recreated["id"] != cid

    read = provider.read(cid, outs)

    assert read.id == recreated["id"] and read.outs is not None
    assert read.outs["credentialId"] == recreated["id"]
    assert read.outs["clientId"] == "aaaaaaaa-0000-0000-0000-000000000000"
    assert provider.diff(recreated["id"], read.outs, inputs(fake.url)).changes is True


# --- delete --------------------------------------------------------------------------------------------


def test_delete_by_default_leaves_paragon_untouched(fake: FakeParagon, provider: ParagonCredentialProvider) -> None:
    cid, outs, iid = _create(fake, provider)
    fake.reset_log()

    provider.delete(cid, outs)

    assert fake.requests == [] and fake.credential_for(PROJECT, iid) is not None


def test_delete_on_destroy_deletes_and_tolerates_404(
    fake: FakeParagon, provider: ParagonCredentialProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    created = provider.create(inputs(fake.url, deleteOnDestroy=True))
    assert created.outs is not None
    monkeypatch.setattr(provisioner.paragon.resource, "PROCESS_SESSIONS", SessionCache())  # a later `destroy`
    fake.reset_log()

    provider.delete(created.id, created.outs)
    assert fake.credential_for(PROJECT, iid) is None
    provider.delete(created.id, created.outs)  # already gone: not an error

    assert fake.count("DELETE", ONE_CREDENTIAL) == 2
    assert (fake.count("POST", LOGIN), fake.count("GET"), len(fake.requests)) == (1, 0, 3), "no list for a delete"


# --- call budget ---------------------------------------------------------------------------------------

KINDS = ("powerbi", "outlook", "sharepoint", "onedrive", "excel")


def test_k_integrations_in_one_project_cost_one_login_one_list_and_k_puts_each_read_back(
    fake: FakeParagon, provider: ParagonCredentialProvider
) -> None:
    ids = [fake.add_integration(PROJECT, kind) for kind in KINDS]

    results = [provider.create(inputs(fake.url, integrationKey=kind)) for kind in KINDS]

    assert counts(fake) == (1, 1, 5) and fake.count("GET", DECRYPTED) == 5 and len(fake.requests) == 12
    assert [r.outs["integrationId"] for r in results if r.outs is not None] == ids
    assert all(fake.credential_for(PROJECT, iid) is not None for iid in ids)


def test_access_token_from_the_environment_means_no_login(
    fake: FakeParagon, provider: ParagonCredentialProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_EMAIL)
    monkeypatch.delenv(ENV_PASSWORD)
    monkeypatch.setenv(ENV_ACCESS_TOKEN, "pre-issued-access-token")
    fake.accept_token("pre-issued-access-token")
    for kind in KINDS:
        fake.add_integration(PROJECT, kind)

    for kind in KINDS:
        provider.create(inputs(fake.url, integrationKey=kind))

    assert counts(fake) == (0, 1, 5)
    assert {r.headers["authorization"] for r in fake.requests} == {"Bearer pre-issued-access-token"}


def test_paragon_base_url_overrides_the_configured_base_url(
    fake: FakeParagon, provider: ParagonCredentialProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    monkeypatch.setenv(ENV_BASE_URL, fake.url)

    result = provider.create(inputs("https://zeus.paragon.invalid"))

    assert fake.credential_for(PROJECT, iid) is not None and counts(fake) == (1, 1, 1)
    assert result.outs is not None and result.outs["baseUrl"] == "https://zeus.paragon.invalid", "inputs kept"


def test_no_login_anywhere_names_the_variables(fake: FakeParagon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_EMAIL)
    monkeypatch.delenv(ENV_PASSWORD)
    fake.add_integration(PROJECT, "powerbi")

    with pytest.raises(ParagonLoginMissing) as caught:
        ParagonCredentialProvider().create(inputs(fake.url))

    for name in (ENV_ACCESS_TOKEN, ENV_EMAIL, ENV_PASSWORD):
        assert name in str(caught.value)
    assert fake.requests == []


def test_login_from_secret_stack_config_when_the_environment_has_none(
    fake: FakeParagon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_EMAIL)
    monkeypatch.delenv(ENV_PASSWORD)
    iid = fake.add_integration(PROJECT, "powerbi")
    provider = ParagonCredentialProvider()
    provider.configure(ConfigureRequest(Config({"proj:paragonEmail": EMAIL, "proj:paragonPassword": PASSWORD}, "proj")))

    provider.create(inputs(fake.url))

    assert fake.credential_for(PROJECT, iid) is not None and counts(fake) == (1, 1, 1)


def test_changing_only_delete_on_destroy_is_recorded_without_calling_paragon() -> None:
    provider = provisioner.paragon.resource.ParagonCredentialProvider()
    olds = {
        "projectId": "p",
        "integrationKey": "powerbi",
        "baseUrl": "https://zeus.example.com",
        "credentialName": "n",
        "clientId": "c",
        "scopes": "s",
        "activate": False,
        "deleteOnDestroy": False,
        "retryTimeoutSeconds": 120.0,
        "credentialId": "cred-1",
        "integrationId": "int-1",
        "secretFingerprint": provisioner.paragon.resource.secret_fingerprint("the-secret"),
    }
    news = {**olds, "clientSecret": "the-secret", "deleteOnDestroy": True}
    for key in ("credentialId", "integrationId", "secretFingerprint"):
        news.pop(key)
    diff = provider.diff("cred-1", olds, news)
    assert diff.changes is True and diff.replaces == []
    outs = provider.update("cred-1", olds, news).outs or {}
    assert outs["deleteOnDestroy"] is True
    assert outs["credentialId"] == "cred-1"
    assert "clientSecret" not in outs


OUTPUT_UNKNOWN: Any = Unknown()  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    "unknown", [OUTPUT_UNKNOWN, rpc.UNKNOWN, secret_wire(rpc.UNKNOWN)], ids=["output.Unknown", "rpc.UNKNOWN", "secret"]
)
def test_extra_values_holding_an_unknown_pass_check_and_count_as_a_change(unknown: Any) -> None:
    provider = ParagonCredentialProvider()
    known = {"organizationUrl": "https://a.crm.dynamics.com"}
    news = {"extraValues": {"organizationUrl": unknown}}
    failures = provider.check({}, news).failures
    assert [f for f in failures if f.property == "extraValues"] == []
    assert extra_values_problem({"organizationUrl": unknown}) is None
    assert extra_values_problem({"organizationUrl": 3}) == "extraValues must map names to strings"
    diff = provider.diff("c", {"extraValues": known}, {"extraValues": {"organizationUrl": unknown}})
    assert diff.changes is True and diff.replaces == []
