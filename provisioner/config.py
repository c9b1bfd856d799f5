"""The stack config model (``config/<stack>.yaml``) and its loader.

One pydantic model, strict and closed (unknown keys are errors), checked in full before any resource is
declared. Every problem becomes one line: ``file:line: key.path: what is wrong. Fix: what to do.``

Rules restated from ``shared/reference/entra-facts.md`` (Microsoft identity platform redirect URI and
sign-in audience documentation) and ``paragon-api.md``.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import ssl
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from provisioner.catalog import (
    CATALOG,
    GRAPH_SCOPE_NAMES,
    OPENID_SCOPE_IDS,
    PARAGON_RESERVED_VALUES,
    PERSONAL_ACCOUNTS,
    CatalogEntry,
    ScopeFormat,
)
from provisioner.defaults import apply_defaults
from provisioner.errors import ConfigError
from provisioner.paragon.transport import check_request_url
from provisioner.yaml_source import KeyPath, YamlDocument, format_path, read_yaml

DEFAULT_BASE_URL: Final = "https://zeus.useparagon.com"
DEFAULT_REDIRECT_URI: Final = "https://passport.useparagon.com/oauth"
DEFAULT_ROTATION_ANCHOR: Final = date(2025, 1, 1)

SignInAudience = Literal[
    "AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"
]
PERSONAL_AUDIENCES: Final = frozenset({"AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"})

_VALUE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_SECRET_LOOKING = re.compile(r"secret|password|passwd|pwd|token|credential|private|api_?key|signing", re.IGNORECASE)
APP_LEVEL_KEYS: Final = (
    "display_name",
    "sign_in_audience",
    "requested_access_token_version",
    "owners",
    "secret",
)
"""Settings of the app registration itself; an integration sharing another's app (``app:``) sets none."""

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_LOOPBACK_NAMES: Final = frozenset({"localhost"})


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` and loopback IP literals (``127.0.0.0/8``, ``::1``)."""
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_https_url(value: str, what: str) -> str:
    """Accept an absolute ``https://`` URL, or ``http://`` on a loopback host; return it unchanged.

    Raises:
        ValueError: Not absolute, another scheme, or http on a non-loopback host.
    """
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc or not parts.hostname:
        raise ValueError(f"{what} must be an absolute URL like https://host/path, got {value!r}. Fix: write it in full")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{what} must not contain a user name or password (user:pass@). Fix: remove them")
    if value.split(":", 1)[0] not in ("https", "http"):
        raise ValueError(f"{what} must start with lower-case https://, got {value!r}. Fix: write https://")
    if parts.scheme == "https":
        return value
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return value
    raise ValueError(f"{what} must use https:// (http:// is allowed only for localhost/loopback), got {value!r}")


def check_uuid(value: str, what: str) -> str:
    """Accept a GUID like ``38b1f170-0c43-4eae-9a04-ab85325d99f7``; raise ValueError otherwise."""
    if not _UUID.fullmatch(value):
        raise ValueError(f"{what} must be a GUID like 38b1f170-0c43-4eae-9a04-ab85325d99f7, got {value!r}")
    return value


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
    generation: int = Field(0, ge=0, description="Bump to replace both secrets at once (the response to a leak).")
    anchor: date = Field(
        DEFAULT_ROTATION_ANCHOR,
        description="UTC date rotation windows are counted from, in whole periods (YYYY-MM-DD).",
    )

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
    owners: list[str] = Field(
        default_factory=list,
        description="Extra owner object IDs; the deploying principal is always an owner.",
    )
    paragon_scope_format: Annotated[ScopeFormat | None, Field(strict=False)] = Field(
        None, description="Override how scopes are written for Paragon: qualified or bare."
    )
    activate: bool = Field(False, description="Also mark the integration active in Paragon after the push.")
    secret: SecretPolicy = Field(default_factory=SecretPolicy)

    @field_validator("owners")
    @classmethod
    def _owners_are_object_ids(cls, owners: list[str]) -> list[str]:
        for owner in owners:
            check_uuid(owner, "each owner (an object ID)")
        return owners

    @field_validator("paragon_values")
    @classmethod
    def _paragon_values_are_plain(cls, values: dict[str, str]) -> dict[str, str]:
        for key in values:
            if key.lower() in {k.lower() for k in PARAGON_RESERVED_VALUES}:
                raise ValueError(
                    f"key {key!r} is set by the provisioner itself (clientId, clientSecret, scopes). Fix: remove it "
                    "(use scopes: for scopes)"
                )
            if not _VALUE_KEY.fullmatch(key):
                raise ValueError(f"key {key!r} is not a plain name (letters, digits, _ . -). Fix: rename it")
            if _SECRET_LOOKING.search(key):
                raise ValueError(
                    f"key {key!r} looks like a secret, and secrets never go in YAML. Fix: remove it and enter "
                    "the value in Paragon's dashboard (see docs/integrations.md)"
                )
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
        check_https_url(value, "base_url")
        check_request_url(value)
        return value

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
        path = path.resolve()
        if not path.is_file():
            raise ValueError(
                f"CA bundle {str(path)!r} does not exist or is not a file. Fix: give the path of a PEM file "
                "(absolute, or relative to this config file's folder)"
            )
        if not os.access(path, os.R_OK):
            raise ValueError(f"CA bundle {str(path)!r} is not readable. Fix: make it readable for this user")
        try:
            ssl.create_default_context(cafile=str(path))
        except (ssl.SSLError, ValueError, OSError) as err:
            raise ValueError(
                f"CA bundle {str(path)!r} holds no usable PEM certificate ({err}). Fix: export the CA "
                "certificate as PEM (-----BEGIN CERTIFICATE-----)"
            ) from None
        return str(path)

    @field_validator("redirect_uri")
    @classmethod
    def _redirect_uri(cls, value: str) -> str:
        if "*" in value:
            raise ValueError(
                f"redirect_uri may not contain a wildcard (Graph rejects them), got {value!r}. Fix: use the exact "
                "Redirect URL shown in the integration's settings in Paragon"
            )
        if value != value.strip():
            raise ValueError("redirect_uri has leading or trailing spaces; Entra compares it character by character")
        return check_https_url(value, "redirect_uri")


class ProvisionerConfig(_Model):
    """A whole ``config/<stack>.yaml``."""

    paragon: ParagonConfig
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

    def app_scopes(self, key: str) -> tuple[str, ...]:
        """Scopes the app registration of ``key`` (an app owner) requests: its own, then its sharers' (union)."""
        names = [*self.scopes(key), *(s for other in self.sharers(key) for s in self.scopes(other))]
        return tuple(dict.fromkeys(names))


# --- turning problems into one-line messages ------------------------------------------------------------

_ALL_KEYS: Final = sorted(
    {
        name
        for model in (ProvisionerConfig, ParagonConfig, IntegrationConfig, SecretPolicy)
        for name in model.model_fields
    }
)


def _suggest(word: str, choices: list[str] | frozenset[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=3, cutoff=0.6)
    return f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _pydantic_problem(doc: YamlDocument, error: Any) -> str:
    loc: KeyPath = tuple(error["loc"])
    kind: str = error["type"]
    value = error.get("input")
    where = doc.where(loc)
    key = format_path(loc)
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        hint = _suggest(str(loc[-1]), _ALL_KEYS)
        return f"{where}: {key}: unknown key. Fix: remove it or correct the spelling{'; ' + hint if hint else ''}"
    if kind == "missing":
        return f"{where}: {key}: required key is missing. Fix: add `{loc[-1]}:` here"
    if kind == "string_type" and isinstance(value, bool):
        return (
            f"{where}: {key}: expected text but YAML read a boolean ({str(value).lower()}); unquoted "
            "yes/no/on/off/true/false are booleans in YAML. Fix: quote the value"
        )
    if kind == "string_type" and isinstance(value, (int, float)):
        return f"{where}: {key}: expected text but YAML read a number ({value}). Fix: quote the value"
    if kind == "literal_error":
        return f"{where}: {key}: {message}, got {value!r}. Fix: use one of the listed values"
    if "Fix:" in message:
        return f"{where}: {key}: {message}"
    shown = "" if isinstance(value, (dict, list)) else f", got {value!r}"
    return f"{where}: {key}: {message}{shown}. Fix: correct the value (see config/provisioner.schema.json)"


def _sharing_and_audience_problems(
    doc: YamlDocument, config: ProvisionerConfig, key: str, entry: CatalogEntry
) -> list[str]:
    """Problems with ``app:`` sharing, sign-in audiences and Paragon extras of one integration."""
    problems: list[str] = []
    here: KeyPath = ("integrations", key)
    integration = config.integrations[key]
    target = integration.app
    if target is not None:
        at_app: KeyPath = (*here, "app")
        prefix = f"{doc.where(at_app)}: {format_path(at_app)}: "
        other = config.integrations.get(target)
        if target == key:
            problems.append(f"{prefix}an integration cannot share its own app. Fix: remove `app:`")
            return problems
        if other is None:
            hint = _suggest(target, list(config.integrations))
            problems.append(
                f"{prefix}{target!r} is not an integration in this file. Fix: use one of "
                f"{', '.join(k for k in config.integrations if k != key)}{' (' + hint + ')' if hint else ''}"
            )
            return problems
        if other.app is not None:
            problems.append(
                f"{prefix}{target!r} itself shares the app of {other.app!r}; sharing does not chain. Fix: write "
                f"`app: {other.app}`"
            )
            return problems
        target_entry = CATALOG.get(target)
        if target_entry is not None and target_entry.resource_app_id != entry.resource_app_id:
            problems.append(
                f"{prefix}{target!r} requests {target_entry.resource_title} scopes but {key} requests "
                f"{entry.resource_title} scopes; one app shared by both would need two resource APIs in one sign-in "
                "(AADSTS28000). Fix: remove `app:` so each has its own app"
            )
            return problems
        for name in APP_LEVEL_KEYS:
            if name in integration.model_fields_set:
                at: KeyPath = (*here, name)
                problems.append(
                    f"{doc.where(at)}: {format_path(at)}: {key} shares the app of {target!r}, so app-level "
                    f"settings come from {target!r}. Fix: remove it here (set it on integrations.{target})"
                )
    if target is not None and CATALOG.get(target) is None:
        return problems
    settings = config.app_settings(key)
    audience = settings.sign_in_audience
    owner = config.app_key(key)
    at_audience: KeyPath = ("integrations", owner, "sign_in_audience")
    via = "" if owner == key else f" (the audience of {owner}'s app, which {key} shares)"
    if audience not in entry.sign_in_audiences:
        problems.append(
            f"{doc.where(at_audience)}: {format_path(at_audience)}: {entry.title} does not accept sign_in_audience "
            f"{audience}{via}: {entry.audience_reason}. Fix: use one of {', '.join(sorted(entry.sign_in_audiences))}"
        )
    elif audience in PERSONAL_ACCOUNTS:
        for index, scope in enumerate(config.scopes(key)):
            if scope in OPENID_SCOPE_IDS or scope not in entry.delegated_scopes:
                continue
            if scope not in entry.personal_account_scopes:
                at_scope: KeyPath = (*here, "scopes", index) if integration.scopes else (*here,)
                problems.append(
                    f"{doc.where(at_scope)}: {format_path(at_scope)}: {scope!r} does not work for personal "
                    f"Microsoft accounts, but sign_in_audience is {audience}{via}. Fix: remove the scope or use "
                    "AzureADMultipleOrgs"
                )
    fmt = integration.paragon_scope_format
    if fmt is ScopeFormat.QUALIFIED and entry.resource_uri_per_environment:
        at_fmt: KeyPath = (*here, "paragon_scope_format")
        problems.append(
            f"{doc.where(at_fmt)}: {format_path(at_fmt)}: {entry.title}'s resource URI depends on the customer's "
            f"environment ({entry.resource_uri}), so scopes cannot be qualified here. Fix: remove it (bare)"
        )
    secret_extras = {x.name for x in entry.extras if x.secret}
    for name in integration.paragon_values:
        if name in secret_extras:
            at_value: KeyPath = (*here, "paragon_values", name)
            problems.append(
                f"{doc.where(at_value)}: {format_path(at_value)}: is a secret and secrets never go in YAML. Fix: "
                "remove it and enter it in Paragon's dashboard (docs/integrations.md)"
            )
    return problems


def _catalog_problems(doc: YamlDocument, config: ProvisionerConfig) -> list[str]:
    problems: list[str] = []
    for key, integration in config.integrations.items():
        here: KeyPath = ("integrations", key)
        entry = CATALOG.get(key)
        if entry is None:
            hint = _suggest(key, list(CATALOG))
            problems.append(
                f"{doc.where(here)}: {format_path(here)}: unknown Paragon integration key. Fix: use one of "
                f"{', '.join(sorted(CATALOG))}{' (' + hint + ')' if hint else ''}"
            )
            continue
        problems += _sharing_and_audience_problems(doc, config, key, entry)
        if integration.scopes is None:
            continue  # the catalog's default set: valid by construction
        if all(scope in OPENID_SCOPE_IDS for scope in integration.scopes):
            at_scopes: KeyPath = (*here, "scopes")
            problems.append(
                f"{doc.where(at_scopes)}: {format_path(at_scopes)}: lists only OpenID scopes; {entry.title} needs "
                f"at least one {entry.resource_title} permission. Fix: add one, e.g. "
                f"{sorted(entry.delegated_scopes)[0]}"
            )
        seen: set[str] = set()
        for index, scope in enumerate(integration.scopes):
            at: KeyPath = (*here, "scopes", index)
            prefix = f"{doc.where(at)}: {format_path(at)}: "
            if scope in seen:
                problems.append(f"{prefix}{scope!r} is listed twice. Fix: remove the duplicate")
                continue
            seen.add(scope)
            if scope in OPENID_SCOPE_IDS or scope in entry.delegated_scopes:
                continue
            if "://" in scope or scope.startswith(entry.resource_uri):
                bare = scope.rsplit("/", 1)[-1]
                problems.append(
                    f"{prefix}write the bare permission name ({bare!r}), not a URI; the resource URI is "
                    "added where Paragon needs it. Fix: use the name alone"
                )
                continue
            if scope in GRAPH_SCOPE_NAMES and not entry.resource_is_graph:
                problems.append(
                    f"{prefix}{scope!r} is a Microsoft Graph permission, but {entry.title} requests "
                    f"{entry.resource_title} scopes; one sign-in can target only one resource API "
                    "(AADSTS28000). Fix: remove it"
                )
                continue
            hint = _suggest(scope, entry.delegated_scopes | set(OPENID_SCOPE_IDS))
            problems.append(
                f"{prefix}{scope!r} is not a known {entry.resource_title} delegated permission. Fix: "
                f"{hint or 'use one of ' + ', '.join(sorted(entry.delegated_scopes))}"
            )
    return problems


def load_config(path: Path) -> ProvisionerConfig:
    """Load and fully validate one stack config file.

    Args:
        path: A stack's YAML file; a ``defaults.yaml`` beside it is merged under it first
            (`provisioner.defaults`).

    Returns:
        The validated config.

    Raises:
        ConfigError: The file is missing, not YAML, has duplicate keys, breaks the model, or names unknown
            integrations or scopes. Each problem is one line naming the file, line, key path and fix.
    """
    try:
        doc = read_yaml(path)
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found. Fix: create it (see config/dev.yaml)"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text. Fix: save the file as UTF-8"]) from None
    except RecursionError:
        raise ConfigError([f"{path}: nested too deeply. Fix: flatten the file"]) from None
    except OSError as err:
        raise ConfigError([f"{path}: cannot read the file ({err.strerror})"]) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        raise ConfigError([f"{path}{line}: not valid YAML: {problem}"]) from None
    doc = apply_defaults(doc)  # defaults.yaml beside the file, merged under it (provisioner/defaults.py)
    problems = list(doc.problems)
    if any("aliases" in p for p in problems):
        raise ConfigError(problems)
    if doc.data is None:
        raise ConfigError([f"{path}: the file is empty. Fix: start from config/dev.yaml"])
    if not isinstance(doc.data, dict):
        raise ConfigError([f"{path}: the top level must be a mapping with `paragon:` and `integrations:`"])
    try:
        config = ProvisionerConfig.model_validate(doc.data, context={"config_dir": path.parent})
    except ValidationError as err:
        errors = err.errors()
        # A misspelt required key shows up twice (unknown key + missing key); report it once, as the typo.
        misspelt = {
            (tuple(e["loc"][:-1]), close)
            for e in errors
            if e["type"] == "extra_forbidden"
            for close in difflib.get_close_matches(str(e["loc"][-1]), _ALL_KEYS, n=3, cutoff=0.6)
        }
        errors = [
            e for e in errors if not (e["type"] == "missing" and (tuple(e["loc"][:-1]), e["loc"][-1]) in misspelt)
        ]
        problems += [_pydantic_problem(doc, e) for e in errors]
        raise ConfigError(problems) from None
    problems += _catalog_problems(doc, config)
    if problems:
        raise ConfigError(problems)
    return config


def config_path(config_dir: Path, stack: str) -> Path:
    """``<config_dir>/<stack>.yaml``, the file that configures Pulumi stack ``stack``."""
    return config_dir / f"{stack}.yaml"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of `ProvisionerConfig`, as published in ``config/provisioner.schema.json``."""
    schema = ProvisionerConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Paragon provisioner stack config (config/<stack>.yaml)"
    schema["properties"]["integrations"]["propertyNames"] = {"enum": sorted(CATALOG)}
    return schema
