"""Throughput over HTTP: TinCan against a reference, each under a real server.

Both servers run in their own subprocess on a loopback port; one client in this
process sends a fixed number of requests to one, then the other, alternating in
ABBA rounds (keep-alive where the server keeps connections open; gunicorn's
sync workers close each one, so that client reconnects, on both sides alike).
With the "cpu" clock a round is timed by the CPU time the server used, its
worker processes included (from /proc, where there is one), which machine load
does not inflate; with "wall" by the client's elapsed time.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from types import TracebackType

from _report import Figure, ratio_figure
from _timing import Comparison

__all__ = ["HTTP_FIGURES", "free_port", "http_comparison", "http_figures"]

_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_child.py")
_STARTUP_SECONDS = 60


def free_port() -> int:
    """A loopback port free at the moment of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _descendants(pid: int) -> list[int]:
    found = [pid]
    for parent in found:
        for task in os.listdir(f"/proc/{parent}/task") if os.path.isdir(f"/proc/{parent}") else ():
            try:
                with open(f"/proc/{parent}/task/{task}/children") as f:
                    found += [int(child) for child in f.read().split()]
            except OSError:
                continue
    return found


def _process_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0  # gone in the meantime
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Server:
    """A server (waitress, gunicorn or TinCan's builtin) in a subprocess, stopped on exit."""

    def __init__(self, side: str, root: str, server: str = "waitress") -> None:
        self.side = side
        self.root = root
        self.server = server
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> _Server:
        port = free_port() if self.server == "gunicorn" else 0
        self.process = subprocess.Popen(
            [sys.executable, _CHILD, "serve", self.side, self.root, self.server, str(port)],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the child prints its port once listening
        if not line:
            self.process.wait(_STARTUP_SECONDS)
            self.stderr.seek(0)
            detail = self.stderr.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{self.side} server did not start: {detail}")
        self.port = int(json.loads(line)["port"])
        self._wait_until_answering()
        return self

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + _STARTUP_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
                return
            except OSError:
                assert self.process is not None
                if self.process.poll() is not None or time.monotonic() > deadline:
                    failed = f"{self.side} server ({self.server}) did not start"
                    raise RuntimeError(failed) from None
                time.sleep(0.1)

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the server's processes so far (gunicorn's
        workers are found again each time: they start after the port is bound)."""
        assert self.process is not None
        return sum(_process_cpu(pid) for pid in _descendants(self.process.pid))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            assert self.process.stdout is not None
            self.process.stdout.close()
        self.stderr.close()


def _run(server: _Server, target: str, requests: int, cpu: bool) -> float:
    """Seconds (server CPU or client wall) that ``requests`` GETs of ``target`` took."""
    clock = server.cpu_seconds if cpu else time.perf_counter
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        start = clock()
        for _ in range(requests):
            connection.request("GET", target)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {target} ({server.side}) answered {response.status}")
        return max(clock() - start, 1e-9)
    finally:
        connection.close()


def http_comparison(
    root: str, target: str, rounds: int, requests: int, cpu: bool,
    ours_side: tuple[str, str] = ("ours", "waitress"),
    reference_side: tuple[str, str] = ("reference", "waitress"),
) -> Comparison:  # fmt: skip
    """``ours_side`` and ``reference_side`` are (app, server) pairs, as _child.py takes."""
    with (
        _Server(ours_side[0], root, ours_side[1]) as ours,
        _Server(reference_side[0], root, reference_side[1]) as reference,
    ):
        _run(ours, target, 50, cpu)
        _run(reference, target, 50, cpu)
        ours_rates: list[float] = []
        reference_rates: list[float] = []
        for round_number in range(rounds):
            if round_number % 4 in (0, 3):
                ours_time = _run(ours, target, requests, cpu)
                reference_time = _run(reference, target, requests, cpu)
            else:
                reference_time = _run(reference, target, requests, cpu)
                ours_time = _run(ours, target, requests, cpu)
            ours_rates.append(requests / ours_time)
            reference_rates.append(requests / reference_time)
    return Comparison(ours_rates, reference_rates)


# name: (label, (our app, server), (reference app, server), target or None to just print)
HTTP_FIGURES: dict[str, tuple[str, tuple[str, str], tuple[str, str], float | None]] = {
    "waitress": ("page over HTTP, waitress (req/s)", ("ours", "waitress"),
                 ("reference", "waitress"), 1.0),
    "gunicorn": ("page over HTTP, gunicorn sync x2 (req/s)", ("ours", "gunicorn"),
                 ("reference", "gunicorn"), 1.0),
    "gunicorn-flask": ("page over HTTP, gunicorn, vs Flask + Jinja2 (req/s)",
                       ("ours", "gunicorn"), ("flask", "gunicorn"), 2.0),
    "builtin": ("page over HTTP, builtin server vs waitress (req/s)", ("ours", "builtin"),
                ("ours", "waitress"), None),
    # The ceiling of the Flask figure: gunicorn's own cost per request bounds any app.
    "gunicorn-ceiling": ("prebuilt bytes over HTTP, gunicorn, vs Flask (req/s)",
                         ("prebuilt", "gunicorn"), ("flask", "gunicorn"), None),
}  # fmt: skip


def http_figures(root: str, target: str, rounds: int, requests: int, clock: str) -> list[Figure]:
    cpu = clock == "cpu" and os.path.exists(f"/proc/{os.getpid()}/stat")
    timed_by = "server CPU time (workers included)" if cpu else "wall time"
    figures = []
    for name, (label, ours, reference, goal) in HTTP_FIGURES.items():
        comparison = http_comparison(root, target, rounds, requests, cpu, ours, reference)
        note = f"{requests} requests a round, {timed_by}"
        figure = ratio_figure(f"http-{name}", label, comparison, goal or 0.0, note)
        if goal is None:
            figure.target, figure.informational = "-", True
        figures.append(figure)
    return figures
