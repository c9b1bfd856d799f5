"""What every doctor check shares: result rows, injectable dependencies, options, and the facts checks pass on.

Every outside dependency is injectable through `DoctorDeps` (environment, PATH lookup, subprocess runner,
clock, HTTP transport), so the checks are tested against fake ``pulumi``/``az`` executables and the HTTP
fake of Paragon. Subprocesses have timeouts; their failures become ``failed`` rows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import httpx

from provisioner.config import ProvisionerConfig
from provisioner.paragon.login import (
    ParagonLogin,
)

if TYPE_CHECKING:
    from provisioner.graph.reader import GraphReader

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
OIDC_TOKEN_SOURCES: Final = (
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


GraphFactory = Callable[[Mapping[str, str]], "GraphReader"]
"""``(env) -> GraphReader``: opens the read-only Microsoft Graph reader (tests inject one on the fake Graph)."""
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
        graph: Opens the Microsoft Graph reader for the tenant checks; None for the default
            (`provisioner.graph.reader.GraphReader` signed in from ``env`` as the azuread provider would be,
            ``PROVISIONER_GRAPH_URL`` / ``AZURE_AUTHORITY_HOST`` honoured, a 20 s budget per read).
    """

    env: Mapping[str, str]
    which: Callable[[str], str | None] | None = None
    run: Runner = run_subprocess
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    transport: httpx.BaseTransport | None = None
    tool_timeout: float = TOOL_TIMEOUT_SECONDS
    graph: GraphFactory | None = None

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
        config_file: The stack's config file (chosen by `provisioner.config.stackfile.resolve`).
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
class Facts:
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


def tail(text: str, limit: int = 300) -> str:
    """The last non-empty line of tool output, shortened (the error, not the banner)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "(no output)"
    return last if len(last) <= limit else last[: limit - 1] + "…"


def run_tool(deps: DoctorDeps, argv: Sequence[str]) -> ToolResult:
    """Run a read-only ``pulumi``/``az`` command through ``deps.run`` within ``deps.tool_timeout`` seconds,
    with Pulumi's update check off.

    Raises:
        ToolError: The executable is missing, could not start, or did not finish in time.
    """
    env = {**deps.env, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    return deps.run(argv, env, deps.tool_timeout)
