"""Doctor's tenant rows when Graph's answers cannot be read: an unparsable passwordLifetime limit, a broken body.

Against the Graph fake (tests/graph_fake.py), through the CLI, with the environment of tests/test_doctor_tenant.py.
"""

# ruff: noqa: F811  (the fixtures imported from test_doctor_tenant are the test functions' parameters)

from __future__ import annotations

from typing import Any

import pytest
from graph_fake import FakeGraph, RawBody, password_lifetime
from test_doctor import FakeTools, healthy, paragon, tools  # noqa: F401  (fixtures)
from test_doctor_tenant import deploy, entra, graph, run, tenant  # noqa: F401  (fixtures)

from provisioner.config.safe_io import MAX_JSON_DEPTH

# --- an enabled passwordLifetime restriction whose maxLifetime cannot be read: a warning, never "ok" ---------

UNPARSABLE = [
    ("garbage", "garbage", "'garbage'"),
    ("empty", "", "''"),
    ("null", None, "(null)"),
    ("bare-P", "P", "'P'"),
    ("words", "90 days", "'90 days'"),
    ("escape-sequence", "\x1b[2JP90D", "'\\\\x1b[2JP90D'"),
    ("long", "x" * 500, "..."),
]


def _lifetime(value: str | None) -> dict[str, Any]:
    return {**password_lifetime("P90D"), "maxLifetime": value}


@pytest.mark.parametrize(("name", "value", "shown"), UNPARSABLE, ids=[row[0] for row in UNPARSABLE])
@pytest.mark.parametrize("where", ["tenant-default", "assigned"])
def test_an_unreadable_lifetime_limit_is_a_warning_that_says_so(
    tenant: FakeTools,
    graph: FakeGraph,
    name: str,
    value: str | None,
    shown: str,
    where: str,
) -> None:
    if where == "tenant-default":
        graph.restrict_passwords(_lifetime(value))
        row_name = "app-policy"
    else:
        graph.assign_policy(deploy(tenant, graph), _lifetime(value))
        row_name = "app-policy:powerbi"

    code, rows, raw = run()

    row = rows[row_name]
    assert row["status"] == "warning", row
    assert "limits client secret lifetimes (passwordLifetime)" in row["detail"]
    assert "the limit could not be read" in row["detail"] and shown in row["detail"]
    assert "no password restriction applies" not in row["detail"]
    assert row["fix"].startswith("check the policy in Entra") and "P90D" in row["fix"]
    assert "\x1b" not in raw and len(row["detail"]) < 600
    assert code == 0, "a warning keeps doctor's exit code"


def test_a_readable_limit_that_is_too_short_still_fails_and_names_the_unreadable_one(
    tenant: FakeTools,
    graph: FakeGraph,
) -> None:
    graph.restrict_passwords(password_lifetime("P30D"), _lifetime("garbage"))
    code, rows, _ = run()
    row = rows["app-policy"]
    assert code == 1 and row["status"] == "failed"
    assert "at most 30 days" in row["detail"] and "'garbage' is not an ISO 8601 duration" in row["detail"]


def test_a_disabled_or_future_unreadable_limit_does_not_apply(
    tenant: FakeTools,
    graph: FakeGraph,
) -> None:
    graph.restrict_passwords(
        {**_lifetime("garbage"), "state": "disabled"},
        {**_lifetime("garbage"), "restrictForAppsCreatedAfterDateTime": "2099-01-01T00:00:00Z"},
    )
    _, rows, _ = run()
    assert rows["app-policy"]["status"] == "ok" and "no password restriction applies" in rows["app-policy"]["detail"]


# --- a Graph body that cannot be parsed: says what it is, and whose fault -----------------------------------

BODIES = [
    ("truncated", RawBody('{"value": ['), "the body is not valid JSON (application/json", "Graph's"),
    ("garbage", RawBody("garbage!"), "the body is not valid JSON (application/json", "Graph's"),
    ("empty", RawBody(""), "the body is not valid JSON (application/json, 0 bytes)", "Graph's"),
    (
        "too-deep",
        RawBody("[" * (MAX_JSON_DEPTH + 5) + "]" * (MAX_JSON_DEPTH + 5)),
        "the body is nested too deeply",
        "Graph's",
    ),
    ("problem+json", RawBody("{", "application/problem+json"), "the body is not valid JSON", "Graph's"),
    ("html", RawBody("<html>login</html>", "text/html; charset=utf-8"), "expected JSON but got text/html", "proxy"),
    ("no-type", RawBody("x", ""), "expected JSON but got no content type", "Microsoft Graph endpoint"),
]


@pytest.mark.parametrize(("name", "body", "said", "fix"), BODIES, ids=[row[0] for row in BODIES])
def test_a_body_graph_cannot_have_meant_is_named_with_the_right_fix(
    tenant: FakeTools,
    graph: FakeGraph,
    name: str,
    body: RawBody,
    said: str,
    fix: str,
) -> None:
    graph.fail("/policies/defaultAppManagementPolicy", 200, raw=body)

    code, rows, _ = run()

    row = rows["app-policy"]
    assert row["status"] == "warning" and code == 0, row
    assert said in row["detail"] and "/policies/defaultAppManagementPolicy" in row["detail"]
    assert "expected JSON but got application/json" not in row["detail"], "never self-contradicting"
    assert fix in row["fix"] and row["fix"] != "run doctor again"
    if said.startswith("the body is"):
        assert "proxy" in row["fix"] and "Graph sent a broken answer" in row["detail"]
