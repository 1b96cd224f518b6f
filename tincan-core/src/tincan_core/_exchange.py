"""One request and its response on a connection of the builtin server (a worker's job).

The event loop (``_eventloop``) has already received and checked the head (and a
small body); this module builds the WSGI environ, calls the app and writes the
response with HTTP/1.1 framing: the app's ``Content-Length``, a length worked
out from a list body, chunked encoding, or (HTTP/1.0) the end of the connection.
Whether the connection can carry another request is its answer.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import re
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import unquote
from wsgiref.util import FileWrapper

from ._connection import Connection, RequestBody
from ._http11 import RequestHead, log_escape

__all__ = ["Exchange", "base_environ", "http_date"]

_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\r\n\x00]")
_STATUS = re.compile(r"[1-9][0-9]{2} [^\r\n\x00]*")
# The server frames the message itself; an app's own framing would contradict it.
_HOP_BY_HOP = frozenset({"keep-alive", "transfer-encoding", "te", "trailer", "upgrade"})
_WATCHED = frozenset({"content-length", "connection", "server", "date"}) | _HOP_BY_HOP
_ERROR_BODY = b"A server error occurred; the server log says more.\n"

# How the body of a response is delimited.
_NONE, _LENGTH, _CHUNKED, _UNTIL_CLOSE = range(4)

_date: tuple[int, str] = (0, "")


def http_date() -> str:
    """The ``Date`` value, formatted once a second."""
    global _date
    now = int(time.time())
    cached = _date
    if cached[0] != now:
        cached = _date = (now, email.utils.formatdate(now, usegmt=True))
    return cached[1]


class _Server(Protocol):
    application: Any
    access_logger: logging.Logger | None
    stopping: bool

    @property
    def error_logger(self) -> logging.Logger: ...

    def environ_template(self) -> dict[str, Any]: ...


def base_environ(server_name: str, port: int) -> dict[str, Any]:
    """The environ keys every request of a server shares."""
    return {
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(port),
        "SCRIPT_NAME": "",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "tincan",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": FileWrapper,
    }


class _ClientGone(Exception):
    """Sending the response failed: the client left or stopped reading."""


class Exchange:
    """Serve the request ``conn.head`` with ``server.application``."""

    __slots__ = (
        "body",
        "close",
        "code",
        "conn",
        "framing",
        "head",
        "headers",
        "headers_sent",
        "left",
        "sent",
        "server",
        "status",
    )

    def __init__(self, conn: Connection, head: RequestHead, server: _Server) -> None:
        self.conn = conn
        self.head = head
        self.server = server
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.headers_sent = False
        self.framing = _NONE
        # After a chunked body the app decoded itself, where the next request starts is unknown.
        self.close = not head.keep_alive or head.chunked or server.stopping
        self.code = 0
        self.left = -1  # body bytes the declared Content-Length still allows
        self.sent = 0  # body bytes sent
        length = None if head.chunked else (head.content_length or 0)
        self.body = RequestBody(conn, length, head.expect_continue and length != 0)

    def environ(self) -> dict[str, Any]:
        head = self.head
        env = self.server.environ_template()
        path = head.path
        env["REQUEST_METHOD"] = head.method
        env["PATH_INFO"] = unquote(path, "latin-1") if "%" in path else path
        env["QUERY_STRING"] = head.query
        env["SERVER_PROTOCOL"] = head.version
        env["REMOTE_ADDR"] = self.conn.address
        env["REMOTE_PORT"] = str(self.conn.port)
        for name, value in head.fields:
            if "_" in name:
                continue  # X_Forwarded_For would pass for X-Forwarded-For: dropped
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                env[key] = value
                continue
            if key == "CONTENT_LENGTH":
                continue
            key = "HTTP_" + key
            if key in env:
                env[key] += ("; " if key == "HTTP_COOKIE" else ",") + value
            else:
                env[key] = value
        if head.content_length is not None:
            env["CONTENT_LENGTH"] = str(head.content_length)
        if head.host is not None:
            env["HTTP_HOST"] = head.host
        env["wsgi.input"] = self.body
        env["wsgi.errors"] = sys.stderr
        return env

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.headers_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response was called twice without exc_info")
        if type(status) is not str or _STATUS.fullmatch(status) is None:
            raise ValueError(f"invalid WSGI status {status!r}")
        self.status = status
        self.headers = headers
        return self.write

    def run(self) -> bool:
        """Serve the request; whether the connection can carry another one."""
        server = self.server
        try:
            result = server.application(self.environ(), self.start_response)
        except Exception:
            self._failed()
            self._log()
            return False
        try:
            if self.body.failure is not None:
                # Whatever the app made of it (likely a 500), the fault is the client's.
                self._incomplete_body()
            elif type(result) is list and self.status is not None:
                self._send_whole(result)
            else:
                for chunk in result:
                    if chunk:
                        self.write(chunk)
                self._finish()
        except _ClientGone:
            server.error_logger.debug("client %s left during the response", self.conn.address)
            self.close = True
        except Exception:
            self._failed()
            self.close = True
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    self._failed()
                    self.close = True
        self._log()
        return not self.close and self.body.finish()

    # -- the response ------------------------------------------------------------------
    def _head(self, total: int | None) -> bytes:
        """The status line and fields; decides the framing. ``total``: the whole body's size."""
        status = self.status
        if status is None:
            raise AssertionError("the app sent a body before calling start_response")
        code = self.code = int(status[:3])
        head = self.head
        no_body = code < 200 or code == 204 or code == 304 or head.method == "HEAD"
        lines = [f"HTTP/1.1 {status}\r\n"]
        length = None
        seen_date = seen_server = False
        for name, value in self.headers:
            if (
                type(name) is not str
                or type(value) is not str
                or _NAME.fullmatch(name) is None
                or _BAD_VALUE.search(value) is not None
            ):
                raise ValueError(f"invalid response header {name!r}: {value!r}")
            lower = name.lower()
            if lower in _WATCHED:
                if lower == "content-length":
                    if code < 200 or code == 204:
                        continue  # never on 1xx and 204 (RFC 9110 §8.6)
                    if not (value.isascii() and value.isdigit()):
                        raise ValueError(f"invalid Content-Length {value!r}")
                    length = int(value)
                elif lower == "connection":
                    self.close = self.close or "close" in value.lower()
                    continue
                elif lower in _HOP_BY_HOP:
                    raise ValueError(f"the app may not set the hop-by-hop header {name}")
                elif lower == "date":
                    seen_date = True
                else:
                    seen_server = True
            lines.append(f"{name}: {value}\r\n")
        if not seen_date:
            lines.append(f"Date: {http_date()}\r\n")
        if not seen_server:
            lines.append("Server: tincan\r\n")
        if no_body:
            self.framing = _NONE
            if length is None and total and head.method == "HEAD" and code >= 200:
                lines.append(f"Content-Length: {total}\r\n")
        elif length is not None:
            self.framing, self.left = _LENGTH, length
        elif total is not None:
            self.framing, self.left = _LENGTH, total
            lines.append(f"Content-Length: {total}\r\n")
        elif head.minor == 1:
            self.framing = _CHUNKED
            lines.append("Transfer-Encoding: chunked\r\n")
        else:
            self.framing = _UNTIL_CLOSE
            self.close = True
        if self.close:
            lines.append("Connection: close\r\n")
        elif head.minor == 0:
            lines.append("Connection: keep-alive\r\n")
        lines.append("\r\n")
        self.headers_sent = True
        return "".join(lines).encode("latin-1")

    def _framed(self, data: bytes) -> bytes:
        framing = self.framing
        if framing == _LENGTH:
            if len(data) > self.left:
                # More than the app announced would be read as the next response.
                data = data[: self.left]
                self.close = True
            self.left -= len(data)
        elif framing == _CHUNKED:
            self.sent += len(data)
            return b"%x\r\n%b\r\n" % (len(data), data)
        elif framing == _NONE:
            return b""
        self.sent += len(data)
        return data

    def _sendall(self, data: bytes) -> None:
        if data:
            try:
                self.conn.sock.sendall(data)
            except OSError as exc:
                raise _ClientGone from exc

    def write(self, data: bytes) -> None:
        """Send part of the body (also the legacy ``write()`` that start_response returns)."""
        if type(data) is not bytes:
            raise TypeError(f"a WSGI body is bytes, not {type(data).__name__}")
        if self.headers_sent:
            self._sendall(self._framed(data))
        else:
            head = self._head(None)
            self._sendall(head + self._framed(data))

    def _send_whole(self, parts: list[Any]) -> None:
        for part in parts:
            if type(part) is not bytes:
                raise TypeError(f"a WSGI body is bytes, not {type(part).__name__}")
        if self.headers_sent:
            for part in parts:
                self.write(part)
            self._finish()
            return
        body = parts[0] if len(parts) == 1 else b"".join(parts)
        head = self._head(len(body))
        self._sendall(head + self._framed(body))
        self._finish()

    def _finish(self) -> None:
        if not self.headers_sent:
            self._sendall(self._head(0))
        if self.framing == _CHUNKED:
            self._sendall(b"0\r\n\r\n")
        elif self.framing == _LENGTH and self.left > 0:
            self.server.error_logger.warning(
                "response to %s ended %d byte(s) short of its Content-Length",
                log_escape(self.head.request_line),
                self.left,
            )
            self.close = True

    def _failed(self) -> None:
        """An exception in the app: a 500 if nothing was sent yet, else cut the response."""
        if self.body.failure is not None:
            self._incomplete_body()  # the app only passed on what reading the body raised
            return
        self.server.error_logger.error(
            "error in the WSGI application serving %s",
            log_escape(self.head.request_line),
            exc_info=True,
        )
        self._plain("500 Internal Server Error", _ERROR_BODY)

    def _incomplete_body(self) -> None:
        """The client stopped sending the body or left: its fault, logged without a traceback."""
        self.server.error_logger.info(
            "%s: %s", log_escape(self.head.request_line), self.body.failure
        )
        self._plain("408 Request Timeout", f"408 Request Timeout: {self.body.failure}\n".encode())

    def _plain(self, status: str, body: bytes) -> None:
        """Answer ``status`` with a text ``body`` if nothing was sent yet; close either way."""
        self.close = True
        if self.headers_sent:
            return
        self.code = int(status[:3])
        self.headers_sent = True
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nDate: {http_date()}\r\n"
            "Server: tincan\r\nConnection: close\r\n\r\n"
        ).encode("ascii")
        if self.head.method == "HEAD":
            body = b""
        self.sent = len(body)
        with contextlib.suppress(_ClientGone):
            self._sendall(head + body)

    def _log(self) -> None:
        logger = self.server.access_logger
        if logger is not None:
            logger.info(
                '%s - "%s" %s %s',
                self.conn.address,
                log_escape(self.head.request_line),
                self.code or "-",
                self.sent,
            )
