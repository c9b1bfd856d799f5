"""`provisioner.entra.secret_check` against the fake token endpoint (MSAL over https), and its retry rules."""

from __future__ import annotations

from collections.abc import Iterator

import msal
import pytest
from entra_fake import GRAPH_DEFAULT_SCOPE, FakeEntra, Scripted
from pydantic import SecretStr

from provisioner.entra.secret_check import (
    DEFAULT_AUTHORITY_HOST,
    TokenAnswer,
    authority_host,
    verify_client_secret,
)
from provisioner.errors import EntraTLSError, EntraUnavailable, InvalidEnvironmentValue, SecretRefused

TENANT = "11111111-1111-4111-8111-111111111111"
CLIENT = "22222222-2222-4222-8222-222222222222"
CANARY = "canary~SECRET.value_0123456789abcdef"


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEntra]:
    with FakeEntra() as fake:
        fake.trust(monkeypatch)
        monkeypatch.setenv("AZURE_AUTHORITY_HOST", fake.url)
        fake.add_app(TENANT, CLIENT)
        yield fake


def verify(window: float = 1.0, *, fresh: bool = True, secret: str = CANARY, client: str = CLIENT) -> int:
    return verify_client_secret(
        TENANT, client, SecretStr(secret), window_seconds=window, fresh=fresh, what="powerbi: verify"
    ).attempts


def test_msal_answers_a_repeated_http_400_from_its_cache_so_each_attempt_needs_a_new_application(
    entra: FakeEntra,
) -> None:
    """Why `request_token` builds one application object per attempt (msal/throttled_http_client.py)."""
    unknown = "33333333-3333-4333-8333-333333333333"  # AADSTS700016 is an HTTP 400
    app = msal.ConfidentialClientApplication(
        unknown, client_credential=CANARY, authority=f"{entra.url}/{TENANT}", instance_discovery=False
    )
    first, second = (app.acquire_token_for_client(scopes=[GRAPH_DEFAULT_SCOPE]) for _ in range(2))
    assert 700016 in first["error_codes"] and 700016 in second["error_codes"]
    assert len(entra.token_requests(unknown)) == 1, "the second answer came from MSAL's cache"

    with pytest.raises(SecretRefused, match="AADSTS700016"):
        verify(0.6, client=unknown)
    assert len(entra.token_requests(unknown)) >= 3, "every verification attempt reached the endpoint"


def test_a_fresh_secret_is_retried_until_it_replicates(entra: FakeEntra) -> None:
    entra.add_secret(TENANT, CLIENT, CANARY, fails_before_usable=3)
    assert verify(5.0) == 4
    assert [r.error_code for r in entra.token_requests()] == [7000215, 7000215, 7000215, None]


def test_an_old_secret_that_is_refused_is_not_retried(entra: FakeEntra) -> None:
    entra.add_secret(TENANT, CLIENT, CANARY, expired=True)
    with pytest.raises(SecretRefused) as caught:
        verify(5.0, fresh=False)
    assert caught.value.code == 7000222 and caught.value.attempts == 1 and len(entra.token_requests()) == 1
    assert "the secret Paragon holds has expired: run pulumi up now" in str(caught.value)


@pytest.mark.parametrize(
    ("code", "fresh", "retried"),
    [
        (7000215, True, True),
        (7000222, True, True),
        (700016, True, True),
        (7000229, True, True),
        (7000215, False, False),
        (7000229, False, False),
        (7000112, True, False),
        (900144, True, False),
        (90002, True, False),
        (50126, True, False),
    ],
)
def test_which_codes_are_retried(code: int, fresh: bool, retried: bool) -> None:
    """The whole table, with an injected endpoint, clock and sleep: no waiting, no network."""
    now = [0.0]
    calls: list[float] = []

    def refuse(tenant: str, client_id: str, secret: SecretStr, *, authority: str, timeout: float) -> TokenAnswer:
        calls.append(timeout)
        return TokenAnswer(False, code=code, error="invalid_client")

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(SecretRefused) as caught:
        verify_client_secret(
            TENANT, CLIENT, SecretStr(CANARY), window_seconds=120, fresh=fresh, what="x", env={},
            request=refuse, sleep=sleep, clock=lambda: now[0],
        )  # fmt: skip
    assert (len(calls) > 1) is retried and caught.value.code == code
    assert now[0] <= 120 and all(0 < t <= 10 for t in calls), "waits and request timeouts stay in the window"
    assert CANARY not in str(caught.value) and f"AADSTS{code}" in str(caught.value)


def test_no_answer_is_retried_then_reported_as_unavailable() -> None:
    now = [0.0]

    def silent(tenant: str, client_id: str, secret: SecretStr, *, authority: str, timeout: float) -> TokenAnswer:
        now[0] += timeout
        return TokenAnswer(False, error="ConnectTimeout", transient=True)

    with pytest.raises(EntraUnavailable, match="no usable answer from Entra"):
        verify_client_secret(
            TENANT, CLIENT, SecretStr(CANARY), window_seconds=30, fresh=False, what="x", env={},
            request=silent, sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0],
        )  # fmt: skip
    assert now[0] <= 30 + 10


def test_an_untrusted_certificate_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeEntra() as fake:  # not trusted: REQUESTS_CA_BUNDLE left as the machine has it
        monkeypatch.setenv("AZURE_AUTHORITY_HOST", fake.url)
        fake.add_app(TENANT, CLIENT)
        with pytest.raises(EntraTLSError, match="TLS certificate not trusted"):
            verify(5.0)
        assert fake.token_requests() == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, DEFAULT_AUTHORITY_HOST),
        ("", DEFAULT_AUTHORITY_HOST),
        ("login.microsoftonline.us", "https://login.microsoftonline.us"),
        ("https://login.chinacloudapi.cn/", "https://login.chinacloudapi.cn"),
        ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
    ],
)
def test_authority_host_from_the_environment(value: str | None, expected: str) -> None:
    env = {} if value is None else {"AZURE_AUTHORITY_HOST": value}
    assert authority_host(env) == expected


@pytest.mark.parametrize(
    "value", ["http://login.example.com", "https://login.microsoftonline.com/tenant", "https://u:p@host", "ftp://x"]
)
def test_a_bad_authority_host_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(InvalidEnvironmentValue, match="AZURE_AUTHORITY_HOST=.* is not an authority host. Fix: "):
        authority_host({"AZURE_AUTHORITY_HOST": value})


# --- Every way MSAL can fail without an AADSTS answer: "no answer yet", retried inside the window -------------

ECHO = {"error": "server_error", "error_description": f"AADSTS90033: transient {CANARY}", "error_codes": [90033]}
HEALING = [
    ("503 twice", [Scripted(503), Scripted(503)], "token", 3),
    ("500 echoing the secret", [Scripted(500, ECHO)], "token", 2),
    ("429 with Retry-After", [Scripted.throttled("7")], "token", 2),
    ("429 without Retry-After", [Scripted.throttled(None)], "token", 2),
    ("a gateway's page", [Scripted.garbage(200)], "token", 2),
    ("a 502 page", [Scripted.garbage(502)], "token", 2),
    ("JSON without a token", [Scripted(200, {"unexpected": True})], "token", 2),
    ("a dropped connection", [Scripted(drop=True)], "token", 2),
    ("a timeout", [Scripted(delay=0.6)], "token", 2),
    ("metadata 503", [Scripted(503)], "metadata", 2),
    ("metadata not JSON", [Scripted.garbage(200)], "metadata", 2),
    ("metadata dropped", [Scripted(drop=True)], "metadata", 2),
]


class FakeTime:
    """A monotonic clock that moves only when the code under test sleeps (no real waiting)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def verify(self, window: float, *, fresh: bool) -> int:
        return verify_client_secret(
            TENANT, CLIENT, SecretStr(CANARY), window_seconds=window, fresh=fresh, what="powerbi: verify",
            sleep=self.sleep, clock=lambda: self.now,
        ).attempts  # fmt: skip


@pytest.mark.parametrize("fresh", [True, False])
@pytest.mark.parametrize(("name", "answers", "endpoint", "attempts"), HEALING, ids=[row[0] for row in HEALING])
def test_no_answer_yet_is_retried_until_entra_answers(
    entra: FakeEntra, name: str, answers: list[Scripted], endpoint: str, attempts: int, fresh: bool
) -> None:
    """Real MSAL against the fake; the clock is injected (a timeout row needs a short window: 0.6 s / 3)."""
    entra.add_secret(TENANT, CLIENT, CANARY)
    entra.script(*answers, endpoint=endpoint)
    fake = FakeTime()

    assert fake.verify(0.6 if name == "a timeout" else 120.0, fresh=fresh) == attempts
    assert entra.token_requests()[-1].status == 200
    if name == "429 with Retry-After":
        assert fake.sleeps and min(fake.sleeps) >= 7, "Entra's Retry-After is honoured"
    assert fake.now <= 120


UNHEALING = [
    ("always 503", [Scripted(503)] * 400, "HTTP 503 temporarily_unavailable AADSTS90033", True, "fault on its side"),
    ("always 500 echoing", [Scripted(500, ECHO)] * 400, "HTTP 500 server_error AADSTS90033", True, "fault on its"),
    ("Retry-After past the window", [Scripted.throttled("500")], "asked to wait 500 s", False, "throttling"),
    ("always a gateway page", [Scripted.garbage(200)] * 400, "not JSON (text/html", True, "other than Entra"),
    ("a proxy's 403 page", [Scripted.garbage(403)], "HTTP 403 a body that is not JSON", False, "proxy"),
    ("always dropped", [Scripted(drop=True)] * 400, "ConnectionError", True, "network path"),
]


@pytest.mark.parametrize(("name", "answers", "said", "retried", "fix"), UNHEALING, ids=[r[0] for r in UNHEALING])
def test_no_answer_in_the_window_is_one_entra_unavailable_line(
    entra: FakeEntra, name: str, answers: list[Scripted], said: str, retried: bool, fix: str
) -> None:
    entra.add_secret(TENANT, CLIENT, CANARY)
    entra.script(*answers)
    fake = FakeTime()

    with pytest.raises(EntraUnavailable) as caught:
        fake.verify(30.0, fresh=True)

    line = str(caught.value)
    assert line.startswith("powerbi: verify: no usable answer from Entra") and "\n" not in line
    assert said in line and fix in line.split(". Fix: ", 1)[1] and not isinstance(caught.value, SecretRefused)
    assert (len(entra.token_requests()) > 1) is retried and fake.now <= 30
    assert CANARY not in line and "transient" not in line, "never the secret nor Entra's free text"
