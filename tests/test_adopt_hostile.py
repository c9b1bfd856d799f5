"""``adopt`` treats every value read from the live app as untrusted input, end to end against the fake Graph.

One table of hostile kinds (a newline with a YAML injection, ``#``, ``: ``, quotes, flow indicators, typed
scalars, ESC, U+202E, user info holding a canary password, a wildcard, http, a fragment, a space, too long). Each
run puts that kind into every field the report or the config edits take from the live app at once: the display
name, a Web, an SPA and a public client redirect URI, an owner's UPN, another owner's display name, the
hand-made secret's description and the resource API publisher's name. Then:

* the suggested config edits parse back to exactly the intended keys and values, and a config holding them
  loads with those values (so ``validate`` accepts every suggestion);
* a live redirect URI the config's rules refuse is flagged (why, and what to do), never suggested;
* the canary password never appears; no control or invisible formatting character is printed raw, and each
  field is shown with them escaped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from graph_fake import POWERBI_APP_ID, FakeGraph
from paragon_fake import FakeParagon
from test_adopt import (
    CLIENT_ID,
    CONFIG,
    EXTRA_URI,
    PARAGON_PASSWORD,
    SECRET_CANARY,
    config_file,
    env,  # noqa: F401  (fixture)
    graph,  # noqa: F401  (fixture)
    hand_made_app,
    paragon,  # noqa: F401  (fixture)
)
from typer.testing import CliRunner

from provisioner.cli.app import app
from provisioner.config import load_config

CANARY = "CANARY-S3CRET-9f8e7d"
INJECTED = "    owners: [11111111-2222-4333-8444-555555555555]  # pwn"
runner = CliRunner()

# kind: (text value, URI value, text kept?, URI kept?, why a refused URI is refused)
KINDS: dict[str, tuple[str, str, bool, bool, str]] = {
    "newline-yaml": (f"Evil: x\n{INJECTED}", f"https://x.example/cb\n{INJECTED}", False, False, "control"),
    "comment": ("Paragon Power BI #prod", "https://x.example/cb #prod", True, False, "space"),
    "mapping": ("Paragon: Power BI", "https://x.example/cb?k=v: w", True, False, "space"),
    "quotes": ('it\'s "quoted"', 'https://x.example/cb?q="x"', True, True, ""),
    "flow": ("Paragon [prod] {x}, y", "https://x.example/cb/[v]{w}", True, True, ""),
    "typed": ("null", "https://x.example/yes", True, True, ""),
    "esc": ("x\x1b[31mRED", "https://x.example/\x1b[2Jcb", False, False, "control"),
    "bidi": ("e\u202egvil", "https://x.example/\u202ecb", False, False, "invisible"),
    "userinfo": (
        f"see https://u:{CANARY}@x.example/cb",
        f"https://u:{CANARY}@x.example/cb",
        False,
        False,
        "user name or password",
    ),
    "wildcard": ("Paragon * BI", "https://*.example.com/cb", True, False, "wildcard"),
    "http": ("http://insecure.example/cb", "http://insecure.example/cb", True, False, "https://"),
    "fragment": ("Paragon#1", "https://x.example/cb#f", True, False, "fragment"),
    "space": ("  Paragon  Power BI  ", "https://x.example/a b", True, False, "space"),
    "long": ("P" * 121, "https://x.example/" + "a" * 250, False, False, "256"),
}


def escaped(text: str) -> str:
    """``text`` as the report must show it: user info redacted, control and format characters as escapes."""
    text = re.sub(r"(https?://)[^/?#]*@", r"\1[redacted]@", text)
    return re.sub(
        "[\x00-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]",
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}",
        text,
    )


def raw_controls(text: str) -> list[str]:
    return sorted(set(re.findall("[\x00-\x09\x0b-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]", text)))


def suggested(output: str) -> tuple[dict[str, Any], list[str], list[str]]:
    """The config edits the report printed: the mapping they parse to, their comment lines, and all their lines."""
    section = output.split("Config edits under integrations.powerbi in ", 1)[1].splitlines()[1:]
    lines = []
    for line in section:
        if not line.startswith("    "):
            break
        lines.append(line[4:])
    parsed = yaml.safe_load("\n".join(lines))
    return parsed, [line for line in lines if line.startswith("#")], lines


def hostile_app(fake: FakeGraph, text: str, uri: str) -> list[str]:
    """The hand-made app with ``text``/``uri`` in every field read from it; returns the owner IDs in Graph order."""
    made = hand_made_app(fake)
    made.json["displayName"] = text
    made.json["web"]["redirectUris"].append(uri)
    made.json["spa"]["redirectUris"] = [uri.replace("/cb", "/spa", 1)]
    made.json["publicClient"]["redirectUris"] = [uri.replace("/cb", "/native", 1)]
    made.json["passwordCredentials"][0]["displayName"] = text
    made.owners.append(
        {
            "@odata.type": "#microsoft.graph.user",
            "id": "99999999-2222-4333-8444-555555555555",
            "displayName": "Eve",
            "userPrincipalName": f"upn {text}",
        }
    )
    made.owners.append(
        {
            "@odata.type": "#microsoft.graph.servicePrincipal",
            "id": "88888888-2222-4333-8444-555555555555",
            "displayName": f"sp {text}",
            "appId": "77777777-2222-4333-8444-555555555555",
        }
    )
    fake.service_principals[POWERBI_APP_ID]["displayName"] = f"publisher {text}"
    return [str(o["id"]) for o in made.owners]


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_live_value_is_untrusted_input(
    kind: str,
    graph: FakeGraph,  # noqa: F811
    paragon: FakeParagon,  # noqa: F811
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    text, uri, text_kept, uri_kept, why = KINDS[kind]
    owners = hostile_app(graph, text, uri)
    result = runner.invoke(
        app,
        ["adopt", "--config", str(config_file(tmp_path)), "--integration", "powerbi", "--client-id", CLIENT_ID],
        color=True,  # keep whatever is printed as printed (click strips ANSI sequences otherwise)
    )
    assert result.exit_code == 0, result.output
    out = result.output
    for secret in (CANARY, SECRET_CANARY, PARAGON_PASSWORD):
        assert secret not in out
    assert raw_controls(out) == []

    # The config edits: exactly the intended keys and values, nothing injected.
    parsed, comments, lines = suggested(out)
    expected: dict[str, Any] = {"client_id": CLIENT_ID}
    if text_kept:
        expected["display_name"] = text
    expected["extra_redirect_uris"] = [EXTRA_URI, uri] if uri_kept else [EXTRA_URI]
    expected["owners"] = owners
    assert parsed == expected, out
    assert ("# not kept: display name " + escaped(text) + " (the config refuses it)" in comments) is not text_kept
    # ... and the config with them pasted in loads with those very values (validate accepts every suggestion).
    edited = CONFIG + "".join(f"    {line}\n" for line in lines)
    loaded = load_config(config_file(tmp_path, edited, name="edited.yaml")).integrations["powerbi"]
    assert (loaded.display_name, loaded.extra_redirect_uris, loaded.owners) == (
        expected.get("display_name"),
        expected["extra_redirect_uris"],
        owners,
    )

    # A redirect URI the config refuses is flagged with why and what to do, never suggested.
    line = next(x for x in out.splitlines() if x.startswith(f"  ! remove Web redirect URI {escaped(uri)}:"))
    if uri_kept:
        assert line.endswith(f"Avoid it: add {uri} to integrations.powerbi.extra_redirect_uris")
    else:
        assert "Avoid it" not in line and ". Cannot keep it: it " in line and why in line.split("Cannot keep it")[1]
        assert "pulumi up removes it, so sign-ins that send it fail (AADSTS50011). Fix it in Entra first" in line
        assert f"# not kept: Web redirect URI {escaped(uri)} (the config refuses it)" in comments

    # Every field is shown, escaped and redacted.
    spa, native = uri.replace("/cb", "/spa", 1), uri.replace("/cb", "/native", 1)
    shown = {
        "display name": f"Adopting app registration '{escaped(text)}' (client ID",
        "SPA redirect URI": f"! remove SPA redirect URI {escaped(spa)}:",
        "public client redirect URI": f"! remove public client redirect URI {escaped(native)}:",
        "owner UPN": f"- remove owner {owners[1]}: upn {escaped(text)} loses the right",
        "owner display name": f"- remove owner {owners[2]}: sp {escaped(text)} loses the right",
        "publisher name": f"! remove permission publisher {escaped(text)} Workspace.Read.All:",
        "secret description": "(a description shaped like a credential: not shown)"
        if kind == "userinfo"
        else f" '{escaped(text)}', ends 2027-03-01T00:00:00Z",
    }
    for field, wanted in shown.items():
        assert wanted in out, (field, wanted, out)


@pytest.mark.parametrize(("audience", "kept"), [("AzureADMultipleOrgs", True), ("PersonalMicrosoftAccount", False)])
def test_a_redirect_uri_with_a_query_is_kept_only_for_work_accounts(
    audience: str,
    kept: bool,
    graph: FakeGraph,  # noqa: F811
    paragon: FakeParagon,  # noqa: F811
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """Entra allows a ``?query`` only for apps that sign in work or school accounts; the suggested edits keep the
    live audience, so that audience decides."""
    made = hand_made_app(graph, audience=audience)
    made.json["passwordCredentials"] = []  # no hand-made secret: personal-account apps hold at most two
    query = "https://app.contoso.example/cb?tenant=contoso"
    made.json["web"]["redirectUris"].append(query)
    result = runner.invoke(
        app, ["adopt", "--config", str(config_file(tmp_path)), "--integration", "powerbi", "--client-id", CLIENT_ID]
    )
    assert result.exit_code == 0, result.output
    parsed, comments, _ = suggested(result.output)
    assert parsed.get("sign_in_audience", "AzureADMultipleOrgs") == audience
    assert (query in parsed["extra_redirect_uris"]) is kept
    if not kept:
        assert f"# not kept: Web redirect URI {query} (the config refuses it)" in comments
        assert "Cannot keep it: it has a ?query, which Entra allows only for apps that sign in work" in result.output
