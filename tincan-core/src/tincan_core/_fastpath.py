"""The literal fast path: serving a launch-made route without Bottle's router and hooks.

A request for a literal route (a page, a static file, a redirect the launch
made) needs little of what Bottle works out per request: the route is found by
one dict lookup and there is no path to decode. :func:`serve_literal` does what
``Bottle.wsgi()`` and ``Bottle._handle()`` do for such a request, minus the
router and the request hooks, and answers exactly as they would:

* the route is called through its plugin stack (``route.call``), with
  ``bottle.request`` and ``bottle.response`` bound as Bottle binds them;
* what it returns or raises goes through Bottle's own ``_cast`` (error pages,
  redirects, files), except a rendered ``str``, encoded here as ``_cast``
  encodes it;
* HEAD and 1xx/204/304 answers lose their body, and the webapp's security
  headers are added, as on the general path.

:func:`literal_route` decides, per request, whether the fast path may answer:
not when the app has ``before_request``/``after_request`` hooks (they must
run), not for a method the route does not take (a 405), a path Bottle would
decode, or a request the policy refuses (body limits, malformed headers,
cross-origin). Those go the general way, with the policy's intake done once.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import bottle

if TYPE_CHECKING:
    from ._app import TinCan

__all__ = ["INTAKE_KEY", "REFUSED_KEY", "for_method", "literal_route", "serve_literal"]

REFUSED_KEY = "tincan.refused"  # environ: the policy's answer to a request it does not let in
INTAKE_KEY = "tincan.intake"  # environ: the policy has already seen this request
_NO_BODY = frozenset({100, 101, 204, 304})  # statuses sent without a body (RFC 9110)


def for_method(routes: dict[str, bottle.Route], method: str) -> bottle.Route | None:
    """The route of ``routes`` (by method) that serves ``method``, as Bottle's router
    picks it: the method itself, then GET for HEAD, then ``ANY``."""
    route = routes.get(method)
    if route is None:
        if method == "HEAD":
            route = routes.get("GET")
        if route is None:
            route = routes.get("ANY")
    return route


def literal_route(app: TinCan, environ: dict[str, Any]) -> bottle.Route | None:
    """The literal route the fast path serves this request with, or ``None``."""
    routes = app.router.literal.get(environ.get("PATH_INFO"))
    if routes is None:
        return None
    hooks = app._hooks
    if hooks["before_request"] or hooks["after_request"]:
        return None
    method = environ.get("REQUEST_METHOD", "GET")
    route = for_method(routes, method)
    if route is None or not environ["PATH_INFO"].isascii():
        return None
    policy = app.policy
    refused = policy.intake(environ)
    environ[INTAKE_KEY] = True
    if refused is not None:
        environ[REFUSED_KEY] = refused
        return None
    if policy.refuses_route(environ, method, route.config):
        return None  # the router refuses it, through the error pages
    return route


def serve_literal(
    app: TinCan, route: bottle.Route, environ: dict[str, Any], start_response: Callable[..., Any]
) -> Any:
    """Answer the request with ``route``, as ``Bottle.wsgi()`` would."""
    response = bottle.response
    try:
        environ["bottle.raw_path"] = environ["PATH_INFO"]
        environ["bottle.app"] = app
        bottle.request.bind(environ)
        response.bind()
        environ["route.handle"] = environ["bottle.route"] = route
        environ["route.url_args"] = {}
        try:
            out = route.call()
        except bottle.HTTPResponse as exc:
            out = exc
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except Exception as exc:
            if not app.catchall:
                raise
            out = _uncaught(environ, exc)
        if type(out) is str and out:
            # A rendered page, the common case: what _cast() does with a str.
            fields = response._headers
            content_type = fields.get("Content-Type")  # response.charset, read once
            body = out.encode(_charset(content_type[-1]) if content_type else "UTF-8")
            if "Content-Length" not in fields:
                fields["Content-Length"] = [str(len(body))]
            out = [body]
        else:
            # Bottle applies a response in _handle() and again in _cast(); once is the
            # same (apply() copies state), as nothing runs in between here.
            out = app._cast(out)
        if response._status_code in _NO_BODY or environ["REQUEST_METHOD"] == "HEAD":
            if hasattr(out, "close"):
                out.close()
            out = []
        exc_info = environ.pop("bottle.exc_info", None)
        start_response(response._wsgi_status_line(), _headers_of(app, response), exc_info)
        return out
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except Exception:
        if not app.catchall:
            raise
        return _critical(app, environ, start_response)


def _charset(content_type: str) -> str:
    """The charset of a ``Content-Type`` value, as ``bottle.response.charset`` reads it."""
    if "charset=" in content_type:
        return content_type.split("charset=")[-1].split(";")[0].strip()
    return "UTF-8"


def _headers_of(app: TinCan, response: Any) -> list[tuple[str, str]]:
    """``response.headerlist`` with the security headers it does not set itself."""
    fields = response._headers
    if response._cookies or response._status_code in response.bad_headers:
        headers: list[tuple[str, str]] = response.headerlist
        app.policy.add_headers(headers)
        return headers
    headers = [(name, value) for name, values in fields.items() for value in values]
    if "Content-Type" not in fields:
        headers.append(("Content-Type", response.default_content_type))
    if not "".join([value for _, value in headers]).isascii():
        headers = [(name, value.encode("utf-8").decode("latin-1")) for name, value in headers]
    app.policy.add_headers(headers, fields)
    return headers


def _uncaught(environ: dict[str, Any], exc: Exception) -> bottle.HTTPError:
    # What Bottle's _handle() makes of an exception a route lets through.
    stacktrace = traceback.format_exc()
    environ["wsgi.errors"].write(stacktrace)
    environ["wsgi.errors"].flush()
    environ["bottle.exc_info"] = sys.exc_info()
    error = bottle.HTTPError(500, "Internal Server Error", exc, stacktrace)
    error.apply(bottle.response)
    return error


def _critical(app: TinCan, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    # What Bottle's wsgi() sends when producing the response itself failed.
    path = bottle.html_escape(environ.get("PATH_INFO", "/"))
    error = f"<h1>Critical error while processing request: {path}</h1>"
    environ["wsgi.errors"].write(error)
    environ["wsgi.errors"].flush()
    headers = [("Content-Type", "text/html; charset=UTF-8")]
    app.policy.add_headers(headers)
    start_response("500 INTERNAL SERVER ERROR", headers, sys.exc_info())
    return [error.encode("utf-8")]
