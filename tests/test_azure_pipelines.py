"""The Azure Pipelines templates, of this repository and of the example config repo, checked offline.

``check-jsonschema --builtin-schema vendor.azure-pipelines`` checks their structure (with the
``azure-pipelines`` data transform, which unpacks ``${{ if }}``/``${{ each }}`` blocks, and the non-unicode
regex variant the vendored schema needs). Then the house rules the schema does not know: pinned task
versions, sign-in only through a workload-identity-federation service connection, one queued deployment per
stack, doctor before ``pulumi up``, no template expression or dotted macro inside a script, and the
stack-listing step and the secret-variable guard run for real.
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
PIPELINE_DIRS = [ROOT / ".azure-pipelines", ROOT / "examples" / "config-repo" / ".azure-pipelines"]
PIPELINES = sorted(p for d in PIPELINE_DIRS for p in d.glob("*.yml"))
BIN = Path(sys.executable).parent
LINT_TIMEOUT_SECONDS = 120
PINNED_TASKS = {"AzureCLI@2", "UsePythonVersion@0"}
"""Every task, by name and major version (Azure Pipelines runs the newest minor of a pinned major)."""
DOTTED_MACRO = re.compile(r"\$\([A-Za-z_][A-Za-z0-9_]*\.[A-Za-z0-9_.]+\)")


def _relative(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _walk(node: Any) -> list[dict[str, Any]]:
    """Every mapping in the document, template-expression blocks included."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def _steps(pipeline: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in _walk(pipeline) if "script" in m or "task" in m]


def _scripts(pipeline: dict[str, Any]) -> list[str]:
    return [str(s.get("script") or s.get("inputs", {}).get("inlineScript", "")) for s in _steps(pipeline)]


def _jobs(pipeline: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in _walk(pipeline) if "job" in m or "deployment" in m]


def test_both_places_have_the_three_pipelines() -> None:
    for folder in PIPELINE_DIRS:
        assert sorted(p.name for p in folder.glob("*.yml")) == ["deploy.yml", "pr.yml", "scheduled.yml"], folder


def test_check_jsonschema_azure_pipelines_schema() -> None:
    exe = BIN / "check-jsonschema"
    assert exe.is_file(), f"{exe} missing: install the dev dependencies (pip install -e '.[dev]')"
    done = subprocess.run(
        [
            str(exe),
            "--builtin-schema",
            "vendor.azure-pipelines",
            "--data-transform",
            "azure-pipelines",
            "--regex-variant",
            "nonunicode",
            *_relative(PIPELINES),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=LINT_TIMEOUT_SECONDS,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "validation done" in done.stdout


@pytest.mark.parametrize("path", PIPELINES, ids=_relative(PIPELINES))
def test_tasks_pinned_and_sign_in_by_federation_only(path: Path) -> None:
    pipeline, text = _load(path), path.read_text(encoding="utf-8")
    tasks = [s["task"] for s in _steps(pipeline) if "task" in s]
    assert tasks and set(tasks) <= PINNED_TASKS, tasks
    for step in _steps(pipeline):
        if step.get("task") == "AzureCLI@2":
            inputs = step["inputs"]
            assert inputs["addSpnToEnvironment"] is True and inputs["scriptType"] == "bash"
            assert inputs["azureSubscription"].startswith("${{ parameters.")
            script = inputs["inlineScript"]
            assert 'ARM_USE_OIDC=true ARM_CLIENT_ID="$servicePrincipalId" ARM_TENANT_ID="$tenantId"' in script
            assert 'ARM_OIDC_TOKEN="$idToken"' in script
    for word in ("servicePrincipalKey", "ARM_CLIENT_SECRET", "client-secret", "curl -fsSL https://get.pulumi.com |"):
        assert word not in text, f"{word}: a stored secret or an unverified installer"
    assert "sha256sum -c -" in text, "the Pulumi CLI download is checked against its release checksums"


@pytest.mark.parametrize("path", PIPELINES, ids=_relative(PIPELINES))
def test_no_expression_inside_a_script_and_bounded_jobs(path: Path) -> None:
    pipeline = _load(path)
    for script in _scripts(pipeline):
        assert "${{" not in script and "$[" not in script, "pass values to scripts through env"
        assert not DOTTED_MACRO.search(script), "pass predefined variables to scripts through env"
    for job in _jobs(pipeline):
        assert job.get("timeoutInMinutes"), f"{job.get('job') or job.get('deployment')}: unbounded job"
    for step in _steps(pipeline):
        env = step.get("env", {})
        for name in ("PULUMI_ACCESS_TOKEN", "PARAGON_PASSWORD", "PARAGON_ACCESS_TOKEN", "SYSTEM_ACCESSTOKEN"):
            if name in env:
                assert env[name] in (f"$({name})", "$(System.AccessToken)"), "secrets reach a step only through env"
    assert pipeline["pool"] == {"vmImage": "ubuntu-latest"}


@pytest.mark.parametrize("path", PIPELINES, ids=_relative(PIPELINES))
def test_what_each_pipeline_does(path: Path) -> None:
    pipeline, text = _load(path), path.read_text(encoding="utf-8")
    scripts = "\n".join(_scripts(pipeline))
    in_repo = path.parent == PIPELINE_DIRS[0]
    assert ("bash scripts/test.sh" in scripts) is (in_repo and path.name != "scheduled.yml")
    stacks = next(p for p in pipeline["parameters"] if p["name"] == "stacks")
    assert stacks["default"] == (["dev"] if in_repo else ["staging", "prod"])
    if path.name == "pr.yml":
        assert pipeline["trigger"] == "none" and pipeline["pr"] == {"branches": {"include": ["main"]}}
        assert ".venv/bin/python -m provisioner validate --format azure-pipelines" in scripts
        assert "<!-- provisioner-plan-diff -->" in text and "--format markdown" in scripts
        assert "pulumi preview --stack" in scripts and "--policy-pack policy" in scripts
        assert "pulumi up" not in scripts, "a pull request never deploys"
        assert not [m for m in _walk(pipeline) if "deployment" in m], "previews never take a stack's deployment lock"
        return
    assert pipeline["lockBehavior"] == "sequential", "queued runs of a stack all run, in order, none cancelled"
    deployments = [m for m in _walk(pipeline) if "deployment" in m]
    assert deployments and all(d["environment"] == "paragon-${{ stack }}" for d in deployments)
    for deployment in deployments:
        steps = deployment["strategy"]["runOnce"]["deploy"]["steps"]
        up_script = next(s["inputs"]["inlineScript"] for s in steps if s.get("task") == "AzureCLI@2")
        assert up_script.index("provisioner doctor") < up_script.index("pulumi up --stack"), "doctor first"
        assert '"$PROVISIONER_CONFIG" --stack "$STACK"' in up_script
    if path.name == "deploy.yml":
        assert pipeline["trigger"] == {"branches": {"include": ["main"]}} and pipeline["pr"] == "none"
    else:
        schedule = pipeline["schedules"][0]
        assert re.fullmatch(r"\d+ \d+ \* \* \*", schedule["cron"]), "daily"
        assert schedule["always"] == "true" and schedule["branches"] == {"include": ["main"]}
        assert '--warn-days "$WARN_DAYS"' in scripts and "provisioner status" in scripts
        assert 'pulumi refresh --stack "$STACK" --preview-only --expect-no-changes' in scripts
        drift = next(m for m in _walk(pipeline) if m.get("job") == "drift")
        assert drift["dependsOn"] == "rotate" and drift["condition"] == "not(canceled())"


@pytest.mark.parametrize("path", [p for p in PIPELINES if p.name != "scheduled.yml"], ids=str)
def test_stacks_parameter_is_checked_against_the_stack_files(path: Path, tmp_path: Path) -> None:
    pipeline = _load(path)
    config_dir = pipeline["variables"]["CONFIG_DIR"]
    folder = tmp_path / config_dir
    folder.mkdir(exist_ok=True)
    script = next(s for s in _scripts(pipeline) if "$STACKS" in s)

    def run(stacks: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ["PATH"], "CONFIG_DIR": config_dir, "STACKS": stacks}
        return subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)

    others = ["Pulumi.yaml", "Pulumi.dev.yaml", "defaults.yaml", "provisioner.schema.json", "x.schema.yaml", "notes.md"]
    for name in ["prod.yaml", "dev.yaml", *others]:
        (folder / name).write_text("{}\n", encoding="utf-8")
    assert run("prod dev").returncode == 0
    done = run("dev")
    assert done.returncode == 1
    assert (
        "##vso[task.logissue type=error]the stacks parameter (dev ) is not the stack files (dev prod )" in done.stdout
    )

    (folder / "x]##vso[task.setvariable variable=X]1;$(touch pwned).yaml").write_text("{}\n", encoding="utf-8")
    done = run("prod dev")
    assert done.returncode == 1 and not (tmp_path / "pwned").exists()
    issue = next(line for line in done.stdout.splitlines() if "not a stack name" in line)
    assert issue.count("]") == 1, "the file name cannot end the logging command's properties"
    assert "%5D##vso[task.setvariable variable=X%5D1%3B$(touch pwned).yaml" in issue


@pytest.mark.parametrize("path", PIPELINES, ids=_relative(PIPELINES))
def test_undefined_secret_variables_are_unset_not_passed_as_macro_text(path: Path) -> None:
    """Azure Pipelines leaves ``$(NAME)`` as literal text when a variable group lacks NAME: each script that
    maps secrets unsets those, so ``PARAGON_PASSWORD`` is never the string ``$(PARAGON_PASSWORD)``."""
    for script in _scripts(_load(path)):
        if "pulumi login" not in script:
            continue
        guard = script.split("done\n", 1)[0] + "done\n"
        assert guard.lstrip().startswith(("set -euo pipefail\nfor name in", "set -uo pipefail\nfor name in")), guard
        probe = guard + 'echo "token=${PULUMI_ACCESS_TOKEN-unset} passphrase=${PULUMI_CONFIG_PASSPHRASE-unset}"\n'
        env = {"PATH": os.environ["PATH"], "PULUMI_ACCESS_TOKEN": "$(PULUMI_ACCESS_TOKEN)"}
        env["PULUMI_CONFIG_PASSPHRASE"] = "real value"
        done = subprocess.run(["bash", "-c", probe], env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "token=unset passphrase=real value"


def test_plan_diff_step_builds_one_marked_comment(tmp_path: Path) -> None:
    """The pull request pipeline's plan-diff script, on a base and a head checkout with this repository's CLI."""
    for side in ("base", "head"):
        folder = tmp_path / side
        (folder / "config").mkdir(parents=True)
        for name in ("Pulumi.yaml", "__main__.py", "config/dev.yaml"):
            (folder / name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
        (folder / ".venv").symlink_to(BIN.parent)
    head_dev = tmp_path / "head" / "config" / "dev.yaml"
    head_dev.write_text(head_dev.read_text(encoding="utf-8").replace("generation: 0", "generation: 1"), "utf-8")
    (tmp_path / "head" / "config" / "qa.yaml").write_text(head_dev.read_text(encoding="utf-8"), "utf-8")
    git = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"}
    git |= {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t"}
    git |= {"GIT_COMMITTER_EMAIL": "t@example.com"}
    for side in ("base", "head"):
        for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", side]):
            subprocess.run(["git", *argv], cwd=tmp_path / side, env=git, check=True, capture_output=True, timeout=30)

    pipeline = _load(PIPELINE_DIRS[0] / "pr.yml")
    script = next(s for s in _scripts(pipeline) if "provisioner diff" in s)
    env = {**git, "CONFIG_DIR": pipeline["variables"]["CONFIG_DIR"]}
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=LINT_TIMEOUT_SECONDS
    )
    comment = (tmp_path / "comment.md").read_text(encoding="utf-8")
    assert done.returncode == 0, done.stderr + comment
    assert comment.startswith("<!-- provisioner-plan-diff -->\n## Provisioner plan: base ")
    assert comment.count("<!-- provisioner-plan-diff -->") == 1, "one marker: the comment is found and updated"
    headings = [line for line in comment.splitlines() if line.startswith("### ")]
    for stack in ("dev", "qa"):
        assert sum(bool(re.search(rf"\bstack\W+{stack}\b", h, re.IGNORECASE)) for h in headings) == 1, headings
    assert "compared with no plan" in comment and "diff failed" not in comment
    assert done.stdout.splitlines()[-1] == f"##vso[task.uploadsummary]{tmp_path}/comment.md"


def test_the_docs_name_what_the_pipelines_hold() -> None:
    docs = (ROOT / "docs" / "azure-pipelines.md").read_text(encoding="utf-8")
    versions = {_load(p)["variables"]["PULUMI_VERSION"] for p in PIPELINES}
    assert len(versions) == 1, "one Pulumi CLI version in all six pipelines"
    for word in ("pr.yml", "deploy.yml", "scheduled.yml", "PULUMI_VERSION", "lockBehavior: sequential"):
        assert word in docs, word
    for path in PIPELINES:
        for parameter in _load(path)["parameters"]:
            assert f"`{parameter['name']}`" in docs, f"{path.name}: parameter {parameter['name']} undocumented"
    assert "api://AzureADTokenExchange" in docs and "sc://<organization>/<project>/<service-connection-name>" in docs
