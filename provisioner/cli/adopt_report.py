"""What adopting an existing app registration means, as pure data: the changes the first ``pulumi up`` makes to
the live app, the config edits that avoid the harmful ones, the hand-made secrets, and the Pulumi import file.

No Pulumi, no HTTP: `provisioner.cli.adopt` reads the tenant and Paragon and runs the program under mocks,
then hands the results here. Vocabulary and rules: docs/adopt.md. Facts used:

* Apps whose ``signInAudience`` includes personal Microsoft accounts hold at most two password credentials
  (entra-docs, supported-accounts-validation; ``shared/reference/entra-facts.md``).
* A refresh-token request for a delegated permission the user never consented to fails (AADSTS65001), so a
  scope added to what Paragon requests needs fresh consent from every connected user.
* ``pulumi import --file`` format: ``nameTable`` and ``resources`` (``type``, ``name``, ``id``, ``parent``,
  ``component``, ``version``); an entry with ``component: true`` and no ID creates an empty component
  resource as the parent of the others, and a parent imported in the same file needs no name-table entry
  (Pulumi v3.94, pulumi/pulumi #14461, #14467, #14524).
* azuread v6 import IDs: Application ``/applications/{object ID}``; ServicePrincipal ``{object ID}``
  (pulumi-azuread's Import sections).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from provisioner.cli.adopt_values import (
    delete_command,
    keep_or_refuse,
    kept_audience,
    personal_audience,
    refusal,
    shown,
    shown_value,
    yaml_line,
)
from provisioner.config.model import PERSONAL_AUDIENCES

APPLICATION_TYPE: Final = "azuread:index/application:Application"
SERVICE_PRINCIPAL_TYPE: Final = "azuread:index/servicePrincipal:ServicePrincipal"
COMPONENT_TYPE: Final = "provisioner:entra:AppRegistration"
ROOT_STACK_TYPE: Final = "pulumi:pulumi:Stack"
PERSONAL_PASSWORD_LIMIT: Final = 2
MANAGED_SLOTS: Final = 2


@dataclass(frozen=True)
class Change:
    """One difference between the live app and what the program declares.

    Attributes:
        what: ``display name``, ``sign-in audience``, ``access token version``, ``Web redirect URI``,
            ``SPA redirect URI``, ``public client redirect URI``, ``permission`` or ``owner``.
        action: ``change``, ``add`` or ``remove`` (what ``pulumi up`` does to the live app).
        before: The live value (None for an addition).
        after: The declared value (None for a removal).
        harmful: True when connected users would notice (a sign-in, consent or token refresh breaks).
        why: One sentence: what it means.
        fix: The config edit that avoids it, or "" when no edit keeps the live value.
        refused: Why the config's rules refuse the live value (`provisioner.cli.adopt_values.refusal`), or "".

    ``before`` is the live value as read (untrusted): show it with `provisioner.cli.adopt_values.shown_value`.
    """

    what: str
    action: str
    before: str | None
    after: str | None
    harmful: bool = False
    why: str = ""
    fix: str = ""
    refused: str = ""

    def to_json(self) -> dict[str, Any]:
        """The change as a JSON object (its fields by name)."""
        return asdict(self)


@dataclass(frozen=True)
class LiveApp:
    """The existing app registration as Microsoft Graph shows it (metadata only; no secret value anywhere).

    Attributes:
        client_id / object_id: Its application (client) ID and object ID.
        display_name, sign_in_audience: As stored.
        access_token_version: ``api.requestedAccessTokenVersion`` (None: unset, which means 1).
        web / spa / public_client: Redirect URIs per platform, exactly as stored.
        permissions: ``(resource app ID, permission ID, type)`` per requested permission; type ``Scope``
            (delegated) or ``Role`` (application).
        permission_names: ``(resource app ID, permission ID)`` → ``<resource> <name>`` where Graph resolved it.
        owners: ``(object ID, label)`` per owner.
        passwords: ``(key ID, display name, end date RFC 3339 or None)`` per client secret.
        service_principal_id: Object ID of its service principal in this tenant, or None.
    """

    client_id: str
    object_id: str
    display_name: str
    sign_in_audience: str
    access_token_version: int | None
    web: tuple[str, ...]
    spa: tuple[str, ...]
    public_client: tuple[str, ...]
    permissions: tuple[tuple[str, str, str], ...]
    permission_names: Mapping[tuple[str, str], str]
    owners: tuple[tuple[str, str], ...]
    passwords: tuple[tuple[str, str | None, str | None], ...]
    service_principal_id: str | None


@dataclass(frozen=True)
class ParagonView:
    """What Paragon's credential for the integration holds (never its secret).

    Attributes:
        note: One line for the report (what was read, or why nothing was).
        client_id: The client ID it holds, or None when unknown or there is no credential.
        scopes: The scope names it requests (resource prefixes removed, lower-case), or None when unknown.
    """

    note: str
    client_id: str | None = None
    scopes: frozenset[str] | None = None


def bare_scope(name: str) -> str:
    """``https://analysis.windows.net/powerbi/api/Dataset.Read.All`` → ``dataset.read.all`` (comparison form)."""
    return name.rsplit("/", 1)[-1].strip().lower()


@dataclass(frozen=True)
class Declared:
    """What the program declares for the app registration (from the plan's ``azuread.Application`` inputs).

    Attributes:
        inputs: The Application's inputs under Pulumi wire names (``displayName``, ``web.redirectUris``...).
        app_key: The integration whose app it is (the ``app:`` target for a sharer).
        scope_keys: Per delegated scope name the config can request on this app, the integrations that may list
            it (for the fix text).
        paragon_redirect_uri: ``paragon.redirect_uri``.
    """

    inputs: Mapping[str, Any]
    app_key: str
    scope_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    paragon_redirect_uri: str = ""

    def permissions(self) -> set[tuple[str, str, str]]:
        """The declared ``requiredResourceAccesses`` as (resource app ID, permission ID, ``Scope``/``Role``),
        IDs lower-case."""
        return {
            (str(block["resourceAppId"]).lower(), str(access["id"]).lower(), str(access.get("type", "Scope")))
            for block in self.inputs.get("requiredResourceAccesses") or []
            for access in block.get("resourceAccesses") or []
        }


def _name(live: LiveApp, resource: str, permission: str) -> tuple[str, str]:
    """``(label, scope name)``: ``("Power BI Service Dataset.Read.All", "Dataset.Read.All")``; the ID when unknown."""
    label = live.permission_names.get((resource, permission))
    if label is None:
        return f"{permission} on resource app {resource}", permission
    return label, label.removesuffix(" (application permission)").rsplit(" ", 1)[-1]


def _simple(live: LiveApp, declared: Declared) -> list[Change]:
    key = declared.app_key
    changes: list[Change] = []
    name = str(declared.inputs.get("displayName") or "")
    if name != live.display_name:
        fix, refused = keep_or_refuse(key, "display_name", live.display_name)
        changes.append(
            Change(
                "display name",
                "change",
                live.display_name,
                name,
                why="consent prompts and the portal show the new name",
                fix=fix,
                refused=refused,
            )
        )
    audience = str(declared.inputs.get("signInAudience") or "")
    if audience != live.sign_in_audience:
        fix, refused = keep_or_refuse(key, "sign_in_audience", live.sign_in_audience)
        changes.append(
            Change(
                "sign-in audience",
                "change",
                live.sign_in_audience,
                audience,
                harmful=True,
                why="users of accounts the new audience excludes can no longer sign in",
                fix=fix,
                refused=refused,
            )
        )
    version = (declared.inputs.get("api") or {}).get("requestedAccessTokenVersion")
    if version is not None and version != (live.access_token_version or 1):
        fix, refused = (
            keep_or_refuse(key, "requested_access_token_version", live.access_token_version or 1)
            if live.sign_in_audience not in PERSONAL_AUDIENCES and audience not in PERSONAL_AUDIENCES
            else ("", "")
        )
        changes.append(
            Change(
                "access token version",
                "change",
                str(live.access_token_version or 1),
                str(version),
                why="affects only tokens issued for this app as an API, not the tokens Paragon uses",
                fix=fix,
                refused=refused,
            )
        )
    return changes


def _redirects(live: LiveApp, declared: Declared) -> list[Change]:
    key = declared.app_key
    web = [str(u) for u in (declared.inputs.get("web") or {}).get("redirectUris") or []]
    personal = personal_audience(kept_audience(live.sign_in_audience, str(declared.inputs.get("signInAudience") or "")))
    changes: list[Change] = []
    for uri in dict.fromkeys(live.web):
        if uri in web:
            continue
        reason = refusal("extra_redirect_uris", uri, personal=personal)
        changes.append(
            Change(
                "Web redirect URI",
                "remove",
                uri,
                None,
                harmful=True,
                why="a sign-in that still sends this redirect URI fails (AADSTS50011)",
                fix=f"add {uri} to integrations.{key}.extra_redirect_uris" if reason is None else "",
                refused=reason or "",
            )
        )
    for uri in web:
        if uri not in live.web:
            paragon = uri == declared.paragon_redirect_uri
            changes.append(
                Change(
                    "Web redirect URI",
                    "add",
                    None,
                    uri,
                    why="Paragon's redirect URI from paragon.redirect_uri; the live app does not have it, so if "
                    "connections work today Paragon uses another one: check paragon.redirect_uri"
                    if paragon
                    else "from extra_redirect_uris",
                )
            )
    for platform, uris in (("SPA redirect URI", live.spa), ("public client redirect URI", live.public_client)):
        changes += [
            Change(
                platform,
                "remove",
                uri,
                None,
                harmful=True,
                why="the program declares only the Web platform, so sign-ins through this platform stop",
                fix="",
            )
            for uri in dict.fromkeys(uris)
        ]
    return changes


def _permissions(live: LiveApp, declared: Declared, paragon: ParagonView) -> list[Change]:
    wanted = declared.permissions()
    have = {(r.lower(), p.lower(), t) for r, p, t in live.permissions}
    changes: list[Change] = []
    for resource, permission, kind in sorted(have - wanted):
        label, name = _name(live, resource, permission)
        scope = bare_scope(name)
        keys = declared.scope_keys.get(name, ())
        if kind != "Scope":
            changes.append(
                Change(
                    "permission",
                    "remove",
                    label,
                    None,
                    why="an application permission; Paragon signs users in with delegated permissions only",
                )
            )
            continue
        used = paragon.scopes is None or scope in paragon.scopes
        changes.append(
            Change(
                "permission",
                "remove",
                label,
                None,
                harmful=used and bool(keys),
                why=(
                    "Paragon requests it today: connected users lose what it allows"
                    if paragon.scopes is not None and used
                    else "Paragon does not request it, so connected users lose nothing they use"
                    if paragon.scopes is not None
                    else "Paragon's scopes were not read; if Paragon requests it, connected users lose what it allows"
                ),
                fix=f"add {name} to integrations.{keys[0]}.scopes" if keys else "",
            )
        )
    for resource, permission, kind in sorted(wanted - have):
        label, name = _name(live, resource, permission)
        scope = bare_scope(name)
        new_to_paragon = paragon.scopes is not None and scope not in paragon.scopes
        keys = declared.scope_keys.get(name, ())
        changes.append(
            Change(
                "permission",
                "add",
                None,
                label,
                harmful=new_to_paragon and kind == "Scope" and scope not in ("openid", "profile", "email"),
                why=(
                    "connected users have not consented to it: Paragon's token refreshes that ask for it fail "
                    "(AADSTS65001) until each user signs in again or an admin consents in their tenant"
                    if new_to_paragon
                    else "new to the app registration; Paragon already requests it"
                    if paragon.scopes is not None
                    else "Paragon's scopes were not read; if Paragon does not request it yet, connected users have "
                    "not consented to it and token refreshes that ask for it fail (AADSTS65001)"
                ),
                fix=f"remove {name} from integrations.{keys[0]}.scopes" if keys else "",
            )
        )
    return changes


def _owners(live: LiveApp, declared: Declared) -> list[Change]:
    key = declared.app_key
    wanted = [str(o).lower() for o in declared.inputs.get("owners") or []]
    have = {oid.lower(): label for oid, label in live.owners}
    changes = [
        Change(
            "owner",
            "remove",
            oid,
            None,
            why=f"{shown(label)} loses the right to manage the app (the owners are exactly scheduled_deployer plus "
            "owners)",
            fix=f"add {oid} to integrations.{key}.owners" if refusal("owners", oid) is None else "",
            refused=refusal("owners", oid) or "",
        )
        for oid, label in have.items()
        if oid not in wanted
    ]
    changes += [
        Change(
            "owner",
            "add",
            None,
            oid,
            why="from scheduled_deployer / owners; Application.ReadWrite.OwnedBy cannot add an owner to an existing "
            "app, so a Cloud Application Administrator runs this first pulumi up (docs/owners.md)",
        )
        for oid in wanted
        if oid not in have
    ]
    return changes


def compare(live: LiveApp, declared: Declared, paragon: ParagonView) -> list[Change]:
    """Every change the first ``pulumi up`` makes to the live app, in report order."""
    return [
        *_simple(live, declared),
        *_redirects(live, declared),
        *_permissions(live, declared, paragon),
        *_owners(live, declared),
    ]


def password_cap_problem(live: LiveApp, declared: Declared) -> str | None:
    """The refusal when a personal-account audience would need more than two secrets, else None."""
    audiences = {live.sign_in_audience, str(declared.inputs.get("signInAudience") or "")}
    if not audiences & PERSONAL_AUDIENCES or len(live.passwords) + MANAGED_SLOTS <= PERSONAL_PASSWORD_LIMIT:
        return None
    commands = "; ".join(delete_command(live.client_id, k) for k, _, _ in live.passwords)
    return (
        f"the app's audience includes personal Microsoft accounts, so it may hold at most "
        f"{PERSONAL_PASSWORD_LIMIT} client secrets, and the {MANAGED_SLOTS} managed slots plus "
        f"{len(live.passwords)} hand-made secret(s) would need {len(live.passwords) + MANAGED_SLOTS}. Fix: delete "
        f"the hand-made secret(s) right before the first `pulumi up`, which pushes a managed secret to Paragon in "
        f"the same run (token refreshes in between fail; no user has to reconnect): {commands} (docs/adopt.md)"
    )


def suggested_config(live: LiveApp, changes: Iterable[Change], key: str) -> list[str]:
    """YAML lines for ``integrations.<key>:`` that keep the live app as it is on the first ``pulumi up``: the
    client ID always; the display name, audience, token version, redirect URIs and owners where they differ;
    scope edits as comments (the scopes list is yours to decide: each line says which integration).

    Only values the config's rules accept are suggested (`Change.refused` says why the others are not; each
    gets a comment line). Every line reads back with a YAML parser as exactly the key and value it names
    (`provisioner.cli.adopt_values.yaml_line`), and comments hold live values only as `shown_value` shows them.
    """
    lines = [yaml_line("client_id", live.client_id)]
    extra: list[str] = []
    owners: list[str] = []
    notes: list[str] = []
    settings = {
        "display name": "display_name",
        "sign-in audience": "sign_in_audience",
        "access token version": "requested_access_token_version",
    }
    for change in changes:
        if change.refused and change.before is not None:
            notes.append(f"# not kept: {change.what} {shown_value(change.what, change.before)} (the config refuses it)")
        if not change.fix:
            continue
        if change.what in settings:
            value: str | int = str(change.before)
            if change.what == "access token version":
                value = int(value)
            lines.append(yaml_line(settings[change.what], value))
        elif change.what == "Web redirect URI":
            extra.append(str(change.before))
        elif change.what == "owner":
            owners.append(str(change.before))
        elif change.what == "permission":
            notes.append(f"# {shown(change.fix)}")
    if extra:
        lines.append(yaml_line("extra_redirect_uris", list(dict.fromkeys(extra))))
    if owners:
        lines.append(yaml_line("owners", owners))
    return lines + notes


def engine_urn(stack: str, project: str, parent_types: Iterable[str], type_: str, name: str) -> str:
    """A URN as the Pulumi engine builds it: the parents' types (the root stack's left out), ``$``-joined."""
    chain = [t for t in parent_types if t != ROOT_STACK_TYPE] + [type_]
    return f"urn:pulumi:{stack}::{project}::{'$'.join(chain)}::{name}"


def import_file(
    app_key: str, app_name: str, sp_name: str, live: LiveApp, provider_version: str | None
) -> dict[str, Any]:
    """The ``pulumi import --file`` document for one adopted app: the (empty) component, its Application and,
    when the tenant has one, its service principal, with the names and parent the program declares.

    Args:
        app_key: The component's name (the integration that owns the app).
        app_name / sp_name: The children's names (``<key>-app``, ``<key>-sp``).
        live: The app as read (object IDs).
        provider_version: The azuread provider version the program uses (so the import uses the same plugin).
    """
    version = {"version": provider_version} if provider_version else {}
    resources: list[dict[str, Any]] = [
        {"type": COMPONENT_TYPE, "name": app_key, "component": True},
        {
            "type": APPLICATION_TYPE,
            "name": app_name,
            "id": f"/applications/{live.object_id}",
            "parent": app_key,
            **version,
        },
    ]
    if live.service_principal_id:
        resources.append(
            {
                "type": SERVICE_PRINCIPAL_TYPE,
                "name": sp_name,
                "id": live.service_principal_id,
                "parent": app_key,
                **version,
            }
        )
    return {"nameTable": {}, "resources": resources}


def import_file_urns(document: Mapping[str, Any], stack: str, project: str) -> dict[str, str]:
    """Name → URN of every resource of an import file, resolved as ``pulumi import`` does (parents by name in
    the file or the name table)."""
    specs = {str(r["name"]): r for r in document["resources"]}
    table = dict(document.get("nameTable") or {})

    def qualified(name: str) -> list[str]:
        if name in table:
            return str(table[name]).split("::")[2].split("$")
        spec = specs[name]
        parent = spec.get("parent")
        return [*(qualified(parent) if parent else []), str(spec["type"])]

    return {
        name: engine_urn(stack, project, qualified(spec["parent"]) if spec.get("parent") else [], spec["type"], name)
        for name, spec in specs.items()
    }
