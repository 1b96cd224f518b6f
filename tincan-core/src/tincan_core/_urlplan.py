"""Which URLs a launch routes, decided before any route is registered (pure).

Given the pages that may have routes, the static files and the settings, the
plan lists every route with what answers it, the launch errors (URLs two files
would share) and the reverse table ``url_for`` reads. The rules, in the order
they are applied:

1. Every page that is not ``#hidden`` answers ``urlroot/relpath`` (``.pspx``
   included); every static file its own path.
2. Index files: ``dir/`` is answered by ``index.pspx``, else ``index.html``, else
   ``index.htm``; ``dir`` (no slash) redirects to ``dir/``, unless a page or
   file already has that URL.
3. With clean URLs, ``a/b/name.pspx`` also answers ``/a/b/name`` (an index page's
   clean URL is its directory). A clean URL that another file already has (a
   static file, a page, a directory's redirect) is an error naming both; the
   page keeps its ``.pspx`` URL. With ``redirect_to_clean_urls`` the ``.pspx``
   URL redirects to the clean one.
4. Each ``#path`` line adds a pattern after the page's URL (and after its clean
   URL). Two patterns of the same shape (same literal text, same filters) are an
   error naming both files and lines; the first in walk order keeps it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ._classify import INDEX_NAMES
from ._errors import TinCanError
from ._paths import clean_route_for, index_routes, pattern_base, quote_path, route_for
from ._patterns import RoutePattern, parse_pattern

__all__ = ["PageSpec", "PlannedRoute", "UrlForms", "UrlPlan", "plan_urls"]


@dataclass(frozen=True, slots=True)
class PageSpec:
    """A page that may have routes, as the plan needs it."""

    relpath: str
    methods: tuple[str, ...] = ("GET",)
    paths: tuple[tuple[str, int], ...] = ()  # (#path pattern, line)
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class PlannedRoute:
    """One route: a literal URL path, or a ``#path`` pattern.

    ``kind``: ``page`` (a page's own ``.pspx`` URL), ``index`` (``dir/``),
    ``clean``, ``pattern``, ``static``, or ``redirect`` (``dir`` to ``dir/``).
    A ``page`` or ``pattern`` route with ``redirect`` set redirects instead of
    serving: to that path, or, for a pattern, to the same URL with the pattern's
    base replaced by ``redirect``.
    """

    kind: str
    path: str  # the URL path; for a pattern its display, base/pattern
    file: str  # the page or static file the route belongs to
    methods: tuple[str, ...]
    pattern: RoutePattern | None = None
    redirect: str = ""


@dataclass(frozen=True, slots=True)
class UrlForms:
    """How ``url_for`` writes one page's URL: without parameters, and per ``#path``."""

    plain: str | None  # percent-encoded path; None when the page has no URL (``why``)
    patterns: tuple[RoutePattern, ...] = ()  # in #path order
    why: str = ""


@dataclass(slots=True)
class UrlPlan:
    routes: list[PlannedRoute] = field(default_factory=list)
    errors: list[TinCanError] = field(default_factory=list)
    forms: dict[str, UrlForms] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # worth an info line in the log


class _Planner:
    def __init__(
        self, prefix: str, display: Callable[[str], str], *, clean: bool, redirect: bool
    ) -> None:
        self.prefix = prefix
        self.display = display
        self.clean = clean
        self.redirect = redirect and clean
        self.plan = UrlPlan()
        self.owners: dict[str, str] = {}  # literal URL path -> what has it, for messages
        self.shapes: dict[str, tuple[str, int, str]] = {}  # shape -> (relpath, line, pattern)

    def take(self, path: str, owner: str) -> str | None:
        """Claim ``path`` for ``owner``; what already had it, if anything did."""
        other = self.owners.get(path)
        if other is None:
            self.owners[path] = owner
        return other

    def run(self, pages: list[PageSpec], statics: list[str], serve_static: bool) -> UrlPlan:
        routed = [p for p in pages if not p.hidden]
        for page in pages:
            # A hidden page has no route, but forward() reaches it at its URL.
            path = route_for(self.prefix, page.relpath)
            self.take(path, f"{'hidden page' if page.hidden else 'page'} {page.relpath}")
        # Static files have their URLs whoever serves them (this app or a web server
        # in front of it): a clean URL may not take one either way.
        for relpath in statics:
            path = route_for(self.prefix, relpath)
            self.take(path, f"static file {relpath}")
        self.indexes(routed, statics, serve_static)
        clean_ok = {page.relpath: self.clean_url(page) for page in routed} if self.clean else {}
        for page in routed:
            self.page_routes(page, clean_ok.get(page.relpath, False))
        for relpath in statics if serve_static else ():
            path = route_for(self.prefix, relpath)
            self.plan.routes.append(PlannedRoute("static", path, relpath, ("GET",)))
        # Index and clean routes after the pages and files they alias, as before.
        self.plan.routes.sort(key=lambda r: _ROUTE_ORDER[r.kind])
        for page in pages:
            if page.hidden:
                self.plan.forms[page.relpath] = UrlForms(None, why="is #hidden: it has no URL")
        return self.plan

    # -- index files -------------------------------------------------------------------
    def indexes(self, pages: list[PageSpec], statics: list[str], serve_static: bool) -> None:
        by_dir: dict[str, list[str]] = {}
        methods = {page.relpath: page.methods for page in pages}
        for relpath in [*methods, *statics]:
            directory, _, name = relpath.rpartition("/")
            if name in INDEX_NAMES:
                by_dir.setdefault(directory, []).append(relpath)
        for directory in sorted(by_dir):
            chosen, *shadowed = sorted(
                by_dir[directory], key=lambda r: INDEX_NAMES.index(r.rpartition("/")[2])
            )
            for other in shadowed:
                self.plan.notes.append(f"index {other} is shadowed by {chosen}")
            allowed = methods.get(chosen, ("GET",))
            routed = chosen in methods or serve_static
            slash, *bare = index_routes(self.prefix, chosen)
            owner = f"directory {directory}/ (index {chosen})"
            if self.take(slash, owner) is None and routed:
                self.plan.routes.append(PlannedRoute("index", slash, chosen, allowed))
            for path in bare:
                if self.take(path, owner) is None and routed:
                    self.plan.routes.append(
                        PlannedRoute("redirect", path, chosen, allowed, redirect=slash)
                    )

    # -- pages -------------------------------------------------------------------------
    def clean_url(self, page: PageSpec) -> bool:
        """Claim the page's clean URL; False (and an error) when something else has it."""
        path = clean_route_for(self.prefix, page.relpath)
        if page.relpath.rpartition("/")[2] == INDEX_NAMES[0]:
            return True  # its directory URL, routed as an index already
        other = self.take(path, f"page {page.relpath} (its clean URL)")
        if other is None:
            return True
        self.plan.errors.append(
            TinCanError(
                f"clean URL {path} is also the URL of {other}; "
                "the page answers only at its .pspx URL",
                self.display(page.relpath),
            )
        )
        return False

    def page_routes(self, page: PageSpec, clean_ok: bool) -> None:
        relpath, methods = page.relpath, page.methods
        literal = route_for(self.prefix, relpath)
        clean = clean_route_for(self.prefix, relpath) if clean_ok else ""
        redirect = clean if self.redirect and clean_ok else ""
        self.plan.routes.append(PlannedRoute("page", literal, relpath, methods, redirect=redirect))
        if clean and not clean.endswith("/"):
            self.plan.routes.append(PlannedRoute("clean", clean, relpath, methods))
        patterns: list[RoutePattern] = []
        for written, line in page.paths:
            literal_form = self.pattern(page, written, line, clean=False)
            clean_form = self.pattern(page, written, line, clean=True) if clean_ok else None
            if literal_form is not None:
                to = clean_form.base if clean_form is not None and redirect else ""
                self.plan.routes.append(
                    PlannedRoute("pattern", literal_form.display, relpath, methods,
                                 pattern=literal_form, redirect=to)
                )  # fmt: skip
            if clean_form is not None:
                self.plan.routes.append(
                    PlannedRoute("pattern", clean_form.display, relpath, methods,
                                 pattern=clean_form)
                )  # fmt: skip
            preferred = clean_form or literal_form
            if preferred is not None:
                patterns.append(preferred)
        plain = clean or literal
        self.plan.forms[relpath] = UrlForms(quote_path(plain), tuple(patterns))

    def pattern(
        self, page: PageSpec, written: str, line: int, *, clean: bool
    ) -> RoutePattern | None:
        base = pattern_base(self.prefix, page.relpath, clean=clean)
        try:
            pattern = parse_pattern(base, written)
        except TinCanError as exc:  # the header parser checked it: only a changed rule
            self.plan.errors.append(TinCanError(exc.message, self.display(page.relpath), line))
            return None
        other = self.shapes.get(pattern.shape)
        if other is None:
            self.shapes[pattern.shape] = (page.relpath, line, written)
            return pattern
        other_page, other_line, other_written = other
        self.plan.errors.append(
            TinCanError(
                f"#path {written}: {pattern.display} matches the same URLs as "
                f"#path {other_written} of {self.display(other_page)}:{other_line}",
                self.display(page.relpath),
                line,
            )
        )
        return None


_ROUTE_ORDER = {"page": 0, "pattern": 0, "static": 1, "index": 2, "redirect": 2, "clean": 3}


def plan_urls(
    prefix: str,
    pages: Iterable[PageSpec],
    statics: Iterable[str],
    *,
    serve_static: bool = True,
    clean: bool = False,
    redirect: bool = False,
    display: Callable[[str], str] = str,
) -> UrlPlan:
    """Plan the routes of ``pages`` (in walk order) and ``statics`` under ``prefix``.

    ``statics`` are every static file of the tree: routed when ``serve_static``,
    and counted for collisions either way. ``display`` turns a webapp-relative
    path into the name errors give.
    """
    planner = _Planner(prefix, display, clean=clean, redirect=redirect)
    return planner.run(list(pages), list(statics), serve_static)
