"""``doctor``: a read-only preflight that finds what would make ``pulumi up`` fail, before it runs.

Each check is a small function returning `CheckResult` rows (``ok``, ``warning``, ``failed`` or ``skipped``
with a reason). `run_doctor` runs them in order, sharing what earlier checks found through a `_Facts`
record, and scrubs every row of known secret values before returning. Nothing here creates, changes or
deletes anything: the Pulumi CLI is asked only ``version``, ``whoami``, ``config get`` and ``stack output``;
the Azure CLI only ``account show``; Paragon only ``GET`` requests and ``POST /auth/login/email``.

Every outside dependency is injectable through `DoctorDeps` (environment, PATH lookup, subprocess runner,
clock, HTTP transport), so the checks are tested against fake ``pulumi``/``az`` executables and the HTTP
fake of Paragon. Subprocesses and HTTP calls have timeouts; their failures become ``failed`` rows.

Outside facts:

- Minimum Pulumi CLI `MIN_PULUMI_VERSION` (3.121.0): ``Pulumi.yaml`` uses the Python runtime options
  ``typechecker: mypy`` (added in v3.113.0, pulumi/pulumi#15725, documented in pulumi/pulumi-hugo#4186) and
  ``toolchain: pip`` (the toolchain option came with Poetry support, pulumi/pulumi#16315, released in
  v3.120/v3.121, pulumi/docs#12110 and #12123).
- Self-managed backends (``file://``, ``s3://``, ``azblob://``, ``gs://``) encrypt secrets with a passphrase
  (``PULUMI_CONFIG_PASSPHRASE`` or ``PULUMI_CONFIG_PASSPHRASE_FILE``) unless the stack names another secrets
  provider (Pulumi docs, "Secrets": ``pulumi stack init --secrets-provider``); a stack file with
  ``encryptionsalt:`` uses the passphrase provider, whatever the backend.
- The azuread provider's credentials: OIDC (``ARM_USE_OIDC``, ``ARM_CLIENT_ID``, ``ARM_TENANT_ID`` and a
  token from ``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN``, ``ARM_OIDC_REQUEST_URL``/``_TOKEN``,
  ``ARM_OIDC_TOKEN`` or ``ARM_OIDC_TOKEN_FILE_PATH``), a client secret (``ARM_CLIENT_SECRET``) or the Azure
  CLI session (``shared/reference/ci-facts.md``, the azuread provider's authentication guides).
- Paragon's API host ``zeus.<domain>`` and OAuth redirect host ``passport.<domain>``
  (``shared/reference/paragon-api.md``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from provisioner.catalog import CATALOG
from provisioner.config import ProvisionerConfig, load_config
from provisioner.errors import (
    ConfigError,
    ParagonAuthError,
    ParagonError,
    ParagonLoginMissing,
    ParagonNotFound,
)
from provisioner.paragon.client import JWT_PATTERN, ParagonClient, RetryPolicy, scrub_secrets
from provisioner.paragon.login import (
    ENV_ACCESS_TOKEN,
    ENV_BASE_URL,
    ENV_EMAIL,
    ENV_PASSWORD,
    STACK_CONFIG_KEYS,
    ParagonLogin,
    base_url_from,
    login_from,
)
from provisioner.paragon.models import Credential, Integration
from provisioner.paragon.transport import new_http_client, proxy_for
from provisioner.safe_io import loads_json, read_text_capped
from provisioner.stackfile import StackFileError, project_settings
from provisioner.status import Health, OutputsError, assess

MIN_PULUMI_VERSION: Final = (3, 121, 0)
"""Oldest Pulumi CLI that understands ``Pulumi.yaml``'s ``toolchain: pip`` and ``typechecker: mypy`` (above)."""
TOOL_TIMEOUT_SECONDS: Final = 30.0
"""Longest wait for one ``pulumi``/``az`` subprocess."""
HTTP_TIMEOUT: Final = httpx.Timeout(15.0, connect=5.0)
"""Per-request timeouts for Paragon, in seconds."""
DOCTOR_RETRY_SECONDS: Final = 20.0
"""Total retry budget of one Paragon call during doctor (shorter than a deployment's)."""
WARN_DAYS: Final = 30
"""Days before the active secret's end date from which the rotation check warns (as ``status``)."""
SELF_MANAGED_SCHEMES: Final = ("file://", "s3://", "azblob://", "gs://")
"""Pulumi backends that keep state (and need a secrets passphrase or KMS key) on your own storage."""
"""``name`` in ``Pulumi.yaml``: the namespace of the secret stack config keys (``<name>:paragonEmail``)."""
_SECRET_ENV = re.compile(r"TOKEN|SECRET|PASSWORD|PASSPHRASE|CREDENTIAL|PRIVATE|_KEY$", re.IGNORECASE)
_OIDC_TOKEN_SOURCES: Final = (
    ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ("ARM_OIDC_REQUEST_URL", "ARM_OIDC_REQUEST_TOKEN"),
    ("ARM_OIDC_TOKEN",),
    ("ARM_OIDC_TOKEN_FILE_PATH",),
)


class Status(StrEnum):
    """Verdict of one check. Only ``failed`` makes ``doctor`` exit 1."""

    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CheckResult:
    """One row of the checklist.

    Attributes:
        check: Stable check name, e.g. ``pulumi-login`` or ``paragon-integration:powerbi``.
        status: The verdict.
        detail: What was found (never a secret).
        fix: What to do about it; empty when nothing is to be done.
    """

    check: str
    status: Status
    detail: str
    fix: str = ""

    def to_json(self) -> dict[str, str]:
        """``{"check", "status", "detail", "fix"}``, status as its lower-case value."""
        data = asdict(self)
        data["status"] = self.status.value
        return data


@dataclass(frozen=True)
class ToolResult:
    """A finished subprocess: exit code and captured text."""

    returncode: int
    stdout: str
    stderr: str


class ToolError(Exception):
    """A subprocess could not be run or did not finish in time (the message names the command)."""


Runner = Callable[[Sequence[str], Mapping[str, str], float], ToolResult]
"""``(argv, env, timeout seconds) -> ToolResult``; raises `ToolError` when the command cannot finish."""


def run_subprocess(argv: Sequence[str], env: Mapping[str, str], timeout: float) -> ToolResult:
    """Run ``argv`` without a shell or stdin, capturing text, bounded by ``timeout`` seconds.

    Raises:
        ToolError: Not executable, or still running after ``timeout`` (it is then killed).
    """
    try:
        done = subprocess.run(
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"`{_shown(argv)}` did not finish within {timeout:g} s") from None
    except OSError as err:
        raise ToolError(f"`{_shown(argv)}` could not be started ({err.strerror or type(err).__name__})") from None
    return ToolResult(done.returncode, done.stdout, done.stderr)


def _shown(argv: Sequence[str]) -> str:
    return " ".join([Path(argv[0]).name, *argv[1:]]) if argv else ""


@dataclass(frozen=True)
class DoctorDeps:
    """Everything outside the process that the checks touch.

    Attributes:
        env: Environment variables (usually ``os.environ``); also passed to subprocesses.
        which: Finds an executable on ``env["PATH"]`` (default `shutil.which` with that PATH).
        run: Runs a subprocess (`run_subprocess`).
        now: The evaluation time (timezone-aware) for the rotation check.
        transport: An httpx transport for Paragon calls (tests); None for the real network.
        tool_timeout: Seconds allowed per subprocess.
    """

    env: Mapping[str, str]
    which: Callable[[str], str | None] | None = None
    run: Runner = run_subprocess
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    transport: httpx.BaseTransport | None = None
    tool_timeout: float = TOOL_TIMEOUT_SECONDS

    def find(self, name: str) -> str | None:
        """Path of executable ``name``, or None."""
        if self.which is not None:
            return self.which(name)
        return shutil.which(name, path=self.env.get("PATH", os.defpath))


@dataclass(frozen=True)
class DoctorOptions:
    """What to check.

    Attributes:
        stack: Pulumi stack name.
        config_file: The stack's config file (chosen by `provisioner.stackfile.resolve`).
        project_dir: Folder with ``Pulumi.yaml`` (Pulumi's own stack files live in its ``stackConfigDir``).
        offline: Skip every check that needs the network (Paragon, and Pulumi backend calls).
        outputs_file: Stack outputs JSON (``pulumi stack output --json``) instead of asking the CLI.
    """

    stack: str
    config_file: Path
    project_dir: Path = Path(".")
    offline: bool = False
    outputs_file: Path | None = None


# --- facts shared between checks ---------------------------------------------------------------------


@dataclass
class _Facts:
    """What earlier checks learned, for later ones."""

    config: ProvisionerConfig | None = None
    pulumi: str | None = None  # path of a usable pulumi CLI
    backend_url: str | None = None  # from `pulumi whoami`, when logged in
    stack_file: dict[str, Any] | None = None  # config/Pulumi.<stack>.yaml, parsed
    paragon_url: str | None = None
    paragon_reachable: bool = False
    login: ParagonLogin | None = None
    outputs: dict[str, Any] | None = None
    secrets: list[str] = field(default_factory=list)  # values to scrub from every row


def _tail(text: str, limit: int = 300) -> str:
    """The last non-empty line of tool output, shortened (the error, not the banner)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "(no output)"
    return last if len(last) <= limit else last[: limit - 1] + "…"


def _run(deps: DoctorDeps, argv: Sequence[str]) -> ToolResult:
    env = {**deps.env, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    return deps.run(argv, env, deps.tool_timeout)


# --- 1. config ---------------------------------------------------------------------------------------


def check_config(options: DoctorOptions, facts: _Facts) -> list[CheckResult]:
    """The stack's config validates, with the same rules and messages as ``validate``."""
    try:
        facts.config = load_config(options.config_file)
    except ConfigError as err:  # one row per problem, its own fix as the row's fix
        return [
            CheckResult(
                "config",
                Status.FAILED,
                str(replace(record, fix="")),
                record.fix or f"correct it, then run `python -m provisioner validate {options.config_file}`",
            )
            for record in err.records
        ]
    keys = ", ".join(facts.config.integrations)
    return [CheckResult("config", Status.OK, f"{options.config_file}: valid (integrations: {keys})")]


# --- 2. pulumi ---------------------------------------------------------------------------------------


def _parse_version(text: str) -> tuple[int, int, int] | None:
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def check_pulumi_cli(deps: DoctorDeps, facts: _Facts) -> list[CheckResult]:
    """The Pulumi CLI is on PATH and at least `MIN_PULUMI_VERSION` (``pulumi version``)."""
    name = "pulumi-cli"
    minimum = ".".join(map(str, MIN_PULUMI_VERSION))
    install = f"install Pulumi CLI v{minimum} or newer: https://www.pulumi.com/docs/install/"
    path = deps.find("pulumi")
    if path is None:
        return [CheckResult(name, Status.FAILED, "the pulumi CLI is not on PATH", install)]
    try:
        done = _run(deps, [path, "version"])
    except ToolError as err:
        return [CheckResult(name, Status.FAILED, str(err), install)]
    version = _parse_version(done.stdout) if done.returncode == 0 else None
    if version is None:
        return [
            CheckResult(name, Status.FAILED, f"`pulumi version` failed: {_tail(done.stderr or done.stdout)}", install)
        ]
    shown = ".".join(map(str, version))
    if version < MIN_PULUMI_VERSION:
        return [
            CheckResult(
                name,
                Status.FAILED,
                f"pulumi v{shown} is older than v{minimum} (Pulumi.yaml uses toolchain: pip and typechecker: mypy)",
                install,
            )
        ]
    facts.pulumi = path
    return [CheckResult(name, Status.OK, f"pulumi v{shown} at {path}")]


def check_pulumi_login(deps: DoctorDeps, options: DoctorOptions, facts: _Facts) -> list[CheckResult]:
    """The CLI is logged in to a state backend (``pulumi whoami --json``); records the backend URL."""
    name = "pulumi-login"
    if facts.pulumi is None:
        return [CheckResult(name, Status.SKIPPED, "no usable pulumi CLI (see pulumi-cli)")]
    if options.offline:
        return [CheckResult(name, Status.SKIPPED, "--offline: `pulumi whoami` may contact the backend")]
    fix = "pulumi login (Pulumi Cloud), or pulumi login file://… / s3://… / azblob://… / gs://…"
    try:
        done = _run(deps, [facts.pulumi, "whoami", "--json"])
    except ToolError as err:
        return [CheckResult(name, Status.FAILED, str(err), fix)]
    try:
        data = loads_json(done.stdout) if done.returncode == 0 else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return [CheckResult(name, Status.FAILED, f"not logged in: {_tail(done.stderr or done.stdout)}", fix)]
    facts.backend_url = str(data.get("url") or "")
    return [CheckResult(name, Status.OK, f"logged in as {data.get('user', '?')} to {facts.backend_url or '?'}")]


def _project(project_dir: Path) -> tuple[str, Path] | None:
    """The Pulumi project's name and the folder of its stack files (`stackfile.project_settings`), or None."""
    try:
        return project_settings(project_dir)
    except (StackFileError, OSError, ValueError):
        return None


def _read_stack_file(options: DoctorOptions) -> tuple[Path, dict[str, Any] | None]:
    project = _project(options.project_dir)
    path = (project[1] if project else options.project_dir) / f"Pulumi.{options.stack}.yaml"
    try:
        data = yaml.safe_load(read_text_capped(path))
    except (OSError, ValueError, yaml.YAMLError, RecursionError):
        return path, None
    return path, data if isinstance(data, dict) else {}


def check_pulumi_secrets(deps: DoctorDeps, options: DoctorOptions, facts: _Facts) -> list[CheckResult]:
    """Pulumi can encrypt the stack's secrets: a passphrase when the passphrase provider is in use (stack
    file ``encryptionsalt:`` or ``secretsprovider: passphrase``, or no stack file on a self-managed backend),
    else a KMS-style ``secretsprovider:`` or Pulumi Cloud's own."""
    name = "pulumi-secrets"
    path, stack_file = _read_stack_file(options)
    facts.stack_file = stack_file
    provider = str((stack_file or {}).get("secretsprovider") or "")
    backend = facts.backend_url or deps.env.get("PULUMI_BACKEND_URL", "")
    self_managed = backend.startswith(SELF_MANAGED_SCHEMES)
    if provider and not provider.startswith("passphrase"):
        scheme = provider.split("://", 1)[0]
        return [CheckResult(name, Status.OK, f"{path}: secrets provider {scheme}:// (no passphrase needed)")]
    uses_passphrase = bool(provider) or "encryptionsalt" in (stack_file or {})
    if not uses_passphrase and not self_managed:
        if backend:
            return [CheckResult(name, Status.OK, f"{backend} encrypts the stack's secrets (no passphrase needed)")]
        return [
            CheckResult(
                name,
                Status.SKIPPED,
                f"no {path} and the backend is unknown (not logged in, or --offline)",
            )
        ]
    why = f"{path} uses the passphrase provider" if uses_passphrase else f"self-managed backend {backend}"
    fix = (
        "export PULUMI_CONFIG_PASSPHRASE (a CI secret) or PULUMI_CONFIG_PASSPHRASE_FILE, or init the stack with "
        "--secrets-provider azurekeyvault://… (or another KMS)"
    )
    passphrase_file = deps.env.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if "PULUMI_CONFIG_PASSPHRASE" in deps.env:
        if not deps.env["PULUMI_CONFIG_PASSPHRASE"]:
            return [CheckResult(name, Status.WARNING, f"{why}; PULUMI_CONFIG_PASSPHRASE is set but empty", fix)]
        return [CheckResult(name, Status.OK, f"{why}; PULUMI_CONFIG_PASSPHRASE is set")]
    if passphrase_file:
        if Path(passphrase_file).is_file():
            return [CheckResult(name, Status.OK, f"{why}; PULUMI_CONFIG_PASSPHRASE_FILE is set")]
        return [CheckResult(name, Status.FAILED, f"{why}; PULUMI_CONFIG_PASSPHRASE_FILE names no readable file", fix)]
    return [CheckResult(name, Status.FAILED, f"{why}, and no passphrase is set: pulumi up would stop", fix)]


# --- 3. azure ----------------------------------------------------------------------------------------


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def check_azure(deps: DoctorDeps, facts: _Facts) -> list[CheckResult]:
    """Credentials for the azuread provider (OIDC, client secret or Azure CLI), then their tenant.

    The tenant is compared with ``ARM_TENANT_ID`` when both it and an Azure CLI session exist; the config
    names no tenant, so that comparison is skipped with a reason.
    """
    env = deps.env
    name = "azure-credentials"
    tenant_env = env.get("ARM_TENANT_ID", "").strip()
    rows: list[CheckResult] = []
    cli_tenant: str | None = None
    if _truthy(env.get("ARM_USE_OIDC")):
        missing = [v for v in ("ARM_CLIENT_ID", "ARM_TENANT_ID") if not env.get(v, "").strip()]
        token_ok = any(all(env.get(v, "").strip() for v in source) for source in _OIDC_TOKEN_SOURCES)
        token_file = env.get("ARM_OIDC_TOKEN_FILE_PATH", "").strip()
        if token_file and not Path(token_file).is_file():
            missing.append("a readable ARM_OIDC_TOKEN_FILE_PATH")
        elif not token_ok:
            missing.append("an OIDC token source")
        if missing:
            rows.append(
                CheckResult(
                    name,
                    Status.FAILED,
                    f"ARM_USE_OIDC is set but {', '.join(missing)} is missing",
                    "set ARM_CLIENT_ID and ARM_TENANT_ID; on GitHub Actions give the job `permissions: id-token: "
                    "write`, elsewhere set ARM_OIDC_TOKEN or ARM_OIDC_TOKEN_FILE_PATH",
                )
            )
        else:
            rows.append(CheckResult(name, Status.OK, f"OIDC workload identity for client {env['ARM_CLIENT_ID']}"))
    elif env.get("ARM_CLIENT_SECRET", "").strip():
        missing = [v for v in ("ARM_CLIENT_ID", "ARM_TENANT_ID") if not env.get(v, "").strip()]
        if missing:
            rows.append(
                CheckResult(
                    name, Status.FAILED, f"ARM_CLIENT_SECRET is set but {', '.join(missing)} is not", "set them"
                )
            )
        else:
            rows.append(
                CheckResult(
                    name,
                    Status.WARNING,
                    f"client secret for client {env['ARM_CLIENT_ID']} (itself a secret to rotate)",
                    "prefer OIDC workload identity federation: ARM_USE_OIDC=true (README, step 2)",
                )
            )
    else:
        found = _az_session(deps)
        if isinstance(found, CheckResult):
            rows.append(found)
        else:
            cli_tenant, user = found
            rows.append(CheckResult(name, Status.OK, f"Azure CLI session of {user} in tenant {cli_tenant}"))
    if rows[0].status is Status.FAILED:
        return [*rows, CheckResult("azure-tenant", Status.SKIPPED, "no usable Azure credentials")]
    rows.append(_tenant_row(tenant_env, cli_tenant))
    return rows


def _az_session(deps: DoctorDeps) -> tuple[str, str] | CheckResult:
    """(tenant ID, user name) of the Azure CLI's current account, or a failed row."""
    name = "azure-credentials"
    fix = "az login --tenant <tenant-id>, or in CI set ARM_USE_OIDC=true, ARM_CLIENT_ID and ARM_TENANT_ID"
    az = deps.find("az")
    if az is None:
        return CheckResult(name, Status.FAILED, "no ARM_* credentials and the Azure CLI (az) is not on PATH", fix)
    try:
        done = _run(deps, [az, "account", "show", "--output", "json"])
    except ToolError as err:
        return CheckResult(name, Status.FAILED, str(err), fix)
    try:
        data = loads_json(done.stdout) if done.returncode == 0 else None
    except ValueError:
        data = None
    tenant = data.get("tenantId") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(tenant, str):
        return CheckResult(name, Status.FAILED, f"no Azure CLI session: {_tail(done.stderr or done.stdout)}", fix)
    user = data.get("user")
    who = user.get("name") if isinstance(user, dict) else None
    return tenant, str(who or "?")


def _tenant_row(tenant_env: str, cli_tenant: str | None) -> CheckResult:
    name = "azure-tenant"
    note = "config names no tenant, so only ARM_TENANT_ID and the Azure CLI session are compared"
    if tenant_env and cli_tenant and tenant_env.lower() != cli_tenant.lower():
        return CheckResult(
            name,
            Status.WARNING,
            f"ARM_TENANT_ID {tenant_env} differs from the Azure CLI session's tenant {cli_tenant}; the provider "
            f"asks for a token in {tenant_env} ({note})",
            f"az login --tenant {tenant_env}, or unset ARM_TENANT_ID to deploy into {cli_tenant}",
        )
    tenant = tenant_env or cli_tenant
    if tenant:
        return CheckResult(name, Status.OK, f"deploying into tenant {tenant} ({note})")
    return CheckResult(name, Status.SKIPPED, note)


# --- 4/5. paragon ------------------------------------------------------------------------------------


def _trimmed_paragon_env(env: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The environment with PARAGON_* values trimmed, and the names that had surrounding whitespace."""
    names = (ENV_ACCESS_TOKEN, ENV_EMAIL, ENV_PASSWORD, ENV_BASE_URL)
    padded = [n for n in names if n in env and env[n] != env[n].strip()]
    return {**env, **{n: env[n].strip() for n in names if n in env}}, padded


def _stack_config_login(deps: DoctorDeps, options: DoctorOptions, facts: _Facts) -> dict[str, str]:
    """Secret stack config login values (``pulumi config get``), when the stack file declares them."""
    config = (facts.stack_file or {}).get("config")
    project = _project(options.project_dir)
    if facts.pulumi is None or facts.backend_url is None or not isinstance(config, dict) or project is None:
        return {}
    values: dict[str, str] = {}
    for key in STACK_CONFIG_KEYS.values():
        if f"{project[0]}:{key}" not in config:
            continue
        try:
            done = _run(deps, [facts.pulumi, "config", "get", key, "--stack", options.stack])
        except ToolError:
            continue
        if done.returncode == 0 and done.stdout.strip():
            values[key] = done.stdout.rstrip("\n")
            if key != STACK_CONFIG_KEYS["email"]:
                facts.secrets.append(values[key])
    return values


def check_paragon_login_source(deps: DoctorDeps, options: DoctorOptions, facts: _Facts) -> list[CheckResult]:
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
                    f"or keep it in secret stack config: pulumi config set --secret {STACK_CONFIG_KEYS['email']} "
                    f"… and {STACK_CONFIG_KEYS['password']} … (README, Real use, step 3)",
                ),
            ]
    facts.secrets += facts.login.secrets()
    how = "an access token" if facts.login.access_token is not None else f"email {facts.login.email}"
    return [*rows, CheckResult(name, Status.OK, f"{how} from {where}; API at {facts.paragon_url}")]


def certificate_problem(error: BaseException) -> str | None:
    """The certificate problem behind a connection error, or None when it was not a certificate failure.

    Uses the client's own test (`provisioner.paragon.transport.certificate_failure`, an
    `ssl.SSLCertVerificationError` in the exception chain) and gives its ``verify_message``, e.g.
    "certificate has expired"; then OpenSSL's ``CERTIFICATE_VERIFY_FAILED`` in an `httpx.ConnectError` text.
    """
    from provisioner.paragon.transport import certificate_failure

    failure = certificate_failure(error)
    if failure is not None:
        return str(failure.verify_message or failure.reason or "certificate verify failed")
    if isinstance(error, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(error):
        text = str(error)
        detail = text.split("certificate verify failed:", 1)[-1].split("(")[0].strip(" :")
        return detail or "certificate verify failed"
    return None


def check_paragon_tls(deps: DoctorDeps, options: DoctorOptions, facts: _Facts) -> list[CheckResult]:
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


def check_paragon_project(deps: DoctorDeps, options: DoctorOptions, facts: _Facts) -> list[CheckResult]:
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
    client: ParagonClient, project: str, integrations: list[Integration], facts: _Facts
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


def check_redirect_uri(facts: _Facts) -> list[CheckResult]:
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


# --- 6. rotation -------------------------------------------------------------------------------------


def load_outputs(deps: DoctorDeps, options: DoctorOptions, facts: _Facts) -> CheckResult | None:
    """Fill ``facts.outputs`` from ``--outputs`` or ``pulumi stack output --json``; a row when that fails."""
    name = "rotation"
    if options.outputs_file is not None:
        try:
            data = loads_json(read_text_capped(options.outputs_file))
        except (OSError, ValueError) as err:
            return CheckResult(
                name,
                Status.FAILED,
                f"{options.outputs_file}: not readable JSON ({type(err).__name__})",
                "save `pulumi stack output --json` to it",
            )
    elif facts.pulumi is None or facts.backend_url is None or options.offline:
        return CheckResult(
            name, Status.SKIPPED, "no stack outputs: pulumi CLI not logged in, or --offline (--outputs FILE)"
        )
    else:
        try:
            done = _run(deps, [facts.pulumi, "stack", "output", "--json", "--stack", options.stack])
        except ToolError as err:
            return CheckResult(name, Status.FAILED, str(err), "retry, or pass --outputs FILE")
        if done.returncode != 0:
            return CheckResult(name, Status.SKIPPED, f"never deployed? {_tail(done.stderr or done.stdout)}")
        try:
            data = loads_json(done.stdout or "{}")
        except ValueError:
            return CheckResult(name, Status.FAILED, "`pulumi stack output --json` printed no JSON", "retry")
    if not isinstance(data, dict):
        return CheckResult(name, Status.FAILED, "stack outputs are not a JSON object", "pass the CLI's JSON unchanged")
    facts.outputs = data
    return None


def check_rotation(deps: DoctorDeps, facts: _Facts) -> list[CheckResult]:
    """What ``status`` would report today (`provisioner.status.assess`), one row per integration.

    Never ``failed``: ``pulumi up`` is what rotates, so a late or expired secret must not block it.
    """
    if facts.config is None:
        return [CheckResult("rotation", Status.SKIPPED, "the config is invalid (see config)")]
    if not facts.outputs or not facts.outputs.get("integrations"):
        return [CheckResult("rotation", Status.SKIPPED, "never deployed: no integrations in the stack outputs")]
    try:
        reports = assess(facts.outputs, facts.config, deps.now, WARN_DAYS)
    except OutputsError as err:
        return [CheckResult("rotation", Status.WARNING, str(err), "run pulumi up with this version")]
    rows = []
    for report in reports:
        healthy = report.health is Health.HEALTHY
        rows.append(
            CheckResult(
                f"rotation:{report.integration}",
                Status.OK if healthy else Status.WARNING,
                f"{report.health.name.lower()}: {report.reason}",
                "" if healthy else "run pulumi up (it rotates); see `python -m provisioner status`",
            )
        )
    return rows


# --- running -----------------------------------------------------------------------------------------


def _secret_values(env: Mapping[str, str]) -> list[str]:
    values = []
    for name, value in env.items():
        if _SECRET_ENV.search(name) and len(value.strip()) >= 4:
            values += [value, value.strip()]
    return values


def scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret value (also fragments and encoded forms, as `scrub_secrets` does for the
    client's errors) and every JWT-shaped string replaced by ``[redacted]``."""
    return JWT_PATTERN.sub("[redacted]", scrub_secrets(text, [s for s in secrets if len(s) >= 4]))


def run_doctor(options: DoctorOptions, deps: DoctorDeps) -> list[CheckResult]:
    """Run every check in order and return the rows, scrubbed of secrets (env values named like secrets,
    the Paragon login, stack-config secrets read on the way, JWTs). Never raises for an outside failure."""
    facts = _Facts()
    rows = check_config(options, facts)
    rows += check_pulumi_cli(deps, facts)
    rows += check_pulumi_login(deps, options, facts)
    rows += check_pulumi_secrets(deps, options, facts)
    rows += check_azure(deps, facts)
    outputs_problem = load_outputs(deps, options, facts) if facts.config is not None else None
    rows += check_paragon_login_source(deps, options, facts)
    rows += check_paragon_tls(deps, options, facts)
    rows += check_paragon_project(deps, options, facts)
    rows += check_redirect_uri(facts)
    rows += [outputs_problem] if outputs_problem is not None else check_rotation(deps, facts)
    secrets = [*_secret_values(deps.env), *facts.secrets]
    return [CheckResult(r.check, r.status, scrub(r.detail, secrets), scrub(r.fix, secrets)) for r in rows]


def doctor_exit_code(rows: Sequence[CheckResult]) -> int:
    """1 when any row failed, else 0 (warnings and skips do not fail)."""
    return 1 if any(r.status is Status.FAILED for r in rows) else 0


_STYLE: Final = {Status.OK: "green", Status.WARNING: "yellow", Status.FAILED: "red", Status.SKIPPED: "dim"}


def render_doctor(rows: Sequence[CheckResult], console: Console) -> None:
    """A table on a terminal; plain lines (``[status] check: detail. Fix: fix``) in logs and pipes."""
    failed = sum(r.status is Status.FAILED for r in rows)
    warnings = sum(r.status is Status.WARNING for r in rows)
    summary = f"{failed} failed, {warnings} warning(s), {len(rows)} checks"
    if console.is_terminal:
        table = Table(title="doctor: will pulumi up work?")
        for column in ("Check", "Status", "Found", "Fix"):
            table.add_column(column, overflow="fold")
        for r in rows:
            style = _STYLE[r.status]
            table.add_row(escape(r.check), f"[{style}]{r.status.value}[/]", escape(r.detail), escape(r.fix))
        console.print(table)
        console.print(summary, markup=False)
        return
    for r in rows:
        line = f"[{r.status.value}] {r.check}: {r.detail}"
        console.print(line + (f". Fix: {r.fix}" if r.fix else ""), markup=False, soft_wrap=True)
    console.print(summary, markup=False)


__all__ = [
    "MIN_PULUMI_VERSION",
    "CheckResult",
    "DoctorDeps",
    "DoctorOptions",
    "Status",
    "ToolError",
    "ToolResult",
    "certificate_problem",
    "doctor_exit_code",
    "render_doctor",
    "run_doctor",
    "run_subprocess",
    "scrub",
]
