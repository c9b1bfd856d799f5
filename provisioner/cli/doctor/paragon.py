"""Doctor checks 4 and 5: the Paragon login source, TLS trust, project and integrations, the redirect URI's host.

Paragon's API host ``zeus.<domain>`` and OAuth redirect host ``passport.<domain>``
(``shared/reference/paragon-api.md``). Only ``GET`` requests and ``POST /auth/login/email`` are sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

from provisioner.catalog import CATALOG
from provisioner.cli.doctor.base import (
    DOCTOR_RETRY_SECONDS,
    HTTP_TIMEOUT,
    CheckResult,
    DoctorDeps,
    DoctorOptions,
    Facts,
    Status,
    ToolError,
    run_tool,
)
from provisioner.cli.doctor.pulumi_cli import pulumi_project
from provisioner.errors import (
    README_LOGIN,
    ConfigError,
    ParagonAuthError,
    ParagonError,
    ParagonLoginMissing,
    ParagonNotFound,
)
from provisioner.paragon.client import ParagonClient, RetryPolicy
from provisioner.paragon.login import (
    ENV_ACCESS_TOKEN,
    ENV_BASE_URL,
    ENV_EMAIL,
    ENV_PASSWORD,
    STACK_CONFIG_KEYS,
    base_url_from,
    login_from,
)
from provisioner.paragon.models import Credential, Integration
from provisioner.transport.connections import new_http_client, proxy_for

# --- 4/5. paragon ------------------------------------------------------------------------------------


def _trimmed_paragon_env(env: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The environment with PARAGON_* values trimmed, and the names that had surrounding whitespace."""
    names = (ENV_ACCESS_TOKEN, ENV_EMAIL, ENV_PASSWORD, ENV_BASE_URL)
    padded = [n for n in names if n in env and env[n] != env[n].strip()]
    return {**env, **{n: env[n].strip() for n in names if n in env}}, padded


def _stack_config_login(deps: DoctorDeps, options: DoctorOptions, facts: Facts) -> dict[str, str]:
    """Secret stack config login values (``pulumi config get``), when the stack file declares them."""
    config = (facts.stack_file or {}).get("config")
    project = pulumi_project(options.project_dir)
    if facts.pulumi is None or facts.backend_url is None or not isinstance(config, dict) or project is None:
        return {}
    values: dict[str, str] = {}
    for key in STACK_CONFIG_KEYS.values():
        if f"{project[0]}:{key}" not in config:
            continue
        try:
            done = run_tool(deps, [facts.pulumi, "config", "get", key, "--stack", options.stack])
        except ToolError:
            continue
        if done.returncode == 0 and done.stdout.strip():
            values[key] = done.stdout.rstrip("\n")
            if key != STACK_CONFIG_KEYS["email"]:
                facts.secrets.append(values[key])
    return values


def check_paragon_login_source(deps: DoctorDeps, options: DoctorOptions, facts: Facts) -> list[CheckResult]:
    """A Paragon login and base URL exist (`login_from`, `base_url_from`, values trimmed), no network."""
    name = "paragon-login-source"
    env, padded = _trimmed_paragon_env(deps.env)
    rows: list[CheckResult] = []
    if padded:
        rows.append(
            CheckResult(
                "paragon-env-whitespace",
                Status.WARNING,
                f"{', '.join(padded)} has leading or trailing whitespace (a newline from `echo` or a file?)",
                "set the value without it, e.g. printf '%s' … or `tr -d '\\n'`",
            )
        )
    if facts.config is None:
        return [*rows, CheckResult(name, Status.SKIPPED, "the config is invalid (see config)")]
    try:
        facts.paragon_url = base_url_from(facts.config.paragon.base_url, env)
    except ConfigError as err:
        return [*rows, CheckResult(name, Status.FAILED, str(err), f"use an https:// {ENV_BASE_URL}")]
    where = "the environment"
    try:
        facts.login = login_from(env)
    except ParagonLoginMissing:
        # Like the provider: secret stack config only when the environment has no login (read, never shown).
        stack_login = {} if options.offline else _stack_config_login(deps, options, facts)
        where = "secret stack config"
        try:
            facts.login = login_from(env, stack_login)
        except ParagonLoginMissing as err:
            return [
                *rows,
                CheckResult(
                    name,
                    Status.FAILED,
                    str(err),
                    "set PARAGON_EMAIL and PARAGON_PASSWORD (or PARAGON_ACCESS_TOKEN), or keep the login in secret "
                    f"stack config: pulumi config set --secret {STACK_CONFIG_KEYS['email']} … and "
                    f"{STACK_CONFIG_KEYS['password']} … ({README_LOGIN})",
                ),
            ]
    facts.secrets += facts.login.secrets()
    how = "an access token" if facts.login.access_token is not None else f"email {facts.login.email}"
    return [*rows, CheckResult(name, Status.OK, f"{how} from {where}; API at {facts.paragon_url}")]


def certificate_problem(error: BaseException) -> str | None:
    """The certificate problem behind a connection error, or None when it was not a certificate failure.

    Uses the client's own test (`provisioner.transport.connections.certificate_failure`, an
    `ssl.SSLCertVerificationError` in the exception chain) and gives its ``verify_message``, e.g.
    "certificate has expired"; then OpenSSL's ``CERTIFICATE_VERIFY_FAILED`` in an `httpx.ConnectError` text.
    """
    from provisioner.transport.connections import certificate_failure

    failure = certificate_failure(error)
    if failure is not None:
        return str(failure.verify_message or failure.reason or "certificate verify failed")
    if isinstance(error, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(error):
        text = str(error)
        detail = text.split("certificate verify failed:", 1)[-1].split("(")[0].strip(" :")
        return detail or "certificate verify failed"
    return None


def check_paragon_tls(deps: DoctorDeps, options: DoctorOptions, facts: Facts) -> list[CheckResult]:
    """The Paragon base URL answers (any HTTP status) over a verified TLS connection; one GET, no retries."""
    name = "paragon-tls"
    if options.offline:
        return [CheckResult(name, Status.SKIPPED, "--offline")]
    if facts.paragon_url is None:
        return [CheckResult(name, Status.SKIPPED, "no valid Paragon base URL (see paragon-login-source)")]
    url = facts.paragon_url
    ca_bundle = facts.config.paragon.ca_bundle if facts.config is not None else None
    try:
        if deps.transport is not None:  # tests
            http = httpx.Client(timeout=HTTP_TIMEOUT, transport=deps.transport, follow_redirects=False)
        else:  # the provider's own transport: the same trust store (paragon.ca_bundle) and proxy
            http = new_http_client(ca_bundle, HTTP_TIMEOUT, proxy_for(url))
        with http:
            response = http.get(url + "/")
    except httpx.HTTPError as err:
        problem = certificate_problem(err)
        if problem is not None:
            return [
                CheckResult(
                    name,
                    Status.FAILED,
                    f"{url}: TLS certificate not trusted: {problem}",
                    "on-prem: trust your CA with paragon.ca_bundle (a PEM file) or SSL_CERT_FILE, or install a "
                    "certificate from a public CA; check the host name in paragon.base_url / PARAGON_BASE_URL",
                )
            ]
        return [
            CheckResult(
                name,
                Status.FAILED,
                f"{url}: no answer ({type(err).__name__})",
                "check paragon.base_url / PARAGON_BASE_URL, DNS, proxy and firewall",
            )
        ]
    facts.paragon_reachable = True
    secure = "over TLS" if url.startswith("https://") else "over plain http (loopback)"
    return [CheckResult(name, Status.OK, f"{url} answers {secure} (HTTP {response.status_code})")]


def _catalog_title(key: str) -> str:
    entry = CATALOG.get(key)
    return entry.title if entry is not None else key


def check_paragon_project(deps: DoctorDeps, options: DoctorOptions, facts: Facts) -> list[CheckResult]:
    """Login works, the project exists, every configured integration is added, and which OAuth credentials
    ``pulumi up`` would take over. Costs at most 1 login, 1 integrations list and 1 credentials list."""
    names = ("paragon-login", "paragon-project")
    if options.offline:
        return [CheckResult(n, Status.SKIPPED, "--offline") for n in names]
    if facts.config is None or facts.login is None or facts.paragon_url is None or not facts.paragon_reachable:
        return [CheckResult(n, Status.SKIPPED, "no Paragon login or no answer (see above)") for n in names]
    project = facts.config.paragon.project_id
    retry = RetryPolicy(max_attempts=2, total_seconds=DOCTOR_RETRY_SECONDS)
    with ParagonClient(
        facts.paragon_url,
        facts.login,
        transport=deps.transport,
        timeout=HTTP_TIMEOUT,
        retry=retry,
        ca_bundle=facts.config.paragon.ca_bundle,
    ) as client:
        try:
            integrations = client.list_integrations(project)
        except ParagonAuthError as err:
            if err.path == "/auth/login/email":
                return [
                    CheckResult(names[0], Status.FAILED, str(err), f"check {ENV_EMAIL} and {ENV_PASSWORD}"),
                    CheckResult(names[1], Status.SKIPPED, "login failed"),
                ]
            return [
                CheckResult(
                    names[0], Status.FAILED, str(err), "use a fresh token or a user of the project's organization"
                ),
                CheckResult(names[1], Status.SKIPPED, "the login has no access"),
            ]
        except ParagonNotFound as err:
            return [
                CheckResult(names[0], Status.OK, "login accepted"),
                CheckResult(
                    names[1],
                    Status.FAILED,
                    str(err),
                    "set paragon.project_id to the GUID in the dashboard URL of the project, on this base URL",
                ),
            ]
        except ParagonError as err:
            return [
                CheckResult(names[0], Status.FAILED, str(err), "retry later, or check paragon.base_url"),
                CheckResult(names[1], Status.SKIPPED, "Paragon did not answer the integrations list"),
            ]
        rows = [
            CheckResult(names[0], Status.OK, "login accepted"),
            CheckResult(names[1], Status.OK, f"project {project} has {len(integrations)} integration(s)"),
        ]
        by_type: dict[str, Integration] = {i.type: i for i in integrations}
        added = [key for key in facts.config.integrations if key in by_type]
        for key in facts.config.integrations:
            title = _catalog_title(key)
            if key in by_type:
                rows.append(CheckResult(f"paragon-integration:{key}", Status.OK, f"{title} is added to the project"))
            else:
                rows.append(
                    CheckResult(
                        f"paragon-integration:{key}",
                        Status.FAILED,
                        f"{title} ({key}) is not added to project {project}",
                        f"in Paragon's dashboard: Integrations catalog → {title} → Connect/Add, then re-run",
                    )
                )
        if added:
            rows += _credential_rows(client, project, [by_type[k] for k in added], facts)
    return rows


def _credential_rows(
    client: ParagonClient, project: str, integrations: list[Integration], facts: Facts
) -> list[CheckResult]:
    try:
        credentials = client.list_credentials(project)
    except ParagonError as err:
        return [CheckResult("paragon-credentials", Status.WARNING, f"could not list credentials: {err}")]
    deployed = (facts.outputs or {}).get("integrations")
    rows = []
    for integration in integrations:
        key = integration.type
        existing: Credential | None = next(
            (c for c in credentials if c.integration_id == integration.id and c.scheme == "oauth_app"), None
        )
        ours = deployed.get(key, {}).get("paragon_credential_id") if isinstance(deployed, dict) else None
        name = f"paragon-credential:{key}"
        if existing is None:
            rows.append(CheckResult(name, Status.OK, "no OAuth app credential yet; pulumi up creates it"))
        elif existing.id == ours:
            rows.append(CheckResult(name, Status.OK, f"credential {existing.id} is managed by this stack"))
        else:
            rows.append(
                CheckResult(
                    name,
                    Status.WARNING,
                    f"credential {existing.id} exists; pulumi up will overwrite its client ID, secret and scopes",
                    "expected when moving a hand-made setup to the provisioner; otherwise check the project ID",
                )
            )
    return rows


def check_redirect_uri(facts: Facts) -> list[CheckResult]:
    """The redirect URI's host is the passport host of the Paragon API host (``zeus.X`` ↔ ``passport.X``)."""
    name = "redirect-uri"
    if facts.config is None or facts.paragon_url is None:
        return [CheckResult(name, Status.SKIPPED, "no valid config or base URL")]
    api_host = (urlsplit(facts.paragon_url).hostname or "").lower()
    redirect = facts.config.paragon.redirect_uri
    redirect_host = (urlsplit(redirect).hostname or "").lower()
    if not api_host.startswith("zeus."):
        return [CheckResult(name, Status.SKIPPED, f"API host {api_host} is not zeus.<domain>; cannot derive passport")]
    expected = "passport." + api_host.removeprefix("zeus.")
    if redirect_host != expected:
        return [
            CheckResult(
                name,
                Status.WARNING,
                f"redirect URI {redirect} is not on {expected}, the passport host of {api_host}",
                f"set paragon.redirect_uri to the value in the integration's settings (likely https://{expected}/oauth)",
            )
        ]
    return [CheckResult(name, Status.OK, f"{redirect} belongs to {api_host}")]
