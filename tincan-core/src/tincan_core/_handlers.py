"""The request-time side of a page: the callbacks a route or an error code runs.

Everything here runs per request, so it is kept to the minimum: the class, the
render function and the ``#load`` variables are bound when the route is built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import bottle

from ._pages import BasePage, Page

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
    http_response = bottle.HTTPResponse

    if page_class is Page:
        # No code-behind: handle() does nothing and export() gives only the page.
        def serve_plain_page() -> Any:
            try:
                return render(**{**loads, "page": Page(request, response)}).lstrip("\r\n")
            except http_response:
                raise
            except _PAGE_FAILURES:
                log.exception("%s: error serving %s", name, request.path)
                raise bottle.HTTPError(500) from None

        return serve_plain_page

    def serve_page() -> Any:
        try:
            instance = page_class(request, response)
            result = instance.handle()
            if isinstance(result, http_response):
                return result
            variables = instance.export()
            if loads:
                variables = {**loads, **variables}
            return render(**variables).lstrip("\r\n")
        except http_response:
            raise
        except _PAGE_FAILURES:
            log.exception("%s: error serving %s", name, request.path)
            raise bottle.HTTPError(500) from None

    return serve_page


def error_handler(
    page_class: Callable[..., BasePage],
    render: Callable[..., str],
    loads: Mapping[str, Any],
    log: logging.Logger,
    name: str,
) -> Callable[[bottle.HTTPError], Any]:
    """The Bottle error handler of an error page; its failures end in a plain 500."""
    request = bottle.request

    def serve_error(error: bottle.HTTPError) -> Any:
        request.environ["tincan.error_page"] = True
        try:
            instance = page_class(request, error)
            result = instance.handle()
            if isinstance(result, bottle.HTTPResponse):
                return _no_nested_error(result)
            variables = instance.export()
            if loads:
                variables = {**loads, **variables}
            return render(**variables).lstrip("\r\n")
        except bottle.HTTPResponse as exc:
            return _no_nested_error(exc)
        except _PAGE_FAILURES:
            log.exception("%s: error page failed for %s", name, error.status_line)
            return bottle.HTTPResponse(
                _PLAIN_500, status=500, Content_Type="text/plain; charset=utf-8"
            )

    return serve_error


def _no_nested_error(response: bottle.HTTPResponse) -> bottle.HTTPResponse:
    """An error raised by an error page is sent plainly, never through error pages again."""
    if isinstance(response, bottle.HTTPError):
        return bottle.HTTPResponse(
            f"{response.status_line}\n",
            status=response.status_code,
            Content_Type="text/plain; charset=utf-8",
        )
    return response
