"""Bounded input: every file the CLI reads and every JSON text it parses goes through here.

* `read_text_capped`: a regular file of at most `MAX_FILE_BYTES`, as UTF-8 text. ``/dev/zero``, a FIFO, a
  directory or a 2 GB file is refused with one line instead of a hang or an exhausted memory.
* `unreadable`: why a path could not be read and the fix, for one line, for every kind: a symbolic link
  loop, a dangling link, a directory, a FIFO or device, a path through a file, a path too long, permission
  denied, too large, not UTF-8.
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

from provisioner.errors import escape_controls

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


def _kind_of_special(path: Path) -> str:
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return ""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return ""


def unreadable(path: Path, err: BaseException, missing_fix: str = "check the path") -> tuple[str, str]:
    """Why ``path`` could not be read and the fix for that kind, for one line
    ``<path>: cannot read the file (<reason>). Fix: <fix>``.

    Args:
        path: The path as given.
        err: What reading it raised: `read_text_capped`'s errors, or the ``RuntimeError`` ``Path.resolve``
            raises for a symbolic link loop.
        missing_fix: The fix when the file does not exist (the caller knows where the path comes from).

    Returns:
        ``(reason, fix)``, both short and without a trailing period, e.g. ``("a symbolic link loop", "point
        the link at the real file, or name the file itself")``; never a traceback's wording.
    """
    if isinstance(err, UnicodeDecodeError):
        return "not UTF-8 text", "save the file as UTF-8"
    if isinstance(err, UnsafeFile):
        reason = str(err)
        if reason != "not a regular file":
            return reason, "name the right file (stack files, plans and stack outputs are kilobytes)"
        kind = _kind_of_special(path)
        if kind == "a directory":
            return "not a regular file: a directory", "name the file inside it"
        return (f"not a regular file: {kind}" if kind else reason), "save the content to a file and name that file"
    number = err.errno if isinstance(err, OSError) else None
    if number == errno.ELOOP or (isinstance(err, RuntimeError) and "loop" in str(err).lower()):
        return "a symbolic link loop", "point the link at the real file, or name the file itself"
    if number == errno.ENOENT:
        if os.path.islink(path):
            return (
                f"a symbolic link to a missing file, {escape_controls(os.readlink(path))}",
                "point the link at an existing file",
            )
        return "no such file", missing_fix
    if number == errno.ENOTDIR:
        return "a part of the path is a file, not a folder", "correct the path"
    if number == errno.ENAMETOOLONG:
        return "the path is too long", "use a shorter path (move the file, or link to it)"
    if number in (errno.EACCES, errno.EPERM):
        return "permission denied", "make the file and its folders readable for this user, or run as one who can"
    if number == errno.EISDIR:
        return "not a regular file: a directory", "name the file inside it"
    return f"{(err.strerror if isinstance(err, OSError) else None) or type(err).__name__}", "check the path"


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
