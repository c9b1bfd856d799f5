"""The integration catalog as a report: JSON, a terminal table, and the Markdown of docs/integrations.md.

``python -m provisioner catalog [--format text|json|markdown]`` prints it. ``docs/integrations.md`` is
exactly `catalog_markdown()` (a test keeps them in sync; regenerate with
``python -m provisioner catalog --format markdown > docs/integrations.md``).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from provisioner.catalog import CATALOG, PERSONAL_ACCOUNTS, CatalogEntry
from provisioner.config import APP_LEVEL_KEYS


def entry_json(entry: CatalogEntry) -> dict[str, Any]:
    """One catalog entry as JSON-ready data (lists sorted where the catalog holds sets).

    Keys: ``key``, ``title``, ``resource_app_id``, ``resource_uri``, ``resource_title``, ``scopes`` (known
    delegated names), ``default_scopes``, ``openid_scopes``, ``sign_in_audiences``, ``personal_account_scopes``,
    ``audience_reason``, ``paragon_scope_format``, ``resource_uri_per_environment``, ``extras`` (``name``,
    ``description``, ``secret``) and ``sources``.
    """
    return {
        "key": entry.key,
        "title": entry.title,
        "resource_app_id": entry.resource_app_id,
        "resource_uri": entry.resource_uri,
        "resource_title": entry.resource_title,
        "scopes": sorted(entry.delegated_scopes),
        "default_scopes": list(entry.default_scopes),
        "openid_scopes": list(entry.openid_scopes),
        "sign_in_audiences": sorted(entry.sign_in_audiences),
        "personal_account_scopes": sorted(entry.personal_account_scopes),
        "audience_reason": entry.audience_reason,
        "paragon_scope_format": entry.paragon_scope_format.value,
        "resource_uri_per_environment": entry.resource_uri_per_environment,
        "extras": [{"name": x.name, "description": x.description, "secret": x.secret} for x in entry.extras],
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


_INTRO = """\
# Integrations

Generated from `provisioner/catalog/integrations.py` by `python -m provisioner catalog --format markdown`; a test keeps
this file in sync. Every row is a Paragon integration key usable under `integrations:` in
`config/<stack>.yaml`. Without `scopes:`, an integration gets the default scopes below (the plan shows them).
Scope IDs are resolved from the resource API's service principal at deploy time; only the OpenID scopes use
Microsoft Graph's published IDs. A tenant that never used a first-party API may have no service principal for
it yet: create it once with `az ad sp create --id <app ID>`. "Scope format" is how scopes are written in the
string pushed to Paragon (`qualified`: `<resource URI>/<name>`; `bare`: the name). Paragon does not document
which it expects; set `paragon_scope_format` to override, and `pulumi refresh` shows what Paragon holds.

"""

_NOTES = """\

## Sign-in audiences

`sign_in_audience` must be one the integration's API accepts, or `validate` refuses it with the reason. With
a personal-account audience (`AzureADandPersonalMicrosoftAccount`, `PersonalMicrosoftAccount`), every scope
must work for personal Microsoft accounts: {personal}

## Extra Paragon settings (`paragon_values`)

Some integrations ask in Paragon for more than client ID, secret and scopes. Paragon does **not** document
the keys its credential API uses for them, so the names in the table are suggestions, not known keys. Put
the values, under the key your Paragon project uses, in `integrations.<key>.paragon_values` (non-secret
text only). They are merged into the credential's `values` next to `clientId`, `clientSecret` and
`scopes`, and a change to them is a change to the credential (diff and update). `validate` refuses keys
that collide with those three and keys that look like secrets (`secret`, `password`, `token`, ...).

**Secret extras are a manual step.** The Microsoft Teams bot client secret must not be in YAML and is not
pushed by the provisioner: enter it in the integration's settings in Paragon's dashboard, and rotate it
there (the bot is a separate app registration that this stack does not manage). Caution: Paragon does not
document whether its credential upsert keeps `values` it is not sent. If it replaces them, every push (each
rotation) would drop a value entered by hand; check the dashboard after the first `pulumi up`. Pushing such a
secret would need it to come from the provider's environment or secret stack config (like the Paragon login),
never from YAML or plain state; that is not implemented.

## Sharing one app registration (`app:`)

Integrations on the same resource API (e.g. the Microsoft Graph ones) can share one app registration and
one secret rotation: `integrations.onedrive.app: outlook`. The shared app requests the union of the
scopes; each integration's Paragon credential keeps its own scopes and gets the shared app's client ID
and active secret. An integration that shares sets no app-level setting ({app_keys}); they come from the
integration it names, which must exist, share no app itself, and use the same resource API.
"""


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
    personal = "; ".join(
        f"`{e.key}`: {', '.join(sorted(e.personal_account_scopes))}"
        for e in CATALOG.values()
        if e.sign_in_audiences & PERSONAL_ACCOUNTS
    )
    notes = _NOTES.format(personal=personal + ".", app_keys=", ".join(f"`{k}`" for k in APP_LEVEL_KEYS))
    return _INTRO + "\n".join(lines) + "\n" + notes


def print_catalog_table(console: Console) -> None:
    """The catalog as a terminal table: key, resource API, default scopes, audiences, extras."""
    table = Table(title="Paragon Microsoft integrations (python -m provisioner catalog --format json for all)")
    for column in ("Key", "Resource API", "App ID", "Default scopes", "Audiences", "Extras"):
        table.add_column(column, overflow="fold")
    for entry in CATALOG.values():
        table.add_row(
            entry.key,
            escape(entry.resource_title),
            entry.resource_app_id,
            escape(" ".join(entry.default_scopes)),
            _audiences(entry),
            escape(", ".join(x.name + (" (secret)" if x.secret else "") for x in entry.extras) or "-"),
        )
    console.print(table)
