"""The Paragon OAuth credential as a Pulumi dynamic resource (type ``dynamic/paragon:OAuthCredential``).

Inputs (wire names): ``projectId``, ``integrationKey``, ``baseUrl``, ``credentialName``, ``clientId``,
``clientSecret`` (a Pulumi secret), ``scopes`` (ONE space-separated string), ``activate``,
``deleteOnDestroy``, ``retryTimeoutSeconds``. Outputs add ``credentialId``, ``integrationId`` and
``secretFingerprint``; the secret itself is never an output.

The provider object is pickled into state and run in Pulumi's dynamic provider process, so it holds no
client, token or login: each method builds a `ParagonClient` from the environment at call time
(`provisioner.paragon.login`). The one process-wide object is `PROCESS_SESSIONS`, the token and
integrations-list cache the call budget needs (1 login + 1 list + K PUTs for K changed integrations); it is
created in the provider process and never pickled.

``diff`` is local (no Paragon call): a changed secret is detected by comparing a SHA-256 fingerprint of the
new value with the one in state. ``read`` (``pulumi refresh``) fetches what Paragon holds, so drift in client
ID, scopes or secret, or a deleted credential, shows in the next preview and is restored by ``pulumi up``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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
from pulumi.runtime import rpc
from pydantic import SecretStr

from provisioner.config import check_https_url
from provisioner.paragon.client import ParagonClient, RetryPolicy, SessionCache
from provisioner.paragon.login import STACK_CONFIG_KEYS, base_url_from, login_from

log = logging.getLogger("provisioner.paragon")

PROCESS_SESSIONS: Final = SessionCache()
"""Token and integrations cache for the dynamic provider process (see the module docstring)."""

REPLACE_ON: Final = ("projectId", "integrationKey")
"""Inputs whose change means a different credential in Paragon: replace, not update."""
UPDATE_ON: Final = ("baseUrl", "clientId", "scopes", "credentialName", "activate")
"""Inputs pushed to Paragon in place when they change (plus the secret, by fingerprint)."""
SETTINGS_ONLY: Final = ("deleteOnDestroy", "retryTimeoutSeconds")
"""Inputs that only change how the provider behaves: recorded in state without calling Paragon."""
_FINGERPRINT_DOMAIN: Final = b"paragon-provisioner/client-secret/v1\x00"


def secret_fingerprint(secret: str) -> str:
    """A one-way fingerprint of a client secret, safe to keep in state: ``sha256:<hex>``.

    Client secrets are random 40-character values, so the digest reveals nothing usable.
    """
    return "sha256:" + hashlib.sha256(_FINGERPRINT_DOMAIN + secret.encode()).hexdigest()


def _plain(value: Any) -> Any:
    """Unwrap a value that arrives in Pulumi's secret wire form; pass others through."""
    if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        return value.get("value")
    return value


def _is_unknown(value: Any) -> bool:
    return bool(_plain(value) == rpc.UNKNOWN)


def _changed(olds: Mapping[str, Any], news: Mapping[str, Any], keys: tuple[str, ...]) -> list[str]:
    """Those of ``keys`` whose new value is unknown or differs from state."""
    return [k for k in keys if _is_unknown(news.get(k)) or _plain(olds.get(k)) != _plain(news.get(k))]


def _secret_changed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """True when the new client secret is unknown or its fingerprint differs from the one in state."""
    secret = news.get("clientSecret")
    return _is_unknown(secret) or olds.get("secretFingerprint") != secret_fingerprint(str(_plain(secret)))


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
        return ParagonClient(base_url, login, retry=retry, cache=PROCESS_SESSIONS)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs locally (no network): required values present, https base URL, scopes a string."""
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
        if scopes is not None and not _is_unknown(scopes):
            if not isinstance(_plain(scopes), str) or "  " in _plain(scopes):
                failures.append(CheckFailure("scopes", "scopes must be one string with single spaces"))
        base_url = news.get("baseUrl")
        if isinstance(base_url, str) and not _is_unknown(base_url):
            try:
                check_https_url(base_url, "baseUrl")
            except ValueError as err:
                failures.append(CheckFailure("baseUrl", str(err)))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare state with new inputs, without calling Paragon."""
        replaces = _changed(olds, news, REPLACE_ON)
        changed = _changed(olds, news, UPDATE_ON) + _changed(olds, news, SETTINGS_ONLY)
        if _secret_changed(olds, news):
            changed.append("clientSecret")
        return DiffResult(changes=bool(replaces or changed), replaces=replaces, stables=[], delete_before_replace=False)

    def _push(self, props: dict[str, Any]) -> dict[str, Any]:
        project_id = str(props["projectId"])
        secret = str(_plain(props["clientSecret"]))
        with self._client(props) as client:
            integration = client.find_integration(project_id, str(props["integrationKey"]))
            credential = client.upsert_oauth_credential(
                project_id,
                integration,
                name=str(props["credentialName"]),
                client_id=str(props["clientId"]),
                client_secret=SecretStr(secret),
                scopes=str(props["scopes"]),
            )
            if props.get("activate") and integration.is_active is not True:
                client.set_integration_active(project_id, integration.id, True)
        outs = {k: v for k, v in props.items() if k != "clientSecret"}
        outs.update(
            credentialId=credential.id,
            integrationId=integration.id,
            secretFingerprint=secret_fingerprint(secret),
        )
        return outs

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Upsert the credential; the resource ID is Paragon's credential ID."""
        outs = self._push(props)
        return CreateResult(str(outs["credentialId"]), outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Upsert again with the new values; when only provider settings changed, record them without a call."""
        if _changed(olds, news, UPDATE_ON) or _secret_changed(olds, news):
            return UpdateResult(self._push(news))
        outs = {k: v for k, v in news.items() if k != "clientSecret"}
        outs.update({k: olds.get(k) for k in ("credentialId", "integrationId", "secretFingerprint")})
        return UpdateResult(outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Report what Paragon holds now; an empty ID when the credential is gone (refresh drops it)."""
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
        retry_timeout_seconds: Retry budget per Paragon call, in seconds.
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


_PICKLER_PATCHED_BY_PULUMI: Final = ("_batch_setitems", "save_dict")


@contextlib.contextmanager
def _pickler_restored() -> Iterator[None]:
    """Undo, after the block, pulumi.dynamic's class-level patches of ``pickle._Pickler``.

    ``pulumi.dynamic.serialize_provider`` (pulumi 3.x) wraps ``pickle._Pickler._batch_setitems`` in a
    dict-sorting function each time a dynamic resource is constructed, and never unwraps it. After K
    dynamic resources in one process every pickled dict is sorted K times through K nested calls: the
    program's time grows quadratically with the number of integrations, and a RecursionError ends it
    after about 950 (fewer in a deep stack). Restoring the attributes after each construction keeps
    exactly one wrap per serialization, so the serialized provider is the same and the cost is flat.
    """
    saved = {name: vars(pickle._Pickler)[name] for name in _PICKLER_PATCHED_BY_PULUMI if name in vars(pickle._Pickler)}
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(pickle._Pickler, name, value)


class OAuthCredential(Resource, module="paragon", name="OAuthCredential"):
    """An integration's OAuth app credential (client ID, secret, scopes) in a Paragon project."""

    # Dynamic resources expose outputs under their wire names.
    credentialId: pulumi.Output[str]
    """Paragon's credential ID."""
    integrationId: pulumi.Output[str]
    """Paragon's ID of the integration in the project."""
    secretFingerprint: pulumi.Output[str]
    """``sha256:<hex>`` of the secret Paragon holds (as of the last push or refresh)."""
    scopes: pulumi.Output[str]
    """The scope string Paragon holds."""

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
            "credentialId": None,
            "integrationId": None,
            "secretFingerprint": None,
        }
        with _pickler_restored():
            super().__init__(ParagonCredentialProvider(), name, props, opts)
