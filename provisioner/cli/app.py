"""Paragon Entra provisioner: Entra ID app registrations for Paragon's Microsoft integrations.

Offline plan, config validation, preflight checks and the client secret expiry report. Commands that read
a stack (plan, status, doctor, validate) choose it the same way: --config FILE, else the stack setting
configFile, else $PROVISIONER_CONFIG, else config/<stack>.yaml (docs/config-repo.md).

Exit codes: 0 success; 1 invalid config or a failed check; 2 usage error; status also 3 overdue, 4
expiring, 5 expired, 6 (--verify) Entra refuses the secret Paragon holds.
adopt --config FILE --integration KEY --client-id GUID [--output FILE]: exit 0 report, 1 refused.
\f
Import rule, for every command here and every command added later: at module level this file imports only
the standard library, typer, `provisioner.errors` and the light `provisioner.cli.options`. Each command
imports what it needs inside its own function: `provisioner.config` (pydantic, YAML), rich, and above all
Pulumi (`provisioner.cli.plan`, only for ``plan``) and httpx (only the dynamic provider uses it). So
``validate``, ``--help``, ``schema`` and ``status`` start without Pulumi, grpc, pulumi_azuread or httpx
(tests/test_imports.py checks it; the figures are in docs/performance.md). Names needed only in
annotations go under ``if TYPE_CHECKING``.
"""

from __future__ import annotations

import difflib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from provisioner.cli.gc_pause import collector_paused
from provisioner.cli.options import (
    AlertLevel,
    AlertPayload,
    AtOption,
    ConfigOption,
    ForceStackOption,
    OutputFormat,
    ReportFormat,
    StackOption,
    ValidateFormat,
)
from provisioner.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

    from provisioner.cli.timeline import StackTimeline
    from provisioner.config.stackfile import StackConfig

# rich_markup_mode=None: Click formats help, re-wrapping every paragraph to the terminal (80 columns at most)
# and never cutting an option's help short; it also keeps rich out of `--help`.
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=__doc__,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)
SCHEMA_FILE = Path("config/provisioner.schema.json")
DISTRIBUTION = "paragon-entra-provisioner"
"""The package's name on the index and in its metadata (pyproject.toml ``[project] name``)."""


def package_version() -> str:
    """The installed package's version, from its metadata (``importlib.metadata``; pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"{DISTRIBUTION} {package_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the installed version and exit."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Show the traceback of an unexpected error (or set PROVISIONER_DEBUG=1). Allowed anywhere on "
            "the command line.",
        ),
    ] = False,
) -> None:
    """Options for every command (``--debug`` is taken off the command line by `provisioner.cli.entry`)."""


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


def _anchor_warnings(path: Path, when: datetime, at: str | None) -> None:
    from provisioner.cli.validate import anchor_warning_lines

    for line in anchor_warning_lines(path, when.date(), "--at" if at else None):
        _warn(line)


def _warn(message: str) -> None:
    """One problem or warning line on stderr, as written (problem lines are one line, controls escaped);
    plain ``typer.echo`` so that ``validate`` does not load Rich just to print (bench/bench.py)."""
    typer.echo(message, err=True)


@app.command(short_help="What `pulumi up` would create, offline: summary, then resources.")
@collector_paused()  # imports, run and render only build: see provisioner.cli.gc_pause
def plan(
    stack: StackOption = None,
    at: AtOption = None,
    output_format: Annotated[
        ReportFormat,
        typer.Option("--format", help="text, json, or markdown (summary and secret timeline for a pull request)."),
    ] = ReportFormat.TEXT,
    project_dir: Annotated[
        Path,
        typer.Option(help="Folder with Pulumi.yaml and __main__.py (this repo or a config repo).", metavar="DIR"),
    ] = Path("."),
    config: ConfigOption = None,
    force_stack: ForceStackOption = False,
    timeline: Annotated[bool, typer.Option("--timeline", help="Also draw the stack's secret timeline.")] = False,
) -> None:
    """Show every resource `pulumi up` would create, offline and without credentials.

    Text and markdown open with a summary per integration: app, audience, scopes, active secret, next
    rotation, secret end dates and what Paragon will hold.
    """
    import pulumi

    from provisioner.cli.plan import plan_json, run_plan
    from provisioner.cli.plan_text import plan_markdown, render_plan_text

    when = _parse_at(at)
    for needed in ("Pulumi.yaml", "__main__.py"):
        if not (project_dir / needed).is_file():
            raise _fail(f"{project_dir / needed}: not found. Fix: run from the project folder or pass --project-dir")
    chosen = _stack_config(project_dir, stack, config, force_stack)
    _anchor_warnings(chosen.path, when, at)
    try:
        result = run_plan(project_dir.resolve(), chosen.stack, when, config_file=chosen.path)
    except pulumi.RunError as err:  # the program's own refusal: an invalid config, already one line each
        raise _fail(str(err)) from None
    if output_format is ReportFormat.JSON:
        typer.echo(plan_json(result))
        return
    doc = result.to_json()
    if output_format is ReportFormat.MARKDOWN:
        typer.echo(plan_markdown(doc, _timeline(chosen.path).mermaid(when, chosen.stack)), nl=False)
        return
    console = _stdout()
    lines = _timeline(chosen.path).lines(when, console.width) if timeline else None
    render_plan_text(doc, result.project, result.stack, result.config, console, lines)


def _timeline(path: Path) -> StackTimeline:
    from provisioner.cli.timeline import StackTimeline

    try:
        return StackTimeline.of(path)
    except ConfigError as err:
        raise _fail(str(err)) from None


@app.command(short_help="Check stack files without any cloud (exit 1 when one is invalid).")
def validate(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Stack files, or folders of them; defaults.yaml stands for the stack files beside it and "
            "Pulumi's own Pulumi*.yaml files are skipped. Default: every stack file the workflows deploy "
            "($PROVISIONER_CONFIG, else config/*.yaml, else the stack files of a config repository and every "
            "stack's configFile).",
            show_default=False,
            metavar="FILES",
        ),
    ] = None,
    output_format: Annotated[
        ValidateFormat,
        typer.Option(
            "--format",
            help="text; github: workflow annotations on stdout; azure-pipelines: ##vso[task.logissue] commands.",
        ),
    ] = ValidateFormat.TEXT,
    stack: StackOption = None,
    config: ConfigOption = None,
    force_stack: ForceStackOption = False,
) -> None:
    """Check config files without touching any cloud: exit 0 when all are valid, 1 otherwise.

    Problems and warnings go to stderr (text) or stdout (github, azure-pipelines), one line each, in line
    order; warnings alone keep exit 0. A stack file that no Pulumi.<stack>.yaml selects gets a warning: CI
    would not deploy it.
    """
    from datetime import date

    from provisioner.cli.validate import choose_files, print_report, run_validate
    from provisioner.config.stackfile import StackFileError

    try:
        paths = choose_files(
            files or [], stack=stack, config=config, force_stack=force_stack, project_dir=Path("."), env=os.environ
        )
    except StackFileError as err:
        raise _fail(str(err), 2 if err.usage else 1) from None
    if not paths:
        raise _fail(
            "no stack files given or found (config/*.yaml, a config repository's <stack>.yaml, or a stack's "
            "configFile setting). Fix: name the files, or run from the project folder"
        )
    report = run_validate(paths, Path("."), today=date.today())
    print_report(report, output_format.value, typer.echo, _warn, Path.cwd())
    if report.bad:
        raise typer.Exit(1)


@app.command(short_help="Client secret expiry report (exit 0, 3, 4, 5 or 6 for CI; 1 bad input).")
def status(
    stack: StackOption = None,
    config: ConfigOption = None,
    force_stack: ForceStackOption = False,
    outputs: Annotated[
        Path | None, typer.Option(help="JSON of `pulumi stack output --json` instead of the CLI.")
    ] = None,
    warn_days: Annotated[int, typer.Option(min=0, help="Warn when the active secret ends within N days.")] = 30,
    at: AtOption = None,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="text, json, or markdown (with the secret timeline).")
    ] = ReportFormat.TEXT,
    timeline: Annotated[bool, typer.Option("--timeline", help="Also draw the stack's secret timeline.")] = False,
    verify: Annotated[
        bool,
        typer.Option(
            help="Also prove with Entra that the secret Paragon holds now works (PARAGON_* login); exit 6 if not."
        ),
    ] = False,
    alert_on: Annotated[
        AlertLevel,
        typer.Option(envvar="PROVISIONER_ALERT_ON", help="Post to $PROVISIONER_ALERT_WEBHOOK at or above this."),
    ] = AlertLevel.WARNING,
    alert_format: Annotated[
        AlertPayload,
        typer.Option(envvar="PROVISIONER_ALERT_FORMAT", help="Webhook payload; auto picks by the URL's host."),
    ] = AlertPayload.AUTO,
) -> None:
    """Expiry report. Exit 0 healthy, 3 rotation overdue or never deployed, 4 expiring within --warn-days,
    5 expired, 6 (--verify) Entra refuses the secret Paragon holds, 1 invalid config or outputs, 2 usage error."""
    from provisioner.cli.adopt_status import adopted_secrets, graph_reader
    from provisioner.cli.status import OutputsError, assess, exit_code, read_outputs
    from provisioner.cli.status_render import render_status, status_markdown
    from provisioner.config import load_config
    from provisioner.program.rotation import rfc3339

    when = _parse_at(at)
    chosen = _stack_config(Path("."), stack, config, force_stack)
    stack = chosen.stack
    try:
        loaded = load_config(chosen.path)
    except ConfigError as err:
        raise _fail(str(err)) from None
    _anchor_warnings(chosen.path, when, at)
    try:
        data = read_outputs(stack, outputs)
        reports = assess(data, loaded, when, warn_days)
    except OutputsError as err:
        raise _fail(str(err)) from None
    code = exit_code(reports)
    adopted = adopted_secrets(loaded, data, reports, when, lambda: graph_reader(os.environ))
    checks = None
    if verify:
        from provisioner.cli.verify import combined_exit_code, verify_held_secrets

        checks = verify_held_secrets(data, loaded, os.environ)
        code = combined_exit_code(code, checks)
    if output_format is ReportFormat.JSON:
        typer.echo(
            json.dumps(
                {
                    "stack": stack,
                    "config": str(chosen.path),
                    "at": rfc3339(when),
                    "warn_days": warn_days,
                    "exit_code": code,
                    "integrations": [r.to_json() for r in reports],
                    **({"verify": [c.to_json() for c in checks]} if checks is not None else {}),
                    **({"adopted": adopted.to_json()} if adopted is not None else {}),
                },
                indent=2,
            )
        )
    elif output_format is ReportFormat.MARKDOWN:
        gantt = _timeline(chosen.path).mermaid(when, stack)
        typer.echo(status_markdown(reports, stack, rfc3339(when), gantt), nl=False)
    else:
        console = _stdout()
        render_status(reports, f"Client secrets, stack {stack}, as of {rfc3339(when)}", console)
        if timeline:
            _timeline(chosen.path).print(when, console)
        if checks is not None:
            from provisioner.cli.verify import render_checks

            render_checks(checks, console)
        if adopted is not None:
            console.print("\n".join(adopted.lines()), markup=False, soft_wrap=True)
    from provisioner.cli.alerts import status_alert

    if line := status_alert(
        stack, rfc3339(when), code, reports, checks, os.environ, alert_on.value, alert_format.value
    ):
        _fail(line)  # a line on stderr only: what was posted, or a warning; never changes the exit code
    raise typer.Exit(code)


@app.command(short_help="Read-only report and import file for adopting an existing app registration.")
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


@app.command(short_help="Compare two plans, e.g. base and pull request.")
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


@app.command(short_help="Integrations known: resource API, scopes and consent; KEY for one in full.")
def catalog(
    key: Annotated[
        str | None, typer.Argument(help="One integration key (e.g. sharepoint): show it in full.", show_default=False)
    ] = None,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="text, json, or markdown (docs/integrations.md).")
    ] = ReportFormat.TEXT,
) -> None:
    """List the integrations this provisioner knows: resource API, scopes and who can consent to them,
    defaults, audiences, extras. With KEY, one integration in full. Exit 2 for an unknown KEY."""
    from provisioner.catalog import CATALOG
    from provisioner.cli.catalog_report import catalog_json, catalog_markdown, catalog_text, entry_json, entry_text

    width = _stdout().width
    if key is not None:
        entry = CATALOG.get(key)
        if entry is None:
            close = difflib.get_close_matches(key, list(CATALOG), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            typer.echo(
                f"catalog: unknown integration key {key!r}. Fix: use one of {', '.join(CATALOG)}{hint}", err=True
            )
            raise typer.Exit(2)
        if output_format is ReportFormat.JSON:
            typer.echo(json.dumps(entry_json(entry), indent=2))
        else:
            typer.echo(entry_text(entry, width), nl=False)
        return
    if output_format is ReportFormat.JSON:
        typer.echo(json.dumps(catalog_json(), indent=2))
    elif output_format is ReportFormat.MARKDOWN:
        typer.echo(catalog_markdown(), nl=False)
    else:
        typer.echo(catalog_text(width), nl=False)


@app.command(short_help="Read-only preflight before `pulumi up` (exit 1 when a check fails).")
def doctor(
    stack: StackOption = None,
    config: ConfigOption = None,
    force_stack: ForceStackOption = False,
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


@app.command(short_help="Write the config's JSON Schema (editors validate YAML with it).")
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
