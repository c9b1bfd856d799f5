"""Shapes of Paragon API responses and request payloads (``shared/reference/paragon-api.md``).

Response models tolerate unknown fields (Paragon's dashboard API changes without notice); request payloads
are strict. The secret in a decrypted credential is a `SecretStr`, so it never shows in a repr.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from provisioner.catalog import reserved_value_keys


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Integration(_Response):
    """An integration added to a Paragon project (``GET /projects/{id}/integrations``)."""

    id: str
    type: str = Field(description="Integration key, e.g. powerbi; 'custom' for custom integrations.")
    project_id: str | None = Field(None, alias="projectId")
    is_active: bool | None = Field(None, alias="isActive")


class Credential(_Response):
    """A stored credential (``PUT /projects/{id}/credentials/oauth`` and the credentials list)."""

    id: str
    integration_id: str | None = Field(None, alias="integrationId")
    scheme: str | None = None
    provider: str | None = None
    status: str | None = None


class CredentialValues(_Response):
    """The values of a decrypted OAuth app credential."""

    client_id: str | None = Field(None, alias="clientId")
    client_secret: SecretStr | None = Field(None, alias="clientSecret")
    scopes: str | list[str] | None = None

    @property
    def scope_string(self) -> str | None:
        """Scopes as one space-separated string, whichever shape Paragon returned."""
        if isinstance(self.scopes, list):
            return " ".join(self.scopes)
        return self.scopes


class DecryptedCredential(_Response):
    """``GET /projects/{id}/credentials/{credentialId}/decrypted``. Holds the secret: never log it."""

    id: str
    integration_id: str | None = Field(None, alias="integrationId")
    scheme: str | None = None
    values: CredentialValues


class OAuthCredentialValues(BaseModel):
    """``values`` of the upsert body: client ID, client secret, scopes as ONE space-separated string.

    ``extra_values`` (non-secret strings, e.g. a Dynamics organization URL) are sent as further keys of
    ``values``, next to the three; Paragon does not document them.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    client_id: str = Field(alias="clientId", min_length=1)
    client_secret: SecretStr = Field(alias="clientSecret")
    scopes: str
    extra_values: dict[str, str] = Field(default_factory=dict, exclude=True)

    @field_validator("extra_values")
    @classmethod
    def _no_reserved_keys(cls, extra: dict[str, str]) -> dict[str, str]:
        clash = reserved_value_keys(extra)
        if clash:
            raise ValueError(f"extra values may not set {', '.join(clash)}")
        return extra


class OAuthCredentialUpsert(BaseModel):
    """Body of ``PUT /projects/{projectId}/credentials/oauth`` (create and update alike)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str
    provider: str
    scheme: str = "oauth_app"
    integration_id: str = Field(alias="integrationId")
    values: OAuthCredentialValues

    def wire(self) -> dict[str, object]:
        """The JSON body, secret revealed: build it at the last moment and never log it."""
        body = self.model_dump(by_alias=True)
        body["values"] = {**self.values.extra_values, **body["values"]}
        body["values"]["clientSecret"] = self.values.client_secret.get_secret_value()
        return body
