"""Timing two WSGI apps against each other in one process, in alternating rounds.

Each request is a direct call of the WSGI app with a fresh copy of one prepared
environ, a start_response that does nothing, and the whole body consumed and
closed — the same harness for both sides. Rounds alternate which side goes
first (ABBA), so drift in machine load hits both sides alike; the figure is the
median of the per-round ratios, with their spread.

The clock is this thread's CPU time by default: on a shared machine, time spent
waiting for a core is not the code's cost. ``clock="wall"`` uses elapsed time.
"""

from __future__ import annotations

import gc
import io
import statistics
import time
import wsgiref.util
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["CLOCKS", "Comparison", "Response", "call", "compare", "make_environ"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _NullErrors(io.TextIOBase):
    """``wsgi.errors`` that drops what it is given."""

    def write(self, text: str) -> int:
        return len(text)


def make_environ(path: str, query: str = "", method: str = "GET") -> dict[str, Any]:
    """A request environ as a typical WSGI server builds it for a browser's GET."""
    return {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": "",
        "HTTP_HOST": "127.0.0.1:8080",
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101",
        "HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.5",
        "HTTP_ACCEPT_ENCODING": "gzip, deflate, br",
        "HTTP_CONNECTION": "keep-alive",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": _NullErrors(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": wsgiref.util.FileWrapper,
    }


def _ignore_start_response(
    status: str, headers: list[tuple[str, str]], exc_info: Any = None
) -> Any:
    return None


@dataclass(frozen=True)
class Response:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


def call(app: WSGIApp, environ: dict[str, Any]) -> Response:
    """One request, keeping what the app answered (for checking, not for timing)."""
    seen: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen[:] = [status, headers]

    body = app(dict(environ), start_response)
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return Response(seen[0], seen[1], data)


CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.thread_time, "wall": time.perf_counter}


def _run(
    app: WSGIApp, environ: dict[str, Any], requests: int, clock: Callable[[], float]
) -> float:
    """Seconds for ``requests`` calls of ``app``."""
    start_response = _ignore_start_response
    copy = environ.copy
    gc.collect()
    start = clock()
    for _ in range(requests):
        body = app(copy(), start_response)
        for _chunk in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return clock() - start


@dataclass(frozen=True)
class Comparison:
    """Requests per second of both sides in each round, and their ratios."""

    ours: list[float]
    reference: list[float]

    @property
    def ratios(self) -> list[float]:
        return [o / r for o, r in zip(self.ours, self.reference, strict=True)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def ours_median(self) -> float:
        return statistics.median(self.ours)

    @property
    def reference_median(self) -> float:
        return statistics.median(self.reference)


def _batch_size(
    app: WSGIApp, environ: dict[str, Any], seconds: float, clock: Callable[[], float]
) -> int:
    """Requests that take about ``seconds`` on ``app`` (at least 10)."""
    requests = 10
    while True:
        elapsed = _run(app, environ, requests, clock)
        if elapsed >= seconds / 4 or requests >= 1_000_000:
            return max(10, int(requests * seconds / max(elapsed, 1e-9)))
        requests *= 4


def compare(
    ours: WSGIApp,
    reference: WSGIApp,
    environ: dict[str, Any],
    *,
    rounds: int,
    batch_seconds: float,
    clock: str = "cpu",
) -> Comparison:
    """Alternate timed batches of both apps; the batch size is fixed from the slower one."""
    timer = CLOCKS[clock]
    _run(ours, environ, 20, timer)  # warm caches (and Bottle's lazily built route callbacks)
    _run(reference, environ, 20, timer)
    requests = min(_batch_size(ours, environ, batch_seconds, timer),
                   _batch_size(reference, environ, batch_seconds, timer))
    ours_rates: list[float] = []
    reference_rates: list[float] = []
    for round_number in range(rounds):
        first_ours = round_number % 4 in (0, 3)  # ABBA: O R, R O, R O, O R, ...
        if first_ours:
            ours_time = _run(ours, environ, requests, timer)
            reference_time = _run(reference, environ, requests, timer)
        else:
            reference_time = _run(reference, environ, requests, timer)
            ours_time = _run(ours, environ, requests, timer)
        ours_rates.append(requests / ours_time)
        reference_rates.append(requests / reference_time)
    return Comparison(ours_rates, reference_rates)
