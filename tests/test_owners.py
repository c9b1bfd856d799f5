"""Owners never flip, and every app gets its home-tenant service principal.

The program runs under Pulumi mocks as `pulumi up` would, with ``get_client_config`` answering for a
different deploying identity on each run (the scheduled CI identity, then a person). The azuread provider
treats ``owners`` as the whole set: on an update it removes every current owner missing from the new
inputs and adds the new ones (terraform-provider-azuread, application and service principal resources'
update). So an owner is removed exactly when it is in one run's ``owners`` and not in the next run's;
`removed` computes that, and the plan diff shows whether the resource changes at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi
import pytest
from conftest import VALID_CONFIG

from provisioner.cli.diff import Action, diff_plans, parse_plan
from provisioner.cli.plan import Plan, PlannedResource, RecordingMocks, plan_json, run_plan
from provisioner.config import load_config_report
from provisioner.errors import ConfigError
from provisioner.program.app_registration import unlisted_deployer_warning

SCHEDULED = "5b1f0d2c-7a43-4c9e-9f0e-2d6c1a8b3e71"
"""Object ID of the CI identity that runs the scheduled `pulumi up`."""
PERSON = "c0ffee00-1111-4222-8333-444455556666"
"""Object ID of a person who runs `pulumi up` once from a laptop (break-glass)."""
EXTRA = "aa11bb22-cc33-4d44-8e55-ff6677889900"
"""An owner listed under ``owners:``."""
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

Writer = Callable[..., Path]


class TenantMocks(RecordingMocks):
    """The engine and azuread provider, with IDs per app and ``get_client_config`` answering for ``deployer``."""

    def __init__(self, deployer: str) -> None:
        super().__init__(client_config={"clientId": "cli", "objectId": deployer, "tenantId": "tenant-1"})

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        if args.typ == "azuread:index/application:Application":
            state.update(clientId=f"client-id-of-{args.name}", objectId=f"object-id-of-{args.name}")
        if args.typ == "azuread:index/servicePrincipal:ServicePrincipal":
            state.update(objectId=f"object-id-of-{args.name}")
        return resource_id, state


def deploy(project_dir: Path, config: Path, deployer: str) -> Plan:
    return run_plan(project_dir, "dev", NOW, config_file=config, mocks=TenantMocks(deployer))


def owners_of(plan: Plan) -> dict[str, list[str]]:
    """``owners`` of every application and service principal, by resource name."""
    kinds = ("azuread:index/application:Application", "azuread:index/servicePrincipal:ServicePrincipal")
    return {r.name: r.inputs["owners"] for r in plan.resources if r.type in kinds}


def removed(before: Plan, after: Plan) -> dict[str, set[str]]:
    """Owners the provider removes going from ``before``'s inputs to ``after``'s, per resource."""
    old, new = owners_of(before), owners_of(after)
    return {name: set(old[name]) - set(new[name]) for name in old if set(old[name]) - set(new[name])}


def changed_resources(before: Plan, after: Plan) -> dict[str, Action]:
    diff = diff_plans(parse_plan(json.loads(plan_json(before)), "a"), parse_plan(json.loads(plan_json(after)), "b"))
    return {r.name: r.action for r in diff.resources if r.action is not Action.UNCHANGED}


def with_scheduler(text: str, scheduler: str = SCHEDULED) -> str:
    return text.replace("integrations:\n", f"scheduled_deployer: {scheduler}\nintegrations:\n", 1)


# --- owners never flip ------------------------------------------------------------------------------------


def test_a_run_by_another_identity_changes_no_owner(project_dir: Path, write_config: Writer) -> None:
    config = write_config(with_scheduler(VALID_CONFIG) + f"    owners: [{EXTRA}]\n")
    scheduled_run = deploy(project_dir, config, SCHEDULED)
    person_run = deploy(project_dir, config, PERSON)
    next_scheduled_run = deploy(project_dir, config, SCHEDULED)

    expected = {"powerbi-app": [SCHEDULED, EXTRA], "powerbi-sp": [SCHEDULED, EXTRA]}
    assert owners_of(scheduled_run) == expected
    assert owners_of(person_run) == expected  # the person is not added; the scheduled identity stays
    assert owners_of(next_scheduled_run) == expected
    assert removed(scheduled_run, person_run) == {} and removed(person_run, next_scheduled_run) == {}
    assert changed_resources(scheduled_run, person_run) == {}  # nothing to update at all


def test_removing_an_owner_is_a_config_change(project_dir: Path, write_config: Writer) -> None:
    before = deploy(project_dir, write_config(with_scheduler(VALID_CONFIG) + f"    owners: [{EXTRA}]\n"), SCHEDULED)
    after = deploy(project_dir, write_config(with_scheduler(VALID_CONFIG), "dev.yaml"), PERSON)
    assert removed(before, after) == {"powerbi-app": {EXTRA}, "powerbi-sp": {EXTRA}}
    assert changed_resources(before, after) == {"powerbi-app": Action.CHANGED, "powerbi-sp": Action.CHANGED}
    assert owners_of(after) == {"powerbi-app": [SCHEDULED], "powerbi-sp": [SCHEDULED]}


def test_an_owner_also_named_scheduled_deployer_is_sent_once(project_dir: Path, write_config: Writer) -> None:
    config = write_config(with_scheduler(VALID_CONFIG) + f"    owners: [{SCHEDULED.upper()}, {EXTRA}]\n")
    assert owners_of(deploy(project_dir, config, PERSON))["powerbi-app"] == [SCHEDULED, EXTRA]


def test_without_a_scheduled_deployer_owners_follow_the_deployer(project_dir: Path, write_config: Writer) -> None:
    """The behaviour `scheduled_deployer` exists to end, kept for configs without it (and warned about)."""
    config = write_config(VALID_CONFIG + f"    owners: [{EXTRA}]\n")
    scheduled_run, person_run = deploy(project_dir, config, SCHEDULED), deploy(project_dir, config, PERSON)
    assert owners_of(scheduled_run)["powerbi-app"] == [SCHEDULED, EXTRA]
    assert removed(scheduled_run, person_run) == {"powerbi-app": {SCHEDULED}, "powerbi-sp": {SCHEDULED}}
    [warning] = load_config_report(config).warnings
    assert str(warning).startswith(f"{config}:1: scheduled_deployer: warning: not set, so each app registration's")
    assert "Fix: add `scheduled_deployer: <object ID" in str(warning)


def test_the_shared_default_scheduled_deployer_applies_to_every_stack(project_dir: Path, write_config: Writer) -> None:
    write_config(f"scheduled_deployer: {SCHEDULED.upper()}\n", "defaults.yaml")
    config = write_config(VALID_CONFIG)
    loaded = load_config_report(config)
    assert loaded.config.scheduled_deployer == SCHEDULED and loaded.warnings == []
    assert owners_of(deploy(project_dir, config, PERSON))["powerbi-sp"] == [SCHEDULED]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not-a-guid", "scheduled_deployer must be the object ID (a GUID) of the service principal"),
        ("00000000-0000-0000-0000-000000000000", "scheduled_deployer is the nil GUID"),
        ("12345", "expected text but YAML read a number"),
        ("[a, b]", "expected one object ID (a GUID) of a service principal, not a list"),
    ],
)
def test_a_bad_scheduled_deployer_is_one_line(write_config: Writer, value: str, message: str) -> None:
    path = write_config(with_scheduler(VALID_CONFIG, value))
    with pytest.raises(ConfigError) as caught:
        load_config_report(path)
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}:3: scheduled_deployer: ") and message in problem and "Fix: " in problem
    assert "\n" not in problem


def test_a_person_deploying_is_told_the_owners_stay() -> None:
    declared = frozenset({SCHEDULED, EXTRA})
    assert unlisted_deployer_warning(SCHEDULED.upper(), declared) is None
    assert unlisted_deployer_warning(EXTRA, declared) is None
    message = unlisted_deployer_warning(PERSON, declared)
    assert message is not None and PERSON in message and "\n" not in message
    assert "owners stay as configured" in message and "Cloud Application Administrator" in message


# --- the home-tenant service principal -------------------------------------------------------------------


def one(plan: Plan, name: str) -> PlannedResource:
    [found] = [r for r in plan.resources if r.name == name]
    return found


def test_every_app_gets_its_service_principal(project_dir: Path, write_config: Writer) -> None:
    config = write_config(with_scheduler(VALID_CONFIG) + "  outlook:\n    scopes: [Mail.Read]\n")
    plan = deploy(project_dir, config, SCHEDULED)
    sps = {r.name: r for r in plan.resources if r.type == "azuread:index/servicePrincipal:ServicePrincipal"}
    assert sorted(sps) == ["outlook-sp", "powerbi-sp"]
    assert sps["powerbi-sp"].inputs == {
        "clientId": "client-id-of-powerbi-app",
        "owners": [SCHEDULED],
        "useExisting": True,  # adopts the one admin consent in the home tenant may have created
    }
    outputs = plan.outputs["integrations"]
    assert outputs["powerbi"]["service_principal_object_id"] == "object-id-of-powerbi-sp"
    assert outputs["outlook"]["service_principal_object_id"] == "object-id-of-outlook-sp"


def test_a_shared_app_has_exactly_one_service_principal(project_dir: Path, write_config: Writer) -> None:
    text = with_scheduler(VALID_CONFIG) + "  outlook:\n    scopes: [Mail.Read]\n  onedrive:\n    app: outlook\n"
    plan = deploy(project_dir, write_config(text), SCHEDULED)
    sps = [r.name for r in plan.resources if r.type.endswith("servicePrincipal:ServicePrincipal")]
    assert sorted(sps) == ["outlook-sp", "powerbi-sp"]
    outputs = plan.outputs["integrations"]
    assert outputs["onedrive"]["service_principal_object_id"] == "object-id-of-outlook-sp"
    assert one(plan, "outlook-sp").inputs["clientId"] == outputs["onedrive"]["client_id"] == "client-id-of-outlook-app"


def test_the_service_principal_is_a_child_of_the_app_registration(
    project_dir: Path, write_config: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`parent=self`: the engine qualifies its URN type with the component's, as for the application."""
    from pulumi.runtime.mocks import MockMonitor

    urns: dict[str, str] = {}
    make_urn = MockMonitor.make_urn

    def recording(self: MockMonitor, parent: str, type_: str, name: str) -> str:
        urns[name] = make_urn(self, parent, type_, name)
        return urns[name]

    monkeypatch.setattr(MockMonitor, "make_urn", recording)
    deploy(project_dir, write_config(with_scheduler(VALID_CONFIG)), SCHEDULED)
    assert (
        "::provisioner:entra:AppRegistration$azuread:index/servicePrincipal:ServicePrincipal::powerbi-sp"
        in (urns["powerbi-sp"])
    )
    assert (
        "::provisioner:entra:AppRegistration$azuread:index/application:Application::powerbi-app" in urns["powerbi-app"]
    )


@pytest.mark.parametrize(
    ("indented_under", "key_path"),
    [("paragon", "paragon.scheduled_deployer"), ("integrations.powerbi", "integrations.powerbi.scheduled_deployer")],
)
def test_a_top_level_key_written_under_a_section_says_so(
    write_config: Writer, indented_under: str, key_path: str
) -> None:
    line = (
        f"  scheduled_deployer: {SCHEDULED}\n"
        if indented_under == "paragon"
        else f"    scheduled_deployer: {SCHEDULED}\n"
    )
    text = (
        VALID_CONFIG.replace("paragon:\n", "paragon:\n" + line) if indented_under == "paragon" else VALID_CONFIG + line
    )
    path = write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_config_report(path)
    [problem] = caught.value.problems
    assert problem.endswith(
        f"{key_path}: `scheduled_deployer` is a top-level key, not a setting of `{indented_under}`. "
        "Fix: move it to the top level"
    )
