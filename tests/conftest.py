"""Shared fixtures: the project root and a writer for config files in a temporary folder."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests are deterministic in CI and locally: same examples every run, no wall-clock deadline.
# (Importing hypothesis here, at collection, also keeps its pytest plugin from importing it at session end,
# where CPython 3.11.7's compiler can fail with "AST constructor recursion depth mismatch".)
settings.register_profile("deterministic", derandomize=True, deadline=None, database=None)
settings.load_profile("deterministic")

PROJECT_DIR = Path(__file__).resolve().parent.parent

VALID_CONFIG = """\
paragon:
  project_id: 38b1f170-0c43-4eae-9a04-ab85325d99f7
integrations:
  powerbi:
    scopes: [Dataset.Read.All, Report.Read.All]
"""


@pytest.fixture(autouse=True)
def _no_remembered_secrets() -> Iterator[None]:
    """Each test starts like a fresh process: no secret remembered from another test's stack config login."""
    from provisioner.transport.env_secrets import forget_remembered

    forget_remembered()
    yield
    forget_remembered()


@pytest.fixture(scope="session")
def refused_port() -> Iterator[int]:
    """A loopback port that is bound but never listens: every connection to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def no_ca_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The fake Paragon speaks plain http: spare every new httpx client the ~35 ms CA-bundle parse (env only)."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path_factory.mktemp("no-ca")))


@pytest.fixture
def fresh_provider_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh dynamic provider process: an empty session cache and HTTP client pool, no PARAGON_* variables."""
    from provisioner.paragon import resource
    from provisioner.paragon.client import SessionCache
    from provisioner.paragon.login import ENV_ACCESS_TOKEN, ENV_BASE_URL, ENV_EMAIL, ENV_PASSWORD
    from provisioner.transport.connections import HttpClientPool

    monkeypatch.setattr(resource, "PROCESS_SESSIONS", SessionCache())
    monkeypatch.setattr(resource, "PROCESS_HTTP", HttpClientPool())
    for name in (ENV_ACCESS_TOKEN, ENV_EMAIL, ENV_PASSWORD, ENV_BASE_URL):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project_dir() -> Path:
    """The repository root (holds Pulumi.yaml and __main__.py)."""
    return PROJECT_DIR


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write ``text`` to ``<tmp>/config/<name>`` and return the path."""

    def write(text: str, name: str = "dev.yaml") -> Path:
        path = tmp_path / "config" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write
