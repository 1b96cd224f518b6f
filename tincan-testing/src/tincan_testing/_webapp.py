"""A webapp launched for a test: files on disk, the app, its log, clients and live servers."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from tincan_core import BasePage, launch, make_server
from tincan_core._hooks import set_page_observer

from ._copies import WebappFiles, checked_relpath
from ._paths import url_path
from ._trace import PageVisit, TracingApp, TracingTransport, record_visit

__all__ = ["LiveServer", "Webapp", "WebappFiles", "write_webapp"]

TEST_BASE_URL = "http://testserver"


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_formatter = logging.Formatter("%(levelname)s %(message)s")


def _format(record: logging.LogRecord) -> str:
    return _formatter.format(record)


def _webapp_logger(root: Path, level: int) -> tuple[logging.Logger, _ListHandler]:
    """A logger of its own for each webapp, not kept in logging's registry.

    Records still propagate to ``tincan_testing``, so pytest shows them with a failure.
    """
    logger = logging.Logger(f"tincan_testing.webapp.{root.name}", level)
    logger.parent = logging.getLogger("tincan_testing")
    handler = _ListHandler()
    logger.addHandler(handler)
    return logger, handler


def write_webapp(root: Path, files: WebappFiles | None = None, *, encoding: str = "utf-8") -> Path:
    """Lay out a webapp from ``files`` at a new directory ``root`` (``None`` values are
    left out), with a ``WEB-INF`` directory."""
    root.mkdir(parents=True)
    for relpath, content in (files or {}).items():
        path = root / checked_relpath(relpath)
        if content is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    (root / "WEB-INF").mkdir(exist_ok=True)
    return root


def _resolve_class(dotted: str) -> type[BasePage]:
    """``module.Class`` to the class, for modules TinCan imported under generated names."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:split]))
        if module is not None:
            found: Any = module
            for name in parts[split:]:
                found = getattr(found, name)
            return found  # type: ignore[no-any-return]
    raise LookupError(f"cannot find the class {dotted}")


def _not_launched(environ: dict[str, Any], start_response: Any) -> Any:
    raise RuntimeError("this webapp did not launch")


class LiveServer:
    """A webapp on a real threaded HTTP server at ``127.0.0.1`` and a free port."""

    host = "127.0.0.1"

    def __init__(self, tracing: TracingApp) -> None:
        self._tracing = tracing
        self._server = make_server(tracing.live, self.host, 0)
        self.port: int = self._server.server_port
        self.url = f"http://{self.host}:{self.port}"
        # a short poll interval keeps shutdown() quick at the end of each test
        self._thread: threading.Thread | None = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"tincan-live-{self.port}", daemon=True,
        )
        self._thread.start()
        self._clients: list[httpx.Client] = []

    def client(self, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` talking to this server over a socket; closed with the server."""
        client = httpx.Client(base_url=self.url, **kwargs)
        self._clients.append(client)
        return client

    @property
    def running(self) -> bool:
        return self._thread is not None

    def stop(self) -> None:
        """Stop serving and close the listening socket; safe to call twice."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        for client in self._clients:
            client.close()
        self._server.shutdown()
        self._server.server_close()
        thread.join(timeout=10)
        self._tracing.forget_live_traces()

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<LiveServer {self.url}{'' if self.running else ' (stopped)'}>"


class Webapp:
    """A webapp tree launched with :func:`tincan.launch` for a test.

    ``app`` is the launched app (``None`` if the tree could not be launched at
    all), ``errors`` the number of problems the launch found, ``messages`` every
    line it logged (and, later, what the app logs while serving).
    """

    def __init__(
        self,
        root: Path,
        *,
        urlroot: str = "/",
        static: bool = False,
        encoding: str = "utf-8",
        multithread: bool = True,
        source: Path | None = None,
        log_level: int = logging.INFO,
    ) -> None:
        self.root = root
        self.urlroot = urlroot
        self.source = source  # the directory the tree was copied from, if any
        self._logger, self._log = _webapp_logger(root, log_level)
        self._last_trace: tuple[PageVisit, ...] = ()
        self._clients: list[httpx.Client] = []
        self._servers: list[LiveServer] = []
        path_before = set(sys.path)
        previous = set_page_observer(record_visit)
        try:
            self.app, self.errors = launch(
                root, urlroot, multithread, logger=self._logger, encoding=encoding, static=static
            )
        finally:
            set_page_observer(previous)
        self._added_paths = [p for p in sys.path if p not in path_before]
        self._tracing = TracingApp(self.app or _not_launched, self._done)

    # -- the launch log ----------------------------------------------------------------
    @property
    def records(self) -> list[logging.LogRecord]:
        return list(self._log.records)

    @property
    def messages(self) -> list[str]:
        """Everything logged so far, launch and requests, one entry per record:
        ``"ERROR /tmp/.../index.pspx:3: unknown directive #x"`` (plus the traceback,
        if the record has one)."""
        return [_format(record) for record in self._log.records]

    def problems(self) -> list[str]:
        """The errors and warnings logged so far, one line each, with file paths shown
        relative to the webapp (or under the directory it was copied from)."""
        lines = []
        prefix = str(self.root) + os.sep
        shown = "" if self.source is None else str(self.source) + os.sep
        for record in self._log.records:
            if record.levelno >= logging.WARNING:
                text = record.getMessage().replace(prefix, shown)
                lines.append(text if record.levelno >= logging.ERROR else f"warning: {text}")
        return lines

    # -- traces ------------------------------------------------------------------------
    def _done(self, visits: tuple[PageVisit, ...]) -> None:
        self._last_trace = visits

    @property
    def last_trace(self) -> tuple[PageVisit, ...]:
        """The page visits of the most recent response (see :func:`tincan_testing.trace`)."""
        return self._last_trace

    @property
    def last_page(self) -> PageVisit | None:
        """The page whose output made the most recent response, if a page did."""
        return self._last_trace[-1] if self._last_trace else None

    # -- its pages ---------------------------------------------------------------------
    def page_class(self, relpath: str) -> type[BasePage]:
        """The code-behind class the launch chose for a page (webapp-relative path),
        e.g. to build it with :func:`tincan_testing.make_page`."""
        if self.app is not None:
            for info in self.app.route_info:
                if info.file == relpath and info.page_class:
                    return _resolve_class(info.page_class)
        raise KeyError(f"{relpath!r} is not a launched page of {self.root}")

    # -- talking to it -----------------------------------------------------------------
    def url(self, relpath: str) -> str:
        """The URL path of a webapp file (urlroot plus the path, percent-encoded)."""
        return url_path(relpath, self.urlroot)

    def client(self, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` calling the app in-process, ``base_url="http://testserver"``.

        Keyword arguments go to ``httpx.Client``; the client is closed with the webapp.
        """
        if self.app is None:
            raise RuntimeError(f"the webapp at {self.root} did not launch: {self.problems()}")
        kwargs.setdefault("base_url", TEST_BASE_URL)
        client = httpx.Client(transport=TracingTransport(self._tracing), **kwargs)
        self._clients.append(client)
        return client

    def live(self) -> LiveServer:
        """Serve the app on ``127.0.0.1`` (a free port) until ``stop()`` or the end of the test.

        Usable as a context manager: ``with webapp.live() as server: ...``.
        """
        if self.app is None:
            raise RuntimeError(f"the webapp at {self.root} did not launch: {self.problems()}")
        server = LiveServer(self._tracing)
        self._servers.append(server)
        return server

    def close(self) -> None:
        """Stop servers, close clients, and undo what launching changed in this process."""
        for server in self._servers:
            server.stop()
        for client in self._clients:
            client.close()
        self._servers.clear()
        self._clients.clear()
        for path in self._added_paths:
            while path in sys.path:
                sys.path.remove(path)
            sys.path_importer_cache.pop(path, None)
        self._added_paths = []
        roots = tuple({str(self.root) + os.sep, str(self.root.resolve()) + os.sep})
        for name, module in list(sys.modules.items()):
            if (getattr(module, "__file__", None) or "").startswith(roots):
                del sys.modules[name]

    def __repr__(self) -> str:
        state = "launched" if self.app is not None else "not launched"
        return f"<Webapp {self.root} {state}, {self.errors} error(s)>"
