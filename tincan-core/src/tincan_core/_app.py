"""The ``TinCan`` Bottle application: literal page routes, forwards, clean error pages."""

from __future__ import annotations

import bisect
import html
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import bottle

from ._errors import TinCanError
from ._fastpath import INTAKE_KEY, REFUSED_KEY, for_method, literal_route, serve_literal
from ._paths import resolve_url_path
from ._patterns import RoutePattern, sort_key
from ._policy import CROSS_ORIGIN_ALLOWED, RequestPolicy
from ._session import SessionConfig
from ._settings import Settings
from ._urls import Query, UrlTable

__all__ = [
    "CROSS_ORIGIN_ALLOWED",
    "ERROR_PAGE_KEY",
    "METHOD_NOT_ALLOWED",
    "NOT_FOUND",
    "NO_DETAILS",
    "PAGE_KEY",
    "PARAMS_KEY",
    "Endpoint",
    "RouteInfo",
    "TinCan",
    "allow_header",
]

_FORWARDS_KEY = "tincan.forwards"
ERROR_PAGE_KEY = "tincan.error_page"  # set while an error page runs
_BAD_PATH_KEY = "tincan.bad_path"
_SERVED_KEY = "tincan.served"  # the request of this environ has been answered
# Environ key: the converted values of a matched #path pattern (Page.params).
PARAMS_KEY = "tincan.params"
# Route config and environ key: the page (webapp-relative) a request is served as,
# which relative url_for() targets start from.
PAGE_KEY = "tincan.page"

# ``error.body`` as an error page sees it. The first two are the texts the original's
# error pages saw (Bottle's 405, the original's 500s). A 404 for an unknown path has
# no text: Bottle's "Not found: '/path'" is a Python repr, which must never reach a
# client (the path itself is ``request.path``), and an empty body tells an error page
# a plain 404 from ``abort(404, "text")``.
METHOD_NOT_ALLOWED = "Method not allowed."
NO_DETAILS = "No further details available."
CROSS_ORIGIN_REFUSED = "Cross-origin request refused."
NOT_FOUND = ""


def allow_header(methods: Iterable[str]) -> str:
    """The ``Allow`` header of a 405: HEAD follows GET; ``ANY`` is not a method (a
    route with it accepts every method, so it never answers 405 itself)."""
    allowed = set(methods)
    allowed.discard("ANY")
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(sorted(allowed))


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A page as a forward target: what it accepts and the callable that renders it."""

    methods: frozenset[str]
    callback: Callable[[], Any]
    page: str = ""  # webapp-relative path of the page

    def accepts(self, method: str) -> bool:
        """Whether a request with ``method`` may be served (as Bottle's router decides)."""
        methods = self.methods
        return method in methods or "ANY" in methods or (method == "HEAD" and "GET" in methods)

    def allow_header(self) -> str:
        return allow_header(self.methods)


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """What a launch built, for ``tincan routes`` and tests (not used per request)."""

    path: str  # the URL path ("" for hidden pages, which have none)
    # "page", "index", "clean", "pattern", "redirect", "static", "hidden" or "error"
    kind: str
    file: str  # webapp-relative file that owns the route
    methods: tuple[str, ...] = ()
    page_class: str = ""  # module-qualified code-behind class
    forward: str = ""  # final #forward target, webapp-relative
    served_by: str = ""  # file whose body renders (after #forward/#template)
    errors: tuple[int, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
    pattern: str = ""  # the #path pattern of a "pattern" route, as written
    redirect: str = ""  # where the route redirects to (a URL path), if it does


class _ForwardResponse(bottle.HTTPResponse):  # type: ignore[misc]
    """Carries a forward target's output out of the forwarding page.

    Unlike a plain ``HTTPResponse`` it leaves the response alone: status, headers
    and cookies set so far (by either page) are kept.
    """

    def apply(self, other: Any) -> None:
        pass


class _Router(bottle.Router):  # type: ignore[misc]
    """Bottle's router after a table of literal paths and the ``#path`` patterns.

    Page and static file names are routed literally: ``<x>`` or ``:x`` in a file
    name is just text, never a wildcard. A path the literal table does not answer
    is tried against the patterns in :func:`~tincan_core._patterns.sort_key`
    order, then Bottle's own routes. Methods are looked up as Bottle does: the
    method itself, then GET for HEAD, then ``ANY``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.literal: dict[str, dict[str, bottle.Route]] = {}
        # (sort key, base + "/", pattern, routes by method), in the order tried.
        self.patterns: list[
            tuple[tuple[int, int, int, str], str, RoutePattern, dict[str, bottle.Route]]
        ] = []
        self.policy = RequestPolicy(Settings())

    def add_literal(self, path: str, method: str, route: bottle.Route) -> None:
        self.literal.setdefault(path, {})[method] = route

    def add_pattern(self, pattern: RoutePattern, method: str, route: bottle.Route) -> None:
        for _, _, known, routes in self.patterns:
            if known == pattern:
                routes[method] = route
                return
        entry = (sort_key(pattern), pattern.base + "/", pattern, {method: route})
        bisect.insort(self.patterns, entry, key=lambda e: e[0])

    def match_pattern(
        self, path: str, method: str
    ) -> tuple[bottle.Route | None, dict[str, Any], dict[str, bottle.Route] | None]:
        """``(route, values, None)`` for the first pattern route that answers ``path``
        and ``method``; else ``(None, {}, routes)`` with the routes of the first
        pattern matching the path (for a 405), or ``None`` if none does."""
        allowed: dict[str, bottle.Route] | None = None
        for _, start, pattern, routes in self.patterns:
            if not path.startswith(start):
                continue
            values = pattern.match(path)
            if values is None:
                continue
            route = for_method(routes, method)
            if route is not None:
                return route, values, None
            if allowed is None:
                allowed = routes
        return None, {}, allowed

    def match(self, environ: dict[str, Any]) -> tuple[bottle.Route, dict[str, Any]]:
        # Runs inside Bottle's error handling: what is raised here goes through the
        # webapp's error pages.
        if _BAD_PATH_KEY in environ:
            raise bottle.HTTPError(400)
        if REFUSED_KEY in environ:
            raise environ.pop(REFUSED_KEY)
        method = environ["REQUEST_METHOD"].upper()
        route, args = self._match(environ, method)
        if self.policy.refuses_route(environ, method, route.config):
            raise bottle.HTTPError(403, CROSS_ORIGIN_REFUSED)
        return route, args

    def _match(self, environ: dict[str, Any], method: str) -> tuple[bottle.Route, dict[str, Any]]:
        path = environ["PATH_INFO"] or "/"
        routes = self.literal.get(path)
        if routes is not None:
            route = routes.get(method)
            if route is None:
                if method == "HEAD":
                    route = routes.get("GET")
                if route is None:
                    route = routes.get("ANY")
            if route is not None:
                return route, {}
        elif self.patterns:  # a path the literal table has is never a pattern's
            found, values, routes = self.match_pattern(path, method)
            if found is not None:
                environ[PARAMS_KEY] = values
                return found, {}
        try:
            return super().match(environ)  # type: ignore[no-any-return]
        except bottle.HTTPError as exc:
            if exc.status_code == 404 and routes is not None:
                raise bottle.HTTPError(
                    405, METHOD_NOT_ALLOWED, Allow=allow_header(routes)
                ) from None
            if exc.status_code == 404:
                raise bottle.HTTPError(404, NOT_FOUND) from None  # Bottle's holds repr(path)
            raise


class TinCan(bottle.Bottle):  # type: ignore[misc]
    """A Bottle application built from a webapp tree by :func:`tincan.launch`.

    Ordinary Bottle routes may be added to it; page routes are matched first.
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        settings: Settings | None = None,
        sessions: SessionConfig | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.__dict__["router"] = _Router()  # Bottle refuses to rebind attributes
        self.logger: logging.Logger = logger or logging.getLogger("tincan")
        self.endpoints: dict[str, Endpoint] = {}  # forward table, hidden pages included
        self.route_info: list[RouteInfo] = []
        self.urls = UrlTable()  # url_for's table, filled in at launch
        self.settings = settings if settings is not None else Settings()
        self.policy = self.router.policy = RequestPolicy(self.settings)
        self.__dict__["_fast_path"] = True
        # Signed-cookie sessions; launch() gives them the webapp's keys.
        self.sessions = sessions or SessionConfig(
            None, self.settings.session_cookie_name, self.settings.session_max_age,
            "this app has no session keys",
        )  # fmt: skip

    def add_literal_route(
        self,
        path: str,
        methods: tuple[str, ...],
        callback: Callable[[], Any],
        config: dict[str, Any] | None = None,
    ) -> None:
        """Route ``path`` exactly as written to ``callback`` for each method."""
        for method in methods:
            route = bottle.Route(self, path, method, callback, **(config or {}))
            self.routes.append(route)
            self.router.add_literal(path, method, route)

    def add_pattern_route(
        self,
        pattern: RoutePattern,
        methods: tuple[str, ...],
        callback: Callable[[], Any],
        config: dict[str, Any] | None = None,
    ) -> None:
        """Route URLs matching ``pattern`` to ``callback``; the values go to
        ``environ["tincan.params"]`` (a page's ``params``)."""
        for method in methods:
            route = bottle.Route(self, pattern.display, method, callback, **(config or {}))
            self.routes.append(route)
            self.router.add_pattern(pattern, method, route)

    # -- reverse routing ---------------------------------------------------------------
    def url_for(self, target: str, /, _query: Query | None = None, **params: Any) -> str:
        """The URL path of the page ``target`` (a webapp path, as ``#forward`` takes).

        ``params`` fill a ``#path`` form (the first whose names are exactly these);
        ``_query`` adds a query string. During a request of this app the URL starts
        with the request's ``SCRIPT_NAME`` and relative targets start from the
        current page's directory; outside one, from the webapp root, without
        ``SCRIPT_NAME``. Raises :class:`TinCanError` for an unknown page, a
        missing or unknown parameter, or a value its filter refuses.
        """
        environ: dict[str, Any] = bottle.request.environ
        if environ.get("bottle.app") is not self or _SERVED_KEY in environ:
            return self.urls.build(target, params, query=_query)
        url: str = self.request_url_for(environ, target, _query, params)
        return url

    def request_url_for(
        self,
        environ: dict[str, Any],
        target: str,
        query: Query | None,
        params: dict[str, Any],
    ) -> str:
        """``url_for`` as seen by the request of ``environ`` (``Page.url_for`` uses it)."""
        page = environ.get(PAGE_KEY)
        if page is None:
            route = environ.get("bottle.route")
            page = route.config.get(PAGE_KEY, "") if route is not None else ""
        return self.urls.build(target, params, query=query, page=page, environ=environ)

    def _handle(self, environ: dict[str, Any]) -> Any:
        # Bottle decodes the path with errors="ignore": "/a%FF.txt" would be served as
        # "/a.txt". A path that is not UTF-8 (or not even latin-1, from a client that
        # broke the WSGI rules) is a 400 instead.
        path = environ.get("PATH_INFO", "")
        if not path.isascii():  # ASCII is valid either way: the common case costs one check
            try:
                path.encode("latin-1").decode("utf-8")
            except UnicodeError:
                environ[_BAD_PATH_KEY] = True
                environ["PATH_INFO"] = "/"
        if INTAKE_KEY not in environ:
            refused = self.policy.intake(environ)
            if refused is not None:
                environ[REFUSED_KEY] = refused
        return super()._handle(environ)

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            route = literal_route(self, environ) if self.__dict__["_fast_path"] else None
            if route is not None:
                return serve_literal(self, route, environ, start_response)
            # Every response, error pages and static files included, gets the webapp's
            # security headers unless it set them itself.
            return super().wsgi(environ, self.policy.wrap_start_response(start_response))
        finally:
            # Bottle's thread-local request keeps this environ after the request:
            # url_for() must not take it for a request still being served.
            environ[_SERVED_KEY] = True

    @property
    def fast_path(self) -> bool:
        """Whether literal routes are served without Bottle's router (see ``_fastpath``);
        ``False`` sends every request through Bottle's own request handling."""
        return bool(self.__dict__["_fast_path"])

    @fast_path.setter
    def fast_path(self, value: bool) -> None:
        self.__dict__["_fast_path"] = bool(value)  # Bottle refuses plain rebinding

    # -- forwards ----------------------------------------------------------------------
    def forward(self, target: str) -> NoReturn:
        """Serve this request with the page at ``target`` (a URL path); does not return.

        ``target`` is absolute (including urlroot) or relative to the directory of
        the current request path. The same request, and the response headers set
        so far, go to the target, which sees its own ``request.path``. Targets are
        pages (hidden ones too) and, as in the original, whatever else the app
        routes: static files and ordinary Bottle routes added to it.
        """
        request = bottle.request
        environ = request.environ
        if environ.get(ERROR_PAGE_KEY):
            raise TinCanError("forward() is not allowed from an error page")
        current = environ.get("PATH_INFO") or "/"
        resolved = resolve_url_path(current, target)
        if resolved is None:
            self._forward_failed(f"{current}: forward to {target!r} goes above the root")
        visited: set[str] = environ.setdefault(_FORWARDS_KEY, {current})
        if resolved in visited:
            self._forward_failed(f"{current}: forward loop at {resolved!r}")
        visited.add(resolved)
        # The request is the target's from here on: its error pages (a 404 or 405
        # right below included) see the target's path, as in the original.
        environ["PATH_INFO"] = resolved
        environ.pop("bottle.request.urlparts", None)
        environ.pop(PARAMS_KEY, None)  # the target's own, if it matches a #path
        environ.pop(PAGE_KEY, None)
        endpoint = self.endpoints.get(resolved)
        if endpoint is not None:
            if not endpoint.accepts(request.method):
                raise bottle.HTTPError(405, METHOD_NOT_ALLOWED, Allow=endpoint.allow_header())
            if endpoint.page:
                environ[PAGE_KEY] = endpoint.page
            output = endpoint.callback()
        else:
            route, args = self.router.match(environ)  # 404 and 405 as for a request
            environ["route.handle"] = environ["bottle.route"] = route
            environ["route.url_args"] = args
            output = route.call(**args)  # with the app's plugins, as Bottle calls it
        if isinstance(output, bottle.HTTPResponse):
            raise output
        raise _ForwardResponse(output)

    def _forward_failed(self, message: str) -> NoReturn:
        self.logger.error("%s", message)
        raise bottle.HTTPError(500, NO_DETAILS, TinCanError(message))

    # -- errors ------------------------------------------------------------------------
    def default_error_handler(self, res: bottle.HTTPError) -> str:
        """The page for codes without an error page: the status, nothing from inside."""
        status = html.escape(res.status_line)
        return (
            f"<!DOCTYPE html>\n<html><head><title>{status}</title></head>"
            f"<body><h1>{status}</h1></body></html>\n"
        )
