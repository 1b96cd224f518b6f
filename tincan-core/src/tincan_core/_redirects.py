"""Route callbacks that redirect: ``dir`` to ``dir/``, ``.pspx`` URLs to clean ones.

The ``Location`` is an absolute path: ``SCRIPT_NAME`` (where the app is mounted)
plus the new path plus the request's query string. It is never built from the
``Host`` header, which the client chooses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn
from urllib.parse import quote

import bottle

from ._paths import quote_path

__all__ = ["location", "redirect_status", "redirect_swapping_base", "redirect_to"]


def redirect_status(method: str) -> int:
    """301 for GET and HEAD; 308 for other methods, which must not turn into a GET."""
    return 301 if method in ("GET", "HEAD") else 308


def script_name(environ: Mapping[str, Any]) -> str:
    """``SCRIPT_NAME`` percent-encoded, without a trailing slash."""
    script = environ.get("SCRIPT_NAME") or ""
    if not script:
        return ""
    try:
        raw = script.encode("latin-1")  # WSGI strings carry the bytes as latin-1
    except UnicodeEncodeError:
        raw = script.encode("utf-8")
    return quote(raw, safe="/").rstrip("/")


def location(environ: Mapping[str, Any], quoted_path: str) -> str:
    """The ``Location`` of a redirect to ``quoted_path`` (already percent-encoded)."""
    query = environ.get("QUERY_STRING") or ""
    return script_name(environ) + quoted_path + ("?" + query if query else "")


def _redirect(quoted_path: str) -> NoReturn:
    environ = bottle.request.environ
    status = redirect_status(environ["REQUEST_METHOD"].upper())
    raise bottle.HTTPResponse("", status, Location=location(environ, quoted_path))


def redirect_to(path: str) -> Callable[[], Any]:
    """A callback redirecting to ``path`` (a decoded URL path)."""
    quoted = quote_path(path)

    def redirect() -> NoReturn:
        _redirect(quoted)

    return redirect


def redirect_swapping_base(old_base: str, new_base: str) -> Callable[[], Any]:
    """A callback for a pattern route under ``old_base``: the same URL under ``new_base``."""
    cut = len(old_base)

    def redirect() -> NoReturn:
        path = bottle.request.environ["PATH_INFO"]  # matched, so it starts with old_base
        _redirect(quote_path(new_base + path[cut:]))

    return redirect
