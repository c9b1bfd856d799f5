"""The generated permission data: its generator on small hand-made excerpts of Microsoft's sources, and the
committed data's shape, sources and known IDs."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from provisioner.catalog import (
    AZURE_DEVOPS_APP_ID,
    CATALOG,
    GRAPH_DELEGATED_SCOPE_IDS,
    MICROSOFT_GRAPH_APP_ID,
    OPENID_SCOPE_IDS,
    POWER_BI_APP_ID,
    published_scope_id,
    resource_permissions,
)
from provisioner.catalog.permissions import DATA_FILES, all_resource_permissions, consent_policy

ROOT = Path(__file__).resolve().parent.parent
EXCERPTS = ROOT / "tests" / "fixtures" / "permissions"
GENERATOR = ROOT / "scripts" / "generate_permissions.py"
DATA_DIR = ROOT / "provisioner" / "catalog" / "permissions"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Written out from Microsoft's permissions data (microsoft-graph-devx-content), not read from our data file.
KNOWN_GRAPH_IDS = {
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
    "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    "openid": "37f7f235-527c-4136-accd-4a02d197296e",
    "profile": "14dad69e-099b-42c9-810b-d002981feec1",
    "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
    "Mail.Read": "570282fd-fa5c-430d-a7fd-fc8dc98a9dca",
    "Files.Read.All": "df85f4d6-205c-4ac5-a5ea-6bf408dba283",
    "Presence.Read": "76bc735e-aecd-4a1d-8b4c-2b915deabb79",
    "User.Read.All": "a154be20-db9c-4678-8ab7-66f6cc099a59",
}


def generate(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "out.json"
    done = subprocess.run(
        [sys.executable, str(GENERATOR), *args, "--commit", "a" * 40, "--date", "2026-01-02", "--output", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the generator, on excerpts ---------------------------------------------------------------------------


def test_graph_generator_extracts_names_ids_consent_and_personal_support(tmp_path: Path) -> None:
    files = {
        name: EXCERPTS / name for name in ("permissions.json", "provisioningInfo.json", "permissions-descriptions.json")
    }
    data = generate(
        tmp_path,
        "graph",
        "--permissions",
        str(files["permissions.json"]),
        "--provisioning",
        str(files["provisioningInfo.json"]),
        "--descriptions",
        str(files["permissions-descriptions.json"]),
    )
    assert data["source"] == {
        "repository": "microsoftgraph/microsoft-graph-devx-content",
        "commit": "a" * 40,
        "files_sha256": {
            "permissions/new/permissions.json": sha(files["permissions.json"]),
            "permissions/new/provisioningInfo.json": sha(files["provisioningInfo.json"]),
            "permissions/permissions-descriptions.json": sha(files["permissions-descriptions.json"]),
        },
        "generated": "2026-01-02",
        "generator": "scripts/generate_permissions.py",
    }
    assert data["resource_app_id"] == MICROSOFT_GRAPH_APP_ID and data["completeness"] == "partial"
    assert {name: row["id"] for name, row in data["scopes"].items()} == KNOWN_GRAPH_IDS, "IDs lower-cased"
    assert data["scopes"]["User.Read.All"]["admin_consent"] is True
    assert data["scopes"]["Mail.Read"] == {"id": KNOWN_GRAPH_IDS["Mail.Read"], "admin_consent": False, "personal": True}
    assert data["scopes"]["Presence.Read"]["personal"] is False, "no DelegatedPersonal scheme"
    assert data["application_only"] == ["Application.ReadWrite.OwnedBy"], "app-only names are not scopes"


def test_azure_devops_generator_reads_the_scope_table(tmp_path: Path) -> None:
    data = generate(tmp_path, "azure-devops", "--table", str(EXCERPTS / "scopes.md"))
    assert data["completeness"] == "complete" and data["resource_app_id"] == AZURE_DEVOPS_APP_ID
    assert data["source"]["files_sha256"] == {"docs/integrate/includes/scopes.md": sha(EXCERPTS / "scopes.md")}
    assert sorted(data["scopes"]) == [
        "user_impersonation",
        "vso.code",
        "vso.code_full",
        "vso.code_manage",
        "vso.code_status",
        "vso.code_write",
        "vso.profile",
        "vso.project",
        "vso.project_write",
        "vso.work",
        "vso.work_write",
    ]
    assert data["scopes"]["vso.code_write"] == {
        "id": None,
        "admin_consent": None,
        "high_privilege": True,
        "includes": "vso.code",
    }
    assert data["scopes"]["vso.code"]["high_privilege"] is False


def test_fabric_generator_reads_required_delegated_scopes_and_skips_templates(tmp_path: Path) -> None:
    data = generate(tmp_path, "fabric", "--specs", str(EXCERPTS / "fabric"))
    assert data["resource_app_id"] == POWER_BI_APP_ID and data["completeness"] == "partial"
    names = set(data["scopes"])
    assert {"Workspace.Read.All", "Lakehouse.ReadWrite.All", "Item.ReadWrite.All", "Connection.Read.All"} <= names
    assert {"Item.Read.All", "Dataset.Read.All"} <= names, "generic item scope and the classic Power BI names"
    assert "Read.All" not in names and not any(n.startswith("*") for n in names), "*itemType*.Read.All is a template"
    assert all(row == {"id": None, "admin_consent": None} for row in data["scopes"].values()), "no invented IDs"


def test_graph_generator_refuses_a_source_without_the_openid_scopes(tmp_path: Path) -> None:
    empty = tmp_path / "descriptions.json"
    empty.write_text('{"delegatedScopesList": []}', encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            str(GENERATOR),
            "graph",
            "--permissions",
            str(EXCERPTS / "permissions.json"),
            "--provisioning",
            str(EXCERPTS / "provisioningInfo.json"),
            "--descriptions",
            str(empty),
            "--commit",
            "b" * 40,
            "--output",
            str(tmp_path / "x.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode != 0 and "OpenID scopes missing" in done.stderr
    assert not (tmp_path / "x.json").exists()


# --- the committed data ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DATA_FILES)
def test_committed_data_records_its_source_and_has_the_expected_shape(name: str) -> None:
    data = json.loads((DATA_DIR / name).read_text(encoding="utf-8"))
    source = data["source"]
    assert re.fullmatch(r"[0-9a-f]{40}", source["commit"]), "a full commit hash"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source["generated"])
    assert source["generator"] == "scripts/generate_permissions.py"
    assert source["files_sha256"] and all(re.fullmatch(r"[0-9a-f]{64}", d) for d in source["files_sha256"].values())
    assert data["completeness"] in ("complete", "partial") and data["completeness_note"]
    assert data["scopes"], "not empty"
    for scope, row in data["scopes"].items():
        assert row["id"] is None or GUID.match(row["id"]), (scope, row["id"])
        assert row["admin_consent"] in (True, False, None)
    assert (DATA_DIR / name).stat().st_size < 200_000, "extracted data, not the multi-megabyte source"


def test_committed_graph_data_holds_microsofts_ids() -> None:
    graph = resource_permissions(MICROSOFT_GRAPH_APP_ID)
    assert graph is not None and graph.source["repository"] == "microsoftgraph/microsoft-graph-devx-content"
    for name, scope_id in KNOWN_GRAPH_IDS.items():
        assert graph.scopes[name].id == scope_id, name
        assert published_scope_id(MICROSOFT_GRAPH_APP_ID, name) == scope_id
    assert len(graph.scopes) > 600, "Graph publishes hundreds of delegated permissions"
    assert graph.scopes["User.Read.All"].admin_consent is True and graph.scopes["User.Read"].admin_consent is False
    assert "Application.ReadWrite.OwnedBy" in graph.application_only
    assert {n: GRAPH_DELEGATED_SCOPE_IDS[n] for n in OPENID_SCOPE_IDS} == OPENID_SCOPE_IDS, "one source of IDs"


def test_committed_azure_devops_data_is_microsofts_whole_table() -> None:
    ado = resource_permissions(AZURE_DEVOPS_APP_ID)
    assert ado is not None and ado.complete
    assert ado.source["repository"] == "MicrosoftDocs/azure-devops-docs"
    # The kinds the issue saw refused: _manage and _write variants from the very table the catalog cites.
    assert {"vso.code_manage", "vso.project_manage", "vso.work_write", "vso.release_manage", "vso.advsec"} <= set(
        ado.scopes
    )
    assert ado.scopes["user_impersonation"].high_privilege is True
    assert all(p.id is None for p in ado.scopes.values()), "Microsoft publishes no Azure DevOps scope IDs"


def test_committed_power_bi_data_is_marked_partial_with_fabric_scopes() -> None:
    pbi = resource_permissions(POWER_BI_APP_ID)
    assert pbi is not None and not pbi.complete
    assert {"Item.ReadWrite.All", "Connection.ReadWrite.All", "Gateway.Read.All", "Dataset.Read.All"} <= set(pbi.scopes)


def test_data_files_are_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "*.json" in pyproject["tool"]["setuptools"]["package-data"]["provisioner.catalog.permissions"]
    assert sorted(p.name for p in DATA_DIR.glob("*.json")) == sorted([*DATA_FILES, "consent_policy.json"])
    assert set(all_resource_permissions()) == {MICROSOFT_GRAPH_APP_ID, AZURE_DEVOPS_APP_ID, POWER_BI_APP_ID}


def test_consent_policy_data_names_its_scopes_and_source() -> None:
    policy = consent_policy()
    assert policy.resource_app_id == MICROSOFT_GRAPH_APP_ID and policy.source["recorded"]
    covered = {s for p in policy.policies for s in p.scopes}
    assert covered == {"Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All"}
    graph = resource_permissions(MICROSOFT_GRAPH_APP_ID)
    assert graph is not None and covered <= set(graph.scopes)
    assert any(not p.complete and not p.scopes for p in policy.policies), "the unnamed late-2025 set is not guessed"


WITH_DATA = sorted(k for k, e in CATALOG.items() if resource_permissions(e.resource_app_id) is not None)
"""Integrations whose resource API has generated scope data (Dynamics CRM, Business Central and Dynamics ERP
publish no scope table: their names are checked at deploy time, see the next test)."""


def test_resources_without_data_are_exactly_the_dynamics_ones() -> None:
    without = {CATALOG[k].resource_title for k in sorted(CATALOG) if k not in WITH_DATA}
    assert without == {"Dynamics CRM (Dataverse)", "Dynamics 365 Business Central", "Dynamics ERP"}


@pytest.mark.parametrize("key", WITH_DATA)
def test_every_known_scope_of_an_entry_is_in_its_resource_data(key: str) -> None:
    entry = CATALOG[key]
    data = resource_permissions(entry.resource_app_id)
    assert data is not None
    assert entry.delegated_scopes <= set(data.scopes), sorted(entry.delegated_scopes - set(data.scopes))
    if data.resource_app_id == MICROSOFT_GRAPH_APP_ID:
        personal = {n for n in entry.delegated_scopes if data.scopes[n].personal}
        assert entry.personal_account_scopes <= personal
