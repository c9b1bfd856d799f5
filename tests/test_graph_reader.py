"""GraphReader against the fake Graph: each read parsed, each fault kind → its exception, retried or not,
within the deadline; only GET is ever sent; no token or secret in messages, reprs or logs."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from entra_fake import FakeEntra
from graph_fake import GRAPH_APP_ID, POWERBI_APP_ID, FakeGraph, password_addition_blocked, password_lifetime
from graph_helpers import CANARY, CLIENT, TENANT

from provisioner.errors import (
    GraphError,
    GraphForbidden,
    GraphInvalidRequest,
    GraphNotFound,
    GraphRateLimited,
    GraphResponseError,
    GraphServerError,
    GraphTimeout,
    GraphTLSError,
    GraphTransportError,
)
from provisioner.graph.models import duration_days
from provisioner.graph.reader import GraphReader
from provisioner.transport.retry import RetryPolicy

APP_ID = "44444444-4444-4444-8444-444444444444"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _sleeps(reader: GraphReader) -> Sleeps:
    sleeps = reader._retry.sleep
    assert isinstance(sleeps, Sleeps)
    return sleeps


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEntra]:
    with FakeEntra() as fake:
        fake.trust(monkeypatch)
        fake.add_app(TENANT, CLIENT, roles=("Application.Read.All",))
        fake.add_secret(TENANT, CLIENT, CANARY)
        yield fake


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


def _reader(entra: FakeEntra, graph: FakeGraph, retry: RetryPolicy | None = None) -> GraphReader:
    env = {
        "AZURE_AUTHORITY_HOST": entra.url,
        "PROVISIONER_GRAPH_URL": graph.url,
        "ARM_TENANT_ID": TENANT,
        "ARM_CLIENT_ID": CLIENT,
        "ARM_CLIENT_SECRET": CANARY,
    }
    return GraphReader(env=env, retry=retry or RetryPolicy(total_seconds=10, sleep=Sleeps(), rng=random.Random(1)))


@pytest.fixture
def reader(entra: FakeEntra, graph: FakeGraph) -> Iterator[GraphReader]:
    with _reader(entra, graph) as r:
        yield r


# --- reads ---------------------------------------------------------------------------------------------


def test_application_is_parsed(reader: GraphReader, graph: FakeGraph) -> None:
    end = "2027-03-01T00:00:00Z"
    fake = graph.add_application(
        APP_ID,
        passwords=(
            {
                "keyId": "55555555-5555-4555-8555-555555555555",
                "displayName": "slot-0",
                "endDateTime": end,
                "startDateTime": "2026-12-01T00:00:00Z",
                "hint": "Xy1",
            },
        ),
        verified_publisher_id="1234567",
    )
    app = reader.application(APP_ID)
    assert (app.id, app.app_id, app.sign_in_audience) == (fake.object_id, APP_ID, "AzureADMultipleOrgs")
    assert app.web.redirect_uris == ["https://passport.useparagon.com/oauth"] and app.spa.redirect_uris == []
    assert app.api.requested_access_token_version is None
    assert app.required_resource_access[0].resource_app_id == POWERBI_APP_ID
    [secret] = app.password_credentials
    assert (secret.display_name, secret.hint, secret.end_date_time) == (
        "slot-0",
        "Xy1",
        datetime(2027, 3, 1, tzinfo=UTC),
    )
    assert "secretText" not in type(secret).model_fields and app.verified_publisher.verified
    assert app.publisher_domain == "contoso.example"
    assert [c.path for c in graph.calls()] == [f"/v1.0/applications(appId='{APP_ID}')"]


def test_owners_are_parsed_across_pages(reader: GraphReader, graph: FakeGraph) -> None:
    graph.page_size = 2
    app = graph.add_application(APP_ID)
    graph.add_owner(app, sp_app_id=CLIENT)
    for n in range(3):
        graph.add_owner(app, user=f"user{n}@contoso.example")
    owners = reader.application_owners(app.object_id)
    assert [o.kind for o in owners] == ["servicePrincipal", "user", "user", "user"]
    assert owners[0].app_id == CLIENT and owners[3].user_principal_name == "user2@contoso.example"
    assert len(graph.calls("/applications/")) == 2


@pytest.mark.parametrize(
    ("app_id", "name", "scope"),
    [(GRAPH_APP_ID, "Microsoft Graph", "User.Read"), (POWERBI_APP_ID, "Power BI Service", "Dataset.Read.All")],
)
def test_service_principal_is_parsed(reader: GraphReader, app_id: str, name: str, scope: str) -> None:
    sp = reader.service_principal(app_id)
    assert (sp.app_id, sp.display_name) == (app_id, name)
    found = sp.scope(scope.lower())
    assert found is not None and found.value == scope and found.is_enabled and found.type == "User"
    assert found.admin_consent_display_name


def test_default_policy_unrestricted_then_restricted(reader: GraphReader, graph: FakeGraph) -> None:
    policy = reader.default_app_management_policy()
    assert (policy.source, policy.is_enabled, policy.restrictions) == ("default", False, [])
    assert policy.blocks_password_addition is None and policy.max_password_lifetime_days is None
    graph.restrict_passwords(password_addition_blocked(), password_lifetime("P180D"), password_lifetime("P1Y"))
    policy = reader.default_app_management_policy()
    blocked = policy.blocks_password_addition
    assert blocked is not None and blocked.restrict_for_apps_created_after_date_time == datetime(2019, 1, 1, tzinfo=UTC)
    assert policy.max_password_lifetime_days == 180


def test_assigned_policies_are_parsed(reader: GraphReader, graph: FakeGraph) -> None:
    app = graph.add_application(APP_ID)
    assert reader.assigned_app_management_policies(app.object_id) == []
    graph.assign_policy(app, password_lifetime("P2Y"), {"restrictionType": "passwordAddition", "state": "disabled"})
    [policy] = reader.assigned_app_management_policies(app.object_id)
    assert policy.source == "assigned" and policy.display_name == "Exempt Paragon apps"
    assert policy.max_password_lifetime_days == 730 and policy.blocks_password_addition is None


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("P90D", 90),
        ("P1Y", 365),
        ("P2W", 14),
        ("P1M", 30),
        ("PT36H", 1.5),
        ("P4DT12H", 4.5),
        ("p30d", 30),
        ("PT0S", 0),
        ("P", None),
        ("90", None),
        ("P-1D", None),
        ("", None),
    ],
)
def test_iso_durations_in_days(text: str, days: float | None) -> None:
    assert duration_days(text) == days


# --- faults --------------------------------------------------------------------------------------------

READS: dict[str, Any] = {
    "application": (lambda r, app: r.application(APP_ID), "/applications(", ("Application.Read.All",)),
    "owners": (lambda r, app: r.application_owners(app.object_id), "/applications/", ("Application.Read.All",)),
    "service_principal": (
        lambda r, app: r.service_principal(POWERBI_APP_ID),
        "/servicePrincipals",
        ("Application.Read.All",),
    ),
    "default_policy": (lambda r, app: r.default_app_management_policy(), "/policies/", ("Policy.Read.All",)),
    "assigned_policies": (
        lambda r, app: r.assigned_app_management_policies(app.object_id),
        "/applications/",
        ("Policy.Read.All", "Application.Read.All"),
    ),
}


@pytest.mark.parametrize("read", sorted(READS))
def test_forbidden_carries_the_permission_and_is_not_retried(read: str, reader: GraphReader, graph: FakeGraph) -> None:
    call, prefix, permissions = READS[read]
    app = graph.add_application(APP_ID)
    graph.fail(prefix, 403, times=5)
    with pytest.raises(GraphForbidden) as caught:
        call(reader, app)
    err = caught.value
    assert err.permissions == permissions and err.code == "Authorization_RequestDenied"
    assert f"needs the Microsoft Graph permission {err.needs}" in str(err)
    assert len(graph.calls(prefix)) == 1


@pytest.mark.parametrize(
    ("status", "retry_after", "error", "attempts"),
    [
        (404, None, GraphNotFound, 1),
        (400, None, GraphInvalidRequest, 1),
        (429, "2", GraphRateLimited, 6),
        (503, None, GraphServerError, 6),
        (500, "Wed, 21 Oct 2015 07:28:00 GMT", GraphServerError, 6),
        (408, None, GraphServerError, 6),
    ],
)
def test_each_status_kind(
    reader: GraphReader, graph: FakeGraph, status: int, retry_after: str | None, error: type[GraphError], attempts: int
) -> None:
    graph.fail("/servicePrincipals", status, times=10, retry_after=retry_after)
    with pytest.raises(error) as caught:
        reader.service_principal(GRAPH_APP_ID)
    assert len(graph.calls()) == attempts and "\n" not in str(caught.value)
    sleeps = _sleeps(reader)
    assert len(sleeps) == attempts - 1
    if retry_after == "2":
        assert sleeps == [2.0] * 5
    if retry_after and "GMT" in retry_after:  # a date in the past: no wait
        assert sleeps == [0.0] * 5


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 408])
def test_transient_faults_heal_by_retrying(reader: GraphReader, graph: FakeGraph, status: int) -> None:
    graph.fail("/servicePrincipals", status, times=2, retry_after="1")
    assert reader.service_principal(GRAPH_APP_ID).app_id == GRAPH_APP_ID
    assert len(graph.calls()) == 3 and _sleeps(reader) == [1.0, 1.0]


def test_a_retry_after_past_the_deadline_gives_up_at_once(entra: FakeEntra, graph: FakeGraph) -> None:
    graph.fail("/policies/", 429, times=5, retry_after="120")
    with _reader(entra, graph, RetryPolicy(total_seconds=5, sleep=Sleeps())) as reader:
        with pytest.raises(GraphRateLimited):
            reader.default_app_management_policy()
        assert _sleeps(reader) == [] and len(graph.calls()) == 1


def test_a_slow_graph_ends_within_the_deadline(entra: FakeEntra, graph: FakeGraph) -> None:
    graph.fail("/applications(", 0, times=10, delay=3.0)
    with _reader(entra, graph, RetryPolicy(total_seconds=1.0)) as reader:
        reader.whoami()  # token first, so the budget below is Graph's
        started = time.monotonic()
        with pytest.raises(GraphTimeout, match=r"did not finish within 1 s"):
            reader.application(APP_ID)
        assert time.monotonic() - started < 2.0


def test_one_slow_answer_is_retried(entra: FakeEntra, graph: FakeGraph) -> None:
    import httpx

    graph.fail("/policies/", 0, times=1, delay=1.5)
    with _reader(entra, graph, RetryPolicy(total_seconds=10, sleep=Sleeps())) as reader:
        reader._session._timeout = httpx.Timeout(0.5)
        assert reader.default_app_management_policy().source == "default"
        assert len(_sleeps(reader)) == 1  # one timed-out attempt, one retry


def test_a_refused_connection_is_retried_then_a_transport_error(entra: FakeEntra) -> None:
    with FakeGraph() as graph:
        url = graph.url
    with FakeGraph() as graph:
        reader = GraphReader(
            env={
                "AZURE_AUTHORITY_HOST": entra.url,
                "PROVISIONER_GRAPH_URL": url,
                "ARM_TENANT_ID": TENANT,
                "ARM_CLIENT_ID": CLIENT,
                "ARM_CLIENT_SECRET": CANARY,
            },
            retry=RetryPolicy(total_seconds=10, max_attempts=3, sleep=Sleeps()),
        )
        with reader, pytest.raises(GraphTransportError, match="after 3 attempt") as caught:
            reader.application(APP_ID)
        assert not isinstance(caught.value, GraphTimeout) and "PROVISIONER_GRAPH_URL" in str(caught.value)


def test_an_untrusted_certificate_is_never_retried(entra: FakeEntra) -> None:
    with FakeGraph(tls=True) as graph:
        with _reader(entra, graph) as reader, pytest.raises(GraphTLSError, match="not retried"):
            reader.application(APP_ID)
        assert _sleeps(reader) == []
        with _reader(entra, graph) as reader:  # trusting its CA, the same call works
            reader._session._http = __import__(
                "provisioner.transport.connections"
            ).transport.connections.new_http_client(str(graph.ca_file))
            graph.add_application(APP_ID)
            assert reader.application(APP_ID).app_id == APP_ID


def test_a_401_gets_one_fresh_token(reader: GraphReader, graph: FakeGraph, entra: FakeEntra) -> None:
    graph.fail("/policies/", 401, times=1, code="InvalidAuthenticationToken")
    assert reader.default_app_management_policy().source == "default"
    graph.fail("/policies/", 401, times=2, code="InvalidAuthenticationToken")
    with pytest.raises(GraphError, match="A fresh token was refused too"):
        reader.default_app_management_policy()


@pytest.mark.parametrize(
    ("body_next", "message"),
    [("https://evil.example/v1.0/next", "outside"), ("same", "repeats an earlier next link")],
)
def test_paging_is_bounded(reader: GraphReader, graph: FakeGraph, body_next: str, message: str) -> None:
    app = graph.add_application(APP_ID)
    graph.add_owner(app, user="a@contoso.example")
    link = body_next if body_next != "same" else f"{graph.url}/v1.0/applications/{app.object_id}/owners?$skiptoken=0"
    original = graph._page
    graph._page = lambda sub, items, start: {**original(sub, items, start), "@odata.nextLink": link}  # type: ignore[method-assign]
    with pytest.raises(GraphResponseError, match=message):
        reader.application_owners(app.object_id)
    assert all(c.path.startswith("/v1.0/") for c in graph.requests)


def test_an_unexpected_body_is_a_response_error(reader: GraphReader, graph: FakeGraph) -> None:
    graph.service_principals[POWERBI_APP_ID] = {"displayName": "no id"}
    with pytest.raises(GraphResponseError, match="unexpected response shape: id, appId"):
        reader.service_principal(POWERBI_APP_ID)


# --- never writes, never leaks ---------------------------------------------------------------------------


def test_only_get_is_sent_and_no_secret_leaks(
    reader: GraphReader, graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = graph.add_application(APP_ID)
    graph.add_owner(app, user="ada@contoso.example")
    graph.fail("/servicePrincipals", 500, times=1, message=f"echo {CANARY} and the token")
    reader.application(APP_ID)
    reader.application_owners(app.object_id)
    reader.service_principal(GRAPH_APP_ID)
    reader.default_app_management_policy()
    reader.assigned_app_management_policies(app.object_id)
    reader.whoami()
    token = reader._tokens.get()
    graph.fail("/policies/", 403, message=f"denied for {token} / {CANARY}")
    with pytest.raises(GraphForbidden) as caught:
        reader.default_app_management_policy()
    assert graph.methods() == {"GET"}
    assert all(r.bearer is not None for r in graph.requests)
    for text in (str(caught.value), repr(caught.value), repr(reader), repr(reader._tokens), caplog.text):
        assert CANARY not in text and token not in text and token[:20] not in text
