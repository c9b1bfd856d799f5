"""`read_back_problem`: what counts as Paragon holding something other than what was pushed (the whole kind)."""

from __future__ import annotations

from typing import Any

import pytest

from provisioner.paragon.models import DecryptedCredential
from provisioner.paragon.readback import read_back_problem

CLIENT = "11111111-2222-4333-8444-555555555555"
SECRET = "pushed-secret-canary-0123456789"
SCOPES = "https://analysis.windows.net/powerbi/api/Dataset.Read.All offline_access"


def held(**values: Any) -> DecryptedCredential:
    base: dict[str, Any] = {"clientId": CLIENT, "clientSecret": SECRET, "scopes": SCOPES}
    base.update(values)
    return DecryptedCredential.model_validate(
        {"id": "cred-1", "values": {k: v for k, v in base.items() if v is not None}}
    )


@pytest.mark.parametrize(
    ("credential", "expected"),
    [
        (held(), None),
        (held(scopes="offline_access https://analysis.windows.net/powerbi/api/Dataset.Read.All"), None),
        (held(scopes=SCOPES.split()), None),  # Paragon may answer a list
        (held(clientId="ffffffff-0000-4000-8000-000000000000"), "client ID is 'ffffffff-0000-4000-8000-000000000000'"),
        (held(scopes="offline_access"), "scopes are 'offline_access'"),
        (held(clientSecret="another-value"), "the client secret differs (SHA-256 fingerprints differ)"),
        (held(clientSecret=None), "it holds no client secret"),
        (held(scopes=None), "scopes are nothing"),
        (None, "Paragon has no such credential right after the PUT (404)"),
    ],
)
def test_each_difference_is_named_and_the_secret_never_shown(
    credential: DecryptedCredential | None, expected: str | None
) -> None:
    problem = read_back_problem(credential, client_id=CLIENT, scopes=SCOPES, secret=SECRET)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and expected in problem and SECRET not in problem and "another-value" not in problem


def test_several_differences_are_one_line() -> None:
    problem = read_back_problem(held(clientId="x", scopes="a\x1bb"), client_id=CLIENT, scopes=SCOPES, secret=SECRET)
    assert problem is not None and "\n" not in problem and "\x1b" not in problem and problem.count("; ") == 1
