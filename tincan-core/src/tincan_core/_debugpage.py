"""The developer error page: a 500's exception, where it happened, and the request.

Only installed by ``launch(..., debug=True)``; it shows code and never runs any.
Frames come from :mod:`._debugframes`: templates at the line of the page (not
of the layout that calls its slot), code-behind and ``WEB-INF/lib`` modules at
their own file and line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import bottle
from chameleon import PageTemplateFile

from ._app import PAGE_KEY
from ._debugframes import Frame, failure_frames, primary_frame

__all__ = ["install_debug_page", "render_debug_page"]

_TEMPLATE = os.path.join(os.path.dirname(__file__), "templates", "debug500.pt")
# Header and query field names whose values are secrets more often than not.
_SECRET_NAME = re.compile(r"cookie|auth|key|token|secret|pass|session|csrf|signature", re.I)
_MASK = "********"
_MAX_CAUSES = 10
_MAX_FRAMES = 60  # innermost; a RecursionError has a thousand
_template: PageTemplateFile | None = None


def _recorded_frames(exc: BaseException, fsroot: str) -> list[Frame]:
    """The template positions Chameleon recorded, for a failure whose frames hold none."""
    formatter = getattr(exc, "__str__", None)
    errors = getattr(formatter, "_errors", None) or []
    found = []
    for expression, line, _column, filename, _exc in errors:
        if filename and line and os.path.isfile(filename):
            found.append(Frame.at("template", filename, line, str(expression), fsroot))
    return found[::-1]  # recorded innermost first; frames are outermost first


def _is_render_error(exc: BaseException) -> bool:
    return "RenderError" in {cls.__name__ for cls in type(exc).__mro__}


def _message(exc: BaseException) -> str:
    text = str(exc.args[0]) if _is_render_error(exc) and exc.args else str(exc)
    if isinstance(exc, NameError) and text.isidentifier():  # Chameleon's NameError(name)
        return f"name {text!r} is not defined"
    return text


def _type_name(exc: BaseException) -> str:
    for cls in type(exc).__mro__:
        if cls.__module__ != "chameleon.utils":  # Chameleon's copy of the exception
            return cls.__qualname__
    return type(exc).__qualname__


def _causes(exc: BaseException) -> list[dict[str, str]]:
    causes: list[dict[str, str]] = []
    shown = {(_type_name(exc), _message(exc))}
    seen = exc
    while len(causes) < _MAX_CAUSES:
        nxt = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
        if nxt is None:
            break
        relation = "caused by" if seen.__cause__ is nxt else "while handling"
        key = (_type_name(nxt), _message(nxt))
        if key not in shown:  # Chameleon re-raises a copy of the template's exception
            shown.add(key)
            causes.append({"relation": relation, "type": key[0], "message": key[1]})
        seen = nxt
    return causes


def _masked(name: str, value: str) -> str:
    return _MASK if value and _SECRET_NAME.search(name) else value


def _query(query_string: str) -> list[tuple[str, str]]:
    """The query's fields, decoded as UTF-8 (``?name=J%C3%BCrgen`` is ``Jürgen``),
    with the values of secret-looking names (``token``, ``api_key``...) masked."""
    raw = query_string.encode("latin-1", "replace")  # WSGI strings hold the bytes
    fields = parse_qsl(raw.decode("ascii", "replace"), keep_blank_values=True, errors="replace")
    return [(name, _masked(name, value)) for name, value in fields]


def _page_of(request: bottle.BaseRequest) -> str:
    environ = request.environ
    page = environ.get(PAGE_KEY)
    if page is None:
        route = environ.get("bottle.route")
        page = route.config.get(PAGE_KEY) if route is not None else None
    return str(page or "")


def render_debug_page(exc: BaseException, request: bottle.BaseRequest, fsroot: str) -> str:
    global _template
    if _template is None:
        _template = PageTemplateFile(_TEMPLATE)
    frames = failure_frames(exc.__traceback__, fsroot)
    if not any(frame.kind == "template" for frame in frames):
        frames += _recorded_frames(exc, fsroot)
    primary = primary_frame(frames)
    page = _page_of(request)
    note = ""
    if primary is not None and primary.kind == "template" and page and primary.display != page:
        if primary.display.endswith(".pspx"):
            note = f"{page} takes its body from {primary.display} (#template or #forward)."
        else:
            note = f"{primary.display} is a file that {page} uses (a #load or a load: expression)."
    headers = [(name, _masked(name, value)) for name, value in request.headers.items()]
    body: str = _template.render(
        exc_type=_type_name(exc), exc_message=_message(exc), causes=_causes(exc),
        primary=primary, frames=frames[::-1][:_MAX_FRAMES],
        frames_left_out=max(0, len(frames) - _MAX_FRAMES), page=page, note=note,
        method=request.method, path=request.path, query=_query(request.query_string),
        headers=headers,
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
        try:
            page = render_debug_page(error.exception, bottle.request, fsroot)
        except Exception:  # an exception whose str() fails, say: the plain 500 then
            return fallback(error)
        bottle.response.content_type = "text/html; charset=utf-8"
        bottle.response.set_header("Cache-Control", "no-store")  # never kept by a cache
        return page

    app.error_handler[500] = debug_500
