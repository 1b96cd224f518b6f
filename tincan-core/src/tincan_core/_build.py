"""From a scanned tree to routes: page specs, forwards, compilation, error pages."""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import bottle
from chameleon import PageTemplate

from . import _hooks
from ._app import CROSS_ORIGIN_ALLOWED, PAGE_KEY, Endpoint, RouteInfo, TinCan
from ._classify import FileKind
from ._codebehind import CodeBehindLoader, find_page_class, warning_text
from ._errors import TinCanError
from ._handlers import error_handler, page_handler
from ._header import ALL_ERROR_CODES, ParsedHeader
from ._pages import BasePage, ErrorPage, Page
from ._paths import route_for
from ._redirects import redirect_swapping_base, redirect_to
from ._scan import Inventory, WebappFile, scan_tree
from ._sources import PageSources
from ._static import StaticFile, content_type_for
from ._stats import LaunchStats
from ._templates import (
    CACHE_DIRNAME,
    CodeCache,
    TemplateSource,
    build_template,
    compile_templates,
)
from ._urlplan import PageSpec, PlannedRoute, UrlForms, plan_urls

__all__ = ["Builder", "CompilePlan", "CompiledPage", "PlannedPage", "RoutedPage"]


@dataclass(slots=True)
class CompilePlan:
    """Everything the pages of a launch need compiled: templates and code-behind files."""

    templates: dict[str, TemplateSource] = field(default_factory=dict)  # by file name
    code_behind: list[str] = field(default_factory=list)  # paths, each once


@dataclass(slots=True)
class CompiledPage:
    relpath: str  # the page that owns the route
    target: str  # the page whose body/code-behind/loads/methods serve it (after #forward)
    header: ParsedHeader  # the owner's header (#hidden, #errors)
    methods: tuple[str, ...]
    page_class: type[BasePage]
    template: PageTemplate
    loads: dict[str, PageTemplate] = field(default_factory=dict)


@dataclass(slots=True)
class PlannedPage:
    """A page whose routes are known from the headers alone; compiled when first used
    (``launch_on_demand``)."""

    relpath: str
    target: str
    header: ParsedHeader
    methods: tuple[str, ...]


RoutedPage = CompiledPage | PlannedPage


class Builder(PageSources):
    """One launch: every problem is one logged error and costs only its page."""

    def __init__(
        self,
        app: TinCan,
        root: str,
        prefix: str,
        encoding: str,
        logger: logging.Logger,
        *,
        static: bool,
    ) -> None:
        super().__init__(root, encoding)
        self.app = app
        self.prefix = prefix
        self.log = logger
        self.static = static
        self.errors = 0
        self.messages: list[str] = []  # each error as logged: file:line: message
        self.jobs: int | None = None  # compile processes; None: $TINCAN_JOBS or every core
        # Templates the cache holds are loaded at their first render; compile_webapp
        # loads (and so verifies) every one.
        self.defer_loading = True
        self.codebehind = CodeBehindLoader(logger)
        self.cache = CodeCache(os.path.join(root, "WEB-INF", CACHE_DIRNAME))
        self.macros: dict[str, PageTemplate | TinCanError] = {}
        self.templates: dict[str, PageTemplate] = {}

    # -- reporting ---------------------------------------------------------------------
    def error(self, exc: TinCanError) -> None:
        """Count and log one problem: one line (an exception text may have several),
        with the traceback when the logger is at DEBUG."""
        self.errors += 1
        message = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        self.messages.append(message)
        cause = exc.__cause__ or exc
        debug = self.log.isEnabledFor(logging.DEBUG)
        self.log.error("%s", message, exc_info=cause if debug else None)

    # -- compiling ---------------------------------------------------------------------
    def build_template(self, source: TemplateSource, display: str) -> PageTemplate:
        template = self.templates.get(source.filename)
        if template is None:
            template = build_template(source, self.cache, display, defer=self.defer_loading)
            self.templates[source.filename] = template
            for warning in getattr(template, "tincan_warnings", ()):
                self.log.warning("%s", warning)
        return template

    def macro(self, relpath: str, page: str, line: int) -> PageTemplate:
        cached = self.macros.get(relpath)
        if cached is None:
            try:
                cached = self.build_template(self.macro_source(relpath), self.display(relpath))
            except TinCanError as exc:
                cached = exc
            self.macros[relpath] = cached
        if isinstance(cached, TinCanError):
            raise TinCanError(f"#load: {cached}", self.display(page), line)
        return cached

    def page_class(self, target: str, base: type[BasePage]) -> type[BasePage]:
        relpath = self.code_behind(target)
        if relpath is None:
            return base
        path = os.path.join(self.root, relpath)
        module = self.codebehind.load(path, self.display(relpath))
        return find_page_class(module, base, self.display(relpath))

    def compile_page(self, relpath: str) -> CompiledPage:
        try:
            return self._compile_page(relpath)
        finally:
            # Accepted but ignored header lines of every page read meanwhile (this
            # one, its forward chain, pages read when planning): warnings, not errors.
            for warning in self.take_warnings():
                self.log.warning("%s", warning)

    def _compile_page(self, relpath: str) -> CompiledPage:
        source = self.source(relpath)
        if source.error is not None:
            raise source.error
        header = source.header
        assert header is not None
        target = self.forward_target(relpath, header)
        target_header = self.source(target).header
        assert target_header is not None
        base: type[BasePage] = ErrorPage if header.errors is not None else Page
        try:
            body = self.template_source(target)
            # Errors in a body point into the file it came from (a #template view, the
            # #forward target), not into the page that uses it.
            template = self.build_template(body, os.path.normpath(body.filename))
            loads = {
                var: self.macro(path, target, line)
                for var, path, line in self.load_sources(target)
            }
            page_class = self.page_class(target, base)
        except TinCanError as exc:
            blamed = self.blame(relpath, exc)
            if blamed is exc:
                raise
            raise blamed  # noqa: B904 - its __cause__ is the original failure
        return CompiledPage(
            relpath=relpath,
            target=target,
            header=header,
            methods=target_header.methods,
            page_class=page_class,
            template=template,
            loads=loads,
        )

    def blame(self, relpath: str, exc: TinCanError) -> TinCanError:
        """``exc`` located in another file (a shared view or controller): name the page
        that loses its route too, so the log tells which routes are missing."""
        own = (self.display(relpath), self.display(relpath[: -len(".pspx")] + ".py"))
        if exc.file is None or exc.file in own:
            return exc
        blamed = TinCanError(f"{exc.message} (used by {relpath})", exc.file, exc.line)
        blamed.__cause__ = exc.__cause__ or exc
        return blamed

    def plan(self, pages: list[str]) -> CompilePlan:
        """What building these pages will compile; pages with errors are left out
        (they are reported when built). The launch and ``compile_webapp`` share it."""
        plan = CompilePlan()
        code_behind: dict[str, None] = {}
        for relpath in pages:
            try:
                source = self.source(relpath)
                if source.header is None:
                    continue
                target = self.forward_target(relpath, source.header)
                template = self.template_source(target)
                plan.templates.setdefault(template.filename, template)
                for _, path, _ in self.load_sources(target):
                    full = os.path.join(self.root, path)
                    if full not in plan.templates and os.path.isfile(full):
                        plan.templates[full] = self.macro_source(path)
                python = self.code_behind(target)
                if python is not None:
                    code_behind[os.path.join(self.root, python)] = None
            except TinCanError:
                continue
        plan.code_behind = list(code_behind)
        return plan

    def precompile(self, pages: list[str]) -> int:
        """Compile every template these pages need, in parallel, before building them."""
        return compile_templates(
            self.plan(pages).templates.values(), self.cache, self.jobs, self._warn
        )

    def _warn(self, text: str) -> None:
        self.log.warning("%s", text)

    # -- the whole launch --------------------------------------------------------------
    def build(self, inventory: Inventory | None = None) -> int:
        """Build every route of the webapp into the app; returns the number of errors.

        Warnings raised meanwhile (code-behind using something deprecated) go to
        the logger: a WSGI app must not write to stderr. What a template's compile
        warns about it is logged naming the template's file and line, whether a
        worker process compiled it or this one (:mod:`._templatewarnings`).
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            try:
                return self._build(inventory)
            finally:
                for w in caught:
                    self.log.warning("%s", warning_text(w))

    def _build(self, inventory: Inventory | None) -> int:
        started = time.perf_counter()
        if inventory is None:
            inventory = scan_tree(self.root)
        for warning in inventory.warnings:
            self.log.warning("%s", warning)
        pages = [f.relpath for f in inventory.of_kind(FileKind.PAGE)]
        workers = self.precompile(pages)
        compiled: dict[str, CompiledPage] = {}
        for relpath in pages:
            try:
                compiled[relpath] = self.compile_page(relpath)
            except TinCanError as exc:
                self.error(exc)
        self.add_pages(dict(compiled), inventory.of_kind(FileKind.STATIC))
        self.finish(len(pages), workers, time.perf_counter() - started)
        return self.errors

    def add_pages(self, pages: dict[str, RoutedPage], files: list[WebappFile]) -> None:
        """The error pages and the routes of ``pages``, and the static ``files``."""
        error_pages = [c for c in pages.values() if c.header.errors is not None]
        self.add_error_pages(error_pages)
        no_url = UrlForms(None, why="is an error page: it has no URL")
        for page in error_pages:
            self.app.urls.forms[page.relpath] = no_url
        routable = {r: c for r, c in pages.items() if c.header.errors is None}
        self.add_routes(routable, files)

    def finish(self, pages: int, workers: int, seconds: float) -> None:
        """Release what this launch did not use and record what it did."""
        cache, codebehind = self.cache, self.codebehind
        cache.finish()
        codebehind.finish(self.root)
        self.app.config["tincan.stats"] = LaunchStats(
            pages=pages,
            templates_compiled=cache.compiled,
            templates_loaded=cache.loaded,
            templates_reused=cache.reused,
            cache_rejected=cache.rejected,
            cache_writes=cache.written,
            code_behind_imported=codebehind.imported,
            code_behind_compiled=codebehind.compiled,
            code_behind_reused=codebehind.reused,
            workers=workers,
            seconds=seconds,
        )

    def describe(self, page: RoutedPage) -> dict[str, Any]:
        page_class = ""  # a planned page's class is known once it is compiled
        if isinstance(page, CompiledPage):
            cls = page.page_class
            page_class = f"{cls.__module__}.{cls.__qualname__}"
        return {
            "page_class": page_class,
            "forward": page.target if page.target != page.relpath else "",
            "served_by": page.target,
            "errors": page.header.errors or (),
        }

    def info(self, info: RouteInfo) -> None:
        self.app.route_info.append(info)

    def add_routes(self, pages: dict[str, RoutedPage], files: list[WebappFile]) -> None:
        """Every route of the launch, as :func:`plan_urls` decides them (its rules:
        page and static URLs, index directories, clean URLs, ``#path`` patterns),
        plus the forward table and ``url_for``'s table. ``files`` are the static
        files, served or not."""
        settings = self.app.settings
        plan = plan_urls(
            self.prefix,
            [PageSpec(r, p.methods, p.header.paths, p.header.hidden) for r, p in pages.items()],
            [f.relpath for f in files],
            serve_static=self.static,
            clean=settings.clean_urls,
            redirect=settings.redirect_to_clean_urls,
            display=self.display,
        )
        for error in plan.errors:
            self.error(error)
        for note in plan.notes:
            self.log.info("%s", note)
        callbacks: dict[str, Callable[[], Any]] = {}
        for relpath, page in pages.items():
            callback = callbacks[relpath] = self.page_callback(page)
            path = route_for(self.prefix, relpath)
            self.app.endpoints[path] = Endpoint(frozenset(page.methods), callback, relpath)
            if page.header.hidden:
                self.info(RouteInfo("", "hidden", relpath, page.methods, **self.describe(page)))
        cache_control = settings.static_cache_control
        for f in files if self.static else ():
            content_type = content_type_for(f.relpath, self.encoding)
            callbacks[f.relpath] = StaticFile(f.path, content_type, self.log, cache_control)
        for route in plan.routes:
            self.add_route(route, pages.get(route.file), callbacks[route.file])
        self.app.urls.forms.update(plan.forms)

    def add_route(
        self, route: PlannedRoute, page: RoutedPage | None, serve: Callable[[], Any]
    ) -> None:
        """Register one planned route: ``serve`` answers it, unless it redirects."""
        config: dict[str, Any] = {}
        described: dict[str, Any] = {}
        if page is not None:
            config[PAGE_KEY] = page.relpath
            if page.header.allow_cross_origin:
                config[CROSS_ORIGIN_ALLOWED] = True  # every URL form of the page
            described = self.describe(page)
        pattern = route.pattern
        callback, redirect = serve, route.redirect
        if redirect and pattern is not None:
            callback = redirect_swapping_base(pattern.base, redirect)
            redirect = f"{redirect}/{pattern.pattern}"
        elif redirect:
            callback = redirect_to(redirect)
        if pattern is not None:
            self.app.add_pattern_route(pattern, route.methods, callback, config)
        else:
            self.app.add_literal_route(route.path, route.methods, callback, config)
            if page is not None and route.kind != "page":
                # Forwards to a page's other URLs serve it (never a redirect).
                literal = self.app.endpoints[route_for(self.prefix, page.relpath)]
                self.app.endpoints[route.path] = literal
        self.info(RouteInfo(
            route.path, route.kind, route.file, route.methods,
            pattern=pattern.pattern if pattern is not None else "", redirect=redirect,
            **described,
        ))  # fmt: skip
        to = f"{redirect} (redirect)" if redirect else route.file
        self.log.info("route %s %s -> %s", ",".join(route.methods), route.path, to)

    # -- request handling --------------------------------------------------------------
    def observed(
        self, page: CompiledPage, *, error_page: bool
    ) -> tuple[Callable[..., BasePage], Callable[..., str]]:
        """The page's class and render function; reporting visits if a test tool asked."""
        observer = _hooks.page_observer
        if observer is None:
            return page.page_class, page.template.render
        return _hooks.instrument(
            page.relpath, page.target, page.page_class, page.template.render, page.loads,
            error_page=error_page, observer=observer,
        )

    def page_callback(self, page: RoutedPage) -> Callable[[], Any]:
        compiled = _compiled(page)
        page_class, render = self.observed(compiled, error_page=False)
        return page_handler(
            page_class, render, compiled.loads, self.log, self.display(compiled.relpath)
        )

    def error_callback(self, page: RoutedPage) -> Callable[[bottle.HTTPError], Any]:
        compiled = _compiled(page)
        page_class, render = self.observed(compiled, error_page=True)
        return error_handler(
            page_class, render, compiled.loads, self.log, self.display(compiled.relpath)
        )

    def add_error_pages(self, pages: list[RoutedPage]) -> None:
        """Register error pages; explicit codes win over catch-all pages."""
        owners: dict[int, RoutedPage] = {}
        for explicit in (True, False):
            claimed: dict[int, RoutedPage] = {}
            for page in pages:
                codes = page.header.errors or ()
                if (codes == ALL_ERROR_CODES) == explicit:
                    continue
                clashes = [c for c in codes if c in claimed]
                if clashes:
                    # The page registers none of its codes: half an error page is a trap.
                    other = self.display(claimed[clashes[0]].relpath)
                    listed = " ".join(map(str, clashes)) if explicit else "every code"
                    self.error(TinCanError(
                        f"#errors: {listed} claimed twice, also by {other}",
                        self.display(page.relpath),
                        dict(page.header.lines).get("errors"),
                    ))
                    continue
                for code in codes:
                    claimed[code] = page
            for code, page in claimed.items():
                owners.setdefault(code, page)
        callbacks: dict[str, Callable[[bottle.HTTPError], Any]] = {}
        for code, page in sorted(owners.items()):
            callback = callbacks.get(page.relpath)
            if callback is None:
                callback = callbacks[page.relpath] = self.error_callback(page)
                self.info(RouteInfo("", "error", page.relpath, (), **self.describe(page)))
            self.app.error_handler[code] = callback


def _compiled(page: RoutedPage) -> CompiledPage:
    """``page``, which a complete launch has compiled (an on-demand one routes the
    others itself: ``_ondemand.OnDemandBuilder``)."""
    if not isinstance(page, CompiledPage):
        raise TypeError(f"{page.relpath}: only an on-demand launch routes uncompiled pages")
    return page
