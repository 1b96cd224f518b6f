"""Internal links: which literal ``href``/``src``/``action`` values lead into the webapp,
and where. Pure: URL text and the linking page's URL path in, a decoded path out."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urljoin, urlsplit

__all__ = ["html_links", "link_path"]

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_LINK_ATTRIBUTES = frozenset({"href", "src", "action"})


def link_path(url: str, page_path: str, prefix: str) -> str | None:
    """The decoded URL path that ``url``, written in the page at ``page_path``,
    requests from this webapp; ``None`` when it leaves the webapp or names no
    path (other schemes and hosts, ``#fragment``, ``?query``, paths outside the
    urlroot ``prefix``: ``""`` for ``/``)."""
    url = html.unescape(url).strip()
    if not url or url.startswith(("#", "?", "//")) or _SCHEME.match(url):
        return None
    path = url.split("#", 1)[0].split("?", 1)[0]
    if not path:
        return None
    base = "http://webapp" + quote(page_path, safe="/")
    resolved = unquote(urlsplit(urljoin(base, path)).path, errors="replace") or "/"
    if prefix and resolved != prefix and not resolved.startswith(prefix + "/"):
        return None
    return resolved


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[int, str]] = []
        self.has_base = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        for name, value in attrs:
            if value is None:
                continue
            if tag == "base" and name == "href":
                self.has_base = True
            if name in _LINK_ATTRIBUTES:
                # html.parser has decoded entities already; link_path() must not again.
                self.links.append((line, value.replace("&", "&amp;")))


def html_links(text: str) -> tuple[list[tuple[int, str]], bool]:
    """``[(line, url)]`` of the link attributes of an HTML document, and whether it
    has a ``<base href>`` (then relative links cannot be judged)."""
    collector = _LinkCollector()
    try:
        collector.feed(text)
        collector.close()
    except (AssertionError, ValueError):  # html.parser's way of giving up
        pass
    return collector.links, collector.has_base
