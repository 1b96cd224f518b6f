"""The request-time side of a page: the callbacks a route or an error code runs.

Everything here runs per request, so it is kept to the minimum: the class, the
render function and the ``#load`` variables are bound when the route is built.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import bottle

from ._app import ERROR_PAGE_KEY, NO_DETAILS
from ._debugframes import point_at_template_line
from ._errors import TinCanError
from ._pages import BasePage, Page
from ._render import fast_render
from ._session import SESSION_KEY, save_session

__all__ = ["error_handler", "page_handler"]

_PLAIN_500 = "500 Internal Server Error\n"

# What a page's code may raise that becomes a logged 500 rather than escaping the
# WSGI app: any exception, and SystemExit (sys.exit() in a page must not end a worker).
_PAGE_FAILURES = (Exception, SystemExit)


def page_handler(
    page_class: Callable[..., BasePage],
    render: Callable[..., str],
    loads: Mapping[str, Any],
    log: logging.Logger,
    name: str,
) -> Callable[[], Any]:
    """The route callback of a page: build the code-behind, handle, export, render."""
    request, response = bottle.request, bottle.response
    render = fast_render(render)
    http_response = bottle.HTTPResponse

    if page_class is Page:
        # No code-behind: handle() does nothing and export() gives only the page.
        def serve_plain_page() -> Any:
            try:
                body = render(**{**loads, "page": Page(request, response)}).lstrip("\r\n")
                if SESSION_KEY in request.environ:  # the template read page.flashed()
                    save_session(request.environ, response, name)
                return body
            except http_response:
                raise
            except _PAGE_FAILURES as exc:
                point_at_template_line(exc)
                log.exception("%s: error serving %s", name, request.path)
                raise bottle.HTTPError(500, NO_DETAILS, exc) from None

        return serve_plain_page

    def serve_page() -> Any:
        environ = request.environ
        try:
            instance = page_class(request, response)
            result = instance.handle()
            if result is None:
                variables = instance.export()
                if loads:
                    variables = {**loads, **variables}
                body: Any = render(**variables).lstrip("\r\n")
            else:
                body = returned(result, response, name)
            if SESSION_KEY in environ:
                save_session(environ, response, name)
            return body
        except http_response as exc:
            if SESSION_KEY in environ:
                try:
                    save_session(environ, exc, name)  # a redirect keeps the flash message
                except _PAGE_FAILURES as failure:
                    log.exception("%s: error serving %s", name, request.path)
                    raise bottle.HTTPError(500, NO_DETAILS, failure) from None
            raise
        except _PAGE_FAILURES as exc:
            point_at_template_line(exc)
            log.exception("%s: error serving %s", name, request.path)
            raise bottle.HTTPError(500, NO_DETAILS, exc) from None

    return serve_page


def returned(result: Any, response: Any, name: str) -> Any:
    """What ``handle()`` returned, as the response body (``None`` renders the template).

    A ``dict`` or ``list`` is sent as JSON, ``str`` and ``bytes`` as they are, an
    ``HTTPResponse`` as it is. Anything else is a mistake, never silently dropped.
    """
    if isinstance(result, bottle.HTTPResponse | str | bytes):
        return result
    if isinstance(result, dict | list):
        response.content_type = "application/json"
        return json.dumps(result, ensure_ascii=False, allow_nan=False).encode("utf-8")
    raise TinCanError(
        f"handle() returned {type(result).__name__}: return None to render the template, "
        "a dict or list for JSON, str or bytes for the body, or a Bottle HTTPResponse",
        name,
    )


def error_handler(
    page_class: Callable[..., BasePage],
    render: Callable[..., str],
    loads: Mapping[str, Any],
    log: logging.Logger,
    name: str,
) -> Callable[[bottle.HTTPError], Any]:
    """The Bottle error handler of an error page; its failures end in a plain 500.

    An error it raises (``abort()``) with another code is served by that code's
    error page, as in the original; one level only, so no error page can loop.
    """
    request = bottle.request
    render = fast_render(render)

    def serve_error(error: bottle.HTTPError) -> Any:
        environ = request.environ
        nested = environ.get(ERROR_PAGE_KEY, False)
        environ[ERROR_PAGE_KEY] = True
        try:
            instance = page_class(request, error)
            result = instance.handle()
            if isinstance(result, bottle.HTTPResponse):
                return _raised_by_error_page(result, error, nested)
            variables = instance.export()
            if loads:
                variables = {**loads, **variables}
            return render(**variables).lstrip("\r\n")
        except bottle.HTTPResponse as exc:
            return _raised_by_error_page(exc, error, nested)
        except _PAGE_FAILURES as exc:
            point_at_template_line(exc)
            log.exception("%s: error page failed for %s", name, error.status_line)
            return bottle.HTTPResponse(
                _PLAIN_500, status=500, Content_Type="text/plain; charset=utf-8"
            )

    return serve_error


def _raised_by_error_page(
    response: bottle.HTTPResponse, error: bottle.HTTPError, nested: bool
) -> bottle.HTTPResponse:
    """What an error page raised or returned, as sent.

    A response that is no error (a redirect) is sent as it is. An error with
    another code goes back to Bottle, which hands it to that code's error page
    (or the default page); the same code again, or any error from that second
    page, is sent plainly.
    """
    if isinstance(response, bottle.HTTPError):
        if not nested and response.status_code != error.status_code:
            return response
        return bottle.HTTPResponse(
            f"{response.status_line}\n",
            status=response.status_code,
            Content_Type="text/plain; charset=utf-8",
        )
    return response
