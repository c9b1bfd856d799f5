"""The import rule of `provisioner.cli.app`: commands that need no Pulumi start without it (no timing here).

Each case runs ``python -m provisioner ...`` in a fresh interpreter through a small wrapper that, once the
command has finished, writes the names in ``sys.modules`` to a file. The speed this buys is measured by
``bench/bench.py`` (docs/performance.md), never asserted in tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import VALID_CONFIG

HEAVY = ("pulumi", "pulumi_azuread", "grpc", "google.protobuf", "dill", "httpx")
"""Packages only `plan` (Pulumi) or the dynamic provider (httpx) may load."""

AUDIT = """
import json, runpy, sys
report, sys.argv = sys.argv[1], ["python -m provisioner", *sys.argv[2:]]
code = 0
try:
    runpy.run_module("provisioner", run_name="__main__", alter_sys=True)
except SystemExit as done:
    code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
with open(report, "w", encoding="utf-8") as out:
    json.dump({"exit": code, "modules": sorted(sys.modules)}, out)
"""


def run_audited(args: list[str], cwd: Path, report: Path) -> tuple[int, set[str]]:
    """Run the CLI with ``args``; return its exit code and every module name it had loaded."""
    subprocess.run(
        [sys.executable, "-c", AUDIT, str(report), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    result = json.loads(report.read_text(encoding="utf-8"))
    return int(result["exit"]), set(result["modules"])


def loaded(modules: set[str], package: str) -> bool:
    return any(name == package or name.startswith(package + ".") for name in modules)


@pytest.mark.parametrize(
    ("args", "expected_exit"),
    [
        (["validate", "{good}"], 0),
        (["validate", "{bad}"], 1),
        (["validate"], 0),
        (["--help"], 0),
        (["plan", "--help"], 0),
        (["schema", "--check"], 0),
        (["status", "--outputs", "{outputs}", "--at", "2026-11-29"], 3),
        (["catalog", "--format", "json"], 0),
        (["diff", "{outputs}", "{outputs}"], 1),
    ],
    ids=[
        "validate",
        "validate-invalid",
        "validate-default-files",
        "help",
        "plan-help",
        "schema-check",
        "status",
        "catalog",
        "diff",
    ],
)
def test_commands_without_pulumi_never_import_it(
    project_dir: Path,
    tmp_path: Path,
    write_config: Callable[[str, str], Path],
    args: list[str],
    expected_exit: int,
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text("{}", encoding="utf-8")
    files = {
        "good": write_config(VALID_CONFIG, "good.yaml"),
        "bad": write_config(VALID_CONFIG.replace("powerbi:", "powerbl:"), "bad.yaml"),
        "outputs": outputs,
    }
    argv = [arg.format(**{k: str(v) for k, v in files.items()}) for arg in args]
    code, modules = run_audited(argv, project_dir, tmp_path / "modules.json")
    assert code == expected_exit
    assert "provisioner.cli.app" in modules
    assert [package for package in HEAVY if loaded(modules, package)] == []


def test_plan_does_import_pulumi_so_the_audit_sees_imports(project_dir: Path, tmp_path: Path) -> None:
    code, modules = run_audited(["plan", "--at", "2026-11-29", "--format", "json"], project_dir, tmp_path / "m.json")
    assert code == 0
    assert loaded(modules, "pulumi") and loaded(modules, "pulumi_azuread")
