"""The servers ``tincan serve`` can run: the built-in threaded one, waitress, gunicorn.

Each runner serves until Ctrl-C (SIGINT) or SIGTERM and then returns 0; a
port that cannot be bound is a :class:`CommandError`, not a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from tincan_core import make_server

from ._errors import CommandError, UsageError

__all__ = [
    "SERVERS",
    "WAITRESS_LIMITS",
    "ServerSettings",
    "display_url",
    "is_loopback",
    "raise_open_file_limit",
    "run_server",
    "waitress_options",
]

SERVERS = ("builtin", "waitress", "gunicorn")
WAITRESS_DEFAULT_THREADS = 4
# waitress's own defaults let 100 slow clients (connection_limit=100) shut everyone
# else out, keep a stuck connection for 2 minutes and accept 256 KiB request heads.
WAITRESS_LIMITS: dict[str, Any] = {
    "connection_limit": 1000,  # slow clients wait in the event loop, not in threads
    "channel_timeout": 30,  # seconds without progress before a connection is closed
    "cleanup_interval": 10,  # how often channel_timeout is checked
    "max_request_header_size": 32 * 1024,  # what the builtin server accepts too
    "backlog": 1024,
    "asyncore_use_poll": True,  # select() cannot watch descriptors above 1024
}

Announce = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ServerSettings:
    name: str  # one of SERVERS
    host: str
    port: int
    urlroot: str = "/"
    workers: int | None = None  # gunicorn only
    threads: int | None = None  # waitress and gunicorn
    debug: bool = False

    def validate(self) -> None:
        if self.name not in SERVERS:
            raise UsageError(f"unknown server {self.name!r} (choose from {', '.join(SERVERS)})")
        if self.workers is not None and self.name != "gunicorn":
            raise UsageError("--workers needs --server gunicorn")
        if self.threads is not None and self.name == "builtin":
            raise UsageError(
                "--threads needs --server waitress or gunicorn "
                "(the built-in server starts its worker threads as needed)"
            )

    @property
    def single_threaded(self) -> bool:
        """Whether each process serves one request at a time (prefork workers)."""
        return self.name == "gunicorn" and (self.threads or 1) == 1


def display_url(host: str, port: int, urlroot: str = "/") -> str:
    shown = host or "0.0.0.0"
    if ":" in shown:
        shown = f"[{shown}]"
    path = urlroot.rstrip("/") + "/"
    return f"http://{shown}:{port}{path}"


def is_loopback(host: str) -> bool:
    """Whether listening on ``host`` reaches this machine only: a loopback address
    (``127.0.0.0/8``, ``::1``, IPv4-mapped ones) or ``localhost``/``*.localhost``
    (RFC 6761). Any other name is taken as reachable from elsewhere, without
    asking a resolver, and so is ``""`` (every interface)."""
    name = host.strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def _stop_signals() -> Iterator[None]:
    """Make SIGINT and SIGTERM stop serving (only possible in the main thread).

    SIGINT is handled explicitly because a shell starts background jobs with it
    ignored, and ``kill -INT`` must still stop the server.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _cannot_listen(host: str, port: int, exc: Exception) -> CommandError:
    reason = getattr(exc, "strerror", None) or str(exc)
    return CommandError(f"cannot listen on {host}:{port}: {reason}")


def raise_open_file_limit() -> int:
    """Raise this process's soft open-file limit to its hard limit; the new soft limit.

    Each connection holds a descriptor, and the usual soft limit (1024) would cap
    a server far below what its event loop handles. Go programs do the same at start.
    """
    try:
        import resource
    except ImportError:  # Windows: no such limit
        return -1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # e.g. macOS refuses RLIM_INFINITY: keep what there is
    return int(soft)


def waitress_options(threads: int | None) -> dict[str, Any]:
    """The keywords ``tincan serve --server waitress`` passes to ``waitress.create_server``."""
    options = dict(WAITRESS_LIMITS, threads=threads or WAITRESS_DEFAULT_THREADS, ident="tincan")
    soft = raise_open_file_limit()
    if soft > 0:
        # Beyond the descriptors it has, waitress would fail accept() over and over.
        options["connection_limit"] = max(100, min(options["connection_limit"], soft - 64))
    return options


def run_builtin(app: Any, settings: ServerSettings, announce: Announce, access_logger: Any) -> int:
    raise_open_file_limit()
    try:
        server = make_server(app, settings.host, settings.port, access_logger=access_logger)
    except OSError as exc:
        raise _cannot_listen(settings.host, settings.port, exc) from None
    try:
        with _stop_signals():
            announce(display_url(settings.host, server.server_port, settings.urlroot))
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def run_waitress(app: Any, settings: ServerSettings, announce: Announce) -> int:
    try:
        import waitress
    except ImportError:
        raise CommandError(
            'the waitress server is not installed: pip install "tincan-cli[waitress]"'
        ) from None
    options = waitress_options(settings.threads)
    max_body = getattr(getattr(app, "settings", None), "max_body_size", None)
    if isinstance(max_body, int):
        # waitress reads a whole body before the app sees it (up to 1 GB by default):
        # it stops at the webapp's limit, plus room for chunk framing, and TinCan's
        # own check decides exactly.
        options["max_request_body_size"] = max_body + 64 * 1024
    try:
        server = waitress.create_server(app, host=settings.host, port=settings.port, **options)
    except (OSError, ValueError) as exc:  # waitress: ValueError for a name it cannot resolve
        raise _cannot_listen(settings.host, settings.port, exc) from None
    listening = getattr(server, "effective_listen", None)
    if listening is None:
        listening = [(server.effective_host, server.effective_port)]
    try:
        with _stop_signals():
            for host, port in listening:
                announce(display_url(str(host), int(port), settings.urlroot))
            server.run()  # returns on KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def default_workers() -> int:
    return max(2, os.cpu_count() or 1)


def run_gunicorn(app: Any, settings: ServerSettings, announce: Announce) -> int:
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:
        raise CommandError(
            'the gunicorn server is not installed: pip install "tincan-cli[gunicorn]"'
        ) from None

    class TinCanApplication(BaseApplication):  # type: ignore[misc]
        """Serves the already launched app; workers fork with it loaded."""

        def __init__(self, options: dict[str, Any]) -> None:
            self.options = options
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.options.items():
                if key in self.cfg.settings:  # settings differ between gunicorn versions
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    options = {
        "bind": [f"{host}:{settings.port}"],
        "workers": settings.workers or default_workers(),
        "threads": settings.threads or 1,
        "loglevel": "debug" if settings.debug else "info",
        "proc_name": "tincan",
        # One shared control socket in $HOME would clash between instances.
        "control_socket_disable": True,
        # gunicorn believes X-Forwarded-Proto from 127.0.0.1 by default; TinCan's
        # trusted_proxies setting decides instead, for every server alike.
        "forwarded_allow_ips": "",
    }
    if settings.port:
        announce(display_url(settings.host, settings.port, settings.urlroot))
    master = os.getpid()
    try:
        TinCanApplication(options).run()
    except SystemExit as exc:
        if os.getpid() != master:
            raise  # a worker process ending the way gunicorn means it to
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def run_server(app: Any, settings: ServerSettings, announce: Announce, access_logger: Any) -> int:
    """Serve ``app`` until stopped; the exit code of the command."""
    if settings.name == "waitress":
        return run_waitress(app, settings, announce)
    if settings.name == "gunicorn":
        return run_gunicorn(app, settings, announce)
    return run_builtin(app, settings, announce, access_logger)
