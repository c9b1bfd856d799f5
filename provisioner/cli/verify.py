"""``status --verify``: prove that the client secret Paragon holds right now is accepted by Entra ID.

For each configured integration the stack has deployed: read its credential from Paragon
(``GET .../credentials/{paragon_credential_id}/decrypted``, the Paragon login from ``PARAGON_*``), then request a
token for the client ID Paragon holds with the secret Paragon holds, in the app's tenant (``tenant_id`` from
the stack outputs), through `provisioner.entra.secret_check` (``fresh=False``: only "no answer" is retried,
inside `VERIFY_WINDOW_SECONDS`). The secret is never printed, logged or sent anywhere but the token endpoint.

Verdicts: ``accepted``; ``refused`` (Entra refused it: an AADSTS code); ``missing`` (Paragon holds no
credential or no secret for it); ``unverified`` (the check could not be made: no Paragon login, Paragon or
Entra unreachable, outputs without a tenant); ``skipped`` (not deployed yet). A refused or missing secret is
exit code `REFUSED_EXIT` (6), above every other verdict: connected users are failing now.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Final, Literal

from provisioner.config import ProvisionerConfig
from provisioner.entra.secret_check import verify_client_secret
from provisioner.errors import ConfigError, EntraError, InvalidEnvironmentValue, ParagonError, SecretRefused
from provisioner.paragon.client import ParagonClient, RetryPolicy
from provisioner.paragon.login import base_url_from, login_from
from provisioner.transport.scrub import scrub_message

if TYPE_CHECKING:
    from rich.console import Console

REFUSED_EXIT: Final = 6
"""Exit code of ``status --verify`` when Entra refuses the secret Paragon holds (or Paragon holds none)."""
VERIFY_WINDOW_SECONDS: Final = 30.0
"""Time to keep trying Entra per integration when it does not answer (an old secret is never retried)."""

Verdict = Literal["accepted", "refused", "missing", "unverified", "skipped"]


@dataclass(frozen=True)
class HeldSecretCheck:
    """One integration's line of ``status --verify``.

    Attributes:
        integration: Paragon integration key.
        verdict: See the module docstring.
        detail: One line for people (never a secret).
        code: Entra's AADSTS code when it refused.
    """

    integration: str
    verdict: Verdict
    detail: str
    code: int | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def _deployed(outputs: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    integrations = outputs.get("integrations")
    found = integrations.get(key) if isinstance(integrations, Mapping) else None
    return found if isinstance(found, Mapping) else None


def verify_held_secrets(
    outputs: Mapping[str, Any],
    config: ProvisionerConfig,
    env: Mapping[str, str] | None = None,
    *,
    window_seconds: float | None = None,
) -> list[HeldSecretCheck]:
    """Check every configured integration's secret as Paragon holds it (see the module docstring).

    Args:
        outputs: Stack outputs (``pulumi stack output --json``): ``integrations.<key>.tenant_id`` and
            ``paragon_credential_id`` are used.
        config: The stack's validated config (Paragon project, host, CA bundle, retry budget).
        env: Environment with the Paragon login and ``AZURE_AUTHORITY_HOST`` (default ``os.environ``).
        window_seconds: Time budget per integration for Entra (default `VERIFY_WINDOW_SECONDS`, read at call time).

    Returns:
        One `HeldSecretCheck` per configured integration, in config order, each detail scrubbed of every secret
        ``env`` and the process hold and of credential-shaped text (`scrub_message`: a Paragon or Entra answer may
        echo one). Never raises for a failed check.
    """
    env = os.environ if env is None else env
    window = VERIFY_WINDOW_SECONDS if window_seconds is None else window_seconds
    paragon = config.paragon
    checks: list[HeldSecretCheck] = []
    try:
        client: ParagonClient | None = ParagonClient(
            base_url_from(paragon.base_url, env),
            login_from(env),
            retry=RetryPolicy(total_seconds=paragon.retry_timeout_seconds),
            ca_bundle=paragon.ca_bundle,
        )
        no_client = ""
    except (ParagonError, InvalidEnvironmentValue, ConfigError) as err:
        client, no_client = None, str(err)
    try:
        for key in config.integrations:
            checks.append(_check_one(key, _deployed(outputs, key), config, env, client, no_client, window))
    finally:
        if client is not None:
            client.close()
    return [replace(c, detail=scrub_message(c.detail, env=env)) for c in checks]


def _check_one(
    key: str,
    deployed: Mapping[str, Any] | None,
    config: ProvisionerConfig,
    env: Mapping[str, str],
    client: ParagonClient | None,
    no_client: str,
    window_seconds: float,
) -> HeldSecretCheck:
    if deployed is None:
        return HeldSecretCheck(key, "skipped", "not deployed yet")
    tenant, credential_id = deployed.get("tenant_id"), deployed.get("paragon_credential_id")
    if not isinstance(tenant, str) or not isinstance(credential_id, str) or not tenant or not credential_id:
        return HeldSecretCheck(
            key, "unverified", "stack outputs lack tenant_id or paragon_credential_id: run pulumi up with this version"
        )
    if client is None:
        return HeldSecretCheck(key, "unverified", f"cannot read the credential from Paragon: {no_client}")
    try:
        held = client.get_decrypted_credential(config.paragon.project_id, credential_id)
    except ParagonError as err:
        return HeldSecretCheck(key, "unverified", f"cannot read the credential from Paragon: {err}")
    if held is None or held.values.client_secret is None or not held.values.client_id:
        what = "no credential" if held is None else "a credential without a client ID or secret"
        return HeldSecretCheck(
            key,
            "missing",
            f"Paragon holds {what} for {key} (credential {credential_id}): connected users cannot refresh tokens. "
            "Fix: run pulumi up --refresh",
        )
    try:
        verified = verify_client_secret(
            tenant,
            held.values.client_id,
            held.values.client_secret,
            window_seconds=window_seconds,
            fresh=False,
            what=f"{key}: the secret Paragon holds",
            env=env,
        )
    except SecretRefused as err:
        return HeldSecretCheck(key, "refused", str(err), err.code)
    except (EntraError, InvalidEnvironmentValue) as err:  # no answer, untrusted TLS, a bad AZURE_AUTHORITY_HOST
        return HeldSecretCheck(key, "unverified", str(err))
    return HeldSecretCheck(
        key, "accepted", f"Entra issued a token to app {held.values.client_id} with it ({verified.at_rfc3339})"
    )


def combined_exit_code(expiry_code: int, checks: list[HeldSecretCheck]) -> int:
    """The status exit code with ``--verify``: 6 when a secret is refused or missing, else the expiry report's
    code when it is not 0, else 1 when a check could not be made, else 0."""
    if any(c.verdict in ("refused", "missing") for c in checks):
        return REFUSED_EXIT
    if expiry_code:
        return expiry_code
    return 1 if any(c.verdict == "unverified" for c in checks) else 0


def render_checks(checks: list[HeldSecretCheck], console: Console) -> None:
    """The checks as a table: integration, verdict (coloured), detail."""
    from rich.markup import escape
    from rich.table import Table

    style = {"accepted": "green", "skipped": "dim", "unverified": "yellow", "refused": "red", "missing": "red"}
    table = Table(title="The secret Paragon holds, checked with Entra (--verify)")
    for column in ("Integration", "Result", "Detail"):
        table.add_column(column, overflow="fold")
    for check in checks:
        table.add_row(check.integration, f"[{style[check.verdict]}]{check.verdict.upper()}[/]", escape(check.detail))
    console.print(table)
