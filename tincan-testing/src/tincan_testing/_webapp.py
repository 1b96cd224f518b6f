"""A webapp launched for a test: files on disk, the app, its log, clients and live servers."""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, overload

import httpx
from tincan_core import BasePage, Page, launch, make_server, set_page_observer

from ._copies import WebappFiles, checked_relpath
from ._failures import ServerFailure, collect, shown, webapp_roots
from ._isolation import LibShadow
from ._paths import url_path
from ._trace import PageVisit, TracingApp, TracingTransport, record_visit

__all__ = ["LiveServer", "Webapp", "WebappFiles", "no_collection", "write_webapp"]

CROSS_SITE_ORIGIN = "https://elsewhere.example"
TEST_BASE_URL = "http://testserver"

BasePageT = TypeVar("BasePageT", bound=BasePage)

_RAISED = "tincan_testing_raised"  # set on a log record whose exception the test gets


class _WebappLog(logging.Handler):
    """Keeps every record of a webapp; passes some on to pytest's log capture.

    Errors logged while serving a request whose client raises server errors are
    filed with that request, and passed on without their traceback (the test
    shows it). Records below ``shown_level`` (the route list of a launch, at
    INFO) are kept but not passed on, so a failing test's report stays short.
    """

    def __init__(self, roots: list[tuple[str, str]], shown_level: int) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.roots = roots
        self.shown_level = shown_level
        self.passed_to = logging.getLogger("tincan_testing")

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if collect(record, self.roots):
            setattr(record, _RAISED, True)
        if record.levelno < self.shown_level:
            return
        # file names as in the source tree, not the session's copy of it
        passed = logging.makeLogRecord(record.__dict__)
        passed.msg, passed.args = shown(record.getMessage(), self.roots), None
        if getattr(record, _RAISED, False):
            passed.exc_info, passed.exc_text = None, None
            passed.msg += " (raised in the test)"
        self.passed_to.handle(passed)


@contextlib.contextmanager
def no_collection() -> Iterator[None]:
    """No garbage collection meanwhile. Laying out and launching a webapp makes many
    objects that live on (compiled programs, classes, the copy's manifest); a full
    collection meanwhile would walk the test session's whole heap, which costs more
    than the launch itself. The collector runs again afterwards as usual."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


_formatter = logging.Formatter("%(levelname)s %(message)s")


def _format(record: logging.LogRecord) -> str:
    return _formatter.format(record)


def _webapp_logger(root: Path, level: int, log: _WebappLog) -> logging.Logger:
    """A logger of its own for each webapp, not kept in logging's registry."""
    logger = logging.Logger(f"tincan_testing.webapp.{root.name}", level)
    logger.propagate = False
    logger.addHandler(log)
    return logger


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
    """A webapp on a real threaded HTTP server, by default at ``127.0.0.1`` and a free port."""

    def __init__(
        self,
        tracing: TracingApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        raise_server_exceptions: bool = True,
    ) -> None:
        self._tracing = tracing
        self.raise_server_exceptions = raise_server_exceptions
        app = functools.partial(tracing.live, collect=raise_server_exceptions)
        try:
            self._server = make_server(app, host, port)
        except OSError as exc:
            raise OSError(
                exc.errno, f"cannot serve the webapp on {host}:{port}: {exc.strerror or exc} "
                "(choose another with @pytest.mark.tincan(live_host=..., live_port=...))",
            ) from None
        self.host = host
        self.port: int = self._server.server_port
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}"
        # a short poll interval keeps shutdown() quick at the end of each test
        self._thread: threading.Thread | None = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"tincan-live-{self.port}", daemon=True,
        )
        self._thread.start()
        self._clients: list[httpx.Client] = []

    def client(self, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` talking to this server over a socket; closed with the server.

        A server error behind one of its responses is raised from the call (unless
        the server was started with ``raise_server_exceptions=False``).
        """
        if self.raise_server_exceptions:
            hooks = dict(kwargs.pop("event_hooks", None) or {})
            hooks["response"] = [*hooks.get("response", ()), self._tracing.raise_live_failures]
            kwargs["event_hooks"] = hooks
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
        raise_server_exceptions: bool = True,
        live_host: str = "127.0.0.1",
        live_port: int = 0,
        shown_log_level: int = logging.WARNING,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.root = root
        self.urlroot = urlroot
        self.source = source  # the directory the tree was copied from, if any
        self.raise_server_exceptions = raise_server_exceptions
        self.live_host = live_host
        self.live_port = live_port
        roots = webapp_roots(root, source)
        self._log = _WebappLog(roots, shown_log_level)
        self._logger = _webapp_logger(root, log_level, self._log)
        self._last_trace: tuple[PageVisit, ...] = ()
        self._clients: list[httpx.Client] = []
        self._servers: list[LiveServer] = []
        self._shadow = LibShadow(source) if source is not None else None
        path_before = set(sys.path)
        previous = set_page_observer(record_visit)
        try:
            with no_collection():
                self.app, self.errors = launch(
                    root, urlroot, multithread, logger=self._logger, encoding=encoding,
                    static=static, **dict(settings or {}),
                )
        finally:
            set_page_observer(previous)
        self._added_paths = [p for p in sys.path if p not in path_before]
        self._tracing = TracingApp(self.app or _not_launched, self._done, roots)

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

    def unraised_failures(self) -> list[ServerFailure]:
        """Server errors behind live-server responses that no client of ours raised
        (requests from a browser or a plain ``httpx.get``)."""
        return list(self._tracing.unraised)

    # -- its pages ---------------------------------------------------------------------
    @overload
    def page_class(self, relpath: str) -> type[Page]: ...
    @overload
    def page_class(self, relpath: str, base: type[BasePageT]) -> type[BasePageT]: ...

    def page_class(self, relpath: str, base: type[BasePage] = Page) -> type[BasePage]:
        """The code-behind class the launch chose for a page (webapp-relative path),
        e.g. to build it with :func:`tincan_testing.make_page`.

        The class is checked to be a ``base`` (``Page``; give ``ErrorPage`` for an
        error page, or a class of your own), so that the result is typed as one.
        """
        if self.app is not None:
            for info in self.app.route_info:
                if info.file == relpath and info.page_class:
                    found = _resolve_class(info.page_class)
                    if not issubclass(found, base):
                        kind = "an error page" if info.kind == "error" else "a page"
                        raise TypeError(
                            f"{relpath} is {kind} whose class {found.__qualname__} is not a "
                            f"{base.__qualname__}: page_class({relpath!r}, <its base class>)"
                        )
                    return found
        raise KeyError(f"{relpath!r} is not a launched page of {self.root}")

    def routes(self) -> str:
        """The routes the launch built, one per line: methods, URL path, file, class."""
        if self.app is None:
            return "(not launched)"
        rows = [
            (",".join(info.methods) or "-", info.path or f"({info.kind})", info.file,
             info.page_class.rpartition(".")[2])
            for info in self.app.route_info
        ]
        widths = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip()
            + (f"  {row[3]}" if row[3] else "")
            for row in rows
        )

    # -- talking to it -----------------------------------------------------------------
    def url(self, relpath: str) -> str:
        """The URL path of a webapp file (urlroot plus the path, percent-encoded)."""
        return url_path(relpath, self.urlroot)

    def url_for(self, target: str, /, _query: Any = None, **params: Any) -> str:
        """The URL the app's ``url_for`` gives for the page ``target`` (a webapp path,
        as ``#forward`` takes it, from the webapp root): ``webapp.url_for("entry.pspx",
        n=3)`` is ``/entry/3`` with clean URLs. ``params`` fill a ``#path`` form,
        ``_query`` adds a query string; an unknown page or a missing or refused
        parameter is a ``TinCanError``, as in a page."""
        if self.app is None:
            raise RuntimeError(f"the webapp at {self.root} did not launch: {self.problems()}")
        return self.app.url_for(target, _query, **params)

    def client(
        self,
        *,
        raise_server_exceptions: bool | None = None,
        cross_site: bool = False,
        **kwargs: Any,
    ) -> httpx.Client:
        """An ``httpx.Client`` calling the app in-process, ``base_url="http://testserver"``.

        An exception the app raised while serving a request (a crash in a page's
        code-behind or template) is raised from the client call, with the page's
        ``file:line``; ``raise_server_exceptions=False`` returns the 500 response
        instead (the webapp's default is the launch option of that name).
        The client keeps cookies (so sessions last across its requests) and, like
        any non-browser client, passes the cross-origin check; ``cross_site=True``
        makes every request look like a browser's from another site
        (``Sec-Fetch-Site: cross-site``, ``Origin: https://elsewhere.example``),
        so unsafe methods get the 403 a forged form post would.
        Other keyword arguments go to ``httpx.Client``; the client is closed with
        the webapp.
        """
        if self.app is None:
            raise RuntimeError(f"the webapp at {self.root} did not launch: {self.problems()}")
        if raise_server_exceptions is None:
            raise_server_exceptions = self.raise_server_exceptions
        if cross_site:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("Sec-Fetch-Site", "cross-site")
            headers.setdefault("Origin", CROSS_SITE_ORIGIN)
            kwargs["headers"] = headers
        kwargs.setdefault("base_url", TEST_BASE_URL)
        transport = TracingTransport(
            self._tracing, raise_server_exceptions=raise_server_exceptions
        )
        client = httpx.Client(transport=transport, **kwargs)
        self._clients.append(client)
        return client

    def live(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        raise_server_exceptions: bool | None = None,
    ) -> LiveServer:
        """Serve the app until ``stop()`` or the end of the test, on ``host:port``
        (default: the webapp's ``live_host`` and ``live_port``, ``127.0.0.1`` and a
        free port).

        Usable as a context manager: ``with webapp.live() as server: ...``.
        """
        if self.app is None:
            raise RuntimeError(f"the webapp at {self.root} did not launch: {self.problems()}")
        if raise_server_exceptions is None:
            raise_server_exceptions = self.raise_server_exceptions
        server = LiveServer(
            self._tracing, self.live_host if host is None else host,
            self.live_port if port is None else port,
            raise_server_exceptions=raise_server_exceptions,
        )
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
        if self._shadow is not None:
            self._shadow.restore()
            self._shadow = None

    def __repr__(self) -> str:
        state = "launched" if self.app is not None else "not launched"
        return f"<Webapp {self.root} {state}, {self.errors} error(s)>"
