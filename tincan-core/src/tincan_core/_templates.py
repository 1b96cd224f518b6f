"""Compiling page templates: Chameleon's page template, and parallel cold compiles.

Compiled programs are kept by :class:`CodeCache` (``_cache``), which Chameleon
uses as its module loader; :func:`compile_templates` fills it in forked worker
processes when a launch has many templates to compile.
"""

from __future__ import annotations

import marshal
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from chameleon import PageTemplate
from chameleon.exc import TemplateError

from ._cache import CACHE_DIRNAME, CodeCache, Program
from ._compact import compact
from ._errors import TinCanError
from ._parallel import default_jobs, fork_is_safe, run_in_workers

__all__ = [
    "CACHE_DIRNAME",
    "CodeCache",
    "TemplateSource",
    "compile_in_worker",
    "compile_templates",
    "make_template",
    "module_name",
    "template_error",
]

# Below this many templates to compile, forking workers costs more than it saves.
_PARALLEL_THRESHOLD = 6


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """A template body to compile, and the file it came from (for errors and digests)."""

    filename: str
    body: str


class _PageTemplate(PageTemplate):
    """Chameleon's page template, taking the digest from the loader if it knows it."""

    def digest(self, body: str, names: Collection[str]) -> str:
        known: dict[tuple[str, str], str] | None = getattr(self.loader, "digests", None)
        if known is not None:
            digest = known.get((str(self.filename), body))
            if digest is not None:
                return digest
        return str(super().digest(body, names))


def make_template(source: TemplateSource, loader: Any) -> PageTemplate:
    """The page template for ``source``, compiled through ``loader``."""
    options: dict[str, Any] = {"filename": source.filename, "loader": loader}
    return _PageTemplate(source.body, **options)


def module_name(source: TemplateSource, cache: CodeCache | None = None) -> str | None:
    """The name Chameleon will ask its loader for, computed without compiling.

    The digest is left with ``cache``, so building the template does not hash
    its body again.
    """
    try:
        options: dict[str, Any] = {"filename": source.filename}
        factory: Any = _PageTemplate  # an empty template: nothing is compiled
        template = factory(None, **options)
        builtins = dict(template.builtins)
        builtins.update(template.extra_builtins)
        digest = str(template.digest(source.body, tuple(sorted(builtins))))
        if cache is not None:
            cache.digests[(source.filename, source.body)] = digest
        return str(template._get_module_name(digest))
    except Exception:  # Chameleon internals changed: fall back to compiling in-process
        return None


class _Capture:
    """A loader that compiles and hands back the marshalled code."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def get(self, name: str) -> None:
        return None

    def build(self, source: str, name: str) -> Program:
        code = compact(compile(source, name, "exec"))
        self.compiled[name] = marshal.dumps(code)
        program: Program = {}
        exec(code, program)
        return program


def compile_in_worker(source: TemplateSource) -> dict[str, bytes]:
    """Compile one template; ``{module name: marshalled code}``, empty if it failed."""
    capture = _Capture()
    try:
        make_template(source, capture)
    except Exception:
        return {}  # the launching process compiles it again and reports the error
    return capture.compiled


def compile_templates(
    sources: Iterable[TemplateSource], cache: CodeCache, jobs: int | None = None
) -> int:
    """Precompile into ``cache`` every template not in it yet, in parallel when it pays.

    Returns the number of worker processes used (0: none). Templates that fail,
    or that a worker could not compile, are left out; building them in the
    caller compiles them there and raises the error with its location.
    """
    pending = []
    for source in sources:
        name = module_name(source, cache)
        if name is not None and not cache.contains(name):
            pending.append(source)
    workers = min(jobs or default_jobs(), len(pending))
    if len(pending) < _PARALLEL_THRESHOLD or workers < 2 or not fork_is_safe():
        return 0  # compiled one by one as the templates are built
    pending.sort(key=lambda s: len(s.body), reverse=True)  # longest first: even finish

    def store(_: TemplateSource, compiled: dict[str, bytes]) -> None:
        for name, data in compiled.items():
            cache.add(name, data)

    left = run_in_workers(compile_in_worker, pending, workers, store)
    return workers if len(left) < len(pending) else 0


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
