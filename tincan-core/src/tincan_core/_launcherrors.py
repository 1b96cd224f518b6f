"""The launch-error page: a page that did not launch answers with its errors.

A development server (``launch_on_demand(..., debug=True)``) gives every broken
page a route of its own that shows the page's launch errors, each at its
``file:line`` with the source lines around it, and for an exception raised
while importing code-behind the innermost line of the webapp it came from (a
``WEB-INF/lib`` module, say). Without ``debug`` the route is a plain 500
through the webapp's error pages: no path or source reaches a client.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import bottle
from chameleon import PageTemplateFile

from ._app import NO_DETAILS
from ._errors import TinCanError

__all__ = ["broken_error_page", "broken_page", "error_context", "render_launch_errors"]

_TEMPLATE = os.path.join(os.path.dirname(__file__), "templates", "launch_errors.pt")
_CONTEXT = 3  # lines shown before and after the one in error
_template: PageTemplateFile | None = None

Row = tuple[int, str, bool]  # line number, text, whether it is the line in error


def error_context(filename: str, line: int, encoding: str = "utf-8") -> list[Row]:
    """The lines around ``line`` of ``filename`` as it is now on disk (an edit since
    the launch shows; a file that cannot be read shows nothing)."""
    try:
        with open(filename, encoding=encoding, errors="replace") as f:
            lines = f.read().splitlines()
    except (OSError, ValueError):
        return []
    first = max(1, line - _CONTEXT)
    last = min(len(lines), line + _CONTEXT)
    return [(n, lines[n - 1], n == line) for n in range(first, last + 1)]


def _inner_spot(exc: BaseException, root: str) -> tuple[str, int] | None:
    """The innermost frame of ``exc``'s traceback in a file of the webapp."""
    prefix = os.path.join(os.path.realpath(root), "")
    found = None
    for summary in traceback.extract_tb(exc.__traceback__):
        if summary.lineno and os.path.realpath(summary.filename).startswith(prefix):
            found = (summary.filename, summary.lineno)
    if (
        isinstance(exc, SyntaxError)
        and exc.filename
        and exc.lineno
        and os.path.realpath(exc.filename).startswith(prefix)
    ):
        found = (exc.filename, exc.lineno)
    return found


def _describe(error: TinCanError, root: str, encoding: str) -> list[dict[str, Any]]:
    """One error as the template shows it, plus the line inside the webapp that
    raised its cause when that is another one."""
    where = error.file or ""
    if error.file and error.line:
        where = f"{error.file}:{error.line}"
    cause = error.__cause__
    shown = [
        {
            "where": where or "webapp",
            "message": error.message,
            "context": error_context(error.file, error.line, encoding)
            if error.file and error.line
            else [],
            "cause": f"{type(cause).__name__}: {cause}" if cause is not None else "",
        }
    ]
    spot = _inner_spot(cause, root) if cause is not None else None
    if spot is not None and (error.file, error.line) != spot:
        filename, line = spot
        shown.append(
            {
                "where": f"{filename}:{line}",
                "message": f"raised here: {type(cause).__name__}: {cause}",
                "context": error_context(filename, line, "utf-8"),
                "cause": "",
            }
        )
    return shown


def render_launch_errors(
    page: str, errors: Sequence[TinCanError], root: str, encoding: str = "utf-8"
) -> str:
    """The launch-error page of ``page`` (its file name as shown) for ``errors``."""
    global _template
    if _template is None:
        _template = PageTemplateFile(_TEMPLATE)
    described = [row for error in errors for row in _describe(error, root, encoding)]
    body: str = _template.render(page=page, count=len(errors), errors=described)
    return body


def _response(page: str, errors: Sequence[TinCanError], root: str, encoding: str) -> Any:
    return bottle.HTTPResponse(
        render_launch_errors(page, errors, root, encoding),
        status=500,
        Content_Type="text/html; charset=utf-8",
        Cache_Control="no-store",  # the page comes back once fixed: never keep this one
    )


def broken_page(
    page: str, errors: Sequence[TinCanError], root: str, encoding: str, *, show: bool
) -> Callable[[], Any]:
    """The route callback of a page that did not launch: the launch-error page when
    ``show``, else a plain 500 (through the webapp's error pages)."""
    kept = tuple(errors)

    def serve_broken_page() -> Any:
        if show:
            return _response(page, kept, root, encoding)
        raise bottle.HTTPError(500, NO_DETAILS)

    return serve_broken_page


def broken_error_page(
    page: str,
    errors: Sequence[TinCanError],
    root: str,
    encoding: str,
    *,
    show: bool,
    fallback: Callable[[bottle.HTTPError], Any],
) -> Callable[[bottle.HTTPError], Any]:
    """The error handler of an error page that did not launch: the launch-error page
    when ``show``, else ``fallback`` (the app's plain page for the code)."""
    kept = tuple(errors)

    def serve_broken_error_page(error: bottle.HTTPError) -> Any:
        if show:
            return _response(page, kept, root, encoding)
        return fallback(error)

    return serve_broken_error_page
