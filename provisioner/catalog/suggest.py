"""Suggestions for a misspelt scope name that never offer broader access than the name asked for.

A scope name is read as words (``Files.ReadWrite.All`` -> files, readwrite, all; ``vso.code_manage`` -> vso,
code, manage). Its *breadth* is two ranks: what it allows (read basic < read < write/send/create/execute <
manage < full control) and over what (the user's own < shared < every item the user can access (``.All``) <
tenant-wide). A candidate is offered only when neither rank is above the asked name's; a misspelt word
counts as the known word it is closest to (the first word, the resource, counts only when it is exactly
``Tenant`` or ``Global``), and a name with no recognisable action word counts as "read".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Final

_ACTION_RANKS: Final[dict[str, int]] = {
    "readbasic": 0,
    "basic": 0,
    "status": 1,
    "read": 1,
    "query": 1,
    "use": 1,
    "readwrite": 2,
    "write": 2,
    "send": 2,
    "create": 2,
    "execute": 2,
    "deploy": 2,
    "acquire": 2,
    "publish": 2,
    "interact": 2,
    "manage": 3,
    "fullaccess": 4,
    "fullcontrol": 4,
    "full": 4,
    "impersonation": 4,
}
_EXTENT_RANKS: Final[dict[str, int]] = {"shared": 1, "all": 2, "tenant": 3, "global": 3}
_NEUTRAL: Final = frozenset({"selected", "appfolder", "own", "user", "my", "data"})
"""Words that say which items, not what may be done with them (``Sites.Selected``, ``Files.ReadWrite.AppFolder``)."""
SUGGESTION_CUTOFF: Final = 0.75
"""Least difflib similarity (0..1, compared lower-case) for a name to be suggested."""


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[._\s-]+", name.lower()) if w]


def _closest(word: str, vocabulary: Iterable[str]) -> str | None:
    if word in vocabulary:
        return word
    close = difflib.get_close_matches(word, list(vocabulary), n=1, cutoff=0.75)
    return close[0] if close else None


def breadth(name: str, unknown_word_rank: int = 1) -> tuple[int, int]:
    """``(action rank, extent rank)`` of a scope name (see the module docstring).

    ``unknown_word_rank`` is the action rank of a word that is neither an action, an extent nor neutral: 1
    (read) for the asked name, 2 (write) for a candidate, so an unknown word never widens what is offered.
    """
    action = -1
    extent = 0
    words = _words(name)
    skip = 2 if words[:1] == ["vso"] else 1
    for index, word in enumerate(words):
        if index < skip:  # the resource words (``Files``, ``vso.code``): only an exact ``Tenant``/``Global`` counts
            extent = max(extent, _EXTENT_RANKS.get(word, 0))
            continue
        known_action = _closest(word, _ACTION_RANKS)
        known_extent = _closest(word, _EXTENT_RANKS)
        if known_action is not None:
            action = max(action, _ACTION_RANKS[known_action])
        if known_extent is not None:
            extent = max(extent, _EXTENT_RANKS[known_extent])
        if known_action is None and known_extent is None and _closest(word, _NEUTRAL) is None:
            action = max(action, unknown_word_rank)
    return (action if action >= 0 else 1, extent)


def not_broader(candidate: str, asked: str) -> bool:
    """True when ``candidate`` allows no more than ``asked`` on either rank."""
    have, want = breadth(candidate, unknown_word_rank=2), breadth(asked, unknown_word_rank=1)
    return have[0] <= want[0] and have[1] <= want[1]


def _family(name: str) -> str:
    """The resource part of a name: ``files`` for ``Files.Read.All``, ``vso.code`` for ``vso.code_write``."""
    words = _words(name)
    return ".".join(words[:2] if words and words[0] == "vso" else words[:1])


def narrower_suggestions(asked: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` names close to ``asked`` (difflib, case-insensitive) that are not broader than it.

    Args:
        asked: The unknown name from config.
        candidates: Names published by the same resource API.
        n: Most suggestions.

    Returns:
        Closest first, from the asked name's family (``Files.*``, ``vso.code*``) when it has any;
        empty when nothing close is also no broader.
    """
    names = sorted(candidates)
    family = _family(asked)
    same = [c for c in names if difflib.SequenceMatcher(None, _family(c), family).ratio() >= SUGGESTION_CUTOFF]
    by_lower: dict[str, str] = {}
    for c in same or names:
        by_lower.setdefault(c.lower(), c)
    close = difflib.get_close_matches(asked.lower(), list(by_lower), n=len(by_lower), cutoff=SUGGESTION_CUTOFF)
    return [by_lower[c] for c in close if not_broader(by_lower[c], asked)][:n]
