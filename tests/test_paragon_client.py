"""Fault injection for `ParagonClient` against the stateful fake (tests/paragon_fake.py).

Every test scripts what the fake does, then checks two things: the call ends in success or in one clear
`provisioner.errors` exception, and the exact number of requests that reached the server. Nothing really
sleeps: the retry policy gets ``sleep=waits.append`` and a seeded ``random.Random``, so the recorded waits
are asserted (a honoured ``Retry-After`` shows up as that exact wait). A few narrow cases (every retryable
status, the total-time budget with a fake clock) use `httpx.MockTransport` instead of the fake server.
"""

from __future__ import annotations

import email.utils
import itertools
import json
import random
import socket
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from paragon_fake import LIST, LOGIN, PUT, FakeParagon, Fault  # tests/ has no __init__.py: pytest puts it on sys.path
from pydantic import SecretStr

from provisioner.errors import (
    IntegrationNotInProject,
    ParagonAPIError,
    ParagonAuthError,
    ParagonInvalidRequest,
    ParagonNotFound,
    ParagonRateLimited,
    ParagonResponseError,
    ParagonServerError,
    ParagonTimeout,
    ParagonTransportError,
)
from provisioner.paragon.client import ParagonClient, RetryPolicy, parse_retry_after, scrub_secrets
from provisioner.paragon.login import ParagonLogin
from provisioner.paragon.models import Integration

EMAIL, PASSWORD, PROJECT = "admin@example.com", "pw-for-tests", "proj-1"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SCOPES = "Dataset.Read.All offline_access"
TIMEOUT = httpx.Timeout(2.0, connect=1.0)
"""Generous enough for a loaded CI box, short enough that a hang fails fast."""


def replay_backoff(n: int, *, base: float = 0.5, cap: float = 20.0) -> list[float]:
    """The first n waits the documented policy draws from random.Random(0): uniform(0, min(cap, base*2**(a-1)))."""
    rng = random.Random(0)
    return [rng.uniform(0.0, min(cap, base * 2 ** (a - 1))) for a in range(1, n + 1)]


def policy(waits: list[float], **overrides: float | int | Callable[[], float]) -> RetryPolicy:
    """A retry policy that records its waits instead of sleeping, with deterministic jitter."""
    settings: dict[str, object] = {"max_attempts": 4, "total_seconds": 60.0}
    settings.update(overrides)
    return RetryPolicy(sleep=waits.append, rng=random.Random(0), **settings)  # type: ignore[arg-type]


def password_login(password: str = PASSWORD) -> ParagonLogin:
    return ParagonLogin(email=EMAIL, password=SecretStr(password))


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (the port was bound once, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class CountingTransport(httpx.BaseTransport):
    """A real HTTP transport that counts the attempts handed to it (for hosts with no fake to ask)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


pytestmark = pytest.mark.usefixtures("no_ca_bundle")


@pytest.fixture
def fake() -> Iterator[FakeParagon]:
    with FakeParagon() as server:
        server.add_user(EMAIL, PASSWORD)
        server.add_project(PROJECT)
        yield server
    assert server.server_errors == [], "the fake itself failed while handling a request"


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(fake: FakeParagon, waits: list[float]) -> Iterator[ParagonClient]:
    with ParagonClient(fake.url, password_login(), timeout=TIMEOUT, retry=policy(waits)) as c:
        yield c


def upsert(client: ParagonClient, integration: Integration, secret: str = "secret-value-1") -> str:
    """Push a credential; return its id."""
    credential = client.upsert_oauth_credential(
        PROJECT, integration, name="Power BI", client_id=CLIENT_ID, client_secret=SecretStr(secret), scopes=SCOPES
    )
    return credential.id


# --- retryable answers ---------------------------------------------------------------------------------


def test_429_with_retry_after_seconds_waits_exactly_that_long(
    fake: FakeParagon, client: ParagonClient, waits: list[float]
) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    fake.script("PUT", PUT, Fault(429, headers={"Retry-After": "7"}))

    upsert(client, client.find_integration(PROJECT, "powerbi"))

    assert waits == [7.0], "Retry-After in seconds is the wait, not a jittered backoff"
    stored = fake.credential_for(PROJECT, iid)
    assert stored is not None and stored["values"]["clientId"] == CLIENT_ID
    assert (fake.count("POST", LOGIN), fake.count("GET", LIST), fake.count("PUT", PUT)) == (1, 1, 2)


def test_429_with_retry_after_http_date_waits_until_that_date(
    fake: FakeParagon, client: ParagonClient, waits: list[float]
) -> None:
    fake.add_integration(PROJECT, "powerbi")
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=42), usegmt=True)
    fake.script("PUT", PUT, Fault(429, headers={"Retry-After": when}))

    upsert(client, client.find_integration(PROJECT, "powerbi"))

    assert len(waits) == 1 and 40.0 < waits[0] <= 42.0, f"HTTP-date Retry-After ~42 s ahead, waited {waits}"
    assert fake.count("PUT", PUT) == 2


def test_retry_after_parsing_edge_cases() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0.0, "a date in the past means now"
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None
    assert parse_retry_after("-5", now) is None, "negative delta-seconds is invalid: fall back to backoff"


def test_gateway_errors_502_503_504_back_off_with_capped_jitter(
    fake: FakeParagon, client: ParagonClient, waits: list[float]
) -> None:
    fake.add_integration(PROJECT, "powerbi")
    html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    fake.script("GET", LIST, Fault(502, body=html, content_type="text/html"), Fault(503), Fault(504))

    integrations = client.list_integrations(PROJECT)

    assert [i.type for i in integrations] == ["powerbi"]
    assert waits == replay_backoff(3), "full jitter below 0.5, 1, 2 s drawn from the seeded rng"
    assert all(w <= cap for w, cap in zip(waits, (0.5, 1.0, 2.0), strict=True))
    assert (fake.count("POST", LOGIN), fake.count("GET", LIST)) == (1, 4)


def test_retried_put_is_an_idempotent_upsert(fake: FakeParagon, client: ParagonClient, waits: list[float]) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    fake.script("PUT", PUT, Fault(503), Fault(500))

    upsert(client, client.find_integration(PROJECT, "powerbi"))

    assert len(fake.credentials) == 1 and fake.credential_for(PROJECT, iid) is not None
    assert fake.count("PUT", PUT) == 3 and len(waits) == 2


def test_dropped_connection_is_retried(fake: FakeParagon, client: ParagonClient, waits: list[float]) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    integration = client.find_integration(PROJECT, "powerbi")
    fake.script("PUT", PUT, Fault(drop=True))

    upsert(client, integration)

    assert fake.credential_for(PROJECT, iid) is not None
    assert waits == replay_backoff(1)
    assert (fake.count("POST", LOGIN), fake.count("GET", LIST), fake.count("PUT", PUT)) == (1, 1, 2)


def test_read_timeout_is_retried(fake: FakeParagon, waits: list[float]) -> None:
    fake.add_integration(PROJECT, "powerbi")
    fake.script("GET", LIST, Fault(200, delay=1.0))  # answers correctly, but after the client gave up
    with ParagonClient(fake.url, password_login(), timeout=httpx.Timeout(0.2), retry=policy(waits)) as client:
        assert [i.type for i in client.list_integrations(PROJECT)] == ["powerbi"]
    assert len(waits) == 1
    assert (fake.count("POST", LOGIN), fake.count("GET", LIST)) == (1, 2)


def test_persistent_timeouts_end_in_paragon_timeout(fake: FakeParagon, waits: list[float]) -> None:
    fake.script("GET", LIST, Fault(200, delay=1.0), Fault(200, delay=1.0))
    retry = policy(waits, max_attempts=2)
    with ParagonClient(fake.url, password_login(), timeout=httpx.Timeout(0.2), retry=retry) as client:
        with pytest.raises(ParagonTimeout, match=r"GET /projects/proj-1/integrations: timed out .* after 2 attempt"):
            client.list_integrations(PROJECT)
    assert len(waits) == 1 and fake.count("GET", LIST) == 2


def test_persistent_500_gives_up_after_max_attempts(
    fake: FakeParagon, client: ParagonClient, waits: list[float]
) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    integration = client.find_integration(PROJECT, "powerbi")
    fake.script("PUT", PUT, *[Fault(500)] * 10)

    with pytest.raises(ParagonServerError) as caught:
        upsert(client, integration)

    err = caught.value
    assert (err.method, err.path, err.status) == ("PUT", f"/projects/{PROJECT}/credentials/oauth", 500)
    assert "Internal Server Error" in str(err) and "gave up after 4 attempt(s)" in str(err)
    assert waits == replay_backoff(3)
    assert fake.count("PUT", PUT) == 4, "max_attempts=4 counts the first attempt"
    assert fake.credential_for(PROJECT, iid) is None


def test_login_itself_is_retried_on_429(fake: FakeParagon, client: ParagonClient, waits: list[float]) -> None:
    fake.script("POST", LOGIN, Fault(429, headers={"Retry-After": "2"}))
    assert client.list_integrations(PROJECT) == []
    assert waits == [2.0]
    assert (fake.count("POST", LOGIN), fake.count("GET", LIST)) == (2, 1)


# --- 401: one re-login and one retry -------------------------------------------------------------------


def test_expired_token_triggers_one_relogin_and_one_retry(
    fake: FakeParagon, client: ParagonClient, waits: list[float]
) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    integration = client.find_integration(PROJECT, "powerbi")
    first_token = fake.requests[-1].headers["authorization"]
    fake.expire_tokens()

    upsert(client, integration)

    assert fake.credential_for(PROJECT, iid) is not None
    assert waits == [], "a re-login is not a backoff"
    assert (fake.count("POST", LOGIN), fake.count("GET", LIST), fake.count("PUT", PUT)) == (2, 1, 2)
    put_auth = [r.headers["authorization"] for r in fake.requests if r.method == "PUT"]
    assert put_auth[0] == first_token and put_auth[1] != first_token, "the retry carries the new token"


def test_concurrent_401s_share_one_relogin(fake: FakeParagon, waits: list[float]) -> None:
    """Four callers whose cached token expired re-log in once between them (single-flight), not four times."""
    from concurrent.futures import ThreadPoolExecutor

    from provisioner.paragon.client import SessionCache

    fake.add_integration(PROJECT, "powerbi")
    cache = SessionCache()
    clients = [
        ParagonClient(fake.url, password_login(), timeout=TIMEOUT, retry=policy(waits), cache=cache) for _ in range(4)
    ]
    integration = clients[0].find_integration(PROJECT, "powerbi")
    fake.expire_tokens()
    fake.script("POST", LOGIN, Fault(200, delay=0.3))  # a slow re-login: the others arrive while it runs
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda c: upsert(c, integration), clients))
    for c in clients:
        c.close()
    assert len(set(ids)) == 1, "one credential per integration"
    assert fake.count("POST", LOGIN) == 2, "the first login, then one shared re-login"
    assert 4 < fake.count("PUT", PUT) <= 8, "at least one caller was refused; none was refused twice"


def test_401_after_relogin_is_an_auth_error_not_a_loop(
    fake: FakeParagon, client: ParagonClient, waits: list[float]
) -> None:
    fake.add_integration(PROJECT, "powerbi")
    integration = client.find_integration(PROJECT, "powerbi")
    fake.script("PUT", PUT, Fault(401), Fault(401))

    with pytest.raises(
        ParagonAuthError, match=r"PUT /projects/proj-1/credentials/oauth answered 401.*token was rejected twice"
    ):
        upsert(client, integration)

    assert (fake.count("POST", LOGIN), fake.count("PUT", PUT)) == (2, 2) and waits == []


def test_rejected_access_token_without_password_names_the_fix(fake: FakeParagon, waits: list[float]) -> None:
    fake.accept_token("pre-issued-token")
    fake.expire_tokens()
    login = ParagonLogin(access_token=SecretStr("pre-issued-token"))
    with ParagonClient(fake.url, login, timeout=TIMEOUT, retry=policy(waits)) as client:
        with pytest.raises(ParagonAuthError) as caught:
            client.list_integrations(PROJECT)
    message = str(caught.value)
    assert "GET /projects/proj-1/integrations answered 401" in message, "names the call that was refused"
    assert "PARAGON_ACCESS_TOKEN" in message and "PARAGON_EMAIL" in message
    assert (fake.count("POST", LOGIN), fake.count("GET", LIST)) == (0, 1)


# --- errors a person can act on ------------------------------------------------------------------------


def test_400_is_not_retried_and_passes_paragon_message_through(
    fake: FakeParagon, client: ParagonClient, waits: list[float]
) -> None:
    fake.add_integration(PROJECT, "powerbi")
    integration = client.find_integration(PROJECT, "powerbi")
    body = {"message": "values.scopes must be a string", "meta": {"errors": [{"error": "scopes is malformed"}]}}
    fake.script("PUT", PUT, Fault(400, body=json.dumps(body)))

    with pytest.raises(ParagonInvalidRequest) as caught:
        upsert(client, integration)

    err = caught.value
    assert err.status == 400 and err.server_message == "values.scopes must be a string; scopes is malformed"
    assert str(err).startswith("Paragon PUT /projects/proj-1/credentials/oauth answered 400: values.scopes")
    assert fake.count("PUT", PUT) == 1 and waits == []


def test_real_validation_error_from_the_fake_is_not_retried(
    fake: FakeParagon, client: ParagonClient, waits: list[float]
) -> None:
    fake.add_integration(PROJECT, "powerbi")
    wrong = Integration(id="no-such-integration", type="powerbi")

    with pytest.raises(ParagonInvalidRequest, match="Integration no-such-integration not found in project"):
        upsert(client, wrong)

    assert fake.count("PUT", PUT) == 1 and waits == [] and fake.credentials == {}


def test_html_page_instead_of_json_names_the_endpoint(
    fake: FakeParagon, client: ParagonClient, waits: list[float]
) -> None:
    page = "<!doctype html><html><head><title>Paragon</title></head><body>dashboard</body></html>"
    fake.script("GET", LIST, Fault(200, body=page, content_type="text/html; charset=utf-8"))

    with pytest.raises(ParagonResponseError) as caught:
        client.list_integrations(PROJECT)

    message = str(caught.value)
    assert message.startswith("GET /projects/proj-1/integrations: expected JSON but got text/html")
    assert "base URL" in message
    assert fake.count("GET", LIST) == 1 and waits == []


@pytest.mark.parametrize(
    ("method", "pattern", "body", "expected"),
    [
        ("GET", LIST, '{"data": []}', r"GET /projects/proj-1/integrations: expected a JSON array or an object"),
        ("GET", LIST, '[{"type": "powerbi"}]', r"GET /projects/proj-1/integrations: .*missing or invalid: id"),
        ("PUT", PUT, '{"status": "VALID"}', r"PUT /projects/proj-1/credentials/oauth: .*missing or invalid: id"),
        ("POST", LOGIN, '{"token": "abc"}', r"POST /auth/login/email: the response has no accessToken"),
    ],
)
def test_unexpected_json_shape_names_endpoint_and_what_is_missing(
    fake: FakeParagon, client: ParagonClient, method: str, pattern: str, body: str, expected: str
) -> None:
    fake.add_integration(PROJECT, "powerbi", integration_id="int-1")
    fake.script(method, pattern, Fault(201 if method == "POST" else 200, body=body))

    with pytest.raises(ParagonResponseError, match=expected):
        if method == "PUT":
            upsert(client, Integration(id="int-1", type="powerbi"))
        else:
            client.list_integrations(PROJECT)

    assert fake.count(method, pattern) == 1


def test_integration_missing_from_project_says_add_it_from_the_catalog(
    fake: FakeParagon, client: ParagonClient
) -> None:
    fake.add_integration(PROJECT, "outlook")

    with pytest.raises(IntegrationNotInProject, match=r"'powerbi' is not added to Paragon project proj-1.*Catalog"):
        client.find_integration(PROJECT, "powerbi")

    assert (fake.count("POST", LOGIN), fake.count("GET", LIST), fake.count("PUT")) == (1, 1, 0)


def test_refused_login_is_an_auth_error_naming_the_variables(fake: FakeParagon, waits: list[float]) -> None:
    with ParagonClient(fake.url, password_login("wrong"), timeout=TIMEOUT, retry=policy(waits)) as client:
        with pytest.raises(ParagonAuthError) as caught:
            client.list_integrations(PROJECT)
    err = caught.value
    assert (err.method, err.path, err.status) == ("POST", "/auth/login/email", 401)
    assert "Invalid email or password" in str(err) and "PARAGON_EMAIL and PARAGON_PASSWORD" in str(err)
    assert (fake.count("POST", LOGIN), fake.count("GET")) == (1, 0) and waits == []


def test_unknown_project_is_not_found_with_the_project_hint(
    fake: FakeParagon, client: ParagonClient, waits: list[float]
) -> None:
    with pytest.raises(ParagonNotFound) as caught:
        client.list_integrations("no-such-project")
    message = str(caught.value)
    assert "GET /projects/no-such-project/integrations answered 404: Project not found" in message
    assert "check paragon.project_id" in message
    assert (fake.count("POST", LOGIN), fake.count("GET", LIST)) == (1, 1) and waits == []


def test_unreachable_base_url_is_a_transport_error_after_retries(waits: list[float]) -> None:
    url = closed_port_url()
    transport = CountingTransport()
    with ParagonClient(url, password_login(), transport=transport, timeout=TIMEOUT, retry=policy(waits)) as client:
        with pytest.raises(ParagonTransportError) as caught:
            client.list_integrations(PROJECT)
    err = caught.value
    assert not isinstance(err, ParagonTimeout), "a refused connection is not a timeout"
    assert f"cannot reach {url}" in str(err) and "PARAGON_BASE_URL" in str(err)
    assert "POST /auth/login/email" in str(err), "the first call (the lazy login) is the one that failed"
    assert transport.calls == 4 and waits == replay_backoff(3)


# --- integrations list shapes --------------------------------------------------------------------------


def test_bare_2024_list_shape(waits: list[float]) -> None:
    with FakeParagon(list_shape="bare", page_size=1) as fake:
        fake.add_user(EMAIL, PASSWORD)
        ids = [fake.add_integration(PROJECT, kind) for kind in ("powerbi", "outlook", "excel")]
        with ParagonClient(fake.url, password_login(), timeout=TIMEOUT, retry=policy(waits)) as client:
            integrations = client.list_integrations(PROJECT)
            assert client.find_integration(PROJECT, "excel").id == ids[2]
        assert [i.id for i in integrations] == ids and integrations[0].project_id == PROJECT
        assert fake.count("GET", LIST) == 1, "one array, no cursor to follow; the second lookup is cached"


def test_paged_2025_list_shape_follows_the_cursor(waits: list[float]) -> None:
    # The client asks for size=100 (DEFAULT_PAGE_SIZE), which overrides the fake's own page_size, so 205
    # integrations make three pages: 100 + 100 + 5.
    with FakeParagon(list_shape="paged", page_size=2) as fake:
        fake.add_user(EMAIL, PASSWORD)
        ids = [fake.add_integration(PROJECT, f"kind{n}") for n in range(205)]
        with ParagonClient(fake.url, password_login(), timeout=TIMEOUT, retry=policy(waits)) as client:
            integrations = client.list_integrations(PROJECT)
            assert client.list_integrations(PROJECT) == integrations, "cached"
            client.list_integrations(PROJECT, refresh=True)
        assert [i.id for i in integrations] == ids
        assert fake.count("GET", LIST) == 6, "3 pages, then 3 more for refresh=True"
        queries = [r.query for r in fake.requests if r.method == "GET"][:3]
        assert [q.get("size") for q in queries] == ["100", "100", "100"]
        assert "cursor" not in queries[0] and queries[1]["cursor"] and queries[2]["cursor"] != queries[1]["cursor"]


def test_paged_list_with_a_cursor_that_never_ends_is_an_error(
    waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    import provisioner.paragon.client as client_module

    monkeypatch.setattr(client_module, "MAX_PAGES", 3)
    pages = itertools.count(1)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/login/email":
            return httpx.Response(201, json={"accessToken": "t"})
        page = json.dumps({"items": [], "nextPageCursor": f"cursor-{next(pages)}"})  # advances, never ends
        return httpx.Response(200, text=page, headers={"Content-Type": "application/json"})

    transport = httpx.MockTransport(handler)
    with ParagonClient("http://127.0.0.1:9", password_login(), transport=transport, retry=policy(waits)) as client:
        with pytest.raises(ParagonResponseError, match="more than 3 pages"):
            client.list_integrations(PROJECT)


# --- narrow cases on httpx.MockTransport ---------------------------------------------------------------


def token_login() -> ParagonLogin:
    return ParagonLogin(access_token=SecretStr("mock-token"))


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_every_retryable_status_is_retried_once_then_succeeds(status: int, waits: list[float]) -> None:
    statuses = [status, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(statuses.pop(0), json=[])

    with ParagonClient(
        "http://127.0.0.1:9", token_login(), transport=httpx.MockTransport(handler), retry=policy(waits)
    ) as c:
        assert c.list_integrations(PROJECT) == []
    assert statuses == [] and len(waits) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, ParagonInvalidRequest), (403, ParagonAuthError), (404, ParagonNotFound), (422, ParagonInvalidRequest)],
)
def test_input_errors_are_never_retried(status: int, error: type[ParagonAPIError], waits: list[float]) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(status, json={"message": f"nope {status}"})

    with ParagonClient(
        "http://127.0.0.1:9", token_login(), transport=httpx.MockTransport(handler), retry=policy(waits)
    ) as c:
        with pytest.raises(error, match=f"answered {status}: nope {status}"):
            c.list_integrations(PROJECT)
    assert calls == [f"/projects/{PROJECT}/integrations"] and waits == []


def test_total_time_budget_stops_retries_before_the_deadline(waits: list[float]) -> None:
    now = [0.0]
    sleeps_at: list[tuple[float, float]] = []

    def sleep(seconds: float) -> None:
        sleeps_at.append((now[0], seconds))
        now[0] += seconds

    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        now[0] += 1.5  # each answer takes 1.5 s of (fake) time
        return httpx.Response(503, json={"message": "busy"})

    retry = RetryPolicy(
        max_attempts=50,
        total_seconds=20.0,
        base_delay=2.0,
        max_delay=8.0,
        sleep=sleep,
        clock=lambda: now[0],
        rng=random.Random(0),
    )
    with ParagonClient("http://127.0.0.1:9", token_login(), transport=httpx.MockTransport(handler), retry=retry) as c:
        with pytest.raises(ParagonServerError) as caught:
            c.list_integrations(PROJECT)

    assert f"gave up after {calls} attempt(s)" in str(caught.value)
    assert 2 <= calls < 50, "the budget, not max_attempts, ended the retries"
    assert calls == len(sleeps_at) + 1
    assert all(start + seconds <= 20.0 for start, seconds in sleeps_at), "no wait may end past the budget"
    expected = replay_backoff(calls, base=2.0, cap=8.0)
    assert [s for _, s in sleeps_at] == expected[:-1]
    assert now[0] + expected[-1] > 20.0, "the wait that was not started would have overrun the budget"


def test_retry_after_longer_than_the_budget_gives_up_at_once(fake: FakeParagon, waits: list[float]) -> None:
    fake.add_integration(PROJECT, "powerbi", integration_id="int-1")
    fake.script("PUT", PUT, Fault(429, headers={"Retry-After": "600"}))
    with ParagonClient(fake.url, password_login(), timeout=TIMEOUT, retry=policy(waits, total_seconds=60.0)) as client:
        with pytest.raises(ParagonRateLimited, match="answered 429: Too Many Requests.*after 1 attempt"):
            upsert(client, Integration(id="int-1", type="powerbi"))
    assert fake.count("PUT", PUT) == 1 and waits == []


def test_injected_http_client_is_used_and_left_open(fake: FakeParagon, waits: list[float]) -> None:
    fake.accept_token("tok")
    with httpx.Client(base_url=fake.url, timeout=TIMEOUT) as http:
        with ParagonClient(fake.url, ParagonLogin(access_token=SecretStr("tok")), http=http, retry=policy(waits)):
            pass
        assert not http.is_closed, "the caller owns an injected client"
        with ParagonClient(fake.url, ParagonLogin(access_token=SecretStr("tok")), http=http) as client:
            assert client.list_integrations(PROJECT) == []
    assert (fake.count("POST", LOGIN), fake.count("GET", LIST)) == (0, 1)


# --- hostile bodies: JSON nested too deep; echoed secret fragments -------------------------------------

DEEP_JSON = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("method", "pattern", "status", "error", "expected"),
    [
        ("GET", LIST, 200, ParagonResponseError, r"^GET /projects/proj-1/integrations: the JSON body is nested more"),
        ("PUT", PUT, 200, ParagonResponseError, r"^PUT /projects/proj-1/credentials/oauth: the JSON body is nested"),
        ("POST", LOGIN, 201, ParagonResponseError, r"^POST /auth/login/email: the JSON body is nested more than 100"),
        ("PUT", PUT, 400, ParagonInvalidRequest, r"answered 400: non-JSON body \(application/json, 200000 bytes\)"),
    ],
    ids=["list", "put", "login", "error-body"],
)
def test_deeply_nested_json_is_a_response_error_naming_the_endpoint(
    fake: FakeParagon,
    client: ParagonClient,
    method: str,
    pattern: str,
    status: int,
    error: type[Exception],
    expected: str,
) -> None:
    fake.add_integration(PROJECT, "powerbi", integration_id="int-1")
    fake.script(method, pattern, Fault(status, body=DEEP_JSON))

    with pytest.raises(error, match=expected) as caught:
        if method == "PUT":
            upsert(client, Integration(id="int-1", type="powerbi"))
        else:
            client.list_integrations(PROJECT)

    assert "\n" not in str(caught.value) and "Recursion" not in str(caught.value)


CANARY_SECRET = 'CANARY"q/+=&~0123456789abcdefXYZ-secret'


@pytest.mark.parametrize(
    "echo",
    [
        CANARY_SECRET,
        CANARY_SECRET[:12],
        CANARY_SECRET[:8],
        CANARY_SECRET[-9:],
        urllib.parse.quote(CANARY_SECRET, safe=""),
        urllib.parse.quote_plus(CANARY_SECRET),
        urllib.parse.quote(CANARY_SECRET[:14], safe=""),
        json.dumps(CANARY_SECRET)[1:-1],
        PASSWORD,
    ],
    ids=["whole", "prefix-12", "prefix-8", "tail-9", "percent", "plus", "percent-prefix", "json-escaped", "password"],
)
def test_error_messages_never_carry_a_secret_fragment(fake: FakeParagon, client: ParagonClient, echo: str) -> None:
    fake.add_integration(PROJECT, "powerbi")
    integration = client.find_integration(PROJECT, "powerbi")
    body = {"message": f"invalid clientSecret {echo} (rejected)", "meta": {"errors": [{"error": f"value={echo}"}]}}
    fake.script("PUT", PUT, Fault(400, body=json.dumps(body)))

    with pytest.raises(ParagonInvalidRequest) as caught:
        upsert(client, integration, secret=CANARY_SECRET)

    text = str(caught.value)
    assert echo not in text and "CANARY" not in text and PASSWORD not in text
    assert "invalid clientSecret [redacted] (rejected); value=[redacted]" in text


def test_short_fragments_and_unrelated_text_stay() -> None:
    assert scrub_secrets('code 1234567 and CANARY" end', [CANARY_SECRET]) == 'code 1234567 and CANARY" end'
    assert scrub_secrets("pw=abc!", ["abc"]) == "pw=[redacted]!"


@pytest.mark.parametrize(
    ("login", "faults", "hint"),
    [
        ("password", [Fault(401), Fault(401)], "token was rejected twice (also right after a fresh login"),
        ("token", [Fault(401)], "The access token was rejected (expired?)"),
        ("password", [Fault(403)], "The login has no access to this project"),
    ],
    ids=["password-401-twice", "token-401", "password-403"],
)
def test_auth_hints_say_what_was_refused(
    fake: FakeParagon, waits: list[float], login: str, faults: list[Fault], hint: str
) -> None:
    fake.add_integration(PROJECT, "powerbi", integration_id="int-1")
    fake.accept_token("pre-issued-token")
    how = password_login() if login == "password" else ParagonLogin(access_token=SecretStr("pre-issued-token"))
    fake.script("PUT", PUT, *faults)
    with ParagonClient(fake.url, how, timeout=TIMEOUT, retry=policy(waits)) as client:
        with pytest.raises(ParagonAuthError) as caught:
            upsert(client, Integration(id="int-1", type="powerbi"))
    assert hint in str(caught.value)
    assert "no access" not in str(caught.value) or "403" in str(caught.value)
