"""Kinds of hostile input found by an adversarial review, one table per kind.

Each table pins the one-line message (or the exit code) the CLI gives, and that nothing is echoed raw:
deep JSON, unbounded files, control characters, calendar edges, YAML aliases, pasted secrets, numbers.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import pytest
from conftest import VALID_CONFIG
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from provisioner.cli import doctor
from provisioner.cli.app import app
from provisioner.cli.diff import DiffInputError, diff_plans, read_plan, render_json, render_markdown, render_text
from provisioner.cli.doctor.base import Facts
from provisioner.cli.doctor.rotation import load_outputs
from provisioner.cli.status import OutputsError, parse_outputs_json
from provisioner.config import ALL_KEYS, MAX_GENERATION, IntegrationConfig, SecretPolicy, load_config
from provisioner.config.safe_io import MAX_FILE_BYTES, loads_json, read_text_capped
from provisioner.config.secret_guard import is_secret_key, looks_like_secret_value
from provisioner.config.stackfile import StackFileError, env_config, resolve
from provisioner.config.yaml_source import format_path, shown
from provisioner.errors import ConfigError, escape_controls
from provisioner.program.rotation import MAX_YEAR, MIN_YEAR, parse_rfc3339, rotation_state

Writer = Callable[..., Path]
runner = CliRunner()
DEEP = "[" * 100_000 + "]" * 100_000
HEAD = VALID_CONFIG.split("integrations:")[0]  # paragon: + project_id (lines 1-2)
ONE_LINE = re.compile(r"^[^\n]+\n?$")
RAW_CONTROLS = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]")


def refusal(write_config: Writer, text: str) -> str:
    """The single problem line of a config text that must be refused."""
    with pytest.raises(ConfigError) as raised:
        load_config(write_config(text))
    assert len(raised.value.problems) == 1, raised.value.problems
    line = raised.value.problems[0]
    assert not RAW_CONTROLS.search(str(raised.value)), "a message never carries a raw control character"
    return line


# --- kind 1: JSON nested deeper than Python recurses ----------------------------------------------------


def test_loads_json_turns_depth_into_a_value_error() -> None:
    with pytest.raises(ValueError, match="nested more than 100 levels deep"):
        loads_json(DEEP)
    with pytest.raises(ValueError, match="nested more than 100 levels deep"):
        loads_json("[" * 150 + "]" * 150)  # parses, but deeper than any plan or outputs document
    assert loads_json('{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}


def test_every_json_reader_reports_deep_nesting_as_bad_input(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP, encoding="utf-8")
    with pytest.raises(DiffInputError, match=rf"^{re.escape(str(deep))}: not JSON \(nested more than 100"):
        read_plan(deep)
    with pytest.raises(OutputsError, match=r"^stack outputs: no JSON object found"):
        parse_outputs_json('{"a":' * 5_000 + "[", "stack outputs")  # deep, and no complete object inside
    with pytest.raises(OutputsError, match=r"^out\.json: no JSON object found"):
        parse_outputs_json('{"a": ' + DEEP + "}", "out.json")
    row = load_outputs(
        doctor.DoctorDeps(env={}),
        doctor.DoctorOptions(stack="dev", config_file=tmp_path / "dev.yaml", outputs_file=deep),
        Facts(),
    )
    assert row is not None and row.status is doctor.Status.FAILED and str(deep) in row.detail


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["diff", "{deep}", "{deep}"], 1, r"deep\.json: not JSON \(nested more than 100 levels deep\)"),
        (["status", "--config", "{config}", "--outputs", "{deep}"], 1, r"deep\.json: no JSON object found"),
    ],
    ids=["diff", "status"],
)
def test_cli_deep_json_is_one_line(
    tmp_path: Path, write_config: Writer, args: list[str], code: int, message: str
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP, encoding="utf-8")
    config = write_config(VALID_CONFIG)
    result = runner.invoke(app, [a.format(deep=deep, config=config) for a in args])
    assert result.exit_code == code, result.output
    assert re.search(message, result.output) and "Error" not in result.output and ONE_LINE.match(result.output)


# --- kind 8: bounded reads: size cap and regular files only ---------------------------------------------


def _special(tmp_path: Path, kind: str) -> Path:
    if kind == "dev-zero":
        return Path("/dev/zero")
    if kind == "directory":
        path = tmp_path / "a-dir.yaml"
        path.mkdir()
        return path
    if kind == "fifo":
        path = tmp_path / "pipe.yaml"
        os.mkfifo(path)
        return path
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    return path


SPECIALS = ["dev-zero", "directory", "fifo", "too-large"]
REASON = {
    "dev-zero": "not a regular file",
    "directory": "not a regular file",
    "fifo": "not a regular file",
    "too-large": "larger than 10 MiB",
}


@pytest.mark.parametrize("kind", SPECIALS)
def test_read_text_capped_refuses_what_is_not_a_small_regular_file(tmp_path: Path, kind: str) -> None:
    with pytest.raises(OSError, match=REASON[kind]):
        read_text_capped(_special(tmp_path, kind))


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "too-large"])  # a directory is a folder to validate
@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["status", "--config", "{config}", "--outputs", "{special}"], 1),
        (["diff", "{special}", "{special}"], 1),
        (["validate", "{special}"], 1),
        (["plan", "--config", "{special}", "--stack", "{stack}", "--force-stack"], 1),
    ],
    ids=["status-outputs", "diff-plan", "validate-config", "plan-config"],
)
def test_cli_never_reads_an_unbounded_file(
    tmp_path: Path, write_config: Writer, kind: str, args: list[str], code: int
) -> None:
    special = _special(tmp_path, kind)
    stack = special.name.removesuffix(".yaml")
    config = write_config(VALID_CONFIG)
    result = runner.invoke(app, [a.format(special=special, config=config, stack=stack) for a in args])
    assert result.exit_code == code, result.output
    assert REASON[kind] in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("kind", ["too-large"])  # only a regular file is taken for either (is_file)
def test_defaults_and_pulumi_stack_files_are_bounded_too(tmp_path: Path, write_config: Writer, kind: str) -> None:
    config = write_config(VALID_CONFIG)
    special = _special(tmp_path, kind)
    special.rename(config.parent / "defaults.yaml")
    with pytest.raises(ConfigError, match=rf"defaults\.yaml: cannot read the file \({REASON[kind]}\)"):
        load_config(config)

    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: p\nruntime: python\n", encoding="utf-8")
    _special(tmp_path / "project", kind).rename(project / "Pulumi.dev.yaml")
    with pytest.raises(StackFileError, match=rf"Pulumi\.dev\.yaml: cannot read it \({REASON[kind]}\)"):
        resolve(project, stack="dev", config=None, env={})


# --- kind 2: control and invisible characters -----------------------------------------------------------

CONTROLS = [
    ("key-escape-newline", '  "evil\\x1b[2Jkey\\nFAKE.yaml:1: ok": 1\n', r"\x1b, \x0a", "paragon.evil\\x1b[2Jkey"),
    ("value-ansi-bidi", '    display_name: "a\\x1b[31mRED\\u202e"\n', r"\x1b, \u202e", "display_name"),
    ("value-zero-width", '    display_name: "Power\\u200bBI"\n', r"\u200b", "display_name"),
    ("value-tab", '    display_name: "a\\tb"\n', r"\x09", "display_name"),
    ("value-block-newline", "    display_name: |\n      one\n      two\n", r"\x0a", "display_name"),
    ("owner-line-separator", '    owners: ["x\\u2028y"]\n', r"\u2028", "owners[0]"),
    ("paragon-values-bom", '    paragon_values: {"\\ufeffkey": v}\n', r"\ufeff", "paragon_values.\\ufeffkey"),
]


@pytest.mark.parametrize(("case", "line", "chars", "key"), CONTROLS, ids=[c[0] for c in CONTROLS])
def test_control_characters_are_refused_and_shown_escaped(
    write_config: Writer, case: str, line: str, chars: str, key: str
) -> None:
    if case.startswith("key"):
        text = VALID_CONFIG.replace("paragon:\n", "paragon:\n" + line)
    else:
        text = VALID_CONFIG + line
    message = refusal(write_config, text)
    assert f"contains the control or invisible character(s) {chars}, which no config value needs" in message
    assert key in message and "Fix: retype" in message


def test_message_helpers_escape_whatever_they_echo() -> None:
    assert format_path(("a\nb", 0, "c\x1b")) == "a\\x0ab[0].c\\x1b"
    assert shown("x\u202ey") == "x\\u202ey"
    assert escape_controls("tag\U000e0041") == "tag\\U000e0041"
    assert escape_controls("plain text: ok") == "plain text: ok"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("  config/dev.yaml\n", "config/dev.yaml"), ("   ", None), ("", None)],
)
def test_provisioner_config_is_trimmed(value: str, expected: str | None) -> None:
    assert env_config({"PROVISIONER_CONFIG": value}) == expected


@pytest.mark.parametrize("value", ["config/dev.yaml\x1b[2J", "config/\u202elmay.ved", "config/dev\n.yaml"])
def test_provisioner_config_with_control_characters_is_refused_without_its_value(value: str) -> None:
    with pytest.raises(StackFileError) as raised:
        env_config({"PROVISIONER_CONFIG": value})
    assert raised.value.usage is True
    assert str(raised.value).startswith("PROVISIONER_CONFIG contains control or invisible characters")
    assert "dev" not in str(raised.value) and "ved" not in str(raised.value)


# --- kind 3: evaluation times near the calendar's edges -------------------------------------------------


@pytest.mark.parametrize(
    "at", ["9999-12-31", "0001-01-01", "1999-12-31", "3000-01-01", "2999-12-31T23:00:00-05:00", "9999-12-31T23:59Z"]
)
@pytest.mark.parametrize("command", ["plan", "status"])
def test_at_outside_the_supported_range_is_a_usage_error(
    write_config: Writer, tmp_path: Path, command: str, at: str
) -> None:
    outputs = tmp_path / "out.json"
    outputs.write_text("{}", encoding="utf-8")
    extra = ["--outputs", str(outputs)] if command == "status" else []
    result = runner.invoke(app, [command, "--config", str(write_config(VALID_CONFIG)), "--at", at, *extra])
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"--at: expected YYYY-MM-DD or an RFC 3339 time from 2000-01-01 to 2999-12-31 (UTC), got {at!r}\n"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9999-12-31", "'9999-12-31' is outside the supported range 2000-01-01 to 2999-12-31 (UTC)"),
        ("1999-12-31T23:59:59Z", "'1999-12-31T23:59:59Z' is outside the supported range"),
        ("2000-01-01T00:30:00+01:00", "'2000-01-01T00:30:00+01:00' is outside the supported range"),
        ("2026-01-01T00:00:00", "has no timezone; use a trailing Z for UTC"),
    ],
)
def test_parse_rfc3339_refuses_with_one_line(text: str, message: str) -> None:
    """The stack setting ``at`` gets the same rule and message (program.py wraps it as ``stack config 'at'``)."""
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_rfc3339(text)


@pytest.mark.parametrize("at", ["2000-01-01", "2999-12-31", "2999-12-31T23:59:59Z", "2000-01-01T05:00:00+05:00"])
def test_the_range_edges_are_accepted_and_plan(write_config: Writer, at: str) -> None:
    result = runner.invoke(app, ["plan", "--config", str(write_config(VALID_CONFIG)), "--at", at])
    assert result.exit_code == 0, result.output
    assert MIN_YEAR <= parse_rfc3339(at).year <= MAX_YEAR


@given(
    at=st.datetimes(datetime(MIN_YEAR, 1, 1), datetime(MAX_YEAR, 12, 31, 23, 59, 59), timezones=st.just(UTC)),
    anchor=st.dates(date(1, 1, 1), date(9999, 12, 31)),
    rotation_days=st.integers(1, 364),  # the model allows 365, but then no grace day fits under 730
    grace_days=st.integers(1, 365),
)
def test_rotation_never_overflows_inside_the_range(
    at: datetime, anchor: date, rotation_days: int, grace_days: int
) -> None:
    """Any accepted time, any anchor date Python has, any policy the model accepts: no OverflowError."""
    grace_days = min(grace_days, 730 - 2 * rotation_days)
    policy = SecretPolicy(rotation_days=rotation_days, grace_days=grace_days, max_lifetime_days=730, anchor=anchor)
    state = rotation_state(policy, at)
    assert state.active.issued_at <= at < state.next_rotation
    assert all(s.end_date - s.issued_at == timedelta(days=policy.lifetime_days) for s in state.slots)


# --- kind 4: YAML aliases and merge keys ----------------------------------------------------------------

ALIASES = [
    (
        "scalar",
        "paragon:\n  project_id: &pid 38b1f170-0c43-4eae-9a04-ab85325d99f7\n"
        "integrations:\n  powerbi:\n    display_name: *pid\n",
        5,
        "integrations.powerbi.display_name: YAML alias *pid is not supported in config",
    ),
    (
        "collection",
        HEAD + "integrations:\n  powerbi:\n    scopes: &s [Dataset.Read.All]\n  outlook:\n\n    scopes: *s\n",
        8,
        "integrations.outlook.scopes: YAML alias *s is not supported in config",
    ),
    (
        "merge",
        "base: &a {base_url: https://zeus.useparagon.com}\n"
        "paragon:\n  project_id: 38b1f170-0c43-4eae-9a04-ab85325d99f7\n  <<: *a\n"
        "integrations:\n  powerbi: {}\n",
        4,
        "paragon.<<: YAML merge keys (<<: *name) are not supported in config",
    ),
    (
        "alias-as-key",
        HEAD + "  k: &k redirect_uri\n  *k : https://x.example.com\nintegrations:\n  powerbi: {}\n",
        4,
        "paragon: a key must be a plain name, not an alias",
    ),
]


@pytest.mark.parametrize(("case", "text", "line", "message"), ALIASES, ids=[a[0] for a in ALIASES])
def test_aliases_are_refused_at_the_alias_line(
    write_config: Writer, case: str, text: str, line: int, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write_config(text))
    found = [p for p in raised.value.problems if re.search(r"YAML alias|YAML merge|not an alias", p)]
    assert len(found) == 1, raised.value.problems
    assert found[0].startswith(f"{write_config(text)}:{line}: {message}. Fix: ")
    assert "None" not in found[0]


# --- kind 5: secrets pasted into YAML, and plan files shown by diff -------------------------------------

CANARY = "CANARY-4f1c2e9a7b"


@pytest.mark.parametrize(
    "key",
    ["authorization", "bearer", "pat", "sas", "connectionString", "pass", "pw", "auth", "clientSecret", "sasToken"],
)
def test_secret_keys_in_paragon_values_are_refused_without_the_value(write_config: Writer, key: str) -> None:
    message = refusal(write_config, VALID_CONFIG + f"    paragon_values: {{{key}: {CANARY}}}\n")
    assert f"paragon_values.{key}: this key looks like it holds a secret" in message
    assert CANARY not in message


@pytest.mark.parametrize(
    "value",
    [
        f"Bearer {CANARY}-0123456789",
        f"Server=x;Password={CANARY};",
        f"Server=x;Pwd={CANARY}",
        f"DefaultEndpointsProtocol=https;AccountName=a;AccountKey={CANARY}==;",
        f"Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey={CANARY}=",
        f"https://a.blob.core.windows.net/c?sv=2022-11-02&sig={CANARY}%2B",
        f"https://user:{CANARY}@host.example.com",
    ],
)
def test_credential_shaped_values_are_refused_and_plan_never_prints_them(write_config: Writer, value: str) -> None:
    path = write_config(VALID_CONFIG + f"    paragon_values: {{organizationUrl: {json.dumps(value)}}}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert "paragon_values.organizationUrl: this value looks like a client secret or an access token" in str(
        raised.value
    )
    result = runner.invoke(app, ["plan", "--config", str(path), "--at", "2026-01-01"])
    assert result.exit_code == 1 and CANARY not in result.output


@pytest.mark.parametrize(
    "key",
    [
        "requested_access_token_version",
        "rotation_days",
        "display_name",
        "secret_end_date",
        "organizationUrl",
        "tokenUrl",
        "keyId",
        "credentialName",
        "passport",
        "path",
    ],
)
def test_keys_about_secrets_are_not_secrets(key: str) -> None:
    assert not is_secret_key(key)


def test_no_key_of_the_config_model_reads_as_a_secret_key() -> None:
    """``secret:`` is the one model key named like a secret (a policy mapping; a plain value there is refused)."""
    assert [k for k in sorted(ALL_KEYS) if is_secret_key(k)] == ["secret"]


def test_the_models_own_keys_still_load(write_config: Writer) -> None:
    text = VALID_CONFIG + (
        "    display_name: Bearer Analytics Reports\n    requested_access_token_version: 2\n"
        "    secret: {rotation_days: 30, grace_days: 5, max_lifetime_days: 365}\n"
    )
    config = load_config(write_config(text))
    assert config.integrations["powerbi"].display_name == "Bearer Analytics Reports"
    assert not looks_like_secret_value("Basic Information")


def _plan(tmp_path: Path, name: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> Path:
    doc = {
        "project": "p",
        "stack": "dev",
        "at": "2026-01-01T00:00:00Z",
        "resources": [{"name": "r", "type": "pulumi-python:dynamic/paragon:OAuthCredential", "inputs": inputs}],
        "outputs": outputs,
    }
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("output_format", ["text", "markdown", "json"])
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("clientSecret", CANARY),
        ("password", CANARY),
        ("connectionString", f"Server=x;Password={CANARY}"),
        ("organizationUrl", f"Bearer {CANARY}-0123456789"),
        ("apiKey", 12345678),
    ],
)
def test_diff_redacts_secret_keys_and_values_in_every_format(
    tmp_path: Path, output_format: str, key: str, value: Any
) -> None:
    base = _plan(tmp_path, "base.json", {"clientId": "a"}, {})
    head = _plan(tmp_path, "head.json", {"clientId": "b", key: value}, {"nested": {key: value}})
    result = runner.invoke(app, ["diff", str(base), str(head), "--format", output_format])
    assert result.exit_code == 0, result.output
    assert CANARY not in result.output and "12345678" not in result.output
    assert "[secret]" in result.output
    result_diff = diff_plans(read_plan(base), read_plan(head))
    assert all(CANARY not in render(result_diff) for render in (render_text, render_markdown, render_json))


# --- kind 9: numbers --------------------------------------------------------------------------------------


def _int_fields() -> list[tuple[str, str]]:
    """Every integer field of the config model (by annotation), as (YAML block, key)."""
    found = []
    for model, block in ((SecretPolicy, "secret"), (IntegrationConfig, "")):
        for name, info in model.model_fields.items():
            kinds = {type(a) for a in get_args(info.annotation)} | {info.annotation}
            if int in kinds or any(int in {type(x) for x in get_args(a)} for a in get_args(info.annotation)):
                found.append((block, name))
    return found


INT_FIELDS = _int_fields()


def test_every_integer_field_is_found() -> None:
    assert {k for _, k in INT_FIELDS} == {
        "rotation_days",
        "grace_days",
        "max_lifetime_days",
        "generation",
        "requested_access_token_version",
    }


@pytest.mark.parametrize(("block", "key"), INT_FIELDS)
@pytest.mark.parametrize("value", ["2.0", "true", "1.5"])
def test_integer_fields_refuse_floats_and_booleans(write_config: Writer, block: str, key: str, value: str) -> None:
    body = f"    secret:\n      {key}: {value}\n" if block else f"    {key}: {value}\n"
    message = refusal(write_config, VALID_CONFIG + body)
    path = f"integrations.powerbi.{block + '.' if block else ''}{key}"
    assert f"{path}: " in message and f"got {value}" in message
    assert "whole number" in message or "valid integer" in message


def test_generation_is_capped_with_the_reason() -> None:
    SecretPolicy(generation=MAX_GENERATION)
    with pytest.raises(ValueError, match=r"at most 1000000 \(Pulumi keeps numbers as doubles"):
        SecretPolicy(generation=99999999999999999999)


def test_huge_generation_in_yaml_is_one_line(write_config: Writer) -> None:
    message = refusal(write_config, VALID_CONFIG + "    secret:\n      generation: 99999999999999999999\n")
    assert "integrations.powerbi.secret.generation: generation must be at most 1000000" in message


# --- kind 10: model-level errors end without a meaningless "got" ----------------------------------------


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ("    secret: {rotation_days: 200, grace_days: 14, max_lifetime_days: 365}\n", "exceeds max_lifetime_days"),
        ("    secret:\n      grace_days: 300\n      rotation_days: 90\n", "exceeds max_lifetime_days"),
        ("    sign_in_audience: PersonalMicrosoftAccount\n    requested_access_token_version: 1\n", "version 2"),
    ],
)
def test_model_level_errors_have_no_got(write_config: Writer, body: str, rule: str) -> None:
    message = refusal(write_config, VALID_CONFIG + body)
    assert rule in message and ", got" not in message


# --- kind 9: paths that cannot be read as a file: one line naming the file, its kind and the fix ------------

UNREADABLE = {
    # kind: (the reason shown, words of the fix)
    "symlink-loop": ("a symbolic link loop", "point the link at the real file"),
    "dangling-symlink": ("a symbolic link to a missing file", "point the link at an existing file"),
    "directory": ("not a regular file: a directory", "name the file inside it"),
    "fifo": ("not a regular file: a named pipe (FIFO)", "save the content to a file"),
    "through-a-file": ("a part of the path is a file, not a folder", "correct the path"),
    "too-long": ("the path is too long", "use a shorter path"),
    "permission-denied": ("permission denied", "readable for this user"),
}


def _unreadable(tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bad"
    folder.mkdir(exist_ok=True)
    path = folder / f"{kind}.yaml"
    if kind == "symlink-loop":
        path.symlink_to(path.name)
    elif kind == "dangling-symlink":
        path.symlink_to("gone.yaml")
    elif kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "through-a-file":
        (folder / "a-file").write_text("x", encoding="utf-8")
        path = folder / "a-file" / "dev.yaml"
    elif kind == "too-long":
        path = folder / ("x" * 300 + ".yaml")
    else:  # permission denied: chmod 000, and os.open refuses it as it would for a user other than root
        path.write_text(VALID_CONFIG, encoding="utf-8")
        path.chmod(0)
        real_open = os.open

        def refusing_open(name: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if Path(name) == path:
                raise PermissionError(13, "Permission denied", str(name))
            return real_open(name, flags, *args, **kwargs)

        monkeypatch.setattr("provisioner.config.safe_io.os.open", refusing_open)
    return path


COMMANDS = [
    ("validate", ["validate", "{bad}"]),
    ("plan-config", ["plan", "--config", "{bad}", "--stack", "dev", "--force-stack"]),
    ("status-config", ["status", "--config", "{bad}", "--stack", "dev", "--force-stack", "--outputs", "{good}"]),
    ("status-outputs", ["status", "--config", "{config}", "--outputs", "{bad}"]),
    ("diff", ["diff", "{bad}", "{bad}"]),
    ("doctor-config", ["doctor", "--config", "{bad}", "--stack", "dev", "--force-stack", "--offline"]),
    ("doctor-outputs", ["doctor", "--config", "{config}", "--outputs", "{bad}", "--offline"]),
]


UNREADABLE_CASES = [
    pytest.param(command, args, kind, id=f"{command}-{kind}")
    for command, args in COMMANDS
    for kind in UNREADABLE
    # validate takes a directory as a folder of stack files (README, Configuration): not a bad path there
    if not (command == "validate" and kind == "directory")
]


@pytest.mark.parametrize(("command", "args", "kind"), UNREADABLE_CASES)
def test_an_unreadable_path_is_one_line_naming_the_file_and_the_fix(
    tmp_path: Path, write_config: Writer, monkeypatch: pytest.MonkeyPatch, kind: str, command: str, args: list[str]
) -> None:
    config = write_config(VALID_CONFIG)
    good = tmp_path / "outputs.json"
    good.write_text("{}", encoding="utf-8")
    bad = _unreadable(tmp_path, kind, monkeypatch)

    result = runner.invoke(app, [a.format(bad=bad, good=good, config=config) for a in args])

    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, result.output
    reason, fix = UNREADABLE[kind]
    [line] = [line for line in result.output.splitlines() if reason in line]
    assert str(bad) in line and "Fix: " in line and fix in line.split("Fix: ", 1)[1], line
    assert "Traceback" not in result.output and "This is a bug" not in result.output
