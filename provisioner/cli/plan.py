"""The credential-free plan: run the real program (``__main__.py``) under Pulumi mocks and record it.

Nothing is deployed and nothing leaves the machine. The mocks stand in for the Pulumi engine and the
azuread provider: values that only exist after deployment (client IDs, object IDs, key IDs, scope IDs
resolved from a service principal) come back as `KNOWN_AFTER_DEPLOY` markers, and secret values are
marked secret exactly as the engine would, so the plan shows them as ``[secret]``.
"""

from __future__ import annotations

import json
import runpy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from provisioner.catalog import CATALOG
from provisioner.cli.gc_pause import collector_paused
from provisioner.config.safe_io import read_text_capped
from provisioner.program.rotation import rfc3339

KNOWN_AFTER_DEPLOY = "(known after deploy)"
SECRET_MARK = "[secret]"
_ENGINE_KEYS = frozenset({"__provider"})


def _secret(value: Any) -> dict[str, Any]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _sorted(value: Any) -> Any:
    if isinstance(value, dict) and not _is_secret(value):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def redact(value: Any) -> Any:
    """Replace every secret-wrapped value (at any depth) with ``"[secret]"``."""
    if _is_secret(value):
        return SECRET_MARK
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


@dataclass
class PlannedResource:
    """One resource the program declared: Pulumi type token, logical name, inputs under wire names."""

    type: str
    name: str
    inputs: dict[str, Any]


class RecordingMocks(pulumi.runtime.Mocks):
    """Pulumi mocks that record every resource and invoke, answering like the real providers would.

    Args:
        scope_ids: Per resource app ID, the ``oauth2PermissionScopeIds`` its service principal publishes.
            By default every catalog scope name maps to a `KNOWN_AFTER_DEPLOY`-style marker.
        client_config: What ``getClientConfig`` returns (objectId, tenantId, clientId).
    """

    def __init__(
        self,
        scope_ids: Mapping[str, Mapping[str, str]] | None = None,
        client_config: Mapping[str, str] | None = None,
    ) -> None:
        self.resources: list[PlannedResource] = []
        self.invokes: list[tuple[str, dict[str, Any]]] = []
        self._scope_ids = scope_ids
        self._client_config = dict(
            client_config
            or {
                "clientId": KNOWN_AFTER_DEPLOY,
                "objectId": KNOWN_AFTER_DEPLOY,
                "tenantId": KNOWN_AFTER_DEPLOY,
            }
        )

    def _published_scopes(self, app_id: str) -> dict[str, str]:
        if self._scope_ids is not None:
            return dict(self._scope_ids.get(app_id, {}))
        names = [n for entry in CATALOG.values() if entry.resource_app_id == app_id for n in entry.delegated_scopes]
        return {name: f"(ID of {name}, resolved at deploy)" for name in sorted(names)}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = {k: v for k, v in args.inputs.items() if k not in _ENGINE_KEYS}
        self.resources.append(PlannedResource(type=args.typ, name=args.name, inputs=_sorted(inputs)))
        state = dict(inputs)
        if args.typ == "azuread:index/application:Application":
            state.update(clientId=KNOWN_AFTER_DEPLOY, objectId=KNOWN_AFTER_DEPLOY)
        elif args.typ == "azuread:index/servicePrincipal:ServicePrincipal":
            state.update(objectId=KNOWN_AFTER_DEPLOY)
        elif args.typ == "azuread:index/applicationPassword:ApplicationPassword":
            state.update(keyId=KNOWN_AFTER_DEPLOY, value=_secret(KNOWN_AFTER_DEPLOY))
        elif args.typ.startswith("pulumi-python:dynamic"):
            state.update(
                credentialId=KNOWN_AFTER_DEPLOY,
                integrationId=KNOWN_AFTER_DEPLOY,
                secretFingerprint=KNOWN_AFTER_DEPLOY,
                secretVerifiedAt=KNOWN_AFTER_DEPLOY,
            )
        return KNOWN_AFTER_DEPLOY, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.invokes.append((args.token, dict(args.args)))
        if args.token == "azuread:index/getClientConfig:getClientConfig":
            return dict(self._client_config), []
        if args.token == "azuread:index/getServicePrincipal:getServicePrincipal":
            app_id = str(args.args.get("clientId"))
            published = self._published_scopes(app_id)
            result = {
                "clientId": app_id,
                "objectId": KNOWN_AFTER_DEPLOY,
                "oauth2PermissionScopeIds": published,
                "oauth2PermissionScopes": [],
            }
            return result, []
        raise NotImplementedError(f"the plan does not mock {args.token}")


@dataclass
class Plan:
    """What ``pulumi up`` would create, as evaluated offline.

    Attributes:
        stack: Stack name.
        at: Evaluation time (UTC).
        resources: Declared resources in declaration order.
        outputs: Stack outputs, secrets wrapped (use `redact` before showing them).
        project: Pulumi project name (``name`` in the project's ``Pulumi.yaml``).
        config: The stack's YAML file, as the user named it.
    """

    stack: str
    at: datetime
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    project: str = ""
    config: str = ""

    def to_json(self) -> dict[str, Any]:
        """The plan as one JSON-ready document, secrets replaced by ``"[secret]"``."""
        return {
            "project": self.project,
            "stack": self.stack,
            "config": self.config,
            "at": rfc3339(self.at),
            "resources": [
                {"type": r.type, "name": r.name, "inputs": redact(r.inputs)}
                for r in sorted(self.resources, key=lambda r: r.name)  # mocks register in no fixed order
            ],
            "outputs": redact(self.outputs),
        }


def project_name(project_dir: Path) -> str:
    """The ``name`` in ``<project_dir>/Pulumi.yaml``."""
    data = yaml.safe_load(read_text_capped(project_dir / "Pulumi.yaml"))
    return str(data["name"])


def _resolve(value: Any) -> Any:
    """Resolve a stack output to plain data; secret parts come back wrapped."""
    if isinstance(value, dict):
        return {k: _resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v) for v in value]
    if isinstance(value, pulumi.Output):
        resolved = _resolve(_sync_await(value.future()))
        return _secret(resolved) if _sync_await(value.is_secret()) else resolved
    return value


def run_plan(
    project_dir: Path,
    stack: str,
    at: datetime,
    *,
    config_file: Path | None = None,
    mocks: RecordingMocks | None = None,
    monitor: MockMonitor | None = None,
) -> Plan:
    """Run ``<project_dir>/__main__.py`` for ``stack`` under mocks, as of ``at``.

    Args:
        project_dir: Folder holding ``Pulumi.yaml`` and ``__main__.py``.
        stack: Stack name; selects ``config/<stack>.yaml`` unless ``config_file`` is given.
        at: Evaluation time (timezone-aware).
        config_file: Another config file to use.
        mocks: Mocks to use (tests pass their own to inspect invokes); a fresh `RecordingMocks` by default.
        monitor: A `MockMonitor` (built on ``mocks``) to register resources with, e.g. one that records each
            resource's parent (``adopt`` derives the import file's names and parents from it).

    Raises:
        pulumi.RunError: The program refused to run (an invalid config: the message says what to fix).
    """
    mocks = mocks or RecordingMocks()
    project = project_name(project_dir)
    # A fresh runtime for every run: no root stack, no RPCs or failures left over from an earlier run.
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=True, monitor=monitor)
    config = {f"{project}:at": rfc3339(at)}
    config_file = config_file or project_dir / "config" / f"{stack}.yaml"
    config[f"{project}:configFile"] = str(config_file)
    pulumi.runtime.set_all_config(config)
    program = str(project_dir / "__main__.py")

    def run_program() -> None:
        runpy.run_path(program, run_name="__main__")

    with collector_paused():
        _sync_await(run_pulumi_func(run_program))
        root = settings.get_root_resource()
        raw_outputs: dict[str, Any] = dict(getattr(root, "outputs", {}) or {})
        outputs = _resolve(raw_outputs)
    return Plan(
        stack=stack,
        at=at,
        resources=mocks.resources,
        outputs=outputs,
        project=project,
        config=str(config_file),
    )


def plan_json(plan: Plan) -> str:
    """The plan as indented JSON text (secrets as ``"[secret]"``)."""
    return json.dumps(plan.to_json(), indent=2, sort_keys=False)
