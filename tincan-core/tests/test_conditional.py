"""Conditional-request evaluation (RFC 9110 §13): entity-tag lists, dates, precedence."""

from __future__ import annotations

import email.utils
import re

from hypothesis import given
from hypothesis import strategies as st
from tincan_core._conditional import PROCEED, evaluate, http_date, parse_entity_tags

ETAG = '"17f3a-400"'
MTIME = 1_700_000_000

_opaque = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0xFF).filter(lambda c: c not in '"\x7f'),
    max_size=12,
)
_tag = st.builds(lambda weak, text: ("W/" if weak else "") + f'"{text}"', st.booleans(), _opaque)
_member = st.one_of(_tag, st.just("*"))
_space = st.sampled_from(["", " ", "\t", "  "])


@given(st.lists(st.tuples(_member, _space, _space), max_size=6), st.booleans())
def test_entity_tag_lists_parse_back(members: list[tuple[str, str, str]], empty: bool) -> None:
    parts = [f"{before}{tag}{after}" for tag, before, after in members]
    if empty:
        parts.insert(len(parts) // 2, " ")  # an empty list member is allowed
    assert parse_entity_tags(",".join(parts)) == [tag for tag, _, _ in members]


_VALID_TAG = re.compile(r'(?:W/)?"[^"\x00-\x20\x7f]*"|\*')


@given(st.text(max_size=40))
def test_anything_parses_to_tags_or_none(value: str) -> None:
    tags = parse_entity_tags(value)
    if tags is not None:
        assert all(_VALID_TAG.fullmatch(tag) for tag in tags)


def test_malformed_entity_tag_lists() -> None:
    for value in ("abc", '"a" "b"', '"unterminated', 'W/ "a"', '"a",b', '"a b"', 'w/"a"'):
        assert parse_entity_tags(value) is None, value


def test_http_dates() -> None:
    assert http_date(email.utils.formatdate(MTIME, usegmt=True)) == MTIME
    assert http_date("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777  # RFC 850 form
    assert http_date("Sun Nov  6 08:49:37 1994") == 784111777  # asctime form
    assert http_date(email.utils.formatdate(MTIME, usegmt=True) + "; length=12") == MTIME
    for invalid in (None, "", "garbage", "Sat, 01 Jan 10000 00:00:00 GMT", "32 Foo 2020"):
        assert http_date(invalid) is None, invalid


# Each header drawn as absent, or a value that holds, fails or is not valid; what
# the value means is written out here independently of the code under test.
def _date(offset: int) -> str:
    return email.utils.formatdate(MTIME + offset, usegmt=True)


IF_MATCH = {
    "holds": [ETAG, "*", f'"x", {ETAG}'],
    "fails": ['"x"', f"W/{ETAG}", '"17f3a-401"'],
    "invalid": ["garbage", f"{ETAG} junk"],
}
IF_UNMODIFIED_SINCE = {
    "holds": [_date(0), _date(3600)],
    "fails": [_date(-1), _date(-86400)],
    "invalid": ["garbage", "Sat, 01 Jan 10000 00:00:00 GMT"],
}
IF_NONE_MATCH = {
    "holds": ['"x"', '"17f3a-401"'],  # holds: no tag matches, so the request goes on
    "fails": [ETAG, f"W/{ETAG}", "*", f'"x", {ETAG}'],
    "invalid": ["garbage"],
}
IF_MODIFIED_SINCE = {
    "holds": [_date(-1), _date(-86400)],  # modified since: the request goes on
    "fails": [_date(0), _date(3600)],
    "invalid": ["garbage", ""],
}
HEADERS = {
    "HTTP_IF_MATCH": IF_MATCH,
    "HTTP_IF_UNMODIFIED_SINCE": IF_UNMODIFIED_SINCE,
    "HTTP_IF_NONE_MATCH": IF_NONE_MATCH,
    "HTTP_IF_MODIFIED_SINCE": IF_MODIFIED_SINCE,
}
_state = st.sampled_from(["absent", "holds", "fails", "invalid"])


def _expected(states: dict[str, str]) -> int:
    """RFC 9110 §13.2.2, steps 1 to 4, for a GET."""
    if states["HTTP_IF_MATCH"] != "absent":
        # Step 1: an invalid If-Match cannot be shown to hold.
        if states["HTTP_IF_MATCH"] != "holds":
            return 412
    elif states["HTTP_IF_UNMODIFIED_SINCE"] == "fails":  # step 2; invalid dates are ignored
        return 412
    if states["HTTP_IF_NONE_MATCH"] != "absent":
        if states["HTTP_IF_NONE_MATCH"] == "fails":  # step 3
            return 304
    elif states["HTTP_IF_MODIFIED_SINCE"] == "fails":  # step 4
        return 304
    return PROCEED


@given(st.fixed_dictionaries({key: _state for key in HEADERS}), st.data())
def test_precedence_follows_rfc_9110(states: dict[str, str], data: st.DataObject) -> None:
    environ = {"REQUEST_METHOD": "GET"}
    for key, state in states.items():
        if state != "absent":
            environ[key] = data.draw(st.sampled_from(HEADERS[key][state]), label=key)
    assert evaluate(environ, ETAG, MTIME) == _expected(states)
