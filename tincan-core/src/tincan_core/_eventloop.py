"""The builtin server's event loop: accept, receive request heads, keep time.

It runs in the thread that calls ``serve_forever``. A connection is watched
here while it sends its head (and a small body), while it idles between
requests and while it is closed gracefully; only a complete request is handed
to a worker (``submit``), which hands the connection back when it is done.
Every state has a fixed timeout, so each state's table is in deadline order and
the next deadline is at its front.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import selectors
import socket
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from time import monotonic
from typing import Protocol

from ._connection import Connection
from ._exchange import http_date
from ._http11 import (
    HeadError,
    HeadLimits,
    find_head_end,
    incomplete_head_error,
    log_escape,
    parse_head,
    skip_blank_lines,
)

__all__ = ["EventLoop", "close_quietly"]

# Connection states; a busy connection is a worker's.
_READING, _IDLE, _BUSY, _LINGERING = range(4)
_RECV = 64 * 1024
_ACCEPT_BATCH = 64  # accepts per wake-up, so a flood of connects cannot starve the rest
_ACCEPT_PAUSE = 0.25  # seconds without accepting once out of file descriptors
_WARN_EVERY = 10.0
_HEADROOM = 8  # descriptors kept free below where they ran out
_LIMIT_MEMORY = 60.0  # seconds a lowered connection limit lasts
_LINGER_BYTES = 1024 * 1024
# accept() failures that concern one connection only; any other (EMFILE, ENFILE,
# ENOBUFS, ...) pauses accepting for a moment instead of spinning or stopping.
_TRANSIENT = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.EPERM, errno.EINTR})
_BUSY_BODY = b"503 Service Unavailable: every connection is being served\n"
_UNAVAILABLE = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%b"
    % (len(_BUSY_BODY), _BUSY_BODY)
)


class _Host(Protocol):
    header_timeout: float
    keep_alive_timeout: float
    linger_timeout: float
    buffered_body: int
    limits: HeadLimits
    access_logger: logging.Logger | None

    @property
    def error_logger(self) -> logging.Logger: ...

    def connection_limit(self) -> int: ...


def close_quietly(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()


class EventLoop:
    """The loop of one server; ``submit`` gives a worker a complete request."""

    def __init__(self, host: _Host, submit: Callable[[Connection], None]) -> None:
        self._host = host
        self._listener: socket.socket  # set by run()
        self._submit = submit
        self._lock = threading.Lock()
        self._alive = False
        self._returned: deque[tuple[Connection, bool]] = deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._reading: OrderedDict[Connection, None] = OrderedDict()
        self._idle: OrderedDict[Connection, None] = OrderedDict()
        self._lingering: OrderedDict[Connection, None] = OrderedDict()
        self._open = 0

    def run(self, listener: socket.socket, poll_interval: float, stop: Callable[[], bool]) -> None:
        """Accept on ``listener`` and serve until ``stop()`` is true (checked on every wake-up
        and at least every ``poll_interval`` seconds)."""
        self._listener = listener
        self._selector = selectors.DefaultSelector()
        self._reading = OrderedDict()
        self._idle = OrderedDict()
        self._lingering = OrderedDict()
        self._open = 0
        self._limit = self._host.connection_limit()
        self._accept_resume = 0.0
        self._limit_restore = 0.0
        self._next_warning = 0.0
        self._listener.setblocking(False)
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._selector.register(self._wake_r, selectors.EVENT_READ, self._wake_r)
        with self._lock:
            self._alive = True
        try:
            while not stop():
                self._turn(poll_interval)
        finally:
            with self._lock:
                self._alive = False
            self._close_all()

    def wake(self) -> None:
        """Make a waiting ``run`` look at its stop condition and hand-backs now."""
        # Once per request: a plain try is cheaper than contextlib.suppress.
        try:  # noqa: SIM105
            self._wake_w.send(b"\0")
        except OSError:
            pass  # full (a wake-up is pending anyway) or closed

    def hand_back(self, conn: Connection, keep: bool) -> None:
        """From a worker: ``conn`` is done with (``keep``: it may carry another request)."""
        with self._lock:
            alive = self._alive
            if alive:
                self._returned.append((conn, keep))
        if alive:
            self.wake()
        else:
            close_quietly(conn.sock)

    def close(self) -> None:
        self._wake_r.close()
        self._wake_w.close()

    def _turn(self, poll_interval: float) -> None:
        now = monotonic()
        wait = poll_interval
        for table in (self._reading, self._idle, self._lingering):
            if table:
                wait = min(wait, next(iter(table)).deadline - now)
        if self._accept_resume:
            wait = min(wait, self._accept_resume - now)
        events = self._selector.select(max(wait, 0.0))
        now = monotonic()
        for key, _ in events:
            data = key.data
            if data is None:
                self._accept(now)
            elif data is self._wake_r:
                self._take_back(now)
            else:
                self._readable(data, now)
        self._expire(now)

    # -- accepting ---------------------------------------------------------------------
    def _accept(self, now: float) -> None:
        for _ in range(_ACCEPT_BATCH):
            try:
                sock, address = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in _TRANSIENT:
                    continue
                self._pause_accepting(now, exc)
                return
            if self._open >= self._limit and not self._make_room():
                # Every connection is being served: this one is told to come back.
                with contextlib.suppress(OSError):
                    sock.send(_UNAVAILABLE)
                close_quietly(sock)
                continue
            sock.setblocking(False)
            if sock.family != socket.AF_UNIX:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(sock, str(address[0]), int(address[1]))
            self._open += 1
            self._enter(conn, _READING, now + self._host.header_timeout)
            self._selector.register(sock, selectors.EVENT_READ, conn)

    def _pause_accepting(self, now: float, exc: OSError) -> None:
        """Out of descriptors (or another accept failure): wait a moment, then try again.

        The listening socket stays readable while connections wait in the
        backlog, so accepting again at once would spin. When the descriptors
        ran out at N connections, N minus a few becomes the connection limit for
        a while: the oldest connections over it are closed, and from then on a
        newcomer replaces the longest-waiting connection instead of waiting here.
        With few connections open the app holds the descriptors, and closing
        connections would not help: the server waits.
        """
        if not self._accept_resume:
            self._selector.unregister(self._listener)
        self._accept_resume = now + _ACCEPT_PAUSE
        lowered = ""
        if exc.errno in (errno.EMFILE, errno.ENFILE) and self._open > 2 * _HEADROOM:
            self._limit = min(self._limit, self._open - _HEADROOM)
            self._limit_restore = now + _LIMIT_MEMORY
            while self._open > self._limit and self._make_room():
                pass
            lowered = f"; at most {self._limit} connections for now"
        if now >= self._next_warning:
            self._next_warning = now + _WARN_EVERY
            self._host.error_logger.warning(
                "cannot accept connections (%s) with %d open%s",
                exc.strerror or exc,
                self._open,
                lowered,
            )

    def _make_room(self) -> bool:
        """Close the connection that matters least: idle first, then the slowest request."""
        for table in (self._lingering, self._idle, self._reading):
            if table:
                self._close(next(iter(table)))
                return True
        return False

    # -- receiving heads ---------------------------------------------------------------
    def _table(self, state: int) -> OrderedDict[Connection, None] | None:
        if state == _READING:
            return self._reading
        if state == _IDLE:
            return self._idle
        if state == _LINGERING:
            return self._lingering
        return None

    def _enter(self, conn: Connection, state: int, deadline: float) -> None:
        """Put ``conn`` at the end of its state's table: each is in deadline order."""
        conn.deadline = deadline
        conn.state = state
        table = self._table(state)
        if table is not None:
            table[conn] = None

    def _leave(self, conn: Connection) -> int:
        state = conn.state
        table = self._table(state)
        if table is not None:
            table.pop(conn, None)
        conn.state = _BUSY
        return state

    def _readable(self, conn: Connection, now: float) -> None:
        try:
            data = conn.sock.recv(_RECV)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn)
            return
        state = conn.state
        if state == _LINGERING:
            conn.scanned += len(data)
            if conn.scanned > _LINGER_BYTES:
                self._close(conn)
            return
        if state == _IDLE:
            self._leave(conn)
            self._enter(conn, _READING, now + self._host.header_timeout)
        conn.buffer += data
        self._progress(conn)

    def _progress(self, conn: Connection) -> None:
        head = conn.head
        buffer = conn.buffer
        if head is None:
            if skip_blank_lines(buffer):
                conn.scanned = 0
            end = find_head_end(buffer, conn.scanned)
            if end < 0:
                error = incomplete_head_error(buffer, self._host.limits)
                if error is not None:
                    self._refuse(conn, error)
                else:
                    conn.scanned = len(buffer)
                return
            try:
                head = parse_head(buffer[:end], self._host.limits)
            except HeadError as error:
                self._refuse(conn, error)
                return
            del buffer[:end]
            conn.scanned = 0
            conn.head = head
        need = head.content_length
        if (
            need
            and need <= self._host.buffered_body
            and not head.expect_continue
            and len(buffer) < need
        ):
            return  # a small body: it arrives here, not in a worker
        self._selector.unregister(conn.sock)
        self._leave(conn)
        self._submit(conn)

    def _refuse(self, conn: Connection, error: HeadError) -> None:
        """Answer a head that cannot be served, then close (what follows it is unknowable)."""
        status = f"{error.status} {error.reason}"
        body = f"{status}: {error.detail}\n".encode("ascii")
        response = (
            f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nDate: {http_date()}\r\nServer: tincan\r\n"
            "Connection: close\r\n\r\n"
        ).encode("ascii") + body
        logger = self._host.access_logger
        if logger is not None:
            request_line = error.request_line or (conn.head.request_line if conn.head else "")
            logger.info(
                '%s - "%s" %s -', conn.address, log_escape(request_line) or "-", error.status
            )
        with contextlib.suppress(OSError):
            conn.sock.send(response)  # small enough for any socket buffer
        self._linger(conn, monotonic(), registered=True)

    def _linger(self, conn: Connection, now: float, *, registered: bool) -> None:
        """Close gracefully: stop sending, read what the client still sends, then close.

        Closing at once while request bytes are unread makes the kernel reset the
        connection, and a client may lose the response it has not read yet.
        """
        self._leave(conn)
        conn.buffer = bytearray()
        conn.head = None
        conn.scanned = 0
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            if registered:
                self._selector.unregister(conn.sock)
            self._open -= 1
            close_quietly(conn.sock)
            return
        self._enter(conn, _LINGERING, now + self._host.linger_timeout)
        if not registered:
            self._selector.register(conn.sock, selectors.EVENT_READ, conn)

    def _expire(self, now: float) -> None:
        reading = self._reading
        while reading:
            conn = next(iter(reading))
            if conn.deadline > now:
                break
            if conn.buffer or conn.head is not None:
                self._refuse(
                    conn,
                    HeadError(408, f"no complete request within {self._host.header_timeout:g} s"),
                )
            else:
                self._close(conn)  # never sent a byte (a browser's spare connection)
        for table in (self._idle, self._lingering):
            while table:
                conn = next(iter(table))
                if conn.deadline > now:
                    break
                self._close(conn)
        if self._limit_restore and now >= self._limit_restore:
            self._limit_restore = 0.0
            self._limit = self._host.connection_limit()
        if self._accept_resume and now >= self._accept_resume:
            self._accept_resume = 0.0
            self._selector.register(self._listener, selectors.EVENT_READ, None)

    def _close(self, conn: Connection) -> None:
        if self._leave(conn) != _BUSY:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(conn.sock)
        self._open -= 1
        close_quietly(conn.sock)

    def _close_all(self) -> None:
        for table in (self._reading, self._idle, self._lingering):
            for conn in list(table):
                self._close(conn)
        self._selector.close()

    def _take_back(self, now: float) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass
        returned = self._returned
        while returned:
            conn, keep = returned.popleft()
            conn.sock.setblocking(False)
            if not keep:
                self._linger(conn, now, registered=False)
                continue
            self._selector.register(conn.sock, selectors.EVENT_READ, conn)
            if conn.buffer:  # the next request is already here (pipelining)
                self._enter(conn, _READING, now + self._host.header_timeout)
                self._progress(conn)
            else:
                self._enter(conn, _IDLE, now + self._host.keep_alive_timeout)
