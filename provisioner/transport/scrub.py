"""Secrets scrubbed from any text shown: server messages, exceptions, logs.

`scrub_message` is the one call every boundary that shows outside text uses (a Graph, Paragon or Entra error, a
``status --verify`` row, ``adopt``'s lines, ``doctor``'s rows): it removes every secret the process holds
(`provisioner.transport.env_secrets`), the caller's own, and anything shaped like a credential
(`provisioner.transport.secret_shapes`). `scrub_secrets` is the value-matching underneath.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping
from json import dumps as json_dumps
from typing import Final

from provisioner.transport.env_secrets import env_secrets
from provisioner.transport.secret_shapes import REDACTED, scrub_shapes

SCRUB_MIN_RUN: Final = 8
"""Shortest run of a secret's characters that is scrubbed wherever it appears (a prefix, a cut-off tail)."""


def _secret_forms(secret: str) -> set[str]:
    """The secret as written, percent-encoded (both styles) and JSON-escaped: the forms a server may echo."""
    return {
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret, safe=""),
        json_dumps(secret)[1:-1],
        json_dumps(secret, ensure_ascii=False)[1:-1],
    }


def _cover_whole(text: str, form: str, covered: list[bool]) -> None:
    start = text.find(form)
    while start != -1:
        covered[start : start + len(form)] = [True] * len(form)
        start = text.find(form, start + 1)


def scrub_secrets(text: str, secrets: Iterable[str], *, whole: Iterable[str] = ()) -> str:
    """``text`` with every known secret replaced by ``[redacted]``.

    Beyond exact copies, any run of `SCRUB_MIN_RUN` or more consecutive characters of a secret (a prefix
    of the client secret, its tail) in any of its forms (as written, percent-encoded, JSON-escaped) is
    replaced, so a server message that echoes part of a secret does not leak it. A secret shorter than
    `SCRUB_MIN_RUN` is replaced only where it appears whole, as is every value of ``whole`` (a URL whose
    scheme and host are no secret: its secret parts are among ``secrets``).
    """
    covered = [False] * len(text)
    for value in whole:
        for form in _secret_forms(value) if value else ():
            _cover_whole(text, form, covered)
    grams: set[str] = set()
    for secret in secrets:
        for form in _secret_forms(secret) if secret else ():
            if len(form) < SCRUB_MIN_RUN:
                _cover_whole(text, form, covered)
            else:
                grams.update(form[i : i + SCRUB_MIN_RUN] for i in range(len(form) - SCRUB_MIN_RUN + 1))
    if grams:
        for i in range(len(text) - SCRUB_MIN_RUN + 1):
            if text[i : i + SCRUB_MIN_RUN] in grams:
                covered[i : i + SCRUB_MIN_RUN] = [True] * SCRUB_MIN_RUN
    if not any(covered):
        return text
    out: list[str] = []
    for index, char in enumerate(text):
        if not covered[index]:
            out.append(char)
        elif index == 0 or not covered[index - 1]:
            out.append(REDACTED)
    return "".join(out)


def scrub_message(text: str, secrets: Iterable[str] = (), env: Mapping[str, str] | None = None) -> str:
    """``text`` (a server's message, an error line, a report row) with every secret removed: the values the
    environment ``env`` (default ``os.environ``) and the process hold (`env_secrets`), the caller's ``secrets``
    (e.g. a session token), and anything shaped like a credential (`scrub_shapes`). Never raises."""
    held = env_secrets(env, secrets)
    return scrub_shapes(scrub_secrets(text, held.values, whole=held.whole))
