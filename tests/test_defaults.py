"""defaults.yaml merged under each stack file: the rules, and errors naming the file each value came from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from provisioner.config import load_config, read_document
from provisioner.config.defaults import merge_defaults
from provisioner.errors import ConfigError

PROJECT = "38b1f170-0c43-4eae-9a04-ab85325d99f7"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def merged(tmp_path: Path, defaults: str, stack: str) -> Any:
    return merge_defaults(
        read_document(write(tmp_path, "s.yaml", stack)), read_document(write(tmp_path, "d.yaml", defaults))
    )


@pytest.mark.parametrize(
    ("defaults", "stack", "expected"),
    [
        ("a: {x: 1, y: 2}\n", "a: {y: 3}\n", {"a": {"x": 1, "y": 3}}),
        ("a: {b: {c: 1, d: 2}}\n", "a: {b: {d: 5}}\n", {"a": {"b": {"c": 1, "d": 5}}}),
        ("a: [1, 2]\n", "a: [3]\n", {"a": [3]}),
        ("a: 1\nb: 2\n", "a: 9\n", {"a": 9, "b": 2}),
        ("a: {x: 1}\n", "a: 7\n", {"a": 7}),
        ("a: {x: 1}\n", "a: null\n", {"a": None}),
        (
            "integrations:\n  powerbi: {scopes: [A]}\n  teams: {scopes: [B]}\n",
            "integrations:\n  powerbi: {}\n",
            {"integrations": {"powerbi": {"scopes": ["A"]}}},
        ),
        (
            "integrations:\n  powerbi: {scopes: [A], activate: true}\n",
            "integrations:\n  powerbi:\n",
            {"integrations": {"powerbi": {"scopes": ["A"], "activate": True}}},
        ),
        (
            "integration_defaults: {activate: true, secret: {rotation_days: 30, grace_days: 5}}\n"
            "integrations:\n  powerbi: {secret: {grace_days: 7}}\n",
            "integrations:\n  powerbi: {scopes: [A], secret: {rotation_days: 60}}\n",
            {
                "integrations": {
                    "powerbi": {"scopes": ["A"], "activate": True, "secret": {"rotation_days": 60, "grace_days": 7}}
                }
            },
        ),
        ("", "a: 1\n", {"a": 1}),
        ("a: 1\n", "", {"a": 1}),
    ],
    ids=[
        "mapping-merges-stack-wins",
        "deep-merge",
        "list-replaced",
        "scalars",
        "stack-scalar-beats-mapping",
        "stack-null-wins",
        "integrations-only-where-listed",
        "bare-integration-key-takes-defaults",
        "integration-defaults-lowest",
        "empty-defaults",
        "empty-stack",
    ],
)
def test_merge_rules(tmp_path: Path, defaults: str, stack: str, expected: dict[str, Any]) -> None:
    assert merged(tmp_path, defaults, stack).data == expected


def test_lines_name_the_file_each_value_came_from(tmp_path: Path) -> None:
    doc = merged(
        tmp_path,
        "paragon:\n  base_url: https://a\nintegration_defaults:\n  secret:\n    grace_days: 3\n",
        "paragon:\n  project_id: x\nintegrations:\n  powerbi:\n    scopes: [A]\n",
    )
    stack, defaults = tmp_path / "s.yaml", tmp_path / "d.yaml"
    assert doc.where(("paragon", "project_id")) == f"{stack}:2"
    assert doc.where(("paragon", "base_url")) == f"{defaults}:2"
    assert doc.where(("integrations", "powerbi", "secret", "grace_days")) == f"{defaults}:5"
    assert doc.where(("integrations", "powerbi", "scopes", 0)) == f"{stack}:5"
    assert doc.where(("integrations", "powerbi", "owners")) == f"{stack}:4"


STACK = f"paragon:\n  project_id: {PROJECT}\nintegrations:\n  powerbi:\n    display_name: Stack app\n"


@pytest.mark.parametrize(
    ("defaults", "expected"),
    [
        (
            "integrations:\n  powerbi:\n    scopes: [Mail.Read]\n",  # a Graph scope on Power BI
            "defaults.yaml:3: integrations.powerbi.scopes[0]",
        ),
        ("paragon:\n  base_url: http://zeus.example.com\n", "defaults.yaml:2: paragon.base_url: base_url must use"),
        (
            "integration_defaults:\n  secret:\n    rotaton_days: 30\n",
            "defaults.yaml:3: integrations.powerbi.secret.rotaton_days: unknown key",
        ),
        ("paragn:\n  base_url: https://x\n", "defaults.yaml:1: paragn: unknown key"),
        ("integration_defaults: [1]\n", "defaults.yaml:1: integration_defaults: must be a mapping"),
        ("paragon: {\n", "defaults.yaml:2: not valid YAML"),
        ("a: 1\na: 2\n", "defaults.yaml:2: a: duplicate key"),
    ],
    ids=["bad-scope", "http-url", "misspelt-in-integration-defaults", "unknown-top", "wrong-shape", "bad-yaml", "dup"],
)
def test_errors_from_defaults_name_defaults_yaml(tmp_path: Path, defaults: str, expected: str) -> None:
    write(tmp_path, "defaults.yaml", defaults)
    stack = STACK if "scopes" in defaults else STACK + "    scopes: [Dataset.Read.All]\n"
    path = write(tmp_path, "prod.yaml", stack)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert any(p.startswith(f"{tmp_path}/{expected}") for p in caught.value.problems), caught.value.problems


def test_stack_file_problems_still_name_the_stack_file(tmp_path: Path) -> None:
    write(tmp_path, "defaults.yaml", "integrations:\n  powerbi:\n    scopes: [Dataset.Read.All]\n")
    path = write(tmp_path, "prod.yaml", STACK.replace("display_name: Stack app", "sign_in_audience: Everyone"))
    with pytest.raises(ConfigError, match=r"prod\.yaml:5: integrations\.powerbi\.sign_in_audience"):
        load_config(path)


def test_valid_stack_with_defaults_loads_merged(tmp_path: Path) -> None:
    write(
        tmp_path,
        "defaults.yaml",
        "paragon:\n  retry_timeout_seconds: 30\nintegration_defaults:\n  secret: {rotation_days: 30}\n"
        "integrations:\n  powerbi:\n    scopes: [Dataset.Read.All]\n    display_name: Default app\n",
    )
    config = load_config(write(tmp_path, "prod.yaml", STACK))
    powerbi = config.integrations["powerbi"]
    assert config.paragon.project_id == PROJECT and config.paragon.retry_timeout_seconds == 30
    assert powerbi.scopes == ["Dataset.Read.All"] and powerbi.display_name == "Stack app"
    assert powerbi.secret.rotation_days == 30 and powerbi.secret.grace_days == 14


def test_defaults_never_add_an_integration(tmp_path: Path) -> None:
    write(tmp_path, "defaults.yaml", "integrations:\n  powerbi:\n    scopes: [Dataset.Read.All]\n")
    path = write(tmp_path, "prod.yaml", f"paragon:\n  project_id: {PROJECT}\n")
    with pytest.raises(ConfigError, match=r"prod\.yaml: integrations: required key is missing"):
        load_config(path)


def test_without_defaults_file_nothing_changes(tmp_path: Path) -> None:
    path = write(tmp_path, "prod.yaml", STACK + "    scopes: [Dataset.Read.All]\n")
    assert load_config(path).integrations["powerbi"].display_name == "Stack app"


def test_integration_defaults_leave_app_level_settings_to_the_shared_apps_owner(tmp_path: Path) -> None:
    """`integration_defaults.secret` applies to the app's owner; an integration with `app:` takes none of it."""
    write(tmp_path, "defaults.yaml", "integration_defaults:\n  activate: true\n  secret:\n    rotation_days: 60\n")
    stack = write(
        tmp_path,
        "prod.yaml",
        f"paragon:\n  project_id: {PROJECT}\nintegrations:\n  outlook: {{}}\n  onedrive:\n    app: outlook\n",
    )
    config = load_config(stack)
    assert config.integrations["outlook"].secret.rotation_days == 60
    assert config.integrations["onedrive"].activate is True, "non-app settings still apply to a sharer"
    assert "secret" not in config.integrations["onedrive"].model_fields_set
