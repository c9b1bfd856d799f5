"""Problems with what one app registration carries, and settings of the whole stack: owners (twice, over
Entra's limit), redirect URIs (audience rules, Entra's count limit, likely mistakes), ``scheduled_deployer`` and
verification. `provisioner.config.load` runs them after the model and catalog checks.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from provisioner.config.model import DEFAULT_REDIRECT_URI, PERSONAL_AUDIENCES, ProvisionerConfig
from provisioner.config.yaml_source import KeyPath, YamlDocument
from provisioner.errors import Problem

REDIRECT_URI_LIMITS: Final = {"work_or_school": 256, "personal": 100}
"""Most redirect URIs one app registration holds: 256 when it signs in work or school accounts only, 100 when
its audience includes personal Microsoft accounts (Microsoft identity platform, "Redirect URI (reply URL)
outline and restrictions", Maximum number of redirect URIs)."""
OWNER_LIMIT: Final = 100
"""Most owners (users and service principals) of one application (Microsoft Entra service limits and
restrictions, Applications)."""


def owner_problems(doc: YamlDocument, config: ProvisionerConfig) -> list[Problem]:
    """Owners listed twice (object IDs compare case-insensitively; they are kept lower-case), and more owners
    than Entra allows on one application (`OWNER_LIMIT`, counting ``scheduled_deployer``, or without it the
    deploying identity)."""
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
        if config.app_key(key) != key:
            continue  # a sharer's owners are refused as app-level settings
        declared = config.declared_owners(key)
        deployer = 0 if config.scheduled_deployer else 1  # without scheduled_deployer, whoever deploys is added
        if len(declared) + deployer > OWNER_LIMIT:
            extra = " plus the deploying identity (added because scheduled_deployer is not set)" if deployer else ""
            with_sd = " with scheduled_deployer" if config.scheduled_deployer else ""
            problems.append(
                doc.problem(
                    ("integrations", key, "owners"),
                    f"gives the app registration {len(declared)} owners{with_sd}{extra}; Entra allows at most "
                    f"{OWNER_LIMIT} owners of one application (Microsoft Entra service limits)",
                    f"list at most {OWNER_LIMIT - 1} owners besides the identity that deploys",
                )
            )
    return problems


def scheduled_deployer_warnings(doc: YamlDocument, config: ProvisionerConfig) -> list[Problem]:
    """A warning when ``scheduled_deployer`` is not set: owners then follow whoever runs ``pulumi up``
    (docs/owners.md). Given only for a config without errors, at the stack file's first top-level key."""
    if config.scheduled_deployer is not None:
        return []
    files = getattr(doc, "files", {})  # a stack file merged with defaults.yaml: keys from the stack file only
    top = min((n for path, n in doc.lines.items() if len(path) == 1 and path not in files), default=None)
    return [
        doc.problem(
            ("scheduled_deployer",),
            "not set, so each app registration's owners are whoever runs `pulumi up` plus `owners`: a run by "
            "another identity replaces the one that rotates secrets on schedule, whose runs are then refused "
            "(Application.ReadWrite.OwnedBy)",
            "add `scheduled_deployer: <object ID of the CI service principal>` at the top level (docs/owners.md)",
            severity="warning",
            line=top,
        )
    ]


def _one_redirect_uri(doc: YamlDocument, at: KeyPath, value: str, personal: list[str]) -> list[Problem]:
    """The audience-dependent rules and warnings for one redirect URI an app registration carries.

    Args:
        doc: The document (for lines).
        at: Where the URI is written.
        value: The URI (already through `provisioner.config.values.check_redirect_uri`).
        personal: Keys of the app registrations carrying it whose audience includes personal accounts.
    """
    parts = urlsplit(value)
    problems: list[Problem] = []
    if (parts.query or "?" in value) and personal:
        problems.append(
            doc.problem(
                at,
                "has query parameters, which Entra allows only for apps that sign in work or school accounts; "
                f"integrations.{personal[0]}.sign_in_audience includes personal Microsoft accounts",
                "remove the query (?...) or choose AzureADMyOrg / AzureADMultipleOrgs",
            )
        )
    if parts.scheme == "http":
        note = " (Microsoft recommends 127.0.0.1 over localhost)" if parts.hostname == "localhost" else ""
        problems.append(
            doc.problem(
                at,
                f"plain http on a loopback host works only for local development{note}",
                "use an https redirect URI for a real deployment",
                severity="warning",
            )
        )
    return problems


def redirect_problems(doc: YamlDocument, config: ProvisionerConfig) -> list[Problem]:
    """Redirect URI rules that need the whole config, and warnings about likely mistakes.

    Every redirect URI an app registration carries (``paragon.redirect_uri``, on every app, and its own
    ``extra_redirect_uris``) goes through the same rules (`_one_redirect_uri`), and each app registration's
    count of distinct URIs is held to Entra's limit (`REDIRECT_URI_LIMITS`).

    Sources: Microsoft's "Redirect URI (reply URL) outline and restrictions" (query parameters only for
    apps that sign in work or school accounts only; http only for localhost, 127.0.0.1 preferred; at most 256
    redirect URIs, 100 with personal accounts) and Paragon's setup guide (the cloud redirect URL
    ``https://passport.useparagon.com/oauth``, matched by Entra character by character).
    """
    at: KeyPath = ("paragon", "redirect_uri")
    value = config.paragon.redirect_uri
    apps = [k for k in config.integrations if config.app_key(k) == k]
    personal = [k for k in apps if config.integrations[k].sign_in_audience in PERSONAL_AUDIENCES]
    problems = _one_redirect_uri(doc, at, value, personal)
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
    for key in apps:
        integration = config.integrations[key]
        own = [key] if key in personal else []
        for index, uri in enumerate(integration.extra_redirect_uris):
            problems += _one_redirect_uri(doc, ("integrations", key, "extra_redirect_uris", index), uri, own)
        count = len(dict.fromkeys([value, *integration.extra_redirect_uris]))
        limit = REDIRECT_URI_LIMITS["personal" if own else "work_or_school"]
        if count > limit:
            who = (
                f"{limit} when sign_in_audience includes personal Microsoft accounts"
                if own
                else f"{limit} for an app that signs in work or school accounts"
            )
            problems.append(
                doc.problem(
                    ("integrations", key, "extra_redirect_uris"),
                    f"gives the app registration {count} distinct redirect URIs (with paragon.redirect_uri); "
                    f"Entra allows at most {who}",
                    f"keep at most {limit - 1} extra redirect URIs (Entra's limit cannot be raised)",
                )
            )
    return problems


def verification_problems(doc: YamlDocument, config: ProvisionerConfig) -> list[Problem]:
    """A warning when ``paragon.verify_timeout_seconds`` is 0: new secrets reach Paragon unproven."""
    if config.paragon.verify_timeout_seconds > 0:
        return []
    return [
        doc.problem(
            ("paragon", "verify_timeout_seconds"),
            "0 turns verification off: a new client secret is pushed to Paragon without proof that Entra accepts "
            "it, and a secret still replicating can fail Paragon's first token refreshes",
            "remove the key (default 120) unless Entra's token endpoint is unreachable from where pulumi up runs",
            severity="warning",
        )
    ]
