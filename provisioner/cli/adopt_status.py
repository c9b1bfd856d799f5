"""The ``status`` section for adopted app registrations (``client_id:`` in the config; docs/adopt.md): the hand-made
client secrets still on each adopted app, when each is safe to delete, and the command that deletes it.

Read-only (Graph GETs through `GraphReader`); it never changes ``status``'s exit code. Without a usable sign-in,
or when Graph refuses, the section is one line saying why it was skipped. Every line is scrubbed of the secrets
the environment holds and of credential-shaped text (`scrub_message`): Graph's answers may echo them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from provisioner.cli.adopt_values import delete_command, shown, shown_description
from provisioner.cli.status import Health, SecretReport
from provisioner.config import ProvisionerConfig
from provisioner.errors import GraphError, GraphNotFound
from provisioner.transport.scrub import scrub_message

if TYPE_CHECKING:
    from provisioner.graph.reader import GraphReader

GRAPH_SECONDS: Final = 20.0
"""Time budget of each Graph read here (status runs in scheduled jobs)."""


@dataclass(frozen=True)
class UnmanagedSecret:
    """A client secret on an adopted app that no managed slot holds (made by hand before the adoption).

    Attributes:
        integration: The integration whose app it is.
        client_id: The app's application (client) ID.
        key_id: The secret's key ID (a GUID; not the secret).
        display_name: Its description, or None.
        end_date: RFC 3339 end date, or None.
        safe_to_delete: True once Paragon holds a valid managed secret of this app.
        reason: Why it is (not yet) safe to delete.
        command: The command that deletes it (``az ad app credential delete``).
    """

    integration: str
    client_id: str
    key_id: str
    display_name: str | None
    end_date: str | None
    safe_to_delete: bool
    reason: str
    command: str

    def to_json(self) -> dict[str, Any]:
        """The secret's metadata as a JSON object (key ID, display name, end date; never a value)."""
        return asdict(self)


@dataclass
class AdoptedReport:
    """``secrets`` found, and ``notes``: one line per app not read (and why) or disagreeing with the stack."""

    secrets: list[UnmanagedSecret] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def scrubbed(self, env: Mapping[str, str] | None = None) -> AdoptedReport:
        """This report with its notes and the secrets' descriptions scrubbed (`scrub_message`)."""
        secrets = [
            replace(s, display_name=scrub_message(s.display_name, env=env) if s.display_name else s.display_name)
            for s in self.secrets
        ]
        return AdoptedReport(secrets, [scrub_message(note, env=env) for note in self.notes])

    def to_json(self) -> dict[str, Any]:
        """``{"unmanaged_secrets": [...], "notes": [...]}``, the ``adopted`` key of ``status --format json``."""
        return {"unmanaged_secrets": [s.to_json() for s in self.secrets], "notes": list(self.notes)}

    def lines(self) -> list[str]:
        """The section as text lines."""
        out = ["Hand-made client secrets on adopted apps (the provisioner never deletes them):"]
        for s in self.secrets:
            when = "safe to delete now" if s.safe_to_delete else "not yet safe to delete"
            out.append(
                f"  {s.integration}: key ID {shown(s.key_id)} {shown_description(s.display_name)}, ends "
                f"{s.end_date or 'never'}: {when} ({s.reason}): {s.command}"
            )
        if not self.secrets and not self.notes:
            out.append("  none left")
        return out + [f"  {note}" for note in self.notes]


def _managed_key_ids(deployed: Any) -> set[str]:
    slots = deployed.get("secret", {}).get("slots", []) if isinstance(deployed, dict) else []
    return {str(s.get("key_id")).lower() for s in slots if isinstance(s, dict) and s.get("key_id")}


def adopted_secrets(
    config: ProvisionerConfig,
    outputs: Mapping[str, Any],
    reports: list[SecretReport],
    now: datetime,
    reader: Callable[[], GraphReader],
    env: Mapping[str, str] | None = None,
) -> AdoptedReport | None:
    """The section, or None when no integration adopted an app.

    Args:
        config: The stack's config; apps with ``client_id`` are looked at.
        outputs: ``pulumi stack output --json`` (client IDs and the managed slots' key IDs).
        reports: ``status``'s verdicts (a managed secret Paragon holds that is not expired makes deleting safe).
        now: The evaluation time (``--at``).
        reader: Makes the `GraphReader` (called once, only when needed).
        env: The environment whose secrets are scrubbed from the section (default ``os.environ``).
    """
    adopted = {k: i.client_id for k, i in config.integrations.items() if i.app is None and i.client_id}
    if not adopted:
        return None
    report = AdoptedReport()
    deployed_all = outputs.get("integrations") if isinstance(outputs.get("integrations"), dict) else {}
    verdicts = {r.integration: r for r in reports}
    try:
        graph = reader()
    except GraphError as err:
        report.notes.append(f"skipped: no Microsoft Graph sign-in ({err})")
        return report.scrubbed(env)
    with graph:
        for key, client_id in adopted.items():
            assert client_id is not None
            deployed = deployed_all.get(key) if isinstance(deployed_all, dict) else None
            deployed_id = str(deployed.get("client_id", "")).lower() if isinstance(deployed, dict) else ""
            if deployed_id and deployed_id != client_id:
                report.notes.append(
                    f"{key}: the stack manages client ID {deployed_id}, but the config adopts {client_id}: fix "
                    "client_id, or import the adopted app (docs/adopt.md)"
                )
                continue
            try:
                app = graph.application(client_id)
            except GraphNotFound:
                report.notes.append(f"{key}: app registration {client_id} not found in the signed-in tenant")
                continue
            except GraphError as err:
                report.notes.append(f"{key}: skipped: {err}")
                continue
            managed = _managed_key_ids(deployed)
            verdict = verdicts.get(key)
            valid = verdict is not None and verdict.active_slot is not None and verdict.health is not Health.EXPIRED
            reason = (
                f"Paragon holds managed slot {verdict.active_slot}, valid until {verdict.end_date}"
                if valid and verdict is not None
                else "Paragon does not hold a valid managed secret yet: run pulumi up first"
            )
            for password in app.password_credentials:
                if password.key_id.lower() in managed:
                    continue
                end = password.end_date_time
                report.secrets.append(
                    UnmanagedSecret(
                        integration=key,
                        client_id=client_id,
                        key_id=password.key_id,
                        display_name=password.display_name,
                        end_date=end.strftime("%Y-%m-%dT%H:%M:%SZ") if end else None,
                        safe_to_delete=valid,
                        reason=reason if end is None or end > now else "already expired; " + reason,
                        command=delete_command(client_id, password.key_id),
                    )
                )
    return report.scrubbed(env)


def graph_reader(env: Mapping[str, str]) -> GraphReader:
    """A `GraphReader` for ``status``: the environment's sign-in, a short time budget per read."""
    from provisioner.graph.reader import GraphReader
    from provisioner.transport.retry import RetryPolicy

    return GraphReader(env=env, retry=RetryPolicy(max_attempts=2, total_seconds=GRAPH_SECONDS))
