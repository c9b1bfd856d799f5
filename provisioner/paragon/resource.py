"""The Paragon OAuth credential as a Pulumi dynamic resource (type ``dynamic/paragon:OAuthCredential``).

Inputs (wire names): ``projectId``, ``integrationKey``, ``baseUrl``, ``credentialName``, ``clientId``,
``clientSecret`` (a Pulumi secret), ``scopes`` (ONE space-separated string), ``activate``,
``deleteOnDestroy``, ``retryTimeoutSeconds``, ``caBundle`` (a PEM file path or null), ``extraValues``
(only when non-empty: non-secret strings merged into the credential's ``values`` next to
clientId/clientSecret/scopes), ``tenantId`` (the app's home tenant; not secret) and ``verifyTimeoutSeconds``
(0 skips verification). Outputs add ``credentialId``, ``integrationId``, ``secretFingerprint`` and
``secretVerifiedAt``; the secret itself is never an output.

A push is verified on both sides (docs/rotation.md): before a new secret goes to Paragon (create, or an
update whose secret fingerprint changed), the provider proves that Entra accepts it with a client-credentials
token request against ``tenantId`` (`provisioner.entra.secret_check`, retried inside ``verifyTimeoutSeconds``
while a new secret replicates); a refusal fails the step and nothing is pushed, so Paragon keeps its previous
secret. After every push it reads the credential back (`provisioner.paragon.readback`) and fails when Paragon
holds another client ID, other scopes or another secret. ``secretVerifiedAt`` (UTC RFC 3339) records when Entra
last accepted the secret pushed; without ``tenantId`` (or with ``verifyTimeoutSeconds`` 0) it stays null.
``tenantId`` and ``verifyTimeoutSeconds`` are never compared by ``diff``: stacks deployed before they existed
see no change, and changing them alone calls nobody (they act at the next push).

The provider object is pickled into state and run in Pulumi's dynamic provider process, so it holds no
client, token or login: each method builds a `ParagonClient` from the environment at call time
(`provisioner.paragon.login`). The process-wide objects are module globals, created in the provider process
and never pickled: `PROCESS_SESSIONS`, the token and integrations-list cache the call budget needs (1 login
+ 1 list + K PUTs for K changed integrations), and `PROCESS_HTTP`, the HTTP clients (one per CA setting,
each with its SSL context and keep-alive connections) shared by every call and gRPC thread.

``check`` and ``diff`` are local (no Paragon call, ever). During preview, inputs not known yet arrive as
`pulumi.output.Unknown` (the SDK's provider server decodes with unknowns kept) or as the engine's
``rpc.UNKNOWN`` string; `is_unknown` recognises both, ``check`` lets them through, and ``diff`` reports an
unknown secret or client ID as an update and an unknown project or integration key as a replace. A changed
secret is detected by comparing a SHA-256 fingerprint of the new value with the one in state. ``read``
(``pulumi refresh``) fetches what Paragon holds, so drift in client ID, scopes or secret, or a deleted
credential, shows in the next preview and is restored by ``pulumi up``.

Replacements delete first. Paragon keeps one OAuth credential per integration and the create is an upsert,
so a create-before-delete replacement would upsert the same credential (same ID) and then, with
``deleteOnDestroy``, delete it: Paragon would end with no credential while state says it has one. So
`OAuthCredential` sets ``delete_before_replace`` and ``diff`` answers ``deleteBeforeReplace``, which also
covers replacements the engine starts itself (``pulumi up --replace``/``--target-replace``). A renamed or
re-parented resource without an alias is a create plus a delete of another URN, not a replacement: give it
an ``aliases`` option.

Secrets: ``clientSecret`` is a resource input, so Pulumi stores it in state encrypted as a Pulumi secret; the
outputs this provider returns never hold it, only ``secretFingerprint``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pydantic import SecretStr

from provisioner.catalog import reserved_value_keys
from provisioner.config import check_base_url
from provisioner.entra.secret_check import DEFAULT_WINDOW_SECONDS, verify_client_secret
from provisioner.errors import ProvisionerError, ReadBackMismatch
from provisioner.paragon.client import ParagonClient, RetryPolicy, SessionCache
from provisioner.paragon.login import STACK_CONFIG_KEYS, base_url_from, login_from
from provisioner.paragon.pickle_patch import pickler_restored
from provisioner.paragon.readback import read_back_problem
from provisioner.paragon.readback import secret_fingerprint as secret_fingerprint  # re-exported: its old home
from provisioner.transport.connections import HttpClientPool

log = logging.getLogger("provisioner.paragon")

PROCESS_SESSIONS: Final = SessionCache()
"""Token and integrations cache for the dynamic provider process (see the module docstring)."""
PROCESS_HTTP: Final = HttpClientPool()
"""HTTP clients for the dynamic provider process, created lazily (see the module docstring)."""

REPLACE_ON: Final = ("projectId", "integrationKey")
"""Inputs whose change means a different credential in Paragon: replace, not update."""
UPDATE_ON: Final = ("baseUrl", "clientId", "scopes", "credentialName", "activate", "extraValues")
"""Inputs pushed to Paragon in place when they change (plus the secret, by fingerprint)."""
SETTINGS_ONLY: Final = ("deleteOnDestroy", "retryTimeoutSeconds", "caBundle")
"""Inputs that only change how the provider behaves: recorded in state without calling Paragon."""
NOT_DIFFED: Final = ("tenantId", "verifyTimeoutSeconds")
"""Inputs used only at the next push: never a change by themselves (old states lack them; see the docstring)."""


IMPORT_NOT_SUPPORTED: Final = (
    "`pulumi import` does not apply to this dynamic resource: the engine calls Read with no inputs, so the "
    "provider cannot know the Paragon project, host or integration. Declare the integration in "
    "config/<stack>.yaml and run `pulumi up`: the idempotent upsert adopts the existing Paragon credential"
)
"""The one-line error of a Read without inputs (``pulumi import``, or ``import_`` in resource options)."""


class ImportNotSupported(ProvisionerError):
    """Read was called without the resource's inputs (an import); see `IMPORT_NOT_SUPPORTED`."""


def _plain(value: Any) -> Any:
    """Unwrap a value that arrives in Pulumi's secret wire form; pass others through."""
    if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        return value.get("value")
    return value


def is_unknown(value: Any) -> bool:
    """True for a value not known yet during preview, in any form the provider process can see it.

    The SDK's provider server (``pulumi/dynamic/__main__.py``) decodes Check and Diff inputs with unknowns
    kept, as `pulumi.output.Unknown` instances; the engine's wire sentinel is the string `rpc.UNKNOWN`. Either
    may be wrapped in Pulumi's secret wire form (an unknown secret).
    """
    plain = _plain(value)
    return isinstance(plain, Unknown) or (isinstance(plain, str) and plain == rpc.UNKNOWN)


def contains_unknown(value: Any) -> bool:
    """True when ``value`` is unknown or holds an unknown at any depth (``{"organizationUrl": <unknown>}``)."""
    plain = _plain(value)
    if is_unknown(plain):
        return True
    if isinstance(plain, Mapping):
        return any(contains_unknown(v) for v in plain.values())
    if isinstance(plain, (list, tuple)):
        return any(contains_unknown(v) for v in plain)
    return False


def extra_values_problem(value: Any) -> str | None:
    """Why ``extraValues`` is unusable (not a map of text to text, or a reserved key), or None when fine.

    A value not known yet (preview: `is_unknown`, possibly secret-wrapped) counts as text: it is checked when
    it is known.
    """
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and (isinstance(_plain(v), str) or is_unknown(v)) for k, v in value.items()
    ):
        return "extraValues must map names to strings"
    clash = reserved_value_keys(value)
    return f"extraValues may not set {', '.join(clash)} (set by the provisioner)" if clash else None


def _extra_values(props: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (_plain(props.get("extraValues")) or {}).items()}


def _changed(olds: Mapping[str, Any], news: Mapping[str, Any], keys: tuple[str, ...]) -> list[str]:
    """Those of ``keys`` whose new value is unknown or differs from state."""
    return [k for k in keys if contains_unknown(news.get(k)) or _plain(olds.get(k)) != _plain(news.get(k))]


def _secret_changed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """True when the new client secret is unknown or its fingerprint differs from the one in state."""
    secret = news.get("clientSecret")
    return is_unknown(secret) or olds.get("secretFingerprint") != secret_fingerprint(str(_plain(secret)))


# CONTRACT: do not move or rename this class. The SDK pickles the provider into every stack's state by its
# import path, ``provisioner.paragon.resource.ParagonCredentialProvider`` (tests/fixtures/provider-v1.b64 is
# such a blob), and `pulumi refresh` / `pulumi destroy` unpickle the blob stored at the last create or
# update: a moved class breaks every deployed stack. If it ever must move, keep an alias at this path
# (``from new.place import ParagonCredentialProvider``) until every stack has run `pulumi up` once since.
class ParagonCredentialProvider(ResourceProvider):
    """CRUD for one integration's OAuth app credential in Paragon. Holds no state of its own."""

    def configure(self, req: ConfigureRequest) -> None:
        """Read optional secret stack config (``paragonEmail``, ``paragonPassword``, ``paragonAccessToken``).

        Runs in the provider process only; the values are kept on this in-process instance (never
        pickled, never in state) and used when the environment has no login.
        """
        values = {key: req.config.get(key) for key in STACK_CONFIG_KEYS.values()}
        self._stack_login = {k: SecretStr(str(v)) for k, v in values.items() if v}

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the stack-config login (it exists only in the provider process)."""
        return {k: v for k, v in self.__dict__.items() if k != "_stack_login"}

    def _client(self, props: Mapping[str, Any]) -> ParagonClient:
        stack_login = {k: v.get_secret_value() for k, v in getattr(self, "_stack_login", {}).items()}
        login = login_from(os.environ, stack_login)
        base_url = base_url_from(str(props["baseUrl"]), os.environ)
        retry = RetryPolicy(total_seconds=float(props.get("retryTimeoutSeconds") or 120.0))
        ca_bundle = props.get("caBundle") or None
        return ParagonClient(
            base_url, login, retry=retry, cache=PROCESS_SESSIONS, clients=PROCESS_HTTP, ca_bundle=ca_bundle
        )

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs locally (no network): required values present, https base URL, scopes a string.

        A value not known yet (preview, see `is_unknown`) is never a failure: it is checked when it is known.
        """
        failures: list[CheckFailure] = []
        for key in (
            "projectId",
            "integrationKey",
            "baseUrl",
            "credentialName",
            "clientId",
            "clientSecret",
            "scopes",
        ):
            if _plain(news.get(key)) in (None, ""):
                failures.append(CheckFailure(key, f"{key} is required"))
        scopes = news.get("scopes")
        if scopes is not None and not is_unknown(scopes):
            if not isinstance(_plain(scopes), str) or "  " in _plain(scopes):
                failures.append(CheckFailure("scopes", "scopes must be one string with single spaces"))
        extra = news.get("extraValues")
        if extra is not None and not is_unknown(extra):
            problem = extra_values_problem(_plain(extra))
            if problem:
                failures.append(CheckFailure("extraValues", problem))
        window = _plain(news.get("verifyTimeoutSeconds"))
        if window is not None and not is_unknown(window):
            if isinstance(window, bool) or not isinstance(window, int | float) or not 0 <= window <= 3600:
                failures.append(CheckFailure("verifyTimeoutSeconds", "verifyTimeoutSeconds must be 0 to 3600 seconds"))
        tenant = news.get("tenantId")
        if tenant is not None and not is_unknown(tenant) and (not isinstance(_plain(tenant), str) or not tenant):
            failures.append(CheckFailure("tenantId", "tenantId must be the app's home tenant ID"))
        base_url = news.get("baseUrl")
        if isinstance(base_url, str) and not is_unknown(base_url):
            try:
                check_base_url(base_url, "baseUrl")
            except ValueError as err:
                failures.append(CheckFailure("baseUrl", str(err)))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare state with new inputs, without calling Paragon.

        An unknown project or integration key is a replace, any other unknown an update. The answer always
        carries ``delete_before_replace=True`` (the engine reads it only when it replaces, including
        ``--replace``): Paragon keeps one credential per integration, see the module docstring. `NOT_DIFFED`
        inputs are never compared.
        """
        replaces = _changed(olds, news, REPLACE_ON)
        changed = _changed(olds, news, UPDATE_ON) + _changed(olds, news, SETTINGS_ONLY)
        if _secret_changed(olds, news):
            changed.append("clientSecret")
        return DiffResult(changes=bool(replaces or changed), replaces=replaces, stables=[], delete_before_replace=True)

    def _verify(self, props: Mapping[str, Any]) -> str | None:
        """Prove that Entra accepts the new secret before it is pushed; its UTC RFC 3339 time, or None when
        verification is off (no ``tenantId``, or ``verifyTimeoutSeconds`` 0).

        Raises:
            SecretRefused / EntraUnavailable: One line naming the integration, the step and Entra's code.
        """
        tenant = _plain(props.get("tenantId"))
        window = _plain(props.get("verifyTimeoutSeconds"))
        window = DEFAULT_WINDOW_SECONDS if window is None else float(window)
        if not tenant or window <= 0:
            return None
        checked = verify_client_secret(
            str(tenant),
            str(props["clientId"]),
            SecretStr(str(_plain(props["clientSecret"]))),
            window_seconds=window,
            fresh=True,
            what=f"{props['integrationKey']}: verify before push",
        )
        return checked.at_rfc3339

    def _push(
        self, props: dict[str, Any], *, new_secret: bool, olds: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Verify (when the secret is new), upsert, read back; the outputs.

        Raises:
            SecretRefused / EntraUnavailable: Entra did not accept a new secret: nothing was pushed.
            ReadBackMismatch: Paragon holds other values than were pushed.
        """
        project_id = str(props["projectId"])
        secret = str(_plain(props["clientSecret"]))
        key = str(props["integrationKey"])
        verified_at = self._verify(props) if new_secret else (olds or {}).get("secretVerifiedAt")
        with self._client(props) as client:
            integration = client.find_integration(project_id, key)
            credential = client.upsert_oauth_credential(
                project_id,
                integration,
                name=str(props["credentialName"]),
                client_id=str(props["clientId"]),
                client_secret=SecretStr(secret),
                scopes=str(props["scopes"]),
                extra_values=_extra_values(props),
            )
            held = client.get_decrypted_credential(project_id, credential.id)
            problem = read_back_problem(
                held, client_id=str(props["clientId"]), scopes=str(props["scopes"]), secret=secret
            )
            if problem:
                raise ReadBackMismatch(
                    f"{key}: read back after push: Paragon credential {credential.id}: {problem}. Fix: check the "
                    "integration's settings in the Paragon dashboard (an edit during the run?); the next pulumi up "
                    "pushes again, and a lasting mismatch means Paragon's API stores values differently: report it"
                )
            if props.get("activate") and integration.is_active is not True:
                client.set_integration_active(project_id, integration.id, True)
        outs = {k: v for k, v in props.items() if k != "clientSecret"}
        outs.update(
            credentialId=credential.id,
            integrationId=integration.id,
            secretFingerprint=secret_fingerprint(secret),
            secretVerifiedAt=verified_at,
        )
        return outs

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Verify the secret with Entra, upsert the credential, read it back; the resource ID is Paragon's
        credential ID."""
        outs = self._push(props, new_secret=True)
        return CreateResult(str(outs["credentialId"]), outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Upsert again with the new values (verified first when the secret is new, read back after); when only
        provider settings changed, record them without a call.

        When only ``activate`` changed, no PUT: turned on, the integration is activated (PATCH) if it is not
        active yet; turned off, nothing is called (the provisioner never deactivates).
        """
        changed = _changed(olds, news, UPDATE_ON)
        new_secret = _secret_changed(olds, news)
        if new_secret or any(key != "activate" for key in changed):
            return UpdateResult(self._push(news, new_secret=new_secret, olds=olds))
        if changed and news.get("activate"):
            self._activate(news)
        outs = {k: v for k, v in news.items() if k != "clientSecret"}
        outs.update(
            {k: olds.get(k) for k in ("credentialId", "integrationId", "secretFingerprint", "secretVerifiedAt")}
        )
        return UpdateResult(outs)

    def _activate(self, props: dict[str, Any]) -> None:
        """Mark the integration active (one PATCH) unless Paragon already shows it active."""
        project_id = str(props["projectId"])
        with self._client(props) as client:
            integration = client.find_integration(project_id, str(props["integrationKey"]))
            if integration.is_active is not True:
                client.set_integration_active(project_id, integration.id, True)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Report what Paragon holds now; an empty ID when the credential is gone (refresh drops it).

        Raises:
            ImportNotSupported: No inputs (``pulumi import``): `IMPORT_NOT_SUPPORTED`.
        """
        if not props.get("projectId") or not props.get("baseUrl"):
            raise ImportNotSupported(IMPORT_NOT_SUPPORTED)
        project_id = str(props["projectId"])
        with self._client(props) as client:
            current = client.get_decrypted_credential(project_id, str(props.get("credentialId") or id_))
            if current is None and props.get("integrationId"):
                found = client.find_oauth_credential(project_id, str(props["integrationId"]))
                if found is not None:
                    current = client.get_decrypted_credential(project_id, found.id)
        if current is None:
            return ReadResult(None, {})
        outs = dict(props)
        secret = current.values.client_secret
        held = current.values.model_extra or {}
        if props.get("extraValues"):
            outs["extraValues"] = {k: held[k] for k in _extra_values(props) if isinstance(held.get(k), str)}
        outs.update(
            credentialId=current.id,
            clientId=current.values.client_id,
            scopes=current.values.scope_string,
            secretFingerprint=secret_fingerprint(secret.get_secret_value()) if secret else None,
        )
        outs.pop("clientSecret", None)
        return ReadResult(current.id, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Leave Paragon untouched unless ``deleteOnDestroy``; then delete (404 counts as done)."""
        if not props.get("deleteOnDestroy"):
            log.info("leaving the Paragon credential %s in place (delete_credentials_on_destroy is off)", id_)
            return
        with self._client(props) as client:
            client.delete_credential(str(props["projectId"]), str(props.get("credentialId") or id_))


@dataclass(frozen=True)
class OAuthCredentialArgs:
    """Inputs of `OAuthCredential`.

    Attributes:
        project_id: Paragon project GUID.
        integration_key: Paragon integration key, e.g. ``powerbi``.
        base_url: Paragon API root from config (``PARAGON_BASE_URL`` overrides it at call time).
        credential_name: Label stored with the credential in Paragon.
        client_id: Application (client) ID of the app registration.
        client_secret: The active client secret (kept secret end to end).
        scopes: The scopes string pushed to Paragon (single spaces).
        activate: Also mark the integration active.
        delete_on_destroy: Delete the credential from Paragon on ``pulumi destroy``.
        retry_timeout_seconds: Time budget per Paragon call (attempts and waits), in seconds.
        ca_bundle: Absolute path of a PEM file of CA certificates to trust for Paragon (``paragon.ca_bundle``),
            or None for the default store (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` / certifi).
        extra_values: Non-secret values merged into the credential's ``values`` (Paragon does not document
            their keys; see docs/integrations.md). Sent only when non-empty.
        tenant_id: The app's home tenant ID (the deploying identity's tenant), where a new secret is verified
            before it is pushed; None: no verification.
        verify_timeout_seconds: How long to keep asking Entra to accept a new secret (attempts and waits), in
            seconds; 0 skips verification (``paragon.verify_timeout_seconds``).
    """

    project_id: str
    integration_key: str
    base_url: str
    credential_name: str
    client_id: pulumi.Input[str]
    client_secret: pulumi.Input[str]
    scopes: str
    activate: bool = False
    delete_on_destroy: bool = False
    retry_timeout_seconds: float = 120.0
    extra_values: Mapping[str, str] = field(default_factory=dict)
    ca_bundle: str | None = None
    tenant_id: pulumi.Input[str] | None = None
    verify_timeout_seconds: float = DEFAULT_WINDOW_SECONDS


class OAuthCredential(Resource, module="paragon", name="OAuthCredential"):
    """An integration's OAuth app credential (client ID, secret, scopes) in a Paragon project.

    Always ``delete_before_replace`` (whatever ``opts`` says): see the module docstring.
    """

    # Dynamic resources expose outputs under their wire names.
    credentialId: pulumi.Output[str]
    """Paragon's credential ID."""
    integrationId: pulumi.Output[str]
    """Paragon's ID of the integration in the project."""
    secretFingerprint: pulumi.Output[str]
    """``sha256:<hex>`` of the secret Paragon holds (as of the last push or refresh)."""
    scopes: pulumi.Output[str]
    """The scope string Paragon holds."""
    secretVerifiedAt: pulumi.Output[str | None]
    """UTC RFC 3339 time Entra last accepted the secret pushed (before the push); None when not verified."""

    def __init__(self, name: str, args: OAuthCredentialArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "projectId": args.project_id,
            "integrationKey": args.integration_key,
            "baseUrl": args.base_url,
            "credentialName": args.credential_name,
            "clientId": args.client_id,
            "clientSecret": pulumi.Output.secret(args.client_secret),
            "scopes": args.scopes,
            "activate": args.activate,
            "deleteOnDestroy": args.delete_on_destroy,
            "retryTimeoutSeconds": args.retry_timeout_seconds,
            "caBundle": args.ca_bundle,
            "tenantId": args.tenant_id,
            "verifyTimeoutSeconds": args.verify_timeout_seconds,
            "credentialId": None,
            "integrationId": None,
            "secretFingerprint": None,
            "secretVerifiedAt": None,
        }
        if args.extra_values:
            props["extraValues"] = dict(args.extra_values)
        # Paragon holds one credential per integration: a replacement must delete before it creates.
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True))
        with pickler_restored():
            super().__init__(ParagonCredentialProvider(), name, props, opts)
