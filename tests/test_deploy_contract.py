"""What the program promises the engine, checked under Pulumi mocks and on the provider's own helpers.

* A scope the resource API's service principal does not publish (found inside an ``.apply`` at deploy time)
  ends ``pulumi preview``/``up`` with one line naming the integration and the scope: `MissingScopeError` is a
  `pulumi.RunError`, which Pulumi's Python language host reports as ``str(err)`` without a stack trace.
* The credential resource is registered with ``deleteBeforeReplace``.
* `is_unknown` recognises every form in which the provider process can see a preview unknown.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime.mocks
import pytest
from pulumi.output import UNKNOWN
from pulumi.runtime import rpc

from provisioner.cli.plan import RecordingMocks, run_plan
from provisioner.errors import ProvisionerError
from provisioner.paragon.resource import is_unknown
from provisioner.program.app_registration import MissingScopeError

POWER_BI_APP = "00000009-0000-0000-c000-000000000000"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
DEPLOYER = {"clientId": "deployer", "objectId": "11111111-2222-3333-4444-555555555555", "tenantId": "tenant-1"}


def test_an_unpublished_scope_fails_the_deployment_with_one_line(project_dir: Path) -> None:
    mocks = RecordingMocks(
        scope_ids={
            POWER_BI_APP: {"Dataset.Read.All": "7f33e027-4039-419b-938e-2f8ca153e68e", "Report.ReadWrite.All": "x"}
        },
        client_config=DEPLOYER,
    )

    with pytest.raises(pulumi.RunError) as caught:
        run_plan(project_dir, "dev", NOW, mocks=mocks)

    # What the language host does with it: `except pulumi.RunError as e: pulumi.log.error(str(e))`.
    message = str(caught.value)
    assert isinstance(caught.value, MissingScopeError) and isinstance(caught.value, ProvisionerError)
    assert "\n" not in message
    assert message.startswith("integrations.powerbi.scopes: ")
    assert "does not publish delegated scope(s) Report.Read.All" in message
    assert "Fix: use a published name (closest: Report.ReadWrite.All)" in message


class RecordingMonitor(pulumi.runtime.mocks.MockMonitor):
    """The mock engine, also keeping every RegisterResource request (resource options included)."""

    requests: list[Any] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        RecordingMonitor.requests.append(request)
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


def test_the_credential_is_registered_delete_before_replace(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    RecordingMonitor.requests = []
    monkeypatch.setattr(pulumi.runtime.mocks, "MockMonitor", RecordingMonitor)

    run_plan(project_dir, "dev", NOW, mocks=RecordingMocks(client_config=DEPLOYER))

    options = {
        (r.type, r.name): (r.deleteBeforeReplace, r.deleteBeforeReplaceDefined) for r in RecordingMonitor.requests
    }
    assert options[("pulumi-python:dynamic/paragon:OAuthCredential", "powerbi-paragon")] == (True, True)
    assert options[("azuread:index/application:Application", "powerbi-app")] == (False, False), "only the credential"
    assert options[("azuread:index/servicePrincipal:ServicePrincipal", "powerbi-sp")] == (False, False)


def _secret(value: Any) -> dict[str, Any]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (UNKNOWN, True),  # what the SDK's provider server hands check/diff during preview
        (rpc.UNKNOWN, True),  # the engine's wire sentinel
        (_secret(UNKNOWN), True),
        (_secret(rpc.UNKNOWN), True),
        ("Dataset.Read.All", False),
        (_secret("a-secret"), False),
        (None, False),
        ("", False),
        (["Dataset.Read.All"], False),
    ],
)
def test_is_unknown_recognises_every_form(value: Any, expected: bool) -> None:
    assert is_unknown(value) is expected
