"""Directories for session copies in pytest's cache, kept from one session to the next.

A copy there keeps its path between sessions, so TinCan's compiled-template
cache inside it (keyed by file path and checked against the TinCan, Chameleon
and Python versions that wrote it) and the bytecode of its modules stay good:
the first launch of a session loads them instead of compiling.

Each directory (a *slot*) belongs to one source tree, interpreter and
tincan-core version, and to one session at a time: a session holds an
exclusive lock on each slot it uses, so parallel sessions (pytest-xdist
workers, two terminals) take different slots and never write into one copy.
Where locks are not available, copies go to the session's temporary directory
as before. ``pytest --cache-clear`` removes them all.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import sys
from pathlib import Path

import tincan_core

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, no kept copies
    fcntl = None  # type: ignore[assignment]

__all__ = ["CopySlots"]

_SLOTS_PER_SOURCE = 64  # beyond this many sessions at once, copies go to tmp


def _slot_key(source: Path) -> str:
    """Which copies may serve ``source``: the tree, the Python, the TinCan that launch it."""
    identity = "\0".join([
        os.path.realpath(source), sys.implementation.cache_tag or "", tincan_core.__version__,
    ])
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", source.name or "webapp")[:40]
    return f"{name}-{hashlib.sha256(identity.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}"


class CopySlots:
    """Locked directories under ``directory`` (pytest's ``cache.mkdir("tincan")``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "copies"
        self._locks: list[int] = []

    def claim(self, source: Path) -> Path | None:
        """A directory for a copy of ``source`` that no other session uses, or ``None``."""
        if fcntl is None:
            return None
        base = self.directory / _slot_key(source)
        for number in itertools.count():
            if number >= _SLOTS_PER_SOURCE:
                return None
            slot = base / str(number)
            try:
                slot.mkdir(parents=True, exist_ok=True)
                fd = os.open(slot / "lock", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                return None  # a read-only cache: the session's tmp directory will do
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)  # another session has it
                continue
            self._locks.append(fd)
            return slot
        return None

    def release(self) -> None:
        """Unlock every slot (the end of the session; a crashed session's locks go with it)."""
        for fd in self._locks:
            os.close(fd)
        self._locks.clear()
