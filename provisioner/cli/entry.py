"""The command line's entry point: runs the typer app and turns any escaped exception into one line.

Every command reports expected failures itself (one line, an exit code). Anything that still escapes is
either one of the package's own errors (`ProvisionerError`: its message is printed, exit 1) or a bug: then
one line names the exception type and says how to see the traceback, exit 1. Either line is scrubbed of every
secret the process holds (`provisioner.transport.scrub.scrub_message`) first. With ``--debug`` anywhere
before a ``--`` argument, or ``PROVISIONER_DEBUG=1`` in the environment, the full traceback is printed
instead.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Final

import typer

from provisioner.cli.app import app
from provisioner.errors import ProvisionerError

PROG_NAME: Final = "python -m provisioner"
DEBUG_FLAG: Final = "--debug"
DEBUG_ENV: Final = "PROVISIONER_DEBUG"
_MESSAGE_LIMIT: Final = 300


def _debug_requested(args: list[str], env: dict[str, str] | os._Environ[str]) -> bool:
    """True (and ``--debug`` removed from ``args``) when a traceback is wanted."""
    end = args.index("--") if "--" in args else len(args)
    wanted = DEBUG_FLAG in args[:end]
    if wanted:
        args.remove(DEBUG_FLAG)
    return wanted or env.get(DEBUG_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MESSAGE_LIMIT else line[: _MESSAGE_LIMIT - 3] + "..."


def _scrubbed(text: str) -> str:
    from provisioner.transport.scrub import scrub_message  # lazy: only an error pays for it

    return scrub_message(text)


QUIET_LOGGERS: Final = ("azure", "msal", "urllib3")
"""Libraries that log their own failures (e.g. azure-identity's "AzureCliCredential.get_token failed") at
WARNING. With no handler configured, Python prints those on stderr as they are; every such failure already
reaches the user as the command's own one line, so they get a null handler unless ``--debug`` is given."""


def _quiet_libraries() -> None:
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``).

    Returns:
        The process exit code (the command's own; 1 when an exception escaped it).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    # No pydantic plugins are used here, and looking for them scans the entry points of every installed
    # distribution when the first model class is built: about 40 ms of every command (docs/performance.md).
    # pydantic reads this switch at that moment, which comes later (models load inside commands); a value the
    # user set is kept. Here, not in __main__, so the `provisioner` console script gets it too.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    debug = _debug_requested(args, os.environ)
    if not debug:
        _quiet_libraries()
    try:
        app(args=args, prog_name=PROG_NAME)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except ProvisionerError as err:
        if debug:
            traceback.print_exception(err)
        else:
            typer.echo(_scrubbed(str(err)), err=True)
        return 1
    except Exception as err:  # noqa: BLE001 - the one place an unexpected error becomes one line
        if debug:
            traceback.print_exception(err)
        else:
            typer.echo(
                f"error: unexpected {type(err).__name__}: {_one_line(_scrubbed(str(err)))}. This is a bug in the "
                f"provisioner; rerun with {DEBUG_FLAG} (or {DEBUG_ENV}=1) to see the traceback, and report it",
                err=True,
            )
        return 1
    return 0
