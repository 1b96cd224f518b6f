"""Chameleon compilation with a persistent code cache and parallel cold compiles.

Chameleon turns a template into Python source and then into a code object; the
first step is what makes cold launches slow. :class:`CodeCache` plugs into
Chameleon as its module loader: compiled programs are kept as marshalled code
objects, in memory and, when the tree is writable, in ``WEB-INF/.tincan-cache``,
keyed by Chameleon's own digest (template body, file name, Chameleon version)
plus TinCan's cache format and the Python bytecode magic. A stale, foreign or
corrupt entry never matches and is rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from chameleon import PageTemplate
from chameleon.exc import TemplateError

from ._errors import TinCanError

__all__ = [
    "CACHE_DIRNAME",
    "CodeCache",
    "TemplateSource",
    "compile_templates",
    "template_error",
]

CACHE_DIRNAME = ".tincan-cache"
_FORMAT = b"TinCan-template-cache-1\n"
_MAGIC = importlib.util.MAGIC_NUMBER
# Below this many templates to compile, forking workers costs more than it saves.
_PARALLEL_THRESHOLD = 6


class CodeCache:
    """A Chameleon module loader backed by memory and an optional directory."""

    def __init__(self, directory: str | None, *, write: bool = True) -> None:
        self.directory = directory
        self.write = write and directory is not None
        self._memory: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.compiled = 0
        self.written = 0

    # -- the Chameleon loader protocol -------------------------------------------------
    def get(self, filename: str) -> dict[str, Any] | None:
        data = self._memory.get(filename)
        if data is None:
            data = self._read(filename)
        if data is None:
            return None
        try:
            code = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            return None
        with self._lock:
            self.hits += 1
        env: dict[str, Any] = {}
        exec(code, env)
        return env

    def build(self, source: str, filename: str) -> dict[str, Any]:
        code = compile(source, filename, "exec")
        data = marshal.dumps(code)
        with self._lock:
            self.compiled += 1
        self.store(filename, data)
        env: dict[str, Any] = {}
        exec(code, env)
        return env

    # -- storage -----------------------------------------------------------------------
    def contains(self, filename: str) -> bool:
        return filename in self._memory or self._read(filename) is not None

    def store(self, filename: str, data: bytes) -> None:
        self._memory[filename] = data
        if self.write:
            self._write(filename, data)

    def _entry_path(self, filename: str) -> str:
        assert self.directory is not None
        digest = hashlib.sha256(_FORMAT + _MAGIC + filename.encode("utf-8", "surrogateescape"))
        return os.path.join(self.directory, digest.hexdigest()[:32] + ".bin")

    def _header(self, filename: str) -> bytes:
        key = filename.encode("utf-8", "surrogateescape")
        return _FORMAT + _MAGIC + len(key).to_bytes(4, "big") + key

    def _read(self, filename: str) -> bytes | None:
        if self.directory is None:
            return None
        try:
            with open(self._entry_path(filename), "rb") as f:
                data = f.read()
        except OSError:
            return None
        header = self._header(filename)
        if not data.startswith(header):
            return None  # another key, another Python, or a truncated write
        payload = data[len(header) :]
        self._memory[filename] = payload
        return payload

    def _write(self, filename: str, data: bytes) -> None:
        assert self.directory is not None
        try:
            os.makedirs(self.directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(self._header(filename) + data)
                os.replace(tmp, self._entry_path(filename))
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            self.write = False  # a read-only tree: keep compiling in memory
            return
        with self._lock:
            self.written += 1


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """A template body to compile, and the file it came from (for errors and digests)."""

    filename: str
    body: str


def _module_name(body: str, filename: str) -> str | None:
    """The name Chameleon will ask its loader for, computed without compiling."""
    try:
        template = PageTemplate(None, filename=filename)
        builtins = dict(template.builtins)
        builtins.update(template.extra_builtins)
        names = tuple(sorted(builtins))
        return str(template._get_module_name(template.digest(body, names)))
    except Exception:  # Chameleon internals changed: fall back to compiling in-process
        return None


def _compile_in_worker(source: TemplateSource) -> dict[str, bytes]:
    capture = CodeCache(None)
    try:
        PageTemplate(source.body, filename=source.filename, loader=capture)
    except Exception:
        return {}  # the launching process compiles it again and reports the error
    return capture._memory


def _fork_is_safe() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def compile_templates(
    sources: Iterable[TemplateSource], cache: CodeCache, jobs: int | None = None
) -> None:
    """Precompile into ``cache`` every template not in it yet, in parallel when it pays.

    Templates that fail are left out; building them again in the caller raises the
    error with its location.
    """
    pending = []
    for source in sources:
        name = _module_name(source.body, source.filename)
        if name is not None and not cache.contains(name):
            pending.append(source)
    if jobs is None:
        jobs = int(os.environ.get("TINCAN_JOBS", "0")) or (os.cpu_count() or 1)
    if len(pending) < _PARALLEL_THRESHOLD or jobs < 2 or not _fork_is_safe():
        return  # compiled one by one as the templates are built
    import multiprocessing

    context = multiprocessing.get_context("fork")
    workers = min(jobs, len(pending))
    chunk = max(1, len(pending) // (workers * 4))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for compiled in pool.map(_compile_in_worker, pending, chunksize=chunk):
            for name, data in compiled.items():
                cache.compiled += 1
                cache.store(name, data)


def template_error(exc: Exception, display_name: str) -> TinCanError:
    """Turn a Chameleon compile error into ``file:line: message``."""
    line = None
    message = str(exc).split("\n", 1)[0]
    if isinstance(exc, TemplateError):
        message = str(exc.args[0]) if exc.args else type(exc).__name__
        token = exc.args[1] if len(exc.args) > 1 else None
        location = getattr(token, "location", None)
        if location and location[0]:
            line = int(location[0])
        if token:
            message = f"{message}: {str(token)!r}"
    return TinCanError(f"template error: {message}", display_name, line)
