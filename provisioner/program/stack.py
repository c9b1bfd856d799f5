"""The Pulumi program: config/<stack>.yaml → app registrations and secrets → Paragon credentials → outputs.

This is the one code path for ``pulumi up`` and for the offline ``python -m provisioner plan``.

Stack config (``pulumi config``, project namespace), all optional:

* ``configFile``: path of the stack's YAML, relative to the project. Without it the environment variable
  ``PROVISIONER_CONFIG`` names the file (its name must match the stack: ``prod.yaml`` for stack ``prod``),
  else ``config/<stack>.yaml`` (`provisioner.config.stackfile`).
* ``at``: evaluate the rotation schedule as of this UTC time (RFC 3339 or ``YYYY-MM-DD``) instead of now.
  The offline ``plan`` sets it; in a real stack it freezes rotation, so a deployment warns when it is set.
* ``paragonEmail``, ``paragonPassword``, ``paragonAccessToken``: secret Paragon login, read by the dynamic
  provider when the ``PARAGON_*`` environment variables are absent.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi
import pulumi_azuread as azuread

from provisioner.catalog import ADMIN_CONSENT_URL, admin_consent_scopes, environment_url, paragon_scope_string
from provisioner.config import ProvisionerConfig, load_config_report
from provisioner.config.stackfile import STACK_SETTING, StackFileError, program_config_path
from provisioner.errors import ConfigError
from provisioner.paragon.resource import OAuthCredential, OAuthCredentialArgs
from provisioner.program.app_registration import AppRegistration, AppRegistrationArgs, unlisted_deployer_warning
from provisioner.program.rotation import RotationState, parse_rfc3339, rfc3339, rotation_state
from provisioner.program.scope_lookup import ScopeResolver

__all__ = ["ADMIN_CONSENT_URL", "build", "main", "portable_path"]


def _secret_outputs(app: AppRegistration, state: RotationState) -> dict[str, Any]:
    return {
        "active_slot": state.active_slot,
        "window": state.window,
        "next_rotation": rfc3339(state.next_rotation),
        "slots": [
            {
                "slot": slot.slot,
                "window": slot.window,
                "generation": slot.generation,
                "key_id": app.key_ids[slot.slot],
                "end_date": slot.end_date_rfc3339,
            }
            for slot in state.slots
        ],
    }


def portable_path(path: str | None) -> str | None:
    """``path`` relative to the project folder (the working directory of ``pulumi up``, of its provider
    process and of ``plan``) when it lies inside it, else unchanged.

    Resource inputs are stored in state and compared between checkouts (a pull request's base and head
    plans): an absolute path inside the checkout would differ on every machine and show as a change.
    """
    if path is None:
        return None
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):  # outside the project, or a link loop: reported where it is read
        return path


def credential_dependencies(app: AppRegistration) -> list[pulumi.Resource]:
    """What an integration's Paragon credential waits for: its app registration component and, named
    explicitly, the app's home-tenant service principal.

    The provider proves a new secret with a token request for the app in its home tenant before pushing it,
    and Entra issues no token to an app without a service principal there (AADSTS7000229). Depending on a
    component already waits for its children (the SDK expands it); the service principal is listed too so the
    order is explicit in the program.
    """
    return [app, app.service_principal]


def build(stack: str, config: ProvisionerConfig, now: datetime) -> dict[str, Any]:
    """Declare every resource of the stack and return the stack outputs.

    Args:
        stack: Pulumi stack name (used in default display names).
        config: The validated stack config.
        now: Evaluation time for the rotation schedule (timezone-aware).

    Returns:
        ``{"integrations": {key: {...}}, "client_secrets": <secret {key: value}>}``. Integrations that share
        an app (``app:``) get that app's client ID, service principal, secret and rotation outputs; ``app``
        names the owner. Each integration's ``scopes`` are sorted (their order in config changes nothing), and
        ``admin_consent_scopes`` lists those that need an admin's consent in a customer's tenant
        (`provisioner.catalog.consent_need`), granted at ``admin_consent_url``.
    """
    resolver = ScopeResolver()  # one service-principal lookup per resource API for the whole run
    integrations: dict[str, Any] = {}
    secrets: dict[str, pulumi.Output[str]] = {}
    apps: dict[str, tuple[AppRegistration, RotationState]] = {}
    for key, integration in config.integrations.items():
        if integration.app is not None:
            continue  # shares another integration's app registration (declared below for its owner)
        entry = config.entry(key)
        state = rotation_state(integration.secret, now)
        titles = [entry.title, *(config.entry(other).title for other in config.sharers(key))]
        apps[key] = (
            AppRegistration(
                key,
                AppRegistrationArgs(
                    entry=entry,
                    display_name=integration.display_name or f"Paragon {' + '.join(titles)} ({stack})",
                    sign_in_audience=integration.sign_in_audience,
                    access_token_version=integration.access_token_version,
                    redirect_uri=config.paragon.redirect_uri,
                    scopes=tuple(sorted(config.app_scopes(key))),
                    owners=config.declared_owners(key),
                    add_deployer=config.scheduled_deployer is None,
                    rotation=state,
                    resolver=resolver,
                    client_id=integration.client_id,
                    extra_redirect_uris=tuple(integration.extra_redirect_uris),
                ),
            ),
            state,
        )
    for key, integration in config.integrations.items():
        entry = config.entry(key)
        owner = config.app_key(key)
        app, state = apps[owner]
        scopes = tuple(sorted(config.scopes(key)))
        env_url = environment_url(entry, integration.paragon_values)
        paragon_scopes = paragon_scope_string(entry, scopes, integration.paragon_scope_format, env_url)
        credential = OAuthCredential(
            f"{key}-paragon",
            OAuthCredentialArgs(
                project_id=config.paragon.project_id,
                integration_key=key,
                base_url=config.paragon.base_url,
                credential_name=f"{entry.title} app registration ({stack}, managed by Pulumi)",
                client_id=app.client_id,
                client_secret=app.active_secret,
                scopes=paragon_scopes,
                activate=integration.activate,
                delete_on_destroy=config.paragon.delete_credentials_on_destroy,
                retry_timeout_seconds=config.paragon.retry_timeout_seconds,
                extra_values=dict(integration.paragon_values),
                ca_bundle=portable_path(config.paragon.ca_bundle),
                tenant_id=app.tenant_id,
                verify_timeout_seconds=config.paragon.verify_timeout_seconds,
            ),
            opts=pulumi.ResourceOptions(depends_on=credential_dependencies(app)),
        )
        integrations[key] = {
            "app": owner,
            "client_id": app.client_id,
            "tenant_id": app.tenant_id,
            "application_object_id": app.object_id,
            "service_principal_object_id": app.service_principal_object_id,
            "redirect_uri": config.paragon.redirect_uri,
            "scopes": list(scopes),
            "paragon_scopes": paragon_scopes,
            "admin_consent_url": pulumi.Output.all(app.tenant_id, app.client_id).apply(
                lambda ids: ADMIN_CONSENT_URL.format(tenant=ids[0], client_id=ids[1])
            ),
            "admin_consent_scopes": admin_consent_scopes(entry.resource_app_id, scopes),
            "secret_end_date": state.active.end_date_rfc3339,
            "secret": _secret_outputs(app, state),
            "paragon_credential_id": credential.credentialId,
            "secret_verified_at": credential.secretVerifiedAt,
        }
        secrets[key] = app.active_secret
    return {"integrations": integrations, "client_secrets": pulumi.Output.secret(secrets)}


def _warn_when_deployer_is_not_an_owner(config: ProvisionerConfig) -> None:
    """Log one warning during ``pulumi up`` when the deploying identity is not a declared owner (a person's
    or break-glass run): the owners stay as declared, so the run relies on the identity's directory role."""
    declared = frozenset(owner for key in config.integrations for owner in config.declared_owners(key))

    def warn(deployer: str) -> None:
        message = unlisted_deployer_warning(deployer, declared)
        if message:
            pulumi.log.warn(message)

    azuread.get_client_config_output().object_id.apply(warn)


def main() -> None:
    """Pulumi entry point: load the stack's YAML (configFile, else PROVISIONER_CONFIG, else
    config/<stack>.yaml), declare resources, export outputs.

    Raises:
        pulumi.RunError: The config is invalid, or PROVISIONER_CONFIG names another stack's file (a short
            message, no traceback); nothing is declared.
    """
    stack = pulumi.get_stack()
    settings = pulumi.Config()
    try:
        path = program_config_path(stack, settings.get(STACK_SETTING), os.environ)
    except StackFileError as err:
        raise pulumi.RunError(str(err)) from None
    try:
        at = settings.get("at")
        now = parse_rfc3339(at) if at else datetime.now(UTC)
    except ValueError as err:
        raise pulumi.RunError(f"stack config 'at': {err}. Fix: use YYYY-MM-DD or RFC 3339 with Z") from None
    if at and not pulumi.runtime.is_dry_run():
        pulumi.log.warn(f"stack config 'at' = {at} freezes secret rotation at that time; remove it for real use")
    try:
        loaded = load_config_report(path)
    except ConfigError as err:
        raise pulumi.RunError(str(err)) from None
    for warning in loaded.warnings:
        pulumi.log.warn(str(warning))
    config = loaded.config
    if config.scheduled_deployer is not None and not pulumi.runtime.is_dry_run():
        _warn_when_deployer_is_not_an_owner(config)
    for name, value in build(stack, config, now).items():
        pulumi.export(name, value)
