"""Reverse routing: the URL of a page, from the table a launch built.

``url_for(target, **params)``: ``target`` is a page path as ``#forward`` writes
it (relative to the directory of the current page, or ``/``-absolute from the
webapp root). Without parameters the page's plain URL (its clean URL with
``clean_urls``); with parameters the first ``#path`` form whose names are
exactly the names given. The result starts with ``SCRIPT_NAME`` and the
urlroot; ``_query`` adds a query string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from ._errors import TinCanError
from ._paths import resolve_webapp_path
from ._redirects import script_name
from ._urlplan import UrlForms

__all__ = ["Query", "UrlTable"]

# What ``_query`` may be: a mapping (a list value repeats the name) or (name, value) pairs.
Query = Mapping[str, Any] | Sequence[tuple[str, Any]]


class UrlTable:
    """Every page's URL forms by webapp-relative path, filled in at launch."""

    def __init__(self) -> None:
        self.forms: dict[str, UrlForms] = {}

    def build(
        self,
        target: str,
        params: Mapping[str, Any],
        *,
        query: Query | None = None,
        page: str = "",
        environ: Mapping[str, Any] | None = None,
    ) -> str:
        """The URL of ``target`` as seen from ``page`` (webapp-relative; ``""``: the root)."""
        if not isinstance(target, str) or not target:
            raise TinCanError(f"url_for: the target must be a page path, not {target!r}")
        try:
            relpath = resolve_webapp_path(page or "_", target)
        except TinCanError:
            raise TinCanError(f"url_for: {target!r} is outside the webapp") from None
        forms = self.forms.get(relpath)
        if forms is None:
            seen_from = f" (from {page})" if page and not target.startswith("/") else ""
            raise TinCanError(f"url_for: no page {relpath!r}{seen_from}")
        path = self._path(relpath, forms, params)
        if environ is not None:
            path = script_name(environ) + path
        if query:
            encoded = urlencode(query, doseq=True)
            if encoded:
                path += "?" + encoded
        return path

    @staticmethod
    def _path(relpath: str, forms: UrlForms, params: Mapping[str, Any]) -> str:
        if forms.plain is None:
            raise TinCanError(f"url_for: {relpath!r} {forms.why}")
        if not params:
            return forms.plain
        names = frozenset(params)
        for pattern in forms.patterns:
            if pattern.names == names:
                return pattern.build(params)
        given = ", ".join(sorted(names))
        if not forms.patterns:
            raise TinCanError(f"url_for: {relpath!r} takes no parameters (it has no #path); "
                              f"given: {given}")  # fmt: skip
        wider = [p for p in forms.patterns if names < p.names]
        if wider:
            missing = sorted(wider[0].names - names)
            raise TinCanError(
                f"url_for: missing parameter {missing[0]!r} for {relpath!r} "
                f"(#path {wider[0].pattern})"
            )
        written = "; ".join(f"#path {p.pattern}" for p in forms.patterns)
        raise TinCanError(f"url_for: no #path of {relpath!r} takes exactly {given} ({written})")
