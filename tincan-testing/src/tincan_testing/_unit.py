"""Code-behind classes under test without HTTP: a real Bottle request over a synthetic environ.

The page gets what a served page gets: Bottle's thread-local ``bottle.request``,
bound to the environ, and ``bottle.response``, reset. So ``redirect()`` and
``abort()`` (which build their answer from ``bottle.response``) keep the
headers and cookies the page set, and nothing an earlier request on this
thread left behind.
"""

from __future__ import annotations

import io
import urllib.parse
from collections.abc import Mapping, Sequence
from http.cookies import SimpleCookie
from typing import Any, TypeVar

import bottle
from tincan_core import PARAMS_KEY, SESSION_KEY, ErrorPage, Page, Session

__all__ = ["build_environ", "make_error_page", "make_page"]

PageT = TypeVar("PageT", bound=Page)
ErrorPageT = TypeVar("ErrorPageT", bound=ErrorPage)

Fields = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]] | str


def _encode_fields(fields: Fields | None) -> str:
    if fields is None:
        return ""
    if isinstance(fields, str):
        return fields.lstrip("?")
    pairs = fields.items() if isinstance(fields, Mapping) else fields
    return urllib.parse.urlencode(list(pairs), doseq=True)


def build_environ(
    *,
    method: str = "GET",
    path: str = "/",
    query: Fields | None = None,
    form: Fields | None = None,
    headers: Mapping[str, str] | None = None,
    cookies: Mapping[str, str] | None = None,
    app: bottle.Bottle | None = None,
) -> dict[str, Any]:
    """A WSGI environ as a server would build it for this request (``path`` decoded)."""
    body = _encode_fields(form).encode("ascii")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(),
        "SCRIPT_NAME": "",
        # as Bottle leaves it for the page: already decoded from WSGI's latin-1 form
        "PATH_INFO": path,
        "QUERY_STRING": _encode_fields(query),
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "route.url_args": {},
        "HTTP_HOST": "testserver",
    }
    if form is not None:
        environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
    if cookies:
        jar: SimpleCookie = SimpleCookie()
        for name, value in cookies.items():
            jar[name] = value
        environ["HTTP_COOKIE"] = "; ".join(morsel.OutputString() for morsel in jar.values())
    if app is not None:
        environ["bottle.app"] = app
    return environ


def _bind(
    params: Mapping[str, Any] | None = None,
    session: Mapping[str, Any] | None = None,
    **options: Any,
) -> None:
    """Start a request on this thread, as a server would: a new environ, a fresh response.

    ``params`` are put where the router puts a ``#path`` match's values
    (``page.params``), ``session`` where a page finds the session it loaded from
    its cookie (``page.session``, changes seen as ``page.session.modified``)."""
    environ = build_environ(**options)
    if params is not None:
        environ[PARAMS_KEY] = dict(params)
    if session is not None:
        environ[SESSION_KEY] = Session(dict(session), had_cookie=True)
    bottle.request.bind(environ)
    bottle.response.bind()


def make_page(
    page_class: type[PageT],
    *,
    method: str = "GET",
    path: str = "/",
    query: Fields | None = None,
    form: Fields | None = None,
    headers: Mapping[str, str] | None = None,
    cookies: Mapping[str, str] | None = None,
    app: bottle.Bottle | None = None,
    params: Mapping[str, Any] | None = None,
    session: Mapping[str, Any] | None = None,
) -> PageT:
    """An instance of a code-behind ``Page`` class for the request described.

    ``page.request`` and ``page.response`` are Bottle's thread-local request and
    response, as for a served page: the request bound to a synthetic environ
    (``query`` and ``form`` are dicts, pair lists or encoded strings), the
    response reset. Call ``handle()`` and inspect ``export()`` and
    ``page.response``; ``redirect()`` and ``abort()`` raise
    ``bottle.HTTPResponse`` carrying the headers and cookies set before them.
    Building another page (or making a request in-process) on this thread
    starts a new request: inspect a page before building the next. Give
    ``app`` (e.g. ``webapp.app``) if the code uses ``request.app``, such as
    ``request.app.forward()`` or ``self.url_for()``.

    ``params`` are the page's ``#path`` values (``self.params``), as the router
    would have converted them. ``session`` is the visitor's session
    (``self.session``, no cookie or key needed): after ``handle()``,
    ``page.session`` shows what the page left there, flash messages included.
    """
    _bind(
        params, session, method=method, path=path, query=query, form=form, headers=headers,
        cookies=cookies, app=app,
    )  # fmt: skip
    return page_class(bottle.request, bottle.response)


def make_error_page(
    page_class: type[ErrorPageT],
    status: int = 404,
    *,
    body: str | None = None,
    method: str = "GET",
    path: str = "/",
    query: Fields | None = None,
    form: Fields | None = None,
    headers: Mapping[str, str] | None = None,
    cookies: Mapping[str, str] | None = None,
    app: bottle.Bottle | None = None,
) -> ErrorPageT:
    """An instance of a code-behind ``ErrorPage`` class handling a ``status`` error
    (a ``bottle.HTTPError`` with ``body``) for the request described.

    As when Bottle calls an error page, ``bottle.response`` carries the error's
    status and headers."""
    _bind(
        method=method, path=path, query=query, form=form, headers=headers, cookies=cookies, app=app
    )
    error = bottle.HTTPError(status, body)
    error.apply(bottle.response)
    return page_class(bottle.request, error)
