"""What a catalog entry is: the resource API behind a Paragon integration, its scopes and sign-in audiences,
its Paragon settings, and how its scopes are written for Paragon.

Shapes and rules only; the entries themselves are data in `provisioner.catalog.integrations`. Facts restated
from ``shared/reference/entra-facts.md`` and ``microsoft-apis.md`` (OpenID scope IDs from Microsoft's Graph
permissions reference; one resource per token request, AADSTS28000; bare non-Graph scopes read as Graph
scopes on the v2 endpoint, AADSTS650053).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

MICROSOFT_GRAPH_APP_ID: Final = "00000003-0000-0000-c000-000000000000"
"""Application (client) ID of the Microsoft Graph resource app, the same in every tenant."""

OPENID_SCOPE_IDS: Final[dict[str, str]] = {
    # Microsoft Graph delegated permission IDs, from Microsoft's generated Graph permissions reference.
    "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    "openid": "37f7f235-527c-4136-accd-4a02d197296e",
    "profile": "14dad69e-099b-42c9-810b-d002981feec1",
    "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
}
"""The OpenID Connect scopes: allowed beside any one resource in a single token request (AADSTS28000)."""

WORK_OR_SCHOOL: Final = frozenset({"AzureADMyOrg", "AzureADMultipleOrgs"})
"""Sign-in audiences of work or school (Entra ID) accounts only."""
PERSONAL_ACCOUNTS: Final = frozenset({"AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"})
"""Sign-in audiences that include personal Microsoft accounts (MSA)."""
ALL_AUDIENCES: Final = WORK_OR_SCHOOL | PERSONAL_ACCOUNTS

PARAGON_RESERVED_VALUES: Final = frozenset({"clientId", "clientSecret", "scopes"})
"""Keys of a Paragon OAuth credential's ``values`` that the provisioner itself sets."""


def reserved_value_keys(keys: Iterable[str]) -> list[str]:
    """Those of ``keys`` that name a value the provisioner sets itself (`PARAGON_RESERVED_VALUES`), compared
    without regard to case (``ClientSecret`` clashes too), sorted."""
    reserved = {k.lower() for k in PARAGON_RESERVED_VALUES}
    return sorted(k for k in keys if k.lower() in reserved)


class ScopeFormat(StrEnum):
    """How an integration's delegated scopes are written in the string pushed to Paragon.

    ``qualified``: ``<resource URI>/<name>`` (``https://analysis.windows.net/powerbi/api/Dataset.Read.All``),
    which is what the Microsoft identity platform v2 endpoint needs for a non-Graph resource: a bare
    name is read as a Graph scope and fails with AADSTS650053. ``bare``: the name alone
    (``Mail.Read``), right for Microsoft Graph. OpenID scopes are always bare.
    """

    QUALIFIED = "qualified"
    BARE = "bare"


@dataclass(frozen=True)
class ExtraValue:
    """A setting Paragon asks for beyond client ID, secret and scopes (e.g. a Dynamics organization URL).

    Paragon does not document the key its credential ``values`` use for these settings, so ``name`` is the
    suggested key, not a known one: config passes values through ``integrations.<key>.paragon_values``
    under whatever key the operator's Paragon dashboard uses.

    Attributes:
        name: Suggested key in the credential's ``values`` (unverified; see above).
        description: What the value is, with an example.
        secret: True when the value is a secret: it never goes in YAML, and the provisioner does not push
            it; it is entered in Paragon's dashboard by hand (a manual step named in docs/integrations.md).
        plain_name: True when the value is a bare name (``contoso``, ``production``), not a URL: config
            refuses a URL, a slash or a space there.
    """

    name: str
    description: str
    secret: bool = False
    plain_name: bool = False


@dataclass(frozen=True)
class CatalogEntry:
    """What one Paragon integration needs from an Entra app registration.

    Attributes:
        key: Paragon's integration key (its ``type``), e.g. ``powerbi``.
        title: Human name, used in display names and messages.
        resource_app_id: Application (client) ID of the resource API whose delegated permissions the
            integration requests; its service principal resolves scope names to IDs at deploy time.
        resource_uri: The resource's identifier URI (or, for Azure DevOps, the app ID Microsoft documents
            as the scope prefix), used to qualify scope names. For per-environment resources (Dataverse,
            Finance & Operations) a pattern with ``<org>`` / ``<env>``; see ``resource_uri_per_environment``.
        resource_title: Human name of the resource API.
        delegated_scopes: Known delegated permission names on the resource API; config is checked against it.
        default_scopes: Least-privilege default for the integration's common use, used when config has no
            ``scopes:``; a subset of ``delegated_scopes``.
        sign_in_audiences: The ``signInAudience`` values the resource API accepts for this integration.
        personal_account_scopes: Of ``delegated_scopes``, those that work for personal Microsoft accounts;
            only consulted when ``sign_in_audiences`` includes a personal audience.
        audience_reason: Why the audience set is what it is (shown when config asks for another one).
        openid_scopes: OpenID scopes the integration always needs (``offline_access`` gives refresh tokens:
            without it connections die when the first access token expires, after about an hour).
        paragon_scope_format: How resource scopes are written in the string pushed to Paragon. Paragon does
            not document the format (an open question in paragon-api.md); config can override it.
        paragon_includes_openid: Whether the OpenID scopes are part of the string pushed to Paragon.
        resource_uri_per_environment: True when the resource URI depends on the customer's environment
            (``https://<org>.crm.dynamics.com``): scopes are then pushed bare and ``qualified`` is refused.
        extras: Settings Paragon asks for beyond client ID, secret and scopes.
        sources: Titles and URLs of the documents the entry's facts were checked against.
        default_reason: Why the default set is what it is, and why a broader scope is kept where it is.
        dashboard_settings: Choices Paragon's setup asks for in its dashboard that are not credential values
            (``(setting, value to choose)``), e.g. Azure DevOps' application type.
        environment_value: The ``paragon_values`` key holding the customer's organization/environment URL
            (per-environment resources); when set, that URL qualifies the scopes pushed to Paragon.
        environment_host: Regular expression the URL's host must match (lower-case), e.g. Dataverse's
            ``<org>.crm<N>.dynamics.com``.
    """

    key: str
    title: str
    resource_app_id: str
    resource_uri: str
    resource_title: str
    delegated_scopes: frozenset[str]
    default_scopes: tuple[str, ...]
    sign_in_audiences: frozenset[str]
    audience_reason: str
    sources: tuple[str, ...]
    personal_account_scopes: frozenset[str] = frozenset()
    openid_scopes: tuple[str, ...] = ("offline_access",)
    paragon_scope_format: ScopeFormat = ScopeFormat.QUALIFIED
    paragon_includes_openid: bool = True
    resource_uri_per_environment: bool = False
    extras: tuple[ExtraValue, ...] = field(default_factory=tuple)
    default_reason: str = ""
    dashboard_settings: tuple[tuple[str, str], ...] = ()
    environment_value: str | None = None
    environment_host: str | None = None

    def __post_init__(self) -> None:
        unknown = [s for s in self.default_scopes if s not in self.delegated_scopes]
        if unknown or not self.default_scopes:
            raise ValueError(f"catalog entry {self.key}: default scopes {unknown} are not known delegated scopes")
        if not self.sign_in_audiences or not self.sign_in_audiences <= ALL_AUDIENCES:
            raise ValueError(f"catalog entry {self.key}: bad sign-in audiences {sorted(self.sign_in_audiences)}")
        if not self.personal_account_scopes <= self.delegated_scopes:
            raise ValueError(f"catalog entry {self.key}: personal-account scopes must be known delegated scopes")

    @property
    def resource_is_graph(self) -> bool:
        """True when the resource API is Microsoft Graph itself."""
        return self.resource_app_id == MICROSOFT_GRAPH_APP_ID

    @property
    def accepts_personal_accounts(self) -> bool:
        """True when some audience the entry accepts includes personal Microsoft accounts."""
        return bool(self.sign_in_audiences & PERSONAL_ACCOUNTS)


def environment_url(entry: CatalogEntry, paragon_values: Mapping[str, str]) -> str | None:
    """The customer's organization/environment URL from ``paragon_values`` (``entry.environment_value``), if set."""
    return paragon_values.get(entry.environment_value) if entry.environment_value else None


def paragon_scope_format(
    entry: CatalogEntry, override: ScopeFormat | None = None, env_url: str | None = None
) -> ScopeFormat:
    """How scopes are written for Paragon: the config override, else qualified for a per-environment resource
    whose URL is known (a bare Dataverse scope is read as a Graph scope on the v2 endpoint: AADSTS650053), else
    the entry's own format."""
    if override is not None:
        return override
    if entry.resource_uri_per_environment and env_url:
        return ScopeFormat.QUALIFIED
    return entry.paragon_scope_format


def paragon_scope_string(
    entry: CatalogEntry,
    scopes: tuple[str, ...],
    fmt: ScopeFormat | None = None,
    env_url: str | None = None,
) -> str:
    """Render the scope string pushed to Paragon: one string, scopes separated by single spaces.

    Args:
        entry: The integration's catalog entry.
        scopes: Delegated permission names on the resource API (their order does not matter).
        fmt: Overrides the format (`paragon_scope_format`) when given.
        env_url: The customer's organization/environment URL (per-environment resources), which then
            qualifies the scopes (``https://contoso.crm.dynamics.com/user_impersonation``).

    Returns:
        E.g. ``"https://analysis.windows.net/powerbi/api/Dataset.Read.All offline_access"``: resource scopes
        sorted by name, then the OpenID scopes sorted (when the entry pushes them), each once. Sorting makes
        the string independent of the order of ``scopes:`` in config. A per-environment resource without
        ``env_url`` is written bare whatever ``fmt`` says (config validation refuses that combination).
    """
    fmt = paragon_scope_format(entry, fmt, env_url)
    uri = env_url if entry.resource_uri_per_environment else entry.resource_uri
    qualify = fmt is ScopeFormat.QUALIFIED and bool(uri)
    resource = sorted({name for name in scopes if name not in OPENID_SCOPE_IDS})
    rendered = [f"{str(uri).rstrip('/')}/{name}" if qualify else name for name in resource]
    if entry.paragon_includes_openid:
        rendered += sorted({s for s in scopes if s in OPENID_SCOPE_IDS} | set(entry.openid_scopes))
    return " ".join(rendered)
