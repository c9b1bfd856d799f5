"""What keeps a plan's cost per integration flat (docs/performance.md), checked functionally, never timed.

* The cyclic garbage collector is paused while the program runs under mocks, and restored after.
* Constructing a Paragon credential (a Pulumi dynamic resource) leaves ``pickle._Pickler`` as it found it:
  pulumi.dynamic wraps one of its methods per resource and never unwraps it, which made each resource
  cost more than the one before and ends in a RecursionError after about 950 of them.
"""

from __future__ import annotations

import base64
import gc
import pickle
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dill  # type: ignore[import-untyped]
import pulumi
import pytest

from provisioner.cli.gc_pause import collector_paused
from provisioner.cli.plan import RecordingMocks, run_plan
from provisioner.paragon.resource import OAuthCredential, OAuthCredentialArgs, ParagonCredentialProvider

AT = datetime(2026, 11, 29, tzinfo=UTC)
PATCHED = ("_batch_setitems", "save_dict")


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


class CollectorWatch(RecordingMocks):
    """Records whether the collector was enabled as each resource was registered."""

    def __init__(self) -> None:
        super().__init__()
        self.collector_states: list[bool] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.collector_states.append(gc.isenabled())
        return super().new_resource(args)


def test_the_collector_is_paused_while_the_program_runs_and_restored_after(
    project_dir: Path, collector_on: None
) -> None:
    mocks = CollectorWatch()
    plan = run_plan(project_dir, "dev", AT, mocks=mocks)
    # The component, its application, service principal and two secrets, and the Paragon credential.
    assert len(plan.resources) == 6
    assert mocks.collector_states == [False] * 6
    assert gc.isenabled()


def test_collector_paused_nests_and_restores_on_error(collector_on: None) -> None:
    with pytest.raises(RuntimeError, match="boom"), collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "the inner block must not re-enable what the outer one paused"
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled(), "a collector that was off stays off"


def test_collector_paused_works_as_a_decorator(collector_on: None) -> None:
    @collector_paused()
    def inside() -> bool:
        return gc.isenabled()

    assert inside() is False
    assert gc.isenabled()


def _pickler_attributes() -> dict[str, Any]:
    return {name: vars(pickle._Pickler).get(name) for name in PATCHED}


def test_dynamic_resources_leave_the_pickler_as_they_found_it(project_dir: Path) -> None:
    before = _pickler_attributes()
    run_plan(project_dir, "dev", AT)
    run_plan(project_dir, "dev", AT)
    assert _pickler_attributes() == before


class ProviderWatch(RecordingMocks):
    """Keeps the serialized provider each dynamic resource was registered with."""

    def __init__(self) -> None:
        super().__init__()
        self.providers: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        provider = args.inputs.get("__provider")
        if provider is not None:
            self.providers.append(provider["value"] if isinstance(provider, dict) else provider)
        return super().new_resource(args)


def test_many_credentials_serialize_the_same_provider_and_restore_the_pickler() -> None:
    mocks = ProviderWatch()
    before = _pickler_attributes()

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def declare() -> None:
        args = OAuthCredentialArgs(
            project_id="38b1f170-0c43-4eae-9a04-ab85325d99f7",
            integration_key="powerbi",
            base_url="https://zeus.useparagon.com",
            credential_name="test",
            client_id="client",
            client_secret="secret",
            scopes="a b",
        )
        for i in range(40):
            OAuthCredential(f"credential-{i}", args)
            assert _pickler_attributes() == before, f"pickle._Pickler still patched after credential {i}"

    pulumi.runtime.set_mocks(mocks, preview=True)
    declare()
    assert len(mocks.providers) == 40 and len(set(mocks.providers)) == 1
    provider = dill.loads(base64.b64decode(mocks.providers[0]))
    assert isinstance(provider, ParagonCredentialProvider)
