"""``check_app``: the checks of ``tincan check`` on a launched webapp.

For each page that launched (``app.route_info``), the body that renders it, its
``#load`` files and its code-behind class are read again from the tree: names,
macros, slots, links and ``#methods`` are judged from them. Nothing is compiled
or rendered, so it is cheap enough to run after every launch of ``tincan serve``.
"""

from __future__ import annotations

import difflib
import os
import sys
import warnings
from collections.abc import Iterable
from typing import Any

import bottle

from ._app import RouteInfo, TinCan
from ._check_exports import PageNames, page_names
from ._check_links import html_links, link_path
from ._check_report import STANDARD_METHODS, Finding, sorted_findings
from ._check_template import LinkUse, MacroLibrary, NameProblem, walk_page
from ._check_tree import ParsedTemplate, parse_template
from ._check_urlfor import url_for_findings
from ._classify import INDEX_NAMES, FileKind
from ._errors import TinCanError
from ._header import ALL_ERROR_CODES
from ._macrofile import read_macro_file
from ._pages import BasePage, ErrorPage, Page
from ._paths import index_routes, normalize_urlroot, route_for
from ._scan import scan_tree
from ._sources import PageSources
from ._templates import TemplateSource, content_type

__all__ = ["check_app"]

# Codes TinCan itself answers with: a bad path, a refused cross-origin request, an
# unknown URL, a method the page does not take, a failing page.
_OWN_CODES = (400, 403, 404, 405, 500)


def _page_class(dotted: str) -> type[BasePage] | None:
    """The class ``RouteInfo.page_class`` names (``module.QualName``)."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        found: Any = sys.modules.get(".".join(parts[:split]))
        if found is None:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute, None)
        if isinstance(found, type) and issubclass(found, BasePage):
            return found
    return None


def _close(word: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None


class _Analysis:
    def __init__(self, app: TinCan, *, absolute_links: bool) -> None:
        self.app = app
        self.absolute_links = absolute_links
        self.root: str = app.config["tincan.fsroot"]
        self.encoding: str = app.config.get("tincan.encoding", "utf-8")
        self.prefix = normalize_urlroot(app.config.get("tincan.urlroot", "/"))
        self.sources = PageSources(self.root, self.encoding)
        self.inventory = scan_tree(self.root)
        self.templates: dict[str, ParsedTemplate] = {}
        self.findings: list[Finding] = []
        self.static_paths = self._static_paths()

    def add(
        self,
        severity: str,
        file: str | None,
        line: int | None,
        code: str,
        message: str,
        suggestion: str | None = None,
    ) -> None:
        self.findings.append(Finding(severity, file, line, code, message, suggestion))

    # -- reading -----------------------------------------------------------------------
    def parse(self, source: TemplateSource) -> ParsedTemplate:
        name = os.path.normpath(source.filename)
        parsed = self.templates.get(name)
        if parsed is None:
            parsed = parse_template(
                source.body,
                name,
                xml=content_type(source) == "text/xml",
                label=self.relative(name),
            )
            self.templates[name] = parsed
        return parsed

    def load_file(self, template: ParsedTemplate, path: str) -> ParsedTemplate | None:
        """A ``load:`` expression of a macro file: found beside that file."""
        full = os.path.normpath(os.path.join(os.path.dirname(template.filename), path))
        parsed = self.templates.get(full)
        if parsed is None:
            if not os.path.isfile(full):
                return None
            try:
                text, kind = read_macro_file(full, self.encoding, full)
            except TinCanError:
                return None
            parsed = parse_template(text, full, xml=kind == "text/xml", label=self.relative(full))
            self.templates[full] = parsed
        return parsed

    def relative(self, path: str) -> str:
        return os.path.relpath(path, self.root).replace(os.sep, "/")

    # -- routes ------------------------------------------------------------------------
    def _static_paths(self) -> set[str]:
        """URL paths of static files, whether or not this launch serves them."""
        paths: set[str] = set()
        for f in self.inventory.of_kind(FileKind.STATIC):
            paths.add(route_for(self.prefix, f.relpath))
            if f.relpath.rpartition("/")[2] in INDEX_NAMES:
                paths.update(index_routes(self.prefix, f.relpath))
        return paths

    def routed(self, path: str) -> bool:
        """Whether a GET of ``path`` reaches a route or a static file.

        Literal routes first (pages, index directories, static files, redirects),
        then the app's router as a request would meet it (``#path`` patterns,
        Bottle routes added to the app), without the request policy. A route
        that answers another method counts: the path exists.
        """
        if path in self.app.router.literal or path in self.static_paths:
            return True
        environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
        try:
            self.app.router._match(environ, "GET")
        except bottle.HTTPError as exc:
            return bool(exc.status_code == 405)
        return True

    # -- pages -------------------------------------------------------------------------
    def run(self) -> list[Finding]:
        targets: dict[str, list[RouteInfo]] = {}
        for info in self.app.route_info:
            if info.kind in ("page", "hidden", "error") and info.served_by:
                targets.setdefault(info.served_by, []).append(info)
        for target, infos in targets.items():
            try:
                self.page(target, infos)
            except TinCanError:
                continue  # changed since the launch: the next launch reports it
        self.static_links()
        self.directories()
        self.error_pages()
        self.findings += url_for_findings(self.app, self.sources, self.app.route_info)
        return sorted_findings(self.findings)

    def page(self, target: str, infos: list[RouteInfo]) -> None:
        header = self.sources.source(target).header
        if header is None:
            return
        display = self.sources.display(target)
        error_page = header.errors is not None
        if not error_page:
            self.methods(display, header.methods, dict(header.lines).get("methods"))
        cls = _page_class(infos[0].page_class)
        names = page_names(cls) if cls is not None else None
        body = self.parse(self.sources.template_source(target))
        loads: dict[str, ParsedTemplate] = {}
        for var, path, _ in self.sources.load_sources(target):
            loads[var] = self.parse(self.sources.macro_source(path))
        defined: set[str] | None = None
        if names is not None and names.names is not None:
            defined = {*loads, *names.names}
            # Exported names override #load variables: those are no macro files then.
            loads = {var: t for var, t in loads.items() if var not in names.names}
        else:
            reason = names.reason if names is not None else f"{infos[0].page_class} not found"
            self.add("info", display, None, "not-checked", f"template names not checked: {reason}")
        walk = walk_page(body, defined, MacroLibrary(loads, self.load_file))
        if names is not None:
            self.names(walk.names, names, target if body.filename != display else None)
        for found in walk.problems:
            severity = "error" if found.code == "missing-macro" else "warning"
            self.add(severity, found.file, found.line, found.code, found.message, found.suggestion)
        bases = [i.path for i in infos if i.kind == "page" and i.path]
        self.links(walk.links, bases, relative=not walk.has_base)

    def methods(self, display: str, methods: tuple[str, ...], line: int | None) -> None:
        for method in methods:
            if method not in STANDARD_METHODS:
                self.add(
                    "warning",
                    display,
                    line,
                    "unknown-method",
                    f"#methods: {method!r} is no standard HTTP method; browsers never send "
                    f"it, and a GET of this page is answered 405",
                    _close(method, STANDARD_METHODS),
                )

    def names(self, problems: list[NameProblem], names: PageNames, rendering: str | None) -> None:
        """One finding per name and place; a name read by a macro is reported at the
        page's use of the macro (the page is what lacks it), listing the macro lines."""
        grouped: dict[tuple[str, int, str], list[NameProblem]] = {}
        for problem in problems:
            file, line = problem.used_by or (problem.file, problem.line)
            grouped.setdefault((file, line, problem.name), []).append(problem)
        for (file, line, _), group in grouped.items():
            self.name(file, line, group, names, rendering)

    def name(
        self,
        file: str,
        line: int,
        group: list[NameProblem],
        names: PageNames,
        rendering: str | None,
    ) -> None:
        problem = group[0]
        name, cls = problem.name, names.class_name
        suggestion = problem.suggestion
        if name in names.methods:
            message = f"{name!r} is a method of {cls}, not a template variable"
            suggestion = f"page.{name}()"
        elif name in names.hidden:
            message = f"{cls} keeps {name!r} from templates"
            suggestion = f"page.{name}"
        elif name in names.module_globals:
            message = (
                f"{name!r} is a module-level name of the code-behind, not a template "
                f"variable (make it an attribute of {cls})"
            )
        elif cls in (Page.__qualname__, ErrorPage.__qualname__):
            message = (
                f"{name!r} is not defined: the page has no code-behind that exports it, "
                f"no #load names it, and the template does not define it"
            )
        else:
            message = (
                f"{name!r} is not defined: {cls} does not export it, no #load names it, "
                f"and the template does not define it"
            )
        if problem.used_by is not None:
            places: dict[str, list[str]] = {}
            for p in group:
                places.setdefault(self.relative(p.file), []).append(str(p.line))
            where = "; ".join(
                f"{f}:{', '.join(dict.fromkeys(lines))}" for f, lines in places.items()
            )
            message += f" (read by the macro at {where})"
        if rendering is not None:
            message += f" (rendering {rendering})"
        self.add("warning", file, line, "undefined-name", message, suggestion)

    # -- links -------------------------------------------------------------------------
    def links(self, links: Iterable[LinkUse], bases: list[str], *, relative: bool) -> None:
        for link in links:
            absolute = link.url.strip().startswith("/")
            if absolute and not self.absolute_links:
                continue  # the urlroot the site is served under is not known
            if not absolute and not (relative and bases):
                continue  # relative to a URL no one can tell (error and hidden pages)
            for base in bases or [self.prefix + "/"]:
                path = link_path(link.url, base, self.prefix)
                if path is not None and not self.routed(path):
                    self.broken(link.file, link.line, link.url, path)
                    break

    def broken(self, file: str, line: int, url: str, path: str) -> None:
        known = [*self.app.router.literal, *self.static_paths]
        self.add(
            "warning",
            file,
            line,
            "broken-link",
            f"link {url!r} leads to {path}, which no page or static file answers",
            _close(path, known),
        )

    def static_links(self) -> None:
        for f in self.inventory.of_kind(FileKind.STATIC):
            if not f.relpath.lower().endswith((".html", ".htm")):
                continue
            try:
                with open(f.path, encoding=self.encoding) as handle:
                    text = handle.read()
            except (OSError, UnicodeDecodeError):
                continue
            found, has_base = html_links(text)
            display = self.sources.display(f.relpath)
            uses = [LinkUse(display, line, url) for line, url in found]
            self.links(uses, [route_for(self.prefix, f.relpath)], relative=not has_base)

    # -- the tree ----------------------------------------------------------------------
    def directories(self) -> None:
        with_files: set[str] = set()
        with_pages: set[str] = set()
        kinds = (FileKind.PAGE, FileKind.STATIC)
        for f in self.inventory.files:
            if f.kind not in kinds:
                continue
            parts = f.relpath.split("/")[:-1]
            ancestors = ["/".join(parts[:i]) for i in range(len(parts) + 1)]
            with_files.update(ancestors)
            if f.kind is FileKind.PAGE:
                with_pages.update(ancestors)
        if "" not in with_pages:
            self.add("info", self.root, None, "no-pages", "the webapp has no pages")
            return
        for directory in sorted(with_files - with_pages):
            parent = directory.rpartition("/")[0]
            if parent in with_pages:  # the topmost one only
                self.add(
                    "info",
                    self.sources.display(directory),
                    None,
                    "no-pages",
                    "no pages in this directory or below it (static files only)",
                )

    def error_pages(self) -> None:
        pages = [i for i in self.app.route_info if i.kind == "error"]
        covered = {code for info in pages for code in info.errors}
        if not pages or covered >= set(ALL_ERROR_CODES):
            return
        missing = [code for code in _OWN_CODES if code not in covered]
        if missing:
            listed = ", ".join(map(str, missing))
            self.add(
                "info",
                self.sources.display(pages[0].file),
                None,
                "no-error-page",
                f"no error page for {listed}: TinCan answers them with its plain default "
                f"page (a page whose '#errors' lists no codes catches every code)",
            )


def check_app(app: TinCan, *, absolute_links: bool = True) -> list[Finding]:
    """What the checks find in a launched webapp, launch errors aside.

    Reads the templates and code-behind classes the launch used; compiles and
    renders nothing. Works for an app launched with or without static files.
    ``absolute_links=False``: links starting with ``/`` are not judged (when the
    app was launched under another urlroot than the site is served under).
    """
    # The analysis parses template expressions and code-behind again; what Python
    # warns about them (an invalid escape sequence) is reported as findings, with
    # the file's own name and line (expression_names keeps it), and must not reach
    # stderr here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return _Analysis(app, absolute_links=absolute_links).run()
