"""The builtin server on 127.0.0.1: HTTP/1.1 framing, persistence, bad input, logging."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import tincan_core

pytestmark = pytest.mark.slow

Environ = dict[str, Any]


class LogList(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.DEBUG) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]


def private_logger(name: str) -> tuple[logging.Logger, LogList]:
    logger = logging.getLogger(f"tincan-core-tests.server.{name}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.handlers.clear()
    log = LogList()
    logger.addHandler(log)
    return logger, log


class Reply:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return found[0] if found else None


class Wire:
    """A raw client connection that reads responses one at a time, losing no byte."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> Wire:
        self.sock.sendall(data)
        return self

    def reply(self, *, head_request: bool = False) -> Reply:
        status_line = self.file.readline()
        assert status_line.startswith(b"HTTP/1.1 "), status_line
        status = int(status_line.split()[1])
        headers = []
        while (line := self.file.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name, value.strip()))
        reply = Reply(status, headers, b"")
        if head_request or status in (204, 304) or status < 200:
            return reply
        if reply.header("Transfer-Encoding") == "chunked":
            body = b""
            while (size := int(self.file.readline(), 16)) > 0:
                body += self.file.read(size)
                assert self.file.read(2) == b"\r\n"
            assert self.file.readline() == b"\r\n"
            reply.body = body
        elif (length := reply.header("Content-Length")) is not None:
            reply.body = self.file.read(int(length))
        else:
            reply.body = self.file.read()
        return reply

    def closed_by_server(self) -> bool:
        """Whether the server ends the connection (reads what is left, up to EOF)."""
        try:
            while self.file.read(65536):
                pass
        except ConnectionResetError:
            return True  # closed, if not gracefully (a connection dropped at the limit)
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def get(path: str = "/", extra: str = "", version: str = "1.1") -> bytes:
    return f"GET {path} HTTP/{version}\r\nHost: test\r\n{extra}\r\n".encode("latin-1")


class Served:
    def __init__(self, server: tincan_core.ThreadedWSGIServer, log: LogList) -> None:
        self.server = server
        self.port = server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.wires: list[Wire] = []

    def access_log(self, count: int) -> list[str]:
        """The first ``count`` access-log lines; a worker logs just after it has sent."""
        for _ in range(1000):
            lines = self.log.messages(logging.INFO)
            if len(lines) >= count:
                return lines[:count]
            time.sleep(0.01)
        raise AssertionError(f"fewer than {count} access-log lines: {lines}")

    def wire(self) -> Wire:
        wire = Wire(self.port)
        self.wires.append(wire)
        return wire


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    """``serve(app, **settings)``: the app on the builtin server, access log captured."""
    started: list[tuple[Served, threading.Thread]] = []

    def start(app: Any, **settings: Any) -> Served:
        logger, log = private_logger(str(len(started)))
        server = tincan_core.make_server(app, "127.0.0.1", 0, access_logger=logger, **settings)
        served = Served(server, log)
        started.append((served, tincan_core.serve_in_thread(server)))
        return served

    yield start
    for served, thread in started:
        for wire in served.wires:
            wire.close()
        served.server.shutdown()
        served.server.server_close()
        thread.join(timeout=10)


def echo(environ: Environ, start_response: Any) -> list[bytes]:
    """Answers with the path, the body it read and a few request headers."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    text = "|".join(
        [
            environ["PATH_INFO"],
            environ["QUERY_STRING"],
            environ["SERVER_PROTOCOL"],
            environ.get("HTTP_X_TEST", "-"),
            environ.get("HTTP_X_FORWARDED_FOR", "-"),
        ]
    )
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [text.encode("latin-1") + b"|" + body]


def streaming(environ: Environ, start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"one,"
    yield b""
    yield b"two"


def status_app(status: str, headers: list[tuple[str, str]], body: list[bytes]) -> Any:
    def app(environ: Environ, start_response: Any) -> list[bytes]:
        start_response(status, headers)
        return body

    return app


# -- persistence and framing --------------------------------------------------------------
def test_http11_connections_persist_across_requests(serve: Callable[..., Served]) -> None:
    served = serve(echo)
    wire = served.wire()
    for number in range(3):
        reply = wire.send(get(f"/n{number}?q={number}")).reply()
        assert reply.status == 200
        assert reply.body == f"/n{number}|q={number}|HTTP/1.1|-|-|".encode()
        assert reply.header("Connection") is None
    reply = wire.send(get("/last", "Connection: close\r\n")).reply()
    assert reply.header("Connection") == "close"
    assert wire.closed_by_server()


def test_pipelined_requests_are_answered_in_order(serve: Callable[..., Served]) -> None:
    wire = serve(echo).wire()
    wire.send(
        get("/a")
        + get("/b")
        + b"POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nxyz"
        + get("/d")
    )
    bodies = [wire.reply().body for _ in range(4)]
    assert bodies == [
        b"/a||HTTP/1.1|-|-|",
        b"/b||HTTP/1.1|-|-|",
        b"/c||HTTP/1.1|-|-|xyz",
        b"/d||HTTP/1.1|-|-|",
    ]


def test_httpx_reuses_one_connection(serve: Callable[..., Served]) -> None:
    served = serve(echo)
    ports = set()
    with httpx.Client(base_url=served.url) as client:
        for _ in range(5):
            response = client.get("/", extensions={})
            assert response.status_code == 200
            stream = response.extensions["network_stream"]
            ports.add(stream.get_extra_info("socket").getsockname()[1])
    assert len(ports) == 1


def test_http10_closes_unless_asked_to_keep_alive(serve: Callable[..., Served]) -> None:
    served = serve(echo)
    wire = served.wire()
    reply = wire.send(get("/", version="1.0")).reply()
    assert reply.header("Connection") == "close"
    assert wire.closed_by_server()
    wire = served.wire()
    for _ in range(2):
        reply = wire.send(get("/", "Connection: keep-alive\r\n", "1.0")).reply()
        assert reply.status == 200 and reply.header("Connection") == "keep-alive"


def test_a_body_without_length_is_chunked_for_11_and_ends_the_connection_for_10(
    serve: Callable[..., Served],
) -> None:
    served = serve(streaming)
    wire = served.wire()
    reply = wire.send(get()).reply()
    assert reply.header("Transfer-Encoding") == "chunked" and reply.body == b"one,two"
    assert wire.send(get()).reply().body == b"one,two"  # still open
    wire = served.wire()
    reply = wire.send(get(version="1.0")).reply()
    assert reply.header("Transfer-Encoding") is None and reply.header("Content-Length") is None
    assert reply.body == b"one,two"
    assert served.access_log(3)[-1].endswith('"GET / HTTP/1.0" 200 7')


@pytest.mark.parametrize(
    ("status", "headers"),
    [("304 Not Modified", [("ETag", '"x"')]), ("204 No Content", [("Content-Length", "0")])],
)
def test_no_content_length_on_304_and_204(
    serve: Callable[..., Served], status: str, headers: list[tuple[str, str]]
) -> None:
    wire = serve(status_app(status, headers, [b""])).wire()
    for _ in range(2):  # and the connection goes on
        reply = wire.send(get()).reply()
        assert reply.status == int(status[:3])
        assert reply.header("Content-Length") is None
        assert reply.header("Transfer-Encoding") is None


def test_head_keeps_the_apps_length_and_sends_no_body(serve: Callable[..., Served]) -> None:
    app = status_app("200 OK", [("Content-Length", "5")], [])
    wire = serve(app).wire()
    wire.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n" + get())
    assert wire.reply(head_request=True).header("Content-Length") == "5"
    # The next response starts right after the head: no body was sent for HEAD.
    assert wire.reply().status == 200


def test_static_304_of_a_webapp_has_no_content_length(
    serve: Callable[..., Served], launch_webapp: Callable[..., Any]
) -> None:
    site = launch_webapp({"index.pspx": "<p>hi</p>\n", "style.css": "p {}\n"}, static=True)
    assert site.errors == 0
    wire = serve(site.app).wire()
    first = wire.send(get("/style.css")).reply()
    assert first.status == 200 and first.body == b"p {}\n"
    etag = first.header("ETag")
    assert etag
    again = wire.send(get("/style.css", f"If-None-Match: {etag}\r\n")).reply()
    assert again.status == 304
    assert again.header("Content-Length") is None
    assert wire.send(get("/")).reply().body == b"<p>hi</p>\n"


def test_a_response_longer_than_its_length_is_cut_and_the_connection_closed(
    serve: Callable[..., Served],
) -> None:
    wire = serve(status_app("200 OK", [("Content-Length", "3")], [b"abcdef"])).wire()
    reply = wire.send(get()).reply()
    assert reply.body == b"abc"
    assert wire.closed_by_server()


# -- request bodies -----------------------------------------------------------------------
def test_expect_100_continue(serve: Callable[..., Served]) -> None:
    wire = serve(echo).wire()
    wire.send(b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    assert wire.file.readline() == b"HTTP/1.1 100 Continue\r\n"
    assert wire.file.readline() == b"\r\n"
    assert wire.send(b"hello").reply().body == b"/up||HTTP/1.1|-|-|hello"


def test_a_chunked_body_reaches_the_app_and_the_connection_closes(
    serve: Callable[..., Served],
) -> None:
    import bottle

    app = bottle.Bottle()
    app.post("/", callback=lambda: bottle.request.body.read())
    wire = serve(app).wire()
    wire.send(
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    reply = wire.reply()
    assert (reply.status, reply.body) == (200, b"hello world")
    assert reply.header("Connection") == "close"


def test_an_unread_body_is_skipped_for_the_next_request(serve: Callable[..., Served]) -> None:
    ignores_body = status_app("200 OK", [("Content-Type", "text/plain")], [b"ok"])
    wire = serve(ignores_body).wire()
    wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789" + get())
    assert [wire.reply().body, wire.reply().body] == [b"ok", b"ok"]


@pytest.mark.parametrize("leave", [False, True], ids=["stalls", "closes"])
def test_a_body_that_stops_coming_is_a_408_without_traceback(
    serve: Callable[..., Served], leave: bool
) -> None:
    served = serve(echo, io_timeout=0.3)
    wire = served.wire()
    wire.send(b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 200000\r\n\r\n" + b"x" * 1000)
    if leave:
        wire.sock.shutdown(socket.SHUT_WR)
    reply = wire.reply()
    assert reply.status == 408
    assert served.wire().send(get()).reply().status == 200
    why = "closed the connection before the end" if leave else "stopped sending"
    assert why.encode() in reply.body
    lines = served.access_log(3)
    assert f'127.0.0.1 - "POST /up HTTP/1.1" 408 {len(reply.body)}' in lines
    assert any(line.startswith("POST /up HTTP/1.1: the client " + why) for line in lines)
    assert not [r for r in served.log.records if r.exc_info]


def test_headers_with_underscores_are_dropped(serve: Callable[..., Served]) -> None:
    wire = serve(echo).wire()
    reply = wire.send(get("/", "X_Forwarded_For: 6.6.6.6\r\nX-Test: a\r\nX-Test: b\r\n")).reply()
    assert reply.body == b"/||HTTP/1.1|a,b|-|"


# -- bad input: a 4xx, no traceback, the server goes on -------------------------------------
@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ("Content-Length: abc\r\n", 400),
        ("Content-Length: -1\r\n", 400),
        ("Content-Length: 99999999999999999999\r\n", 413),
        ("Content-Length: 1\r\nTransfer-Encoding: chunked\r\n", 400),
    ],
)
def test_a_bad_content_length_is_a_4xx_without_traceback(
    serve: Callable[..., Served], extra: str, status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    served = serve(echo)
    wire = served.wire()
    reply = wire.send(get("/x", extra).replace(b"GET", b"POST")).reply()
    assert reply.status == status
    assert b"Content-Length" in reply.body or b"Transfer-Encoding" in reply.body
    assert wire.closed_by_server()
    assert served.wire().send(get()).reply().status == 200
    assert not [r for r in served.log.records if r.exc_info]
    assert served.access_log(1)[0] == f'127.0.0.1 - "POST /x HTTP/1.1" {status} -'
    assert "Traceback" not in capsys.readouterr().err


def test_a_head_that_never_ends_is_refused_at_its_limit(serve: Callable[..., Served]) -> None:
    served = serve(echo)
    wire = served.wire()
    wire.send(b"GET / HTTP/1.1\r\nHost: t\r\n")
    for _ in range(40):  # 40 KB of fields, more than the 32 KiB a head may have
        wire.send(b"X-Filler: " + b"y" * 1000 + b"\r\n")
    reply = wire.reply()
    assert reply.status == 431
    assert b"over 32768 bytes" in reply.body
    assert wire.closed_by_server()
    assert served.wire().send(get()).reply().status == 200


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (get("/" + "a" * 9000), 414),
        (get("/", "X: " + "y" * 9000 + "\r\n"), 431),
        (get("/", "".join(f"H{i}: v\r\n" for i in range(101))), 431),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: t\r\n folded\r\n\r\n", 400),
    ],
    ids=["long-target", "long-field", "many-fields", "no-host", "http2", "obs-fold"],
)
def test_malformed_heads_are_4xx(
    serve: Callable[..., Served], request_bytes: bytes, status: int
) -> None:
    served = serve(echo)
    assert served.wire().send(request_bytes).reply().status == status
    assert served.wire().send(get()).reply().status == 200


def test_control_characters_are_escaped_in_the_access_log(serve: Callable[..., Served]) -> None:
    served = serve(echo)
    served.wire().send(b'GET /\x1b[31mred"\x85 HTTP/1.1\r\nHost: t\r\n\r\n').reply()
    served.wire().send(b"GET /\x1b]0;title\x07 HTTP/1.1\r\nHost: t\r\n\r\n").reply()
    lines = served.access_log(2)
    # Controls are not allowed in a request target (a 400), but the log shows what came.
    assert lines == [
        '127.0.0.1 - "GET /\\x1b[31mred\\"\\x85 HTTP/1.1" 400 -',
        '127.0.0.1 - "GET /\\x1b]0;title\\x07 HTTP/1.1" 400 -',
    ]
    # C1 controls and quotes in a target that is served.
    assert served.wire().send(get('/\x85"quoted"\\')).reply().status == 200
    assert served.access_log(3)[-1].startswith(
        '127.0.0.1 - "GET /\\x85\\"quoted\\"\\\\ HTTP/1.1" 200 '
    )


# -- the app misbehaving ----------------------------------------------------------------------
def test_an_exception_in_the_app_is_a_logged_500(serve: Callable[..., Served]) -> None:
    def broken(environ: Environ, start_response: Any) -> list[bytes]:
        raise RuntimeError("boom")

    served = serve(broken)
    wire = served.wire()
    reply = wire.send(get()).reply()
    assert reply.status == 500 and b"boom" not in reply.body
    assert wire.closed_by_server()
    errors = [r for r in served.log.records if r.levelno >= logging.ERROR]
    assert errors and errors[0].exc_info is not None
    assert any(
        line.startswith('127.0.0.1 - "GET / HTTP/1.1" 500 ') for line in served.access_log(2)
    )


@pytest.mark.parametrize(
    "headers",
    [[("X-Evil", "a\r\nSet-Cookie: x=1")], [("Bad Name", "v")], [("Transfer-Encoding", "gzip")]],
    ids=["crlf-in-value", "space-in-name", "hop-by-hop"],
)
def test_invalid_response_headers_are_a_500_never_sent(
    serve: Callable[..., Served], headers: list[tuple[str, str]]
) -> None:
    reply = serve(status_app("200 OK", headers, [b"x"])).wire().send(get()).reply()
    assert reply.status == 500
    assert reply.header("Set-Cookie") is None and reply.header("X-Evil") is None


# -- slow and idle clients ------------------------------------------------------------------
def test_slow_heads_and_bodies_do_not_take_the_only_worker(serve: Callable[..., Served]) -> None:
    served = serve(echo, threads=1)
    stuck = [served.wire().send(b"GET / HTTP/1.1\r\nHost: t\r\n") for _ in range(20)]
    stuck += [
        served.wire().send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
        for _ in range(20)
    ]
    assert served.wire().send(get("/fine")).reply().body == b"/fine||HTTP/1.1|-|-|"
    assert len(stuck) == 40


def test_unfinished_requests_get_408_and_idle_connections_are_closed(
    serve: Callable[..., Served],
) -> None:
    served = serve(echo, header_timeout=0.3, keep_alive_timeout=0.3)
    partial = served.wire().send(b"GET / HTTP/1.1\r\nHost: t\r\n")
    silent = served.wire()
    idle = served.wire()
    assert idle.send(get()).reply().status == 200
    assert partial.reply().status == 408
    assert partial.closed_by_server()
    assert silent.closed_by_server()  # never sent a byte: closed without an answer
    assert idle.closed_by_server()
    assert '127.0.0.1 - "-" 408 -' in served.access_log(2)


def test_at_the_connection_limit_the_longest_waiting_connection_goes(
    serve: Callable[..., Served],
) -> None:
    served = serve(echo, max_connections=5)
    waiting = [served.wire().send(b"GET / HTTP/1.1\r\n") for _ in range(5)]
    assert served.wire().send(get("/new")).reply().status == 200
    assert waiting[0].closed_by_server()


def test_shutdown_returns_with_idle_connections_open() -> None:
    server = tincan_core.make_server(echo, "127.0.0.1", 0)
    thread = tincan_core.serve_in_thread(server)
    wire = Wire(server.server_port)
    assert wire.send(get()).reply().status == 200
    server.shutdown()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert wire.closed_by_server()
    server.server_close()
    wire.close()


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(TypeError, match="threadz"):
        tincan_core.make_server(echo, "127.0.0.1", 0, threadz=3)
