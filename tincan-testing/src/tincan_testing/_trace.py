"""Which pages served a response: recorded per request, only for apps launched by the plugin.

The plugin launches webapps with a page observer installed (see
:func:`tincan_core.set_page_observer`), so their page callbacks report each visit. The visits
go into a list that the tracing middleware puts into the request's WSGI
environ; the in-process client hands that list to the response, the live
server names it in a response header. Concurrent requests never share a list.
"""

from __future__ import annotations

import itertools
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

import bottle
import httpx
from tincan_core import PageVisit

from ._failures import FAILURES_KEY, ServerFailure, failures_of, raise_failures

__all__ = ["TRACE_HEADER", "PageVisit", "TracingApp", "TracingTransport", "record_visit", "trace"]

TRACE_HEADER = "X-TinCan-Trace"
_ENVIRON_KEY = "tincan_testing.trace"
_EXTENSION_KEY = "tincan_testing.trace"

_live_traces: dict[str, tuple[PageVisit, ...]] = {}
_live_failures: dict[str, list[ServerFailure]] = {}
_live_lock = threading.Lock()
_live_ids = itertools.count(1)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def record_visit(visit: PageVisit) -> None:
    """The page observer: file the visit under the request being served, if traced."""
    try:
        visits = bottle.request.environ.get(_ENVIRON_KEY)
    except (RuntimeError, KeyError):  # no request bound to this thread
        return
    if visits is not None:
        visits.append(visit)


class TracingApp:
    """WSGI middleware that collects the page visits and server errors of each request.

    ``roots`` maps the launched tree's file names to the ones shown in errors.
    """

    def __init__(
        self,
        app: WSGIApp,
        on_done: Callable[[tuple[PageVisit, ...]], None],
        roots: list[tuple[str, str]],
    ) -> None:
        self.app = app
        self.on_done = on_done
        self.roots = roots
        self._forgotten: list[str] = []
        # live requests whose errors no client of ours raised (a browser, plain httpx)
        self.unraised: list[ServerFailure] = []

    def serve(
        self,
        visits: list[PageVisit],
        environ: dict[str, Any],
        start_response: StartResponse,
        failures: list[ServerFailure] | None = None,
    ) -> Iterable[bytes]:
        """Serve one request; with a ``failures`` list, the errors logged meanwhile go there."""
        environ[_ENVIRON_KEY] = visits
        query = environ.get("QUERY_STRING")
        path = environ.get("PATH_INFO", "/")
        environ["tincan_testing.path"] = f"{path}?{query}" if query else path
        if failures is not None:
            environ[FAILURES_KEY] = []
        try:
            return self.app(environ, start_response)
        finally:
            self.on_done(tuple(visits))
            if failures is not None:
                failures.extend(failures_of(environ, self.roots))
                del environ[FAILURES_KEY]  # later records on this thread are not this request's

    def live(
        self, environ: dict[str, Any], start_response: StartResponse, *, collect: bool = True
    ) -> Iterable[bytes]:
        """The app as served over sockets: each response names its trace in a header.

        With ``collect``, the server errors of each request are kept for the client
        to raise (see :meth:`raise_live_failures`), or for the end of the test.
        """
        visits: list[PageVisit] = []
        failures: list[ServerFailure] | None = [] if collect else None
        trace_id = f"{next(_live_ids)}"

        def start_with_header(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            return start_response(status, [*headers, (TRACE_HEADER, trace_id)], *exc)

        try:
            return self.serve(visits, environ, start_with_header, failures)
        finally:
            with _live_lock:
                _live_traces[trace_id] = tuple(visits)
                if failures:
                    _live_failures[trace_id] = failures
                    self.unraised.extend(failures)
                self._forgotten.append(trace_id)

    def raise_live_failures(self, response: httpx.Response) -> None:
        """Raise the server errors behind a live server's response (an httpx event hook)."""
        __tracebackhide__ = True
        trace_id = response.headers.get(TRACE_HEADER)
        with _live_lock:
            failures = _live_failures.pop(trace_id, None) if trace_id is not None else None
            for failure in failures or ():
                self.unraised.remove(failure)
        if failures:
            raise_failures(failures, self.roots)

    def forget_live_traces(self) -> None:
        with _live_lock:
            for trace_id in self._forgotten:
                _live_traces.pop(trace_id, None)
                _live_failures.pop(trace_id, None)
            self._forgotten.clear()


class TracingTransport(httpx.BaseTransport):
    """``httpx.WSGITransport`` with the page visits of each request on its response, and
    the request path passed the way WSGI servers pass it.

    With ``raise_server_exceptions`` an error the app logged while serving the
    request is raised from the client call instead of returning the 500.
    """

    def __init__(self, tracing: TracingApp, *, raise_server_exceptions: bool = True) -> None:
        self.tracing = tracing
        self.raise_server_exceptions = raise_server_exceptions

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True
        visits: list[PageVisit] = []
        failures: list[ServerFailure] | None = [] if self.raise_server_exceptions else None
        # PEP 3333: PATH_INFO is the decoded bytes as latin-1 text, as real servers give it.
        # httpx passes its own UTF-8 decoding, which Bottle would garble (or fail on).
        raw_path = request.url.raw_path.partition(b"?")[0]
        path_info = urllib.parse.unquote_to_bytes(raw_path).decode("latin-1")

        def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            environ["PATH_INFO"] = path_info
            return self.tracing.serve(visits, environ, start_response, failures)

        response = httpx.WSGITransport(app=app).handle_request(request)
        if failures:
            response.close()
            raise_failures(failures, self.tracing.roots)
        response.extensions[_EXTENSION_KEY] = visits
        return response


def trace(response: httpx.Response) -> tuple[PageVisit, ...]:
    """The pages that took part in ``response``, in order.

    One visit for a plain page; a ``#forward`` or ``app.forward()`` adds the
    target, an error page adds itself. The last visit is the page whose output
    was sent. Static files and Bottle's default error page add none.

    Works for responses from ``Webapp.client()``, the ``tincan_client`` fixture
    and (while it runs) a live server started by the plugin.
    """
    visits = response.extensions.get(_EXTENSION_KEY)
    if visits is not None:
        return tuple(visits)
    trace_id = response.headers.get(TRACE_HEADER)
    if trace_id is not None:
        with _live_lock:
            found = _live_traces.get(trace_id)
        if found is not None:
            return found
    raise LookupError(
        "no page trace for this response: it did not come from a tincan_testing client "
        "or live server (or that server has been stopped)"
    )
