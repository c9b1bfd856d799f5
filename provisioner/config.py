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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Final, Literal, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
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
    PERSONAL_ACCOUNTS,
    CatalogEntry,
    ScopeFormat,
    reserved_value_keys,
)
from provisioner.defaults import apply_defaults
from provisioner.errors import ConfigError, Problem
from provisioner.yaml_source import KeyPath, YamlDocument, format_path, read_yaml, shown

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

    The message names ``what`` but never repeats the value (callers show it once, as written).

    Raises:
        ValueError: Not absolute, another scheme, or http on a non-loopback host.
    """
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc or not parts.hostname:
        raise ValueError(f"{what} must be an absolute URL like https://host/path. Fix: write it in full")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{what} must not contain a user name or password (user:pass@). Fix: remove them")
    if value.split(":", 1)[0] not in ("https", "http"):
        raise ValueError(f"{what} must start with lower-case https://. Fix: write https://")
    if parts.scheme == "https":
        return value
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return value
    raise ValueError(f"{what} must use https:// (http:// is allowed only for localhost/loopback). Fix: write https://")


def check_base_url(value: str, what: str) -> str:
    """Accept a Paragon API root: `check_https_url`, plus nothing an HTTP client would refuse or misroute.

    Refused: a ``?query`` or ``#fragment`` (request paths are appended to the base URL, so either would
    swallow every path), a port that is not a number in 1-65535, a host name that is not a valid IDNA name,
    and spaces or control characters. The message never repeats the value (callers show it once, and never
    one holding user info).

    Raises:
        ValueError: One line ending in ``Fix: ...``.
    """
    check_https_url(value, what)
    parts = urlsplit(value)
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValueError(
            f"{what} must be the API root alone, without a ?query or #fragment (request paths are appended to "
            "it). Fix: remove everything from the ? or #"
        )
    host = parts.hostname or ""
    problem = ""
    try:
        port = parts.port
    except ValueError as err:
        text = parts.netloc.rpartition(":")[2]
        problem = str(err) if "out of range" in str(err) else f"Invalid port: {text!r}"
    else:
        if port == 0:
            problem = "port 0"
        elif any(c.isspace() or not c.isprintable() for c in value):
            problem = "a space or control character"
        elif not host.startswith("[") and ":" not in host:
            try:
                host.encode("idna")
            except UnicodeError as err:
                problem = str(err)
    if problem:
        raise ValueError(f"not a usable URL ({problem}). Fix: write it as https://host[:port][/path]")
    return value


NIL_GUID: Final = "00000000-0000-0000-0000-000000000000"


def check_uuid(value: str, what: str) -> str:
    """Accept a GUID like ``38b1f170-0c43-4eae-9a04-ab85325d99f7`` in any case; return it lower-case.

    GUIDs compare case-insensitively (Entra and Paragon print them lower-case), so one spelling is kept.

    Raises:
        ValueError: Not a GUID, or the nil GUID (all zeros), which names nothing.
    """
    if not _UUID.fullmatch(value):
        raise ValueError(
            f"{what} must be a GUID like 38b1f170-0c43-4eae-9a04-ab85325d99f7. Fix: copy the ID exactly as "
            "shown (Paragon: the dashboard URL; Entra: the object's Overview page)"
        )
    if value == NIL_GUID:
        raise ValueError(f"{what} is the nil GUID (all zeros), which names nothing. Fix: copy the real ID")
    return value.lower()


REDIRECT_URI_MAX_LENGTH: Final = 256
"""Longest redirect URI Entra accepts, in characters (Microsoft identity platform, "Redirect URI (reply
URL) outline and restrictions", Maximum URI length)."""
REDIRECT_URI_FORBIDDEN: Final = "!$'(),;"
"""Characters Entra does not support in redirect URIs (same document, restrictions list)."""


def check_redirect_uri(value: str) -> str:
    """Apply the redirect URI rules that do not depend on other settings; return the value unchanged.

    Sources: RFC 6749 section 3.1.2 (the redirection endpoint URI must not include a fragment) and
    Microsoft's "Redirect URI (reply URL) outline and restrictions" (https, or http only for localhost and
    loopback; at most 256 characters; no ``! $ ' ( ) , ;``; no wildcards for Web redirect URIs).

    Raises:
        ValueError: The first rule broken, with a ``Fix:``.
    """
    if value != value.strip():
        raise ValueError(
            "redirect_uri has leading or trailing spaces; Entra compares it character by character. Fix: remove them"
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("redirect_uri contains a space or control character. Fix: copy the URL again from Paragon")
    if "*" in value:
        raise ValueError(
            "redirect_uri may not contain a wildcard (Graph rejects them). Fix: use the exact "
            "Redirect URL shown in the integration's settings in Paragon"
        )
    if "#" in value:
        raise ValueError(
            "redirect_uri must not contain a fragment (#...); OAuth 2.0 forbids it (RFC 6749 section 3.1.2). "
            "Fix: remove everything from #"
        )
    if len(value) > REDIRECT_URI_MAX_LENGTH:
        raise ValueError(
            f"redirect_uri is {len(value)} characters; Entra accepts at most {REDIRECT_URI_MAX_LENGTH}. "
            "Fix: use a shorter URL"
        )
    bad = sorted({ch for ch in value if ch in REDIRECT_URI_FORBIDDEN})
    if bad:
        raise ValueError(
            f"redirect_uri contains {' '.join(bad)}, which Entra does not support in redirect URIs. "
            "Fix: remove or percent-encode them"
        )
    return check_https_url(value, "redirect_uri")


def _object_id(value: str) -> str:
    return check_uuid(value, "an owner (an object ID)")


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
    owners: list[Annotated[str, AfterValidator(_object_id)]] = Field(
        default_factory=list,
        description="Extra owner object IDs; the deploying principal is always an owner.",
    )
    paragon_scope_format: Annotated[ScopeFormat | None, Field(strict=False)] = Field(
        None, description="Override how scopes are written for Paragon: qualified or bare."
    )
    activate: bool = Field(False, description="Also mark the integration active in Paragon after the push.")
    secret: SecretPolicy = Field(default_factory=SecretPolicy)

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
        path = path.resolve()
        if not path.is_file():
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

ANY_INTEGRATION: Final = "*"
"""Stands for any integration key in `FIELD_HOMES` paths."""


def _submodel(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """The model inside a field's annotation, and whether it is keyed by name (``dict[str, Model]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    args = get_args(annotation)
    if get_origin(annotation) is dict and len(args) == 2:
        inner = _submodel(args[1])
        return (inner[0], True) if inner else None
    for arg in args:  # Optional[Model], Annotated[Model, ...]
        inner = _submodel(arg)
        if inner:
            return inner
    return None


def _field_homes(model: type[BaseModel], parent: tuple[str, ...], homes: dict[str, list[tuple[str, ...]]]) -> None:
    for name, info in model.model_fields.items():
        homes.setdefault(name, []).append(parent)
        inner = _submodel(info.annotation)
        if inner:
            sub, keyed = inner
            _field_homes(sub, (*parent, name, ANY_INTEGRATION) if keyed else (*parent, name), homes)


def _all_field_homes() -> dict[str, list[tuple[str, ...]]]:
    homes: dict[str, list[tuple[str, ...]]] = {}
    _field_homes(ProvisionerConfig, (), homes)
    return homes


FIELD_HOMES: Final = _all_field_homes()
"""Every key of the model and the parent path(s) it belongs under (``*`` = an integration key)."""
_ALL_KEYS: Final = sorted(FIELD_HOMES)
SUGGESTION_CUTOFF: Final = 0.75
"""Least difflib similarity (0..1, after lower-casing and dropping ``_``/``-``) for a "did you mean"."""


def _normal(word: str) -> str:
    return re.sub(r"[_\-\s]", "", word.lower())


def _close(word: str, choices: Iterable[str]) -> list[str]:
    by_normal = {_normal(c): c for c in sorted(choices)}
    return [
        by_normal[c] for c in difflib.get_close_matches(_normal(word), list(by_normal), n=3, cutoff=SUGGESTION_CUTOFF)
    ]


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = _close(word, choices)
    return f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _matches(template: tuple[str, ...], path: KeyPath) -> bool:
    return len(template) == len(path) and all(t in (ANY_INTEGRATION, p) for t, p in zip(template, path, strict=True))


def _keys_at(parent: KeyPath) -> list[str]:
    """The model's keys valid directly under ``parent``."""
    return [name for name, homes in FIELD_HOMES.items() if any(_matches(h, parent) for h in homes)]


def _home_for(key: str, parent: KeyPath, data: Any) -> KeyPath | None:
    """Where a known ``key`` found under the wrong ``parent`` belongs, as a concrete path (None if unknown)."""
    homes = FIELD_HOMES.get(key)
    if not homes or any(_matches(h, parent) for h in homes):
        return None
    home = homes[0]
    if ANY_INTEGRATION not in home:
        return home
    if len(parent) >= 2 and parent[0] == "integrations" and str(parent[1]) in CATALOG:
        name = str(parent[1])
    else:
        configured = data.get("integrations") if isinstance(data, dict) else None
        known = [k for k in configured if k in CATALOG] if isinstance(configured, dict) else []
        name = known[0] if len(known) == 1 else "<integration>"
    return tuple(name if part == ANY_INTEGRATION else part for part in home)


def _misplaced(doc: YamlDocument, parent: KeyPath, key: str) -> Problem | None:
    home = _home_for(key, parent, doc.data)
    if home is None:
        return None
    here = (*parent, key)
    target = format_path(home)
    if home[: len(parent)] == parent or parent[: len(home)] == home:
        deeper = len(home) > len(parent)
        message = f"`{key}` belongs under `{target}`; it is indented one level too {'little' if deeper else 'far'}"
        return doc.problem(here, message, f"indent it under `{target}:`")
    return doc.problem(here, f"`{key}` belongs under `{target}`, not here", f"move it to `{target}:`")


def _integration_keys_that_are_settings(doc: YamlDocument) -> list[Problem]:
    """Keys under ``integrations:`` that are settings of an integration (a block indented too little)."""
    problems: list[Problem] = []
    integrations = doc.data.get("integrations") if isinstance(doc.data, dict) else None
    if not isinstance(integrations, dict):
        return problems
    for key in integrations:
        if str(key) in CATALOG or str(key) not in FIELD_HOMES:
            continue
        problem = _misplaced(doc, ("integrations",), str(key))
        if problem is not None:
            problems.append(problem)
            doc.reported.add(("integrations", str(key)))
    return problems


_INTERNALS: Final = re.compile(r"(?: or)? instance of \w+")


def _split_fix(message: str) -> tuple[str, str]:
    text, _, fix = message.partition(". Fix: ")
    return text, fix


def _pydantic_problem(doc: YamlDocument, error: Any) -> Problem | None:
    loc: KeyPath = tuple(error["loc"])
    kind: str = error["type"]
    value = error.get("input")
    raw = doc.raw.get(loc)
    # A model-level error (value is the whole mapping) is about the model, not one value: no "got".
    got = f", got {shown(raw)}" if raw is not None and not isinstance(value, (dict, list)) else ""
    message, fix = _split_fix(_INTERNALS.sub("", str(error["msg"]).removeprefix("Value error, ")))
    if kind == "extra_forbidden":
        misplaced = _misplaced(doc, loc[:-1], str(loc[-1]))
        if misplaced is not None:
            return misplaced
        hint = _suggest(str(loc[-1]), _keys_at(loc[:-1]))
        return doc.problem(loc, "unknown key", f"remove it or correct the spelling{'; ' + hint if hint else ''}")
    if kind == "missing":
        return doc.problem(loc, "required key is missing", f"add `{loc[-1]}:` here")
    if kind == "string_type" and isinstance(value, bool):
        return doc.problem(
            loc,
            f"expected text but YAML read a boolean ({str(value).lower()}); unquoted yes/no/on/off/true/false "
            "are booleans in YAML",
            "quote the value",
        )
    if kind == "string_type" and value is not None and not isinstance(value, (dict, list)):
        what = "a number" if isinstance(value, (int, float)) else "a date" if isinstance(value, date) else "a value"
        return doc.problem(loc, f"expected text but YAML read {what} ({shown(raw or str(value))})", "quote the value")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        if value is None:
            return doc.problem(
                loc, "is empty; its keys must be indented under it", "indent its keys under it, or remove the line"
            )
        return doc.problem(
            loc, f"expected a mapping (keys indented under it){got}", "indent `key: value` lines under it"
        )
    if kind == "list_type":
        return doc.problem(loc, f"expected a list{got}", "write a list, e.g. [A, B], or one `- item` per line")
    if kind == "literal_error":
        return doc.problem(loc, f"{message}{got}", "use one of the listed values")
    if kind in ("date_type", "date_from_datetime_inexact", "date_from_datetime_parsing"):
        return doc.problem(loc, f"expected a date{got}", "write the date alone as YYYY-MM-DD (UTC)")
    return doc.problem(loc, f"{message}{got}", fix or "correct the value (see config/provisioner.schema.json)")


def _sharing_and_audience_problems(
    doc: YamlDocument, config: ProvisionerConfig, key: str, entry: CatalogEntry
) -> list[Problem]:
    """Problems with ``app:`` sharing, sign-in audiences and Paragon extras of one integration."""
    problems: list[Problem] = []
    here: KeyPath = ("integrations", key)
    integration = config.integrations[key]
    target = integration.app
    if target is not None:
        at_app: KeyPath = (*here, "app")
        other = config.integrations.get(target)
        if target == key:
            return [doc.problem(at_app, "an integration cannot share its own app", "remove `app:`")]
        if other is None:
            hint = _suggest(target, list(config.integrations))
            return [
                doc.problem(
                    at_app,
                    f"{target!r} is not an integration in this file",
                    f"use one of {', '.join(k for k in config.integrations if k != key)}"
                    f"{' (' + hint + ')' if hint else ''}",
                )
            ]
        if other.app is not None:
            return [
                doc.problem(
                    at_app,
                    f"{target!r} itself shares the app of {other.app!r}; sharing does not chain",
                    f"write `app: {other.app}`",
                )
            ]
        target_entry = CATALOG.get(target)
        if target_entry is not None and target_entry.resource_app_id != entry.resource_app_id:
            return [
                doc.problem(
                    at_app,
                    f"{target!r} requests {target_entry.resource_title} scopes but {key} requests "
                    f"{entry.resource_title} scopes; one app shared by both would need two resource APIs in one "
                    "sign-in (AADSTS28000)",
                    "remove `app:` so each has its own app",
                )
            ]
        for name in APP_LEVEL_KEYS:
            if name in integration.model_fields_set:
                problems.append(
                    doc.problem(
                        (*here, name),
                        f"{key} shares the app of {target!r}, so app-level settings come from {target!r}",
                        f"remove it here (set it on integrations.{target})",
                    )
                )
    if target is not None and CATALOG.get(target) is None:
        return problems
    settings = config.app_settings(key)
    audience = settings.sign_in_audience
    owner = config.app_key(key)
    via = "" if owner == key else f" (the audience of {owner}'s app, which {key} shares)"
    if audience not in entry.sign_in_audiences:
        problems.append(
            doc.problem(
                ("integrations", owner, "sign_in_audience"),
                f"{entry.title} does not accept sign_in_audience {audience}{via}: {entry.audience_reason}",
                f"use one of {', '.join(sorted(entry.sign_in_audiences))}",
            )
        )
    elif audience in PERSONAL_ACCOUNTS:
        for index, scope in enumerate(config.scopes(key)):
            if scope in OPENID_SCOPE_IDS or scope not in entry.delegated_scopes:
                continue
            if scope not in entry.personal_account_scopes:
                at_scope: KeyPath = (*here, "scopes", index) if integration.scopes else (*here,)
                problems.append(
                    doc.problem(
                        at_scope,
                        f"{scope!r} does not work for personal Microsoft accounts, but sign_in_audience is "
                        f"{audience}{via}",
                        "remove the scope or use AzureADMultipleOrgs",
                    )
                )
    if integration.paragon_scope_format is ScopeFormat.QUALIFIED and entry.resource_uri_per_environment:
        problems.append(
            doc.problem(
                (*here, "paragon_scope_format"),
                f"{entry.title}'s resource URI depends on the customer's environment ({entry.resource_uri}), so "
                "scopes cannot be qualified here",
                "remove it (bare)",
            )
        )
    secret_extras = {x.name for x in entry.extras if x.secret}
    for name in integration.paragon_values:
        if name in secret_extras:
            problems.append(
                doc.problem(
                    (*here, "paragon_values", name),
                    "is a secret and secrets never go in YAML",
                    "remove it and enter it in Paragon's dashboard (docs/integrations.md)",
                )
            )
    return problems


def _model_problems(doc: YamlDocument, err: ValidationError) -> list[Problem]:
    errors = [e for e in err.errors() if not doc.is_reported(tuple(e["loc"]))]
    problems: list[Problem] = []
    moved_to: set[KeyPath] = set()  # (home, key) of misplaced keys, and their homes
    for e in errors:
        if e["type"] == "extra_forbidden":
            loc: KeyPath = tuple(e["loc"])
            home = _home_for(str(loc[-1]), loc[:-1], doc.data)
            if home is not None:
                moved_to |= {home, (*home, str(loc[-1]))}
    # A misspelt required key shows up twice (unknown key + missing key); report it once, as the typo.
    misspelt = {
        (*tuple(e["loc"][:-1]), close)
        for e in errors
        if e["type"] == "extra_forbidden"
        for close in _close(str(e["loc"][-1]), _keys_at(tuple(e["loc"][:-1])))
    }
    for e in errors:
        loc = tuple(e["loc"])
        if e["type"] == "missing" and (loc in misspelt or loc in moved_to):
            continue
        if e["type"] in ("model_type", "dict_type") and e.get("input") is None and loc in moved_to:
            continue
        problem = _pydantic_problem(doc, e)
        if problem is not None:
            problems.append(problem)
    return problems


def _catalog_problems(doc: YamlDocument, config: ProvisionerConfig) -> list[Problem]:
    problems: list[Problem] = []
    for key, integration in config.integrations.items():
        here: KeyPath = ("integrations", key)
        entry = CATALOG.get(key)
        if entry is None:
            hint = _suggest(key, list(CATALOG))
            problems.append(
                doc.problem(
                    here,
                    "unknown Paragon integration key",
                    f"use one of {', '.join(sorted(CATALOG))}{' (' + hint + ')' if hint else ''}",
                )
            )
            continue
        problems += _sharing_and_audience_problems(doc, config, key, entry)
        if integration.scopes is None:
            continue  # the catalog's default set: valid by construction
        if all(scope in OPENID_SCOPE_IDS for scope in integration.scopes):
            problems.append(
                doc.problem(
                    (*here, "scopes"),
                    f"lists only OpenID scopes; {entry.title} needs at least one {entry.resource_title} permission",
                    f"add one, e.g. {sorted(entry.delegated_scopes)[0]}",
                )
            )
        seen: set[str] = set()
        for index, scope in enumerate(integration.scopes):
            at: KeyPath = (*here, "scopes", index)
            if scope in seen:
                problems.append(doc.problem(at, f"{scope!r} is listed twice", "remove the duplicate"))
                continue
            seen.add(scope)
            if scope in OPENID_SCOPE_IDS or scope in entry.delegated_scopes:
                continue
            if "://" in scope or scope.startswith(entry.resource_uri):
                bare = scope.rsplit("/", 1)[-1]
                problems.append(
                    doc.problem(
                        at,
                        f"write the bare permission name ({bare!r}), not a URI; the resource URI is added where "
                        "Paragon needs it",
                        "use the name alone",
                    )
                )
                continue
            if scope in GRAPH_SCOPE_NAMES and not entry.resource_is_graph:
                problems.append(
                    doc.problem(
                        at,
                        f"{scope!r} is a Microsoft Graph permission, but {entry.title} requests "
                        f"{entry.resource_title} scopes; one sign-in can target only one resource API (AADSTS28000)",
                        "remove it",
                    )
                )
                continue
            hint = _suggest(scope, entry.delegated_scopes | set(OPENID_SCOPE_IDS))
            problems.append(
                doc.problem(
                    at,
                    f"{scope!r} is not a known {entry.resource_title} delegated permission",
                    hint or "use one of " + ", ".join(sorted(entry.delegated_scopes)),
                )
            )
    return problems


def _owner_problems(doc: YamlDocument, config: ProvisionerConfig) -> list[Problem]:
    """Owners listed twice (object IDs compare case-insensitively; they are kept lower-case)."""
    problems: list[Problem] = []
    for key, integration in config.integrations.items():
        first: dict[str, int] = {}
        for index, owner in enumerate(integration.owners):
            if owner in first:
                problems.append(
                    doc.problem(
                        ("integrations", key, "owners", index),
                        f"the same object ID as owners[{first[owner]}] (GUIDs compare without regard to case)",
                        "remove the duplicate",
                    )
                )
            else:
                first.setdefault(owner, index)
    return problems


def _redirect_problems(doc: YamlDocument, config: ProvisionerConfig) -> list[Problem]:
    """Redirect URI rules that need the whole config, and warnings about likely mistakes.

    Sources: Microsoft's "Redirect URI (reply URL) outline and restrictions" (query parameters only for
    apps that sign in work or school accounts only; http only for localhost, 127.0.0.1 preferred) and
    Paragon's setup guide (the cloud redirect URL ``https://passport.useparagon.com/oauth``, matched by Entra
    character by character).
    """
    at: KeyPath = ("paragon", "redirect_uri")
    value = config.paragon.redirect_uri
    parts = urlsplit(value)
    problems: list[Problem] = []
    personal = [k for k, i in config.integrations.items() if i.sign_in_audience in PERSONAL_AUDIENCES]
    if parts.query and personal:
        problems.append(
            doc.problem(
                at,
                f"has query parameters, which Entra allows only for apps that sign in work or school accounts; "
                f"integrations.{personal[0]}.sign_in_audience includes personal Microsoft accounts",
                "remove the query (?...) or choose AzureADMyOrg / AzureADMultipleOrgs",
            )
        )
    if value != DEFAULT_REDIRECT_URI:
        differences = []
        if value.rstrip("/").lower() == DEFAULT_REDIRECT_URI.lower():
            if value.rstrip("/") != value:
                differences.append("a trailing slash")
            if value.rstrip("/") != DEFAULT_REDIRECT_URI:
                differences.append("letter case")
        if differences:
            problems.append(
                doc.problem(
                    at,
                    f"differs from Paragon's documented redirect URL {DEFAULT_REDIRECT_URI} only by "
                    f"{' and '.join(differences)}; Entra matches redirect URIs exactly, so sign-ins fail "
                    "(AADSTS50011) unless Paragon sends this very string",
                    f"write {DEFAULT_REDIRECT_URI} unless the integration's settings in Paragon show yours",
                    severity="warning",
                )
            )
    if parts.scheme == "http":
        note = " (Microsoft recommends 127.0.0.1 over localhost)" if parts.hostname == "localhost" else ""
        problems.append(
            doc.problem(
                at,
                f"plain http on a loopback host works only for local development{note}",
                "use Paragon's https redirect URL for a real deployment",
                severity="warning",
            )
        )
    return problems


@dataclass(frozen=True)
class LoadedConfig:
    """A valid config and the warnings found while loading it.

    Attributes:
        config: The validated config.
        warnings: `Problem` records with severity ``warning``, in line order; print them as
            ``file:line: key: warning: ...`` (``str`` of each).
    """

    config: ProvisionerConfig
    warnings: list[Problem] = field(default_factory=list)


def read_document(path: Path) -> YamlDocument:
    """Read one config file (a stack file or ``defaults.yaml``) with the config model's key names known.

    Raises:
        ConfigError: The file is missing, not UTF-8, nested too deeply or unreadable (one line naming it).
            YAML syntax and value problems are collected on the document, not raised.
    """
    problem = ""
    fix = ""
    try:
        return read_yaml(path, known_keys=_ALL_KEYS)
    except FileNotFoundError:
        problem, fix = "file not found", "create it, or name another with --config (README, Configuration)"
    except UnicodeDecodeError:
        problem, fix = "not UTF-8 text", "save the file as UTF-8"
    except RecursionError:
        problem, fix = "nested too deeply", "flatten the file"
    except OSError as err:
        problem, fix = f"cannot read the file ({err.strerror})", "check the path and its permissions"
    raise ConfigError([Problem(str(path), None, "", problem, fix)]) from None


def load_config_report(path: Path) -> LoadedConfig:
    """Load and fully validate one stack config file, returning warnings alongside the config.

    Args:
        path: A ``config/<stack>.yaml`` file.

    Returns:
        The validated config (GUIDs lower-case) and any warnings.

    Raises:
        ConfigError: The file is missing, not YAML, has duplicate keys, holds a secret, breaks the model, or
            names unknown integrations or scopes. Each problem is a `Problem` record (``err.records``) and
            one line (``err.problems``) naming the file, line, key path and fix, sorted by line.
    """
    doc = apply_defaults(
        read_document(path), read_document, frozenset(APP_LEVEL_KEYS)
    )  # defaults.yaml beside the file, merged under it
    problems = list(doc.problems)
    if doc.fatal:
        raise ConfigError(problems)
    if doc.data is None and not problems:
        raise ConfigError([Problem(str(path), None, "", "the file is empty", "start from config/dev.yaml")])
    if not isinstance(doc.data, dict):
        if not problems:
            problems.append(
                Problem(
                    str(path),
                    None,
                    "",
                    "the top level must be a mapping with `paragon:` and `integrations:`",
                    "start from config/dev.yaml",
                )
            )
        raise ConfigError(problems)
    problems += _integration_keys_that_are_settings(doc)
    try:
        config = ProvisionerConfig.model_validate(doc.data, context={"config_dir": path.parent})
    except ValidationError as err:
        raise ConfigError(problems + _model_problems(doc, err)) from None
    found = problems + _catalog_problems(doc, config) + _owner_problems(doc, config) + _redirect_problems(doc, config)
    errors = [p for p in found if p.severity == "error"]
    if errors:
        raise ConfigError(found)
    return LoadedConfig(config, sorted(found, key=lambda p: p.sort_key))


def load_config(path: Path) -> ProvisionerConfig:
    """Load and fully validate one stack config file (warnings dropped; see `load_config_report`).

    Args:
        path: A stack's YAML file; a ``defaults.yaml`` beside it is merged under it first
            (`provisioner.defaults`).

    Returns:
        The validated config.

    Raises:
        ConfigError: As `load_config_report`.
    """
    return load_config_report(path).config


def json_schema() -> dict[str, Any]:
    """The JSON Schema of `ProvisionerConfig`, as published in ``config/provisioner.schema.json``."""
    schema = ProvisionerConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Paragon provisioner stack config (config/<stack>.yaml)"
    schema["properties"]["integrations"]["propertyNames"] = {"enum": sorted(CATALOG)}
    return schema
