"""The Entra ID app registration for one Paragon integration, as a Pulumi component.

Type token ``provisioner:entra:AppRegistration``. Children (names derived from the component's):

* ``<name>-app``: ``azuread.Application``, multi-tenant by default, with Paragon's redirect URI on the **Web**
  platform and the integration's delegated permissions, sorted by name (the order of ``scopes:`` changes nothing).
  Microsoft Graph scope IDs come from the generated permission data; other resources' names are resolved at
  deploy time from the resource API's service principal, looked up once per run per resource
  (`provisioner.program.scope_lookup`; Microsoft publishes no GUIDs for Power BI scopes).
* ``<name>-sp``: ``azuread.ServicePrincipal``, the app's service principal (enterprise application) in its
  home tenant, as the Azure portal creates one on registration and the Graph API does not. Without it admin
  consent in the home tenant and client-credentials token requests fail (AADSTS7000229). ``use_existing``
  adopts one that admin consent already created.
* ``<name>-secret-0`` and ``<name>-secret-1``: ``azuread.ApplicationPassword`` slots with explicit end dates
  and ``rotate_when_changed`` keepers from `provisioner.program.rotation`; no start date (Entra rejects past start
  dates on re-creation).

An adopted app (``client_id:`` in the config; docs/adopt.md) is the same component over an imported
Application: it is declared with ``protect`` (no replace, no delete; in azuread v6 only ``template_id``, never
set here, forces a replacement), and its deployed client ID must equal the adopted one before the service
principal, the secret slots and the Paragon push use it (`AdoptedAppMismatch`). The Application is declared
without its ``password`` block, so password credentials made by hand stay untouched.

Owners (application and service principal alike) are the declared ones: ``scheduled_deployer`` and
``owners`` from the config, exactly, so a run by another identity changes none; only when no scheduled
deployer is declared is the deploying identity added (docs/owners.md). The azuread provider treats
``owners`` as the whole set: an owner missing from it is removed on the next update that changes it.

Argument names follow pulumi-azuread v6 (``web.redirect_uris``, ``required_resource_accesses``,
``ApplicationPassword.application_id`` = the application's resource ID, ``ServicePrincipal.client_id`` = the
application (client) ID).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_azuread as azuread

from provisioner.catalog import MICROSOFT_GRAPH_APP_ID, OPENID_SCOPE_IDS, CatalogEntry
from provisioner.errors import ProvisionerError
from provisioner.program.rotation import RotationState
from provisioner.program.scope_lookup import ScopeResolver


class MissingScopeError(ProvisionerError, pulumi.RunError):
    """The resource API's service principal does not publish a requested delegated scope (deploy time).

    Raised inside an ``.apply`` during ``pulumi preview``/``up``. It is also a `pulumi.RunError`, so Pulumi's
    Python language host reports it as its one-line message (``pulumi.log.error(str(err))``) instead of
    "Program failed with an unhandled exception" and a stack trace (``pulumi-language-python-exec``).
    """


@dataclass(frozen=True)
class AppRegistrationArgs:
    """Inputs of `AppRegistration`.

    Attributes:
        entry: The integration's catalog entry (resource app, OpenID needs).
        display_name: App registration display name.
        sign_in_audience: ``AzureADMyOrg``, ``AzureADMultipleOrgs``, ``AzureADandPersonalMicrosoftAccount`` or
            ``PersonalMicrosoftAccount``.
        access_token_version: ``api.requested_access_token_version`` (1 or 2), or None to leave unset.
        redirect_uri: Paragon's OAuth callback, exactly as configured (never normalised).
        extra_redirect_uris: More Web redirect URIs kept after it (``extra_redirect_uris:``), exactly as written.
        scopes: Delegated permission names on the resource API (OpenID names allowed too).
        owners: Declared owner object IDs (``scheduled_deployer`` first, then ``owners``), lower-case.
        add_deployer: Also make the deploying identity an owner (True only when no scheduled deployer is
            declared: the behaviour before ``scheduled_deployer`` existed, which lets owners follow the deployer).
        rotation: Desired secret slots at the evaluation time.
        resolver: The run's `ScopeResolver` (one service-principal lookup per resource API per run); a
            private one when None.
        client_id: The application (client) ID of an adopted app registration (``client_id:`` in the config;
            docs/adopt.md), lower-case, or None for an app the stack creates. An adopted Application is
            declared with ``protect``, and a deployed client ID that differs stops the run before the service
            principal, the secrets and the Paragon push use it (`AdoptedAppMismatch`).
    """

    entry: CatalogEntry
    display_name: str
    sign_in_audience: str
    access_token_version: int | None
    redirect_uri: str
    scopes: tuple[str, ...]
    rotation: RotationState
    owners: tuple[str, ...] = field(default_factory=tuple)
    add_deployer: bool = True
    resolver: ScopeResolver | None = None
    client_id: str | None = None
    extra_redirect_uris: tuple[str, ...] = ()


class AdoptedAppMismatch(ProvisionerError, pulumi.RunError):
    """The stack's Application has another client ID than the ``client_id`` the config adopted (deploy time).

    Raised inside an ``.apply`` as soon as the deployed client ID is known (a ``pulumi preview`` of an
    imported app already knows it). Everything that uses the client ID or the app (service principal,
    secret slots, Paragon push) waits for that check, so Paragon is never switched to another app.
    """


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def check_adopted_client_id(integration: str, expected: str, actual: str) -> str:
    """``actual`` when it is the adopted app's client ID (GUIDs compare case-insensitively).

    A value that is not a GUID (an offline plan's placeholder) is passed through: it is no client ID yet.

    Raises:
        AdoptedAppMismatch: One line naming both IDs and the fix (import the adopted app, docs/adopt.md).
    """
    if _GUID.fullmatch(actual) and actual.lower() != expected.lower():
        raise AdoptedAppMismatch(
            f"integrations.{integration}.client_id: the stack's app registration has client ID {actual}, not the "
            f"adopted {expected}; nothing that uses the app was changed. Fix: import the adopted app "
            f"(python -m provisioner adopt ... --output import.json, then pulumi import --file import.json), "
            "or correct client_id (docs/adopt.md)"
        )
    return actual


def resolve_scope_ids(
    names: tuple[str, ...], published: Mapping[str, str], resource: str, integration: str = ""
) -> list[str]:
    """Map delegated scope names to IDs using the service principal's ``oauth2_permission_scope_ids``.

    Args:
        names: Delegated scope names.
        published: Name → scope ID, as the service principal publishes them.
        resource: Human name of the resource API (for the message).
        integration: The integration key, so the message names ``integrations.<key>.scopes``.

    Raises:
        MissingScopeError: A name is not published by the resource API's service principal. One line:
            ``integrations.<key>.scopes: <resource>'s service principal does not publish delegated scope(s)
            <names> in this tenant. Fix: ...`` (closest published names when there are any).
    """
    missing = [n for n in names if n not in published]
    if missing:
        others = [p for p in published if p not in names]
        close = sorted({c for n in missing for c in difflib.get_close_matches(n, others, n=3)})
        hint = f"use a published name (closest: {', '.join(close)})" if close else "use a name it publishes"
        where = f"integrations.{integration}.scopes: " if integration else ""
        raise MissingScopeError(
            f"{where}{resource}'s service principal does not publish delegated scope(s) {', '.join(missing)} "
            f"in this tenant ({len(published)} published). Fix: {hint}, or remove the scope from the config"
        )
    return [published[n] for n in names]


def required_resource_accesses(
    entry: CatalogEntry, scopes: tuple[str, ...], published: Mapping[str, str]
) -> list[azuread.ApplicationRequiredResourceAccessArgs]:
    """The ``required_resource_accesses`` blocks: the resource API's scopes, then Graph's OpenID scopes.

    ``published`` maps names to IDs (`ScopeResolver.scope_ids`). Each block is in a fixed order, so the order
    of ``scopes`` changes nothing (resource scopes by name, then the OpenID scopes by name).
    """
    openid = sorted({s for s in scopes if s in OPENID_SCOPE_IDS} | set(entry.openid_scopes))
    resource_names = tuple(sorted({s for s in scopes if s not in OPENID_SCOPE_IDS}))
    resource_ids = resolve_scope_ids(resource_names, published, entry.resource_title, entry.key)
    graph_ids = [OPENID_SCOPE_IDS[s] for s in openid]
    blocks: list[tuple[str, list[str]]] = []
    if entry.resource_is_graph:
        blocks.append((MICROSOFT_GRAPH_APP_ID, resource_ids + graph_ids))
    else:
        blocks.append((entry.resource_app_id, resource_ids))
        if graph_ids:
            blocks.append((MICROSOFT_GRAPH_APP_ID, graph_ids))
    return [
        azuread.ApplicationRequiredResourceAccessArgs(
            resource_app_id=app_id,
            resource_accesses=[
                azuread.ApplicationRequiredResourceAccessResourceAccessArgs(id=scope_id, type="Scope")
                for scope_id in dict.fromkeys(ids)
            ],
        )
        for app_id, ids in blocks
    ]


def owner_ids(deployer: str, extra: list[str] | tuple[str, ...]) -> list[str]:
    """The deployer's object ID first, then the extra owners; lower-case, each once.

    Object IDs are GUIDs and compare without regard to case, so an extra owner equal to the deployer (in
    any case) is not sent twice (Graph refuses an owner added twice).
    """
    return list(dict.fromkeys(owner.lower() for owner in (deployer, *extra)))


def unlisted_deployer_warning(deployer: str, declared: frozenset[str]) -> str | None:
    """The warning for a ``pulumi up`` by an identity that is not a declared owner, else None.

    Args:
        deployer: The deploying identity's object ID (``get_client_config``).
        declared: Every declared owner object ID of the stack, lower-case (``scheduled_deployer`` and all
            ``owners``).

    Returns:
        One line: the owners stay as declared, so the identity needs a directory role to manage the apps.
    """
    if deployer.lower() in declared:
        return None
    return (
        f"deploying as object ID {deployer}, which is neither scheduled_deployer nor in owners: the app "
        "registrations' owners stay as configured and this identity is not added, so it needs a directory role "
        "that manages any app registration (Cloud Application Administrator) for this run. If it runs the "
        "schedule, set scheduled_deployer to it (docs/owners.md)"
    )


class AppRegistration(pulumi.ComponentResource):
    """An Entra app registration with two rotating client secrets, for one Paragon integration.

    Attributes:
        client_id: Application (client) ID.
        object_id: The application's object ID.
        service_principal_object_id: Object ID of the app's service principal in its home tenant.
        tenant_id: Tenant the app is registered in (the deploying principal's).
        key_ids: Key ID (a GUID, not the secret) per slot.
        end_dates: RFC 3339 end date per slot.
        active_secret: The active slot's secret value (a Pulumi secret).
    """

    client_id: pulumi.Output[str]
    object_id: pulumi.Output[str]
    service_principal_object_id: pulumi.Output[str]
    tenant_id: pulumi.Output[str]
    key_ids: list[pulumi.Output[str]]
    end_dates: list[pulumi.Output[str]]
    active_secret: pulumi.Output[str]

    def __init__(self, name: str, args: AppRegistrationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("provisioner:entra:AppRegistration", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        deployer = azuread.get_client_config_output(opts=invoke)
        entry, scopes = args.entry, args.scopes
        resolver = args.resolver or ScopeResolver()
        accesses = resolver.scope_ids(entry, scopes).apply(
            lambda published: required_resource_accesses(entry, scopes, published)
        )
        api = (
            azuread.ApplicationApiArgs(requested_access_token_version=args.access_token_version)
            if args.access_token_version is not None
            else None
        )
        declared = list(args.owners)
        owners: pulumi.Input[list[str]] = (
            deployer.object_id.apply(lambda me: owner_ids(me, declared)) if args.add_deployer else declared
        )
        self.application = azuread.Application(
            f"{name}-app",
            display_name=args.display_name,
            sign_in_audience=args.sign_in_audience,
            owners=owners,
            web=azuread.ApplicationWebArgs(
                redirect_uris=list(dict.fromkeys([args.redirect_uri, *args.extra_redirect_uris]))
            ),
            required_resource_accesses=accesses,
            api=api,
            opts=pulumi.ResourceOptions(parent=self, protect=True) if args.client_id else child,
        )
        client_id: pulumi.Output[str] = self.application.client_id
        application_id: pulumi.Output[str] = self.application.id
        if args.client_id is not None:
            adopted = args.client_id
            client_id = self.application.client_id.apply(lambda actual: check_adopted_client_id(name, adopted, actual))
            application_id = pulumi.Output.all(self.application.id, client_id).apply(lambda ids: str(ids[0]))
        self.service_principal = azuread.ServicePrincipal(
            f"{name}-sp",
            client_id=client_id,
            owners=owners,
            use_existing=True,
            opts=child,
        )
        self.passwords = [
            azuread.ApplicationPassword(
                f"{name}-secret-{slot.slot}",
                application_id=application_id,
                display_name=slot.display_name(entry.key),
                end_date=slot.end_date_rfc3339,
                rotate_when_changed=slot.keepers,
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["value"]),
            )
            for slot in args.rotation.slots
        ]
        self.client_id = client_id
        self.object_id = self.application.object_id
        self.service_principal_object_id = self.service_principal.object_id
        self.tenant_id = deployer.tenant_id
        self.key_ids = [p.key_id for p in self.passwords]
        self.end_dates = [p.end_date for p in self.passwords]
        self.active_secret = pulumi.Output.secret(self.passwords[args.rotation.active_slot].value)
        self.register_outputs(
            {
                "clientId": self.client_id,
                "objectId": self.object_id,
                "servicePrincipalObjectId": self.service_principal_object_id,
                "tenantId": self.tenant_id,
            }
        )
