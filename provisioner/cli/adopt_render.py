"""The ``adopt`` report as text, and the import file on disk (`provisioner.cli.adopt` gathers what they show)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner.cli.adopt_report import Change, LiveApp, ParagonView, suggested_config
from provisioner.cli.adopt_values import delete_command, shown, shown_description, shown_value
from provisioner.errors import ProvisionerError, escape_controls

CANNOT_KEEP = {
    "Web redirect URI": "pulumi up removes it, so sign-ins that send it fail (AADSTS50011). Fix it in Entra first "
    "(register a redirect URI the config accepts and move that client to it), or accept the removal",
    "display name": "pulumi up renames the app. Rename it in Entra to a name the config accepts first, or accept "
    "the new name",
    "sign-in audience": "pulumi up sets the audience the config declares. Correct it in Entra first, or accept the "
    "change",
    "access token version": "pulumi up sets the version the config declares. Correct it in Entra first, or accept "
    "the change",
    "owner": "pulumi up removes this owner. Correct it in Entra first, or accept the removal",
}
"""What to do about a live value the config's rules refuse (`Change.refused`), per kind of change."""


class AdoptError(ProvisionerError):
    """Adoption cannot go on: one line (what, and the fix). The command exits 1."""


@dataclass
class Adoption:
    """Everything the report shows.

    Attributes:
        key / app_key: The integration named, and the one whose app it is (its ``app:`` target, or itself).
        stack / config_file: The stack and its YAML.
        live: The app as read from Graph.
        changes: What the first ``pulumi up`` changes on it.
        paragon: What Paragon holds.
        slots: ``(resource name, end date)`` of the two managed secret slots; ``active_slot`` Paragon's.
        import_document: The ``pulumi import --file`` JSON.
        refusal: Why adoption must not go on as is (the personal-account secret cap), else None.
        config_client_id: ``client_id`` already in the config for this app, or None.
    """

    key: str
    app_key: str
    stack: str
    config_file: Path
    live: LiveApp
    changes: list[Change]
    paragon: ParagonView
    slots: list[tuple[str, str]]
    active_slot: int
    import_document: dict[str, Any]
    refusal: str | None = None
    config_client_id: str | None = None


def _change_line(change: Change) -> str:
    mark = "!" if change.harmful else {"add": "+", "remove": "-", "change": "~"}[change.action]
    before = shown_value(change.what, str(change.before))
    if change.action == "change":
        what = f"{change.what}: {before} -> {shown_value(change.what, str(change.after))}"
    else:
        what = f"{change.what} {shown_value(change.what, str(change.after)) if change.action == 'add' else before}"
    text = f"  {mark} {change.action} {what}: {change.why}"
    if change.harmful:
        text += " [hurts connected users]"
    if change.fix:
        text += f". Avoid it: {change.fix}"
    if change.refused:
        advice = CANNOT_KEEP.get(change.what, "correct it in Entra first, or accept the change")
        text += f". Cannot keep it: {change.refused}. {advice}"
    return text


def render(adoption: Adoption, output: Path | None) -> str:
    """The report as text (no secret anywhere: Graph returns none and Paragon's is never kept)."""
    live, key, app_key, stack = adoption.live, adoption.key, adoption.app_key, adoption.stack
    shared = f" (shares the app of {app_key})" if app_key != key else ""
    lines = [
        f"Adopting app registration '{shown(live.display_name)}' (client ID {live.client_id}, object ID "
        f"{live.object_id}) for integration {key}{shared}, stack {stack}, config {adoption.config_file}",
        "",
        "What the first `pulumi up` changes on the live app (! hurts connected users):",
    ]
    lines += [_change_line(c) for c in adoption.changes] or ["  nothing: the app already matches the config"]
    harmful = sum(c.harmful for c in adoption.changes)
    if harmful:
        lines.append(f"  {harmful} change(s) hurt connected users: apply the config edits below before pulumi up")
    refused = sum(bool(c.refused) for c in adoption.changes)
    if refused:
        lines.append(
            f"  {refused} live value(s) the config cannot keep (Cannot keep it, above): no config edit avoids those "
            "changes; fix the values in Entra before pulumi up, or accept the changes"
        )
    lines += ["", "Existing client secrets (kept: the provisioner never deletes a secret it did not create):"]
    active = next((end for name, end in adoption.slots if name.endswith(f"-{adoption.active_slot}")), "?")
    for key_id, name, end in live.passwords:
        lines.append(
            f"  key ID {shown(key_id)} {shown_description(name)}, ends {end or 'never'}: Paragon stops using it "
            f"once the first pulumi up pushes the managed secret; then remove it: "
            + delete_command(live.client_id, key_id)
        )
    if not live.passwords:
        lines.append("  none")
    lines.append(
        "  the first pulumi up adds "
        + ", ".join(f"{name} (ends {end})" for name, end in adoption.slots)
        + f"; Paragon gets slot {adoption.active_slot}'s (ends {active})"
    )
    lines += [
        "",
        "Service principal: "
        + (
            f"{live.service_principal_id}, imported with the app (no second one is created)"
            if live.service_principal_id
            else f"none in this tenant yet: pulumi up creates {app_key}-sp"
        ),
    ]
    if adoption.paragon.client_id is not None and adoption.paragon.client_id != live.client_id:
        lines.append(
            f"Paragon: WARNING: its {key} credential holds client ID {adoption.paragon.client_id}, not "
            f"{live.client_id}: you may be adopting the wrong app. The first pulumi up would switch Paragon to "
            f"{live.client_id}, and every connected user would have to reconnect"
        )
    elif adoption.paragon.client_id is not None:
        lines.append(f"Paragon: {adoption.paragon.note}, this app: connected users keep working")
    else:
        lines.append(f"Paragon: {adoption.paragon.note}")
    lines += ["", f"Config edits under integrations.{app_key} in {adoption.config_file}:"]
    lines += [f"    {line}" for line in suggested_config(live, adoption.changes, app_key)]
    if adoption.refusal:
        return _text(lines)
    lines.append("")
    target = str(output) if output else "import.json"
    if output:
        count = len(adoption.import_document["resources"])
        what = "component, app, service principal" if live.service_principal_id else "component, app"
        lines.append(f"Wrote the Pulumi import file {output} ({count} resources: {what}).")
    else:
        lines.append("Write the Pulumi import file with --output import.json, then:")
    lines += [
        "Next (docs/adopt.md):",
        f"  pulumi stack select {stack}            # or: pulumi stack init {stack}",
        f"  pulumi import --file {target} --stack {stack} --generate-code=false",
        f"  pulumi preview --stack {stack} --diff    # {app_key}-app: an update in place, never create/replace/delete",
        f"  pulumi up --stack {stack}",
        f"  python -m provisioner status --stack {stack} --config {adoption.config_file}",
    ]
    return _text(lines)


def _text(lines: list[str]) -> str:
    # Belt and braces: whatever a line holds, it stays one line without terminal escapes or bidi overrides.
    return "\n".join(escape_controls(line) for line in lines) + "\n"


def write_import_file(adoption: Adoption, output: Path) -> None:
    """Write the import file (indented JSON).

    Raises:
        AdoptError: The file cannot be written.
    """
    try:
        output.write_text(json.dumps(adoption.import_document, indent=2) + "\n", encoding="utf-8")
    except OSError as err:
        raise AdoptError(f"{output}: cannot write ({err.strerror}). Fix: pass --output with a writable path") from None


__all__ = ["AdoptError", "Adoption", "render", "write_import_file"]
