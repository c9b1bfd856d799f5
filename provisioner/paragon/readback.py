"""Read back after a push: does Paragon hold exactly the client ID, scopes and secret just pushed?

A 200 to the credential PUT says Paragon stored something; it does not say it stored these values (a
dashboard edit racing the push, a changed shape of Paragon's undocumented endpoints, a wrong integration).
The dynamic provider therefore reads the credential back (``GET .../credentials/{id}/decrypted``) and
compares. The secret is compared by fingerprint only, and no message ever holds it.
"""

from __future__ import annotations

import hashlib
from typing import Final

from provisioner.errors import escape_controls
from provisioner.paragon.models import DecryptedCredential

_FINGERPRINT_DOMAIN: Final = b"paragon-provisioner/client-secret/v1\x00"
_SHOWN: Final = 120
"""Longest client ID or scope string quoted in a message (characters)."""


def secret_fingerprint(secret: str) -> str:
    """A one-way fingerprint of a client secret, safe to keep in state: ``sha256:<hex>``.

    Client secrets are random 40-character values, so the digest reveals nothing usable.
    """
    return "sha256:" + hashlib.sha256(_FINGERPRINT_DOMAIN + secret.encode()).hexdigest()


def _shown(value: str | None) -> str:
    return "nothing" if value is None else repr(escape_controls(value)[:_SHOWN])


def read_back_problem(held: DecryptedCredential | None, *, client_id: str, scopes: str, secret: str) -> str | None:
    """What differs between the credential Paragon returned and what was pushed; None when they agree.

    Args:
        held: The decrypted credential read right after the PUT (None: Paragon answered 404).
        client_id: The application (client) ID pushed.
        scopes: The scope string pushed (compared as a set of space-separated names; order is not a change).
        secret: The client secret pushed (compared by `secret_fingerprint`, never shown).

    Returns:
        One clause naming each field that differs, e.g. ``client ID is '…' (pushed '…'); the secret differs
        (SHA-256 fingerprints differ)``.
    """
    if held is None:
        return "Paragon has no such credential right after the PUT (404)"
    differences = []
    if held.values.client_id != client_id:
        differences.append(f"client ID is {_shown(held.values.client_id)} (pushed {_shown(client_id)})")
    held_scopes = held.values.scope_string
    if held_scopes is None or sorted(held_scopes.split()) != sorted(scopes.split()):
        differences.append(f"scopes are {_shown(held_scopes)} (pushed {_shown(scopes)})")
    held_secret = held.values.client_secret
    if held_secret is None:
        differences.append("it holds no client secret")
    elif secret_fingerprint(held_secret.get_secret_value()) != secret_fingerprint(secret):
        differences.append("the client secret differs (SHA-256 fingerprints differ)")
    return "; ".join(differences) or None
