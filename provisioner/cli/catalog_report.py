"""The integration catalog as a report: JSON, text, one integration in full, and docs/integrations.md.

``python -m provisioner catalog [KEY] [--format text|json|markdown]`` prints it. ``docs/integrations.md`` is
exactly `catalog_markdown()` (a test keeps them in sync; regenerate with
``python -m provisioner catalog --format markdown > docs/integrations.md``).

The text views never break an integration key, an application ID or a scope name across lines, at any
width: each is printed whole, and lists wrap between names.
"""

from __future__ import annotations

import textwrap
from typing import Any, Final

from provisioner.catalog import (
    ADMIN_CONSENT_URL,
    CATALOG,
    PERSONAL_ACCOUNTS,
    CatalogEntry,
    consent_need,
    resource_permissions,
)
from provisioner.catalog.permissions import all_resource_permissions, consent_policy
from provisioner.config import APP_LEVEL_KEYS

ORGANIZATIONS_CONSENT_URL = ADMIN_CONSENT_URL.format(tenant="organizations", client_id="<client ID>")


def scope_json(entry: CatalogEntry, name: str) -> dict[str, Any]:
    """One known scope of an entry with its consent facts (`provisioner.catalog.consent_need`)."""
    need = consent_need(entry.resource_app_id, name)
    data = resource_permissions(entry.resource_app_id)
    permission = data.scopes.get(name) if data else None
    return {
        "name": name,
        "id": permission.id if permission else None,
        "admin_consent_required": need.admin_consent_required,
        "user_consent_blocked": need.user_consent_blocked,
        "needs_admin_consent": need.needs_admin,
        "consent_note": need.note,
        "personal_accounts": name in entry.personal_account_scopes,
        "high_privilege": permission.high_privilege if permission else None,
    }


def permission_data_json(entry: CatalogEntry) -> dict[str, Any] | None:
    """Where the resource's scope data comes from: completeness, count and source (None: no data file)."""
    data = resource_permissions(entry.resource_app_id)
    if data is None:
        return None
    return {
        "completeness": data.completeness,
        "note": data.completeness_note,
        "delegated_scopes": len(data.scopes),
        "source": dict(data.source),
    }


def entry_json(entry: CatalogEntry) -> dict[str, Any]:
    """One catalog entry as JSON-ready data (lists sorted where the catalog holds sets).

    Keys: ``key``, ``title``, ``resource_app_id``, ``resource_uri``, ``resource_title``, ``scopes`` (known
    delegated names), ``scope_details`` (per known scope: ``name``, ``id``, ``admin_consent_required``,
    ``user_consent_blocked``, ``needs_admin_consent``, ``consent_note``, ``personal_accounts``,
    ``high_privilege``), ``default_scopes``, ``default_reason``, ``default_scopes_needing_admin_consent``,
    ``openid_scopes``, ``sign_in_audiences``, ``personal_account_scopes``, ``audience_reason``,
    ``paragon_scope_format``, ``resource_uri_per_environment``, ``environment_value``, ``extras``
    (``name``, ``description``, ``secret``), ``dashboard_settings`` (``setting``, ``choose``),
    ``permission_data`` (or null) and ``sources``.
    """
    return {
        "key": entry.key,
        "title": entry.title,
        "resource_app_id": entry.resource_app_id,
        "resource_uri": entry.resource_uri,
        "resource_title": entry.resource_title,
        "scopes": sorted(entry.delegated_scopes),
        "scope_details": [scope_json(entry, name) for name in sorted(entry.delegated_scopes)],
        "default_scopes": list(entry.default_scopes),
        "default_reason": entry.default_reason,
        "default_scopes_needing_admin_consent": [
            s for s in entry.default_scopes if consent_need(entry.resource_app_id, s).needs_admin
        ],
        "openid_scopes": list(entry.openid_scopes),
        "sign_in_audiences": sorted(entry.sign_in_audiences),
        "personal_account_scopes": sorted(entry.personal_account_scopes),
        "audience_reason": entry.audience_reason,
        "paragon_scope_format": entry.paragon_scope_format.value,
        "resource_uri_per_environment": entry.resource_uri_per_environment,
        "environment_value": entry.environment_value,
        "extras": [{"name": x.name, "description": x.description, "secret": x.secret} for x in entry.extras],
        "dashboard_settings": [{"setting": s, "choose": v} for s, v in entry.dashboard_settings],
        "permission_data": permission_data_json(entry),
        "sources": list(entry.sources),
    }


def catalog_json() -> list[dict[str, Any]]:
    """Every catalog entry (`entry_json`), in catalog order."""
    return [entry_json(entry) for entry in CATALOG.values()]


def _audiences(entry: CatalogEntry) -> str:
    if entry.accepts_personal_accounts:
        return "work/school + personal (only the personal-capable scopes)"
    return "work/school only"


def _extras(entry: CatalogEntry) -> str:
    parts = [f"`{x.name}`{' (secret: manual)' if x.secret else ''}" for x in entry.extras]
    return ", ".join(parts) or "none"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


# --- text ------------------------------------------------------------------------------------------------


def _field(label: str, text: str, width: int) -> list[str]:
    """``  label  text`` wrapped at ``width`` between words (a key, ID or scope name is never split)."""
    head = f"  {label:<15} "
    return textwrap.wrap(
        text,
        width=max(width, len(head) + 20),
        initial_indent=head,
        subsequent_indent=" " * len(head),
        break_long_words=False,
        break_on_hyphens=False,
    ) or [head.rstrip()]


def catalog_text(width: int = 80) -> str:
    """Every integration, a few lines each: key and title, resource API and app ID, defaults, audiences."""
    lines = [
        "Paragon Microsoft integrations",
        "(python -m provisioner catalog KEY: one in full; --format json: everything)",
        "",
    ]
    for entry in CATALOG.values():
        lines.append(f"{entry.key}  ({entry.title})")
        lines += _field("resource API", f"{entry.resource_title} {entry.resource_app_id}", width)
        lines += _field("default scopes", " ".join(entry.default_scopes), width)
        admin = [s for s in entry.default_scopes if consent_need(entry.resource_app_id, s).needs_admin]
        if admin:
            lines += _field("admin consent", " ".join(admin), width)
        lines += _field("audiences", _audiences(entry), width)
        extras = ", ".join(x.name + (" (secret, manual)" if x.secret else "") for x in entry.extras)
        lines += _field("extras", extras or "-", width)
        lines.append("")
    return "\n".join(lines)


def entry_text(entry: CatalogEntry, width: int = 80) -> str:
    """One integration in full: resource API, every known scope with its consent need, defaults, audiences,
    Paragon settings, the scope data's source, and the documents its facts come from."""
    lines = [f"{entry.key}  ({entry.title})"]
    lines += _field("resource API", entry.resource_title, width)
    lines += _field("app ID", entry.resource_app_id, width)
    lines += _field("resource URI", entry.resource_uri, width)
    data = resource_permissions(entry.resource_app_id)
    if data is not None:
        accepted = (
            f"any of the {len(data.scopes)} delegated scopes in the data ({data.completeness}: "
            f"{data.completeness_note}); source {data.source_line()}"
        )
    else:
        accepted = "the known scopes below; others are checked at deploy time against the service principal"
    lines += _field("accepts", accepted, width)
    lines += _field("default scopes", " ".join(entry.default_scopes), width)
    if entry.default_reason:
        lines += _field("why", entry.default_reason, width)
    lines += _field("audiences", f"{', '.join(sorted(entry.sign_in_audiences))}: {entry.audience_reason}", width)
    lines += _field("openid scopes", " ".join(entry.openid_scopes), width)
    fmt = entry.paragon_scope_format.value
    if entry.environment_value:
        fmt += f" (qualified with paragon_values.{entry.environment_value} when set)"
    lines += _field("scope format", fmt, width)
    for extra in entry.extras:
        lines += _field("paragon value", f"{extra.name}: {extra.description}", width)
    for setting, choose in entry.dashboard_settings:
        lines += _field("in Paragon", f"{setting}: {choose}", width)
    names = sorted(entry.delegated_scopes)
    notes = {name: consent_need(entry.resource_app_id, name).note for name in names}
    unflagged = UNFLAGGED in notes.values() and all(note.startswith(UNFLAGGED) for note in notes.values())
    # Said once for a resource that publishes no admin-consent flag at all, not on every one of its scopes.
    lines.append(f"  known scopes ({UNFLAGGED} by this resource)" if unflagged else "  known scopes (consent)")
    name_width = max(len(n) for n in names)
    for name in names:
        note = notes[name].removeprefix(UNFLAGGED).removeprefix("; ") if unflagged else notes[name]
        personal = "; personal accounts too" if name in entry.personal_account_scopes else ""
        if data is not None and name in data.scopes and data.scopes[name].high_privilege:
            personal += "; high-privilege (Microsoft's table)"
        text = "; ".join(part for part in (note, personal.removeprefix("; ")) if part)
        if not text:
            lines.append(f"    {name}")
            continue
        head = f"    {name:<{name_width}}  "
        lines += textwrap.wrap(
            text,
            width=max(width, len(head) + 20),
            initial_indent=head,
            subsequent_indent=" " * len(head),
            break_long_words=False,
            break_on_hyphens=False,
        )
    for source in entry.sources:
        lines += _field("source", source, width)
    return "\n".join(lines) + "\n"


UNFLAGGED: Final = "admin-consent flag not published"
"""`provisioner.catalog.consent_need`'s note for a scope whose resource publishes no admin-consent flag."""


# --- Markdown (docs/integrations.md) ----------------------------------------------------------------------

_INTRO = """\
# Integrations

Generated from `provisioner/catalog/` by `python -m provisioner catalog --format markdown`; a test keeps this file
in sync. Every row is a Paragon integration key usable under `integrations:` in `config/<stack>.yaml`.
Without `scopes:`, an integration gets the default scopes below (the plan shows them). `python -m provisioner
catalog KEY` shows one integration in full, with every known scope and who can consent to it.
"Scope format" is how scopes are written in the string pushed to Paragon (`qualified`: `<resource URI>/<name>`;
`bare`: the name). Paragon does not document which it expects; set `paragon_scope_format` to override, and
`pulumi refresh` shows what Paragon holds. The order of `scopes:` does not matter: scopes are sorted in the app
registration, in the string pushed to Paragon and in the outputs.

"""

_NOTES = """\

## Scope names and IDs

Scope names are checked against data generated from Microsoft's published sources by
`scripts/generate_permissions.py` (`provisioner/catalog/permissions/`; each file records its source
repository, commit, file checksums and date):

{data}

A name outside the data is an error only where the data is the resource's complete published list (Azure
DevOps); elsewhere it is a warning, and `pulumi preview` checks it against the resource API's service
principal (and stops with one line if it is not published). Suggestions for a misspelt name come from the
same resource and are never broader than the name written (no `.All`, tenant-wide, manage or full-control
variant for a narrower name). `.default` is not a permission name: list the scopes themselves.

Microsoft Graph scope IDs are the same in every tenant and come from the data, so a Graph-only stack looks
nothing up. Other resources publish no IDs: they are read from the resource API's service principal at
deploy time, once per resource API per run. A tenant that never used a first-party API may have no service
principal for it yet: create it once with `az ad sp create --id <app ID>`.

## Admin consent

A scope needs an administrator's consent in a customer's tenant when Microsoft marks it "admin consent
required" (Microsoft Graph's data has the flag; Power BI, Azure DevOps and Dynamics publish none), or when
Microsoft's managed user-consent policy covers it: since {policy_since}, tenants on the default consent
setting let users consent only to low-risk permissions, and {policy_scopes} need an admin's approval
({policy_note}). `validate` warns for every configured scope that needs admin consent, `catalog KEY` marks
each known scope, and the stack output `integrations.<key>.admin_consent_scopes` lists them.

Where a customer's users cannot consent, their admin grants consent once for the whole tenant by opening
the multi-tenant app's admin-consent URL (Microsoft identity platform, "Grant tenant-wide admin consent"),
signed in with a role that may grant it:

    {consent_url}

(`organizations` lets the admin sign in from any tenant; a tenant ID targets one.) The stack output
`integrations.<key>.admin_consent_url` is that URL for your own tenant, with the client ID filled in.

Default scopes that need admin consent: {default_admin}.

## Sign-in audiences

`sign_in_audience` must be one the integration's API accepts, or `validate` refuses it with the reason. With
a personal-account audience (`AzureADandPersonalMicrosoftAccount`, `PersonalMicrosoftAccount`), every scope
must work for personal Microsoft accounts: {personal}

## Organization and environment URLs (Dynamics 365, Finance)

Dataverse (`microsoftDynamics`) and Finance & Operations (`dynamicsfinance`) are per-environment resources.
Put the customer's URL in `paragon_values` (`organizationUrl`: `https://<org>.crm<N>.dynamics.com`;
`environmentUrl`: `https://<env>.operations.dynamics.com`), with `https://`, no path and no trailing slash;
`validate` checks it. Dataverse in a national cloud is accepted with its own host (`<org>.crm.microsoftdynamics.us`
for US Government GCC High, `<org>.crm.appsplatform.us` for DoD, `<org>.crm.dynamics.cn` for China; GCC uses
`crm9.dynamics.com`): the app registration must then live in that cloud's Entra tenant (`AZURE_AUTHORITY_HOST`
and the azuread provider's `environment`). Finance & Operations in a national cloud is not supported.
The scopes pushed to Paragon are then qualified with it
(`https://contoso.crm.dynamics.com/user_impersonation`), because a bare scope is read by the Microsoft
identity platform as a Microsoft Graph scope (AADSTS650053). Without the URL they are pushed bare and
`validate` warns; `paragon_scope_format: bare` keeps them bare if Paragon qualifies them itself.

## Extra Paragon settings (`paragon_values`)

Some integrations ask in Paragon for more than client ID, secret and scopes. Paragon does **not** document
the keys its credential API uses for them, so the names in the table are suggestions, not known keys. Put
the values, under the key your Paragon project uses, in `integrations.<key>.paragon_values` (non-secret
text only). They are merged into the credential's `values` next to `clientId`, `clientSecret` and
`scopes`, and a change to them is a change to the credential (diff and update). `validate` refuses keys
that collide with those three and keys that look like secrets (`secret`, `password`, `token`, ...).

Settings chosen in Paragon's dashboard (not credential values): {dashboard}.

**Secret extras are a manual step.** The Microsoft Teams bot client secret must not be in YAML and is not
pushed or rotated by the provisioner: enter it in the integration's settings in Paragon's dashboard, and
renew it there (the bot is a separate app registration that this stack does not manage). Since 2025, new
Azure Bot registrations are single-tenant (or use a user-assigned managed identity, with no secret at all);
multi-tenant bot creation is deprecated. Caution: Paragon does not document whether its credential upsert
keeps `values` it is not sent. If it replaces them, every push (each rotation) would drop a value entered by
hand; check the dashboard after the first `pulumi up`. Pushing such a secret would need it to come from the
provider's environment or secret stack config (like the Paragon login), never from YAML or plain state;
that is not implemented.

## Sharing one app registration (`app:`)

Integrations on the same resource API (e.g. the Microsoft Graph ones) can share one app registration and
one secret rotation: `integrations.onedrive.app: outlook`. The shared app requests the union of the
scopes; each integration's Paragon credential keeps its own scopes and gets the shared app's client ID
and active secret. An integration that shares sets no app-level setting ({app_keys}); they come from the
integration it names, which must exist, share no app itself, and use the same resource API.
"""


def _data_lines() -> str:
    rows = []
    for data in all_resource_permissions().values():
        files = ", ".join(
            f"`{path}` (SHA-256 `{digest[:12]}…`)" for path, digest in data.source["files_sha256"].items()
        )
        rows.append(
            f"- {data.resource_title} (`{data.resource_app_id}`): {len(data.scopes)} delegated scopes, "
            f"{data.completeness} ({data.completeness_note}); from `{data.source['repository']}` at "
            f"`{data.source['commit']}`, {files}, generated {data.source['generated']}."
        )
    return "\n".join(rows)


def catalog_markdown() -> str:
    """The full text of docs/integrations.md."""
    lines = [
        "| Key | Title | Resource API (app ID) | Default scopes | Audiences | Scope format | Extras | Source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for entry in CATALOG.values():
        sources = "; ".join(_cell(s) for s in entry.sources)
        lines.append(
            f"| `{entry.key}` | {entry.title} | {entry.resource_title} `{entry.resource_app_id}` | "
            f"{', '.join(entry.default_scopes)} | {_audiences(entry)} | {entry.paragon_scope_format.value} | "
            f"{_extras(entry)} | {sources} |"
        )
    lines += ["", "Why each default set:", ""]
    lines += [f"- `{e.key}`: {e.default_reason}." for e in CATALOG.values() if e.default_reason]
    personal = "; ".join(
        f"`{e.key}`: {', '.join(sorted(e.personal_account_scopes))}"
        for e in CATALOG.values()
        if e.sign_in_audiences & PERSONAL_ACCOUNTS
    )
    policy = consent_policy()
    named = sorted({s for p in policy.policies for s in p.scopes})
    unnamed = [p for p in policy.policies if not p.complete]
    policy_note = "; ".join(f"also {p.name} since {p.since}: {p.note}" for p in unnamed) or "every covered scope named"
    default_admin = "; ".join(
        f"`{e.key}`: {', '.join(admin)}"
        for e in CATALOG.values()
        if (admin := [s for s in e.default_scopes if consent_need(e.resource_app_id, s).needs_admin])
    )
    dashboard = "; ".join(f"`{e.key}`: {s}: {v}" for e in CATALOG.values() for s, v in e.dashboard_settings)
    notes = _NOTES.format(
        data=_data_lines(),
        policy_since=min(p.since for p in policy.policies),
        policy_scopes=", ".join(named),
        policy_note=f"{policy_note}; source: {policy.source['document']}",
        consent_url=ORGANIZATIONS_CONSENT_URL,
        default_admin=default_admin or "none",
        personal=personal + ".",
        dashboard=dashboard or "none",
        app_keys=", ".join(f"`{k}`" for k in APP_LEVEL_KEYS),
    )
    return _INTRO + "\n".join(lines) + "\n" + notes
