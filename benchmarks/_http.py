"""Throughput over HTTP: TinCan and the hand-written app, each under waitress.

Both servers run in their own subprocess on a loopback port; one keep-alive
client in this process sends a fixed number of requests to one, then the other,
alternating in ABBA rounds. With the "cpu" clock a round is timed by the CPU
time the server process used (from /proc, where there is one), which machine
load does not inflate; with "wall" by the client's elapsed time.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from types import TracebackType

from _report import Figure, ratio_figure
from _timing import Comparison

__all__ = ["http_comparison", "http_figure"]

_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_child.py")
_STARTUP_SECONDS = 60


class _Server:
    """A waitress server in a subprocess, stopped on exit."""

    def __init__(self, side: str, root: str) -> None:
        self.side = side
        self.root = root
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> _Server:
        self.process = subprocess.Popen(
            [sys.executable, _CHILD, "serve", self.side, self.root],
            stdout=subprocess.PIPE, stderr=self.stderr,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the child prints its port once listening
        if not line:
            self.process.wait(_STARTUP_SECONDS)
            self.stderr.seek(0)
            detail = self.stderr.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{self.side} server did not start: {detail}")
        self.port = int(json.loads(line)["port"])
        return self

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the server process so far."""
        assert self.process is not None
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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
    root: str, target: str, rounds: int, requests: int, cpu: bool
) -> Comparison:
    with _Server("ours", root) as ours, _Server("reference", root) as reference:
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


def http_figure(root: str, target: str, rounds: int, requests: int, clock: str) -> Figure:
    cpu = clock == "cpu" and os.path.exists(f"/proc/{os.getpid()}/stat")
    comparison = http_comparison(root, target, rounds, requests, cpu)
    timed_by = "server CPU time" if cpu else "wall time"
    return ratio_figure(
        "http", "page over HTTP, waitress (req/s)", comparison, 0.95,
        f"{requests} keep-alive requests a round, {timed_by}",
    )

