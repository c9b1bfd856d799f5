"""Which YAML configures which stack: --config > stack setting configFile > PROVISIONER_CONFIG > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.config.stackfile import (
    ENV_CONFIG,
    Source,
    StackFileError,
    files_to_validate,
    program_config_path,
    resolve,
    stack_setting,
    stack_settings,
)

PULUMI_YAML = "name: acme\nruntime: python\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with Pulumi.yaml; stack prod has configFile stacks/prod.yaml."""
    (tmp_path / "Pulumi.yaml").write_text(PULUMI_YAML, encoding="utf-8")
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  acme:configFile: stacks/prod.yaml\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("stack", "config", "env", "expected_stack", "expected_path", "source"),
    [
        (None, None, None, "dev", "config/dev.yaml", Source.DEFAULT),
        ("qa", None, None, "qa", "config/qa.yaml", Source.DEFAULT),
        (None, "x/prod.yaml", None, "prod", "x/prod.yaml", Source.FLAG),
        (None, "x/staging.yml", None, "staging", "x/staging.yml", Source.FLAG),
        ("prod", None, None, "prod", "stacks/prod.yaml", Source.STACK_SETTING),
        ("prod", None, "ci/prod.yaml", "prod", "stacks/prod.yaml", Source.STACK_SETTING),
        (None, None, "ci/prod.yaml", "prod", "stacks/prod.yaml", Source.STACK_SETTING),
        (None, None, "ci/qa.yaml", "qa", "ci/qa.yaml", Source.ENV),
        ("qa", None, "ci/qa.yaml", "qa", "ci/qa.yaml", Source.ENV),
        ("prod", "here/prod.yaml", "ci/qa.yaml", "prod", "here/prod.yaml", Source.FLAG),
    ],
    ids=[
        "nothing-dev",
        "stack-default-path",
        "flag-names-stack",
        "yml-suffix",
        "stack-setting",
        "setting-beats-env",
        "env-stack-then-setting",
        "env",
        "env-matching-stack",
        "flag-beats-all",
    ],
)
def test_precedence(
    project: Path,
    stack: str | None,
    config: str | None,
    env: str | None,
    expected_stack: str,
    expected_path: str,
    source: Source,
) -> None:
    chosen = resolve(
        project, stack=stack, config=Path(config) if config else None, env={ENV_CONFIG: env} if env else {}
    )
    assert (chosen.stack, chosen.source) == (expected_stack, source)
    relative = chosen.path.relative_to(project) if chosen.path.is_absolute() else chosen.path
    assert relative == Path(expected_path)


@pytest.mark.parametrize(
    ("stack", "config", "env", "message"),
    [
        ("prod", "staging.yaml", None, "--stack prod disagrees with --config staging.yaml (stack staging)"),
        ("qa", None, "ci/staging.yaml", "--stack qa disagrees with PROVISIONER_CONFIG ci/staging.yaml"),
        (None, "my stack.yaml", None, "--config: cannot name a stack after 'my stack.yaml'"),
        ("../x", None, None, "--stack: '../x' is not a stack name"),
        (None, "defaults.yaml", None, "defaults.yaml: holds defaults shared by the stack files"),
        (None, None, "conf/defaults.yaml", "conf/defaults.yaml: holds defaults shared"),
    ],
    ids=["flag-mismatch", "env-mismatch", "bad-file-name", "bad-stack", "defaults-as-flag", "defaults-as-env"],
)
def test_usage_errors_exit_2(
    project: Path, stack: str | None, config: str | None, env: str | None, message: str
) -> None:
    with pytest.raises(StackFileError) as caught:
        resolve(project, stack=stack, config=Path(config) if config else None, env={ENV_CONFIG: env} if env else {})
    assert caught.value.usage
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_force_stack_accepts_a_mismatch(project: Path) -> None:
    chosen = resolve(project, stack="prod", config=Path("staging.yaml"), env={}, force_stack=True)
    assert (chosen.stack, chosen.path, chosen.source) == ("prod", Path("staging.yaml"), Source.FLAG)


def test_stack_setting_reads_stack_config_dir_and_plain_key(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(PULUMI_YAML + "stackConfigDir: pulumi\n", encoding="utf-8")
    (tmp_path / "pulumi").mkdir()
    (tmp_path / "pulumi" / "Pulumi.qa.yaml").write_text("config:\n  configFile: qa.yaml\n", encoding="utf-8")
    (tmp_path / "pulumi" / "Pulumi.x.yaml").write_text("encryptionsalt: abc\n", encoding="utf-8")
    assert stack_setting(tmp_path, "qa") == tmp_path / "qa.yaml"
    assert stack_setting(tmp_path, "x") is None and stack_setting(tmp_path, "none") is None
    assert stack_settings(tmp_path) == {"qa": tmp_path / "qa.yaml"}


@pytest.mark.parametrize(
    ("stack_file", "message"),
    [
        ("config: [1, 2]\n", "`config:` must be a mapping"),
        ("config:\n  acme:configFile:\n    secure: AAAB\n", "acme:configFile must be a file path"),
        ("config: {\n", "cannot read it as YAML"),
    ],
    ids=["config-list", "secret-setting", "bad-yaml"],
)
def test_bad_stack_file_is_one_line(project: Path, stack_file: str, message: str) -> None:
    (project / "Pulumi.qa.yaml").write_text(stack_file, encoding="utf-8")
    with pytest.raises(StackFileError, match=message) as caught:
        resolve(project, stack="qa", config=None, env={})
    assert not caught.value.usage


@pytest.mark.parametrize(
    ("stack", "setting", "env", "expected"),
    [
        ("prod", None, None, "config/prod.yaml"),
        ("prod", "stacks/prod.yaml", None, "stacks/prod.yaml"),
        ("prod", "anything.yaml", "ci/staging.yaml", "anything.yaml"),
        ("prod", None, "ci/prod.yaml", "ci/prod.yaml"),
    ],
    ids=["default", "setting", "setting-beats-env", "env"],
)
def test_program_config_path(stack: str, setting: str | None, env: str | None, expected: str) -> None:
    assert program_config_path(stack, setting, {ENV_CONFIG: env} if env else {}) == Path(expected)


@pytest.mark.parametrize("env", ["ci/staging.yaml", "ci/defaults.yaml"])
def test_program_refuses_another_stacks_file_from_the_environment(env: str) -> None:
    with pytest.raises(StackFileError, match=f"PROVISIONER_CONFIG={env} is not the file of stack prod"):
        program_config_path("prod", None, {ENV_CONFIG: env})


def test_files_to_validate(project: Path) -> None:
    config_dir = project / "config"
    config_dir.mkdir()
    for name in ("dev.yaml", "prod.yaml", "defaults.yaml", "Pulumi.dev.yaml", ".hidden.yaml"):
        (config_dir / name).write_text("{}\n", encoding="utf-8")
    found = [p.name for p in files_to_validate([], project, {})]
    assert found == ["dev.yaml", "prod.yaml"]
    assert files_to_validate([], project, {ENV_CONFIG: "ci/qa.yaml"}) == [Path("ci/qa.yaml")]
    named = files_to_validate([config_dir / "defaults.yaml", config_dir / "prod.yaml"], project, {})
    assert [p.name for p in named] == ["dev.yaml", "prod.yaml"]
    for name in ("dev.yaml", "prod.yaml"):
        (config_dir / name).unlink()
    assert files_to_validate([], project, {}) == [project / "stacks" / "prod.yaml"]


def test_the_program_refuses_a_leftover_environment_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pulumi up` of stack prod with PROVISIONER_CONFIG=staging.yaml stops before declaring anything."""
    import pulumi

    from provisioner import program
    from provisioner.cli.plan import RecordingMocks

    mocks = RecordingMocks()
    monkeypatch.setenv(ENV_CONFIG, "staging.yaml")
    pulumi.runtime.set_mocks(mocks, project="acme", stack="prod", preview=True)
    pulumi.runtime.set_all_config({})
    with pytest.raises(pulumi.RunError, match=r"^PROVISIONER_CONFIG=staging.yaml is not the file of stack prod"):
        program.main()
    assert mocks.resources == []
