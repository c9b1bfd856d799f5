"""The canary table of the secret-echo tests: each secret this process can hold, set so the process really uses
it, and what a hostile or careless server echoes back in an error message.

Each row is one secret kind of `provisioner.transport.env_secrets` (and two secret shapes no variable holds).
`arrange` sets the row's variable the way a real run does: a sign-in secret signs in to the fake Entra (so the
command still reaches the server that echoes it), a token file holds the federated token, the Paragon login is
one the fake Paragon accepts. The canaries contain no English word of eight letters or more (the scrubber
redacts any 8-character run of a secret, and a word would redact ordinary text too).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from entra_fake import FakeEntra
from graph_fake import FakeGraph
from paragon_fake import FakeParagon


@dataclass(frozen=True)
class Canary:
    """One secret: ``name`` set to ``value`` (or, for a token file, a file holding it); the server echoes
    ``echoed``; ``canary`` must never be shown."""

    id: str
    name: str
    value: str
    echoed: str
    canary: str


WEBHOOK_SIG = "Sg3dF7gH1jK5lM9nB2vX"
WEBHOOK = (
    f"https://hooks.example.com/workflows/4f1c/triggers/manual/paths/invoke?api-version=2016-06-01&sig={WEBHOOK_SIG}"
)
ENTRA_SHAPED = "abc8Q~Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0Ed9C"  # 40 characters, "Q~" after the first four
JWT_SHAPED = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeQ"

CANARIES = [
    Canary("paragon-password", "PARAGON_PASSWORD", "pw-Zq7xK2vL9mW4nB8c", "pw-Zq7xK2vL9mW4nB8c", "Zq7xK2vL9mW4nB8c"),
    Canary("paragon-token", "PARAGON_ACCESS_TOKEN", "tk-Hj3kP9sQ2wE7rT5y", "tk-Hj3kP9sQ2wE7rT5y", "Hj3kP9sQ2wE7rT5y"),
    Canary("arm-client-secret", "ARM_CLIENT_SECRET", "cs-Vb6nM1qA8zX3cL0p", "cs-Vb6nM1qA8zX3cL0p", "Vb6nM1qA8zX3cL0p"),
    Canary("arm-oidc-token", "ARM_OIDC_TOKEN", "oi-Rt4yU8iO2pA6sD1f", "oi-Rt4yU8iO2pA6sD1f", "Rt4yU8iO2pA6sD1f"),
    Canary(
        "oidc-token-file", "ARM_OIDC_TOKEN_FILE_PATH", "fi-Gh5jK9lZ3xC7vB2n", "fi-Gh5jK9lZ3xC7vB2n", "Gh5jK9lZ3xC7vB2n"
    ),
    Canary(
        "actions-request-token",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "gh-Qw8eR2tY6uI0oP4a",
        "gh-Qw8eR2tY6uI0oP4a",
        "Qw8eR2tY6uI0oP4a",
    ),
    Canary("webhook-whole", "PROVISIONER_ALERT_WEBHOOK", WEBHOOK, WEBHOOK, WEBHOOK_SIG),
    Canary("webhook-sig", "PROVISIONER_ALERT_WEBHOOK", WEBHOOK, f"signature {WEBHOOK_SIG} refused", WEBHOOK_SIG),
    Canary("entra-shaped", "", "", f"secret {ENTRA_SHAPED} refused", ENTRA_SHAPED),
    Canary("jwt-shaped", "", "", f"token {JWT_SHAPED} refused", JWT_SHAPED[30:]),
]
"""Every secret kind (`provisioner.transport.env_secrets`) and two shapes no variable holds."""
SIGN_IN = ("ARM_CLIENT_SECRET", "ARM_OIDC_TOKEN", "ARM_OIDC_TOKEN_FILE_PATH", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
SIGN_IN_VARIABLES = (
    *SIGN_IN,
    "ARM_USE_OIDC",
    "ARM_USE_MSI",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ARM_OIDC_REQUEST_URL",
    "ARM_OIDC_REQUEST_TOKEN",
)
ASSERTION = "as-Kp2Lm4Nq6Rs8Tu0W"
"""The federated token GitHub's token endpoint (on the fake Graph) hands out for the request token."""


def arrange(
    row: Canary,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    *,
    entra: FakeEntra,
    graph: FakeGraph | None,
    tenant: str,
    client_id: str,
) -> None:
    """Set the row's variable so the run uses it; a sign-in row signs in to ``entra`` as ``client_id`` (GitHub's
    token endpoint is served by ``graph``; without one, no command path here asks it)."""
    if row.name in SIGN_IN:
        for name in SIGN_IN_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        try:
            entra.app(tenant, client_id)
        except KeyError:
            entra.add_app(tenant, client_id)
        entra.trust(monkeypatch)
        for name, value in (
            ("AZURE_AUTHORITY_HOST", entra.url),
            ("ARM_TENANT_ID", tenant),
            ("ARM_CLIENT_ID", client_id),
        ):
            monkeypatch.setenv(name, value)
        if row.name != "ARM_CLIENT_SECRET":
            monkeypatch.setenv("ARM_USE_OIDC", "true")
    if row.name == "ARM_CLIENT_SECRET":
        entra.add_secret(tenant, client_id, row.value)
    elif row.name in ("ARM_OIDC_TOKEN", "ARM_OIDC_TOKEN_FILE_PATH"):
        entra.add_assertion(tenant, client_id, row.value)
    elif row.name == "ACTIONS_ID_TOKEN_REQUEST_TOKEN":
        entra.add_assertion(tenant, client_id, ASSERTION)
        url = graph.github_oidc(row.value, ASSERTION) if graph else "https://token.actions.example/idtoken"
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", url)
    if row.name == "ARM_OIDC_TOKEN_FILE_PATH":
        token_file = tmp_path / "federated-token"
        token_file.write_text(row.value + "\n", encoding="utf-8")
        monkeypatch.setenv(row.name, str(token_file))
    elif row.name:
        monkeypatch.setenv(row.name, row.value)


def paragon_accepts(row: Canary, paragon: FakeParagon, email: str) -> None:
    """The fake Paragon accepts the row's Paragon login (so the run goes on to the call that echoes)."""
    if row.name == "PARAGON_PASSWORD":
        paragon.add_user(email, row.value)
    elif row.name == "PARAGON_ACCESS_TOKEN":
        paragon.accept_token(row.value)


def assert_scrubbed(row: Canary, output: str) -> None:
    """The echo was shown (scrubbed), and the secret was not."""
    assert row.canary not in output, f"{row.id}: the secret reached the output"
    if row.value:
        assert row.value not in output, f"{row.id}: the variable's value reached the output"
    assert "[redacted]" in output, f"{row.id}: the echo never reached the output, so the test proves nothing"


def ids(rows: list[Canary]) -> list[str]:
    return [r.id for r in rows]
