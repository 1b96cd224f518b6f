"""The builtin server's request-head parser and log escaping, without a socket."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tincan_core._http11 import (
    HeadError,
    HeadLimits,
    find_head_end,
    incomplete_head_error,
    log_escape,
    parse_head,
    skip_blank_lines,
)

TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
tokens = st.text(TOKEN_CHARS, min_size=1, max_size=12)
# Field values: visible ASCII and obs-text, spaces inside, no leading/trailing whitespace.
values = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0xFF, blacklist_characters="\x7f"),
    max_size=20,
) | st.builds(lambda a, b: f"{a} {b}", st.text("abc", min_size=1), st.text("xyz", min_size=1))
paths = st.text("abcXYZ019-._~!$&'()*+,;=:@/%", max_size=30).map(lambda p: "/" + p)
eols = st.sampled_from(["\r\n", "\n"])


def head_bytes(request_line: str, fields: list[tuple[str, str]], eol: str = "\r\n") -> bytes:
    lines = [request_line, *(f"{name}: {value}" for name, value in fields), "", ""]
    return eol.join(lines).encode("latin-1")


def status_of(raw: bytes) -> int:
    with pytest.raises(HeadError) as caught:
        parse_head(raw)
    return caught.value.status


@given(
    method=tokens,
    path=paths,
    query=st.text("a=b&c%20", max_size=10),
    minor=st.sampled_from([0, 1]),
    extra=st.lists(st.tuples(tokens, values), max_size=8),
    eol=eols,
)
def test_a_valid_head_parses_to_what_was_sent(
    method: str, path: str, query: str, minor: int, extra: list[tuple[str, str]], eol: str
) -> None:
    extra = [(name, value) for name, value in extra if name.lower() not in _FRAMING]
    fields = [("Host", "example.test"), *extra]
    target = f"{path}?{query}" if query else path
    raw = head_bytes(f"{method} {target} HTTP/1.{minor}", fields, eol)
    assert find_head_end(raw) == len(raw)
    head = parse_head(raw)
    assert (head.method, head.path, head.query, head.minor) == (method, path, query, minor)
    assert head.fields == fields
    assert head.content_length is None and not head.chunked


_FRAMING = {"host", "content-length", "transfer-encoding", "connection", "expect"}


@given(
    lines=st.lists(st.text("ab: \r", max_size=6), max_size=6),
    cuts=st.lists(st.integers(0, 80), max_size=6),
    eol=eols,
    tail=st.binary(max_size=10),
)
def test_finding_the_end_piece_by_piece_agrees_with_one_search(
    lines: list[str], cuts: list[int], eol: str, tail: bytes
) -> None:
    """The event loop searches again after each receive, from where it stopped."""
    raw = ("GET / HTTP/1.1" + eol + "".join(line + eol for line in lines) + eol).encode()
    raw += tail
    whole = find_head_end(raw)
    expected = min((m.end() for m in re.finditer(rb"\n\r?\n", raw)), default=-1)
    assert whole == expected
    buffer = bytearray()
    scanned = 0
    found = -1
    for end in [*sorted(cuts), len(raw)]:
        buffer += raw[len(buffer) : end]
        found = find_head_end(buffer, scanned)
        if found >= 0:
            break
        scanned = len(buffer)
    assert found == whole


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("abc", 400),
        ("-1", 400),
        ("+5", 400),
        ("", 400),
        ("1.5", 400),
        ("0x10", 400),
        ("5, 6", 400),
        ("99999999999999999999", 413),
        ("1" * 40, 413),
    ],
)
def test_a_bad_content_length_is_a_4xx(value: str, status: int) -> None:
    raw = head_bytes("POST / HTTP/1.1", [("Host", "x"), ("Content-Length", value)])
    assert status_of(raw) == status


@given(
    st.text(st.characters(max_codepoint=0xFF, blacklist_characters="\r\n\x00"), max_size=25)
    | st.lists(st.sampled_from(["1", "12", " ", ",", "0"]), max_size=8).map("".join)
)
def test_content_length_is_digits_or_refused(value: str) -> None:
    value = value.strip(" \t")
    raw = head_bytes("POST / HTTP/1.1", [("Host", "x"), ("Content-Length", value)])
    parts = {part.strip(" \t") for part in value.split(",")}
    number = parts.pop() if len(parts) == 1 else "not one number"
    if number.isascii() and number.isdigit() and len(number.lstrip("0")) <= 18:
        assert parse_head(raw).content_length == int(number)
    else:
        assert status_of(raw) in (400, 413)


def test_equal_repeated_lengths_are_one_length() -> None:
    raw = head_bytes(
        "POST / HTTP/1.1", [("Host", "x"), ("Content-Length", "5, 5"), ("content-length", "5")]
    )
    assert parse_head(raw).content_length == 5


@pytest.mark.parametrize(
    "fields",
    [
        [("Host", "x"), ("Transfer-Encoding", "chunked"), ("Content-Length", "5")],
        [("Host", "x"), ("Transfer-Encoding", "gzip")],
        [("Host", "x"), ("Transfer-Encoding", "gzip, chunked")],
        [("Host", "x"), ("Transfer-Encoding", "chunked, gzip")],
        [("Host", "x"), ("Host", "y")],
        [],
    ],
    ids=["te-and-cl", "not-chunked", "two-codings", "chunked-not-last", "two-hosts", "no-host"],
)
def test_ambiguous_framing_and_hosts_are_refused(fields: list[tuple[str, str]]) -> None:
    assert status_of(head_bytes("POST / HTTP/1.1", fields)) == 400


def test_chunked_and_persistence() -> None:
    head = parse_head(
        head_bytes("POST / HTTP/1.1", [("Host", "x"), ("Transfer-Encoding", "Chunked")])
    )
    assert head.chunked and head.keep_alive
    assert not parse_head(
        head_bytes("GET / HTTP/1.1", [("Host", "x"), ("Connection", "close")])
    ).keep_alive
    assert not parse_head(head_bytes("GET / HTTP/1.0", [])).keep_alive
    assert parse_head(head_bytes("GET / HTTP/1.0", [("Connection", "Keep-Alive")])).keep_alive
    # HTTP/1.0 has no chunked framing: a message claiming it is faulty (RFC 9112 §6.1).
    assert status_of(head_bytes("POST / HTTP/1.0", [("Transfer-Encoding", "chunked")])) == 400


@pytest.mark.parametrize(
    "request_line",
    [
        "GET / HTTP/2.0",
        "GET / HTTP/0.9",
        "GET / HTTP/1.1.1",
        "GET / FOO",
        "GET /",
        "GET",
        "GET  / HTTP/1.1",
        "GET /a b HTTP/1.1",
        "G\x00T / HTTP/1.1",
        "GET \x7f HTTP/1.1",
        "GET \\..\\ HTTP/1.1",
        "GET http://user@h/ HTTP/1.1",
        "CONNECT h:443 HTTP/1.1",
        "GET * HTTP/1.1",
        "",
    ],
)
def test_a_malformed_request_line_is_a_400(request_line: str) -> None:
    assert status_of(head_bytes(request_line, [("Host", "x")])) == 400


@pytest.mark.parametrize(
    "line",
    [
        " folded",
        "\tfolded",
        "Name : value",
        "No colon",
        ": empty",
        "A\rB: c",
        "X: a\rb",
        "X: a\x00b",
        "Bad[name]: v",
    ],
)
def test_a_malformed_field_line_is_a_400(line: str) -> None:
    raw = b"GET / HTTP/1.1\r\nHost: x\r\n" + line.encode("latin-1") + b"\r\n\r\n"
    assert status_of(raw) == 400


def test_absolute_form_and_asterisk() -> None:
    head = parse_head(head_bytes("GET http://Example.test:8080/a/b?c=d HTTP/1.1", []))
    assert (head.host, head.path, head.query) == ("Example.test:8080", "/a/b", "c=d")
    assert parse_head(head_bytes("GET HTTP://h HTTP/1.1", [])).path == "/"
    assert parse_head(head_bytes("OPTIONS * HTTP/1.1", [("Host", "x")])).path == "*"
    assert parse_head(head_bytes("GET / HTTP/1.2", [("Host", "x")])).version == "HTTP/1.1"


LIMITS = HeadLimits(request_line=100, field_line=60, head=400, fields=5)


def test_limits_give_414_and_431() -> None:
    assert status_of_limited(head_bytes("GET /" + "a" * 100 + " HTTP/1.1", [("Host", "x")])) == 414
    assert status_of_limited(head_bytes("GET / HTTP/1.1", [("Host", "x"), ("X", "y" * 60)])) == 431
    many = [("Host", "x")] + [(f"X{i}", "y") for i in range(5)]
    assert status_of_limited(head_bytes("GET / HTTP/1.1", many)) == 431
    big = [("Host", "x")] + [(f"X{i}", "y" * 50) for i in range(4)]
    assert len(head_bytes("GET / HTTP/1.1", big)) <= LIMITS.head
    parse_head(head_bytes("GET / HTTP/1.1", big), LIMITS)  # just within every limit


def status_of_limited(raw: bytes) -> int:
    with pytest.raises(HeadError) as caught:
        parse_head(raw, LIMITS)
    return caught.value.status


@given(st.binary(max_size=600))
def test_an_unfinished_head_is_refused_once_it_passes_a_limit(data: bytes) -> None:
    """What the loop keeps of a client that never ends its head is bounded."""
    error = incomplete_head_error(data, LIMITS)
    if len(data) > LIMITS.head:
        assert error is not None and error.status == 431
    elif len(data) > LIMITS.request_line and b"\n" not in data[: LIMITS.request_line + 1]:
        assert error is not None and error.status == 414
    else:
        assert error is None


@given(st.binary(max_size=300), eols)
def test_any_head_is_parsed_or_refused_with_a_4xx(data: bytes, eol: str) -> None:
    raw = data.replace(b"\n\n", b"\n").replace(b"\n\r\n", b"\n") + (eol * 2).encode()
    end = find_head_end(raw)
    try:
        parse_head(raw[:end])
    except HeadError as error:
        assert 400 <= error.status < 500
        assert error.detail


def test_blank_lines_before_a_request_are_skipped() -> None:
    buffer = bytearray(b"\r\n\r\nGET / HTTP/1.1\r\n")
    assert skip_blank_lines(buffer) == 4
    assert buffer == b"GET / HTTP/1.1\r\n"
    assert skip_blank_lines(buffer) == 0


def _unescape(text: str) -> str:
    return re.sub(
        r'\\(x[0-9a-f]{2}|\\|")',
        lambda m: chr(int(m[1][1:], 16)) if m[1][0] == "x" else m[1],
        text,
    )


@given(st.text(st.characters(max_codepoint=0x2FF)))
def test_log_escaping_leaves_no_control_character_and_loses_nothing(text: str) -> None:
    escaped = log_escape(text)
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", escaped)
    assert not re.search(r'(?<!\\)(?:\\\\)*"', escaped)  # every quote is escaped
    assert _unescape(escaped) == text


def test_a_forged_log_line_stays_on_one_line() -> None:
    escaped = log_escape('GET /\r\n127.0.0.1 - "GET /admin HTTP/1.1" 200\x1b[2K')
    assert escaped == ('GET /\\x0d\\x0a127.0.0.1 - \\"GET /admin HTTP/1.1\\" 200\\x1b[2K')
