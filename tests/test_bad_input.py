"""Issue 8: every kind of bad input ends in one clear line. One table per kind; each row pins the message.

Kinds: 1 YAML values the safe loader cannot build, 2 layout, 3 message quality, 4 secrets pasted into
config (canaries), 5 redirect URIs, 6 GUIDs, 8 environment values, 11 CLI output and escaped exceptions,
12 README on destroy; plus the folder of broken configs in tests/bad_configs/.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import VALID_CONFIG
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from provisioner.cli import entry
from provisioner.cli.app import app
from provisioner.cli.status import OutputsError, parse_outputs_json
from provisioner.config import load_config, load_config_report
from provisioner.errors import ConfigError, InvalidEnvironmentValue, ParagonLoginMissing, Problem
from provisioner.paragon.login import base_url_from, login_from
from provisioner.program.app_registration import owner_ids

Writer = Callable[..., Path]
runner = CliRunner()
BAD_CONFIGS = Path(__file__).resolve().parent / "bad_configs"
LINE = re.compile(r"^(?P<file>[^:\n]+)(?::(?P<line>\d+))?: .+$")
HEAD = VALID_CONFIG.split("integrations:")[0]  # paragon: + project_id (lines 1-2)


def problems(write_config: Writer, text: str) -> list[str]:
    """The one-line problems of a config text (fails the test if it loads)."""
    with pytest.raises(ConfigError) as raised:
        load_config(write_config(text))
    lines = raised.value.problems
    assert all("\n" not in p and "Traceback" not in p for p in lines), lines
    return lines


def only_problem(write_config: Writer, text: str) -> str:
    lines = problems(write_config, text)
    assert len(lines) == 1, lines
    return lines[0]


# --- kind 1: values the YAML parser cannot build -------------------------------------------------------

UNBUILDABLE = [
    ("    secret:\n      anchor: 2025-13-01\n", 7, "integrations.powerbi.secret.anchor", r"2025-13-01 reads as a date"),
    ("    display_name: 2023-02-29\n", 6, "integrations.powerbi.display_name", r"2023-02-29 reads as a date .*day"),
    ("    owners: [2024-02-30]\n", 6, r"integrations.powerbi.owners[0]", r"2024-02-30 reads as a date"),
    (
        "    secret:\n      generation: " + "9" * 5000 + "\n",
        7,
        "integrations.powerbi.secret.generation",
        r"more digits",
    ),
    ("    secret:\n      generation: !!int zero\n", 7, "integrations.powerbi.secret.generation", r"!!int zero"),
    ("    secret:\n      rotation_days: !!float ninety\n", 7, "integrations.powerbi.secret.rotation_days", r"number"),
    ("    display_name: !!timestamp soon\n", 6, "integrations.powerbi.display_name", r"reads as a date"),
    ("    display_name: !!binary aGVsbG8=\n", 6, "integrations.powerbi.display_name", r"YAML tag !!binary"),
    ("    display_name: !!binary '%%%'\n", 6, "integrations.powerbi.display_name", r"YAML tag !!binary"),
    ("    display_name: !Ref AppName\n", 6, "integrations.powerbi.display_name", r"YAML tag !Ref"),
    ("    display_name: !!python/name:os.system\n", 6, "integrations.powerbi.display_name", r"!!python/name:os"),
    ("    owners: !!python/object/apply:os.system [ls]\n", 6, "integrations.powerbi.owners", r"!!python/object/apply"),
    ("    owners: !!set {a, b}\n", 6, "integrations.powerbi.owners", r"YAML tag !!set"),
    ("    secret: !!omap [a: 1]\n", 6, "integrations.powerbi.secret", r"YAML tag !!omap"),
    ("    secret: !GetAtt {a: 1}\n", 6, "integrations.powerbi.secret", r"YAML tag !GetAtt"),
]


@pytest.mark.parametrize(("extra", "line", "key", "message"), UNBUILDABLE, ids=[u[3] for u in UNBUILDABLE])
def test_unbuildable_values_are_keyed_lines(
    write_config: Writer, extra: str, line: int, key: str, message: str
) -> None:
    found = only_problem(write_config, VALID_CONFIG + extra)
    assert found.startswith(f"{write_config(VALID_CONFIG + extra)}:{line}: {key}: "), found
    assert re.search(message, found), found
    assert ". Fix: " in found


def test_an_impossible_date_under_a_text_key_does_not_stop_validate_or_plan(
    write_config: Writer, project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = write_config(VALID_CONFIG + "    display_name: 2025-13-01\n", "bad.yaml")
    good = write_config(VALID_CONFIG, "good.yaml")
    result = runner.invoke(app, ["validate", str(bad), str(good)])
    assert result.exit_code == 1
    assert f"{good}: valid" in result.stdout
    assert f"{bad}:6: integrations.powerbi.display_name: 2025-13-01 reads as a date" in result.stderr
    monkeypatch.chdir(tmp_path)
    planned = runner.invoke(app, ["plan", "--project-dir", str(project_dir), "--config", str(bad)])
    assert planned.exit_code == 1
    assert planned.output.strip().splitlines() == [
        f"{bad}:6: integrations.powerbi.display_name: "
        + (
            "2025-13-01 reads as a date but YAML cannot build it (month must be in 1..12). Fix: write a real date as "
            "YYYY-MM-DD, or quote the value if it is text"
        )
    ]


# --- kind 2: layout mistakes -----------------------------------------------------------------------------

LAYOUT = [
    pytest.param(
        "paragon:\n\tproject_id: 38b1f170-0c43-4eae-9a04-ab85325d99f7\n",
        [r":2: project_id: indented with a tab; YAML allows only spaces in indentation\. Fix: indent with spaces$"],
        id="tab",
    ),
    pytest.param(
        VALID_CONFIG.replace("    scopes", "\t\tscopes") + "    \tactivate: true\n",
        [r":5: scopes: indented with a tab.*Fix: indent with spaces$", r":6: activate: indented with a tab"],
        id="tabs-every-line",
    ),
    pytest.param(
        "paragon:\nproject_id: 38b1f170-0c43-4eae-9a04-ab85325d99f7\n" + VALID_CONFIG.split("\n", 2)[2],
        [
            r":2: project_id: `project_id` belongs under `paragon`; it is indented one level too little\. "
            r"Fix: indent it under `paragon:`$"
        ],
        id="outdented-into-top-level",
    ),
    pytest.param(
        VALID_CONFIG + "  secret:\n    rotation_days: 30\n",
        [
            r":6: integrations\.secret: `secret` belongs under `integrations\.powerbi`; it is indented one level too "
            r"little\. Fix: indent it under `integrations\.powerbi:`$"
        ],
        id="block-at-integration-key-level",
    ),
    pytest.param(
        HEAD + "integrations:\n  powerbi:\n  scopes: [Dataset.Read.All]\n",
        [
            r":4: integrations\.powerbi: is empty; its keys must be indented under it",
            r":5: integrations\.scopes: `scopes` belongs under `integrations\.powerbi`.*indent it under",
        ],
        id="integration-children-outdented",
    ),
    pytest.param(
        VALID_CONFIG + "    secret:\n    rotation_days: 30\n",
        [
            r":7: integrations\.powerbi\.rotation_days: `rotation_days` belongs under `integrations\.powerbi\.secret`; "
            r"it is indented one level too little\. Fix: indent it under `integrations\.powerbi\.secret:`$"
        ],
        id="policy-children-outdented",
    ),
    pytest.param(
        VALID_CONFIG + "    secret:\n      activate: true\n",
        [
            r":7: integrations\.powerbi\.secret\.activate: `activate` belongs under `integrations\.powerbi`; it is "
            r"indented one level too far\. Fix: indent it under `integrations\.powerbi:`$"
        ],
        id="indented-too-far",
    ),
    pytest.param(
        VALID_CONFIG + "    base_url: https://zeus.example.com\n",
        [
            r":6: integrations\.powerbi\.base_url: `base_url` belongs under `paragon`, not here\. "
            r"Fix: move it to `paragon:`$"
        ],
        id="wrong-section",
    ),
]


@pytest.mark.parametrize(("text", "expected"), LAYOUT)
def test_layout_mistakes_say_where_the_key_belongs(write_config: Writer, text: str, expected: list[str]) -> None:
    found = problems(write_config, text)
    assert len(found) == len(expected), found
    for line, pattern in zip(found, expected, strict=True):
        assert re.search(pattern, line), (pattern, line)
    assert not any("required key is missing" in p or "did you mean" in p for p in found), found


# --- kind 3: message quality -----------------------------------------------------------------------------

VALUES_SHOWN_ONCE = [
    ("  base_url: http://zeus.example.com\n", "http://zeus.example.com"),
    ("  redirect_uri: http://passport.example.com/oauth\n", "http://passport.example.com/oauth"),
    ("  redirect_uri: 'https://passport.example.com/a#b'\n", "'https://passport.example.com/a#b'"),
    ("  base_url: ftp://zeus.example.com\n", "ftp://zeus.example.com"),
]


@pytest.mark.parametrize(("line", "value"), VALUES_SHOWN_ONCE, ids=[v for _, v in VALUES_SHOWN_ONCE])
def test_url_values_are_shown_once_as_written(write_config: Writer, line: str, value: str) -> None:
    found = only_problem(write_config, VALID_CONFIG.replace("paragon:\n", "paragon:\n" + line))
    assert found.count(value) == 1, found


@pytest.mark.parametrize(
    ("find", "replace", "value"),
    [
        ("38b1f170-0c43-4eae-9a04-ab85325d99f7", "my-project", "my-project"),
        ("38b1f170-0c43-4eae-9a04-ab85325d99f7", '"38b1f170-0c43-4eae-9a04"', '"38b1f170-0c43-4eae-9a04"'),
    ],
    ids=["plain", "quoted"],
)
def test_guid_values_are_shown_once_as_written(write_config: Writer, find: str, replace: str, value: str) -> None:
    found = only_problem(write_config, VALID_CONFIG.replace(find, replace))
    assert found.count(value) == 1 and "Fix: copy the ID exactly" in found, found


NO_INTERNALS = [
    ("    secret:\n      anchor: 2025-01-01T10:00:00\n", "expected a date, got 2025-01-01T10:00:00"),
    ("    secret: 12\n", "expected a mapping (keys indented under it), got 12"),
    ("    secret: [1]\n", "expected a mapping (keys indented under it). Fix"),
    ("    display_name: 2025-01-01\n", "expected text but YAML read a date (2025-01-01)"),
    ("    scopes: Dataset.Read.All\n", "expected a list, got Dataset.Read.All"),
]


@pytest.mark.parametrize(("extra", "message"), NO_INTERNALS, ids=[m for _, m in NO_INTERNALS])
def test_no_pydantic_or_python_internals_leak(write_config: Writer, extra: str, message: str) -> None:
    text = (
        VALID_CONFIG.replace("    scopes: [Dataset.Read.All, Report.Read.All]\n", "")
        if "scopes:" in extra
        else (VALID_CONFIG)
    )
    found = only_problem(write_config, text + extra).split(": ", 1)[1]  # after file:line
    assert message in found, found
    for leak in ("datetime.", "instance of", "SecretPolicy", "IntegrationConfig", "input_value", "pydantic"):
        assert leak not in found, found


SUGGESTIONS = [
    ("titel", None),
    ("scoeps", "scopes"),
    ("displayName", "display_name"),
    ("sign-in-audience", "sign_in_audience"),
    ("activ", "activate"),
    ("colour", None),
]


@pytest.mark.parametrize(("typo", "suggested"), SUGGESTIONS, ids=[s[0] for s in SUGGESTIONS])
def test_did_you_mean_only_above_the_cutoff(write_config: Writer, typo: str, suggested: str | None) -> None:
    found = only_problem(write_config, VALID_CONFIG + f"    {typo}: x\n")
    assert f"integrations.powerbi.{typo}: unknown key" in found
    if suggested is None:
        assert "did you mean" not in found, found
    else:
        assert found.endswith(f"did you mean {suggested!r}?"), found


def test_problems_come_out_in_line_order(write_config: Writer) -> None:
    text = (
        VALID_CONFIG.replace("38b1f170-0c43-4eae-9a04-ab85325d99f7", "nope")
        + "    scopes: [Dataset.Read.All]\n"  # duplicate key, found while reading (line 6)
        + "    display_name: 2025-13-01\n"  # unbuildable (line 7)
        + "zzz: 1\n"  # unknown top-level key (line 8)
    )
    found = problems(write_config, text)
    assert [int(p.split(":")[1]) for p in found] == [2, 6, 7, 8], found


def test_problem_record_round_trips_the_one_line_form() -> None:
    record = Problem("c.yaml", 3, "paragon.base_url", "must use https.", "write https://.")
    assert str(record) == "c.yaml:3: paragon.base_url: must use https. Fix: write https://"
    assert str(Problem("c.yaml", 3, "k", "odd", "look", severity="warning")) == "c.yaml:3: k: warning: odd. Fix: look"
    parsed = Problem.parse("c.yaml:3: paragon.base_url: must use https. Fix: write https://")
    assert (parsed.file, parsed.line, parsed.fix) == ("c.yaml", 3, "write https://")
    assert str(parsed) == str(record)
    legacy = ConfigError(["b.yaml:9: x: late. Fix: y", "b.yaml:2: x: early"])
    assert legacy.problems == ["b.yaml:2: x: early", "b.yaml:9: x: late. Fix: y"]


# --- kind 4: secrets pasted into config (canaries) -------------------------------------------------------

CANARY = "CANARY-pasted-7d1e5b"
# Built at run time so that no secret scanner flags this file: 40 characters, the current Entra format, and
# a three-part JWT. Neither is, or ever was, a real credential.
ENTRA_SHAPED = "q1W8" + "Q~" + "CANARYentrashapedsecretvalue012345"
JWT_SHAPED = ".".join(["eyJhbGciOiJub25lIn0", "eyJzdWIiOiJDQU5BUlkifQ", "c2lnbmF0dXJl"])

SECRET_KEYS = [
    ("client_secret: V\n", 1),
    ("clientSecret: V\n", 1),
    ("password: V\n", 1),
    ("token: V\n", 1),
    ("api_key: V\n", 1),
    ("apiKey: V\n", 1),
    ("secret_value: V\n", 1),
    ("paragon_password: V\n", 1),
    ("refresh-token: V\n", 1),
    ("private_key: V\n", 1),
    ("secret: V\n", 1),
    ("login:\n      password: V\n", 2),
    ("extras:\n      - name: x\n        clientSecret: V\n", 2),
]


@pytest.mark.parametrize(("snippet", "count"), SECRET_KEYS, ids=[s.split(":")[0] + str(c) for s, c in SECRET_KEYS])
def test_secret_keys_are_refused_without_their_value(
    write_config: Writer, caplog: pytest.LogCaptureFixture, snippet: str, count: int
) -> None:
    caplog.set_level(logging.DEBUG)
    path = write_config(VALID_CONFIG + "    " + snippet.replace("V", CANARY))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    found = raised.value.problems
    assert len(found) == count, found
    assert "secrets never go in this file" in found[-1] and "pulumi config set --secret" in found[-1]
    shown = "\n".join([str(raised.value), repr(raised.value), repr(raised.value.records), caplog.text])
    assert CANARY not in shown
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1 and CANARY not in result.output
    assert "secrets never go in this file" in result.output  # positive control: the file was checked


@pytest.mark.parametrize("key", ["paragon", "top"])
def test_secret_keys_are_found_at_every_depth(write_config: Writer, key: str) -> None:
    text = (
        VALID_CONFIG.replace("paragon:\n", f"paragon:\n  clientSecret: {CANARY}\n")
        if key == "paragon"
        else f"client_secret: {CANARY}\n" + VALID_CONFIG
    )
    found = only_problem(write_config, text)
    assert "clientSecret" in found or "client_secret" in found
    assert CANARY not in found


@pytest.mark.parametrize("value", [ENTRA_SHAPED, JWT_SHAPED, f"Bearer {JWT_SHAPED}"], ids=["entra", "jwt", "bearer"])
@pytest.mark.parametrize("where", ["display_name", "scope", "project_id"])
def test_secret_shaped_values_are_refused_under_any_key(write_config: Writer, value: str, where: str) -> None:
    if where == "display_name":
        text = VALID_CONFIG + f"    display_name: {value}\n"
    elif where == "scope":
        text = VALID_CONFIG.replace("Report.Read.All]", f"'{value}']")
    else:
        text = VALID_CONFIG.replace("38b1f170-0c43-4eae-9a04-ab85325d99f7", f"'{value}'")
    found = only_problem(write_config, text)
    assert "looks like a client secret or an access token" in found
    assert value not in found and "CANARY" not in found


def test_legitimate_secret_policy_and_token_version_are_not_secrets(write_config: Writer) -> None:
    text = VALID_CONFIG + "    requested_access_token_version: 2\n    secret:\n      rotation_days: 30\n"
    config = load_config(write_config(text))
    assert config.integrations["powerbi"].secret.rotation_days == 30
    assert config.integrations["powerbi"].requested_access_token_version == 2
    assert (
        load_config(write_config(VALID_CONFIG + "    secret: {}\n")).integrations["powerbi"].secret.rotation_days == 90
    )


# --- kind 5: redirect URIs -------------------------------------------------------------------------------

REDIRECT_ERRORS = [
    ("https://passport.useparagon.com/oauth#done", r"must not contain a fragment .*RFC 6749"),
    ("https://passport.example.com/" + "a" * 228, r"is 257 characters; Entra accepts at most 256"),
    ("https://passport.example.com/o!auth", r"contains !, which Entra does not support"),
    ("https://passport.example.com/o$auth", r"contains \$"),
    ('"https://passport.example.com/o\'auth"', r"contains '"),
    ("https://passport.example.com/o(a)uth", r"contains \( \)"),
    ("https://passport.example.com/o,auth", r"contains ,"),
    ("https://passport.example.com/oauth;x", r"contains ;"),
    ("'https://passport.example.com/o auth'", r"contains a space or control character"),
    ("'https://passport.example.com/oauth '", r"leading or trailing spaces"),
    ("https://*.example.com/oauth", r"may not contain a wildcard"),
    ("http://passport.example.com/oauth", r"must use https://"),
    ("HTTPS://passport.example.com/oauth", r"must start with lower-case https://"),
    ("/oauth", r"must be an absolute URL"),
]


@pytest.mark.parametrize(("uri", "message"), REDIRECT_ERRORS, ids=[m for _, m in REDIRECT_ERRORS])
def test_redirect_uris_entra_would_refuse(write_config: Writer, uri: str, message: str) -> None:
    found = only_problem(write_config, VALID_CONFIG.replace("paragon:\n", f"paragon:\n  redirect_uri: {uri}\n"))
    assert found.split(": ")[1] == "paragon.redirect_uri" and re.search(message, found), found
    assert ". Fix: " in found


def test_exactly_256_characters_is_accepted(write_config: Writer) -> None:
    uri = "https://passport.example.com/" + "a" * 227
    assert len(uri) == 256
    text = VALID_CONFIG.replace("paragon:\n", f"paragon:\n  redirect_uri: {uri}\n")
    assert load_config(write_config(text)).paragon.redirect_uri == uri


@pytest.mark.parametrize(
    ("audience", "refused"),
    [
        ("AzureADMultipleOrgs", False),
        ("AzureADMyOrg", False),
        ("PersonalMicrosoftAccount", True),
        ("AzureADandPersonalMicrosoftAccount", True),
    ],
)
def test_query_parameters_only_for_work_and_school_audiences(
    write_config: Writer, audience: str, refused: bool
) -> None:
    text = VALID_CONFIG.replace("paragon:\n", "paragon:\n  redirect_uri: https://p.example.com/oauth?x=1\n")
    path = write_config(text + f"    sign_in_audience: {audience}\n")
    if refused:
        with pytest.raises(ConfigError, match=r":2: paragon\.redirect_uri: has query parameters.*personal"):
            load_config(path)
    else:
        assert load_config(path).paragon.redirect_uri.endswith("?x=1")


REDIRECT_WARNINGS = [
    ("https://passport.useparagon.com/oauth/", "only by a trailing slash;"),
    ("https://passport.useparagon.com/OAuth", "only by letter case;"),
    ("https://Passport.UseParagon.com/oauth/", "only by a trailing slash and letter case;"),
    ("http://localhost:8080/oauth", "works only for local development (Microsoft recommends 127.0.0.1"),
    ("http://127.0.0.1:8080/oauth", "works only for local development. Fix"),
]


@pytest.mark.parametrize(("uri", "message"), REDIRECT_WARNINGS, ids=[u for u, _ in REDIRECT_WARNINGS])
def test_redirect_warnings_keep_the_uri_exactly(write_config: Writer, uri: str, message: str) -> None:
    path = write_config(VALID_CONFIG.replace("paragon:\n", f"paragon:\n  redirect_uri: {uri}\n"))
    loaded = load_config_report(path)
    assert loaded.config.paragon.redirect_uri == uri  # exact-string matching is still the rule
    redirect = [str(w) for w in loaded.warnings if w.key == "paragon.redirect_uri"]
    assert len(redirect) == 1 and message in redirect[0]
    assert redirect[0].startswith(f"{path}:2: paragon.redirect_uri: warning: ")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0
    assert message in result.stderr and f"{path}: valid" in result.stdout


def test_the_documented_redirect_uri_has_no_warning(write_config: Writer, project_dir: Path) -> None:
    for path in (project_dir / "config" / "dev.yaml", write_config(VALID_CONFIG)):
        assert [w for w in load_config_report(path).warnings if w.key != "scheduled_deployer"] == []


# --- kind 6: GUIDs ---------------------------------------------------------------------------------------

UPPER_PROJECT = "38B1F170-0C43-4EAE-9A04-AB85325D99F7"
OWNER = "11111111-2222-3333-4444-55555555abcd"


def test_guids_are_written_lower_case(write_config: Writer) -> None:
    text = VALID_CONFIG.replace("38b1f170-0c43-4eae-9a04-ab85325d99f7", UPPER_PROJECT)
    config = load_config(write_config(text + f"    owners: [{OWNER.upper()}]\n"))
    assert config.paragon.project_id == UPPER_PROJECT.lower()
    assert config.integrations["powerbi"].owners == [OWNER]


GUID_ERRORS = [
    (
        f"    owners: [{OWNER}, {OWNER.upper()}]\n",
        r":6: integrations\.powerbi\.owners\[1\]: the same object ID as "
        r"owners\[0\] .*Fix: remove the duplicate",
    ),
    (
        f"    owners:\n      - {OWNER}\n      - {OWNER[:-1]}0\n      - {OWNER}\n",
        r":9: integrations\.powerbi\.owners\[2\]: the same",
    ),
    (
        "    owners: ['00000000-0000-0000-0000-000000000000']\n",
        r"owners\[0\]: an owner \(an object ID\) is the nil GUID",
    ),
    ("    owners: [not-a-guid]\n", r":6: integrations\.powerbi\.owners\[0\]: an owner \(an object ID\) must be a GUID"),
]


@pytest.mark.parametrize(("extra", "message"), GUID_ERRORS, ids=["case-duplicate", "later-duplicate", "nil", "bad"])
def test_owner_guid_problems(write_config: Writer, extra: str, message: str) -> None:
    found = problems(write_config, VALID_CONFIG + extra)
    assert any(re.search(message, p) for p in found), found


def test_nil_project_id_is_refused(write_config: Writer) -> None:
    found = only_problem(
        write_config,
        VALID_CONFIG.replace("38b1f170-0c43-4eae-9a04-ab85325d99f7", "00000000-0000-0000-0000-000000000000"),
    )
    assert ":2: paragon.project_id: project_id is the nil GUID" in found


@pytest.mark.parametrize(
    ("deployer", "extra", "expected"),
    [
        (
            "AAAAAAAA-0000-0000-0000-000000000001",
            ["aaaaaaaa-0000-0000-0000-000000000001"],
            ["aaaaaaaa-0000-0000-0000-000000000001"],
        ),
        (
            "aaaaaaaa-0000-0000-0000-000000000001",
            [OWNER.upper(), OWNER],
            ["aaaaaaaa-0000-0000-0000-000000000001", OWNER],
        ),
        ("aaaaaaaa-0000-0000-0000-000000000001", [], ["aaaaaaaa-0000-0000-0000-000000000001"]),
    ],
    ids=["deployer-listed-in-other-case", "owner-twice", "deployer-only"],
)
def test_deployer_is_deduplicated_case_insensitively(deployer: str, extra: list[str], expected: list[str]) -> None:
    assert owner_ids(deployer, extra) == expected


# --- kind 8: environment values --------------------------------------------------------------------------

ENV_CANARY = "CANARY-env-93af"


@pytest.mark.parametrize(
    ("env", "token", "email", "password"),
    [
        ({"PARAGON_ACCESS_TOKEN": f"{ENV_CANARY}\n"}, ENV_CANARY, None, None),
        ({"PARAGON_ACCESS_TOKEN": f"  {ENV_CANARY}\r\n"}, ENV_CANARY, None, None),
        (
            {"PARAGON_EMAIL": " a@example.com\n", "PARAGON_PASSWORD": f"{ENV_CANARY} \n"},
            None,
            "a@example.com",
            ENV_CANARY,
        ),
        (
            {"PARAGON_ACCESS_TOKEN": " \n", "PARAGON_EMAIL": "a@example.com", "PARAGON_PASSWORD": ENV_CANARY},
            None,
            "a@example.com",
            ENV_CANARY,
        ),
    ],
    ids=["token-newline", "token-crlf-spaces", "email-password", "empty-token-is-unset"],
)
def test_login_values_are_trimmed(
    env: dict[str, str], token: str | None, email: str | None, password: str | None
) -> None:
    login = login_from(env)
    assert (login.access_token.get_secret_value() if login.access_token else None) == token
    assert login.email == email
    assert (login.password.get_secret_value() if login.password else None) == password


def test_stack_config_login_values_are_trimmed() -> None:
    login = login_from({}, {"paragonEmail": "a@example.com\n", "paragonPassword": f"{ENV_CANARY}\n"})
    assert login.email == "a@example.com" and login.password is not None
    assert login.password.get_secret_value() == ENV_CANARY


@pytest.mark.parametrize(
    ("env", "stack", "name"),
    [
        ({"PARAGON_ACCESS_TOKEN": f"{ENV_CANARY}\nsecond-line"}, {}, "PARAGON_ACCESS_TOKEN"),
        ({"PARAGON_EMAIL": "a@example.com", "PARAGON_PASSWORD": f"{ENV_CANARY}\x00" + "x"}, {}, "PARAGON_PASSWORD"),
        ({"PARAGON_EMAIL": "a@\texample.com", "PARAGON_PASSWORD": ENV_CANARY}, {}, "PARAGON_EMAIL"),
        (
            {},
            {"paragonPassword": f"{ENV_CANARY}\x1b[0m", "paragonEmail": "a@example.com"},
            "stack config paragonPassword",
        ),
    ],
    ids=["token-two-lines", "password-nul", "email-tab", "stack-config-escape"],
)
def test_control_characters_are_refused_naming_the_variable(
    env: dict[str, str], stack: dict[str, str], name: str
) -> None:
    with pytest.raises(InvalidEnvironmentValue) as raised:
        login_from(env, stack)
    assert str(raised.value).startswith(f"{name}: the value contains a control character")
    assert ENV_CANARY not in str(raised.value) and ENV_CANARY not in repr(raised.value)


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_empty_after_trimming_counts_as_unset(value: str) -> None:
    with pytest.raises(ParagonLoginMissing):
        login_from({"PARAGON_ACCESS_TOKEN": value, "PARAGON_EMAIL": value, "PARAGON_PASSWORD": value})
    assert base_url_from("https://zeus.useparagon.com", {"PARAGON_BASE_URL": value}) == "https://zeus.useparagon.com"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://zeus.example.com/\n", "https://zeus.example.com"),
        ("  https://zeus.example.com  ", "https://zeus.example.com"),
    ],
)
def test_base_url_is_trimmed(value: str, expected: str) -> None:
    assert base_url_from("https://zeus.useparagon.com", {"PARAGON_BASE_URL": value}) == expected


def test_base_url_with_control_characters_or_http_is_refused() -> None:
    with pytest.raises(InvalidEnvironmentValue, match=r"^PARAGON_BASE_URL: the value contains a control character"):
        base_url_from("https://zeus.useparagon.com", {"PARAGON_BASE_URL": "https://zeus\n.example.com"})
    with pytest.raises(
        ConfigError, match=r"^PARAGON_BASE_URL: PARAGON_BASE_URL must use https://.*got http://z\.example"
    ):
        base_url_from("https://zeus.useparagon.com", {"PARAGON_BASE_URL": "http://z.example.com"})


# --- kind 11: CLI output that is not pure JSON; escaped exceptions -----------------------------------------

OUTPUTS = {"integrations": {"powerbi": {"client_id": "x"}}, "client_secrets": "[secret]"}
NOISY = [
    json.dumps(OUTPUTS),
    "warning: A new version of Pulumi is available.\n" + json.dumps(OUTPUTS, indent=2),
    json.dumps(OUTPUTS, indent=4) + "\nwarning: upgrade with `brew upgrade pulumi`\n",
    "note: {not json} here\n" + json.dumps(OUTPUTS) + "\n{trailing",
    "SDK warning: python 3.9 is deprecated\n\n" + json.dumps(OUTPUTS) + "\n",
]


@pytest.mark.parametrize("text", NOISY, ids=["pure", "notice-before", "notice-after", "braces-in-noise", "blank-lines"])
def test_stack_outputs_json_is_found_among_cli_notices(text: str) -> None:
    assert parse_outputs_json(text, "pulumi stack output --json") == OUTPUTS


@pytest.mark.parametrize("text", ["", "error: no stack selected", "[1, 2]", "{broken", "null"])
def test_stack_outputs_that_are_not_json_name_the_source(text: str) -> None:
    with pytest.raises(OutputsError, match=r"^pulumi stack output --json: no JSON object found"):
        parse_outputs_json(text, "pulumi stack output --json")


@pytest.fixture
def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Put a ``pulumi`` script on PATH that prints the given stdout (and a notice on stderr)."""

    def install(stdout: str) -> None:
        bindir = tmp_path / "bin"
        bindir.mkdir(exist_ok=True)
        (bindir / "payload.txt").write_text(stdout, encoding="utf-8")
        script = bindir / "pulumi"
        script.write_text(f"#!/bin/sh\ncat '{bindir / 'payload.txt'}'\necho 'stderr notice' >&2\n", encoding="utf-8")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")

    return install


@pytest.mark.skipif(sys.platform == "win32", reason="uses a POSIX shell script as the fake pulumi")
@pytest.mark.parametrize(
    ("stdout", "code", "message"),
    [
        ("warning: update available\n{}\n", 3, "not deployed yet"),
        ("this is not json at all\n", 1, "pulumi stack output --json --stack dev: no JSON object found"),
    ],
    ids=["notice-then-json", "not-json"],
)
def test_status_reads_the_cli_through_its_notices(
    project_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_pulumi: Callable[[str], None],
    stdout: str,
    code: int,
    message: str,
) -> None:
    fake_pulumi(stdout)
    monkeypatch.chdir(project_dir)
    result = runner.invoke(app, ["status", "--at", "2026-11-29"])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_escaped_exception_is_one_line_and_exit_1(
    write_config: Writer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(_path: Path, **_: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr("provisioner.config.load_config_report", broken)
    monkeypatch.delenv(entry.DEBUG_ENV, raising=False)
    path = str(write_config(VALID_CONFIG))
    assert entry.main(["validate", path]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "error: unexpected RuntimeError: boom second line. This is a bug in the provisioner; rerun with --debug "
        "(or PROVISIONER_DEBUG=1) to see the traceback, and report it"
    ]
    assert entry.main(["--debug", "validate", path]) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err
    monkeypatch.setenv(entry.DEBUG_ENV, "1")
    assert entry.main(["validate", path]) == 1
    assert "RuntimeError: boom" in capsys.readouterr().err


def test_an_escaped_provisioner_error_prints_its_message(
    write_config: Writer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused(_path: Path, **_: object) -> None:
        raise InvalidEnvironmentValue("PARAGON_PASSWORD: the value contains a control character")

    monkeypatch.setattr("provisioner.config.load_config_report", refused)
    monkeypatch.delenv(entry.DEBUG_ENV, raising=False)
    assert entry.main(["validate", str(write_config(VALID_CONFIG))]) == 1
    assert capsys.readouterr().err == "PARAGON_PASSWORD: the value contains a control character\n"


def test_exit_codes_pass_through_the_entry(write_config: Writer) -> None:
    assert entry.main(["validate", str(write_config(VALID_CONFIG))]) == 0
    assert entry.main(["validate", str(write_config("paragon: [\n", "bad.yaml"))]) == 1
    assert entry.main(["plan", "--at", "next tuesday"]) == 2


# --- kind 12: destroy reads flags from state -------------------------------------------------------------


def test_readme_says_destroy_reads_delete_flag_from_state(project_dir: Path) -> None:
    readme = " ".join((project_dir / "README.md").read_text(encoding="utf-8").split())
    assert "`delete_credentials_on_destroy` takes effect only after a `pulumi up` has recorded it" in readme
    assert "inputs and outputs stored in state" in readme


# --- the folder of broken configs -------------------------------------------------------------------------


def _expected_count(path: Path) -> int:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"# expect: (\d+)", first)
    assert match, f"{path.name}: first line must be '# expect: N'"
    return int(match.group(1))


def test_validate_a_folder_of_bad_configs_one_sorted_line_per_problem(project_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bad_configs"
    shutil.copytree(BAD_CONFIGS, folder)
    for name, value in (("entra-secret-shaped-value", ENTRA_SHAPED), ("jwt-shaped-value", JWT_SHAPED)):
        (folder / f"{name}.yaml").write_text(f"# expect: 1\n{VALID_CONFIG}    display_name: {value}\n", "utf-8")
    files = sorted(folder.glob("*.yaml"))
    assert len(files) >= 35
    done = subprocess.run(
        [sys.executable, "-m", "provisioner", "validate", str(folder)],
        cwd=project_dir,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout == "", "no file in tests/bad_configs may be valid"
    assert "Traceback" not in done.stderr and "Error:" not in done.stderr
    lines = done.stderr.splitlines()
    by_file: dict[str, list[int]] = {}
    for line in lines:
        match = LINE.match(line)
        assert match, f"not one problem line: {line!r}"
        assert ". Fix: " in line, f"no fix: {line!r}"
        by_file.setdefault(match["file"], []).append(int(match["line"] or 0))
    for path in files:
        numbers = by_file.get(str(path), [])
        assert len(numbers) == _expected_count(path), (path.name, [ln for ln in lines if str(path) in ln])
        assert numbers == sorted(numbers), path.name
    assert not any("CANARY" in line for line in lines), "a pasted secret was echoed"


# --- any text: the loader ends in a config or a ConfigError, nothing else --------------------------------

YAMLISH = " \t\n:-[]{}!&*#'\"|>%@`,?.0123456789abcdefxyzTQ~_/"


@settings(max_examples=300)
@given(
    cut=st.integers(min_value=0, max_value=len(VALID_CONFIG)),
    noise=st.text(alphabet=YAMLISH, max_size=40),
    tail=st.sampled_from(["", "    secret:\n      anchor: ", "    owners: [", "  x: !", "    display_name: 2025-02-"]),
)
def test_any_text_ends_in_a_config_or_one_line_problems(
    tmp_path_factory: pytest.TempPathFactory, cut: int, noise: str, tail: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "dev.yaml"
    path.write_text(VALID_CONFIG[:cut] + noise + VALID_CONFIG[cut:] + tail + noise, encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as err:
        assert err.problems and all("\n" not in p and p.startswith(str(path)) for p in err.problems), err.problems
