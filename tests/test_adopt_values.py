"""The rules behind ``adopt``'s handling of live values (`provisioner.cli.adopt_values`): one-line YAML that reads
back exactly, user info never shown, control characters escaped, commands quoted, and the config's own rules
deciding what may be suggested. End to end: tests/test_adopt_hostile.py."""

from __future__ import annotations

import pytest
import yaml

from provisioner.cli.adopt_values import delete_command, redact_userinfo, refusal, shown, shown_description, yaml_line

TRICKY = [
    "Paragon Power BI",
    "Paragon: Power BI #prod",
    "Evil: x\n    owners: [11111111-2222-4333-8444-555555555555]  # pwn",
    'it\'s "quoted"',
    "'single'",
    '"double"',
    "[flow], {map}",
    "- item",
    "? key",
    "&anchor",
    "*alias",
    "!tag",
    "%directive",
    "@at",
    "`tick",
    "yes",
    "No",
    "null",
    "~",
    "",
    "2",
    "0x1F",
    "1e3",
    "2026-12-07",
    "  leading and trailing  ",
    "tab\there",
    "x\x1b[31mRED",
    "e\u202egvil",
    "Café ünïcode 日本",
    "https://x.example/cb?tenant=contoso&x=[1]",
    "---",
    "...",
]


@pytest.mark.parametrize("value", TRICKY)
def test_a_yaml_line_reads_back_as_exactly_the_value(value: str) -> None:
    line = yaml_line("display_name", value)
    assert "\n" not in line and "\x1b" not in line and "\u202e" not in line
    assert yaml.safe_load(line) == {"display_name": value}
    assert yaml.safe_load(yaml_line("extra_redirect_uris", [value, "https://a.example/cb"])) == {
        "extra_redirect_uris": [value, "https://a.example/cb"]
    }


def test_plain_values_stay_plain() -> None:
    assert yaml_line("display_name", "Paragon Power BI") == "display_name: Paragon Power BI"
    assert (
        yaml_line("owners", ["4b2e8f1a-3c5d-4e6f-8a9b-0c1d2e3f4a5b"])
        == "owners: [4b2e8f1a-3c5d-4e6f-8a9b-0c1d2e3f4a5b]"
    )
    assert yaml_line("requested_access_token_version", 1) == "requested_access_token_version: 1"
    assert yaml_line("display_name", "Paragon: Power BI #prod") == "display_name: 'Paragon: Power BI #prod'"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://u:CANARY@x.example/cb", "https://[redacted]@x.example/cb"),
        ("https://u@x.example/cb", "https://[redacted]@x.example/cb"),
        ("https://u:p@ss@x.example:8443/cb?a=b@c", "https://[redacted]@x.example:8443/cb?a=b@c"),
        ("https://u:pa ss@x.example", "https://[redacted]@x.example"),
        (
            "see HTTPS://u:p@x.example and myapp://v:q@host/",
            "see HTTPS://[redacted]@x.example and myapp://[redacted]@host/",
        ),
        ("https://x.example/path@user", "https://x.example/path@user"),
        ("https://x.example?mail=a@b", "https://x.example?mail=a@b"),
        ("maker@contoso.example", "maker@contoso.example"),
    ],
)
def test_user_info_is_redacted_anywhere(text: str, expected: str) -> None:
    assert redact_userinfo(text) == expected
    assert shown(text) == expected


def test_shown_escapes_controls_and_cuts_long_values() -> None:
    assert shown("a\nb\x1b[2J\u202ec\u2028") == "a\\x0ab\\x1b[2J\\u202ec\\u2028"
    long = shown("x" * 1000)
    assert len(long) < 330 and long.endswith("… (1000 characters)")
    assert shown_description(None) == "(no description)"
    assert shown_description("for\x1bParagon") == "'for\\x1bParagon'"
    assert "not shown" in shown_description("Xy18Q~abcdefghijklmnopqrstuvwxyz01234567")


def test_the_delete_command_quotes_what_graph_answered() -> None:
    good = delete_command("7d3c7a0e-52f4-4d0c-9a3e-5e1f9d1b2c3a", "0f0e0d0c-0b0a-4909-8807-060504030201")
    assert good == (
        "az ad app credential delete --id 7d3c7a0e-52f4-4d0c-9a3e-5e1f9d1b2c3a "
        "--key-id 0f0e0d0c-0b0a-4909-8807-060504030201"
    )
    assert delete_command("7d3c7a0e-52f4-4d0c-9a3e-5e1f9d1b2c3a", "x; rm -rf /\n").endswith(
        "--key-id 'x; rm -rf /\\x0a'"
    )


@pytest.mark.parametrize(
    ("key", "value", "personal", "reason"),
    [
        ("extra_redirect_uris", "https://app.example/cb", False, None),
        ("extra_redirect_uris", "http://localhost:8080/cb", False, None),
        ("extra_redirect_uris", "https://app.example/cb?x=1", False, None),
        ("extra_redirect_uris", "https://app.example/cb?x=1", True, "?query"),
        ("extra_redirect_uris", "http://app.example/cb", False, "https://"),
        ("extra_redirect_uris", "https://*.example.com/cb", False, "wildcard"),
        ("extra_redirect_uris", "https://app.example/a b", False, "space"),
        ("extra_redirect_uris", "https://app.example/cb#f", False, "fragment"),
        ("extra_redirect_uris", "https://app.example/\x1bcb", False, "\\x1b"),
        ("extra_redirect_uris", "https://app.example/\u202ecb", False, "\\u202e"),
        ("extra_redirect_uris", "https://u:pw@app.example/cb", False, "user name or password"),
        ("extra_redirect_uris", "https://app.example/" + "a" * 240, False, "256"),
        ("extra_redirect_uris", "https://app.example/cb;x", False, ";"),
        ("extra_redirect_uris", "https://app.example/cb?sig=abcdef0123456789abcdef", False, "credential"),
        ("display_name", "Paragon: Power BI #prod", False, None),
        ("display_name", "", False, "1 to 120"),
        ("display_name", "P" * 121, False, "1 to 120"),
        ("display_name", "a\nb", False, "\\x0a"),
        ("display_name", "see https://u@x.example", False, "user name or password"),
        ("sign_in_audience", "AzureADMyOrg", False, None),
        ("sign_in_audience", "AzureADMyOrg\n", False, "control"),
        ("sign_in_audience", "Everyone", False, "not one of"),
        ("requested_access_token_version", 2, False, None),
        ("requested_access_token_version", 3, False, "not 1 or 2"),
        ("requested_access_token_version", 1, True, "version 2"),
        ("owners", "4b2e8f1a-3c5d-4e6f-8a9b-0c1d2e3f4a5b", False, None),
        ("owners", "not-a-guid", False, "GUID"),
    ],
)
def test_only_values_the_config_accepts_are_suggested(
    key: str, value: str | int, personal: bool, reason: str | None
) -> None:
    found = refusal(key, value, personal=personal)
    if reason is None:
        assert found is None
    else:
        assert found is not None and found.startswith("it ") and reason in found, found
        assert "Fix:" not in found
