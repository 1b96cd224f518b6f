"""The developer error page: a 500's exception, frames, template line and request.

Only installed by ``launch(..., debug=True)``; it shows code and never runs any.
"""

from __future__ import annotations

import linecache
import os
import traceback
from collections.abc import Callable
from typing import Any

import bottle
from chameleon import PageTemplateFile

__all__ = ["install_debug_page", "render_debug_page"]

_TEMPLATE = os.path.join(os.path.dirname(__file__), "templates", "debug500.pt")
_MASKED = {"cookie", "authorization", "proxy-authorization"}
_CONTEXT = 3
_template: PageTemplateFile | None = None


def _context(filename: str, line: int) -> list[tuple[int, str, bool]]:
    first = max(1, line - _CONTEXT)
    rows = []
    for number in range(first, line + _CONTEXT + 1):
        text = linecache.getline(filename, number)
        if not text and number > line:
            break
        rows.append((number, text.rstrip("\n"), number == line))
    return rows


def _kind(filename: str, fsroot: str) -> str:
    path = os.path.realpath(filename)
    lib = os.path.realpath(os.path.join(fsroot, "WEB-INF", "lib")) + os.sep
    if path.startswith(lib):
        return "WEB-INF/lib"
    if path.startswith(os.path.realpath(fsroot) + os.sep):
        return "code-behind"
    return "library"


def _template_spots(exc: BaseException) -> list[dict[str, Any]]:
    """Chameleon's recorded template positions, innermost (the page's own) first."""
    formatter = getattr(exc, "__str__", None)
    errors = getattr(formatter, "_errors", None) or []
    spots = []
    for expression, line, _column, filename, _exc in errors:
        if filename and line:
            spots.append({
                "file": filename, "line": line, "expression": expression,
                "context": _context(filename, line),
            })  # fmt: skip
    return spots


def _message(exc: BaseException) -> str:
    if "RenderError" in {c.__name__ for c in type(exc).__mro__}:
        return str(exc.args[0]) if exc.args else ""
    return str(exc)


def _type_name(exc: BaseException) -> str:
    for cls in type(exc).__mro__:
        if cls.__module__ != "chameleon.utils":
            return cls.__qualname__
    return type(exc).__qualname__


def render_debug_page(exc: BaseException, request: bottle.BaseRequest, fsroot: str) -> str:
    global _template
    if _template is None:
        _template = PageTemplateFile(_TEMPLATE)
    causes: list[dict[str, str]] = []
    seen = exc
    shown = {(_type_name(exc), _message(exc))}
    while True:
        nxt = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
        if nxt is None or len(causes) > 10:
            break
        relation = "caused by" if seen.__cause__ is nxt else "while handling"
        key = (_type_name(nxt), _message(nxt))
        if key not in shown:  # Chameleon re-raises a copy of the template's exception
            shown.add(key)
            causes.append({"relation": relation, "type": key[0], "message": key[1]})
        seen = nxt
    frames = []
    for summary in traceback.extract_tb(exc.__traceback__):
        line = summary.lineno or 0
        if not os.path.isfile(summary.filename):
            continue  # compiled template code: its position is shown as a template spot
        frames.append({
            "kind": _kind(summary.filename, fsroot), "file": summary.filename,
            "line": line, "function": summary.name,
            "context": _context(summary.filename, line),
        })  # fmt: skip
    headers = [
        (name, "********" if name.lower() in _MASKED else value)
        for name, value in request.headers.items()
    ]
    body: str = _template.render(
        exc_type=_type_name(exc), exc_message=_message(exc), causes=causes,
        template_spots=_template_spots(exc), frames=frames, method=request.method,
        path=request.path, query=request.query_string, headers=headers,
    )  # fmt: skip
    return body


def install_debug_page(app: bottle.Bottle, fsroot: str) -> None:
    """Answer every 500 carrying an exception with the developer page."""
    fallback: Callable[[bottle.HTTPError], Any] = app.error_handler.get(
        500, app.default_error_handler
    )

    def debug_500(error: bottle.HTTPError) -> Any:
        if error.exception is None:
            return fallback(error)
        bottle.response.content_type = "text/html; charset=utf-8"
        return render_debug_page(error.exception, bottle.request, fsroot)

    app.error_handler[500] = debug_500
