"""A connection of the builtin server and the request body read from it.

A connection's buffer holds what was received and not yet consumed: the event
loop fills it with a request head (and a small body), a worker's
:class:`RequestBody` reads the rest of the body through it, and bytes of a
next request stay in it for the loop.
"""

from __future__ import annotations

import socket

from ._http11 import RequestHead

__all__ = ["DRAIN_LIMIT", "ClientDisconnected", "Connection", "RequestBody"]

# A body the app left unread is skipped (to keep the connection) up to this size.
DRAIN_LIMIT = 64 * 1024
_RECV = 64 * 1024
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class ClientDisconnected(ConnectionError):
    """The client ended the connection before sending the whole request body."""


class Connection:
    """A client connection; owned by the event loop or by one worker at a time."""

    __slots__ = ("address", "buffer", "deadline", "head", "port", "scanned", "sock", "state")

    def __init__(self, sock: socket.socket, address: str, port: int) -> None:
        self.sock = sock
        self.address = address
        self.port = port
        self.buffer = bytearray()  # received and not yet consumed
        self.deadline = 0.0
        self.head: RequestHead | None = None
        self.scanned = 0  # how much of the buffer was searched for the end of the head
        self.state = 0  # the event loop's bookkeeping

    def receive(self, size: int = _RECV) -> bool:
        """Append what the socket has (blocking, with its timeout); False at end of stream."""
        data = self.sock.recv(size)
        if not data:
            return False
        self.buffer += data
        return True


class RequestBody:
    """``wsgi.input``: the bytes of the body, first from what already arrived, then the socket.

    With a ``Content-Length`` it ends there; a chunked body is handed over as
    received (the app decodes it) and the connection is closed afterwards.
    """

    __slots__ = ("_conn", "_continue", "_left", "failure")

    def __init__(self, conn: Connection, length: int | None, expect_continue: bool) -> None:
        self._conn = conn
        self._left = length  # None: no length, read until the client stops
        self._continue = expect_continue
        self.failure: str | None = None  # why the body could not be read, once it failed

    def _more(self) -> bool:
        if self._continue:
            self._continue = False
            self._conn.sock.sendall(_CONTINUE)
        try:
            return self._conn.receive()
        except TimeoutError:
            raise self._fail("the client stopped sending the request body") from None

    def _fail(self, reason: str) -> ClientDisconnected:
        self.failure = reason
        return ClientDisconnected(reason)

    def _window(self, size: int | None) -> int:
        """How many bytes a read of ``size`` may return (-1: no bound)."""
        left = self._left
        if size is None or size < 0:
            return -1 if left is None else left
        return size if left is None else min(size, left)

    def _take(self, count: int) -> bytes:
        buffer = self._conn.buffer
        data = bytes(buffer[:count])
        del buffer[:count]
        if self._left is not None:
            self._left -= len(data)
        return data

    def read(self, size: int | None = -1) -> bytes:
        window = self._window(size)
        buffer = self._conn.buffer
        while window < 0 or len(buffer) < window:
            if not self._more():
                if self._left is not None:
                    raise self._fail("the client closed the connection before the end of the body")
                break
        return self._take(len(buffer) if window < 0 else window)

    def readline(self, size: int | None = -1) -> bytes:
        window = self._window(size)
        buffer = self._conn.buffer
        searched = 0
        while True:
            end = buffer.find(b"\n", searched, None if window < 0 else window)
            if end >= 0:
                return self._take(end + 1)
            if 0 <= window <= len(buffer):
                return self._take(window)
            searched = len(buffer)
            if not self._more():
                if self._left is not None:
                    raise self._fail("the client closed the connection before the end of the body")
                return self._take(len(buffer))

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines: list[bytes] = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> RequestBody:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def finish(self) -> bool:
        """Skip what the app left unread; whether the connection can carry another request."""
        left = self._left
        if left is None:
            return False
        if left == 0:
            return True
        if left > DRAIN_LIMIT or (self._continue and not self._conn.buffer):
            return False  # too much to wait for, or a client still waiting for "100 Continue"
        self._continue = False
        try:
            self.read(left)
        except OSError:
            return False
        return True
