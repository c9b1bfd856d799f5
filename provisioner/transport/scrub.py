"""Secrets scrubbed from any text shown: server messages, exceptions, logs."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from json import dumps as json_dumps
from typing import Final

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


def scrub_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every known secret replaced by ``[redacted]``.

    Beyond exact copies, any run of `SCRUB_MIN_RUN` or more consecutive characters of a secret (a prefix
    of the client secret, its tail) in any of its forms (as written, percent-encoded, JSON-escaped) is
    replaced, so a server message that echoes part of a secret does not leak it. A secret shorter than
    `SCRUB_MIN_RUN` is replaced only where it appears whole.
    """
    covered = [False] * len(text)
    for secret in secrets:
        if not secret:
            continue
        for form in _secret_forms(secret):
            if len(form) < SCRUB_MIN_RUN:
                start = text.find(form)
                while start != -1:
                    covered[start : start + len(form)] = [True] * len(form)
                    start = text.find(form, start + 1)
                continue
            grams = {form[i : i + SCRUB_MIN_RUN] for i in range(len(form) - SCRUB_MIN_RUN + 1)}
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
            out.append("[redacted]")
    return "".join(out)
