"""The template cache: compiled Chameleon programs, on disk and in memory.

Chameleon turns a template into Python source and then into a code object; the
first step is what makes cold launches slow. :class:`CodeCache` plugs into
Chameleon as its module loader and keeps compiled programs at two levels:

* on disk, in ``WEB-INF/.tincan-cache/``, one file per program holding its
  marshalled code. An entry is found under the template's key (its body, its
  path inside the webapp, XML or HTML mode: ``_templates.cache_key``), so a
  moved or copied tree still finds its entries, and is only used if its header
  carries this cache format, this TinCan version, this Chameleon version (and
  whether its programs were compiled with the speed-up) and this Python's
  bytecode magic, and its payload passes a length and CRC check.
  Anything else is ignored and rebuilt, never served. A tree that cannot be
  written to is fine: entries are then only kept in memory.
* in memory, per process and per tree, the loaded programs, so that launching
  the same tree again in the same process (a reloading development server)
  compiles and reads only what changed. Each launch drops the programs its
  tree no longer uses, and only the trees launched most recently are kept.

A launch verifies the entries it uses but may leave loading a program (its
``marshal.loads`` and module code, most of what a launch from the cache costs)
to the template's first render (:meth:`CodeCache.holds_program`).

A template that does not compile is kept too, as its error message and line
(:class:`CompileFailure`), so that it is compiled once, not again to report
the error, nor at every launch until it is fixed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import tempfile
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from types import CodeType
from typing import Any

from . import _fastcompile, _fastprogram
from ._compact import compact
from ._errors import TinCanError
from ._fastcompile import chameleon_version
from ._version import __version__

__all__ = [
    "CACHE_DIRNAME",
    "CodeCache",
    "CompileFailure",
    "Program",
    "cache_tag",
    "shared_programs",
]

CACHE_DIRNAME = ".tincan-cache"
_FORMAT = b"TinCan-template-cache-4\n"
# The first byte of a payload: marshalled code, or a marshalled (message, line).
_PROGRAM = b"P"
_FAILURE = b"F"
_SUFFIX = ".bin"
_TEMP_PREFIX = ".tmp-"
# Trees whose programs stay in memory between launches (one is the usual case).
_TREES_KEPT = 8

Program = dict[str, Any]  # the namespace of an executed Chameleon module


@dataclass(frozen=True, slots=True)
class CompileFailure:
    """A template that did not compile: the message and line its error reports."""

    message: str
    line: int | None
    # The same source always fails so (not out of memory, say): may go to disk.
    lasting: bool = True

    def error(self, display_name: str) -> TinCanError:
        return TinCanError(self.message, display_name, self.line)


Entry = Program | CompileFailure


def _chameleon_version() -> str:
    return chameleon_version() or "unknown"


_tags: dict[bool, bytes] = {}


def cache_tag() -> bytes:
    """What every entry must start with: format, Python magic, TinCan and Chameleon
    versions, and whether programs carry the interpolation test of :mod:`._fastprogram`
    (a program compiled without it, with ``TINCAN_CHAMELEON_SPEEDUP=0``, is not
    taken for one with it, nor the other way round)."""
    rewritten = _fastcompile.installed() and _fastprogram.enabled()
    tag = _tags.get(rewritten)
    if tag is None:
        versions = f"tincan-core {__version__}\nchameleon {_chameleon_version()}\n"
        programs = f"interpolation test {_fastprogram.REVISION if rewritten else 'none'}\n"
        text = (versions + programs).encode("ascii", "replace")
        tag = _tags[rewritten] = _FORMAT + importlib.util.MAGIC_NUMBER + text
    return tag


class _SharedPrograms:
    """The process-wide memory level: loaded programs by tree, most recent trees only."""

    def __init__(self) -> None:
        self._trees: OrderedDict[tuple[bytes, str], dict[str, Entry]] = OrderedDict()
        self._lock = threading.Lock()

    def for_tree(self, directory: str) -> dict[str, Entry]:
        key = (cache_tag(), os.path.realpath(directory))
        with self._lock:
            programs = self._trees.pop(key, None)
            if programs is None:
                programs = {}
            self._trees[key] = programs
            while len(self._trees) > _TREES_KEPT:
                self._trees.popitem(last=False)
            return programs

    def clear(self) -> None:
        with self._lock:
            self._trees.clear()


shared_programs = _SharedPrograms()


class CodeCache:
    """A Chameleon module loader backed by process memory and an optional directory.

    The counters say what a launch did: ``compiled`` templates (here or in
    workers; a compile that failed counts too), ``loaded`` from disk, ``reused``
    from memory (each template once per launch), ``written`` to disk and
    ``rejected`` entries (stale or corrupt files that were ignored).
    """

    def __init__(self, directory: str | None, *, write: bool = True) -> None:
        self.directory = directory
        self.write = write and directory is not None
        self.write_error: str | None = None  # why writing stopped, if it did
        self._entries: dict[str, Entry] = (
            shared_programs.for_tree(directory) if directory is not None else {}
        )
        self._new: set[str] = set()  # compiled by this launch (here or in workers)
        self._absent: set[str] = set()  # no usable disk entry: do not read again
        self.used: set[str] = set()
        self.compiled = 0
        self.loaded = 0
        self.reused = 0
        self.written = 0
        self.rejected = 0

    # -- the Chameleon loader protocol -------------------------------------------------
    def get(self, name: str) -> Program | None:
        entry = self._entry(name)
        return None if isinstance(entry, CompileFailure) else entry

    def build(self, source: str, name: str) -> Program:
        code = compact(compile(source, name, "exec"))
        if self.write:
            self._write(name, _PROGRAM + marshal.dumps(code))
        program: Program = {}
        exec(code, program)
        self._store_new(name, program)
        self.used.add(name)
        return program

    # -- failures ----------------------------------------------------------------------
    def failure(self, name: str) -> CompileFailure | None:
        """How ``name`` failed to compile, if this cache knows it did."""
        entry = self._entry(name)
        return entry if isinstance(entry, CompileFailure) else None

    def fail(self, name: str, failure: CompileFailure) -> None:
        """A compile of ``name`` in this process failed."""
        self._add_failure(name, failure)
        self.used.add(name)

    # -- filling and emptying ----------------------------------------------------------
    def contains(self, name: str) -> bool:
        """Whether ``name`` can be had without compiling (its program, or its failure).

        For a disk entry only the header and the length are checked here, so that
        checking a whole tree holds no payloads in memory; :meth:`get` reads and
        verifies the payload (and compiles after all if it is bad).
        """
        if name in self._entries:
            return True
        if name not in self._absent and self._read(name, payload=False) is not None:
            return True
        self._absent.add(name)
        return False

    def holds_program(self, name: str) -> bool:
        """Whether ``name``'s program (not a failure) can be had without compiling.

        A disk entry is read and verified (header, length, checksum) but its code
        is not loaded: a launch that finds a template here leaves loading its
        program to the template's first render, which reads the entry again (and
        compiles after all, should it have gone bad meanwhile). A name this answers
        ``True`` for counts as used, and as loaded or reused.
        """
        entry = self._entries.get(name)
        if entry is None:
            if name in self._absent:
                return False
            data = self._read(name)
            if data is None:
                self._absent.add(name)  # missing or bad: compile it, read it no more
                return False
            if data[:1] != _PROGRAM:
                return False  # a failure: failure() reads it
            self.loaded += 1
        elif isinstance(entry, CompileFailure):
            return False
        elif name not in self.used and name not in self._new:
            self.reused += 1
        self.used.add(name)
        return True

    def stored(self, name: str) -> bool:
        """Whether the cache directory holds an entry for ``name`` (header and length checked)."""
        return self._read(name, payload=False) is not None

    def add(self, name: str, result: bytes | CompileFailure) -> None:
        """What a worker made of ``name``: marshalled code, or how it failed.

        A program is loaded at once: the launching process has nothing else to do
        while its workers compile, and no payloads pile up in memory.
        """
        if isinstance(result, CompileFailure):
            self._add_failure(name, result)
            return
        program = self._execute(result)
        if program is None:
            return  # Chameleon compiles it here when it asks for it
        if self.write:
            self._write(name, _PROGRAM + result)
        self._store_new(name, program)

    def finish(self) -> None:
        """End of a launch: forget what it did not use, and failures that may pass."""
        self._new.clear()
        self._absent.clear()
        for name, entry in list(self._entries.items()):
            if name not in self.used or (isinstance(entry, CompileFailure) and not entry.lasting):
                self._entries.pop(name, None)

    # -- entries -----------------------------------------------------------------------
    def _entry(self, name: str) -> Entry | None:
        """``name``'s program or failure, from memory or from disk, counted once a launch."""
        entry = self._entries.get(name)
        if entry is not None:
            if name not in self.used and name not in self._new:
                self.reused += 1
            self.used.add(name)
            return entry
        if name in self._absent:
            return None
        data = self._read(name)
        entry = self._decode(data) if data is not None else None
        if entry is None:
            if data is not None:
                self.rejected += 1
            self._absent.add(name)
            return None
        self._entries[name] = entry
        if name not in self.used:  # a deferred program was counted at its launch
            self.used.add(name)
            self.loaded += 1
        return entry

    def _store_new(self, name: str, entry: Entry) -> None:
        self._entries[name] = entry
        self._new.add(name)
        self._absent.discard(name)
        self.compiled += 1

    def _add_failure(self, name: str, failure: CompileFailure) -> None:
        if self.write and failure.lasting:
            self._write(name, _FAILURE + marshal.dumps((failure.message, failure.line)))
        self._store_new(name, failure)

    def prune_files(self) -> int:
        """Delete the cache files that no program used by this launch needs."""
        if self.directory is None:
            return 0
        keep = {os.path.basename(self._entry_path(name)) for name in self.used}
        removed = 0
        try:
            entries = os.listdir(self.directory)
        except OSError:
            return 0
        for entry in entries:
            if entry in keep or not (entry.endswith(_SUFFIX) or entry.startswith(_TEMP_PREFIX)):
                continue
            try:
                os.unlink(os.path.join(self.directory, entry))
                removed += 1
            except OSError:
                pass
        return removed

    # -- storage -----------------------------------------------------------------------
    def _entry_path(self, name: str) -> str:
        assert self.directory is not None
        digest = hashlib.sha256(cache_tag() + name.encode("utf-8", "surrogateescape"))
        return os.path.join(self.directory, digest.hexdigest()[:32] + _SUFFIX)

    @staticmethod
    def _header(name: str) -> bytes:
        key = name.encode("utf-8", "surrogateescape")
        return cache_tag() + len(key).to_bytes(4, "big") + key

    def _read(self, name: str, *, payload: bool = True) -> bytes | None:
        """The verified payload of ``name``'s entry, or ``None`` if it has no good one.

        With ``payload=False`` only the header and the length are checked, and
        ``b""`` means they passed.
        """
        if self.directory is None:
            return None
        header = self._header(name)
        try:
            with open(self._entry_path(name), "rb") as f:
                head = f.read(len(header) + 12)
                if len(head) < len(header) + 12 or not head.startswith(header):
                    self.rejected += 1  # another TinCan, Chameleon or Python; a torn write
                    return None
                checksum = int.from_bytes(head[-12:-8], "big")
                size = int.from_bytes(head[-8:], "big")
                if not payload:
                    if os.fstat(f.fileno()).st_size == len(head) + size:
                        return b""
                    self.rejected += 1
                    return None
                data = f.read(size + 1)
        except OSError:
            return None
        if len(data) != size or zlib.crc32(data) != checksum:
            self.rejected += 1
            return None
        return data

    @classmethod
    def _decode(cls, data: bytes) -> Entry | None:
        """A verified payload as a program or a failure; ``None`` if it is neither."""
        kind, body = data[:1], data[1:]
        if kind == _PROGRAM:
            return cls._execute(body)
        if kind != _FAILURE:
            return None
        try:
            message, line = marshal.loads(body)
        except (ValueError, TypeError, EOFError):
            return None
        if not isinstance(message, str) or not (line is None or isinstance(line, int)):
            return None
        return CompileFailure(message, line)

    @staticmethod
    def _execute(data: bytes) -> Program | None:
        try:
            code = marshal.loads(data)
            if not isinstance(code, CodeType):
                return None
            program: Program = {}
            exec(code, program)
        except Exception:  # unreadable or not a Chameleon program: compile afresh
            return None
        return program

    def _write(self, name: str, data: bytes) -> None:
        assert self.directory is not None
        record = (
            self._header(name)
            + zlib.crc32(data).to_bytes(4, "big")
            + len(data).to_bytes(8, "big")
            + data
        )
        try:
            os.makedirs(self.directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=_TEMP_PREFIX)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(record)
                os.replace(tmp, self._entry_path(name))
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as exc:
            self.write = False  # a read-only tree: keep compiling in memory
            self.write_error = f"{self.directory}: cannot write the template cache: " + (
                exc.strerror or str(exc)
            )
            return
        self.written += 1
