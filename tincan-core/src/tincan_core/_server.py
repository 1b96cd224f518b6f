"""The builtin HTTP/1.1 WSGI server, for development, tests and light duty.

One event loop (a ``selectors`` selector, in the thread that calls
``serve_forever``) accepts connections and receives request heads; a
connection goes to a pool of worker threads only once its whole head (and a
small body) has arrived, and returns to the loop while it waits for the next
request. A slow or idle client therefore costs a socket and a bounded buffer,
never a thread, and is dropped at its deadline. Built on the standard library
alone (``socketserver`` binds the socket). Production deployments use a real
WSGI server behind a web server.
"""

from __future__ import annotations

import logging
import select
import socket
import socketserver
import threading
from typing import Any

from ._connection import Connection
from ._eventloop import EventLoop
from ._exchange import Exchange, base_environ
from ._http11 import (
    HeadError,
    HeadLimits,
    RequestHead,
    find_head_end,
    parse_head,
    skip_blank_lines,
)
from ._workers import WorkerPool

__all__ = ["ThreadedWSGIServer", "make_server", "serve_in_thread"]

_log = logging.getLogger("tincan_core.server")

_poll = getattr(select, "poll", None)  # not on Windows: no waiting in workers there
_RESERVED_FDS = 64  # descriptors left for the app: files, logs, its own sockets
_MAX_DEFAULT_CONNECTIONS = 10_000
# What make_server() and the constructor take as keywords.
SETTINGS = frozenset(
    {
        "threads",
        "max_connections",
        "header_timeout",
        "keep_alive_timeout",
        "io_timeout",
        "linger_timeout",
        "buffered_body",
        "hot_wait",
        "limits",
    }
)


class ThreadedWSGIServer(socketserver.TCPServer):
    """Serve a WSGI app over HTTP/1.1 with persistent connections and bounded resources.

    The class attributes are the defaults; :func:`make_server` takes them as keywords.
    """

    allow_reuse_address = True
    # Connections wait in the kernel's backlog while the loop is busy or out of files.
    request_queue_size = 1024
    daemon_threads = True  # the workers never keep the process alive
    threads = 32  # worker threads, started as needed
    max_connections: int | None = None  # None: from the open-file limit, at most 10,000
    header_timeout = 20.0  # seconds from a request's first byte to its whole head
    keep_alive_timeout = 15.0  # seconds an idle persistent connection stays open
    io_timeout = 30.0  # seconds a worker waits on one receive or send
    linger_timeout = 2.0  # seconds to read what a client still sends after the last response
    buffered_body = 64 * 1024  # bodies up to this size arrive before a worker is taken
    hot_wait = 0.002  # seconds a free worker waits for the next request on its connection
    limits = HeadLimits()
    access_logger: logging.Logger | None = None

    def __init__(
        self, server_address: tuple[Any, ...], bind_and_activate: bool = True, **settings: Any
    ) -> None:
        unknown = sorted(set(settings) - SETTINGS)
        if unknown:
            raise TypeError(f"unknown server settings: {', '.join(unknown)}")
        for name, value in settings.items():
            setattr(self, name, value)
        self.application: Any = None
        self.stopping = False
        self._shutdown_request = False
        self._stopped = threading.Event()
        self._stopped.set()
        self._workers: WorkerPool[Connection] = WorkerPool(
            self.threads, self._serve_connection, "tincan-worker"
        )
        self._environ: dict[str, Any] = {}
        self._loop = EventLoop(self, self._workers.submit)
        super().__init__(server_address, socketserver.BaseRequestHandler, bind_and_activate)

    # -- the WSGIServer surface --------------------------------------------------------
    def server_bind(self) -> None:
        super().server_bind()
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self._environ = base_environ(self.server_name, self.server_port)

    def set_app(self, application: Any) -> None:
        self.application = application

    def get_app(self) -> Any:
        return self.application

    @property
    def error_logger(self) -> logging.Logger:
        return self.access_logger or _log

    def environ_template(self) -> dict[str, Any]:
        return self._environ.copy()

    def connection_limit(self) -> int:
        """The most connections held at once; beyond it the longest-waiting idle one goes."""
        if self.max_connections is not None:
            return self.max_connections
        try:
            import resource
        except ImportError:  # Windows: select() handles 512 sockets
            return 500
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft == resource.RLIM_INFINITY:
            soft = _MAX_DEFAULT_CONNECTIONS + _RESERVED_FDS
        return max(16, min(_MAX_DEFAULT_CONNECTIONS, soft - _RESERVED_FDS))

    # -- serving -----------------------------------------------------------------------
    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until :meth:`shutdown` (or an exception such as KeyboardInterrupt)."""
        self._stopped.clear()
        try:
            if not self._shutdown_request:
                self.stopping = False
                self._loop.run(self.socket, poll_interval, lambda: self._shutdown_request)
        finally:
            self._shutdown_request = False
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` (from another thread) and wait until it returns."""
        self._shutdown_request = True
        self.stopping = True
        self._loop.wake()
        self._stopped.wait()

    def server_close(self) -> None:
        self.stopping = True
        super().server_close()
        self._workers.stop()
        self._loop.close()

    def handle_request(self) -> None:
        raise NotImplementedError(
            "the builtin server serves connections concurrently: use serve_forever()"
        )

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.error_logger.debug(
            "connection from %s ended with an error", client_address, exc_info=True
        )

    # -- workers -----------------------------------------------------------------------
    def _serve_connection(self, conn: Connection) -> None:
        """A worker's job: serve the request whose head has arrived, then hand back."""
        keep = False
        head = conn.head
        conn.head = None
        try:
            conn.sock.settimeout(self.io_timeout)
            while head is not None:
                keep = Exchange(conn, head, self).run()
                head = self._next_head(conn) if keep else None
        except Exception:
            keep = False
            self.error_logger.exception("the server failed serving %s", conn.address)
        self._loop.hand_back(conn, keep)

    def _next_head(self, conn: Connection) -> RequestHead | None:
        """The next request on ``conn`` if it is already here or follows at once.

        A client that sends its next request right away (a page's assets, an API
        client) gets it served by this worker, saving two hand-offs through the
        loop; the wait is short and only taken while no other request waits for
        a worker. Anything unusual (a partial head, an error) goes to the loop.
        """
        buffer = conn.buffer
        if not buffer:
            if self.stopping or _poll is None or not self._workers.has_spare():
                return None
            poller = _poll()
            poller.register(conn.sock, select.POLLIN)
            try:
                if not poller.poll(self.hot_wait * 1000) or not conn.receive():
                    return None
            except OSError:
                return None  # reset by the client: the loop sees it too and closes
        skip_blank_lines(buffer)
        end = find_head_end(buffer)
        if end < 0:
            return None
        try:
            head = parse_head(buffer[:end], self.limits)
        except HeadError:
            return None  # the loop parses it again and answers
        need = head.content_length
        if need and need <= self.buffered_body and len(buffer) - end < need:
            return None  # the loop waits for the small body without holding a thread
        del buffer[:end]
        return head


class _ThreadedWSGIServer6(ThreadedWSGIServer):
    address_family = socket.AF_INET6


def make_server(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    access_logger: logging.Logger | None = None,
    **settings: Any,
) -> ThreadedWSGIServer:
    """Bind a server for ``app`` on ``host:port`` (port 0: a free one).

    The bound port is ``server.server_port``. Serve with ``server.serve_forever()``
    and stop with ``server.shutdown()`` (from another thread) and ``server.server_close()``.
    ``settings`` override the class defaults of :class:`ThreadedWSGIServer`
    (``threads``, ``max_connections``, ``header_timeout``, ``keep_alive_timeout``,
    ``io_timeout``, ``linger_timeout``, ``buffered_body``, ``hot_wait``, ``limits``).
    """
    cls = _ThreadedWSGIServer6 if ":" in host else ThreadedWSGIServer
    server = cls((host, port), **settings)
    server.access_logger = access_logger
    server.set_app(app)
    return server


def serve_in_thread(server: ThreadedWSGIServer) -> threading.Thread:
    """Run ``server.serve_forever`` in a daemon thread and return the thread."""
    thread = threading.Thread(target=server.serve_forever, name="tincan-server", daemon=True)
    thread.start()
    return thread
