"""Paragon Entra provisioner: offline plan, config validation, and the client secret expiry report.

Commands: plan [--stack NAME] [--at YYYY-MM-DD] [--format text|json]; validate [FILES...] (exit 0 valid,
1 invalid); status (exit 0 healthy, 3 overdue, 4 expiring, 5 expired, 1 error, 2 usage); schema.
\f
Import rule, for every command here and every command added later: at module level this file imports only
the standard library, typer and `provisioner.errors`. Each command imports what it needs inside its own
function: `provisioner.config` (pydantic, YAML), rich, and above all Pulumi (`provisioner.plan`, only for
``plan``) and httpx (only the dynamic provider uses it). So ``validate``, ``--help``, ``schema`` and
``status`` start without Pulumi, grpc, pulumi_azuread or httpx (tests/test_imports.py checks it; the figures
are in docs/performance.md). Names needed only in annotations go under ``if TYPE_CHECKING``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from provisioner.errors import ConfigError
from provisioner.gc_pause import collector_paused

if TYPE_CHECKING:
    from rich.console import Console

    from provisioner.plan import Plan

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False)
SCHEMA_FILE = Path("config/provisioner.schema.json")


class OutputFormat(StrEnum):
    """Output formats of plan and status."""

    TEXT = "text"
    JSON = "json"


def _stdout() -> Console:
    """Terminal width on a terminal; else $COLUMNS, or 120 (CI logs, pipes)."""
    from rich.console import Console

    if Console().is_terminal:
        return Console(highlight=False)
    columns = os.environ.get("COLUMNS", "")
    return Console(highlight=False, width=int(columns) if columns.isdigit() else 120)


def _fail(message: str, code: int = 1) -> typer.Exit:
    from rich.console import Console

    Console(stderr=True, soft_wrap=True, highlight=False).print(message, markup=False)
    return typer.Exit(code)


def _parse_at(value: str | None) -> datetime:
    from provisioner.rotation import parse_rfc3339

    if value is None:
        return datetime.now(UTC)
    try:
        return parse_rfc3339(value)
    except ValueError:
        raise _fail(f"--at: expected YYYY-MM-DD or an RFC 3339 time, got {value!r}", 2) from None


def _check_stack(stack: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", stack) or stack.startswith("."):
        raise _fail(f"--stack: {stack!r} is not a stack name (letters, digits, _ . -)", 2)


def _flatten(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict) and value:
        return [line for k, v in value.items() for line in _flatten(v, f"{prefix}.{k}" if prefix else k)]
    if isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        return [line for i, v in enumerate(value) for line in _flatten(v, f"{prefix}[{i}]")]
    if isinstance(value, list):
        return [f"{prefix}: {', '.join(_scalar(v) for v in value)}"] if prefix else []
    return [f"{prefix}: {_scalar(value)}"] if prefix else []


def _scalar(value: Any) -> str:
    """Text as is; booleans, numbers and null as in JSON/YAML (true, 120, null)."""
    return value if isinstance(value, str) else json.dumps(value)


def _plan_markup(plan: Plan) -> str:
    """The whole text plan as one rich-markup string, so it is printed in one go (one print per line is
    about 30 times slower than the JSON plan)."""
    from rich.markup import escape

    from provisioner.plan import KNOWN_AFTER_DEPLOY

    doc = plan.to_json()
    count = len(doc["resources"])
    lines = [f"[bold]pulumi up would create {count} resources[/] (stack {escape(plan.stack)}, as of {doc['at']})"]
    for resource in doc["resources"]:
        lines.append(f"\n[green]+[/] [bold]{escape(resource['name'])}[/]  [dim]{escape(resource['type'])}[/]")
        lines += [f"    {escape(line)}" for line in _flatten(resource["inputs"])]
    lines.append("\n[bold]Stack outputs[/]")
    lines += [f"    {escape(line)}" for line in _flatten(doc["outputs"])]
    lines.append(
        escape(
            f"\n{KNOWN_AFTER_DEPLOY}: assigned by Entra or Paragon during pulumi up. [secret]: never shown. "
            "Secret slots and their dates: docs/rotation.md."
        )
    )
    return "\n".join(lines)


def _render_plan(plan: Plan, console: Console) -> None:
    console.print(_plan_markup(plan))


@app.command()
@collector_paused()  # imports, run and render only build: see provisioner.gc_pause
def plan(
    stack: Annotated[str, typer.Option(help="Stack name; reads config/<stack>.yaml.")] = "dev",
    at: Annotated[
        str | None, typer.Option(help="Evaluate as of this UTC date, YYYY-MM-DD or RFC 3339; default now.")
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.TEXT,
    project_dir: Annotated[Path, typer.Option(help="Folder with Pulumi.yaml and __main__.py.")] = Path("."),
    config: Annotated[Path | None, typer.Option(help="Config file to use instead of config/<stack>.yaml.")] = None,
) -> None:
    """Show every resource `pulumi up` would create, offline and without credentials."""
    import pulumi

    from provisioner.plan import plan_json, run_plan

    when = _parse_at(at)
    _check_stack(stack)
    for needed in ("Pulumi.yaml", "__main__.py"):
        if not (project_dir / needed).is_file():
            raise _fail(f"{project_dir / needed}: not found. Fix: run from the project folder or pass --project-dir")
    try:
        result = run_plan(project_dir.resolve(), stack, when, config_file=config.resolve() if config else None)
    except pulumi.RunError as err:  # the program's own refusal: an invalid config, already one line each
        raise _fail(str(err)) from None
    if output_format is OutputFormat.JSON:
        typer.echo(plan_json(result))
    else:
        _render_plan(result, _stdout())


def _default_config_files() -> list[Path]:
    return sorted(p for p in Path("config").glob("*.yaml") if not p.name.startswith("Pulumi."))


@app.command()
def validate(
    files: Annotated[list[Path] | None, typer.Argument(help="Config files; default config/*.yaml.")] = None,
) -> None:
    """Check config files without touching any cloud: exit 0 when all are valid, 1 otherwise."""
    from provisioner.config import load_config

    paths = files or _default_config_files()
    if not paths:
        raise _fail("no config files given and none found in config/")
    bad = 0
    for path in paths:
        try:
            load_config(path)
        except ConfigError as err:
            bad += 1
            from rich.console import Console

            Console(stderr=True, soft_wrap=True, highlight=False).print(str(err), markup=False)
        else:
            typer.echo(f"{path}: valid")
    if bad:
        raise typer.Exit(1)


def _read_outputs(stack: str, outputs_file: Path | None) -> dict[str, Any]:
    if outputs_file is not None:
        try:
            data = json.loads(outputs_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise _fail(
                f"{outputs_file}: cannot read stack outputs JSON ({err}). Fix: save `pulumi stack output --json` to it"
            ) from None
    else:
        if shutil.which("pulumi") is None:
            raise _fail(
                "the pulumi CLI is not on PATH. Fix: install it, or pass --outputs FILE with the "
                "output of `pulumi stack output --json`"
            )
        done = subprocess.run(
            ["pulumi", "stack", "output", "--json", "--stack", stack],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise _fail(f"pulumi stack output --json --stack {stack} failed: {done.stderr.strip()[:500]}")
        data = json.loads(done.stdout or "{}")
    if not isinstance(data, dict):
        raise _fail("stack outputs must be a JSON object")
    return data


@app.command()
def status(
    stack: Annotated[str, typer.Option(help="Stack name; reads config/<stack>.yaml.")] = "dev",
    outputs: Annotated[
        Path | None, typer.Option(help="JSON of `pulumi stack output --json` instead of the CLI.")
    ] = None,
    warn_days: Annotated[int, typer.Option(min=0, help="Warn when the active secret ends within N days.")] = 30,
    at: Annotated[str | None, typer.Option(help="Judge as of this UTC date; default now.")] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.TEXT,
) -> None:
    """Expiry report. Exit 0 healthy, 3 rotation overdue or never deployed, 4 expiring within --warn-days,
    5 expired, 1 invalid config or outputs, 2 usage error."""
    from rich.markup import escape
    from rich.table import Table

    from provisioner.config import config_path, load_config
    from provisioner.rotation import rfc3339
    from provisioner.status import Health, OutputsError, assess, exit_code

    when = _parse_at(at)
    _check_stack(stack)
    try:
        config = load_config(config_path(Path("config"), stack))
    except ConfigError as err:
        raise _fail(str(err)) from None
    try:
        reports = assess(_read_outputs(stack, outputs), config, when, warn_days)
    except OutputsError as err:
        raise _fail(str(err)) from None
    code = exit_code(reports)
    if output_format is OutputFormat.JSON:
        typer.echo(
            json.dumps(
                {
                    "stack": stack,
                    "at": rfc3339(when),
                    "warn_days": warn_days,
                    "exit_code": code,
                    "integrations": [r.to_json() for r in reports],
                },
                indent=2,
            )
        )
    else:
        table = Table(title=f"Client secrets, stack {stack}, as of {rfc3339(when)}")
        for column in ("Integration", "Health", "Active slot", "Ends", "Days left", "Next rotation", "Why"):
            table.add_column(column, overflow="fold")
        style = {
            Health.HEALTHY: "green",
            Health.OVERDUE: "yellow",
            Health.EXPIRING: "yellow",
            Health.EXPIRED: "red",
        }
        for r in reports:
            table.add_row(
                r.integration,
                f"[{style[r.health]}]{r.health.name}[/]",
                str(r.active_slot if r.active_slot is not None else "-"),
                r.end_date or "-",
                str(r.days_left if r.days_left is not None else "-"),
                r.next_rotation or "-",
                escape(r.reason),
            )
        _stdout().print(table)
    raise typer.Exit(code)


@app.command()
def schema(
    check: Annotated[bool, typer.Option(help="Exit 1 if the published schema is out of date.")] = False,
) -> None:
    """Write config/provisioner.schema.json from the config model (editors validate YAML with it)."""
    from provisioner.config import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if check:
        if not SCHEMA_FILE.is_file() or SCHEMA_FILE.read_text(encoding="utf-8") != text:
            raise _fail(f"{SCHEMA_FILE} is out of date. Fix: python -m provisioner schema")
        typer.echo(f"{SCHEMA_FILE}: up to date")
        return
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {SCHEMA_FILE}")


__all__ = ["app"]
