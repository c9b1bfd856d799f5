"""The plan for people: a per-integration summary first, then every resource with its inputs.

Works on the plan document (`provisioner.cli.plan.Plan.to_json`, the same JSON ``plan --format json``
prints), so nothing here imports Pulumi. Lines are never wrapped by Rich (``soft_wrap``): an application
ID, URL or scope string stays whole when copied or piped (`provisioner.cli.render`).
"""

from __future__ import annotations

import json
from html import escape as html_escape
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from provisioner.cli.render import CellLike, Column, build_table, keep_whole, table_fits

KNOWN_AFTER_DEPLOY = "(known after deploy)"
"""As `provisioner.cli.plan.KNOWN_AFTER_DEPLOY` (kept equal by a test; that module imports Pulumi)."""


def flatten(value: Any, prefix: str = "") -> list[str]:
    """``key.path: value`` lines for nested inputs; lists of scalars joined with ``, ``."""
    if isinstance(value, dict) and value:
        return [line for k, v in value.items() for line in flatten(v, f"{prefix}.{k}" if prefix else k)]
    if isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        return [line for i, v in enumerate(value) for line in flatten(v, f"{prefix}[{i}]")]
    if isinstance(value, list):
        return [f"{prefix}: {', '.join(scalar(v) for v in value)}"] if prefix else []
    return [f"{prefix}: {scalar(value)}"] if prefix else []


def scalar(value: Any) -> str:
    """Text as is; booleans, numbers and null as in JSON/YAML (true, 120, null)."""
    return value if isinstance(value, str) else json.dumps(value)


PARAGON_HOLDS = (
    ("clientId", "client ID"),
    ("clientSecret", "secret"),
    ("scopes", "scopes"),
    ("extraValues", "values"),
    ("credentialName", "credential"),
    ("activate", "activate"),
)
"""The credential resource's inputs that Paragon stores, and their names in the summary."""


def _inputs(doc: dict[str, Any], name: str) -> dict[str, Any]:
    for resource in doc.get("resources", []):
        if resource.get("name") == name and isinstance(resource.get("inputs"), dict):
            inputs: dict[str, Any] = resource["inputs"]
            return inputs
    return {}


def integration_summary(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Per integration in the plan's outputs: its app, audience, scopes, secrets and what Paragon will hold.

    Returns:
        One dict per integration: ``integration``, ``app`` (the owning integration), ``display_name``,
        ``sign_in_audience``, ``scopes`` (names), ``active_slot``, ``window``, ``next_rotation``,
        ``secret_end_dates`` (slot → RFC 3339), ``admin_consent_scopes`` (the configured scopes that need an
        admin's consent in each customer's tenant, `provisioner.catalog.consent_need`), ``paragon`` (the pushed
        inputs, the secret shown as ``[secret] (slot N)``).
    """
    summary = []
    integrations = (doc.get("outputs") or {}).get("integrations") or {}
    for key, out in integrations.items():
        if not isinstance(out, dict):
            continue
        app = str(out.get("app") or key)
        application = _inputs(doc, f"{app}-app")
        secret: dict[str, Any] = out["secret"] if isinstance(out.get("secret"), dict) else {}
        slots = [s for s in secret.get("slots", []) if isinstance(s, dict)]
        active = secret.get("active_slot")
        pushed = _inputs(doc, f"{key}-paragon")
        paragon = {name: pushed[field] for field, name in PARAGON_HOLDS if field in pushed}
        if "secret" in paragon:
            paragon["secret"] = f"{paragon['secret']} (slot {active})"
        summary.append(
            {
                "integration": key,
                "app": app,
                "display_name": application.get("displayName"),
                "sign_in_audience": application.get("signInAudience"),
                "scopes": list(out.get("scopes") or []),
                "active_slot": active,
                "window": secret.get("window"),
                "next_rotation": secret.get("next_rotation"),
                "secret_end_dates": {str(s.get("slot")): s.get("end_date") for s in slots},
                "admin_consent_scopes": list(out.get("admin_consent_scopes") or []),
                "paragon": paragon,
            }
        )
    return summary


def consent_note(scopes: list[str]) -> str:
    """One phrase for the scopes that need an admin's consent in each customer's tenant."""
    return (
        f"admin consent needed in each customer's tenant for: {', '.join(scopes)} (a customer's admin grants it "
        "once; docs/integrations.md, section Admin consent)"
    )


def summary_lines(doc: dict[str, Any]) -> list[str]:
    """The summary as plain text lines (two-space indents; no line is ever wrapped)."""
    lines: list[str] = []
    for item in integration_summary(doc):
        shared = "" if item["app"] == item["integration"] else f", shares the app of {item['app']}"
        lines.append(f"{item['integration']}: app {scalar(item['display_name'])}{shared}")
        lines.append(f"  audience: {scalar(item['sign_in_audience'])}")
        lines.append(f"  scopes: {', '.join(item['scopes']) or '-'}")
        if item["admin_consent_scopes"]:
            lines.append(f"  {consent_note(item['admin_consent_scopes'])}")
        ends = "; ".join(f"slot {slot} ends {end}" for slot, end in item["secret_end_dates"].items())
        lines.append(
            f"  secrets: slot {item['active_slot']} active (window {item['window']}); {ends}; next rotation "
            f"{item['next_rotation']}"
        )
        lines.append("  Paragon will hold: " + "; ".join(f"{k} {scalar(v)}" for k, v in item["paragon"].items()))
    return lines


def plan_markup(doc: dict[str, Any], project: str, stack: str, config: str) -> str:
    """The resource detail as one rich-markup string (printed in one go: one print per line is slow)."""
    count = len(doc["resources"])
    lines = [
        f"[bold]pulumi up would create {count} resources[/] (project {escape(project)}, stack "
        f"{escape(stack)}, config {escape(config)}, as of {doc['at']})"
    ]
    for resource in doc["resources"]:
        lines.append(f"\n[green]+[/] [bold]{escape(resource['name'])}[/]  [dim]{escape(resource['type'])}[/]")
        lines += [f"    {escape(line)}" for line in flatten(resource["inputs"])]
    lines.append("\n[bold]Stack outputs[/]")
    lines += [f"    {escape(line)}" for line in flatten(doc["outputs"])]
    lines.append(
        escape(
            f"\n{KNOWN_AFTER_DEPLOY}: assigned by Entra or Paragon during pulumi up. [secret]: never shown. "
            "Secret slots and their dates: docs/rotation.md."
        )
    )
    return "\n".join(lines)


SUMMARY_COLUMNS = (
    Column("Integration"),
    Column("App", prose=True),
    Column("Audience"),
    Column("Scopes", prose=True),
    Column("Active"),
    Column("Ends"),
    Column("Rotates"),
)
"""The summary as a table (a terminal wide enough for it): the shared style of `provisioner.cli.render`."""


def summary_table(doc: dict[str, Any], width: int) -> Table | None:
    """The summary as a table when it fits ``width`` with every identifier whole, else None."""
    rows: list[list[CellLike]] = []
    for item in integration_summary(doc):
        active = str(item["active_slot"])
        app = scalar(item["display_name"]) + ("" if item["app"] == item["integration"] else f" (of {item['app']})")
        rows.append(
            [
                item["integration"],
                app,
                scalar(item["sign_in_audience"]),
                ", ".join(item["scopes"]) or "-",
                f"slot {active}",
                keep_whole(str(item["secret_end_dates"].get(active))),
                keep_whole(str(item["next_rotation"])),
            ]
        )
    if not rows or not table_fits(SUMMARY_COLUMNS, rows, width):
        return None
    return build_table(None, SUMMARY_COLUMNS, rows)


def render_plan_text(
    doc: dict[str, Any], project: str, stack: str, config: str, console: Console, timeline: list[str] | None = None
) -> None:
    """Summary, the secret timeline (when given), then the resource detail; Rich never inserts a line break
    (``soft_wrap``). On a terminal wide enough the summary's first part is a table (then what Paragon will
    hold, per integration); elsewhere it is plain lines, all printed in one go."""
    parts = [f"[bold]Summary[/] (stack {escape(stack)}, as of {doc['at']})"]
    table = summary_table(doc, console.width) if console.is_terminal else None
    if table is not None:
        console.print(parts.pop(), soft_wrap=True, highlight=False)
        console.print(table)
        parts += [
            escape(f"{item['integration']}: Paragon will hold: ")
            + escape("; ".join(f"{k} {scalar(v)}" for k, v in item["paragon"].items()))
            for item in integration_summary(doc)
        ]
        parts += [
            escape(f"{item['integration']}: {consent_note(item['admin_consent_scopes'])}")
            for item in integration_summary(doc)
            if item["admin_consent_scopes"]
        ]
    else:
        parts += [escape(line) for line in summary_lines(doc)]
    if timeline:
        parts += ["", *(escape(line) for line in timeline)]
    parts += ["", plan_markup(doc, project, stack, config)]
    console.print("\n".join(parts), soft_wrap=True, highlight=False)


def _md(text: str) -> str:
    """Text for a Markdown table cell: HTML-escaped, ``|`` escaped."""
    return html_escape(text).replace("|", "&#124;")


def _code(text: str) -> str:
    """A line inside a fenced block: backticks cannot close the fence."""
    return text.replace("`", "'")


def plan_markdown(doc: dict[str, Any], timeline: str) -> str:
    """The plan as a pull request comment: summary table, the secret timeline (Mermaid), and every resource's
    inputs in a collapsed block. Values are HTML-escaped."""
    stack = html_escape(str(doc.get("stack", "")))
    out = [
        f"### Plan of stack `{stack}` as of {html_escape(str(doc['at']))}",
        "",
        "| Integration | App | Audience | Scopes | Admin consent | Active secret | Next rotation | Paragon will hold |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for item in integration_summary(doc):
        ends = item["secret_end_dates"].get(str(item["active_slot"]))
        paragon = "<br>".join(_md(f"{k}: {scalar(v)}") for k, v in item["paragon"].items())
        out.append(
            "| "
            + " | ".join(
                [
                    f"`{_code(item['integration'])}`",
                    _md(scalar(item["display_name"])),
                    _md(scalar(item["sign_in_audience"])),
                    _md(", ".join(item["scopes"])),
                    _md(", ".join(item["admin_consent_scopes"]) or "none flagged"),
                    _md(f"slot {item['active_slot']}, ends {ends}"),
                    _md(str(item["next_rotation"])),
                    paragon,
                ]
            )
            + " |"
        )
    out += ["", timeline, "<details><summary>Every resource and its inputs</summary>", "", "```"]
    for resource in doc["resources"]:
        out.append(_code(f"+ {resource['name']}  {resource['type']}"))
        out += [_code(f"    {line}") for line in flatten(resource["inputs"])]
    out += ["```", "", "</details>", ""]
    return "\n".join(out)
