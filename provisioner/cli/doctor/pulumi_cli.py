"""Doctor checks 2: the Pulumi CLI version, its login (backend) and the stack's secrets provider.

Minimum Pulumi CLI `MIN_PULUMI_VERSION` (3.121.0): ``Pulumi.yaml`` uses the Python runtime options
``typechecker: mypy`` (added in v3.113.0, pulumi/pulumi#15725) and ``toolchain: pip`` (pulumi/pulumi#16315,
released in v3.120/v3.121). Self-managed backends (``file://``, ``s3://``, ``azblob://``, ``gs://``) encrypt
secrets with a passphrase unless the stack names another secrets provider (Pulumi docs, "Secrets"); a stack
file with ``encryptionsalt:`` uses the passphrase provider, whatever the backend.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from provisioner.cli.doctor.base import (
    MIN_PULUMI_VERSION,
    SELF_MANAGED_SCHEMES,
    CheckResult,
    DoctorDeps,
    DoctorOptions,
    Facts,
    Status,
    ToolError,
    run_tool,
    tail,
)
from provisioner.config.safe_io import loads_json, read_text_capped
from provisioner.config.stackfile import StackFileError, project_settings

# --- 2. pulumi ---------------------------------------------------------------------------------------


def _parse_version(text: str) -> tuple[int, int, int] | None:
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def check_pulumi_cli(deps: DoctorDeps, facts: Facts) -> list[CheckResult]:
    """The Pulumi CLI is on PATH and at least `MIN_PULUMI_VERSION` (``pulumi version``)."""
    name = "pulumi-cli"
    minimum = ".".join(map(str, MIN_PULUMI_VERSION))
    install = f"install Pulumi CLI v{minimum} or newer: https://www.pulumi.com/docs/install/"
    path = deps.find("pulumi")
    if path is None:
        return [CheckResult(name, Status.FAILED, "the pulumi CLI is not on PATH", install)]
    try:
        done = run_tool(deps, [path, "version"])
    except ToolError as err:
        return [CheckResult(name, Status.FAILED, str(err), install)]
    version = _parse_version(done.stdout) if done.returncode == 0 else None
    if version is None:
        return [
            CheckResult(name, Status.FAILED, f"`pulumi version` failed: {tail(done.stderr or done.stdout)}", install)
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


def check_pulumi_login(deps: DoctorDeps, options: DoctorOptions, facts: Facts) -> list[CheckResult]:
    """The CLI is logged in to a state backend (``pulumi whoami --json``); records the backend URL."""
    name = "pulumi-login"
    if facts.pulumi is None:
        return [CheckResult(name, Status.SKIPPED, "no usable pulumi CLI (see pulumi-cli)")]
    if options.offline:
        return [CheckResult(name, Status.SKIPPED, "--offline: `pulumi whoami` may contact the backend")]
    fix = "pulumi login (Pulumi Cloud), or pulumi login file://… / s3://… / azblob://… / gs://…"
    try:
        done = run_tool(deps, [facts.pulumi, "whoami", "--json"])
    except ToolError as err:
        return [CheckResult(name, Status.FAILED, str(err), fix)]
    try:
        data = loads_json(done.stdout) if done.returncode == 0 else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return [CheckResult(name, Status.FAILED, f"not logged in: {tail(done.stderr or done.stdout)}", fix)]
    facts.backend_url = str(data.get("url") or "")
    return [CheckResult(name, Status.OK, f"logged in as {data.get('user', '?')} to {facts.backend_url or '?'}")]


def pulumi_project(project_dir: Path) -> tuple[str, Path] | None:
    """The Pulumi project's name and the folder of its stack files (`stackfile.project_settings`), or None."""
    try:
        return project_settings(project_dir)
    except (StackFileError, OSError, ValueError):
        return None


def _read_stack_file(options: DoctorOptions) -> tuple[Path, dict[str, Any] | None]:
    project = pulumi_project(options.project_dir)
    path = (project[1] if project else options.project_dir) / f"Pulumi.{options.stack}.yaml"
    try:
        data = yaml.safe_load(read_text_capped(path))
    except (OSError, ValueError, yaml.YAMLError, RecursionError):
        return path, None
    return path, data if isinstance(data, dict) else {}


def check_pulumi_secrets(deps: DoctorDeps, options: DoctorOptions, facts: Facts) -> list[CheckResult]:
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
        if stack_file is not None:
            found = f"{path} exists but names no secrets provider"
        elif path.is_file():
            found = f"{path} exists but cannot be read as YAML"
        else:
            found = f"no {path} (pulumi stack init, or the first pulumi config set, creates it)"
        return [CheckResult(name, Status.SKIPPED, f"{found}, and the backend is unknown (not logged in, or --offline)")]
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
