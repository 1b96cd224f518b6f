"""Loading code-behind modules and finding the page class in them.

Bytecode goes where Python puts it, ``__pycache__``, with Python's own
staleness checks (source modification time and size). Precompiling it is
:func:`compile_bytecode`'s job, which ``compile_webapp`` runs; a launch then
compiles nothing. Code compiled from source at launch (no or stale bytecode,
e.g. in a read-only tree) is also remembered per process, so that launching
the same tree again recompiles only the files whose source changed.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import logging
import os
import py_compile
import sys
import threading
import time
import traceback
import warnings
from types import CodeType, ModuleType
from typing import Any

from ._errors import TinCanError
from ._pages import BasePage

__all__ = [
    "CodeBehindLoader",
    "bytecode_is_current",
    "class_depth",
    "compile_bytecode",
    "find_page_class",
    "warning_text",
]

# Code compiled from source, by path: (the source bytes, the code). One entry per
# file; each launch drops the files of its tree it did not load.
_compiled_sources: dict[tuple[str, int], tuple[bytes, CodeType]] = {}
_compiled_lock = threading.Lock()
_FRESH_SECONDS = 2.0


def bytecode_is_current(path: str) -> bool:
    """Whether ``__pycache__`` holds bytecode that Python's import would accept for ``path``."""
    try:
        cached = importlib.util.cache_from_source(path)
        with open(cached, "rb") as f:
            header = f.read(16)
        stat = os.stat(path)
    except (OSError, NotImplementedError, ValueError):
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    flags = int.from_bytes(header[4:8], "little")
    if flags & 1:  # hash-based: valid while the source hash matches
        try:
            with open(path, "rb") as f:
                source = f.read()
        except OSError:
            return False
        return header[8:16] == importlib.util.source_hash(source)
    mtime = int.from_bytes(header[8:12], "little")
    size = int.from_bytes(header[12:16], "little")
    return mtime == int(stat.st_mtime) & 0xFFFFFFFF and size == stat.st_size & 0xFFFFFFFF


def compile_bytecode(path: str) -> tuple[str | None, list[str]]:
    """Write ``path``'s bytecode into ``__pycache__`` (Python's default invalidation mode).

    Returns why the bytecode could not be written (or ``None``), and the warnings
    Python raised compiling it (an invalid escape sequence, say), as ``file:line:
    Category: message`` texts: once the bytecode exists, importing the module
    compiles nothing and warns no more, so a launch never sees them again. They
    never go to stderr. A file that does not compile is not this function's
    error: importing it reports where.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            py_compile.compile(path, doraise=True)
        except (py_compile.PyCompileError, ValueError):
            error = None
        except OSError as exc:
            error = f"{path}: cannot compile to bytecode: {exc.strerror or exc}"
        else:
            error = None
    return error, [warning_text(w) for w in caught]


def warning_text(w: warnings.WarningMessage) -> str:
    """A warning as launches log it: ``file:line: Category: message``."""
    return f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}"


class _CountingLoader(importlib.machinery.SourceFileLoader):
    """Python's source loader, counting compiles and reusing code compiled before."""

    def __init__(self, fullname: str, path: str, owner: CodeBehindLoader) -> None:
        super().__init__(fullname, path)
        self.owner = owner

    # Python's SourceLoader defines it as a method with ``_optimize``; the stubs
    # know only InspectLoader's static version.
    def source_to_code(  # type: ignore[override]
        self, data: Any, path: Any, *, _optimize: int = -1
    ) -> CodeType:
        key = (os.path.abspath(path), _optimize)
        source = bytes(data)
        known = _compiled_sources.get(key)
        if known is not None and known[0] == source:
            self.owner.reused += 1
            return known[1]
        code: CodeType = super().source_to_code(data, path, _optimize=_optimize)
        with _compiled_lock:
            _compiled_sources[key] = (source, code)
        self.owner.compiled += 1
        return code

    def _cache_bytecode(self, source_path: Any, bytecode_path: Any, data: Any) -> None:
        # Python trusts bytecode whose recorded source mtime (whole seconds) and size
        # match. A file saved twice in one second with the same size would keep the
        # first version's bytecode, so bytecode of a file that fresh is not written:
        # a reloading server would otherwise serve an edit late, or never.
        try:
            if time.time() - os.stat(source_path).st_mtime < _FRESH_SECONDS:
                return
        except OSError:
            return
        super()._cache_bytecode(source_path, bytecode_path, data)  # type: ignore[misc]


def _error_line(exc: BaseException, path: str) -> int | None:
    """The line of ``path`` where an import-time exception happened, if any."""
    if isinstance(exc, SyntaxError) and exc.lineno and exc.filename == path:
        return exc.lineno
    # Otherwise the innermost frame in this file: for an error inside a module it
    # imports (say from WEB-INF/lib), that is the line of the import.
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == path:
            line = lineno
    return line


def _raised_at(exc: BaseException, path: str) -> str:
    """`` (at module.py:7)`` when the error is in a module ``path`` imports (say from
    WEB-INF/lib): the error is the page's, at its import line, and happened there."""
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        where, line = exc.filename, exc.lineno
    else:
        frames = list(traceback.walk_tb(exc.__traceback__))
        if not frames:
            return ""
        frame, line = frames[-1]
        where = frame.f_code.co_filename
    if where == path or not os.path.isfile(where):
        return ""  # in the code-behind itself, or in frozen/generated code
    return f" (at {where}:{line})"


class CodeBehindLoader:
    """Imports each code-behind file once per launch.

    Modules get a name derived from their path, are registered in ``sys.modules``
    (dataclasses and pickling need that) and leave bytecode where Python puts it:
    ``__pycache__``, with Python's own staleness checks. A read-only tree is fine;
    Python then compiles in memory.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger  # where warnings raised while importing go; None: dropped
        self._modules: dict[str, ModuleType | TinCanError] = {}
        self.compiled = 0  # compiled from source at this launch
        self.reused = 0  # compiled by an earlier launch in this process

    @property
    def imported(self) -> int:
        return len(self._modules)

    def finish(self, root: str) -> None:
        """End of a launch: forget code compiled for files of ``root`` it did not load."""
        prefix = os.path.join(os.path.abspath(root), "")
        loaded = {os.path.abspath(path) for path in self._modules}
        with _compiled_lock:
            for key in list(_compiled_sources):
                if key[0].startswith(prefix) and key[0] not in loaded:
                    del _compiled_sources[key]

    def load(self, path: str, display_name: str) -> ModuleType:
        cached = self._modules.get(path)
        if cached is None:
            cached = self._import(path, display_name)
            self._modules[path] = cached
        if isinstance(cached, TinCanError):
            raise cached
        return cached

    def _import(self, path: str, display_name: str) -> ModuleType | TinCanError:
        key = hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        name = "tincan_codebehind_" + key
        spec = importlib.util.spec_from_file_location(
            name, path, loader=_CountingLoader(name, path, self)
        )
        if spec is None or spec.loader is None:
            return TinCanError("cannot load code-behind", display_name)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            # Compiling or running user code may warn (an odd escape, a deprecated
            # call); warnings would go to stderr, which a WSGI app must not write to.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("default")
                try:
                    spec.loader.exec_module(module)
                finally:
                    self._log_warnings(caught)
        except (Exception, SystemExit) as exc:  # sys.exit() in a module is its own error
            sys.modules.pop(name, None)
            error = TinCanError(
                f"code-behind failed to load: {type(exc).__name__}: {exc}{_raised_at(exc, path)}",
                display_name,
                _error_line(exc, path),
            )
            error.__cause__ = exc
            return error
        return module

    def _log_warnings(self, caught: list[warnings.WarningMessage]) -> None:
        if self.logger is None:
            return
        for w in caught:
            self.logger.warning("%s", warning_text(w))


def class_depth(cls: type, base: type) -> int:
    """Inheritance steps from ``cls`` up to ``base``, or -1 if it does not derive from it.

    The original's rule (its ``_cldepth``): ``base`` itself is 0; otherwise the
    ``__bases__`` are tried in order, depth first, and the first one that reaches
    ``base`` decides, whatever path is shorter or longer. With mixins the count
    follows the first listed base that leads to ``base``, not the MRO.
    """
    known: dict[type, int] = {}

    def depth(klass: type) -> int:
        if klass is object:
            return -1
        if klass is base:
            return 0
        if klass not in known:
            known[klass] = -1
            for parent in klass.__bases__:
                found = depth(parent)
                if found >= 0:  # the original's "> 0" on its running count: the same test
                    known[klass] = found + 1
                    break
        return known[klass]

    return depth(cls)


def find_page_class(module: ModuleType, base: type[BasePage], display_name: str) -> type[BasePage]:
    """The deepest class deriving from ``base`` among the module's attributes.

    ``base`` itself counts, at depth 0: a module that only imports ``Page`` uses
    ``Page``. Depth is :func:`class_depth`; two classes at the greatest depth are
    ambiguous. One class bound to several names counts once.
    """
    found: dict[type[BasePage], int] = {}
    for value in vars(module).values():
        # issubclass() holds exactly when class_depth() finds base (BasePage is no ABC).
        if isinstance(value, type) and issubclass(value, base) and value not in found:
            found[value] = class_depth(value, base)
    if not found:
        raise TinCanError(
            f"no {base.__name__} class found (define a subclass of {base.__name__}, or import it)",
            display_name,
        )
    deepest = max(found.values())
    chosen = [cls for cls, depth in found.items() if depth == deepest]
    if len(chosen) > 1:
        names = ", ".join(sorted(cls.__name__ for cls in chosen))
        raise TinCanError(
            f"ambiguous {base.__name__} classes: {names} (all at depth {deepest} from"
            f" {base.__name__})",
            display_name,
        )
    return chosen[0]
