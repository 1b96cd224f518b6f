"""Which pages served a response: recorded per request, only for apps launched by the plugin.

The plugin launches webapps with a page observer installed (see
``tincan_core._hooks``), so their page callbacks report each visit. The visits
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
from tincan_core._hooks import PageVisit

__all__ = ["TRACE_HEADER", "PageVisit", "TracingApp", "TracingTransport", "record_visit", "trace"]

TRACE_HEADER = "X-TinCan-Trace"
_ENVIRON_KEY = "tincan_testing.trace"
_EXTENSION_KEY = "tincan_testing.trace"

_live_traces: dict[str, tuple[PageVisit, ...]] = {}
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
    """WSGI middleware that collects the page visits of each request."""

    def __init__(self, app: WSGIApp, on_done: Callable[[tuple[PageVisit, ...]], None]) -> None:
        self.app = app
        self.on_done = on_done
        self._forgotten: list[str] = []

    def serve(
        self, visits: list[PageVisit], environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        environ[_ENVIRON_KEY] = visits
        try:
            return self.app(environ, start_response)
        finally:
            self.on_done(tuple(visits))

    def live(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The app as served over sockets: each response names its trace in a header."""
        visits: list[PageVisit] = []
        trace_id = f"{next(_live_ids)}"

        def start_with_header(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            return start_response(status, [*headers, (TRACE_HEADER, trace_id)], *exc)

        try:
            return self.serve(visits, environ, start_with_header)
        finally:
            with _live_lock:
                _live_traces[trace_id] = tuple(visits)
                self._forgotten.append(trace_id)

    def forget_live_traces(self) -> None:
        with _live_lock:
            for trace_id in self._forgotten:
                _live_traces.pop(trace_id, None)
            self._forgotten.clear()


class TracingTransport(httpx.BaseTransport):
    """``httpx.WSGITransport`` with the page visits of each request on its response, and
    the request path passed the way WSGI servers pass it."""

    def __init__(self, tracing: TracingApp) -> None:
        self.tracing = tracing

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        visits: list[PageVisit] = []
        # PEP 3333: PATH_INFO is the decoded bytes as latin-1 text, as real servers give it.
        # httpx passes its own UTF-8 decoding, which Bottle would garble (or fail on).
        raw_path = request.url.raw_path.partition(b"?")[0]
        path_info = urllib.parse.unquote_to_bytes(raw_path).decode("latin-1")

        def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            environ["PATH_INFO"] = path_info
            return self.tracing.serve(visits, environ, start_response)

        response = httpx.WSGITransport(app=app).handle_request(request)
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
