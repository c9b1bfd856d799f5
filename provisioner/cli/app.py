"""Paragon Entra provisioner: offline plan, config validation, and the client secret expiry report.

Commands: plan [--stack NAME] [--config FILE] [--at YYYY-MM-DD] [--format text|json]; validate [FILES...]
[--format text|github|azure-pipelines] (exit 0 valid, 1 invalid); status (exit 0 healthy, 3 overdue,
4 expiring, 5 expired, 1 error, 2 usage); doctor (exit 0 nothing failed, 1 a check failed); diff BASE.json HEAD.json
[--format text|markdown|json]; catalog; schema [--check] [--output PATH|-]; adopt --config FILE --integration KEY
--client-id GUID [--output FILE] (exit 0 report, 1 refused).
The stack's YAML: --config, else the stack setting configFile, else $PROVISIONER_CONFIG, else
config/<stack>.yaml (docs/config-repo.md).
Add --debug (or set PROVISIONER_DEBUG=1) to see the traceback of an unexpected error.
\f
Import rule, for every command here and every command added later: at module level this file imports only
the standard library, typer and `provisioner.errors`. Each command imports what it needs inside its own
function: `provisioner.config` (pydantic, YAML), rich, and above all Pulumi (`provisioner.cli.plan`, only for
``plan``) and httpx (only the dynamic provider uses it). So ``validate``, ``--help``, ``schema`` and
``status`` start without Pulumi, grpc, pulumi_azuread or httpx (tests/test_imports.py checks it; the figures
are in docs/performance.md). Names needed only in annotations go under ``if TYPE_CHECKING``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from provisioner.cli.gc_pause import collector_paused
from provisioner.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

    from provisioner.cli.plan import Plan
    from provisioner.config.stackfile import StackConfig

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
    from provisioner.program.rotation import SUPPORTED_RANGE, parse_rfc3339

    if value is None:
        return datetime.now(UTC)
    try:
        return parse_rfc3339(value)
    except ValueError:
        raise _fail(f"--at: expected YYYY-MM-DD or an RFC 3339 time from {SUPPORTED_RANGE}, got {value!r}", 2) from None


def _stack_config(project_dir: Path, stack: str | None, config: Path | None, force_stack: bool) -> StackConfig:
    """The stack and its YAML by the rule in `provisioner.config.stackfile` (exit 2 on a usage error, else 1)."""
    from provisioner.config.stackfile import StackFileError, resolve

    try:
        return resolve(project_dir, stack=stack, config=config, env=os.environ, force_stack=force_stack)
    except StackFileError as err:
        raise _fail(str(err), 2 if err.usage else 1) from None


_STACK_HELP = "Stack name; default: the config file's name (prod.yaml: prod), else dev."
_CONFIG_HELP = (
    "The stack's YAML. Default: stack setting configFile, else $PROVISIONER_CONFIG, else config/<stack>.yaml."
)
_FORCE_HELP = "Accept a --stack that differs from the config file's name."


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

    from provisioner.cli.plan import KNOWN_AFTER_DEPLOY

    doc = plan.to_json()
    count = len(doc["resources"])
    lines = [
        f"[bold]pulumi up would create {count} resources[/] (project {escape(plan.project)}, stack "
        f"{escape(plan.stack)}, config {escape(plan.config)}, as of {doc['at']})"
    ]
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
@collector_paused()  # imports, run and render only build: see provisioner.cli.gc_pause
def plan(
    stack: Annotated[str | None, typer.Option(help=_STACK_HELP)] = None,
    at: Annotated[
        str | None, typer.Option(help="Evaluate as of this UTC date, YYYY-MM-DD or RFC 3339; default now.")
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.TEXT,
    project_dir: Annotated[
        Path, typer.Option(help="Folder with Pulumi.yaml and __main__.py (this repo or a config repo).")
    ] = Path("."),
    config: Annotated[Path | None, typer.Option(help=_CONFIG_HELP)] = None,
    force_stack: Annotated[bool, typer.Option(help=_FORCE_HELP)] = False,
) -> None:
    """Show every resource `pulumi up` would create, offline and without credentials."""
    import pulumi

    from provisioner.cli.plan import plan_json, run_plan

    when = _parse_at(at)
    for needed in ("Pulumi.yaml", "__main__.py"):
        if not (project_dir / needed).is_file():
            raise _fail(f"{project_dir / needed}: not found. Fix: run from the project folder or pass --project-dir")
    chosen = _stack_config(project_dir, stack, config, force_stack)
    try:
        result = run_plan(project_dir.resolve(), chosen.stack, when, config_file=chosen.path)
    except pulumi.RunError as err:  # the program's own refusal: an invalid config, already one line each
        raise _fail(str(err)) from None
    if output_format is OutputFormat.JSON:
        typer.echo(plan_json(result))
    else:
        _render_plan(result, _stdout())


class ValidateFormat(StrEnum):
    """Output formats of validate."""

    TEXT = "text"
    GITHUB = "github"
    AZURE_PIPELINES = "azure-pipelines"


def _config_files(paths: list[Path]) -> list[Path]:
    """Each given file, and the ``*.yaml`` files (sorted) of each given folder."""
    return [f for p in paths for f in (sorted(p.glob("*.yaml")) if p.is_dir() else [p])]


@app.command()
def validate(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Stack files or folders of them (defaults.yaml stands for the stack files beside it). Default: "
            "$PROVISIONER_CONFIG, else config/*.yaml, else every stack's configFile setting."
        ),
    ] = None,
    output_format: Annotated[
        ValidateFormat,
        typer.Option(
            "--format",
            help="text; github: workflow annotations on stdout; azure-pipelines: ##vso[task.logissue] commands.",
        ),
    ] = ValidateFormat.TEXT,
) -> None:
    """Check config files without touching any cloud: exit 0 when all are valid, 1 otherwise.

    Problems and warnings go to stderr (text) or stdout (github, azure-pipelines), one line each, in line
    order; warnings alone keep exit 0.
    """
    from rich.console import Console

    from provisioner.cli.annotations import ci_annotation
    from provisioner.config import load_config_report
    from provisioner.config.stackfile import StackFileError, files_to_validate

    try:
        paths = files_to_validate(_config_files(files or []), Path("."), os.environ)
    except StackFileError as err:
        raise _fail(str(err)) from None
    if not paths:
        raise _fail("no config files given and none found in config/ or in the stacks' configFile settings")
    bad = 0
    reported: set[str] = set()  # a bad value in defaults.yaml is reported once, not once per stack file
    stderr = Console(stderr=True, soft_wrap=True, highlight=False)
    for path in paths:
        try:
            loaded = load_config_report(path)
        except ConfigError as err:
            bad += 1
            for problem in err.problems:
                if problem in reported:
                    continue
                reported.add(problem)
                if output_format is not ValidateFormat.TEXT:
                    typer.echo(ci_annotation(output_format.value, problem, Path.cwd()))
                else:
                    stderr.print(problem, markup=False)
        else:
            for warning in loaded.warnings:
                if output_format is not ValidateFormat.TEXT:
                    typer.echo(ci_annotation(output_format.value, str(warning), Path.cwd(), level="warning"))
                else:
                    stderr.print(str(warning), markup=False)
            typer.echo(f"{path}: valid")
    if bad:
        raise typer.Exit(1)


def _read_outputs(stack: str, outputs_file: Path | None) -> dict[str, Any]:
    from provisioner.cli.status import OutputsError, parse_outputs_json
    from provisioner.config.safe_io import read_text_capped

    if outputs_file is not None:
        try:
            text = read_text_capped(outputs_file)
        except (OSError, ValueError) as err:
            raise _fail(
                f"{outputs_file}: cannot read stack outputs JSON ({err}). Fix: save `pulumi stack output --json` to it"
            ) from None
        source = str(outputs_file)
    else:
        if shutil.which("pulumi") is None:
            raise _fail(
                "the pulumi CLI is not on PATH. Fix: install it, or pass --outputs FILE with the "
                "output of `pulumi stack output --json`"
            )
        command = ["pulumi", "stack", "output", "--json", "--stack", stack]
        source = " ".join(command)
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as err:
            raise _fail(f"{source}: could not run ({err.strerror})") from None
        if done.returncode != 0:
            raise _fail(f"{source} failed: {' '.join(done.stderr.split())[:500]}")
        text = done.stdout if done.stdout.strip() else "{}"
    try:
        return parse_outputs_json(text, source)
    except OutputsError as err:
        raise _fail(str(err)) from None


@app.command()
def status(
    stack: Annotated[str | None, typer.Option(help=_STACK_HELP)] = None,
    config: Annotated[Path | None, typer.Option(help=_CONFIG_HELP)] = None,
    force_stack: Annotated[bool, typer.Option(help=_FORCE_HELP)] = False,
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

    from provisioner.cli.adopt_status import adopted_secrets, graph_reader
    from provisioner.cli.status import Health, OutputsError, assess, exit_code
    from provisioner.config import load_config
    from provisioner.program.rotation import rfc3339

    when = _parse_at(at)
    chosen = _stack_config(Path("."), stack, config, force_stack)
    stack = chosen.stack
    try:
        loaded = load_config(chosen.path)
    except ConfigError as err:
        raise _fail(str(err)) from None
    try:
        stack_outputs = _read_outputs(stack, outputs)
        reports = assess(stack_outputs, loaded, when, warn_days)
    except OutputsError as err:
        raise _fail(str(err)) from None
    code = exit_code(reports)
    adopted = adopted_secrets(loaded, stack_outputs, reports, when, lambda: graph_reader(os.environ))
    if output_format is OutputFormat.JSON:
        typer.echo(
            json.dumps(
                {
                    "stack": stack,
                    "config": str(chosen.path),
                    "at": rfc3339(when),
                    "warn_days": warn_days,
                    "exit_code": code,
                    "integrations": [r.to_json() for r in reports],
                    **({"adopted": adopted.to_json()} if adopted is not None else {}),
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
        if adopted is not None:
            _stdout().print("\n".join(adopted.lines()), markup=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def adopt(
    config: Annotated[Path, typer.Option(help="The stack's YAML (its file name is the stack).")],
    integration: Annotated[str, typer.Option(help="Integration key in that file, e.g. powerbi.")],
    client_id: Annotated[str, typer.Option(help="Application (client) ID of the existing app registration.")],
    output: Annotated[
        Path | None, typer.Option(help="Write the `pulumi import --file` JSON here (e.g. import.json).")
    ] = None,
) -> None:
    """Read-only: what adopting an existing app registration changes, its hand-made secrets, whether Paragon
    holds its client ID, and the Pulumi import file. Exit 0 with the report, 1 with one line (docs/adopt.md)."""
    from provisioner.cli.adopt import adopt_command

    raise typer.Exit(adopt_command(config, integration, client_id, output, os.environ))


class ReportFormat(StrEnum):
    """Output formats of diff and catalog."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


@app.command()
def diff(
    base: Annotated[Path, typer.Argument(help="`plan --format json` of the base branch (an empty file: no plan).")],
    head: Annotated[Path, typer.Argument(help="`plan --format json` of the pull request.")],
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="text, markdown (a pull request comment) or json.")
    ] = ReportFormat.TEXT,
) -> None:
    """Compare two plans: resources added, removed, replaced or changed, and stack outputs. Exit 0, or 1 when
    a file cannot be read."""
    from provisioner.cli.diff import DiffInputError, diff_plans, read_plan, render_json, render_markdown, render_text

    try:
        result = diff_plans(read_plan(base), read_plan(head))
    except DiffInputError as err:
        raise _fail(str(err)) from None
    render = {ReportFormat.TEXT: render_text, ReportFormat.MARKDOWN: render_markdown, ReportFormat.JSON: render_json}
    typer.echo(render[output_format](result), nl=False)


@app.command()
def catalog(
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="text, json, or markdown (docs/integrations.md).")
    ] = ReportFormat.TEXT,
) -> None:
    """List the integrations this provisioner knows: resource API, scopes, defaults, audiences, extras."""
    from provisioner.cli.catalog_report import catalog_json, catalog_markdown, print_catalog_table

    if output_format is ReportFormat.JSON:
        typer.echo(json.dumps(catalog_json(), indent=2))
    elif output_format is ReportFormat.MARKDOWN:
        typer.echo(catalog_markdown(), nl=False)
    else:
        print_catalog_table(_stdout())


@app.command()
def doctor(
    stack: Annotated[str | None, typer.Option(help=_STACK_HELP)] = None,
    config: Annotated[Path | None, typer.Option(help=_CONFIG_HELP)] = None,
    force_stack: Annotated[bool, typer.Option(help=_FORCE_HELP)] = False,
    output_format: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.TEXT,
    offline: Annotated[bool, typer.Option(help="Skip the checks that need the network.")] = False,
    outputs: Annotated[
        Path | None, typer.Option(help="JSON of `pulumi stack output --json` instead of the CLI.")
    ] = None,
) -> None:
    """Read-only preflight before `pulumi up`: one row per check. Exit 0 when nothing failed, 1 otherwise."""
    from provisioner.cli.doctor import DoctorDeps, DoctorOptions, doctor_exit_code, render_doctor, run_doctor

    chosen = _stack_config(Path("."), stack, config, force_stack)
    options = DoctorOptions(stack=chosen.stack, config_file=chosen.path, offline=offline, outputs_file=outputs)
    rows = run_doctor(options, DoctorDeps(env=os.environ))
    if output_format is OutputFormat.JSON:
        typer.echo(json.dumps([r.to_json() for r in rows], indent=2))
    else:
        render_doctor(rows, _stdout())
    raise typer.Exit(doctor_exit_code(rows))


@app.command()
def schema(
    check: Annotated[bool, typer.Option(help="Exit 1 if the published schema is out of date.")] = False,
    output: Annotated[
        str | None, typer.Option(help=f"Where to write (or --check) the schema; - for stdout. Default {SCHEMA_FILE}.")
    ] = None,
) -> None:
    """Write config/provisioner.schema.json from the config model (editors validate YAML with it)."""
    from provisioner.config import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output == "-":
        if check:
            raise _fail("--check compares a file; --output - writes to stdout. Fix: drop one of them", 2)
        typer.echo(text, nl=False)
        return
    target = Path(output) if output else SCHEMA_FILE
    if check:
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            raise _fail(f"{target} is out of date. Fix: python -m provisioner schema --output {target}")
        typer.echo(f"{target}: up to date")
        return
    if not target.parent.is_dir():
        raise _fail(f"{target.parent}: no such folder. Fix: create it, or pass --output PATH (- for stdout)")
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as err:
        raise _fail(f"{target}: cannot write ({err.strerror}). Fix: pass --output PATH (- for stdout)") from None
    typer.echo(f"wrote {target}")


__all__ = ["app"]
