"""``compile_webapp``: fill the compile caches so that later launches compile nothing.

Where the compiled code lives (both are rebuilt whenever they do not match):

* Chameleon programs of page templates, ``#template`` sources and ``#load``ed
  macro files: ``WEB-INF/.tincan-cache/`` (see ``_cache``), keyed by the
  template body, its path inside the webapp and the Chameleon, TinCan and
  Python versions; templates that fail to compile are kept there as failures.
* Code-behind and ``WEB-INF/lib`` modules: ``__pycache__``, Python's own way
  and with its own staleness checks.

The work is spread over worker processes; then the webapp is built once in
this process, from the caches, which reports every error exactly as
``launch()`` would (a template that failed in a worker is not compiled again)
and proves the caches complete. Cache files that no page
uses any more are deleted.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ._app import TinCan
from ._build import Builder
from ._classify import FileKind
from ._codebehind import bytecode_is_current, compile_bytecode
from ._launch import _add_lib_path, _silent_logger, _unusable_tree
from ._parallel import default_jobs, fork_is_safe, run_in_workers
from ._scan import scan_tree
from ._templates import TemplateSource, WorkerCompile, compile_in_worker, module_name

__all__ = ["CompileReport", "compile_webapp"]

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class CompileReport:
    """What ``compile_webapp`` did."""

    pages: int  # .pspx files found
    templates_compiled: int  # Chameleon programs compiled now
    templates_cached: int  # already in the cache and still valid
    code_behind: int  # code-behind modules whose bytecode is now in __pycache__
    errors: list[str] = field(default_factory=list)  # file:line: message, as launch() logs
    # What Python warned compiling code-behind and WEB-INF/lib modules now (file:line:
    # Category: message); logged as warnings too. Their bytecode warns no more.
    warnings: list[str] = field(default_factory=list)
    python_files: list[str] = field(default_factory=list)  # code-behind and WEB-INF/lib


Outcome = WorkerCompile | tuple[str | None, list[str]]


def _compile_job(job: TemplateSource | str) -> Outcome:
    """One unit of work in a worker: a template (its programs, or its failure) or
    a Python file (why its bytecode could not be written, or ``None``; and the
    warnings compiling it raised)."""
    if isinstance(job, TemplateSource):
        return compile_in_worker(job)
    return compile_bytecode(job)


def _library_modules(root: str) -> list[str]:
    """The ``.py`` files under ``WEB-INF/lib`` (imported by code-behind, compiled too)."""
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(os.path.join(root, "WEB-INF", "lib")):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        found.extend(
            os.path.join(directory, name)
            for name in sorted(filenames)
            if name.endswith(".py") and not name.startswith(".")
        )
    return found


def compile_webapp(
    fsroot: str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    jobs: int | None = None,
    progress: Progress | None = None,
    logger: logging.Logger | None = None,
) -> CompileReport:
    """Compile every page template, ``#load``ed macro file and code-behind of ``fsroot``.

    Uses ``jobs`` worker processes (default: ``$TINCAN_JOBS``, else every core);
    calls ``progress(done, total)`` as the work completes. Returns a report whose
    ``errors`` are the problems a launch would log, one ``file:line: message``
    each. After it, launching the unchanged tree compiles and writes nothing.
    """
    log = logger if logger is not None else _silent_logger()
    # Absolute, as launch() makes it: file names in errors must not depend on the
    # working directory.
    root = os.path.abspath(os.fspath(fsroot))
    problem = _unusable_tree(root, encoding)
    if problem is not None:
        log.error("%s", problem)
        return CompileReport(0, 0, 0, 0, [problem])
    _add_lib_path(root)

    app = TinCan(logger=log)
    builder = Builder(app, root, "", encoding, log, static=False)
    builder.defer_loading = False  # every cache entry is read and verified
    inventory = scan_tree(root)
    pages = [f.relpath for f in inventory.of_kind(FileKind.PAGE)]
    plan = builder.plan(pages)

    # What the cache directory lacks (programs only in this process's memory too).
    stale_templates: list[TemplateSource] = []
    for source in plan.templates.values():
        if not builder.cache.stored(module_name(source)):
            stale_templates.append(source)
    stale_templates.sort(key=lambda s: len(s.body), reverse=True)
    python_files = plan.code_behind + _library_modules(root)
    stale_python = [path for path in python_files if not bytecode_is_current(path)]
    work: list[TemplateSource | str] = [*stale_templates, *stale_python]

    done = 0
    unwritable: list[str] = []
    warned: list[str] = []
    if progress is not None:
        progress(done, len(work))

    def finished(job: TemplateSource | str, result: Outcome) -> None:
        nonlocal done
        if isinstance(result, WorkerCompile):
            for name, data in result.programs.items():
                builder.cache.add(name, data)
            warned.extend(result.warnings)
        else:
            error, python_warnings = result
            if error is not None:
                unwritable.append(error)
            warned.extend(python_warnings)
        done += 1
        if progress is not None:
            progress(done, len(work))

    workers = min(jobs or default_jobs(), len(work))
    left = work
    if workers >= 2 and fork_is_safe():
        left = run_in_workers(_compile_job, work, workers, finished)
    for job in left:
        finished(job, _compile_job(job))

    for warning in warned:
        log.warning("%s", warning)
    builder.jobs = 1  # a worker that died left its templates uncompiled: compile them here
    builder.build(inventory)
    builder.cache.prune_files()
    errors = list(builder.messages)
    if builder.cache.write_error is not None:
        errors.append(builder.cache.write_error)
    if unwritable:
        more = f" (and {len(unwritable) - 1} more files)" if len(unwritable) > 1 else ""
        errors.append(unwritable[0] + more)
    for message in errors[len(builder.messages) :]:
        log.error("%s", message)
    return CompileReport(
        pages=len(pages),
        templates_compiled=builder.cache.compiled,
        templates_cached=len(plan.templates) - len(stale_templates),
        code_behind=sum(1 for path in plan.code_behind if bytecode_is_current(path)),
        errors=errors,
        warnings=warned,
        python_files=python_files,
    )
