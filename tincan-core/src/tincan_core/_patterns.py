"""URL patterns of ``#path``: parsing, the order they are tried in, matching, building.

A ``#path`` line appends a pattern to a page's URL: ``#path <id:int>`` makes
``entry.pspx`` answer ``/entry.pspx/42``. A pattern is ``/``-separated
segments of literal text and placeholders ``<name>`` or ``<name:filter>``;
the filters are Bottle's:

========== ============================== ==========================
filter     matches                        value
========== ============================== ==========================
(none)     one segment: ``[^/]+``         ``str``
``int``    ``-?[0-9]+``                   ``int``
``float``  ``-?[0-9.]+``                  ``float``
``path``   one or more segments: ``.+?``  ``str``
``re:X``   the regular expression ``X``   ``str``
========== ============================== ==========================

Everything here is pure; the router and ``url_for`` use it.

Route order: literal routes (page files, index directories, static files)
always match first. Parameterised routes are then tried by :func:`sort_key`:
more literal segments first, then more literal characters, then patterns
without a ``path`` placeholder, then by URL text; so the order never depends
on the order of files on disk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ._errors import TinCanError

__all__ = ["Placeholder", "RoutePattern", "parse_pattern", "sort_key"]

_PLACEHOLDER = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]*)(?::(.*?))?)?>")
_FILTERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "": (r"[^/]+", str),
    "int": (r"-?[0-9]+", int),
    "float": (r"-?[0-9.]+", float),
    "path": (r".+?", str),
}


@dataclass(frozen=True, slots=True)
class Placeholder:
    name: str
    filter: str  # "", "int", "float", "path" or "re"
    regex: str
    convert: Callable[[str], Any] = field(compare=False)


@dataclass(frozen=True, slots=True)
class RoutePattern:
    """A page's URL plus a ``#path`` pattern, compiled."""

    base: str  # the page's own URL (literal), e.g. "/app/entry.pspx" or "/app/entry"
    pattern: str  # as written after #path, e.g. "<year:int>/<month:int>"
    parts: tuple[str | Placeholder, ...]  # literal text and placeholders, in order
    regex: re.Pattern[str] = field(compare=False)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.parts if isinstance(p, Placeholder))

    @property
    def shape(self) -> str:
        """What two pages may not share: the URL with every placeholder as its filter."""
        return (
            self.base
            + "/"
            + "".join(p if isinstance(p, str) else f"<:{p.filter}:{p.regex}>" for p in self.parts)
        )

    def match(self, path: str) -> dict[str, Any] | None:
        """The converted values if ``path`` (decoded) matches, else ``None``."""
        found = self.regex.fullmatch(path)
        if found is None:
            return None
        values: dict[str, Any] = {}
        for part in self.parts:
            if isinstance(part, Placeholder):
                try:
                    values[part.name] = part.convert(found.group(part.name))
                except ValueError:  # e.g. an int of more digits than Python converts
                    return None
        return values

    def build(self, values: Mapping[str, Any]) -> str:
        """The URL path for ``values`` (percent-encoded); :class:`TinCanError` if one is
        missing, unknown, or does not pass its filter."""
        missing = sorted(self.names - set(values))
        if missing:
            raise TinCanError(f"url_for: missing parameter {missing[0]!r} for {self.display}")
        unknown = sorted(set(values) - self.names)
        if unknown:
            raise TinCanError(f"url_for: unknown parameter {unknown[0]!r} for {self.display}")
        out = [quote(self.base, safe="/")]
        out.append("/")
        for part in self.parts:
            if isinstance(part, str):
                out.append(quote(part, safe="/"))
                continue
            value = values[part.name]
            text = _format(value, part)
            if not re.fullmatch(part.regex, text, re.DOTALL) or (
                part.filter != "path" and "/" in text
            ):
                raise TinCanError(
                    f"url_for: {part.name}={value!r} does not pass the filter "
                    f"of <{part.name}{':' + part.filter if part.filter else ''}> in {self.display}"
                )
            out.append(quote(text, safe="/" if part.filter == "path" else ""))
        return "".join(out)

    @property
    def display(self) -> str:
        return f"{self.base}/{self.pattern}"


def _format(value: Any, part: Placeholder) -> str:
    if part.filter == "int" and isinstance(value, bool):
        return str(value)  # True is an int to Python, not to a URL: refused by the regex
    if part.filter == "float" and isinstance(value, float):
        return repr(value)
    return str(value)


def parse_pattern(base: str, pattern: str) -> RoutePattern:
    """Compile the ``#path`` ``pattern`` appended to the page URL ``base``.

    Raises :class:`TinCanError` (without a location; the caller adds file and
    line) for an empty pattern, an unknown filter, a bad regular expression, a
    name used twice, or a pattern without any placeholder.
    """
    text = pattern.strip().lstrip("/")
    if not text:
        raise TinCanError("#path: empty pattern")
    parts: list[str | Placeholder] = []
    regex = [re.escape(base) + "/"]
    position = 0
    seen: set[str] = set()
    for found in _PLACEHOLDER.finditer(text):
        literal = text[position : found.start()]
        _check_literal(literal)
        if literal:
            parts.append(literal)
            regex.append(re.escape(literal))
        name, kind, config = found.group(1), found.group(2) or "", found.group(3)
        convert: Callable[[str], Any]
        if name in seen:
            raise TinCanError(f"#path: <{name}> appears twice")
        seen.add(name)
        if kind == "re":
            if not config:
                raise TinCanError(f"#path: <{name}:re:...> needs a regular expression")
            try:
                compiled = re.compile(config)
            except re.error as exc:
                raise TinCanError(f"#path: <{name}:re:{config}>: {exc}") from None
            if compiled.groups:
                # Groups would shift the named groups around them: make them non-capturing.
                config = _no_capture(config)
            expression, convert = config, str
        elif kind in _FILTERS and config is None:
            expression, convert = _FILTERS[kind]
        else:
            raise TinCanError(
                f"#path: unknown filter {found.group(0)!r} (use int, float, path or re:...)"
            )
        parts.append(Placeholder(name, kind, expression, convert))
        regex.append(f"(?P<{name}>{expression})")
        position = found.end()
    rest = text[position:]
    _check_literal(rest)
    if rest:
        parts.append(rest)
        regex.append(re.escape(rest))
    if not seen:
        raise TinCanError(f"#path: {pattern.strip()!r} has no <name> placeholder")
    try:
        compiled_route = re.compile("".join(regex), re.DOTALL)
    except re.error as exc:
        raise TinCanError(f"#path: {exc}") from None
    return RoutePattern(base, text, tuple(parts), compiled_route)


def _check_literal(text: str) -> None:
    if "<" in text or ">" in text:
        raise TinCanError(f"#path: malformed placeholder in {text!r}")
    segments = text.split("/")
    if any(s in (".", "..") for s in segments):
        raise TinCanError("#path: '.' and '..' segments are not allowed")


def _no_capture(expression: str) -> str:
    out = []
    i = 0
    while i < len(expression):
        char = expression[i]
        if char == "\\":
            out.append(expression[i : i + 2])
            i += 2
            continue
        if char == "(" and not expression.startswith("(?", i):
            out.append("(?:")
        else:
            out.append(char)
        i += 1
    return "".join(out)


def sort_key(pattern: RoutePattern) -> tuple[int, int, int, str]:
    """The documented, deterministic order in which parameterised routes are tried."""
    literal_segments = 0
    literal_chars = 0
    has_path = False
    for part in pattern.parts:
        if isinstance(part, str):
            literal_chars += len(part)
            literal_segments += sum(1 for s in part.split("/") if s)
        elif part.filter == "path":
            has_path = True
    base_segments = pattern.base.count("/")
    return (-(base_segments + literal_segments), -literal_chars, int(has_path), pattern.display)
