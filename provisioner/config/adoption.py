"""Problems with adopted app registrations (``integrations.<key>.client_id``; docs/adopt.md)."""

from __future__ import annotations

from provisioner.config.model import ProvisionerConfig
from provisioner.config.yaml_source import YamlDocument
from provisioner.errors import Problem


def client_id_problems(doc: YamlDocument, config: ProvisionerConfig) -> list[Problem]:
    """One app registration adopted by two integrations of the file (client IDs compare case-insensitively).

    Two integrations on one app must share it with ``app:``: two `AppRegistration` components managing the
    same app would overwrite each other's redirect URIs, scopes and owners on every run.
    """
    problems: list[Problem] = []
    first: dict[str, str] = {}
    for key, integration in config.integrations.items():
        client_id = integration.client_id
        if client_id is None or integration.app is not None:  # a sharer's client_id is refused as app-level
            continue
        if client_id in first:
            problems.append(
                doc.problem(
                    ("integrations", key, "client_id"),
                    f"the same app registration as integrations.{first[client_id]}.client_id",
                    f"remove client_id here and write `app: {first[client_id]}` to share that app",
                )
            )
        else:
            first[client_id] = key
    return problems
