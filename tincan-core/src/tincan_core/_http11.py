"""HTTP/1.1 request heads for the builtin server: find, check and parse them (RFC 9112).

Pure functions over bytes, so the limits and the answer to every malformed head
are tested without a socket. A head that breaks a rule raises :class:`HeadError`
with the status to answer (400, 413, 414, 431: bad input is a 4xx); the
connection is closed after that answer, since where the next request would
start is unknowable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "HeadError",
    "HeadLimits",
    "RequestHead",
    "find_head_end",
    "incomplete_head_error",
    "log_escape",
    "parse_head",
    "skip_blank_lines",
]

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_METHOD = re.compile(_TOKEN)
# OWS around the value is dropped; CR and NUL inside it are refused (RFC 9110 §5.5).
_FIELD = re.compile(rf"({_TOKEN}):[ \t]*([^\r\x00]*?)[ \t]*")
_VERSION = re.compile(r"HTTP/([0-9])\.([0-9])")
# Whitespace and controls never appear in a request target (RFC 9112 §3.2).
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
_ABSOLUTE = re.compile(r"(?i)https?://([^/?#]*)([^?#]*)(?:\?([^#]*))?")
_AUTHORITY = re.compile(
    r"[A-Za-z0-9\-._~!$&'()*+,;=%]*(?::[0-9]*)?|\[[0-9A-Fa-f:.]+\](?::[0-9]*)?"
)
_DIGITS = re.compile(r"[0-9]+")
# More digits than this is a body no server here will take: 413, not a huge int.
_MAX_LENGTH_DIGITS = 18


class HeadError(Exception):
    """A request head the server answers with ``status`` (and ``detail``) and then closes."""

    def __init__(self, status: int, detail: str, request_line: str = "") -> None:
        self.status = status
        self.reason = _REASONS.get(status, "Bad Request")
        self.detail = detail
        self.request_line = request_line
        super().__init__(f"{status} {self.reason}: {detail}")


_REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
}


@dataclass(frozen=True, slots=True)
class HeadLimits:
    """Upper bounds on what one request head may hold; each byte is memory held per client."""

    request_line: int = 8192  # longer: 414 URI Too Long
    field_line: int = 8192  # one header line longer: 431
    head: int = 32768  # the whole head longer: 431
    fields: int = 100  # more header lines: 431


@dataclass(slots=True)
class RequestHead:
    """A parsed, checked request head; names in ``fields`` keep the client's spelling."""

    method: str
    path: str  # still percent-encoded, latin-1 decoded as WSGI wants
    query: str
    version: str  # "HTTP/1.0" or "HTTP/1.1" (a later 1.x is answered as 1.1)
    minor: int
    fields: list[tuple[str, str]]
    request_line: str
    content_length: int | None = None
    chunked: bool = False
    keep_alive: bool = True  # what the client asked for
    expect_continue: bool = False
    host: str | None = None  # the authority of an absolute-form target


def skip_blank_lines(buffer: bytearray) -> int:
    """Drop empty lines before a request line (RFC 9112 §2.2 asks servers to ignore them).

    Returns how many bytes were dropped.
    """
    if not buffer or buffer[0] not in b"\r\n":
        return 0
    dropped = len(buffer) - len(buffer.lstrip(b"\r\n"))
    del buffer[:dropped]
    return dropped


def find_head_end(buffer: bytes | bytearray, start: int = 0) -> int:
    """The offset just past the empty line that ends the head, or -1 if it has not arrived.

    Lines end at LF with an optional CR; ``start`` is where the previous search stopped.
    """
    start = max(0, start - 2)
    end = -1
    crlf = buffer.find(b"\n\r\n", start)
    if crlf >= 0:
        end = crlf + 3
    lf = buffer.find(b"\n\n", start, None if end < 0 else end)
    if lf >= 0:
        end = lf + 2
    return end


def incomplete_head_error(buffer: bytes | bytearray, limits: HeadLimits) -> HeadError | None:
    """The error for a head that has not ended yet but already broke a limit."""
    if len(buffer) > limits.head:
        return HeadError(431, f"the request head is over {limits.head} bytes")
    if len(buffer) > limits.request_line and buffer.find(b"\n", 0, limits.request_line + 1) < 0:
        return HeadError(414, f"the request line is over {limits.request_line} bytes")
    return None


def parse_head(data: bytes | bytearray, limits: HeadLimits | None = None) -> RequestHead:
    """Parse and check a complete head (``data`` ends with its empty line)."""
    limits = limits or HeadLimits()
    if len(data) > limits.head:
        raise HeadError(431, f"the request head is over {limits.head} bytes")
    text = data.decode("latin-1")
    lines = text.split("\n")
    del lines[-2:]  # the empty line and what follows its LF
    request_line = lines[0].removesuffix("\r")
    head = _request_line(request_line, limits)
    if len(lines) - 1 > limits.fields:
        raise HeadError(431, f"more than {limits.fields} header fields", request_line)
    fields = head.fields
    for line in lines[1:]:
        if len(line) > limits.field_line:
            raise HeadError(431, f"a header field is over {limits.field_line} bytes", request_line)
        match = _FIELD.fullmatch(line.removesuffix("\r"))
        if match is None:
            # obs-fold, whitespace before the colon, no colon, CR or NUL (RFC 9112 §5).
            raise HeadError(400, "malformed header field", request_line)
        fields.append((match[1], match[2]))
    _framing(head)
    return head


def _request_line(line: str, limits: HeadLimits) -> RequestHead:
    if len(line) > limits.request_line:
        raise HeadError(
            414,
            f"the request line is over {limits.request_line} bytes",
            line[: limits.request_line],
        )
    parts = line.split(" ")
    if len(parts) != 3:
        raise HeadError(400, "malformed request line", line)
    method, target, version = parts
    if _METHOD.fullmatch(method) is None:
        raise HeadError(400, "malformed method", line)
    matched = _VERSION.fullmatch(version)
    # Any other version in an HTTP/1 request line is bad input, a 400 (a 505 would be a 5xx).
    if matched is None or matched[1] != "1":
        raise HeadError(400, "unsupported HTTP version (this server speaks HTTP/1.x)", line)
    minor = min(int(matched[2]), 1)
    if not target or _BAD_TARGET.search(target) is not None:
        raise HeadError(400, "malformed request target", line)
    host = None
    if target[0] == "/":
        path, _, query = target.partition("?")
    elif target == "*" and method == "OPTIONS":
        path, query = "*", ""
    else:
        absolute = _ABSOLUTE.fullmatch(target)
        if absolute is None or _AUTHORITY.fullmatch(absolute[1]) is None or not absolute[1]:
            raise HeadError(400, "malformed request target", line)
        host, path, query = absolute[1], absolute[2] or "/", absolute[3] or ""
    return RequestHead(
        method, path, query, "HTTP/1.1" if minor else "HTTP/1.0", minor, [], line, host=host
    )


def _framing(head: RequestHead) -> None:
    """Settle the body's length, persistence and ``Expect`` from the fields (RFC 9112 §6, §9)."""
    line = head.request_line
    lengths: set[str] = set()
    codings: list[str] = []
    connection: list[str] = []
    hosts = 0
    for name, value in head.fields:
        lower = name.lower()
        if lower == "content-length":
            lengths.update(part.strip(" \t") for part in value.split(","))
        elif lower == "transfer-encoding":
            codings.extend(c.strip(" \t").lower() for c in value.split(",") if c.strip(" \t"))
        elif lower == "connection":
            connection.extend(part.strip(" \t").lower() for part in value.split(","))
        elif lower == "host":
            hosts += 1
        elif lower == "expect":
            head.expect_continue = value.lower() == "100-continue"
    if hosts > 1 or (hosts == 0 and head.minor == 1 and head.host is None):
        raise HeadError(400, "an HTTP/1.1 request needs exactly one Host field", line)
    if head.minor == 1:
        head.keep_alive = "close" not in connection
    else:
        head.keep_alive = "keep-alive" in connection and "close" not in connection
    if codings:
        # Both framings at once is how requests are smuggled past a proxy: refused.
        if lengths:
            raise HeadError(400, "both Content-Length and Transfer-Encoding", line)
        if head.minor == 0 or codings != ["chunked"]:
            raise HeadError(400, "unsupported Transfer-Encoding (only chunked)", line)
        head.chunked = True
        return
    if not lengths:
        return
    if len(lengths) > 1:
        raise HeadError(400, "conflicting Content-Length values", line)
    value = lengths.pop()
    if _DIGITS.fullmatch(value) is None:
        raise HeadError(400, "malformed Content-Length", line)
    if len(value.lstrip("0")) > _MAX_LENGTH_DIGITS:
        raise HeadError(413, "Content-Length too large", line)
    head.content_length = int(value)


# Controls (C0, DEL, C1), the quote and the backslash, so a client can neither
# forge a log line nor make its text look like an escape the server wrote.
_LOG_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
_LOG_ESCAPES[ord('"')] = '\\"'
_LOG_ESCAPES[ord("\\")] = "\\\\"


def log_escape(text: str) -> str:
    """``text`` safe for one line of the access log."""
    return text.translate(_LOG_ESCAPES)
