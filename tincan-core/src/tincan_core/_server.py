"""A small multithreaded WSGI server for development, tests and light duty.

Bottle's default ``wsgiref`` server handles one request at a time; this one gives
each connection a thread. Production deployments use a real WSGI server.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

__all__ = ["ThreadedWSGIServer", "make_server", "serve_in_thread"]


class _RequestHandler(WSGIRequestHandler):
    server: ThreadedWSGIServer

    def log_message(self, format: str, *args: Any) -> None:  # the stdlib's signature
        logger = self.server.access_logger
        if logger is not None:
            logger.info("%s - %s", self.address_string(), format % args)

    def address_string(self) -> str:
        return str(self.client_address[0])  # never a reverse DNS lookup


class ThreadedWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """``wsgiref``'s server with a thread per connection."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog of 5 makes the kernel reset connections
    # as soon as a few dozen clients connect at once.
    request_queue_size = 128
    access_logger: logging.Logger | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-response is not a server error worth a traceback.
        logger = self.access_logger
        if logger is not None:
            logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class _ThreadedWSGIServer6(ThreadedWSGIServer):
    address_family = socket.AF_INET6


def make_server(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    access_logger: logging.Logger | None = None,
) -> ThreadedWSGIServer:
    """Bind a threaded server for ``app`` on ``host:port`` (port 0: a free one).

    The bound port is ``server.server_port``. Serve with ``server.serve_forever()``
    and stop with ``server.shutdown()`` (from another thread) and ``server.server_close()``.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    cls = _ThreadedWSGIServer6 if family == socket.AF_INET6 else ThreadedWSGIServer
    server = cls((host, port), _RequestHandler)
    server.access_logger = access_logger
    server.set_app(app)
    return server


def serve_in_thread(server: ThreadedWSGIServer) -> threading.Thread:
    """Run ``server.serve_forever`` in a daemon thread and return the thread."""
    thread = threading.Thread(target=server.serve_forever, name="tincan-server", daemon=True)
    thread.start()
    return thread
