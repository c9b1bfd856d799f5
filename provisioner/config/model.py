"""The stack config model (``config/<stack>.yaml``): pydantic, strict and closed (unknown keys are errors).

Shapes only: the value rules live in `provisioner.config.values`, the cross-field and catalog checks that
turn a document into one-line problems in `provisioner.config.problems`, reading a file in
`provisioner.config.load`. Rules restated from ``shared/reference/entra-facts.md`` (sign-in audiences,
token versions) and ``paragon-api.md``.
"""

from __future__ import annotations

import os
import re
import ssl
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from provisioner.catalog import (
    CATALOG,
    CatalogEntry,
    ScopeFormat,
    reserved_value_keys,
)
from provisioner.config.values import (
    check_base_url,
    check_client_id,
    check_object_id,
    check_redirect_uri,
    check_scheduled_deployer,
    check_uuid,
)

DEFAULT_BASE_URL: Final = "https://zeus.useparagon.com"
DEFAULT_REDIRECT_URI: Final = "https://passport.useparagon.com/oauth"
DEFAULT_ROTATION_ANCHOR: Final = date(2025, 1, 1)
MAX_GENERATION: Final = 1_000_000
"""Largest ``secret.generation``: far below 2^53, where Pulumi's numbers (doubles) stop being exact."""

SignInAudience = Literal[
    "AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"
]
PERSONAL_AUDIENCES: Final = frozenset({"AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"})

_VALUE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
APP_LEVEL_KEYS: Final = (
    "display_name",
    "sign_in_audience",
    "requested_access_token_version",
    "owners",
    "secret",
    "client_id",
    "extra_redirect_uris",
)
"""Settings of the app registration itself; an integration sharing another's app (``app:``) sets none."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SecretPolicy(_Model):
    """Client secret rotation policy for one integration. Whole days, UTC.

    Each secret lives two rotation periods plus the grace days, so the implied lifetime
    ``2 * rotation_days + grace_days`` must fit under ``max_lifetime_days`` (the tenant's app management
    policy maximum; Graph's own default lifetime is two years).
    """

    rotation_days: int = Field(90, ge=1, le=365, description="Days between new secrets (a rotation period).")
    grace_days: int = Field(14, ge=1, le=365, description="Extra days each secret stays valid after its two periods.")
    max_lifetime_days: int = Field(
        365, ge=1, le=730, description="Longest secret lifetime the tenant allows, in days (at most 730)."
    )
    generation: int = Field(
        0,
        ge=0,
        description="Bump to replace both secrets at once (the response to a leak).",
        json_schema_extra={"maximum": MAX_GENERATION},
    )
    anchor: date = Field(
        DEFAULT_ROTATION_ANCHOR,
        description="UTC date rotation windows are counted from, in whole periods (YYYY-MM-DD).",
    )

    @field_validator("generation")
    @classmethod
    def _generation_fits(cls, value: int) -> int:
        if value > MAX_GENERATION:
            raise ValueError(
                f"generation must be at most {MAX_GENERATION} (Pulumi keeps numbers as doubles, exact only up to "
                "2^53, and each forced rotation adds just 1). Fix: use the deployed generation plus 1"
            )
        return value

    @property
    def lifetime_days(self) -> int:
        """Longest life of one secret: two periods plus grace, in days."""
        return 2 * self.rotation_days + self.grace_days

    @model_validator(mode="after")
    def _lifetime_fits(self) -> SecretPolicy:
        if self.lifetime_days > self.max_lifetime_days:
            raise ValueError(
                f"2 x rotation_days + grace_days = {self.lifetime_days} days exceeds max_lifetime_days "
                f"({self.max_lifetime_days}); Entra would reject the secret "
                "(CredentialInvalidLifetimeAsPerAppPolicy). Fix: shorten rotation_days or grace_days, or "
                "raise max_lifetime_days to your tenant's real maximum"
            )
        return self


class IntegrationConfig(_Model):
    """One Paragon integration and the Entra app registration made for it."""

    scopes: list[str] | None = Field(
        None,
        min_length=1,
        description="Delegated permission names on the integration's resource API; default: the catalog's "
        "recommended set (python -m provisioner catalog).",
    )
    app: str | None = Field(
        None,
        min_length=1,
        description="Share the app registration (and its secret rotation) of another integration on the same "
        "resource API, by its key; this integration then sets no app-level settings.",
    )
    paragon_values: dict[str, str] = Field(
        default_factory=dict,
        description="Extra non-secret values merged into the Paragon credential's values next to clientId, "
        "clientSecret and scopes (e.g. a Dynamics organization URL). Paragon does not document their keys.",
    )
    display_name: str | None = Field(None, min_length=1, max_length=120, description="App registration display name.")
    sign_in_audience: SignInAudience = Field(
        "AzureADMultipleOrgs", description="Who can sign in; Paragon's end users come from their own tenants."
    )
    requested_access_token_version: Literal[1, 2] | None = Field(
        None, description="api.requested_access_token_version; 2 is required (and set) for personal accounts."
    )
    owners: list[Annotated[str, AfterValidator(check_object_id)]] = Field(
        default_factory=list,
        description="Owner object IDs of this app registration and its service principal, besides "
        "scheduled_deployer (without scheduled_deployer, the deploying identity is added too).",
    )
    paragon_scope_format: Annotated[ScopeFormat | None, Field(strict=False)] = Field(
        None, description="Override how scopes are written for Paragon: qualified or bare."
    )
    activate: bool = Field(False, description="Also mark the integration active in Paragon after the push.")
    secret: SecretPolicy = Field(default_factory=SecretPolicy)
    extra_redirect_uris: list[Annotated[str, AfterValidator(check_redirect_uri)]] = Field(
        default_factory=list,
        description="More Web redirect URIs kept on the app registration besides paragon.redirect_uri, exactly as "
        "written (an adopted app's other sign-ins; docs/adopt.md).",
    )
    client_id: Annotated[str | None, AfterValidator(check_client_id)] = Field(
        None,
        description="Application (client) ID of an existing app registration this stack adopted (python -m "
        "provisioner adopt; docs/adopt.md). The program then manages that app and never creates another one.",
    )

    @field_validator("requested_access_token_version", mode="before")
    @classmethod
    def _token_version_is_whole(cls, value: Any) -> Any:
        # Literal[1, 2] alone accepts 2.0 and true (they compare equal); the model is strict about numbers.
        if value is not None and type(value) is not int:
            raise ValueError("expected the whole number 1 or 2. Fix: write 1 or 2 without a decimal point or quotes")
        return value

    @field_validator("paragon_values")
    @classmethod
    def _paragon_values_are_plain(cls, values: dict[str, str]) -> dict[str, str]:
        for key in values:
            if reserved_value_keys([key]):
                raise ValueError(
                    f"key {key!r} is set by the provisioner itself (clientId, clientSecret, scopes). Fix: remove it "
                    "(use scopes: for scopes)"
                )
            if not _VALUE_KEY.fullmatch(key):
                raise ValueError(f"key {key!r} is not a plain name (letters, digits, _ . -). Fix: rename it")
        return values

    @model_validator(mode="after")
    def _token_version_fits_audience(self) -> IntegrationConfig:
        if self.sign_in_audience in PERSONAL_AUDIENCES and self.requested_access_token_version == 1:
            raise ValueError(
                f"sign_in_audience {self.sign_in_audience} includes personal Microsoft accounts, which "
                "require requested_access_token_version 2. Fix: set it to 2 or remove it"
            )
        return self

    @property
    def access_token_version(self) -> int | None:
        """The effective ``api.requested_access_token_version`` (2 for personal audiences if unset)."""
        if self.requested_access_token_version is None and self.sign_in_audience in PERSONAL_AUDIENCES:
            return 2
        return self.requested_access_token_version


class ParagonConfig(_Model):
    """Where the Paragon project lives."""

    project_id: str = Field(description="The Paragon project (a GUID from the dashboard URL).")
    base_url: str = Field(DEFAULT_BASE_URL, description="Paragon API host; on-prem https://zeus.<domain>.")
    redirect_uri: str = Field(
        DEFAULT_REDIRECT_URI,
        description="Paragon's OAuth callback, exactly as the integration's settings show it.",
    )
    delete_credentials_on_destroy: bool = Field(
        False, description="On destroy, also delete the OAuth credentials from Paragon."
    )
    retry_timeout_seconds: float = Field(
        120.0, gt=0, le=3600, description="Deadline of one Paragon call, attempts and waits included, in seconds."
    )
    verify_timeout_seconds: float = Field(
        120.0,
        ge=0,
        le=3600,
        description="How long to keep asking Entra to accept a new client secret before it is pushed to Paragon "
        "(it replicates for seconds to minutes), attempts and waits included, in seconds; 0 pushes unverified.",
    )
    ca_bundle: str | None = Field(
        None,
        min_length=1,
        description="PEM file of the CA certificate(s) that sign the Paragon host's certificate (a private CA), "
        "used instead of the default trust store; relative to this file's folder.",
    )

    @field_validator("project_id")
    @classmethod
    def _project_id(cls, value: str) -> str:
        return check_uuid(value, "project_id")

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return check_base_url(value, "base_url")

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Resolve against the config file's folder (validation context ``config_dir``); must load as PEM."""
        if value is None:
            return None
        base = (info.context or {}).get("config_dir")
        path = Path(value).expanduser()
        if not path.is_absolute() and base is not None:
            path = Path(base) / path
        path = Path(os.path.realpath(path))  # unlike Path.resolve, no RuntimeError for a symbolic link loop
        try:
            is_file = path.is_file()
        except OSError as err:  # a path too long, a folder without permission
            raise ValueError(
                f"cannot be looked at ({err.strerror}; looked at {path}). Fix: give the path of a readable PEM file"
            ) from None
        if not is_file:
            raise ValueError(
                f"does not exist or is not a file (looked for {path}). Fix: give the path of a PEM file "
                "(absolute, or relative to this config file's folder)"
            )
        if not os.access(path, os.R_OK):
            raise ValueError(f"is not readable (looked at {path}). Fix: make it readable for this user")
        try:
            ssl.create_default_context(cafile=str(path))
        except (ssl.SSLError, ValueError, OSError) as err:
            raise ValueError(
                f"holds no usable PEM certificate ({err}; looked at {path}). Fix: export the CA certificate "
                "as PEM (-----BEGIN CERTIFICATE-----)"
            ) from None
        return str(path)

    @field_validator("redirect_uri")
    @classmethod
    def _redirect_uri(cls, value: str) -> str:
        return check_redirect_uri(value)


class ProvisionerConfig(_Model):
    """A whole ``config/<stack>.yaml``."""

    paragon: ParagonConfig
    scheduled_deployer: Annotated[str | None, AfterValidator(check_scheduled_deployer)] = Field(
        None,
        description="Object ID of the service principal (or managed identity) that runs the scheduled pulumi up; "
        "it stays an owner of every app registration whoever deploys, and the deploying identity is then no "
        "longer added as an owner.",
    )
    integrations: dict[str, IntegrationConfig] = Field(
        min_length=1, description="Integrations by Paragon integration key (e.g. powerbi)."
    )

    def entry(self, key: str) -> CatalogEntry:
        """The catalog entry of integration ``key`` (validated to exist at load time)."""
        return CATALOG[key]

    def scopes(self, key: str) -> tuple[str, ...]:
        """The integration's delegated scope names: its ``scopes:``, or its catalog entry's default set."""
        configured = self.integrations[key].scopes
        return tuple(configured) if configured else self.entry(key).default_scopes

    def app_key(self, key: str) -> str:
        """Key of the integration whose app registration ``key`` uses: its ``app:`` target, else itself."""
        return self.integrations[key].app or key

    def app_settings(self, key: str) -> IntegrationConfig:
        """The config holding the app-level settings (audience, secret policy, ...) of ``key``'s app."""
        return self.integrations[self.app_key(key)]

    def sharers(self, key: str) -> list[str]:
        """Keys of the other integrations that share ``key``'s app registration, in config order."""
        return [k for k, i in self.integrations.items() if i.app == key and k != key]

    def declared_owners(self, key: str) -> tuple[str, ...]:
        """Owner object IDs declared for the app registration of ``key`` (and its service principal).

        ``scheduled_deployer`` first, then the ``owners`` of the app's integration (its ``app:`` target for
        a sharer); lower-case, each once. The deploying identity is not included: without
        ``scheduled_deployer`` the program adds it (`provisioner.program.app_registration.owner_ids`).
        """
        first = (self.scheduled_deployer,) if self.scheduled_deployer else ()
        return tuple(dict.fromkeys((*first, *self.app_settings(key).owners)))

    def app_scopes(self, key: str) -> tuple[str, ...]:
        """Scopes the app registration of ``key`` (an app owner) requests: its own, then its sharers' (union)."""
        names = [*self.scopes(key), *(s for other in self.sharers(key) for s in self.scopes(other))]
        return tuple(dict.fromkeys(names))
