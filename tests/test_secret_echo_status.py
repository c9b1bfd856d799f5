"""``status`` never shows a secret the process holds when a server echoes it: the whole canary table
(tests/secret_echo.py) through the adopted-app section (Microsoft Graph echoing it) and ``status --verify``
(Paragon's decrypted-credential read answering 500 with it, retried, then shown), in text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from entra_fake import FakeEntra
from graph_fake import FakeGraph
from paragon_fake import FakeParagon, Fault
from secret_echo import CANARIES, Canary, arrange, assert_scrubbed, ids, paragon_accepts
from test_adopt_status import adopted_app, files, graph, status  # noqa: F401  (graph: fixture)
from test_status_verify import EMAIL, TENANT, entra, outputs_file, paragon, runner, workdir  # noqa: F401  (fixtures)

from provisioner.cli.app import app

SIGN_IN_CLIENT = "22222222-3333-4444-8555-666666666666"
DECRYPTED = r"/projects/[^/]+/credentials/[^/]+/decrypted"


@pytest.mark.parametrize("output_format", ["text", "json"])
@pytest.mark.parametrize("row", CANARIES, ids=ids(CANARIES))
def test_the_adopted_section_scrubs_what_graph_echoes(
    row: Canary,
    output_format: str,
    graph: FakeGraph,  # noqa: F811
    entra: FakeEntra,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    adopted_app(graph)
    arrange(row, monkeypatch, tmp_path, entra=entra, graph=graph, tenant=TENANT, client_id=SIGN_IN_CLIENT)
    graph.fail("/applications", 500, times=99, message=f"boom {row.echoed}", retry_after="0")
    config, outputs = files(tmp_path)

    result = status(config, outputs, "--format", output_format, "--alert-on", "critical")  # no post: no network

    assert result.exit_code == 0, result.output  # the section never changes status's exit code
    assert "answered 500 (serviceNotAvailable: boom " in result.stdout
    assert_scrubbed(row, result.stdout + result.stderr)


@pytest.mark.parametrize("output_format", ["text", "json"])
@pytest.mark.parametrize("row", CANARIES, ids=ids(CANARIES))
def test_verify_scrubs_what_paragon_echoes(
    row: Canary,
    output_format: str,
    workdir: Path,  # noqa: F811
    paragon: FakeParagon,  # noqa: F811
    entra: FakeEntra,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arrange(row, monkeypatch, workdir, entra=entra, graph=None, tenant=TENANT, client_id=SIGN_IN_CLIENT)
    paragon_accepts(row, paragon, EMAIL)
    body = json.dumps({"message": f"boom {row.echoed}", "meta": {"errors": [{"error": row.echoed}]}})
    paragon.script("GET", DECRYPTED, *[Fault(status=500, body=body, headers={"Retry-After": "0"})] * 10)
    args = ["status", "--outputs", outputs_file(workdir), "--at", "2026-11-29", "--verify", "--format", output_format]
    args += ["--alert-on", "critical"]  # unverified is a warning: nothing is posted to the canary webhook's host

    result = runner.invoke(app, args)

    assert result.exit_code == 1, result.output  # unverified: the check could not be made
    assert "cannot read the credential from Paragon" in result.stdout
    assert_scrubbed(row, result.stdout + result.stderr)
