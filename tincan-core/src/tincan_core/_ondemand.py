"""``launch_on_demand``: a webapp served at once, its pages compiled as they are needed.

What a development server wants, as Jasper does for JSP: the routes come from
the tree scan and the page headers (cheap), and each page is compiled when it
is first requested, and meanwhile in the background, in worker processes on
every core, until all are. Compiled templates go into the compile cache as they
come, so the next start compiles nothing.

A page that does not compile, found either way, is logged (``file:line:
message``) and answers from then on with the launch-error page (``debug=True``)
or a plain 500. Its other routes keep working, as every other page does.

Concurrent first requests for a page compile it once: every compile in the
process holds one lock, so a second request waits for the first one's result.
``launch()``, ``compile_webapp`` and ``check_webapp`` stay eager and complete.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import bottle

from ._app import TinCan
from ._build import Builder, CompiledPage, PlannedPage, RoutedPage
from ._classify import FileKind
from ._errors import TinCanError
from ._header import ParsedHeader
from ._launch import ENCODING, prepare_launch
from ._launcherrors import broken_error_page, broken_page
from ._parallel import WorkerPool, WorkerPoolUnavailable, default_jobs, fork_is_safe
from ._scan import Inventory, scan_tree
from ._templates import TemplateSource, WorkerCompile, compile_in_worker, pending_sources

__all__ = ["OnDemandLaunch", "launch_on_demand"]

# Every on-demand compile of the process: launches of the same tree (a reloading
# server) share the tree's cache in memory, and a Builder is not thread-safe.
_COMPILE_LOCK = threading.RLock()
# A page whose header cannot be read may be meant for any method: show it to all.
_ANY_METHOD = ("ANY",)

Callback = Callable[..., Any]


class _OnDemandRoute:
    """A route callback that compiles its page on the first request."""

    __slots__ = ("builder", "relpath")

    def __init__(self, builder: OnDemandBuilder, relpath: str) -> None:
        self.builder = builder
        self.relpath = relpath

    def __call__(self, *args: Any) -> Any:
        return self.builder.ready(self.relpath)(*args)


class OnDemandBuilder(Builder):
    """A launch that routes every page from its header and compiles it when used."""

    def __init__(self, *args: Any, show_errors: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.show_errors = show_errors
        self.pages: list[str] = []
        self.broken: dict[str, list[TinCanError]] = {}  # pages that did not launch
        self.planned: dict[str, PlannedPage] = {}
        self.callbacks: dict[str, Callback] = {}  # compiled (or broken) pages
        self.compiled: dict[str, CompiledPage] = {}
        self.started = time.perf_counter()
        # Requests waiting for a compile: the background lets them go first.
        self._waiting = 0
        self._waiting_lock = threading.Lock()

    # -- building the routes -----------------------------------------------------------
    def _build(self, inventory: Inventory | None) -> int:
        if inventory is None:
            inventory = scan_tree(self.root)
        for warning in inventory.warnings:
            self.log.warning("%s", warning)
        self.pages = [f.relpath for f in inventory.of_kind(FileKind.PAGE)]
        planned: dict[str, RoutedPage] = {}
        for relpath in self.pages:
            planned[relpath] = self.planned[relpath] = self.plan_page(relpath)
            for warning in self.take_warnings():
                self.log.warning("%s", warning)
        self.add_pages(planned, inventory.of_kind(FileKind.STATIC))
        return self.errors

    def plan_page(self, relpath: str) -> PlannedPage:
        """What the headers say of ``relpath`` (its forward target, its methods); a
        page whose headers fail is planned broken, with the routes it can have."""
        source = self.source(relpath)
        header = source.header
        try:
            if source.error is not None:
                raise source.error
            assert header is not None
            target = self.forward_target(relpath, header)
            target_header = self.source(target).header
            assert target_header is not None
        except TinCanError as exc:
            self.fail(relpath, exc)
            if header is None:
                return PlannedPage(relpath, relpath, ParsedHeader(), _ANY_METHOD)
            return PlannedPage(relpath, relpath, header, header.methods)
        return PlannedPage(relpath, target, header, target_header.methods)

    def fail(self, relpath: str, exc: TinCanError) -> None:
        self.error(exc)
        self.broken.setdefault(relpath, []).append(exc)

    def page_callback(self, page: RoutedPage) -> Callable[[], Any]:
        if isinstance(page, PlannedPage):  # compiled when first requested
            return _OnDemandRoute(self, page.relpath)
        return super().page_callback(page)

    def error_callback(self, page: RoutedPage) -> Callable[[bottle.HTTPError], Any]:
        if isinstance(page, PlannedPage):  # compiled when first needed
            return _OnDemandRoute(self, page.relpath)
        return super().error_callback(page)

    # -- compiling ---------------------------------------------------------------------
    def ready(self, relpath: str) -> Callback:
        """The callback of ``relpath`` compiled (once: later callers wait for it)."""
        callback = self.callbacks.get(relpath)
        if callback is None:
            with self._waiting_lock:
                self._waiting += 1
            try:
                with _COMPILE_LOCK:
                    callback = self.callbacks.get(relpath)
                    if callback is None:
                        callback = self.callbacks[relpath] = self._prepare(relpath)
            finally:
                with self._waiting_lock:
                    self._waiting -= 1
        return callback

    def _prepare(self, relpath: str) -> Callback:
        planned = self.planned.get(relpath)
        error_page = planned is not None and planned.header.errors is not None
        if relpath not in self.broken:
            try:
                page = self.compile_page(relpath)
            except TinCanError as exc:
                self.fail(relpath, exc)
            else:
                self.compiled[relpath] = page
                if error_page:
                    return Builder.error_callback(self, page)
                return Builder.page_callback(self, page)
        errors, shown = self.broken[relpath], self.display(relpath)
        if error_page:
            fallback = self.app.default_error_handler
            return broken_error_page(
                shown, errors, self.root, self.encoding, show=self.show_errors, fallback=fallback
            )
        return broken_page(shown, errors, self.root, self.encoding, show=self.show_errors)

    def store(self, _: TemplateSource, result: WorkerCompile) -> None:
        """A worker's compile of a template, into the cache; its warnings, logged."""
        with _COMPILE_LOCK:
            for name, compiled in result.programs.items():
                self.cache.add(name, compiled)
        for warning in result.warnings:
            self.log.warning("%s", warning)

    def pending_templates(self) -> list[TemplateSource]:
        with _COMPILE_LOCK:
            usable = [p for p in self.pages if p not in self.broken and p not in self.callbacks]
            return pending_sources(self.plan(usable).templates.values(), self.cache)

    def compile_rest(self, stop: threading.Event) -> bool:
        """Compile every page not compiled yet (from the cache the workers filled);
        whether all were (``stop`` ends it early)."""
        for relpath in self.pages:
            while self._waiting and not stop.is_set():
                time.sleep(0.005)  # a request waits for a page: let it have the lock
            if stop.is_set():
                return False
            if relpath not in self.callbacks:
                with _COMPILE_LOCK:
                    if relpath not in self.callbacks:
                        self.callbacks[relpath] = self._prepare(relpath)
        with _COMPILE_LOCK:
            self.finish(len(self.pages), 0, time.perf_counter() - self.started)
            # Now that the classes are known, tincan routes and check see them.
            info = self.app.route_info
            info[:] = [
                dataclasses.replace(i, **self.describe(self.compiled[i.file]))
                if i.file in self.compiled and not i.page_class
                else i
                for i in info
            ]
        return True


class OnDemandLaunch:
    """A webapp launched by :func:`launch_on_demand`.

    ``app`` serves at once (``None`` if the tree cannot be used at all);
    ``errors`` counts the problems found so far: settings and page headers at
    launch, then every page that fails to compile. :meth:`start` begins the
    background compile, :meth:`stop` ends it, :meth:`wait` waits for it.
    """

    def __init__(self, app: TinCan | None, builder: OnDemandBuilder | None) -> None:
        self.app = app
        self._builder = builder
        self.launch_errors = builder.errors if builder is not None else 1
        self._stop = threading.Event()
        self._done = threading.Event()
        self._pool: WorkerPool | None = None
        self._thread: threading.Thread | None = None
        self.complete = False  # every page was compiled (not stopped early)
        if builder is None:
            self._done.set()

    @property
    def errors(self) -> int:
        return self._builder.errors if self._builder is not None else 1

    @property
    def pages(self) -> int:
        """Pages of the webapp."""
        return len(self._builder.pages) if self._builder is not None else 0

    @property
    def compiled(self) -> int:
        """Pages compiled so far (those that failed too)."""
        builder = self._builder
        return len(builder.callbacks) if builder is not None else 0

    def start(
        self,
        jobs: int | None = None,
        on_done: Callable[[OnDemandLaunch], None] | None = None,
    ) -> None:
        """Compile every page in the background; ``on_done(self)`` once all are.

        Worker processes (``jobs``, default ``$TINCAN_JOBS`` or every core) are
        forked here, so call this before the server starts its threads: where
        forking is not safe any more (a reload), the pages are compiled in one
        background thread instead.
        """
        builder = self._builder
        if builder is None or self._thread is not None:
            return
        # What the cache lacks, known before forking: a tree compiled before (a dev
        # server started again) needs no worker processes.
        pending = builder.pending_templates()
        workers = min(jobs or default_jobs(), len(pending))
        if workers >= 2 and fork_is_safe():
            try:
                self._pool = WorkerPool(workers, background=True)
            except WorkerPoolUnavailable:
                self._pool = None

        def run() -> None:
            try:
                pool = self._pool
                if pool is not None:
                    try:
                        pool.run(compile_in_worker, pending, builder.store, self._stop)
                    finally:
                        pool.close(terminate=self._stop.is_set())
                        self._pool = None
                self.complete = builder.compile_rest(self._stop)
            except Exception:  # the background must never take the server down
                builder.log.exception("background compile failed")
            finally:
                self._done.set()
            if on_done is not None and self.complete:
                on_done(self)

        self._thread = threading.Thread(target=run, name="tincan-compile", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the background compile (pages still compile when requested)."""
        self._stop.set()
        pool = self._pool
        if pool is not None:
            pool.close(terminate=True)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background compile; whether it is over."""
        return self._done.wait(timeout)


def launch_on_demand(
    fsroot: str | os.PathLike[str] | None = None,
    urlroot: str = "/",
    *,
    logger: logging.Logger | None = None,
    encoding: str = ENCODING,
    static: bool = False,
    debug: bool = False,
    **settings: Any,
) -> OnDemandLaunch:
    """Launch the webapp at ``fsroot`` for a development server: routes at once,
    pages compiled when first requested and by :meth:`OnDemandLaunch.start`.

    The arguments are :func:`launch`'s. ``debug=True`` shows the developer error
    page for 500s and the launch-error page on the routes of broken pages;
    without it those answer a plain 500. A page's errors are logged when found.
    """
    prepared = prepare_launch(fsroot, urlroot, logger, encoding, settings)
    if prepared is None:
        return OnDemandLaunch(None, None)
    app = prepared.app
    builder = OnDemandBuilder(
        app, prepared.root, prepared.prefix, prepared.encoding, prepared.log,
        static=static, show_errors=debug,
    )  # fmt: skip
    prepared.report_problems(builder)
    builder.build()
    if debug:
        from ._debugpage import install_debug_page

        install_debug_page(app, prepared.root)
    return OnDemandLaunch(app, builder)
