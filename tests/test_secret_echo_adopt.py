"""``adopt`` never shows a secret the process holds when Microsoft Graph or Paragon echoes it in an error: the whole
canary table (tests/secret_echo.py) through both servers, against the fakes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from entra_fake import FakeEntra
from graph_fake import FakeGraph
from paragon_fake import FakeParagon, Fault
from secret_echo import CANARIES, Canary, arrange, assert_scrubbed, ids, paragon_accepts
from test_adopt import (  # the adopt fixtures: the fake Graph and Paragon, the environment, the config
    CLIENT_ID,
    config_file,
    env,  # noqa: F401  (fixture)
    graph,  # noqa: F401  (fixture)
    hand_made_app,
    paragon,  # noqa: F401  (fixture)
    run_adopt,
)

TENANT = "aaaaaaaa-1111-4111-8111-111111111111"
DEPLOYER = "22222222-3333-4444-8555-666666666666"
EMAIL = "admin@contoso.example"


@pytest.fixture
def entra() -> Iterator[FakeEntra]:
    with FakeEntra() as fake:
        yield fake


def _arrange(row: Canary, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, entra: FakeEntra, graph: FakeGraph) -> None:  # noqa: F811
    arrange(row, monkeypatch, tmp_path, entra=entra, graph=graph, tenant=TENANT, client_id=DEPLOYER)


@pytest.mark.parametrize("row", CANARIES, ids=ids(CANARIES))
def test_graph_echoing_a_secret_is_scrubbed(
    row: Canary,
    graph: FakeGraph,  # noqa: F811
    paragon: FakeParagon,  # noqa: F811
    env: dict[str, str],  # noqa: F811
    entra: FakeEntra,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hand_made_app(graph)
    _arrange(row, monkeypatch, tmp_path, entra, graph)
    graph.fail("/applications", 400, times=99, message=f"boom {row.echoed}")

    result = run_adopt(config_file(tmp_path))

    assert result.exit_code == 1
    assert "answered 400 (BadRequest: boom " in result.stderr
    assert_scrubbed(row, result.stdout + result.stderr)


@pytest.mark.parametrize("row", CANARIES, ids=ids(CANARIES))
def test_paragon_echoing_a_secret_is_scrubbed(
    row: Canary,
    graph: FakeGraph,  # noqa: F811
    paragon: FakeParagon,  # noqa: F811
    env: dict[str, str],  # noqa: F811
    entra: FakeEntra,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hand_made_app(graph)
    _arrange(row, monkeypatch, tmp_path, entra, graph)
    paragon_accepts(row, paragon, EMAIL)
    body = json.dumps({"message": f"boom {row.echoed}", "meta": {"errors": [{"error": row.echoed}]}})
    paragon.script("GET", r"/projects/.*", Fault(status=400, body=body))

    result = run_adopt(config_file(tmp_path))

    assert result.exit_code == 0, result.output
    assert "Paragon: not checked: " in result.stdout
    assert_scrubbed(row, result.stdout + result.stderr)
    assert CLIENT_ID in result.stdout
