"""Delegated permissions each resource API publishes, as generated data (package data beside this module).

``graph.json`` (Microsoft Graph), ``azure_devops.json`` and ``power_bi.json`` are written by
``scripts/generate_permissions.py`` from Microsoft's published sources; each records its source repository,
commit, file checksums and date under ``source``. ``consent_policy.json`` records which scopes Microsoft's
managed user-consent policy covers. Nothing here is fetched at run time.

Completeness: ``complete`` means the data is the resource's whole published list (a name outside it is an
error); ``partial`` means the resource publishes names the data lacks (a name outside it is a warning, and
deploy time checks it against the resource's service principal).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Final, Literal

DATA_FILES: Final = ("graph.json", "azure_devops.json", "power_bi.json")
"""The generated per-resource files, in this package."""

Completeness = Literal["complete", "partial"]


@dataclass(frozen=True)
class Permission:
    """One delegated permission (scope) of a resource API.

    Attributes:
        name: The scope's value, e.g. ``Mail.Read``.
        id: Its ID (a GUID, the same in every tenant) where Microsoft publishes it, else None (resolved from
            the resource's service principal at deploy time).
        admin_consent: Whether the resource marks it "admin consent required"; None where the resource
            publishes no such flag.
        personal: Whether it works for personal Microsoft accounts; None where unpublished.
        high_privilege: Microsoft's "high-privilege" mark (Azure DevOps' table); None where unpublished.
        includes: The scope it includes, per Microsoft's table (Azure DevOps), else None.
    """

    name: str
    id: str | None = None
    admin_consent: bool | None = None
    personal: bool | None = None
    high_privilege: bool | None = None
    includes: str | None = None


@dataclass(frozen=True)
class ResourcePermissions:
    """The delegated permissions a resource API publishes, and where the data comes from.

    Attributes:
        resource_app_id: Application (client) ID of the resource API.
        resource_title: Its human name.
        completeness: ``complete`` or ``partial`` (see the module docstring).
        completeness_note: Why, in one sentence.
        scopes: Name -> `Permission`.
        application_only: Names that exist only as application permissions (not usable as scopes).
        source: ``repository``, ``commit``, ``files_sha256`` (path -> SHA-256), ``generated`` (YYYY-MM-DD).
    """

    resource_app_id: str
    resource_title: str
    completeness: Completeness
    completeness_note: str
    scopes: Mapping[str, Permission]
    application_only: frozenset[str] = frozenset()
    source: Mapping[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when the data is the resource's whole published list."""
        return self.completeness == "complete"

    def source_line(self) -> str:
        """``<repository>@<commit 12> (generated YYYY-MM-DD)``, for messages and reports."""
        src = self.source
        return (
            f"{src.get('repository', '?')}@{str(src.get('commit', '?'))[:12]} (generated {src.get('generated', '?')})"
        )


def _read(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _parse(data: dict[str, Any]) -> ResourcePermissions:
    scopes = {
        name: Permission(
            name=name,
            id=row.get("id"),
            admin_consent=row.get("admin_consent"),
            personal=row.get("personal"),
            high_privilege=row.get("high_privilege"),
            includes=row.get("includes"),
        )
        for name, row in data["scopes"].items()
    }
    completeness = data["completeness"]
    if completeness not in ("complete", "partial"):
        raise ValueError(f"permission data for {data['resource_app_id']}: bad completeness {completeness!r}")
    return ResourcePermissions(
        resource_app_id=data["resource_app_id"].lower(),
        resource_title=data["resource_title"],
        completeness=completeness,
        completeness_note=data["completeness_note"],
        scopes=scopes,
        application_only=frozenset(data.get("application_only", ())),
        source=data["source"],
    )


@cache
def all_resource_permissions() -> Mapping[str, ResourcePermissions]:
    """Every generated data file, by resource application ID (lower-case). Read once per process."""
    parsed = (_parse(_read(name)) for name in DATA_FILES)
    return {p.resource_app_id: p for p in parsed}


def resource_permissions(resource_app_id: str) -> ResourcePermissions | None:
    """The generated data of one resource API, or None when Microsoft publishes no table we hold."""
    return all_resource_permissions().get(resource_app_id.lower())


def published_scope_id(resource_app_id: str, name: str) -> str | None:
    """The published ID of delegated scope ``name`` on the resource, or None (not in the data, or no ID).

    Graph permission IDs are the same in every tenant (Microsoft's permissions reference), so a scope with
    an ID here needs no lookup of the resource's service principal.
    """
    data = resource_permissions(resource_app_id)
    permission = data.scopes.get(name) if data else None
    return permission.id if permission else None


@dataclass(frozen=True)
class ConsentPolicy:
    """A rule of Microsoft's managed user-consent policy: scopes users in default-setting tenants cannot consent.

    Attributes:
        name: What it covers, in words.
        since: When Microsoft applied it (``YYYY-MM`` or words).
        complete: Whether ``scopes`` names every scope it covers (False: our sources do not name them).
        scopes: The covered scope names on ``resource_app_id``.
        note: Caveat, if any.
    """

    name: str
    since: str
    complete: bool
    scopes: frozenset[str]
    note: str = ""


@dataclass(frozen=True)
class ConsentPolicyData:
    """``consent_policy.json``: the managed policy's rules, their resource and source."""

    resource_app_id: str
    policies: tuple[ConsentPolicy, ...]
    source: Mapping[str, str]

    def covering(self, resource_app_id: str, scope: str) -> ConsentPolicy | None:
        """The rule that blocks user consent to ``scope`` on the resource, or None."""
        if resource_app_id.lower() != self.resource_app_id:
            return None
        return next((p for p in self.policies if scope in p.scopes), None)


@cache
def consent_policy() -> ConsentPolicyData:
    """The managed user-consent policy data (read once per process)."""
    data = _read("consent_policy.json")
    return ConsentPolicyData(
        resource_app_id=data["resource_app_id"].lower(),
        policies=tuple(
            ConsentPolicy(
                name=p["name"],
                since=p["since"],
                complete=bool(p["complete"]),
                scopes=frozenset(p["scopes"]),
                note=p.get("note", ""),
            )
            for p in data["policies"]
        ),
        source=data["source"],
    )
