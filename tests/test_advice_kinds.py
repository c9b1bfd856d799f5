"""Advice fixed as kinds (adversarial review, defects 6, 7a-d, 8 and 11): one table per kind.

* every redirect URI an app registration carries follows one rule set (query only for work or school
  audiences, http loopback a warning) and Entra's count limit (256, or 100 with personal accounts);
* ``app:`` loops of any length get a fix that, applied, leaves no loop, self-share or chain;
* a scope qualified with another resource API's URI or app ID is that API's (AADSTS28000), never "write it bare";
* Dataverse national-cloud hosts are accepted; no fix ever names a host in another cloud;
* several permission names in one scope item are an error with the split list as the fix;
* no pydantic wording for any key of the model and any wrong type, and the fix names what the key accepts;
* secret-shaped keys are called keys and named by their place; ``client_id`` empty or a Microsoft resource API;
  owners over Entra's limit of 100.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provisioner.catalog import CATALOG
from provisioner.cli.app import app
from provisioner.config import load_config, load_config_report
from provisioner.config.adoption import first_party_resources
from provisioner.config.advice import TEXT_VALUES, allowed_values
from provisioner.config.model import IntegrationConfig, ParagonConfig, ProvisionerConfig, SecretPolicy
from provisioner.config.registration_problems import OWNER_LIMIT, REDIRECT_URI_LIMITS
from provisioner.config.scope_problems import NATIONAL_CLOUD_HOSTS
from provisioner.errors import ConfigError, Problem

Writer = Callable[..., Path]
HEAD = (
    "paragon:\n  project_id: 38b1f170-0c43-4eae-9a04-ab85325d99f7\n"
    "scheduled_deployer: 5b1f0d2c-7a43-4c9e-9f0e-2d6c1a8b3e71\nintegrations:\n"
)
JARGON = ("Input should", "valid string", "valid dictionary", "Field required", "Value error", "instance of", "[key]")


def records(path: Path) -> list[Problem]:
    """Every problem of a config (errors and warnings), or [] when it loads."""
    try:
        return load_config_report(path).warnings
    except ConfigError as err:
        return err.records


def errors(path: Path) -> list[Problem]:
    return [p for p in records(path) if p.severity == "error"]


# --- 6: one rule set for every redirect URI ------------------------------------------------------------------

AUDIENCES = ["AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"]
PERSONAL = {"AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"}
URIS = [
    ("https://p.example.com/oauth?x=1", "has query parameters", "error-if-personal"),
    ("https://p.example.com/oauth#f", "must not contain a fragment", "error"),
    ("https://*.example.com/oauth", "may not contain a wildcard", "error"),
    ("http://p.example.com/oauth", "must use https://", "error"),
    ("https://p.example.com/o,auth", "contains ,", "error"),
    ("http://127.0.0.1:8080/oauth", "works only for local development", "warning"),
]


def _with_uri(where: str, audience: str, uri: str) -> str:
    if where == "paragon.redirect_uri":
        head = HEAD.replace("paragon:\n", f"paragon:\n  redirect_uri: '{uri}'\n")
        return head + f"  outlook:\n    sign_in_audience: {audience}\n"
    return HEAD + f"  outlook:\n    sign_in_audience: {audience}\n    extra_redirect_uris: ['{uri}']\n"


@pytest.mark.parametrize("where", ["paragon.redirect_uri", "integrations.outlook.extra_redirect_uris[0]"])
@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize(("uri", "words", "kind"), URIS, ids=[u[1] for u in URIS])
def test_every_redirect_uri_follows_the_same_rules(
    write_config: Writer, where: str, audience: str, uri: str, words: str, kind: str
) -> None:
    found = [p for p in records(write_config(_with_uri(where, audience, uri))) if p.key == where]
    expected = kind if kind != "error-if-personal" else ("error" if audience in PERSONAL else None)
    if expected is None:
        assert found == []
        return
    [problem] = found
    assert problem.severity == expected and words in problem.message and problem.fix


@pytest.mark.parametrize(
    ("audience", "extra", "refused"),
    [
        ("AzureADMultipleOrgs", REDIRECT_URI_LIMITS["work_or_school"] - 1, False),
        ("AzureADMultipleOrgs", REDIRECT_URI_LIMITS["work_or_school"], True),
        ("AzureADandPersonalMicrosoftAccount", REDIRECT_URI_LIMITS["personal"] - 1, False),
        ("AzureADandPersonalMicrosoftAccount", REDIRECT_URI_LIMITS["personal"], True),
        ("PersonalMicrosoftAccount", 120, True),
    ],
)
def test_redirect_uris_over_entras_limit_are_refused_naming_it(
    write_config: Writer, audience: str, extra: int, refused: bool
) -> None:
    uris = ", ".join(f"https://app.example.com/cb/{n}" for n in range(extra))
    text = HEAD + f"  outlook:\n    sign_in_audience: {audience}\n    extra_redirect_uris: [{uris}]\n"
    found = [p for p in errors(write_config(text)) if p.key == "integrations.outlook.extra_redirect_uris"]
    assert bool(found) is refused
    if refused:
        limit = REDIRECT_URI_LIMITS["personal" if audience in PERSONAL else "work_or_school"]
        assert f"at most {limit}" in found[0].message and f"{extra + 1} distinct redirect URIs" in found[0].message


def test_a_repeated_redirect_uri_counts_once(write_config: Writer) -> None:
    uris = ", ".join(["https://passport.useparagon.com/oauth"] * 150)
    text = HEAD + f"  outlook:\n    sign_in_audience: PersonalMicrosoftAccount\n    extra_redirect_uris: [{uris}]\n"
    assert errors(write_config(text)) == []


# --- 7a: app: loops and chains: the fix, applied, leaves a valid sharing ---------------------------------------

APP_CASES = [
    "  outlook:\n    app: outlook\n",
    "  outlook:\n    app: onedrive\n  onedrive:\n    app: outlook\n",
    "  outlook:\n    app: onedrive\n  onedrive:\n    app: excel\n  excel:\n    app: outlook\n",
    "  outlook:\n    app: onedrive\n  onedrive:\n    app: excel\n  excel:\n    app: outlook\n  sharepoint:\n"
    "    app: excel\n",
    "  onenote:\n    app: excel\n  outlook:\n    app: onedrive\n  onedrive:\n    app: outlook\n  excel:\n"
    "    app: onedrive\n",
    "  outlook:\n    app: powerbi\n  powerbi:\n    app: outlook\n",
    "  outlook:\n    app: onedrive\n  onedrive:\n    app: excel\n  excel:\n    app: onenote\n  onenote: {}\n",
    "  powerbi:\n    app: powerbi\n  outlook:\n    app: powerbi\n",
]
APP_IDS = ["self", "two", "three", "three-and-pointer", "pointer-chain-into-loop", "two-apis", "chain", "into-self"]


def _apply(blocks: dict[str, str | None], problem: Problem) -> None:
    """Apply one `app:` fix to ``blocks`` (integration key -> its `app:` target)."""
    key = problem.key.split(".")[1]
    for step in problem.fix.split("; "):
        step = step.split(" (the one without")[0]
        if match := re.fullmatch(r"remove `app:` from (.+)", step):
            for name in match[1].split(", "):
                blocks[name] = None
        elif match := re.fullmatch(r"write `app: (\w+)` on (.+)", step):
            for name in match[2].split(", "):
                blocks[name] = match[1]
        elif match := re.fullmatch(r"(?:fix the `app:` loop first \(.+\), then )?write `app: (\w+)`", step):
            blocks[key] = match[1]
        elif re.fullmatch(r"fix the `app:` loop first \(.+\), then keep `app: \w+`", step):
            pass  # right once the loop is fixed
        elif match := re.fullmatch(r"fix integrations\.(\w+)\.app first .*", step):
            pass  # the integration named gets its own line
        elif step.startswith("remove `app:`"):
            blocks[key] = None
        else:
            raise AssertionError(f"an app: fix not understood: {problem.fix!r}")


def _text(blocks: dict[str, str | None]) -> str:
    return HEAD + "".join(f"  {k}:\n    app: {v}\n" if v else f"  {k}: {{}}\n" for k, v in blocks.items())


@pytest.mark.parametrize("block", APP_CASES, ids=APP_IDS)
def test_app_fixes_applied_leave_no_loop_self_share_or_chain(write_config: Writer, block: str) -> None:
    blocks: dict[str, str | None] = dict(re.findall(r"  (\w+):(?:\n    app: (\w+))?", block))
    blocks = {k: v or None for k, v in blocks.items()}
    for _ in range(3):
        app_problems = [p for p in errors(write_config(_text(blocks))) if p.key.endswith(".app")]
        if not app_problems:
            break
        for problem in app_problems:
            _apply(blocks, problem)
            assert all(target != key for key, target in blocks.items()), f"a self-share: {problem.fix}"
    else:
        raise AssertionError(f"fixes did not converge: {blocks}")
    config = load_config(write_config(_text(blocks)))
    for key, integration in config.integrations.items():
        assert integration.app != key and (integration.app is None or config.integrations[integration.app].app is None)


def test_a_loop_is_reported_once_at_the_app_that_goes(write_config: Writer) -> None:
    [problem] = errors(write_config(HEAD + APP_CASES[2]))
    assert problem.key == "integrations.outlook.app"
    assert "loop (outlook -> onedrive -> excel -> outlook)" in problem.message
    assert problem.fix.startswith("remove `app:` from outlook; write `app: outlook` on onedrive")


# --- 7b: a scope qualified with another resource API's URI -----------------------------------------------------

OTHER_RESOURCE = [
    ("powerbi", "https://graph.microsoft.com/User.Read", "Microsoft Graph"),
    ("powerbi", "https://graph.microsoft.us/User.Read", "Microsoft Graph"),
    ("powerbi", "00000003-0000-0000-c000-000000000000/User.Read", "Microsoft Graph"),
    ("outlook", "https://analysis.windows.net/powerbi/api/Dataset.Read.All", "Power BI Service"),
    ("outlook", "499b84ac-1321-427f-aa17-267ca6975798/vso.work", "Azure DevOps"),
    ("outlook", "https://contoso.crm.dynamics.com/user_impersonation", "Dynamics CRM (Dataverse)"),
    ("azuredevops", "https://api.businesscentral.dynamics.com/Financials.ReadWrite.All", "Business Central"),
    ("microsoftDynamics", "https://microsoftgraph.chinacloudapi.cn/Mail.Read", "Microsoft Graph"),
    ("powerbi", "https://management.azure.com/user_impersonation", "another resource"),
]


@pytest.mark.parametrize(("key", "scope", "owner"), OTHER_RESOURCE, ids=[s for _, s, _ in OTHER_RESOURCE])
def test_a_scope_of_another_resource_api_is_that_apis(write_config: Writer, key: str, scope: str, owner: str) -> None:
    [problem] = [p for p in errors(write_config(HEAD + f"  {key}:\n    scopes: ['{scope}']\n")) if "scopes" in p.key]
    assert owner in problem.message and "AADSTS28000" in problem.message
    assert problem.fix.startswith("remove it") and "bare" not in problem.message + problem.fix


OWN_RESOURCE = [
    ("powerbi", "https://analysis.windows.net/powerbi/api/Dataset.Read.All", "Dataset.Read.All"),
    ("outlook", "https://graph.microsoft.com/Mail.Read", "Mail.Read"),
    ("outlook", "api://00000003-0000-0000-c000-000000000000/Mail.Read", "Mail.Read"),
    ("azuredevops", "499b84ac-1321-427f-aa17-267ca6975798/vso.work", "vso.work"),
    ("microsoftDynamics", "https://contoso.crm.microsoftdynamics.us/user_impersonation", "user_impersonation"),
]


@pytest.mark.parametrize(("key", "scope", "bare"), OWN_RESOURCE, ids=[s for _, s, _ in OWN_RESOURCE])
def test_a_scope_qualified_with_its_own_resource_is_written_bare(
    write_config: Writer, key: str, scope: str, bare: str
) -> None:
    [problem] = [p for p in errors(write_config(HEAD + f"  {key}:\n    scopes: ['{scope}']\n")) if "scopes" in p.key]
    assert f"write the bare permission name ({bare!r})" in problem.message


# --- 7c: national clouds ---------------------------------------------------------------------------------------

CLOUD_SUFFIXES = {
    "commercial": (".dynamics.com",),
    "us": (".microsoftdynamics.us", ".appsplatform.us", ".dynamics.us"),
    "cn": (".dynamics.cn",),
}


def _cloud(host: str) -> str | None:
    return next((c for c, ends in CLOUD_SUFFIXES.items() if host.endswith(ends)), None)


NATIONAL = [
    ("microsoftDynamics", "https://contoso.crm.microsoftdynamics.us", ""),
    ("microsoftDynamics", "https://contoso.crm.appsplatform.us", ""),
    ("microsoftDynamics", "https://contoso.crm.dynamics.cn", ""),
    ("microsoftDynamics", "https://contoso.crm9.dynamics.com", ""),
    ("microsoftDynamics", "https://contoso.crm.microsoftdynamics.us/", "trailing slash"),
    ("microsoftDynamics", "http://contoso.crm.appsplatform.us", "https://"),
    ("microsoftDynamics", "https://contoso.crm.dynamics.cn/main.aspx", "no path"),
    ("microsoftDynamics", "https://contoso.crm.microsoftdynamics.de", "national clouds are not supported"),
    ("dynamicsfinance", "https://contoso.operations.dynamics.us", "national clouds are not supported"),
    ("dynamicsfinance", "https://contoso.operations.dynamics.cn", "national clouds are not supported"),
    ("dynamicsfinance", "https://contoso.operations.dynamics.cn/", "national clouds are not supported"),
]


@pytest.mark.parametrize(("key", "url", "words"), NATIONAL, ids=[u for _, u, _ in NATIONAL])
def test_national_cloud_hosts_never_get_another_clouds_host(
    write_config: Writer, key: str, url: str, words: str
) -> None:
    name = CATALOG[key].environment_value
    found = errors(write_config(HEAD + f"  {key}:\n    paragon_values: {{{name}: '{url}'}}\n"))
    if not words:
        assert found == []
        return
    [problem] = found
    assert words in problem.message + " " + problem.fix
    own = _cloud(url.split("://")[1].split("/")[0])
    for host in re.findall(r"https://([a-z0-9.<>-]+)", problem.fix):
        assert _cloud(host) in (own, None) or "<org>" in host or "<env>" in host, problem.fix


def test_every_national_cloud_pattern_is_accepted(write_config: Writer) -> None:
    for key, clouds in NATIONAL_CLOUD_HOSTS.items():
        name = CATALOG[key].environment_value
        for _, _, example in clouds:
            url = "https://" + example.replace("<org>", "contoso")
            assert errors(write_config(HEAD + f"  {key}:\n    paragon_values: {{{name}: '{url}'}}\n")) == [], url


# --- 7d: several permission names in one scope item -------------------------------------------------------------

SEVERAL = [
    ("'Mail.Read Calendars.Read'", ["Mail.Read", "Calendars.Read"]),
    ("'Mail.Read,Calendars.Read'", ["Mail.Read", "Calendars.Read"]),
    ("'Mail.Read;  User.Read  Files.Read'", ["Mail.Read", "User.Read", "Files.Read"]),
    ("'Mail.Read, offline_access'", ["Mail.Read", "offline_access"]),
]


@pytest.mark.parametrize(("item", "names"), SEVERAL, ids=[i for i, _ in SEVERAL])
def test_several_names_in_one_item_are_an_error_with_the_split_list(
    write_config: Writer, item: str, names: list[str]
) -> None:
    path = write_config(HEAD + f"  outlook:\n    scopes: [{item}]\n")
    [problem] = [p for p in errors(path) if p.key == "integrations.outlook.scopes[0]"]
    assert "one permission name per item" in problem.fix and f"[{', '.join(names)}]" in problem.fix
    assert CliRunner().invoke(app, ["validate", str(path)]).exit_code == 1


def test_several_names_in_one_string_get_the_split_list(write_config: Writer) -> None:
    [problem] = errors(write_config(HEAD + "  outlook:\n    scopes: 'Mail.Read Calendars.Read'\n"))
    assert problem.fix == "one permission name per item: write [Mail.Read, Calendars.Read]"


# --- 8: no pydantic wording, and the fix names what the key accepts ---------------------------------------------


def _fields() -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    rows += [("paragon", n) for n in ParagonConfig.model_fields if n != "project_id"]
    rows += [(n,) for n in ProvisionerConfig.model_fields if n not in ("paragon", "integrations")]
    rows += [("integrations", "powerbi", n) for n in IntegrationConfig.model_fields]
    rows += [("integrations", "powerbi", "secret", n) for n in SecretPolicy.model_fields]
    return rows


WRONG = {"list": "[a, b]", "one-item": "[x]", "dict": "{a: b}", "number": "7", "bool": "true", "null": "null"}
ENUMS = {"sign_in_audience", "requested_access_token_version", "paragon_scope_format"}
SHAPES = ("`key: value` lines", "indent its keys under it", "delete it (and rotate")


def _place(loc: tuple[str, ...], value: str) -> str:
    head = HEAD.replace("scheduled_deployer: 5b1f0d2c-7a43-4c9e-9f0e-2d6c1a8b3e71\n", "")
    if loc[0] == "paragon":
        return head.replace("paragon:\n", f"paragon:\n  {loc[1]}: {value}\n") + "  powerbi: {}\n"
    if len(loc) == 1:
        return head + "  powerbi: {}\n" + f"{loc[0]}: {value}\n"
    if len(loc) == 3:
        return head + f"  powerbi:\n    {loc[2]}: {value}\n"
    return head + f"  powerbi:\n    secret:\n      {loc[3]}: {value}\n"


CASES = [
    pytest.param(loc, kind, id=f"{'.'.join(loc)}-{kind}")
    for loc in _fields()
    for kind in [*WRONG, "wrong-enum"]
    if kind != "wrong-enum" or loc[-1] in ENUMS  # a wrong enum value only where the key has a fixed set of values
]


@pytest.mark.parametrize(("loc", "kind"), CASES)
def test_every_field_and_wrong_type_is_plain_words_naming_the_allowed_values(
    write_config: Writer, loc: tuple[str, ...], kind: str
) -> None:
    found = records(write_config(_place(loc, WRONG.get(kind, "Sometimes"))))
    for problem in found:
        assert not any(j in str(problem) for j in JARGON), str(problem)
        assert ". Fix: " in str(problem)
    here = [
        p for p in found if p.severity == "error" and p.key.startswith(".".join(loc).replace(".powerbi", ".powerbi"))
    ]
    for problem in here:
        if problem.key != ".".join(loc):
            continue  # an item of a list or mapping: held by its own row of the table
        allowed = allowed_values(loc)
        assert allowed in problem.fix or any(s in problem.fix for s in SHAPES) or "did you mean" in problem.fix, str(
            problem
        )


def test_every_text_key_of_the_model_has_words_for_its_values() -> None:
    text_fields = {
        name
        for model in (ParagonConfig, ProvisionerConfig, IntegrationConfig)
        for name, info in model.model_fields.items()
        if "str" in str(info.annotation)
        and "dict" not in str(info.annotation)
        and "Literal" not in str(info.annotation)
    }
    assert text_fields <= set(TEXT_VALUES), text_fields - set(TEXT_VALUES)


def test_the_reported_cases_read_plainly(write_config: Writer) -> None:
    head = HEAD.replace("scheduled_deployer: 5b1f0d2c-7a43-4c9e-9f0e-2d6c1a8b3e71\n", "")
    [listed] = errors(
        write_config(
            head.replace("integrations:", "scheduled_deployer: [5b1f0d2c-7a43-4c9e-9f0e-2d6c1a8b3e71]\nintegrations:")
            + "  powerbi: {}\n"
        )
    )
    assert listed.message == "expected one object ID (a GUID) of a service principal, not a list"
    assert listed.fix.startswith("write the value alone on the key's line, without [ ]")
    [version] = errors(write_config(HEAD + "  outlook:\n    requested_access_token_version: 3\n"))
    assert (version.message, version.fix) == ("must be 1 or 2, got 3", "write 1 or 2")
    [audience] = errors(write_config(HEAD + "  outlook:\n    sign_in_audience: azureadmultipleorgs\n"))
    assert audience.fix.startswith("did you mean 'AzureADMultipleOrgs'? write one of AzureADMyOrg")


# --- 11: secret-shaped keys, client_id, owners ------------------------------------------------------------------

SECRET_KEY = "Xy18Q~CANARYS3CRET9f8e7dAbCdEfGhIjKlMnOp"
KEY_PLACES = [
    (f"{SECRET_KEY}: 1\n", "(top level)"),
    (f"paragon_extra:\n  {SECRET_KEY}: x\n", "paragon_extra"),
]


@pytest.mark.parametrize(("tail", "where"), KEY_PLACES, ids=["top-level", "nested"])
def test_a_secret_shaped_key_is_called_a_key_and_named_by_its_place(
    write_config: Writer, tail: str, where: str
) -> None:
    text = HEAD + "  powerbi:\n    display_name: [x]\n" + tail
    found = records(write_config(text))
    [secret] = [p for p in found if "the key on this line" in p.message]
    assert secret.key == where and "value" not in secret.message.replace("not its value", "")
    assert all(SECRET_KEY not in str(p) and "CANARY" not in str(p) for p in found)
    assert any(p.key == "integrations.powerbi.display_name" for p in found), "other problems are still reported"


@pytest.mark.parametrize(
    ("value", "words"), [("", "is empty"), ("null", "is empty"), ("''", "must be the application")]
)
def test_an_empty_client_id_is_an_error(write_config: Writer, value: str, words: str) -> None:
    [problem] = errors(write_config(HEAD + f"  powerbi:\n    client_id: {value}\n"))
    assert problem.key == "integrations.powerbi.client_id" and words in problem.message


@pytest.mark.parametrize("client_id", sorted(first_party_resources()))
@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_a_microsoft_resource_apis_id_is_no_client_id(
    write_config: Writer, client_id: str, case: Callable[[str], str]
) -> None:
    [problem] = errors(write_config(HEAD + f"  powerbi:\n    client_id: {case(client_id)}\n"))
    assert f"is the application ID of {first_party_resources()[client_id]}" in problem.message
    assert "your own app registration" in problem.fix


def test_graph_is_among_the_refused_ids() -> None:
    assert first_party_resources()["00000003-0000-0000-c000-000000000000"] == "Microsoft Graph"


@pytest.mark.parametrize(
    ("owners", "scheduled", "refused"),
    [
        (OWNER_LIMIT - 1, True, False),
        (OWNER_LIMIT, True, True),
        (OWNER_LIMIT - 1, False, False),
        (OWNER_LIMIT, False, True),
    ],
)
def test_owners_over_entras_limit_are_refused_naming_it(
    write_config: Writer, owners: int, scheduled: bool, refused: bool
) -> None:
    ids = ", ".join(f"11111111-2222-3333-4444-{n:012d}" for n in range(owners))
    head = HEAD if scheduled else HEAD.replace("scheduled_deployer: 5b1f0d2c-7a43-4c9e-9f0e-2d6c1a8b3e71\n", "")
    found = [p for p in errors(write_config(head + f"  powerbi:\n    owners: [{ids}]\n")) if p.key.endswith(".owners")]
    assert bool(found) is refused
    if refused:
        assert f"at most {OWNER_LIMIT} owners" in found[0].message


SHAPES_ELSEWHERE = [
    "  powerbi:\n    paragon_values: {1: x, true: y}\n",
    "  powerbi:\n    paragon_values: {a: [x], b: null, c: {d: e}}\n",
    "  powerbi:\n    scopes: [[a], {b: c}, null, 3, true]\n",
    "  powerbi:\n    owners: [[a], {b: c}, null, 3]\n",
    "  powerbi:\n    extra_redirect_uris: [[a], {b: c}, null, 3]\n",
    "  powerbi: 3\n",
    "  powerbi: [a]\n",
    "  3: {}\n",
    "  null: {}\n",
    "  powerbi:\n    secret: [a]\n",
]


@pytest.mark.parametrize("block", SHAPES_ELSEWHERE)
def test_items_keys_and_sections_of_the_wrong_type_are_plain_words(write_config: Writer, block: str) -> None:
    found = errors(write_config(HEAD + block))
    assert found
    for problem in found:
        assert not any(j in str(problem) for j in JARGON) and problem.fix, str(problem)
        assert "correct the value" not in problem.fix, str(problem)
