"""Self-test of the Paragon fake (tests/paragon_fake.py), talking to it with httpx directly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from paragon_fake import FakeParagon, Fault  # tests/ has no __init__.py: pytest puts it on sys.path

EMAIL, PASSWORD, PROJECT = "admin@example.com", "s3cret", "proj-1"
P = f"/projects/{PROJECT}"
SCOPES = "Dataset.Read.All offline_access"


def _body(name: str = "Power BI app", *, secret: str = "secret-1", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "provider": "powerbi",
        "scheme": "oauth_app",
        "values": {"clientId": "client-1", "clientSecret": secret, "scopes": SCOPES},
        **extra,
    }


@pytest.fixture
def fake() -> Iterator[FakeParagon]:
    with FakeParagon() as f:
        f.add_user(EMAIL, PASSWORD)
        f.add_project(PROJECT)
        yield f


@pytest.fixture
def client(fake: FakeParagon) -> Iterator[httpx.Client]:
    fake.accept_token("tok")
    with httpx.Client(base_url=fake.url, headers={"Authorization": "Bearer tok"}, timeout=2.0) as c:
        yield c


def test_login_issues_token_and_every_other_call_needs_a_live_one(fake: FakeParagon) -> None:
    with httpx.Client(base_url=fake.url, timeout=2.0) as c:
        bad = c.post("/auth/login/email", json={"username": EMAIL, "password": "nope"})
        assert bad.status_code == 401 and "message" in bad.json() and bad.json()["meta"]["errors"]
        assert c.post("/auth/login/email", content=b"not json").status_code == 400
        assert c.post("/auth/login/email", json={"username": EMAIL}).status_code == 400

        login = c.post("/auth/login/email", json={"username": EMAIL, "password": PASSWORD})
        assert login.status_code == 201
        token = login.json()["accessToken"]
        assert token.count(".") == 2  # JWT-shaped

        anon = c.get(f"{P}/integrations")
        assert anon.status_code == 401 and anon.json()["message"] == "Unauthorized"
        auth = {"Authorization": f"Bearer {token}"}
        assert c.get(f"{P}/integrations", headers=auth).status_code == 200
        missing = c.get("/projects/nope/integrations", headers=auth)
        assert missing.status_code == 404 and missing.json()["message"] == "Project not found"
        assert c.get("/no/such/route", headers=auth).status_code == 404

        fake.expire_tokens()
        assert c.get(f"{P}/integrations", headers=auth).status_code == 401
    assert fake.count("POST", "/auth/login/email") == 4
    assert fake.requests[0].json == {"username": EMAIL, "password": "nope"}


def test_bare_list_shape_ignores_paging_params() -> None:
    with FakeParagon(list_shape="bare") as fake:
        fake.accept_token("t")
        ids = [fake.add_integration(PROJECT, t) for t in ("powerbi", "outlook", "excel")]
        r = httpx.get(f"{fake.url}{P}/integrations?size=1", headers={"Authorization": "Bearer t"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    items = r.json()
    assert isinstance(items, list) and [i["id"] for i in items] == ids
    assert items[0]["type"] == "powerbi" and items[0]["isActive"] is False
    assert items[0]["customIntegrationId"] is None and "configs" not in items[0]


def test_paged_list_shape_follows_cursor(fake: FakeParagon, client: httpx.Client) -> None:
    ids = [fake.add_integration(PROJECT, t) for t in ("powerbi", "outlook", "excel")]
    first = client.get(f"{P}/integrations").json()
    assert [i["id"] for i in first["items"]] == ids[:2] and first["nextPageCursor"]
    assert first["items"][0]["configs"] == {} and first["items"][0]["resourceId"] is None
    second = client.get(f"{P}/integrations", params={"cursor": first["nextPageCursor"]}).json()
    assert [i["id"] for i in second["items"]] == ids[2:] and second["nextPageCursor"] is None
    whole = client.get(f"{P}/integrations", params={"size": 10}).json()
    assert len(whole["items"]) == 3 and whole["nextPageCursor"] is None
    assert client.get(f"{P}/integrations", params={"cursor": "junk"}).status_code == 400


def test_get_and_patch_integration(fake: FakeParagon, client: httpx.Client) -> None:
    iid = fake.add_integration(PROJECT, "powerbi", integration_id="int-1")
    assert client.get(f"{P}/integrations/{iid}").json()["type"] == "powerbi"
    assert client.get(f"{P}/integrations/nope").status_code == 404
    assert client.patch(f"{P}/integrations/{iid}", json={"isActive": "yes"}).status_code == 400
    patched = client.patch(f"{P}/integrations/{iid}", json={"isActive": True})
    assert patched.status_code == 200 and patched.json()["isActive"] is True
    assert fake.integration(PROJECT, iid) == patched.json()


def test_put_upserts_keeps_id_and_decrypted_read_returns_values(fake: FakeParagon, client: httpx.Client) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    created = client.put(f"{P}/credentials/oauth", json=_body(integrationId=iid))
    assert created.status_code == 200
    cred = created.json()
    assert "values" not in cred and cred["status"] == "VALID" and cred["integrationId"] == iid

    updated = client.put(f"{P}/credentials/oauth", json=_body(secret="secret-2", integrationId=iid))
    assert updated.status_code == 200 and updated.json()["id"] == cred["id"]
    listed = client.get(f"{P}/credentials").json()
    assert [c["id"] for c in listed] == [cred["id"]] and "values" not in listed[0]

    dec = client.get(f"{P}/credentials/{cred['id']}/decrypted").json()
    assert dec["values"]["clientSecret"] == "secret-2" and dec["scheme"] == "oauth_app"
    stored = fake.credential_for(PROJECT, iid)
    assert stored is not None and stored["values"] == dec["values"] and len(fake.credentials) == 1


def test_put_validates_strictly(fake: FakeParagon, client: httpx.Client) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    url = f"{P}/credentials/oauth"
    unknown = client.put(url, json=_body(integrationId=iid, extra=1))
    assert unknown.status_code == 400
    assert {"error": "property extra should not exist"} in unknown.json()["meta"]["errors"]
    bad_scopes = _body(integrationId=iid)
    bad_scopes["values"]["scopes"] = ["a", "b"]
    assert client.put(url, json=bad_scopes).status_code == 400
    assert client.put(url, json=_body(integrationId="nope")).status_code == 400
    assert client.put(url, json=_body(integrationId=iid, scheme="oauth")).status_code == 400
    assert fake.credentials == {}


def test_delete_then_404(fake: FakeParagon, client: httpx.Client) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    cid = client.put(f"{P}/credentials/oauth", json=_body(integrationId=iid)).json()["id"]
    first = client.delete(f"{P}/credentials/{cid}")
    assert first.status_code == 200 and first.json() == {}
    assert client.delete(f"{P}/credentials/{cid}").status_code == 404
    assert client.get(f"{P}/credentials/{cid}/decrypted").status_code == 404
    assert fake.credential_for(PROJECT, iid) is None


def test_scripted_429_with_retry_after_then_normal(fake: FakeParagon, client: httpx.Client) -> None:
    iid = fake.add_integration(PROJECT, "powerbi")
    fake.script("PUT", r"/projects/[^/]+/credentials/oauth", Fault(429, headers={"Retry-After": "1"}))
    url = f"{P}/credentials/oauth"
    limited = client.put(url, json=_body(integrationId=iid))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert limited.json()["message"] == "Too Many Requests"
    assert fake.credential_for(PROJECT, iid) is None  # the faulted request changed nothing
    assert client.put(url, json=_body(integrationId=iid)).status_code == 200
    assert fake.count("PUT", r"/projects/.*/credentials/oauth") == 2 and fake.pending_faults() == 0


def test_drop_and_delay(fake: FakeParagon, client: httpx.Client) -> None:
    fake.script("GET", r".*/integrations", Fault(drop=True), Fault(delay=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"{P}/integrations")
    with pytest.raises(httpx.ReadTimeout):
        client.get(f"{P}/integrations", timeout=0.05)
    assert client.get(f"{P}/integrations").status_code == 200
    fake.script("GET", r".*/integrations", Fault(200, delay=0.02, headers={"X-Slow": "1"}))
    slow = client.get(f"{P}/integrations")
    assert slow.status_code == 200 and slow.headers["x-slow"] == "1" and "items" in slow.json()
    assert fake.count("GET") == 4 and fake.server_errors == []
