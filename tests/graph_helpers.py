"""Shared pieces of the Graph reader tests: a signed-in environment on the fake Entra, a fake `az`, JWTs."""

from __future__ import annotations

import base64
import json
import stat
import sys
import time
from pathlib import Path
from typing import Any

TENANT = "11111111-1111-4111-8111-111111111111"
CLIENT = "22222222-2222-4222-8222-222222222222"
CANARY = "canary~SECRET.value_0123456789abcdef"
"""A client secret / federated token value that must never show up in a message, repr or log."""


def jwt(claims: dict[str, Any]) -> str:
    """An unsigned JWT with these claims (the fakes do not check signatures)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'typ': 'JWT', 'alg': 'none'})}.{part(claims)}.sig"


USER_CLAIMS = {
    "oid": "33333333-3333-4333-8333-333333333333",
    "tid": TENANT,
    "upn": "ada@contoso.example",
    "name": "Ada",
    "scp": "Application.Read.All Policy.Read.All User.Read",
    "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
}

FAKE_AZ = """#!{python}
import json, sys, time
from pathlib import Path
here = Path(__file__).resolve().parent
with open(here / "az.log", "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
spec = json.loads((here / "az.json").read_text())
if spec.get("stderr"):
    sys.stderr.write(spec["stderr"])
    sys.exit(1)
print(json.dumps({{"accessToken": spec["token"], "expiresOn": "2099-01-01 00:00:00.000000",
                  "expires_on": int(time.time()) + 3600, "tenant": spec.get("tenant"), "tokenType": "Bearer"}}))
"""


def install_az(folder: Path, *, token: str = "", stderr: str = "", tenant: str = TENANT) -> Path:
    """A fake ``az`` in ``folder`` printing ``az account get-access-token`` JSON (or failing with ``stderr``)."""
    folder.mkdir(exist_ok=True)
    script = folder / "az"
    script.write_text(FAKE_AZ.format(python=sys.executable), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (folder / "az.json").write_text(
        json.dumps(
            {"token": token or jwt({**USER_CLAIMS, "exp": int(time.time()) + 3600}), "stderr": stderr, "tenant": tenant}
        ),
        encoding="utf-8",
    )
    return folder


def az_calls(folder: Path) -> list[list[str]]:
    log = folder / "az.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
