"""Compiling page templates: Chameleon's page template, and parallel cold compiles.

Compiled programs are kept by :class:`CodeCache` (``_cache``), which Chameleon
uses as its module loader; :func:`compile_templates` fills it in forked worker
processes when a launch has many templates to compile.

Two things differ from handing a file to Chameleon, and neither changes what a
template renders:

* A page's header lines are blank lines in its body, so that line numbers match
  the file. Chameleon sees an XML declaration only at the very start of a text,
  so XML mode is decided on the text after the header lines, as plain
  Chameleon decides it for the body without the header (:func:`content_type`).
* The cache key (:func:`cache_key`) names the file by its path inside the
  webapp, not by its absolute path, so a tree that was moved or copied finds
  its compiled programs. A program's only reference to its file is Chameleon's
  ``__filename`` global (what render errors name); it is set to the real file
  whenever a program is used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import marshal
import os
import threading
import warnings
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from chameleon import PageTemplate, PageTemplateFile
from chameleon.exc import TemplateError
from chameleon.loader import TemplateLoader
from chameleon.utils import detect_encoding

from ._cache import CACHE_DIRNAME, CodeCache, CompileFailure, Program
from ._compact import compact
from ._errors import TinCanError
from ._fastcompile import install as _install_fast_compile
from ._parallel import default_jobs, fork_is_safe, run_in_workers
from ._templatewarnings import PythonExpr, located

__all__ = [
    "CACHE_DIRNAME",
    "CodeCache",
    "CompileFailure",
    "TemplateSource",
    "WorkerCompile",
    "build_template",
    "cache_key",
    "compile_in_worker",
    "compile_templates",
    "content_type",
    "failure_of",
    "make_template",
    "module_name",
    "pending_sources",
    "template_error",
]

_install_fast_compile()  # Chameleon versions it was checked against only

# Below this many templates to compile, forking workers costs more than it saves.
_PARALLEL_THRESHOLD = 6
# Changes whenever what cache_key() covers changes.
_KEY_FORMAT = "tincan-template-key-1"


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """A template body to compile, the file it came from, and how Chameleon reads it."""

    filename: str  # the file as errors and render tracebacks name it
    body: str
    name: str = ""  # its path inside the webapp, which keys the cache ("": filename)
    header_lines: int = 0  # leading lines of body that stand for a page's header lines
    content_type: str | None = None  # as Chameleon took the file's bytes; None: from body
    encoding: str | None = None  # decodes byte strings a render inserts (None: UTF-8)
    file_template: bool = False  # a #load'ed file: load: expressions, as PageTemplateFile
    # content_type() and cache_key(), worked out once: a launch asks for each of
    # them several times per template (planning, building, Chameleon's digest).
    _memo: dict[str, str] = field(default_factory=dict, init=False, compare=False, repr=False)


def content_type(source: TemplateSource) -> str:
    """What Chameleon takes ``source`` for; ``text/xml`` is XML mode.

    In XML mode line ends are kept as they are and no attribute is boolean; in
    HTML mode ``\\r\\n`` becomes ``\\n`` and ``checked``, ``selected``... are
    boolean attributes. Chameleon's rule for a text: XML if it starts with
    ``<?xml``, else what a ``<meta http-equiv="Content-Type">`` says, else HTML.
    """
    if source.content_type is not None:
        return source.content_type
    known = source._memo.get("content_type")
    if known is None:
        text = source.body[source.header_lines :]
        declared = None
        if text.startswith("<?xml"):
            declared = "text/xml"
        elif "<meta" in text.lower():  # what Chameleon's pattern needs, found quickly
            declared, _ = detect_encoding(text, "utf-8")
        known = declared or str(PageTemplate.default_content_type)
        source._memo["content_type"] = known
    return known


_builtin_names: dict[type, tuple[str, ...]] = {}


def _template_class(source: TemplateSource) -> type[_PageTemplate]:
    return _MacroTemplate if source.file_template else _PageTemplate


def _template_builtins(cls: type[_PageTemplate]) -> tuple[str, ...]:
    """The builtin names Chameleon digests with every template of ``cls``."""
    names = _builtin_names.get(cls)
    if names is None:
        factory: Any = cls
        template = factory(None)  # an empty template: nothing is compiled
        found = dict(template.builtins)
        found.update(template.extra_builtins)
        names = _builtin_names[cls] = tuple(sorted(found))
    return names


def cache_key(source: TemplateSource, names: Collection[str] | None = None) -> str:
    """The digest a compiled ``source`` is stored under.

    It covers what the compiled program depends on: the body, the file's path
    inside the webapp, XML or HTML mode, the template class and its builtin
    names. Chameleon's own digest also holds the absolute file name and the
    version of every installed package; TinCan's template options are fixed,
    and the TinCan, Chameleon and Python versions are in every entry's header,
    so neither moving the tree nor installing an unrelated package loses the cache.
    """
    cls = _template_class(source)
    usual = _template_builtins(cls)
    if names is None or tuple(names) == usual:
        known = source._memo.get("key")
        if known is None:
            known = source._memo["key"] = _digest(source, cls, usual)
        return known
    return _digest(source, cls, names)


def _digest(source: TemplateSource, cls: type[_PageTemplate], names: Collection[str]) -> str:
    xml = content_type(source) == "text/xml"
    sha = hashlib.sha256()
    for part in (
        _KEY_FORMAT,
        f"{cls.__module__}.{cls.__qualname__}",
        ";".join(names),
        "xml" if xml else "html",
        source.name or source.filename,
        source.body,
    ):
        data = part.encode("utf-8", "surrogatepass")
        sha.update(len(data).to_bytes(8, "big"))
        sha.update(data)
    return sha.hexdigest()[:32]


def module_name(source: TemplateSource) -> str:
    """The name Chameleon will ask its loader for, computed without compiling."""
    return f"{cache_key(source)}.py"


# Held while a deferred template is cooked (loading a program takes about a
# millisecond). One lock for all, made anew in a forked child: a fork while
# another thread cooks must not leave the child a lock nobody will release.
_cooking = threading.Lock()


def _new_cooking_lock() -> None:
    global _cooking
    _cooking = threading.Lock()


os.register_at_fork(after_in_child=_new_cooking_lock)


class _PageTemplate(PageTemplate):
    """Chameleon's page template, keyed and moded as :func:`cache_key` says.

    Made with ``tincan_defer=True`` it is cooked (its program loaded and set up)
    when first used, not when made: Chameleon asks ``cook_check()`` before every
    render, include and macro lookup, as it does for a file template that may
    have to be read first. A launch defers only templates whose compiled program
    the cache holds, so no compile error can be left for a request to find.
    """

    # Python expressions whose warnings name this template (._templatewarnings).
    expression_types = {**PageTemplate.expression_types, "python": PythonExpr}
    tincan_source: TemplateSource | None = None
    tincan_defer = False
    tincan_cooks_once = True  # what fast_render needs to know of cook_check
    # What Python warned compiling it, ``file:line: Category: message`` each.
    tincan_warnings: tuple[str, ...] = ()
    _deferred: str | None = None  # the body still to cook
    _tincan_program: str | None = None  # the generated source, while it compiles
    _tincan_catcher: Any = None  # catching its warnings, while it compiles

    def write(self, body: str | bytes) -> None:
        source = self.tincan_source
        if source is None or not isinstance(body, str):
            super().write(body)
            return
        self.content_type = content_type(source)
        self.content_encoding = source.encoding or self.default_encoding
        if self.tincan_defer:
            self._deferred = body
            return
        self.cook(body)

    def cook_check(self) -> None:
        if self._deferred is not None:
            self._cook_deferred()

    def _cook_deferred(self) -> None:
        with _cooking:  # concurrent first renders cook it once
            body = self._deferred
            if body is not None:
                self.cook(body)
                self._deferred = None

    def digest(self, body: str, names: Collection[str]) -> str:
        source = self.tincan_source
        if source is None:
            return str(super().digest(body, names))
        if body != source.body:
            source = dataclasses.replace(source, body=body)
        return cache_key(source, names)

    def _get_module_name(self, name: str) -> str:
        return f"{name}.py"  # module_name() relies on it

    def _compile(self, body: str, builtins: Collection[str]) -> str:
        # Chameleon's _cook calls this only to compile, and then has the loader
        # compile the program: warnings are caught from here to the end of _cook,
        # so a template read from the cache leaves the warnings machinery alone.
        catcher = warnings.catch_warnings(record=True)
        self._tincan_caught = catcher.__enter__()
        self._tincan_catcher = catcher
        warnings.simplefilter("always")
        source: str = super()._compile(body, builtins)
        self._tincan_program = source
        return source

    def _cook(self, body: str, name: str, builtins: Collection[str]) -> Program:
        try:
            program: Program = super()._cook(body, name, builtins)
        finally:
            catcher = self.__dict__.pop("_tincan_catcher", None)
            if catcher is not None:
                catcher.__exit__(None, None, None)
            caught = self.__dict__.pop("_tincan_caught", None) or []
            generated, self._tincan_program = self._tincan_program, None
        if caught:
            self.tincan_warnings = tuple(
                located(
                    caught,
                    filename=str(self.filename),
                    body=body,
                    module=self._get_module_name(name),
                    program=generated,
                )
            )
        # Compiled elsewhere (a moved tree) or read from the cache: render errors
        # must name this file. Functions of the program read it as a global.
        program["__filename"] = str(self.filename)
        return program


class _MacroTemplate(_PageTemplate):
    """A ``#load``ed macro file. The original made it a Chameleon ``PageTemplateFile``,
    so ``load:`` expressions work: they find templates relative to the file, and
    those are Chameleon's own file templates, read and compiled when first used."""

    expression_types = {**PageTemplateFile.expression_types, "python": PythonExpr}

    def _builtins(self) -> dict[str, Any]:
        found = super()._builtins()
        source = self.tincan_source
        directory = os.path.dirname(source.filename if source is not None else str(self.filename))
        options: dict[str, Any] = {}
        if source is not None and source.encoding is not None:
            options["encoding"] = source.encoding
        loader = TemplateLoader(search_path=[directory], **options)
        found["__loader"] = loader.bind(PageTemplateFile)
        return found


def make_template(source: TemplateSource, loader: Any, *, defer: bool = False) -> PageTemplate:
    """The page template for ``source``, compiled through ``loader`` (at its first use
    with ``defer``)."""
    options: dict[str, Any] = {
        "filename": source.filename,
        "loader": loader,
        "tincan_source": source,
    }
    if defer:
        options["tincan_defer"] = True
    if source.encoding is not None:
        options["encoding"] = source.encoding
    return _template_class(source)(source.body, **options)


def failure_of(exc: Exception) -> CompileFailure:
    """What a failed compile reports (``template error: ...`` and the line), and
    whether the same source always fails so (then the cache may remember it)."""
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
    # Running out of memory or stack depends on the process, not on the template.
    lasting = not isinstance(exc, (MemoryError, RecursionError, OSError))
    return CompileFailure(f"template error: {message}", line, lasting)


def template_error(exc: Exception, display_name: str) -> TinCanError:
    """Turn a Chameleon compile error into ``file:line: message``."""
    return failure_of(exc).error(display_name)


def build_template(
    source: TemplateSource, cache: CodeCache, display: str, *, defer: bool = False
) -> PageTemplate:
    """The template of ``source`` from ``cache``, compiled if it must be.

    A template that failed before (in a worker, or at an earlier launch if the
    failure is kept in the cache directory) is reported without compiling it again.
    With ``defer``, a template whose program the cache holds is loaded at its first
    use (see :class:`_PageTemplate`).
    """
    name = module_name(source)
    if defer and cache.holds_program(name):
        return make_template(source, cache, defer=True)
    failure = cache.failure(name)
    if failure is None:
        try:
            return make_template(source, cache)
        except Exception as exc:
            failure = failure_of(exc)
            cache.fail(name, failure)
            raise failure.error(display) from exc
    raise failure.error(display)


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


@dataclass(frozen=True, slots=True)
class WorkerCompile:
    """What a worker made of one template: ``{module name: marshalled code}`` (or the
    failure), and what Python warned compiling it (``file:line: Category: message``)."""

    programs: dict[str, bytes | CompileFailure]
    warnings: tuple[str, ...] = ()


def compile_in_worker(source: TemplateSource) -> WorkerCompile:
    """Compile one template: its programs, or the failure, and its warnings.

    Warnings about other files than the template (none are expected) are dropped:
    a worker has no logger, and its stderr is the server's or the command's.
    """
    capture = _Capture()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            template = make_template(source, capture)
        except Exception as exc:
            return WorkerCompile({module_name(source): failure_of(exc)})
    return WorkerCompile(dict(capture.compiled), template.tincan_warnings)


def pending_sources(sources: Iterable[TemplateSource], cache: CodeCache) -> list[TemplateSource]:
    """The templates ``cache`` cannot give without compiling, longest first (so that
    workers compiling them in parallel finish close together)."""
    pending = [source for source in sources if not cache.contains(module_name(source))]
    pending.sort(key=lambda s: len(s.body), reverse=True)
    return pending


def compile_templates(
    sources: Iterable[TemplateSource],
    cache: CodeCache,
    jobs: int | None = None,
    warn: Callable[[str], None] | None = None,
) -> int:
    """Precompile into ``cache`` every template not in it yet, in parallel when it pays.

    Returns the number of worker processes used (0: none). A template that fails
    in a worker is in the cache as a failure, reported without compiling again;
    one that a worker did not compile is compiled when it is built. What the
    workers' compiles warned goes to ``warn``, a text at a time.
    """
    pending = pending_sources(sources, cache)
    workers = min(jobs or default_jobs(), len(pending))
    if len(pending) < _PARALLEL_THRESHOLD or workers < 2 or not fork_is_safe():
        return 0  # compiled one by one as the templates are built

    def store(_: TemplateSource, compiled: WorkerCompile) -> None:
        for name, result in compiled.programs.items():
            cache.add(name, result)
        if warn is not None:
            for text in compiled.warnings:
                warn(text)

    left = run_in_workers(compile_in_worker, pending, workers, store)
    return workers if len(left) < len(pending) else 0
