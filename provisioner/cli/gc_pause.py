"""Pausing CPython's cyclic garbage collector while a plan is built (measured in docs/performance.md).

A plan only builds: the imports (Pulumi, pulumi_azuread: about 75,000 tracked objects) and then Pulumi's
runtime, which keeps every output, task and registration of the program alive until the run ends (about
2,500 tracked objects per integration). Each collection during that time re-scans a heap that only grows
and frees next to nothing, so with the collector on, plan time per integration more than doubled between
1 and 200 integrations. Reference counting still frees acyclic garbage at once; the few cycles made while
paused are collected after the block. Standard library only, so `provisioner.cli.app` can use it before
importing Pulumi.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic garbage collector for the block (or the decorated function); restore it after.

    Nests: an inner block leaves the collector off when an outer one paused it. Usable as a decorator.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
