"""Which Azure sign-in the Graph reader uses, and each one getting a token (fake Entra, fake `az`, GitHub OIDC)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from entra_fake import FakeEntra
from graph_fake import FakeGraph
from graph_helpers import CANARY, CLIENT, TENANT, USER_CLAIMS, az_calls, install_az, jwt

from provisioner.errors import GraphError, GraphSignInError
from provisioner.graph.reader import GraphReader
from provisioner.graph.signin import DEFAULT_AUTHORITY, authority_host, choose_sign_in

BASE = {"ARM_TENANT_ID": TENANT, "ARM_CLIENT_ID": CLIENT}


@pytest.mark.parametrize(
    ("env", "kind", "source"),
    [
        ({}, "azure_cli", "az login"),
        ({"ARM_TENANT_ID": TENANT}, "azure_cli", "az login"),
        ({**BASE, "ARM_CLIENT_SECRET": CANARY}, "client_secret", "ARM_CLIENT_SECRET"),
        (
            {**BASE, "ARM_CLIENT_SECRET": CANARY, "ARM_USE_OIDC": "true", "ARM_OIDC_TOKEN": "x"},
            "client_secret",
            "ARM_CLIENT_SECRET",
        ),
        ({**BASE, "ARM_USE_OIDC": "true", "ARM_OIDC_TOKEN": CANARY}, "oidc", "ARM_OIDC_TOKEN"),
        ({**BASE, "ARM_USE_OIDC": "1", "ARM_OIDC_TOKEN_FILE_PATH": "/t"}, "oidc", "ARM_OIDC_TOKEN_FILE_PATH"),
        (
            {
                **BASE,
                "ARM_USE_OIDC": "True",
                "ACTIONS_ID_TOKEN_REQUEST_URL": "https://x",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN": CANARY,
            },
            "oidc",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
        ),
        (
            {**BASE, "ARM_USE_OIDC": "true", "ARM_OIDC_REQUEST_URL": "https://x", "ARM_OIDC_REQUEST_TOKEN": CANARY},
            "oidc",
            "ARM_OIDC_REQUEST_URL",
        ),
        ({"ARM_USE_MSI": "true"}, "managed_identity", "ARM_USE_MSI"),
        ({**BASE, "ARM_USE_OIDC": "false", "ARM_USE_MSI": "true"}, "managed_identity", "ARM_USE_MSI"),
        ({"ARM_CLIENT_SECRET": "  ", **BASE}, "azure_cli", "az login"),  # empty counts as unset
        (
            {"AZURE_CLIENT_SECRET": CANARY, "AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT},
            "azure_cli",
            "az login",
        ),
    ],
)
def test_the_environment_chooses_the_sign_in(env: dict[str, str], kind: str, source: str) -> None:
    chosen = choose_sign_in(env)
    assert (chosen.kind, chosen.source) == (kind, source)
    assert CANARY not in repr(chosen) and CANARY not in chosen.describe()


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"ARM_CLIENT_SECRET": CANARY}, ["ARM_CLIENT_ID", "ARM_TENANT_ID"]),
        ({"ARM_CLIENT_SECRET": CANARY, "ARM_CLIENT_ID": CLIENT}, ["ARM_TENANT_ID"]),
        ({"ARM_USE_OIDC": "true", "ARM_OIDC_TOKEN": CANARY}, ["ARM_CLIENT_ID", "ARM_TENANT_ID"]),
        ({**BASE, "ARM_USE_OIDC": "true"}, ["ARM_OIDC_TOKEN", "id-token: write"]),
        ({**BASE, "ARM_USE_OIDC": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": "https://x"}, ["ARM_OIDC_TOKEN"]),
        ({"ARM_USE_CLI": "false"}, ["az login --tenant", "ARM_USE_OIDC", "ARM_CLIENT_SECRET"]),
    ],
)
def test_an_incomplete_sign_in_is_one_line_naming_what_is_missing(env: dict[str, str], names: list[str]) -> None:
    with pytest.raises(GraphSignInError) as caught:
        choose_sign_in(env)
    text = str(caught.value)
    assert "\n" not in text and CANARY not in text
    assert all(name in text for name in names), text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, DEFAULT_AUTHORITY),
        ("https://login.microsoftonline.us/", "https://login.microsoftonline.us"),
        ("login.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
    ],
)
def test_authority_host(value: str | None, expected: str) -> None:
    assert authority_host({"AZURE_AUTHORITY_HOST": value} if value else {}) == expected


@pytest.mark.parametrize("value", ["http://login.example.com", "https://login.example.com/x?y=1"])
def test_a_bad_authority_host_is_one_line_naming_the_variable(value: str) -> None:
    with pytest.raises(GraphSignInError, match="^AZURE_AUTHORITY_HOST: "):
        authority_host({"AZURE_AUTHORITY_HOST": value})


@pytest.mark.parametrize(
    "value", ["http://graph.example.com", "ftp://graph.example.com", "https://graph.example.com/?x=1", "graph"]
)
def test_a_bad_graph_url_is_one_line_naming_the_variable(value: str) -> None:
    with pytest.raises(GraphError, match="^PROVISIONER_GRAPH_URL: ") as caught:
        GraphReader(env={"PROVISIONER_GRAPH_URL": value})
    assert "\n" not in str(caught.value)


# --- each sign-in getting a real token -------------------------------------------------------------------


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEntra]:
    with FakeEntra() as fake:
        fake.trust(monkeypatch)
        fake.add_app(TENANT, CLIENT, roles=("Application.Read.All", "Policy.Read.All"))
        yield fake


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


def _env(entra: FakeEntra, graph: FakeGraph, **extra: str) -> dict[str, str]:
    return {"AZURE_AUTHORITY_HOST": entra.url, "PROVISIONER_GRAPH_URL": graph.url, **BASE, **extra}


def _signed_in(reader: GraphReader) -> str | None:
    return reader.whoami().object_id


def test_client_secret_sign_in(entra: FakeEntra, graph: FakeGraph) -> None:
    entra.add_secret(TENANT, CLIENT, CANARY)
    with GraphReader(env=_env(entra, graph, ARM_CLIENT_SECRET=CANARY)) as reader:
        me = reader.whoami()
    assert (me.kind, me.object_id, me.tenant_id) == ("app", entra.app(TENANT, CLIENT).object_id, TENANT)
    assert me.roles == ["Application.Read.All", "Policy.Read.All"] and me.scopes == []
    [request] = entra.token_requests(CLIENT)
    assert request.scope == f"{graph.url}/.default" and request.status == 200


@pytest.mark.parametrize("how", ["ARM_OIDC_TOKEN", "ARM_OIDC_TOKEN_FILE_PATH", "ACTIONS_ID_TOKEN_REQUEST_URL"])
def test_oidc_sign_in(entra: FakeEntra, graph: FakeGraph, tmp_path: Path, how: str) -> None:
    assertion = jwt({"sub": "repo:contoso/config:ref:refs/heads/main", "aud": "api://AzureADTokenExchange"})
    entra.add_assertion(TENANT, CLIENT, assertion)
    env = _env(entra, graph, ARM_USE_OIDC="true")
    if how == "ARM_OIDC_TOKEN":
        env["ARM_OIDC_TOKEN"] = assertion
    elif how == "ARM_OIDC_TOKEN_FILE_PATH":
        (tmp_path / "token").write_text(assertion + "\n", encoding="utf-8")
        env["ARM_OIDC_TOKEN_FILE_PATH"] = str(tmp_path / "token")
    else:
        env["ACTIONS_ID_TOKEN_REQUEST_URL"] = graph.github_oidc(CANARY, assertion)
        env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = CANARY
    with GraphReader(env=env) as reader:
        assert reader.sign_in is not None and reader.sign_in.source == how
        assert _signed_in(reader) == entra.app(TENANT, CLIENT).object_id


def test_an_unaccepted_federated_token_is_a_sign_in_error_naming_oidc(entra: FakeEntra, graph: FakeGraph) -> None:
    env = _env(entra, graph, ARM_USE_OIDC="true", ARM_OIDC_TOKEN=CANARY)
    with GraphReader(env=env) as reader, pytest.raises(GraphSignInError) as caught:
        reader.whoami()
    text = str(caught.value)
    assert "OIDC (ARM_OIDC_TOKEN)" in text and "AADSTS700213" in text and "\n" not in text
    assert CANARY not in text and CANARY not in repr(reader)


def test_a_wrong_client_secret_is_a_sign_in_error_without_the_secret(
    entra: FakeEntra, graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    entra.add_secret(TENANT, CLIENT, "the-right-secret-value")
    with GraphReader(env=_env(entra, graph, ARM_CLIENT_SECRET=CANARY)) as reader:
        with pytest.raises(GraphSignInError, match="client secret .*AADSTS7000215") as caught:
            reader.application(CLIENT)
    assert CANARY not in str(caught.value) and CANARY not in caplog.text
    assert graph.calls() == []  # no token, no Graph call


def test_a_missing_oidc_token_file_is_one_line(entra: FakeEntra, graph: FakeGraph, tmp_path: Path) -> None:
    env = _env(entra, graph, ARM_USE_OIDC="true", ARM_OIDC_TOKEN_FILE_PATH=str(tmp_path / "absent"))
    with (
        GraphReader(env=env) as reader,
        pytest.raises(GraphSignInError, match="^ARM_OIDC_TOKEN_FILE_PATH: cannot read"),
    ):
        reader.whoami()


def test_azure_cli_sign_in(graph: FakeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tools = install_az(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(tools))
    with GraphReader(env={"PROVISIONER_GRAPH_URL": graph.url, "ARM_TENANT_ID": TENANT}) as reader:
        me = reader.whoami(read_me=True)
        reader.whoami()  # the token is cached: az runs once
    assert (me.kind, me.object_id, me.user_principal_name) == ("user", USER_CLAIMS["oid"], "ada@contoso.example")
    assert me.display_name == "Ada Admin" and "Policy.Read.All" in me.scopes
    [argv] = az_calls(tools)
    assert argv[:2] == ["account", "get-access-token"] and ["--resource", graph.url] == argv[4:6]
    assert argv[argv.index("--tenant") + 1] == TENANT
    assert [c.path for c in graph.calls()] == ["/v1.0/me"]


def test_no_azure_cli_session_says_how_to_sign_in(
    graph: FakeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = install_az(tmp_path / "bin", stderr="ERROR: Please run 'az login' to setup account.")
    monkeypatch.setenv("PATH", str(tools))
    with GraphReader(env={"PROVISIONER_GRAPH_URL": graph.url}) as reader, pytest.raises(GraphSignInError) as caught:
        reader.whoami()
    text = str(caught.value)
    assert "Azure CLI session" in text and "az login --tenant" in text and "\n" not in text


def test_no_az_on_path(graph: FakeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with (
        GraphReader(env={"PROVISIONER_GRAPH_URL": graph.url}) as reader,
        pytest.raises(GraphSignInError, match="az login"),
    ):
        reader.whoami()


@pytest.mark.parametrize(
    ("env", "credential"),
    [
        ({"ARM_USE_MSI": "true", "ARM_CLIENT_ID": CLIENT}, "ManagedIdentityCredential"),
        ({}, "AzureCliCredential"),
        ({**BASE, "ARM_CLIENT_SECRET": CANARY}, "ClientSecretCredential"),
        (
            {**BASE, "ARM_CLIENT_SECRET": CANARY, "AZURE_AUTHORITY_HOST": "https://login.sovereign.example"},
            "ClientSecretCredential",
        ),
        ({**BASE, "ARM_USE_OIDC": "true", "ARM_OIDC_TOKEN": CANARY}, "ClientAssertionCredential"),
    ],
)
def test_each_sign_in_builds_its_azure_identity_credential(env: dict[str, str], credential: str) -> None:
    from provisioner.graph.signin import build_credential

    built = build_credential(choose_sign_in(env), env)
    assert type(built).__name__ == credential and CANARY not in repr(built)
    # (Instance discovery off for an unknown host is what lets the sign-ins above reach the fake Entra at all.)
