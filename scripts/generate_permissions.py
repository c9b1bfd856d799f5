"""Generate the delegated-permission data in provisioner/catalog/permissions/ from Microsoft's published sources.

Each subcommand reads source files given as paths (never the network), extracts the few facts the provisioner
needs (names, IDs where published, delegated vs application, admin-consent flags) and writes one small JSON
file that records the source repository, commit, each source file's SHA-256 and the date. The sources
themselves are not committed.

Microsoft Graph (repository microsoftgraph/microsoft-graph-devx-content; bring a snapshot with the search
tool's fetch and export the three files with ``git show <commit>:<path> > file``)::

    python scripts/generate_permissions.py graph \\
        --permissions permissions.json --provisioning provisioningInfo.json \\
        --descriptions permissions-descriptions.json --commit <sha> \\
        --output provisioner/catalog/permissions/graph.json

``permissions/new/permissions.json`` holds names, schemes (DelegatedWork, DelegatedPersonal, Application) and
``requiresAdminConsent``; it holds no IDs, which are in ``permissions/new/provisioningInfo.json`` (one
deployment per scheme). Neither lists the OpenID Connect scopes (openid, profile, email, offline_access):
their IDs come from ``permissions/permissions-descriptions.json`` in the same commit.

Azure DevOps (MicrosoftDocs/azure-devops-docs, ``docs/integrate/includes/scopes.md``, the scope table of
"Authorize access to REST APIs with OAuth 2.0")::

    python scripts/generate_permissions.py azure-devops --table scopes.md --commit <sha> --output ...

Power BI / Microsoft Fabric (microsoft/fabric-rest-api-specs: each operation's "Required Delegated Scopes")::

    python scripts/generate_permissions.py fabric --specs <folder of the repository> --commit <sha> --output ...
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
POWER_BI_APP_ID = "00000009-0000-0000-c000-000000000000"
AZURE_DEVOPS_APP_ID = "499b84ac-1321-427f-aa17-267ca6975798"
OPENID_SCOPES = ("email", "offline_access", "openid", "profile")
DELEGATED_SCHEMES = ("DelegatedWork", "DelegatedPersonal")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Power BI's classic delegated scopes, from Microsoft's Power BI REST API definition as restated in the
# project's reference (shared/reference/entra-facts.md). The Fabric specs cover the Fabric APIs only; these
# names are on the same resource (Power BI Service) and are kept beside the generated ones.
POWER_BI_CLASSIC = (
    "App.Read.All",
    "Capacity.Read.All",
    "Capacity.ReadWrite.All",
    "Content.Create",
    "Dashboard.Read.All",
    "Dashboard.ReadWrite.All",
    "Dataflow.Read.All",
    "Dataflow.ReadWrite.All",
    "Dataset.Read.All",
    "Dataset.ReadWrite.All",
    "Pipeline.Deploy",
    "Pipeline.Read.All",
    "Pipeline.ReadWrite.All",
    "Report.Read.All",
    "Report.ReadWrite.All",
    "StorageAccount.Read.All",
    "StorageAccount.ReadWrite.All",
    "Tenant.Read.All",
    "Tenant.ReadWrite.All",
    "Workspace.Read.All",
    "Workspace.ReadWrite.All",
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _public(deployment: dict[str, Any]) -> bool:
    """A deployment in Microsoft's public cloud (environment empty, or listing ``public``)."""
    envs = {e.strip().lower() for e in str(deployment.get("environment", "")).split(";")}
    return envs == {""} or "public" in envs


def graph(permissions: Path, provisioning: Path, descriptions: Path) -> dict[str, Any]:
    """Microsoft Graph's delegated permissions: name -> id, admin consent, personal-account support."""
    perms = json.loads(permissions.read_text(encoding="utf-8"))["permissions"]
    deployments = json.loads(provisioning.read_text(encoding="utf-8"))["permissionDeployments"]
    described = json.loads(descriptions.read_text(encoding="utf-8"))["delegatedScopesList"]
    scopes: dict[str, dict[str, Any]] = {}
    application_only: list[str] = []
    missing_id: list[str] = []
    for name, permission in sorted(perms.items()):
        schemes = permission.get("schemes", {})
        work = schemes.get("DelegatedWork")
        personal = schemes.get("DelegatedPersonal")
        if work is None and personal is None:
            if "Application" in schemes:
                application_only.append(name)
            continue
        ids = {
            str(d["id"]).lower()
            for d in deployments.get(name, [])
            if d.get("scheme") == "DelegatedWork" and d.get("id") and d.get("isEnabled", True) and _public(d)
        }
        if len(ids) != 1:
            missing_id.append(name)
            continue
        (scope_id,) = ids
        if not GUID.match(scope_id):
            raise SystemExit(f"{name}: not a GUID: {scope_id!r}")
        flags = work or personal or {}
        scopes[name] = {
            "id": scope_id,
            "admin_consent": bool(flags.get("requiresAdminConsent", True)),
            "personal": personal is not None,
        }
    for row in described:
        if row.get("value") in OPENID_SCOPES:
            scopes[row["value"]] = {
                "id": str(row["id"]).lower(),
                "admin_consent": bool(row.get("isAdmin")),
                "personal": True,
            }
    absent = [s for s in OPENID_SCOPES if s not in scopes]
    if absent:
        raise SystemExit(f"OpenID scopes missing from {descriptions}: {absent}")
    return {
        "resource_app_id": GRAPH_APP_ID,
        "resource_title": "Microsoft Graph",
        "completeness": "partial",
        "completeness_note": "Graph's service principal publishes a few names Microsoft's reference data lacks",
        "scopes": dict(sorted(scopes.items())),
        "application_only": application_only,
        "without_public_id": sorted(missing_id),
    }


_ROW = re.compile(r"^\|[^|]*\|\s*`(?P<name>[a-z_.]+)`\s*\|[^|]*\|\s*(?P<high>[^|]*)\|[^|]*\|\s*(?P<parent>[^|]*)\|\s*$")


def azure_devops(table: Path) -> dict[str, Any]:
    """Azure DevOps delegated scopes from Microsoft's scope table (names, high-privilege flag, inclusion)."""
    scopes: dict[str, dict[str, Any]] = {}
    for line in table.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line.strip())
        if not match:
            continue
        parent = match["parent"].strip().strip("`") or None
        scopes[match["name"]] = {
            "id": None,
            "admin_consent": None,
            "high_privilege": match["high"].strip().lower() == "yes",
            "includes": parent,
        }
    if len(scopes) < 10 or "vso.code" not in scopes:
        raise SystemExit(f"{table}: no Azure DevOps scope table found")
    return {
        "resource_app_id": AZURE_DEVOPS_APP_ID,
        "resource_title": "Azure DevOps",
        "completeness": "complete",
        "completeness_note": "Microsoft's published scope table for Azure DevOps (no IDs, no admin-consent flag)",
        "scopes": dict(sorted(scopes.items())),
        "application_only": [],
        "without_public_id": sorted(scopes),
    }


_FABRIC_SECTION = re.compile(r"Required Delegated Scopes\s*\n(?P<body>.*?)(?:\n##|\Z)", re.DOTALL)
# A scope name; ``*itemType*.Read.All`` (a template in the text, not a name) is skipped.
_FABRIC_NAME = re.compile(r"(?<![*\w.])([A-Z][A-Za-z]*\.(?:[A-Z][A-Za-z]*\.)?(?:All|Create|Deploy))\b")


def fabric(specs: Path) -> dict[str, Any]:
    """Power BI Service delegated scope names: the Fabric specs' "Required Delegated Scopes" plus the classic
    Power BI names (no IDs are published)."""
    names: set[str] = set(POWER_BI_CLASSIC)
    found = 0
    for swagger in sorted(specs.rglob("swagger.json")):
        document = json.loads(swagger.read_text(encoding="utf-8"))
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                if not isinstance(operation, dict):
                    continue
                for section in _FABRIC_SECTION.finditer(operation.get("description", "")):
                    found += 1
                    names |= set(_FABRIC_NAME.findall(section["body"]))
    if not found:
        raise SystemExit(f"{specs}: no 'Required Delegated Scopes' sections found")
    return {
        "resource_app_id": POWER_BI_APP_ID,
        "resource_title": "Power BI Service",
        "completeness": "partial",
        "completeness_note": "Microsoft publishes no complete list of Power BI Service scopes, and no IDs",
        "scopes": {n: {"id": None, "admin_consent": None} for n in sorted(names)},
        "application_only": [],
        "without_public_id": sorted(names),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="kind", required=True)
    g = sub.add_parser("graph")
    g.add_argument("--permissions", type=Path, required=True)
    g.add_argument("--provisioning", type=Path, required=True)
    g.add_argument("--descriptions", type=Path, required=True)
    a = sub.add_parser("azure-devops")
    a.add_argument("--table", type=Path, required=True)
    f = sub.add_parser("fabric")
    f.add_argument("--specs", type=Path, required=True)
    for p in (g, a, f):
        p.add_argument("--commit", required=True, help="the source repository's commit the files come from")
        p.add_argument("--date", help="generation date, YYYY-MM-DD (default: today, UTC)")
        p.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.kind == "graph":
        data = graph(args.permissions, args.provisioning, args.descriptions)
        repository = "microsoftgraph/microsoft-graph-devx-content"
        files = {
            "permissions/new/permissions.json": sha256(args.permissions),
            "permissions/new/provisioningInfo.json": sha256(args.provisioning),
            "permissions/permissions-descriptions.json": sha256(args.descriptions),
        }
    elif args.kind == "azure-devops":
        data = azure_devops(args.table)
        repository = "MicrosoftDocs/azure-devops-docs"
        files = {"docs/integrate/includes/scopes.md": sha256(args.table)}
    else:
        data = fabric(args.specs)
        repository = "microsoft/fabric-rest-api-specs"
        files = {
            "*/swagger.json": hashlib.sha256(
                b"".join(hashlib.sha256(p.read_bytes()).digest() for p in sorted(args.specs.rglob("swagger.json")))
            ).hexdigest()
        }
    generated = args.date or datetime.now(UTC).date().isoformat()
    document = {
        "source": {
            "repository": repository,
            "commit": args.commit,
            "files_sha256": files,
            "generated": generated,
            "generator": "scripts/generate_permissions.py",
        },
        **data,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    sys.stdout.write(f"{args.output}: {len(data['scopes'])} delegated scopes\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
