"""The Paragon client's transport: TLS trust, the per-call deadline, repeating cursors, the process-wide client.

TLS runs against the real fake on ``https://127.0.0.1`` with a certificate from a throwaway CA (``trustme``).
Deadlines use budgets under a second against a fake that answers late, trickles bytes or never answers;
the only timing in these tests is a generous hang guard (the call must end at all), never a speed claim.
"""

from __future__ import annotations

import base64
import json
import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from conftest import VALID_CONFIG
from paragon_fake import LIST, PUT, FakeParagon, Fault  # tests/ has no __init__.py: pytest puts it on sys.path
from pulumi.dynamic.dynamic import serialize_provider
from pydantic import SecretStr

import provisioner.paragon.resource as resource
from provisioner.config import load_config
from provisioner.errors import (
    ConfigError,
    ParagonResponseError,
    ParagonTimeout,
    ParagonTLSError,
    ParagonTransportError,
)
from provisioner.paragon.client import ParagonClient, RetryPolicy, SessionCache
from provisioner.paragon.login import ENV_BASE_URL, ENV_EMAIL, ENV_PASSWORD, ParagonLogin
from provisioner.paragon.resource import ParagonCredentialProvider
from provisioner.transport.connections import HttpClientPool, certificate_failure, proxy_for

EMAIL, PASSWORD = "admin@example.com", "pw-for-tests"
PROJECT = "38b1f170-0c43-4eae-9a04-ab85325d99f7"
PATCH = r"/projects/[^/]+/integrations/[^/]+"
HANG_GUARD = 20.0
"""Seconds after which a call that should have ended is reported as hanging (not a speed target)."""


def login() -> ParagonLogin:
    return ParagonLogin(email=EMAIL, password=SecretStr(PASSWORD))


def policy(waits: list[float], total_seconds: float, max_attempts: int = 6) -> RetryPolicy:
    """Real clock (the deadline is real time), recorded waits (no sleeping), deterministic jitter."""
    return RetryPolicy(max_attempts=max_attempts, total_seconds=total_seconds, sleep=waits.append, rng=random.Random(0))


def timed(call: Callable[[], Any]) -> tuple[BaseException | None, float]:
    """Run ``call``; return the exception it raised (or None) and the wall seconds it took."""
    started = time.monotonic()
    try:
        call()
    except Exception as err:  # noqa: BLE001 - the tests inspect it
        return err, time.monotonic() - started
    return None, time.monotonic() - started


def populate(fake: FakeParagon, kinds: tuple[str, ...] = ("powerbi",)) -> list[str]:
    fake.add_user(EMAIL, PASSWORD)
    fake.add_project(PROJECT)
    return [fake.add_integration(PROJECT, kind) for kind in kinds]


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def fake() -> Iterator[FakeParagon]:
    with FakeParagon() as server:
        populate(server)
        yield server
    assert server.server_errors == [], "the fake itself failed while handling a request"


@pytest.fixture
def clean_trust(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CA variables from the machine: the default trust store is certifi's."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def tls_fake(ca: trustme.CA) -> Iterator[FakeParagon]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FakeParagon(tls=context) as server:
        populate(server)
        yield server
    assert server.server_errors == []


@pytest.fixture
def provider_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpClientPool]:
    """A fresh provider process: empty session cache, empty HTTP client pool, login in the environment."""
    pool = HttpClientPool()
    monkeypatch.setattr(resource, "PROCESS_SESSIONS", SessionCache())
    monkeypatch.setattr(resource, "PROCESS_HTTP", pool)
    monkeypatch.delenv(ENV_BASE_URL, raising=False)
    monkeypatch.setenv(ENV_EMAIL, EMAIL)
    monkeypatch.setenv(ENV_PASSWORD, PASSWORD)
    yield pool
    pool.close()


def inputs(base_url: str, **overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "projectId": PROJECT,
        "integrationKey": "powerbi",
        "baseUrl": base_url,
        "credentialName": "Power BI (dev)",
        "clientId": "11111111-2222-3333-4444-555555555555",
        "clientSecret": "client-secret-canary-4711",
        "scopes": "Dataset.Read.All offline_access",
        "activate": False,
        "deleteOnDestroy": False,
        "retryTimeoutSeconds": 5.0,
    }
    props.update(overrides)
    return props


# --- TLS ---------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("clean_trust")
def test_an_untrusted_certificate_fails_once_with_the_fix(tls_fake: FakeParagon, waits: list[float]) -> None:
    with ParagonClient(tls_fake.url, login(), retry=policy(waits, 30.0)) as client:
        with pytest.raises(ParagonTLSError) as caught:
            client.list_integrations(PROJECT)
    message = str(caught.value)
    assert message.startswith(
        "Paragon POST /auth/login/email: the TLS certificate of 127.0.0.1 could not be verified "
        "(unable to get local issuer certificate); not retried. Fix: if Paragon uses a private CA, set "
        "paragon.ca_bundle to a PEM file with that CA's certificate, or set SSL_CERT_FILE"
    ), message
    assert waits == [], "a certificate failure is not retried"
    assert tls_fake.connections == 1, "exactly one connection was attempted"
    tls_fake.stop()  # joins the handler threads, so the server side of the handshake is counted
    assert tls_fake.tls_refusals == 1 and tls_fake.requests == [], "the handshake failed; no request got through"


@pytest.mark.usefixtures("clean_trust")
def test_ca_bundle_makes_the_private_ca_trusted(tls_fake: FakeParagon, ca_file: Path, waits: list[float]) -> None:
    with ParagonClient(tls_fake.url, login(), retry=policy(waits, 30.0), ca_bundle=str(ca_file)) as client:
        assert [i.type for i in client.list_integrations(PROJECT)] == ["powerbi"]
    assert tls_fake.tls_refusals == 0 and tls_fake.count("GET", LIST) == 1


@pytest.mark.usefixtures("clean_trust")
def test_ssl_cert_file_is_honoured_by_httpx(
    tls_fake: FakeParagon, ca_file: Path, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # httpx 0.28: ssl.create_default_context(cafile=...)
    with ParagonClient(tls_fake.url, login(), retry=policy(waits, 30.0)) as client:
        assert [i.type for i in client.list_integrations(PROJECT)] == ["powerbi"]


@pytest.mark.usefixtures("clean_trust")
def test_a_certificate_for_another_host_is_refused_naming_the_host(ca: trustme.CA, waits: list[float]) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("zeus.example.com").configure_cert(context)
    pem = trustme.Blob(ca.cert_pem.bytes())
    with FakeParagon(tls=context) as server:
        populate(server)
        with pem.tempfile() as path:
            with ParagonClient(server.url, login(), retry=policy(waits, 30.0), ca_bundle=path) as client:
                with pytest.raises(ParagonTLSError, match=r"certificate of 127\.0\.0\.1 could not be verified \(.*"):
                    client.list_integrations(PROJECT)
    assert waits == [] and server.connections == 1 and server.tls_refusals == 1


def test_a_ca_bundle_that_cannot_be_loaded_is_a_config_error(tmp_path: Path) -> None:
    junk = tmp_path / "not-a-ca.pem"
    junk.write_text("not a certificate\n", encoding="utf-8")
    for path in (junk, tmp_path / "missing.pem"):
        with pytest.raises(ConfigError, match=r"^paragon\.ca_bundle: cannot load .* as PEM CA certificates"):
            ParagonClient("https://zeus.example.com", login(), ca_bundle=str(path))


def test_certificate_failure_follows_the_exception_chain() -> None:
    root = ssl.SSLCertVerificationError(1, "certificate verify failed")
    try:
        try:
            raise root
        except ssl.SSLError as inner:
            raise httpx.ConnectError("boom") from inner
    except httpx.ConnectError as err:
        assert certificate_failure(err) is root
    assert certificate_failure(httpx.ConnectError("refused")) is None


# --- ca_bundle in config and through the program -------------------------------------------------------------


def config_with_ca(write_config: Callable[..., Path], value: str) -> Path:
    return write_config(VALID_CONFIG.replace("paragon:\n", f"paragon:\n  ca_bundle: {value}\n"))


def test_ca_bundle_is_resolved_against_the_config_folder(
    write_config: Callable[..., Path], ca: trustme.CA, tmp_path: Path
) -> None:
    (tmp_path / "config" / "certs").mkdir(parents=True)
    ca.cert_pem.write_to_path(str(tmp_path / "config" / "certs" / "ca.pem"))
    config = load_config(config_with_ca(write_config, "certs/ca.pem"))
    assert config.paragon.ca_bundle == str((tmp_path / "config" / "certs" / "ca.pem").resolve())
    assert load_config(write_config(VALID_CONFIG)).paragon.ca_bundle is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, r"does not exist or is not a file \(looked for .*ca\.pem\), got ca\.pem\. Fix: give the path of a PEM"),
        ("hello\n", r"holds no usable PEM certificate .*, got ca\.pem\. Fix: export the CA certificate as PEM"),
    ],
    ids=["missing", "not-pem"],
)
def test_a_bad_ca_bundle_is_one_line_with_file_line_key_and_fix(
    write_config: Callable[..., Path], tmp_path: Path, content: str | None, expected: str
) -> None:
    if content is not None:
        (tmp_path / "config").mkdir(exist_ok=True)
        (tmp_path / "config" / "ca.pem").write_text(content, encoding="utf-8")
    path = config_with_ca(write_config, "ca.pem")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(f"{path}:2: paragon.ca_bundle: ")
    assert re.search(expected, caught.value.problems[0]), caught.value.problems[0]


def test_the_program_passes_ca_bundle_to_the_resource(
    project_dir: Path, write_config: Callable[..., Path], ca_file: Path
) -> None:
    from provisioner.cli.plan import run_plan
    from provisioner.program.rotation import parse_rfc3339

    plan = run_plan(
        project_dir, "dev", parse_rfc3339("2026-11-29"), config_file=config_with_ca(write_config, str(ca_file))
    )
    push = next(r for r in plan.resources if r.type.endswith("paragon:OAuthCredential"))
    assert push.inputs["caBundle"] == str(ca_file.resolve())


def test_a_ca_bundle_inside_the_project_is_a_relative_input(
    project_dir: Path, tmp_path: Path, ca: trustme.CA, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two checkouts of one config (a pull request's base and head) give the same `caBundle` input."""
    from provisioner.cli.plan import run_plan
    from provisioner.program.rotation import parse_rfc3339

    inputs_seen = []
    for side in ("base", "head"):
        checkout = tmp_path / side
        (checkout / "config" / "certs").mkdir(parents=True)
        ca.cert_pem.write_to_path(str(checkout / "config" / "certs" / "ca.pem"))
        config = checkout / "config" / "dev.yaml"
        config.write_text(VALID_CONFIG.replace("paragon:\n", "paragon:\n  ca_bundle: certs/ca.pem\n"), "utf-8")
        monkeypatch.chdir(checkout)
        plan = run_plan(project_dir, "dev", parse_rfc3339("2026-11-29"), config_file=config)
        push = next(r for r in plan.resources if r.type.endswith("paragon:OAuthCredential"))
        inputs_seen.append(push.inputs["caBundle"])
    assert inputs_seen == ["config/certs/ca.pem", "config/certs/ca.pem"]


@pytest.mark.usefixtures("clean_trust")
def test_the_provider_trusts_the_ca_bundle_input(
    tls_fake: FakeParagon, ca_file: Path, provider_process: HttpClientPool
) -> None:
    result = ParagonCredentialProvider().create(inputs(tls_fake.url, caBundle=str(ca_file)))
    assert result.outs is not None and result.outs["caBundle"] == str(ca_file)
    assert tls_fake.count("PUT", PUT) == 1


def test_changing_only_the_ca_bundle_calls_nothing(provider_process: HttpClientPool) -> None:
    olds = inputs("https://zeus.example.com", caBundle=None)
    olds.pop("clientSecret")
    olds.update(credentialId="c", integrationId="i", secretFingerprint=resource.secret_fingerprint("s"))
    news = inputs("https://zeus.example.com", caBundle="/etc/ssl/paragon-ca.pem", clientSecret="s")
    provider = ParagonCredentialProvider()
    assert provider.diff("c", olds, news).changes is True
    outs = provider.update("c", olds, news).outs
    assert outs is not None and outs["caBundle"] == "/etc/ssl/paragon-ca.pem" and outs["credentialId"] == "c"
    assert len(provider_process) == 0, "no client was even built"


# --- the deadline ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault(200, delay=3.0),  # answers, but late
        Fault(200, trickle=0.05),  # alive, a byte every 50 ms: no single read ever times out
        Fault(200, delay=3600.0),  # never answers
    ],
    ids=["slow", "trickle", "hang"],
)
def test_a_slow_server_ends_the_call_within_its_budget(fake: FakeParagon, waits: list[float], fault: Fault) -> None:
    fake.script("GET", LIST, fault, fault, fault)
    with ParagonClient(fake.url, login(), retry=policy(waits, total_seconds=0.6)) as client:
        error, elapsed = timed(lambda: client.list_integrations(PROJECT))
    assert isinstance(error, ParagonTimeout), error
    assert str(error) == (
        f"Paragon GET /projects/{PROJECT}/integrations did not finish within 0.6 s (paragon.retry_timeout_seconds). "
        f"Fix: check that {fake.url} is reachable and healthy, or raise paragon.retry_timeout_seconds"
    )
    assert elapsed < HANG_GUARD, "hang guard"
    assert fake.count("GET", LIST) == 1, "the first attempt used the whole budget: no second one"


def test_a_trickled_answer_that_fits_the_budget_is_accepted(fake: FakeParagon, waits: list[float]) -> None:
    fake.script("GET", LIST, Fault(200, trickle=0.0005))
    with ParagonClient(fake.url, login(), retry=policy(waits, total_seconds=30.0)) as client:
        assert [i.type for i in client.list_integrations(PROJECT)] == ["powerbi"]
    assert waits == []


def test_retries_share_the_budget_of_the_call(fake: FakeParagon, waits: list[float]) -> None:
    # Each attempt times out on its own 0.3 s read timeout; retries go on until the 1 s budget is spent.
    fake.script("GET", LIST, *[Fault(200, delay=3.0)] * 6)
    with ParagonClient(fake.url, login(), timeout=httpx.Timeout(0.3), retry=policy(waits, 1.0)) as client:
        error, elapsed = timed(lambda: client.list_integrations(PROJECT))
    assert isinstance(error, ParagonTimeout), error
    assert "did not finish within 1 s (paragon.retry_timeout_seconds)" in str(error)
    assert 2 <= fake.count("GET", LIST) <= 4 and len(waits) == fake.count("GET", LIST) - 1
    assert elapsed < HANG_GUARD


def test_the_pages_of_one_list_share_one_budget(waits: list[float]) -> None:
    with FakeParagon() as fake:
        populate(fake, tuple(f"kind{i}" for i in range(101)))  # the client asks 100 a page: two pages
        fake.script("GET", LIST, Fault(200, delay=0.4), Fault(200, delay=0.4))
        with ParagonClient(fake.url, login(), retry=policy(waits, total_seconds=0.7)) as client:
            error, _ = timed(lambda: client.list_integrations(PROJECT))
        assert isinstance(error, ParagonTimeout) and "GET /projects/" in str(error)
        assert fake.count("GET", LIST) == 2, "each page alone fits the budget; both do not"


@pytest.mark.parametrize(
    "cursors",
    [("same", "same"), ("a", "b", "a")],
    ids=["does-not-advance", "cycles"],
)
def test_a_repeating_cursor_stops_the_list_at_once(
    fake: FakeParagon, waits: list[float], cursors: tuple[str, ...]
) -> None:
    pages = [Fault(200, body=json.dumps({"items": [], "nextPageCursor": c})) for c in cursors]
    fake.script("GET", LIST, *pages)
    with ParagonClient(fake.url, login(), retry=policy(waits, total_seconds=30.0)) as client:
        with pytest.raises(ParagonResponseError) as caught:
            client.list_integrations(PROJECT)
    assert str(caught.value) == (
        f"GET /projects/{PROJECT}/integrations: page {len(cursors)} returned a nextPageCursor already followed; "
        "the list does not advance, so it was stopped (a Paragon pagination fault: retry later or report it to "
        "Paragon)"
    )
    assert fake.count("GET", LIST) == len(cursors) and fake.pending_faults() == 0


# --- the URL -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("https://zeus.example.com:99999", "Port out of range 0-65535"),
        ("https://zeus.example.com:https", "Invalid port: 'https'"),
        ("https://zeus..example.com", "idna"),
    ],
    ids=["port-range", "port-name", "empty-label"],
)
def test_a_bad_paragon_base_url_is_one_line_naming_the_variable(
    provider_process: HttpClientPool, monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv(ENV_BASE_URL, value)
    with pytest.raises(ConfigError) as caught:
        ParagonCredentialProvider().create(inputs("https://zeus.useparagon.com"))
    (line,) = caught.value.problems
    assert line.startswith(f"{ENV_BASE_URL}: not a usable URL (") and problem in line
    assert line.endswith(f", got {value}. Fix: write it as https://host[:port][/path]")
    with pytest.raises(ConfigError, match=r"^Paragon base URL \(paragon\.base_url or PARAGON_BASE_URL\): "):
        ParagonClient(value, login())


def test_a_bad_configured_base_url_is_caught_at_load(write_config: Callable[..., Path]) -> None:
    path = write_config(VALID_CONFIG.replace("paragon:\n", "paragon:\n  base_url: https://zeus.example.com:99999\n"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [
        f"{path}:2: paragon.base_url: not a usable URL (Port out of range 0-65535), got "
        "https://zeus.example.com:99999. Fix: write it as https://host[:port][/path]"
    ]


# --- one HTTP client per process -------------------------------------------------------------------------


def test_provider_calls_share_one_client_and_one_connection(
    provider_process: HttpClientPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    kinds = ("powerbi", "sharepoint", "outlook", "teams", "onedrive")
    with FakeParagon() as fake:
        populate(fake, kinds)
        provider = ParagonCredentialProvider()
        for kind in kinds:
            provider.create(inputs(fake.url, integrationKey=kind))
        assert fake.count("PUT", PUT) == 5
        assert fake.connections == 1, "login, list and five PUTs on one keep-alive connection"
    assert len(provider_process) == 1


def test_concurrent_provider_calls_share_the_process_client(provider_process: HttpClientPool) -> None:
    kinds = tuple(f"kind{i}" for i in range(8))
    with FakeParagon() as fake:
        populate(fake, kinds)
        provider = ParagonCredentialProvider()
        errors: list[BaseException] = []

        def push(kind: str) -> None:
            try:
                provider.create(inputs(fake.url, integrationKey=kind))
            except Exception as err:  # noqa: BLE001 - collected for the assertion below
                errors.append(err)

        threads = [threading.Thread(target=push, args=(kind,)) for kind in kinds]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(HANG_GUARD)
        assert errors == [] and fake.count("PUT", PUT) == 8
        assert len(fake.credentials) == 8
    assert len(provider_process) == 1


@pytest.mark.usefixtures("clean_trust", "no_proxy_env")
def test_the_pool_keys_clients_by_trust_setting_and_proxy(ca_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://zeus.example.com"
    pool = HttpClientPool()
    try:
        default = pool.get(url)
        assert pool.get(url) is default and pool.get("https://other.example.com") is default
        assert pool.get(url, str(ca_file)) is not default
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        assert pool.get(url) is not default, "a changed SSL_CERT_FILE gets a client that trusts it"
        assert pool.get(url, str(ca_file)) is pool.get(url, str(ca_file)), "ca_bundle wins over SSL_CERT_FILE"
        monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
        assert pool.get(url) is not pool.get("http://localhost:8080"), "proxied and direct clients differ"
        assert len(pool) == 4  # default, ca_bundle, SSL_CERT_FILE, SSL_CERT_FILE + proxy
    finally:
        pool.close()


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HTTPS_PROXY": "http://proxy:3128"}, "http://proxy:3128"),
        ({"https_proxy": "http://low:1", "ALL_PROXY": "http://all:2"}, "http://low:1"),
        ({"ALL_PROXY": "http://all:2"}, "http://all:2"),
        ({"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "localhost,.corp.example"}, None),
        ({"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "corp.example:443"}, None),
        ({"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "*"}, None),
        ({"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "example.corp"}, "http://proxy:3128"),
        ({"HTTP_PROXY": "http://plain:80"}, None),
    ],
    ids=["https", "lower-case-first", "all", "no-proxy-domain", "no-proxy-port", "no-proxy-star", "other", "http-only"],
)
@pytest.mark.usefixtures("no_proxy_env")
def test_proxy_for_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str | None
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert proxy_for("https://zeus.corp.example/api") == expected


@pytest.mark.usefixtures("no_proxy_env")
def test_requests_go_through_the_proxy_of_the_environment(
    fake: FakeParagon, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", fake.url)  # the fake answers absolute-form requests like a forward proxy
    unreachable = "http://localhost:9"  # nothing listens there: only the proxy can answer
    with ParagonClient(unreachable, login(), retry=policy(waits, 5.0, max_attempts=1)) as client:
        assert [i.type for i in client.list_integrations(PROJECT)] == ["powerbi"]
    assert fake.count("GET", LIST) == 1 and fake.requests[-1].headers["host"] == "localhost:9"

    monkeypatch.setenv("NO_PROXY", "localhost")
    with ParagonClient(unreachable, login(), retry=policy(waits, 5.0, max_attempts=1)) as client:
        with pytest.raises(ParagonTransportError, match=r"cannot reach http://localhost:9"):
            client.list_integrations(PROJECT)
    assert fake.count("GET", LIST) == 1, "NO_PROXY sent it direct"


@pytest.mark.usefixtures("no_proxy_env")
def test_a_socks_proxy_is_one_config_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "socks5://proxy.example.com:1080")
    with pytest.raises(ConfigError) as caught:
        ParagonClient("https://zeus.example.com", login())
    assert caught.value.problems == [
        "HTTPS_PROXY / HTTP_PROXY / ALL_PROXY: a socks5:// proxy is not supported. Fix: use an http:// or https:// "
        "proxy"
    ]


def test_the_provider_pickles_without_any_client_after_calls(
    fake: FakeParagon, provider_process: HttpClientPool
) -> None:
    provider = ParagonCredentialProvider()
    provider.create(inputs(fake.url))
    assert len(provider_process) == 1
    raw = base64.b64decode(serialize_provider(provider))  # what Pulumi writes into state
    assert vars(provider) == {}, "nothing is kept on the provider object"
    for marker in (b"httpx", b"SSLContext", b"HttpClientPool", b"client-secret-canary-4711"):
        assert marker not in raw


def test_only_activate_changed_means_one_patch_and_no_put(fake: FakeParagon, provider_process: HttpClientPool) -> None:
    provider = ParagonCredentialProvider()
    created = provider.create(inputs(fake.url))
    assert created.outs is not None
    olds = dict(created.outs)
    fake.reset_log()

    result = provider.update(created.id, olds, inputs(fake.url, activate=True))

    assert fake.count("PUT", PUT) == 0 and fake.count("PATCH", PATCH) == 1
    assert result.outs is not None and result.outs["activate"] is True
    assert result.outs["credentialId"] == olds["credentialId"]
    integration = fake.integration(PROJECT, olds["integrationId"])
    assert integration is not None and integration["isActive"] is True

    fake.reset_log()
    provider.update(created.id, dict(result.outs), inputs(fake.url, activate=False))
    assert fake.requests == [], "turning activate off records it; the provisioner never deactivates"


@pytest.mark.parametrize(
    ("proxy", "expected"),
    [
        ("http://user:proxy-password-canary@proxy:abc", "the proxy URL is not usable (Invalid port: 'abc')"),
        ("proxy-password-canary@proxy:3128", "the proxy URL has no http:// or https:// scheme"),
    ],
    ids=["bad-port", "no-scheme"],
)
@pytest.mark.usefixtures("no_proxy_env")
def test_a_bad_proxy_url_is_one_line_without_its_password(
    monkeypatch: pytest.MonkeyPatch, proxy: str, expected: str
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    with pytest.raises(ConfigError) as caught:
        ParagonClient("https://zeus.example.com", login())
    (line,) = caught.value.problems
    assert line == f"HTTPS_PROXY / HTTP_PROXY / ALL_PROXY: {expected}. Fix: write http://host:port"
    assert "canary" not in line


def test_a_base_url_with_a_password_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        ParagonClient("https://user:base-password-canary@zeus.example.com:99999", login())
    assert "canary" not in str(caught.value) and "must not contain a user name or password" in str(caught.value)
