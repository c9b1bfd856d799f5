"""A guard against pulumi.dynamic's unbounded patching of ``pickle._Pickler`` (see `pickler_restored`)."""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Iterator
from typing import Final

_PICKLER_PATCHED_BY_PULUMI: Final = ("_batch_setitems", "save_dict")


@contextlib.contextmanager
def pickler_restored() -> Iterator[None]:
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
