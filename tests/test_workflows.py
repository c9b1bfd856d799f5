"""The GitHub Actions workflows, of this repository and of the example config repo, checked offline.

Two linters from PyPI run over every workflow file: ``zizmor --offline`` (security: unpinned actions,
template injection, excessive permissions, persisted credentials) and ``check-jsonschema --builtin-schema
vendor.github-workflows`` (structure). Then the house rules the linters do not know: actions pinned to
the verified commit of a stated version, ``permissions: {}`` at the top, one queued deployment per stack,
no expression inside a shell script, and the stack-matrix step run for real on sample config folders.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_DIRS = [ROOT / ".github" / "workflows", ROOT / "examples" / "config-repo" / ".github" / "workflows"]
WORKFLOWS = sorted(p for d in WORKFLOW_DIRS for p in d.glob("*.yml"))
BIN = Path(sys.executable).parent
LINT_TIMEOUT_SECONDS = 120

# Commit of each action's release tag, read from the actions' own repositories (git tags), not guessed.
PINNED = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "pulumi/actions": ("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
    "azure/login": ("f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca", "v3.0.1"),
}
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<action>[^@\s]+)@(?P<ref>\S+)(?:\s+#\s*(?P<comment>\S+))?\s*$")


def _relative(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = BIN / tool
    assert exe.is_file(), f"{exe} missing: install the dev dependencies (pip install -e '.[dev]')"
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN")}
    return subprocess.run(
        [str(exe), *args], cwd=ROOT, capture_output=True, text=True, timeout=LINT_TIMEOUT_SECONDS, env=env
    )


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 (PyYAML) reads a bare `on` key as the boolean True.
    on = workflow["on"] if "on" in workflow else workflow[True]  # type: ignore[index]
    assert isinstance(on, dict)
    return on


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, step) for name, job in workflow["jobs"].items() for step in job.get("steps", [])]


def test_both_places_have_the_three_workflows() -> None:
    for folder in WORKFLOW_DIRS:
        assert sorted(p.name for p in folder.glob("*.yml")) == ["deploy.yml", "pr.yml", "scheduled.yml"], folder


def test_zizmor_offline_finds_nothing() -> None:
    done = _run("zizmor", "--offline", "--no-progress", *_relative(WORKFLOWS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout


def test_check_jsonschema_github_workflows_schema() -> None:
    done = _run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *_relative(WORKFLOWS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "validation done" in done.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=_relative(WORKFLOWS))
def test_actions_pinned_to_the_verified_commit_with_its_version(path: Path) -> None:
    uses = [m for line in path.read_text(encoding="utf-8").splitlines() if (m := USES_LINE.match(line))]
    assert uses, "no actions used?"
    for match in uses:
        action = match["action"]
        assert action in PINNED, f"{action}: not a verified action; find its tag's commit and add it to PINNED"
        assert (match["ref"], match["comment"]) == PINNED[action], match.group(0)


@pytest.mark.parametrize("path", WORKFLOWS, ids=_relative(WORKFLOWS))
def test_least_privilege_and_no_expressions_in_scripts(path: Path) -> None:
    workflow = _load(path)
    assert workflow["permissions"] == {}, "top-level permissions: {} (each job asks for its own)"
    for name, job in workflow["jobs"].items():
        assert isinstance(job.get("permissions"), dict) and job["permissions"], f"{name}: no permissions block"
        assert job.get("timeout-minutes"), f"{name}: unbounded job"
        if "write" in job["permissions"].values():
            assert set(job["permissions"]) <= {"contents", "id-token", "pull-requests"}, name
    for name, step in _steps(workflow):
        assert "${{" not in step.get("run", ""), f"{name}: pass values to run scripts through env"
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False, f"{name}: checkout keeps the token"


@pytest.mark.parametrize("path", WORKFLOWS, ids=_relative(WORKFLOWS))
def test_pulumi_jobs_one_queued_deployment_per_stack(path: Path) -> None:
    workflow = _load(path)
    for name, job in workflow["jobs"].items():
        commands = [s.get("with", {}).get("command") for s in job.get("steps", [])]
        runs = " ".join(s.get("run", "") for s in job.get("steps", []))
        if not ("up" in commands or "preview" in commands or "pulumi refresh" in runs):
            continue
        assert job["strategy"]["fail-fast"] is False, name
        assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}", name
        assert job["permissions"].get("id-token") == "write", name
        group = job["concurrency"]["group"]
        if "up" in commands:
            assert job["concurrency"] == {"group": "pulumi-${{ matrix.stack }}", "cancel-in-progress": False}, name
            assert job["environment"] == "${{ matrix.stack }}", name
            doctor = next(i for i, s in enumerate(job["steps"]) if "provisioner doctor" in s.get("run", ""))
            up = commands.index("up")
            assert doctor < up, f"{name}: doctor must run before pulumi up"
        else:
            assert not group.startswith("pulumi-"), f"{name}: a read-only job would displace a queued deployment"
        login = [s for s in job["steps"] if str(s.get("uses", "")).startswith("azure/login@")]
        assert login and login[0]["with"]["allow-no-subscriptions"] is True, name
        assert "client-secret" not in login[0]["with"] and "creds" not in login[0]["with"], name


@pytest.mark.parametrize("path", WORKFLOWS, ids=_relative(WORKFLOWS))
def test_what_each_workflow_does(path: Path) -> None:
    workflow, text = _load(path), path.read_text(encoding="utf-8")
    on = _triggers(workflow)
    steps = " ".join(str(s.get("run", "")) for _, s in _steps(workflow))
    if path.name == "pr.yml":
        assert "pull_request" in on and "pull_request_target" not in on
        assert "provisioner validate --format github" in steps
        assert "<!-- provisioner-plan-diff -->" in text and "--format markdown" in steps
        assert workflow["jobs"]["comment"]["permissions"] == {"pull-requests": "write"}
        assert "head.repo.full_name == github.repository" in workflow["jobs"]["comment"]["if"]
        preview = next(s for _, s in _steps(workflow) if s.get("with", {}).get("command") == "preview")
        assert preview["with"]["diff"] is True and "policy" in preview["with"]["policyPacks"]
        assert ("bash scripts/test.sh" in steps) is (path.parent == WORKFLOW_DIRS[0])
    elif path.name == "deploy.yml":
        assert on["push"] == {"branches": ["main"]}
    else:
        assert re.fullmatch(r"\d+ \d+ \* \* \*", on["schedule"][0]["cron"]), "daily"
        assert '--warn-days "$WARN_DAYS"' in steps and "provisioner status" in steps
        assert 'pulumi refresh --stack "$STACK" --preview-only --expect-no-changes' in steps
        assert workflow["jobs"]["drift"]["needs"] == ["stacks", "rotate"]


def _run_stacks_step(path: Path, workdir: Path) -> tuple[subprocess.CompletedProcess[str], str | None]:
    """Run the workflow's stack-listing step in ``workdir``; return the process and what it wrote to GITHUB_OUTPUT."""
    workflow = _load(path)
    step = next(s for _, s in _steps(workflow) if s.get("id") == "stacks")
    output = workdir / "github_output"
    output.unlink(missing_ok=True)
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output), "CONFIG_DIR": workflow["env"]["CONFIG_DIR"]}
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done, output.read_text(encoding="utf-8") if output.exists() else None


@pytest.mark.parametrize("path", WORKFLOWS, ids=_relative(WORKFLOWS))
def test_stack_matrix_step_lists_stack_files(path: Path, tmp_path: Path) -> None:
    folder = tmp_path / _load(path)["env"]["CONFIG_DIR"]
    folder.mkdir(exist_ok=True)
    others = ["Pulumi.yaml", "Pulumi.dev.yaml", "defaults.yaml", "provisioner.schema.json", "x.schema.yaml", "notes.md"]
    for name in ["prod.yaml", "dev.yaml", *others]:
        (folder / name).write_text("{}\n", encoding="utf-8")
    done, output = _run_stacks_step(path, tmp_path)
    assert done.returncode == 0, done.stderr
    assert output == 'stacks=["dev", "prod"]\n'

    (folder / "dev.yaml").unlink()
    (folder / "prod.yaml").unlink()
    done, output = _run_stacks_step(path, tmp_path)
    assert done.returncode == 0 and output == "stacks=[]\n", "no stacks: an empty matrix (the jobs are skipped)"

    (folder / "$(touch pwned).yaml").write_text("{}\n", encoding="utf-8")
    done, output = _run_stacks_step(path, tmp_path)
    assert done.returncode == 1 and output is None
    assert "$(touch pwned).yaml::not a stack name" in done.stdout
    assert not (tmp_path / "pwned").exists()


def test_plan_diff_step_builds_one_marked_comment(tmp_path: Path) -> None:
    """The PR workflow's plan-diff script, run on a base and a head checkout with this repository's CLI."""
    for side in ("base", "head"):
        folder = tmp_path / side
        (folder / "config").mkdir(parents=True)
        for name in ("Pulumi.yaml", "__main__.py", "config/dev.yaml"):
            (folder / name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
        (folder / ".venv").symlink_to(BIN.parent)
    head_dev = tmp_path / "head" / "config" / "dev.yaml"
    head_dev.write_text(head_dev.read_text(encoding="utf-8").replace("generation: 0", "generation: 1"), "utf-8")
    (tmp_path / "head" / "config" / "qa.yaml").write_text(head_dev.read_text(encoding="utf-8"), "utf-8")
    (tmp_path / "base" / "config" / "old.yaml").write_text(head_dev.read_text(encoding="utf-8"), "utf-8")

    workflow = _load(WORKFLOW_DIRS[0] / "pr.yml")
    step = next(s for s in workflow["jobs"]["plan-diff"]["steps"] if s.get("id") == "diff")
    output, summary = tmp_path / "github_output", tmp_path / "summary.md"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "CONFIG_DIR": workflow["env"]["CONFIG_DIR"],
        "BASE_SHA": "a" * 40,
        "HEAD_SHA": "b" * 40,
    }
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=LINT_TIMEOUT_SECONDS,
    )
    comment = (tmp_path / "comment.md").read_text(encoding="utf-8")
    assert comment.startswith("<!-- provisioner-plan-diff -->\n## Provisioner plan: base aaaaaaa → head bbbbbbb\n")
    assert comment.count("<!-- provisioner-plan-diff -->\n") == 1, "one marker: the comment is found and updated"
    headings = [line for line in comment.splitlines() if line.startswith("### ")]
    for stack in ("dev", "old", "qa"):  # a section per stack, removed ones included, in name order
        assert sum(bool(re.search(rf"\bstack\W+{stack}\b", h, re.IGNORECASE)) for h in headings) == 1, headings
    assert headings[1] == "### Stack `old`"
    assert "Removed by this pull request" in comment.split("### Stack `old`")[1].split("###")[0]
    assert "compared with no plan" in comment.split(headings[2])[1]
    assert summary.read_text(encoding="utf-8") == comment
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("comment<<EOF_") and lines[-1] == lines[0].removeprefix("comment<<")
    assert "\n".join(lines[1:-1]) + "\n" == comment
    assert done.returncode == 0, done.stderr + comment
    assert "diff failed" not in comment and "Head does not plan" not in comment
