"""Path arithmetic for webapp-relative paths and URL paths (pure, no I/O)."""

from __future__ import annotations

from urllib.parse import quote

from ._classify import INDEX_NAMES, PAGE_SUFFIX
from ._errors import TinCanError

__all__ = [
    "clean_route_for",
    "directory_url",
    "index_routes",
    "normalize_urlroot",
    "pattern_base",
    "quote_path",
    "resolve_url_path",
    "resolve_webapp_path",
    "route_for",
]

_PAGE_INDEX = INDEX_NAMES[0]  # index.pspx


def _join_segments(base: list[str], path: str) -> list[str] | None:
    """Apply ``path``'s segments to ``base``; ``None`` when ``..`` climbs above the root."""
    segments = list(base)
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not segments:
                return None
            segments.pop()
        else:
            segments.append(segment)
    return segments


def resolve_webapp_path(page: str, path: str) -> str:
    """Resolve a directive path written in ``page`` (a webapp-relative file path).

    A leading ``/`` means relative to the webapp root, anything else relative to
    the directory of ``page``. Raises :class:`TinCanError` if the result would
    be above the root.
    """
    base = [] if path.startswith("/") else page.split("/")[:-1]
    segments = _join_segments(base, path)
    if segments is None or not segments:
        raise TinCanError(f"{path!r} is outside the webapp")
    return "/".join(segments)


def normalize_urlroot(urlroot: str) -> str:
    """Return the route prefix for ``urlroot``: ``""`` for ``/``, else ``/a/b`` without
    a trailing ``/``. Doubled slashes and ``.`` segments are dropped (a browser would
    never send them); ``..`` is refused."""
    if not urlroot.startswith("/"):
        raise TinCanError(f"urlroot {urlroot!r} must start with '/'")
    segments = [s for s in urlroot.split("/") if s not in ("", ".")]
    if ".." in segments:
        raise TinCanError(f"urlroot {urlroot!r} must not contain '..'")
    return "".join("/" + s for s in segments)


def route_for(prefix: str, relpath: str) -> str:
    """The route of a webapp file: the prefix plus its path, literally."""
    return f"{prefix}/{relpath}"


def directory_url(prefix: str, relpath: str) -> str:
    """The URL of the directory holding ``relpath``, without its trailing slash
    (``""`` for the top directory under urlroot ``/``)."""
    directory = relpath.rpartition("/")[0]
    return f"{prefix}/{directory}" if directory else prefix


def clean_route_for(prefix: str, relpath: str) -> str:
    """The clean URL of a page: without ``.pspx``; an index page's is its directory.

    ``a/b/name.pspx`` -> ``/a/b/name``; ``a/index.pspx`` -> ``/a/``.
    """
    if relpath.rpartition("/")[2] == _PAGE_INDEX:
        return directory_url(prefix, relpath) + "/"
    return f"{prefix}/{relpath[: -len(PAGE_SUFFIX)]}"


def pattern_base(prefix: str, relpath: str, *, clean: bool) -> str:
    """The URL a page's ``#path`` patterns are appended to (after a ``/``): its own
    route, or its clean URL; an index page's clean base is its directory."""
    if not clean:
        return route_for(prefix, relpath)
    return clean_route_for(prefix, relpath).removesuffix("/")


def quote_path(path: str) -> str:
    """A decoded URL path percent-encoded for a link or a ``Location`` header."""
    return quote(path, safe="/")


def index_routes(prefix: str, relpath: str) -> list[str]:
    """Extra routes of an index file: its directory with and without a trailing slash."""
    directory = relpath.rpartition("/")[0]
    base = f"{prefix}/{directory}" if directory else prefix
    routes = [f"{base}/"]
    if base:
        routes.append(base)
    return routes


def resolve_url_path(current: str, target: str) -> str | None:
    """Resolve a forward target against the current request path (both decoded).

    Absolute targets start with ``/``; others are relative to the directory of
    ``current``. Returns ``None`` when the target climbs above ``/``. A trailing
    slash is kept, so ``dir/`` still finds a directory index.
    """
    target = target.partition("?")[0]
    base = [] if target.startswith("/") else current.split("/")[1:-1]
    segments = _join_segments(base, target)
    if segments is None:
        return None
    path = "/" + "/".join(segments)
    last = target.rsplit("/", 1)[-1]
    if segments and (target.endswith("/") or last in (".", "..")):
        path += "/"
    return path
