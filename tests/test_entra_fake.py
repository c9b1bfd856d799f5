"""The fake token endpoint answers MSAL and azure-identity as Entra does (so tests built on it mean something)."""

from __future__ import annotations

from collections.abc import Iterator

import msal
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential
from entra_fake import GRAPH_DEFAULT_SCOPE, FakeEntra, Scripted, fingerprint

TENANT = "11111111-1111-4111-8111-111111111111"
CLIENT = "22222222-2222-4222-8222-222222222222"
CANARY = "canary~SECRET.value_0123456789abcdef"


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEntra]:
    with FakeEntra() as fake:
        fake.trust(monkeypatch)
        fake.add_app(TENANT, CLIENT)
        yield fake


def _msal(entra: FakeEntra, secret: str) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        CLIENT, client_credential=secret, authority=f"{entra.url}/{TENANT}", instance_discovery=False
    )


def test_msal_gets_a_token_with_a_valid_secret(entra: FakeEntra) -> None:
    entra.add_secret(TENANT, CLIENT, CANARY)
    result = _msal(entra, CANARY).acquire_token_for_client(scopes=[GRAPH_DEFAULT_SCOPE])
    assert "access_token" in result, result
    [request] = entra.token_requests(CLIENT)
    assert request.secret_fingerprint == fingerprint(CANARY) and request.status == 200


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (lambda f: f.add_secret(TENANT, CLIENT, "another-secret-value"), 7000215),
        (lambda f: f.add_secret(TENANT, CLIENT, CANARY, expired=True), 7000222),
        (lambda f: setattr(f.app(TENANT, CLIENT), "has_service_principal", False), 7000229),
        (lambda f: setattr(f.app(TENANT, CLIENT), "disabled", True), 7000112),
    ],
)
def test_refusals_carry_entras_error_codes(entra: FakeEntra, setup: object, code: int) -> None:
    setup(entra)  # type: ignore[operator]
    result = _msal(entra, CANARY).acquire_token_for_client(scopes=[GRAPH_DEFAULT_SCOPE])
    assert code in result.get("error_codes", []), result
    assert CANARY not in repr(entra.requests)


def test_a_fresh_secret_fails_while_it_replicates(entra: FakeEntra) -> None:
    entra.add_secret(TENANT, CLIENT, CANARY, fails_before_usable=2)
    answers = [_msal(entra, CANARY).acquire_token_for_client(scopes=[GRAPH_DEFAULT_SCOPE]) for _ in range(3)]
    assert [7000215 in a.get("error_codes", []) for a in answers] == [True, True, False]
    assert "access_token" in answers[2]


def test_azure_identity_client_secret_credential(entra: FakeEntra) -> None:
    entra.add_secret(TENANT, CLIENT, CANARY)
    good = ClientSecretCredential(TENANT, CLIENT, CANARY, authority=entra.url, disable_instance_discovery=True)
    assert good.get_token(GRAPH_DEFAULT_SCOPE).token.count(".") == 2
    bad = ClientSecretCredential(
        TENANT, CLIENT, "wrong-value-xyz", authority=entra.url, disable_instance_discovery=True
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        bad.get_token(GRAPH_DEFAULT_SCOPE)


def test_scripted_answers_come_first_in_order_then_entra_answers_again(entra: FakeEntra) -> None:
    entra.add_secret(TENANT, CLIENT, CANARY)
    entra.script(Scripted(503), Scripted.throttled("3"), Scripted.garbage(200))
    app = _msal(entra, CANARY)

    with pytest.raises(msal.exceptions.MsalServiceError, match="503"):
        app.acquire_token_for_client(scopes=[GRAPH_DEFAULT_SCOPE])
    throttled = _msal(entra, CANARY).acquire_token_for_client(scopes=[GRAPH_DEFAULT_SCOPE])
    assert throttled["error"] == "temporarily_unavailable"
    with pytest.raises(ValueError):  # the gateway's page is not JSON
        _msal(entra, CANARY).acquire_token_for_client(scopes=[GRAPH_DEFAULT_SCOPE])
    assert "access_token" in _msal(entra, CANARY).acquire_token_for_client(scopes=[GRAPH_DEFAULT_SCOPE])

    assert [r.status for r in entra.token_requests(CLIENT)] == [503, 429, 200, 200]
    assert {r.secret_fingerprint for r in entra.token_requests(CLIENT)} == {fingerprint(CANARY)}
