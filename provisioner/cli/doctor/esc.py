"""Doctor check 6: the Pulumi ESC environments a stack imports, and which logins come from them.

A stack file ``Pulumi.<stack>.yaml`` may list ESC environments under ``environment:`` (Pulumi docs, "Use
Pulumi ESC with Pulumi IaC"). ``pulumi up`` then exports each environment's ``environmentVariables`` to the
program and its providers (the environment's value wins over the process's, Pulumi docs, ESC "Outputs") and
adds its ``pulumiConfig`` to the stack config (an explicit stack value wins). Imports work only for stacks on
the Pulumi Cloud backend. So the Azure login (``ARM_*``) and the Paragon login (``PARAGON_*`` or
``paragonEmail``/``paragonPassword``/``paragonAccessToken``) may never reach doctor's own process.

Read-only: ``pulumi env get <env> --value json`` (or ``esc env get``, the same command of the standalone CLI)
evaluates the definition without opening it: no OIDC exchange, no dynamic secret fetched, and static secrets
shown as ``[secret]`` (pulumi/esc, ``cmd/esc/cli/env_get.go``). ``env open`` and ``env run`` are never used.
Only names are reported, never a value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioner.cli.doctor.base import (
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
from provisioner.cli.doctor.pulumi_cli import pulumi_project
from provisioner.config.safe_io import loads_json
from provisioner.paragon.login import ENV_ACCESS_TOKEN, ENV_EMAIL, ENV_PASSWORD, STACK_CONFIG_KEYS

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PART = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_REF = re.compile(rf"^{_PART}(?:/{_PART}){{0,2}}(?:@{_PART})?$")
"""``[org/][project/]name[@version]`` (letters, digits, ``-_.``; never a leading ``-``, so never an option)."""
_OIDC_TOKEN_VARS = ("ARM_OIDC_TOKEN", "ARM_OIDC_TOKEN_FILE_PATH", "ARM_OIDC_REQUEST_TOKEN")
_DOCTOR = "python -m provisioner doctor"


@dataclass
class Supply:
    """What the readable environments export: environment variable names and stack config keys."""

    variables: set[str] = field(default_factory=set)
    config: set[str] = field(default_factory=set)
    refs: list[str] = field(default_factory=list)

    def azure(self) -> list[str]:
        """The ``ARM_*`` variables the environment exports (names only), sorted."""
        return sorted(v for v in self.variables if v.startswith("ARM_"))

    def paragon(self) -> list[str]:
        """The ``PARAGON_*`` variables the environment exports (names only), sorted."""
        return sorted(v for v in self.variables if v.startswith("PARAGON_"))

    def paragon_config(self) -> list[str]:
        """The secret stack config login keys (``paragonEmail``, ...) the environment supplies, sorted."""
        return sorted(k for k in self.config if k in STACK_CONFIG_KEYS.values())

    def paragon_login(self) -> bool:
        """True when the environment supplies a whole Paragon login (a token, or an email and a password)."""
        env, cfg = set(self.paragon()), set(self.paragon_config())
        keys = STACK_CONFIG_KEYS
        return (
            ENV_ACCESS_TOKEN in env
            or {ENV_EMAIL, ENV_PASSWORD} <= env
            or keys["access_token"] in cfg
            or {keys["email"], keys["password"]} <= cfg
        )


def stack_file_path(options: DoctorOptions) -> Path:
    """``Pulumi.<stack>.yaml`` in the project's ``stackConfigDir`` (the project folder without one)."""
    project = pulumi_project(options.project_dir)
    return (project[1] if project else options.project_dir) / f"Pulumi.{options.stack}.yaml"


def imported_environments(stack_file: dict[str, Any] | None) -> list[str] | str:
    """The ``environment:`` list of a parsed stack file, or a message saying why it is not one.

    Accepts a list of names, or a mapping with an ``imports`` list.
    """
    value = (stack_file or {}).get("environment")
    if value is None:
        return []
    if isinstance(value, dict):
        value = value.get("imports", [])
    if not isinstance(value, list) or not all(isinstance(v, str) and _REF.match(v) for v in value):
        return "expected a list of environment names such as [paragon/prod]"
    return list(value)


def _config_key(key: str, project: str | None) -> str | None:
    """``paragonEmail`` or ``<project>:paragonEmail`` as the bare key; another namespace's key as None."""
    namespace, _, bare = key.rpartition(":")
    if namespace and namespace != project:
        return None
    return bare


def _read(deps: DoctorDeps, cli: str, ref: str) -> dict[str, Any] | str:
    """The environment's evaluated value (secrets redacted by the CLI), or why it could not be read."""
    try:
        done = run_tool(deps, [cli, "env", "get", ref, "--value", "json"])
    except ToolError as err:
        return str(err)
    if done.returncode != 0:
        return f"`{Path(cli).name} env get` failed: {tail(done.stderr or done.stdout)}"
    try:
        data = loads_json(done.stdout)
    except ValueError:
        return f"`{Path(cli).name} env get` printed no JSON object"
    return data if isinstance(data, dict) else f"`{Path(cli).name} env get` printed no JSON object"


def _describe(ref: str, data: dict[str, Any], project: str | None, where: str) -> tuple[CheckResult, Supply]:
    variables = data.get("environmentVariables")
    config = data.get("pulumiConfig")
    supply = Supply(refs=[ref])
    if isinstance(variables, dict):
        supply.variables = {k for k in variables if isinstance(k, str) and _ENV_NAME.match(k)}
    if isinstance(config, dict):
        supply.config = {b for k in config if isinstance(k, str) and (b := _config_key(k, project))}
    parts = []
    if supply.azure():
        parts.append(f"Azure login {', '.join(supply.azure())}")
    if supply.paragon():
        parts.append(f"Paragon login {', '.join(supply.paragon())}")
    if supply.paragon_config():
        parts.append(f"stack config {', '.join(supply.paragon_config())} (pulumiConfig)")
    found = "; ".join(parts) if parts else "no Azure or Paragon login (no ARM_*, PARAGON_* or paragon* keys)"
    detail = f"imported by {where}: {found}"
    name = f"esc:{ref}"
    problems: list[tuple[str, str]] = []
    azure = set(supply.azure())
    if "ARM_CLIENT_SECRET" in azure:
        problems.append(
            (
                "ARM_CLIENT_SECRET is a client secret, itself a secret to rotate",
                "use fn::open::azure-login with oidc: true and export ARM_OIDC_TOKEN (docs/esc.md)",
            )
        )
    if "ARM_USE_OIDC" in azure and not azure.intersection(_OIDC_TOKEN_VARS):
        problems.append(
            (
                "ARM_USE_OIDC without ARM_OIDC_TOKEN: the azuread provider would look for a token elsewhere",
                "export ARM_OIDC_TOKEN: ${azure.login.oidc.token} under environmentVariables (docs/esc.md)",
            )
        )
    paragon = set(supply.paragon())
    if (ENV_EMAIL in paragon) != (ENV_PASSWORD in paragon) and ENV_ACCESS_TOKEN not in paragon:
        problems.append((f"only one of {ENV_EMAIL} and {ENV_PASSWORD}", "export both (or PARAGON_ACCESS_TOKEN)"))
    if problems:
        text = "; ".join(p for p, _ in problems)
        return CheckResult(name, Status.WARNING, f"{detail}; {text}", "; ".join(f for _, f in problems)), supply
    return CheckResult(name, Status.OK, detail), supply


def _in_process(deps: DoctorDeps, supply: Supply) -> bool:
    """True when every variable the environments export is also set here (doctor under ``pulumi env run``)."""
    wanted = [*supply.azure(), *supply.paragon()]
    return bool(wanted) and all(deps.env.get(v, "").strip() for v in wanted)


def _rewrite(rows: list[CheckResult], supply: Supply, deps: DoctorDeps, facts: Facts) -> list[CheckResult]:
    """Failed login rows that only say this process lacks a login ESC supplies become ``skipped``: their
    fix (``az login``, ``export PARAGON_*``) would be wrong advice."""
    refs = ", ".join(supply.refs)
    run = f"pulumi env run {supply.refs[0]} -- {_DOCTOR} … to check it"
    out = []
    for row in rows:
        azure_here = any(deps.env.get(v, "").strip() for v in supply.azure())
        if row.check == "azure-credentials" and row.status is Status.FAILED and supply.azure() and not azure_here:
            row = CheckResult(
                row.check,
                Status.SKIPPED,
                f"the Azure login comes from ESC environment {refs} (doctor does not open it); here: {row.detail}",
                run,
            )
        elif (
            row.check == "paragon-login-source"
            and row.status is Status.FAILED
            and supply.paragon_login()
            and facts.login is None
            and facts.paragon_url is not None
        ):
            row = CheckResult(
                row.check,
                Status.SKIPPED,
                f"the Paragon login comes from ESC environment {refs} (doctor does not open it)",
                run,
            )
        out.append(row)
    return out


def with_esc_environments(
    deps: DoctorDeps, options: DoctorOptions, facts: Facts, rows: Sequence[CheckResult]
) -> list[CheckResult]:
    """``rows`` with one ``esc:<environment>`` row per environment the stack file imports, placed after the
    Pulumi rows, and login failures that ESC answers turned into skips (`_rewrite`).

    Rows: ``ok`` (what the environment exports), ``warning`` (a client secret, OIDC without a token, half a
    Paragon login; or the environment cannot be read), ``failed`` (a malformed ``environment:`` list, or a
    self-managed backend, which cannot import environments), ``skipped`` (``--offline``, or no ``pulumi``/``esc``
    CLI). No row when the stack file imports nothing.
    """
    rows = list(rows)
    refs = imported_environments(facts.stack_file)
    if not refs:
        return rows
    where = str(stack_file_path(options))
    new: list[CheckResult] = []
    if isinstance(refs, str):
        new.append(CheckResult("esc", Status.FAILED, f"{where}: environment: {refs}", "fix the stack file"))
        return _insert(rows, new)
    backend = facts.backend_url or deps.env.get("PULUMI_BACKEND_URL", "")
    cli = facts.pulumi or deps.find("esc")
    supply = Supply()
    project = pulumi_project(options.project_dir)
    for ref in refs:
        name = f"esc:{ref}"
        if backend.startswith(SELF_MANAGED_SCHEMES):
            new.append(
                CheckResult(
                    name,
                    Status.FAILED,
                    f"imported by {where}, but the backend {backend} is self-managed: only stacks on Pulumi Cloud "
                    "can import ESC environments",
                    "move the stack to Pulumi Cloud, or drop environment: and give the logins as environment "
                    "variables or secret stack config (README, Real use)",
                )
            )
            continue
        if options.offline:
            new.append(
                CheckResult(name, Status.SKIPPED, f"imported by {where}; --offline: reading it asks Pulumi Cloud")
            )
            continue
        if cli is None:
            new.append(
                CheckResult(
                    name,
                    Status.SKIPPED,
                    f"imported by {where}; no pulumi or esc CLI to read which logins it supplies",
                    "install the Pulumi CLI (or esc) to check it",
                )
            )
            continue
        data = _read(deps, cli, ref)
        if isinstance(data, str):
            new.append(
                CheckResult(
                    name,
                    Status.WARNING,
                    f"imported by {where}, but it cannot be read: {data}",
                    "check the name (pulumi env ls) and that this Pulumi login may open it: pulumi up fails "
                    "if the stack cannot",
                )
            )
            continue
        row, found = _describe(ref, data, project[0] if project else None, where)
        supply.refs.append(ref)
        supply.variables |= found.variables
        supply.config |= found.config
        new.append(row)
    if supply.refs and (supply.azure() or supply.paragon() or supply.paragon_config()):
        if _in_process(deps, supply):
            note = "its variables are set in this process too (pulumi env run?), so the checks below use them"
        else:
            note = (
                "doctor does not open environments, so the Azure and Paragon checks below look at this process "
                f"only; to check these logins: pulumi env run {supply.refs[0]} -- {_DOCTOR} …"
            )
        last = new[-1] if new and new[-1].check == f"esc:{supply.refs[-1]}" else None
        if last is not None:
            new[-1] = CheckResult(last.check, last.status, f"{last.detail}. Note: {note}", last.fix)
        rows = _rewrite(rows, supply, deps, facts)
    return _insert(rows, new)


def _insert(rows: list[CheckResult], new: list[CheckResult]) -> list[CheckResult]:
    """``new`` right after the last ``pulumi-*`` row (at the end when there is none)."""
    at = max((i + 1 for i, r in enumerate(rows) if r.check.startswith("pulumi-")), default=len(rows))
    return [*rows[:at], *new, *rows[at:]]
