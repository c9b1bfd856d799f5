"""The Paragon API client: login, integrations, OAuth app credentials (``shared/reference/paragon-api.md``).

All knowledge of Paragon's HTTP shapes lives here. Paragon publishes no official API for this; these are
the dashboard's endpoints as the community Terraform provider exercises them, so every response is
checked and an unexpected one fails with a message naming the endpoint and what was missing.

The endpoints live here; the retries, deadline, login and token cache under them in
`provisioner.paragon.base` (`ParagonSession`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pydantic import SecretStr

from provisioner.errors import (
    IntegrationNotInProject,
    ParagonResponseError,
)
from provisioner.paragon.base import ParagonSession
from provisioner.paragon.models import (
    Credential,
    DecryptedCredential,
    Integration,
    OAuthCredentialUpsert,
    OAuthCredentialValues,
)
from provisioner.paragon.session import SessionCache
from provisioner.transport.retry import RetryPolicy, parse_retry_after
from provisioner.transport.scrub import scrub_secrets

DEFAULT_PAGE_SIZE: Final = 100
"""``size`` asked of the paged (2025) integrations list."""
MAX_PAGES: Final = 1000
"""Guard against a cursor that never ends."""


class ParagonClient(ParagonSession):
    """A client for one Paragon host and login: integrations and OAuth app credentials.

    Construct it as `ParagonSession` (base URL, login, transport options); use as a context manager, or call
    `close`. Every method raises subclasses of `provisioner.errors.ParagonError`; messages never hold a secret.
    """

    # --- integrations ----------------------------------------------------------------------------------

    def _pages(self, project_id: str) -> Iterator[Any]:
        """Every item of every page, under one deadline; a cursor seen before ends it with ParagonResponseError."""
        path = f"/projects/{project_id}/integrations"
        endpoint = f"GET {path}"
        params: dict[str, str] = {"size": str(DEFAULT_PAGE_SIZE)}
        deadline = self._deadline()
        seen: set[str] = set()  # every cursor followed so far
        for page in range(1, MAX_PAGES + 1):
            payload = self._json(self._send("GET", path, params=params, deadline=deadline), endpoint)
            if isinstance(payload, list):  # 2024 shape: a bare array
                yield from payload
                return
            if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
                raise ParagonResponseError(f"{endpoint}: expected a JSON array or an object with 'items'")
            yield from payload["items"]
            cursor = payload.get("nextPageCursor")
            if not cursor:
                return
            if str(cursor) in seen:
                raise ParagonResponseError(
                    f"{endpoint}: page {page} returned a nextPageCursor already followed; the list does not "
                    "advance, so it was stopped (a Paragon pagination fault: retry later or report it to Paragon)"
                )
            seen.add(str(cursor))
            params = {"size": str(DEFAULT_PAGE_SIZE), "cursor": str(cursor)}
        raise ParagonResponseError(f"{endpoint}: more than {MAX_PAGES} pages; the cursor does not end")

    def list_integrations(self, project_id: str, *, refresh: bool = False) -> list[Integration]:
        """All integrations of a project, following the cursor of the paged (2025) shape; cached per client cache.

        Raises:
            ParagonNotFound: The project does not exist (or is not visible to this login).
            ParagonResponseError: Neither known list shape.
        """
        key = (self.base_url, self._login.identity, project_id)
        endpoint = f"GET /projects/{project_id}/integrations"

        def fetch() -> list[Integration]:
            return [self._parse(Integration, item, endpoint) for item in self._pages(project_id)]

        if refresh:
            items = fetch()
            self._cache.store_integrations(key, items)
            return items
        return self._cache.integrations_or_fetch(key, fetch, self._flight_wait)

    def find_integration(self, project_id: str, integration_key: str) -> Integration:
        """The built-in integration ``integration_key`` (e.g. ``powerbi``) of the project.

        Raises:
            IntegrationNotInProject: It has not been added to the project.
        """
        for integration in self.list_integrations(project_id):
            if integration.type == integration_key:
                return integration
        raise IntegrationNotInProject(
            f"integration {integration_key!r} is not added to Paragon project {project_id}: add it from the "
            "Catalog in the Paragon dashboard (Catalog → the integration → Connect), then re-run"
        )

    def set_integration_active(self, project_id: str, integration_id: str, active: bool) -> Integration:
        """``PATCH /projects/{p}/integrations/{i}`` with ``{"isActive": active}``.

        Raises:
            ParagonAPIError: An error status after retries (`ParagonNotFound` for an unknown project or object,
                `ParagonAuthError` for a refused login); ParagonResponseError: an unexpected body;
                ParagonTransportError / ParagonTimeout: no answer within ``retry_timeout_seconds``.
        """
        path = f"/projects/{project_id}/integrations/{integration_id}"
        response = self._send("PATCH", path, json={"isActive": active})
        return self._parse(Integration, self._json(response, f"PATCH {path}"), f"PATCH {path}")

    # --- OAuth app credentials -------------------------------------------------------------------------

    def upsert_oauth_credential(
        self,
        project_id: str,
        integration: Integration,
        *,
        name: str,
        client_id: str,
        client_secret: SecretStr,
        scopes: str,
        extra_values: Mapping[str, str] | None = None,
    ) -> Credential:
        """Create or update the integration's OAuth app credential (``PUT .../credentials/oauth``).

        Args:
            project_id: The Paragon project.
            integration: From `find_integration`.
            name: Label shown in Paragon.
            client_id: Application (client) ID.
            client_secret: The client secret value.
            scopes: ONE string, scopes separated by single spaces.
            extra_values: Non-secret values merged into ``values`` next to the three above (an integration's
                extra settings, e.g. a Dynamics organization URL); they may not use those three keys.

        Returns:
            The stored credential (its ``id`` identifies it for reads and deletes).
        """
        body = OAuthCredentialUpsert(
            name=name,
            provider=integration.type,
            integration_id=integration.id,
            values=OAuthCredentialValues(
                client_id=client_id, client_secret=client_secret, scopes=scopes, extra_values=dict(extra_values or {})
            ),
        )
        path = f"/projects/{project_id}/credentials/oauth"
        # Idempotent upsert: a retried PUT with the same body leaves the same state, so retrying is safe.
        response = self._send("PUT", path, json=body.wire(), redact=(client_secret.get_secret_value(),))
        return self._parse(Credential, self._json(response, f"PUT {path}"), f"PUT {path}")

    def get_decrypted_credential(self, project_id: str, credential_id: str) -> DecryptedCredential | None:
        """The credential with its values (secret included: never log it), or None when it is gone.

        Raises:
            ParagonAPIError: An error status after retries (`ParagonNotFound` for an unknown project or object,
                `ParagonAuthError` for a refused login); ParagonResponseError: an unexpected body;
                ParagonTransportError / ParagonTimeout: no answer within ``retry_timeout_seconds``.
        """
        path = f"/projects/{project_id}/credentials/{credential_id}/decrypted"
        response = self._send("GET", path, allow=(404,))
        if response.status_code == 404:
            return None
        return self._parse(DecryptedCredential, self._json(response, f"GET {path}"), f"GET {path}")

    def list_credentials(self, project_id: str) -> list[Credential]:
        """``GET /projects/{p}/credentials``: a bare array of credentials (without values).

        Raises:
            ParagonAPIError: An error status after retries (`ParagonNotFound` for an unknown project or object,
                `ParagonAuthError` for a refused login); ParagonResponseError: an unexpected body;
                ParagonTransportError / ParagonTimeout: no answer within ``retry_timeout_seconds``.
        """
        path = f"/projects/{project_id}/credentials"
        payload = self._json(self._send("GET", path), f"GET {path}")
        if not isinstance(payload, list):
            raise ParagonResponseError(f"GET {path}: expected a JSON array")
        return [self._parse(Credential, item, f"GET {path}") for item in payload]

    def find_oauth_credential(self, project_id: str, integration_id: str) -> Credential | None:
        """The ``oauth_app`` credential of an integration, if one exists.

        Raises:
            ParagonAPIError: An error status after retries (`ParagonNotFound` for an unknown project or object,
                `ParagonAuthError` for a refused login); ParagonResponseError: an unexpected body;
                ParagonTransportError / ParagonTimeout: no answer within ``retry_timeout_seconds``.
        """
        for credential in self.list_credentials(project_id):
            if credential.integration_id == integration_id and credential.scheme == "oauth_app":
                return credential
        return None

    def delete_credential(self, project_id: str, credential_id: str) -> bool:
        """Delete a credential. Returns False when it was already gone (404).

        Raises:
            ParagonAPIError: An error status after retries (`ParagonNotFound` for an unknown project or object,
                `ParagonAuthError` for a refused login); ParagonResponseError: an unexpected body;
                ParagonTransportError / ParagonTimeout: no answer within ``retry_timeout_seconds``.
        """
        path = f"/projects/{project_id}/credentials/{credential_id}"
        response = self._send("DELETE", path, allow=(404,))
        return response.status_code != 404


__all__ = [
    "ParagonClient",
    "RetryPolicy",
    "SessionCache",
    "parse_retry_after",
    "scrub_secrets",
]
