"""``python -m provisioner adopt``: bring an app registration made by hand (Paragon's setup guide) under the
stack without changing its client ID, so no connected user has to reconnect (docs/adopt.md).

Read-only. Microsoft Graph gets only GETs (`provisioner.graph.GraphReader`); Paragon gets its login POST and
GETs (the integrations list, the credentials list, and the integration's decrypted credential, read only for
its client ID and scopes: the secret in that answer is never kept, shown or logged). Everything printed is
scrubbed of the secrets the environment holds and of credential-shaped text (`scrub_message`): Graph's and
Paragon's answers may echo them. The program runs under Pulumi mocks (`provisioner.cli.plan.run_plan`) with the
tenant's real scope IDs, so the changes reported are the ones the plan declares, and the import file's names and
parents are the ones the program registers.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi
import typer
from pulumi.runtime.mocks import MockMonitor

from provisioner.catalog import CATALOG, MICROSOFT_GRAPH_APP_ID
from provisioner.cli.adopt_render import AdoptError, Adoption, render, write_import_file
from provisioner.cli.adopt_report import (
    APPLICATION_TYPE,
    SERVICE_PRINCIPAL_TYPE,
    Declared,
    LiveApp,
    ParagonView,
    bare_scope,
    compare,
    engine_urn,
    import_file,
    password_cap_problem,
)
from provisioner.cli.adopt_values import shown
from provisioner.cli.plan import KNOWN_AFTER_DEPLOY, Plan, RecordingMocks, run_plan
from provisioner.config import ProvisionerConfig
from provisioner.config.values import check_uuid
from provisioner.errors import GraphError, GraphForbidden, GraphNotFound, ParagonError, ProvisionerError
from provisioner.graph.models import Application, ServicePrincipal
from provisioner.graph.reader import GraphReader
from provisioner.transport.scrub import scrub_message

DEPLOYER_MARK = "(the identity that runs pulumi up)"


class RegistrationRecorder(MockMonitor):
    """The mock monitor, also recording each resource's type, name and parent (mock URNs; `engine_urns`)."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: dict[str, tuple[str, str, str]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self.registrations[response.urn] = (request.type, request.name, request.parent)
        return response

    def engine_urns(self, stack: str, project: str) -> dict[tuple[str, str], tuple[str, str | None]]:
        """(type, name) → (the engine's URN, the parent's name or None for the stack) of every resource."""

        def parents(urn: str) -> list[str]:
            found = self.registrations.get(urn)
            return [*parents(found[2]), found[0]] if found else []

        result: dict[tuple[str, str], tuple[str, str | None]] = {}
        for type_, name, parent in self.registrations.values():
            parent_record = self.registrations.get(parent)
            result[(type_, name)] = (
                engine_urn(stack, project, parents(parent), type_, name),
                parent_record[1] if parent_record else None,
            )
        return result


class TenantScopes(RecordingMocks):
    """`RecordingMocks` answering ``getServicePrincipal`` with the scope IDs the tenant really publishes, for the
    resource APIs read from Graph (the catalog's placeholders for any other)."""

    def __init__(self, published: Mapping[str, Mapping[str, str]], client_config: Mapping[str, str]) -> None:
        super().__init__(client_config=client_config)
        self._tenant = {k.lower(): dict(v) for k, v in published.items()}

    def _published_scopes(self, app_id: str) -> dict[str, str]:
        return self._tenant.get(app_id.lower()) or super()._published_scopes(app_id)


def check_client_id(value: str) -> str:
    """``--client-id`` as a lower-case GUID.

    Raises:
        AdoptError: Not a GUID, or the nil GUID (one line with the fix).
    """
    try:
        return check_uuid(value.strip(), "--client-id")
    except ValueError:
        raise AdoptError(
            f"--client-id must be a GUID like 7d3c7a0e-52f4-4d0c-9a3e-5e1f9d1b2c3a (not the nil GUID), got "
            f"{value.strip()[:60]!r}. Fix: copy the Application (client) ID from the app's Overview page in Entra"
        ) from None


def _graph_line(err: GraphError, what: str) -> AdoptError:
    if isinstance(err, GraphNotFound):
        return AdoptError(
            f"{what}: not found in the signed-in tenant. Fix: check the application (client) ID on the app's "
            "Overview page, and sign in to the app's home tenant (az login --tenant <tenant-id>)"
        )
    if isinstance(err, GraphForbidden):
        needs = " and ".join(err.permissions) or "Application.Read.All"
        return AdoptError(
            f"{what}: Microsoft Graph refused the read. Fix: sign in as an identity with {needs} (the app's owner "
            "can read it too) and run adopt again"
        )
    return AdoptError(f"{what}: {err}")


def _graph_guid(value: str, what: str) -> str:
    """An ID Graph answered, as a lower-case GUID (it goes into the import file and the suggested config)."""
    try:
        return check_uuid(value, what)
    except ValueError:
        raise AdoptError(
            f"Microsoft Graph answered {what} {shown(value)[:60]!r}, which is not a GUID. Fix: check "
            "PROVISIONER_GRAPH_URL (unset it for Microsoft Graph itself) and run adopt again"
        ) from None


def read_live(
    reader: GraphReader, client_id: str, resource_app_ids: list[str]
) -> tuple[LiveApp, dict[str, dict[str, str]]]:
    """The app registration, its owners and service principal, and the scopes of the resource APIs involved.

    Returns:
        The `LiveApp` and, per resource app ID read, its published delegated scopes (name → ID). Its values
        are as Graph answered them (untrusted: `provisioner.cli.adopt_values` shows and checks them), except
        the IDs, which are checked to be GUIDs.

    Raises:
        AdoptError: The app is not found, Graph refused a read of the app or its owners, or answered another
            app or an ID that is not a GUID.
    """
    try:
        app: Application = reader.application(client_id)
        owners = reader.application_owners(app.id)
    except GraphError as err:
        raise _graph_line(err, f"app registration with client ID {client_id}") from None
    try:
        service_principal: str | None = reader.service_principal(app.app_id).id
    except GraphNotFound:
        service_principal = None
    except GraphError as err:
        raise _graph_line(err, f"service principal of {client_id}") from None
    if app.app_id.lower() != client_id.lower():
        raise AdoptError(
            f"app registration with client ID {client_id}: Microsoft Graph answered another app "
            f"({shown(app.app_id)[:60]!r}). Fix: check PROVISIONER_GRAPH_URL (unset it for Microsoft Graph itself) "
            "and run adopt again"
        )
    if service_principal is not None:
        service_principal = _graph_guid(service_principal, "the service principal's object ID")
    wanted = dict.fromkeys([*(r.resource_app_id.lower() for r in app.required_resource_access), *resource_app_ids])
    names: dict[tuple[str, str], str] = {}
    published: dict[str, dict[str, str]] = {}
    for resource in wanted:
        try:
            sp: ServicePrincipal = reader.service_principal(resource)
        except GraphError:
            continue  # not in this tenant, or not readable: permission IDs are shown as IDs
        title = sp.display_name or resource
        published[resource] = {s.value: s.id.lower() for s in sp.oauth2_permission_scopes if s.value}
        for scope in sp.oauth2_permission_scopes:
            names[(resource, scope.id.lower())] = f"{title} {scope.value}"
        for role in sp.app_roles:
            names[(resource, role.id.lower())] = f"{title} {role.value} (application permission)"
    live = LiveApp(
        client_id=app.app_id.lower(),
        object_id=_graph_guid(app.id, "the app's object ID"),
        display_name=app.display_name or "",
        sign_in_audience=app.sign_in_audience or "",
        access_token_version=app.api.requested_access_token_version,
        web=tuple(app.web.redirect_uris),
        spa=tuple(app.spa.redirect_uris),
        public_client=tuple(app.public_client.redirect_uris),
        permissions=tuple(
            (r.resource_app_id.lower(), a.id.lower(), a.type)
            for r in app.required_resource_access
            for a in r.resource_access
        ),
        permission_names=names,
        owners=tuple((o.id, o.user_principal_name or o.display_name or o.kind) for o in owners),
        passwords=tuple(
            (
                p.key_id,
                p.display_name,
                p.end_date_time.strftime("%Y-%m-%dT%H:%M:%SZ") if p.end_date_time else None,
            )
            for p in app.password_credentials
        ),
        service_principal_id=service_principal,
    )
    return live, published


def read_paragon(config: ProvisionerConfig, key: str, env: Mapping[str, str]) -> ParagonView:
    """Which client ID and scopes Paragon's credential for ``key`` holds; any failure becomes the note."""
    from provisioner.paragon.client import ParagonClient, RetryPolicy
    from provisioner.paragon.login import base_url_from, login_from

    project = config.paragon.project_id
    try:
        login = login_from(env)
        base_url = base_url_from(config.paragon.base_url, env)
        retry = RetryPolicy(max_attempts=2, total_seconds=min(30.0, config.paragon.retry_timeout_seconds))
        with ParagonClient(base_url, login, retry=retry, ca_bundle=config.paragon.ca_bundle) as client:
            integration = client.find_integration(project, key)
            credential = client.find_oauth_credential(project, integration.id)
            if credential is None:
                return ParagonView(f"no OAuth app credential for {key} yet: the first pulumi up creates it")
            decrypted = client.get_decrypted_credential(project, credential.id)
    except (ParagonError, ProvisionerError) as err:
        return ParagonView(f"not checked: {scrub_message(str(err), env=env)}")
    if decrypted is None:
        return ParagonView(f"credential {credential.id} disappeared while reading it")
    values = decrypted.values
    scopes = frozenset(bare_scope(s) for s in (values.scope_string or "").split() if s)
    held = (values.client_id or "").strip().lower() or None
    return ParagonView(f"credential {credential.id} holds client ID {held or '(none)'}", held, scopes)


def _declared(plan: Plan, config: ProvisionerConfig, app_key: str) -> Declared:
    found = [r for r in plan.resources if r.type == APPLICATION_TYPE and r.name == f"{app_key}-app"]
    if len(found) != 1:
        raise AdoptError(f"the program declared no {app_key}-app Application; was __main__.py changed?")
    keys = [app_key, *config.sharers(app_key)]
    scope_keys: dict[str, tuple[str, ...]] = {}
    for key in keys:
        for scope in sorted(CATALOG[key].delegated_scopes):
            scope_keys[scope] = (*scope_keys.get(scope, ()), key)
    return Declared(found[0].inputs, app_key, scope_keys, config.paragon.redirect_uri)


def adopt(
    project_dir: Path,
    stack: str,
    config_file: Path,
    config: ProvisionerConfig,
    key: str,
    client_id: str,
    at: datetime,
    env: Mapping[str, str],
    reader: GraphReader,
) -> Adoption:
    """Read the tenant and Paragon, run the program under mocks, and compare.

    Raises:
        AdoptError: A wrong integration key, the app not found or not readable, or a program that refuses the
            config (each one line).
    """
    if key not in config.integrations:
        raise AdoptError(
            f"--integration {key}: not an integration of {config_file} (it has {', '.join(config.integrations)}). "
            "Fix: add it under integrations: first, or name one of those"
        )
    app_key = config.app_key(key)
    configured = config.integrations[app_key].client_id
    if configured is not None and configured != client_id:
        raise AdoptError(
            f"{config_file}: integrations.{app_key}.client_id is {configured}, not {client_id}. Fix: adopt the app "
            "the config names, or change client_id if the config names the wrong app"
        )
    resources = [CATALOG[k].resource_app_id.lower() for k in (app_key, *config.sharers(app_key))]
    live, published = read_live(reader, client_id, [*resources, MICROSOFT_GRAPH_APP_ID])
    for resource in dict.fromkeys(resources):
        if resource not in published:
            title = (
                CATALOG[app_key].resource_title if resource == CATALOG[app_key].resource_app_id.lower() else resource
            )
            raise AdoptError(
                f"{title} ({resource}) has no readable service principal in this tenant, so its scope IDs are "
                f"unknown (pulumi preview would stop on it too). Fix: az ad sp create --id {resource} (an "
                "Application Administrator, once), then run adopt again"
            )
    paragon = read_paragon(config, key, env)
    mocks = TenantScopes(
        published, {"clientId": KNOWN_AFTER_DEPLOY, "objectId": DEPLOYER_MARK, "tenantId": KNOWN_AFTER_DEPLOY}
    )
    recorder = RegistrationRecorder(mocks)
    try:
        plan = run_plan(project_dir, stack, at, config_file=config_file, mocks=mocks, monitor=recorder)
    except pulumi.RunError as err:
        raise AdoptError(str(err)) from None
    declared = _declared(plan, config, app_key)
    changes = compare(live, declared, paragon)
    urns = recorder.engine_urns(stack, plan.project)
    app_parent = urns[(APPLICATION_TYPE, f"{app_key}-app")][1] or app_key
    sp_name = next(
        (name for (t, name), (_, parent) in urns.items() if t == SERVICE_PRINCIPAL_TYPE and parent == app_parent),
        f"{app_key}-sp",
    )
    try:
        version: str | None = importlib.metadata.version("pulumi_azuread")
    except importlib.metadata.PackageNotFoundError:
        version = None
    document = import_file(app_parent, f"{app_key}-app", sp_name, live, version)
    outputs = plan.outputs.get("integrations", {}).get(key, {})
    secret = outputs.get("secret", {}) if isinstance(outputs, dict) else {}
    slots = [
        (r.name, str(r.inputs.get("endDate")))
        for r in plan.resources
        if r.type.endswith("applicationPassword:ApplicationPassword") and r.name.startswith(f"{app_key}-secret-")
    ]
    return Adoption(
        key=key,
        app_key=app_key,
        stack=stack,
        config_file=config_file,
        live=live,
        changes=changes,
        paragon=paragon,
        slots=sorted(slots),
        active_slot=int(secret.get("active_slot", 0)),
        import_document=document,
        refusal=password_cap_problem(live, declared),
        config_client_id=configured,
    )


def adopt_command(config: Path, integration: str, client_id: str, output: Path | None, env: Mapping[str, str]) -> int:
    """The ``adopt`` command: print the report (stdout) and write the import file; return the exit code.

    Returns:
        0 with the report; 1 after one line on stderr (a bad GUID, no project folder, an invalid config, a
        wrong integration key, the app not found, Graph refusing a read, the personal-account secret cap).
    """
    from provisioner.config import load_config
    from provisioner.config.stackfile import StackFileError, resolve
    from provisioner.errors import ConfigError

    def fail(message: str) -> int:
        typer.echo(scrub_message(message, env=env), err=True)
        return 1

    try:
        wanted = check_client_id(client_id)
    except AdoptError as err:
        return fail(str(err))
    for needed in ("Pulumi.yaml", "__main__.py"):
        if not Path(needed).is_file():
            return fail(f"{needed}: not found. Fix: run adopt from the project folder (it runs the program offline)")
    try:
        chosen = resolve(Path("."), stack=None, config=config, env=env, force_stack=False)
        loaded = load_config(chosen.path)
    except (StackFileError, ConfigError) as err:
        return fail(str(err))
    try:
        with GraphReader(env=env) as reader:
            result = adopt(
                Path(".").resolve(),
                chosen.stack,
                chosen.path,
                loaded,
                integration,
                wanted,
                datetime.now(UTC),
                env,
                reader,
            )
        if output is not None and not result.refusal:
            write_import_file(result, output)
    except (AdoptError, GraphError) as err:
        return fail(str(err))
    typer.echo(scrub_message(render(result, None if result.refusal else output), env=env), nl=False)
    if result.refusal:
        return fail(f"adopt refused: {result.refusal}")
    return 0


__all__ = [
    "adopt_command",
    "AdoptError",
    "Adoption",
    "RegistrationRecorder",
    "adopt",
    "check_client_id",
    "render",
    "write_import_file",
]
