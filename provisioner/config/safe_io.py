"""Bounded input: every file the CLI reads and every JSON text it parses goes through here.

* `read_text_capped`: a regular file of at most `MAX_FILE_BYTES`, as UTF-8 text. ``/dev/zero``, a FIFO, a
  directory or a 2 GB file is refused with one line instead of a hang or an exhausted memory.
* `loads_json` / `raw_decode_json`: `json.loads` / `json.JSONDecoder.raw_decode` where nesting deeper than
  `MAX_JSON_DEPTH` (Python's recursion limit, or our own cap) is malformed JSON: a `ValueError` like any
  other syntax error, never a `RecursionError`.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any, Final

MAX_FILE_BYTES: Final = 10 * 1024 * 1024
"""Largest file read (10 MiB): stack files, plan and outputs JSON are kilobytes."""
MAX_JSON_DEPTH: Final = 100
"""Deepest nesting of arrays and objects accepted in a JSON document (plans and outputs nest < 10 levels)."""


class UnsafeFile(OSError):
    """A path that is not a regular file, or a file larger than `MAX_FILE_BYTES` (``str()`` is the reason)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(errno.EINVAL, reason, str(path))

    def __str__(self) -> str:
        return str(self.strerror)


def read_text_capped(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes.

    Raises:
        UnsafeFile: Not a regular file (device, FIFO, directory), or larger than ``limit``; its ``strerror``
            says which, e.g. ``not a regular file``.
        OSError: The file cannot be opened or read (``FileNotFoundError``, ``PermissionError``, ...).
        UnicodeDecodeError: The file is not UTF-8.
    """
    # O_NONBLOCK: opening a FIFO would otherwise wait for a writer; it has no effect on regular files.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeFile(path, "not a regular file")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise UnsafeFile(path, f"larger than {limit // (1024 * 1024)} MiB")
    return data.decode("utf-8")


def _depth_ok(value: Any) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return True


JSON_TOO_DEEP: Final = f"nested more than {MAX_JSON_DEPTH} levels deep"
"""The `ValueError` text of a JSON document refused for its depth."""


def loads_json(text: str | bytes) -> Any:
    """`json.loads`, with nesting deeper than `MAX_JSON_DEPTH` refused like malformed JSON.

    Raises:
        ValueError: Not JSON, or nested too deeply (message ``nested more than 100 levels deep``).
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(JSON_TOO_DEEP) from None
    if not _depth_ok(value):
        raise ValueError(JSON_TOO_DEEP)
    return value


def raw_decode_json(decoder: json.JSONDecoder, text: str, start: int) -> tuple[Any, int]:
    """`json.JSONDecoder.raw_decode` from ``start``, with deep nesting refused as in `loads_json`.

    Raises:
        ValueError: No JSON value at ``start``, or nested too deeply.
    """
    try:
        value, end = decoder.raw_decode(text, start)
    except RecursionError:
        raise ValueError(JSON_TOO_DEEP) from None
    if not _depth_ok(value):
        raise ValueError(JSON_TOO_DEEP)
    return value, end
