"""``doctor`` (text and JSON) never shows a secret the process holds when Microsoft Graph echoes it: the whole
canary table (tests/secret_echo.py), including the alert webhook, which no name pattern used to cover."""

from __future__ import annotations

from pathlib import Path

import pytest
from entra_fake import FakeEntra
from graph_fake import FakeGraph
from paragon_fake import FakeParagon
from secret_echo import CANARIES, Canary, arrange, assert_scrubbed, ids, paragon_accepts
from test_doctor import TENANT, FakeTools, healthy, paragon, tools  # noqa: F401  (fixtures)
from test_doctor_tenant import CI_CLIENT, entra, graph, tenant  # noqa: F401  (fixtures)
from typer.testing import CliRunner

from provisioner.cli.app import app


@pytest.mark.parametrize("row", CANARIES, ids=ids(CANARIES))
def test_doctor_scrubs_what_graph_echoes(
    row: Canary,
    tenant: FakeTools,  # noqa: F811
    graph: FakeGraph,  # noqa: F811
    entra: FakeEntra,  # noqa: F811
    paragon: FakeParagon,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arrange(row, monkeypatch, tmp_path, entra=entra, graph=graph, tenant=TENANT, client_id=CI_CLIENT)
    paragon_accepts(row, paragon, "tenant@example.com")
    graph.fail("/", 500, times=999, message=f"boom {row.echoed}", retry_after="0")

    for output_format in ("json", "text"):
        result = CliRunner().invoke(app, ["doctor", "--format", output_format])
        assert "serviceNotAvailable: boom " in result.stdout, row.id
        assert_scrubbed(row, result.stdout + result.stderr)
