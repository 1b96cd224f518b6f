"""``#path`` patterns on their own: parsing, matching, building, and the route order."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tincan_core._errors import TinCanError
from tincan_core._patterns import parse_pattern, sort_key

BASE = "/app/entry.pspx"


@pytest.mark.parametrize(
    ("pattern", "path", "values"),
    [
        ("<id:int>", "/app/entry.pspx/42", {"id": 42}),
        ("<id:int>", "/app/entry.pspx/-7", {"id": -7}),
        ("<id:int>", "/app/entry.pspx/x", None),
        ("<id:int>", "/app/entry.pspx/4/2", None),
        ("<id:int>", "/app/entry.pspx/", None),
        ("<id:int>", "/app/entry.pspx/" + "9" * 5000, None),  # too long for int(): a 404
        ("<x:float>", "/app/entry.pspx/1.5", {"x": 1.5}),
        ("<x:float>", "/app/entry.pspx/1.2.3", None),
        ("<name>", "/app/entry.pspx/Jürgen Ä", {"name": "Jürgen Ä"}),
        ("<name>", "/app/entry.pspx/a/b", None),
        ("<rest:path>", "/app/entry.pspx/a/b/c", {"rest": "a/b/c"}),
        ("<y:int>/<m:int>", "/app/entry.pspx/2026/12", {"y": 2026, "m": 12}),
        ("archive/<y:int>", "/app/entry.pspx/archive/2026", {"y": 2026}),
        ("<slug:re:[a-z-]+>", "/app/entry.pspx/hello-world", {"slug": "hello-world"}),
        ("<slug:re:[a-z-]+>", "/app/entry.pspx/Hello", None),
        ("<v:re:(ab)+>.txt", "/app/entry.pspx/abab.txt", {"v": "abab"}),
        ("/<id:int>", "/app/entry.pspx/3", {"id": 3}),  # a leading slash is the same
    ],
)
def test_matching(pattern: str, path: str, values: dict[str, Any] | None) -> None:
    assert parse_pattern(BASE, pattern).match(path) == values


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "empty pattern"),
        ("archive", "has no <name> placeholder"),
        ("<id:integer>", "unknown filter"),
        ("<id:int:3>", "unknown filter"),
        ("<a>/<a>", "appears twice"),
        ("<x:re:(>", "<x:re:(>:"),
        ("<x:re:>", "needs a regular expression"),
        ("<1x>", "malformed placeholder"),
        ("<id", "malformed placeholder"),
        ("../<id>", "'.' and '..' segments"),
    ],
)
def test_bad_patterns_are_clear_errors(pattern: str, message: str) -> None:
    with pytest.raises(TinCanError, match=None) as info:
        parse_pattern(BASE, pattern)
    assert message in str(info.value)


def test_the_base_is_literal() -> None:
    # A file name is never a pattern (SPEC §2): its <...> and regex characters are text.
    pattern = parse_pattern("/a<b>.c+", "<id:int>")
    assert pattern.match("/a<b>.c+/1") == {"id": 1}
    assert pattern.match("/aXb>.cc/1") is None


def test_building_urls() -> None:
    pattern = parse_pattern(BASE, "<y:int>/<slug>")
    assert pattern.build({"y": 2026, "slug": "a b?ü"}) == "/app/entry.pspx/2026/a%20b%3F%C3%BC"
    for values, message in [
        ({"y": 1}, "missing parameter 'slug'"),
        ({"y": 1, "slug": "x", "z": 2}, "unknown parameter 'z'"),
        ({"y": "soon", "slug": "x"}, "y='soon' does not pass the filter of <y:int>"),
        ({"y": True, "slug": "x"}, "does not pass the filter"),
        ({"y": 1, "slug": ""}, "does not pass the filter"),
        # Servers decode %2F before routing: a slash can never come back as one segment.
        ({"y": 1, "slug": "a/b"}, "does not pass the filter"),
    ]:
        with pytest.raises(TinCanError) as info:
            pattern.build(values)
        assert message in str(info.value)
    assert parse_pattern(BASE, "<p:path>").build({"p": "a/b c"}) == "/app/entry.pspx/a/b%20c"


SEGMENT = st.text(st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=8)


@given(
    st.integers(-(10**12), 10**12),
    SEGMENT,
    st.lists(SEGMENT, min_size=1, max_size=3).map("/".join),
)
def test_built_urls_match_back_to_the_same_values(number: int, word: str, rest: str) -> None:
    pattern = parse_pattern(BASE, "<n:int>/<word>/<rest:path>")
    values = {"n": number, "word": word, "rest": rest}
    assert pattern.match(unquote(pattern.build(values))) == values


PATTERNS = st.sampled_from(
    [
        "<id>",
        "<id:int>",
        "<p:path>",
        "x/<id>",
        "x/<id:int>",
        "<a>/<b>",
        "<a:int>/x",
        "x/y/<p:path>",
    ]
)


@given(st.lists(st.tuples(st.sampled_from(["/a.pspx", "/b/c.pspx"]), PATTERNS), unique=True))
def test_route_order_is_total_and_independent_of_input_order(
    entries: list[tuple[str, str]],
) -> None:
    patterns = [parse_pattern(base, text) for base, text in entries]
    ordered = sorted(patterns, key=sort_key)
    assert sorted(reversed(patterns), key=sort_key) == ordered
    # More literal segments are always tried first.
    literal = [-sort_key(p)[0] for p in ordered]
    assert literal == sorted(literal, reverse=True)


def test_more_literal_patterns_win() -> None:
    generic = parse_pattern("/a.pspx", "<word>")
    by_path = parse_pattern("/a.pspx", "<p:path>")
    literal = parse_pattern("/a.pspx", "x/<id>")
    assert sorted([by_path, generic, literal], key=sort_key) == [literal, generic, by_path]


def test_shapes_tell_duplicates_apart() -> None:
    assert parse_pattern(BASE, "<a:int>").shape == parse_pattern(BASE, "<b:int>").shape
    assert parse_pattern(BASE, "<a:int>").shape != parse_pattern(BASE, "<a>").shape
