"""The builtin server at the open-file limit and under many connections, in a subprocess.

The server runs in a process of its own with ``RLIMIT_NOFILE`` lowered, so that
running out of descriptors (EMFILE) is real and touches nothing else.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

resource = pytest.importorskip("resource")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc"),
]

OPEN_FILES = 64  # the server process's soft limit

SERVER = """
import logging, os, resource, sys, threading
import tincan_core

limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")
hogged = []

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"fine"]

def commands():
    for line in sys.stdin:
        if line.strip() == "hog":  # take every free descriptor, as a leaky app would
            try:
                while True:
                    hogged.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                pass
        elif line.strip() == "release":
            while hogged:
                os.close(hogged.pop())
        print("done", flush=True)

# A limit far above the descriptors there are: running out of them must be survived.
server = tincan_core.make_server(app, "127.0.0.1", 0, max_connections=10_000)
threading.Thread(target=commands, daemon=True).start()
print(server.server_port, flush=True)
server.serve_forever()
"""


class ServerProcess:
    def __init__(self, tmp_path: Path) -> None:
        self.stderr_path = tmp_path / "server.err"
        with self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-c", SERVER, str(OPEN_FILES)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())

    def command(self, text: str) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "done"

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def get(self) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}/", timeout=30)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path)
    yield process
    process.process.kill()
    process.process.wait()


def test_running_out_of_descriptors_neither_spins_nor_stops_the_server(
    server: ServerProcess,
) -> None:
    kept = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    kept.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert kept.recv(65536).startswith(b"HTTP/1.1 200 OK")
    server.command("hog")
    waiting = socket.create_connection(("127.0.0.1", server.port), timeout=30)  # in the backlog
    waiting.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    before = server.cpu_seconds()
    time.sleep(2)
    burnt = server.cpu_seconds() - before
    print(f"\nCPU time of the server in 2 s without descriptors: {burnt:.2f} s")
    # A loop retrying accept() at once would take a whole core: about 2 s here.
    assert burnt < 1.0
    assert server.process.poll() is None
    assert server.stderr.count("cannot accept connections (Too many open files)") == 1
    # Once the app lets go, the waiting client is served, and the open connection lives on.
    server.command("release")
    assert waiting.recv(65536).startswith(b"HTTP/1.1 200 OK")
    kept.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert kept.recv(65536).startswith(b"HTTP/1.1 200 OK")
    assert server.get().text == "fine"
    assert "Traceback" not in server.stderr
    kept.close()
    waiting.close()


def test_more_connections_than_descriptors_still_serve_a_newcomer(server: ServerProcess) -> None:
    slow = []
    for _ in range(3 * OPEN_FILES):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")  # never finished
        slow.append(sock)
    try:
        assert server.get().text == "fine"
        assert server.get().text == "fine"
    finally:
        for sock in slow:
            sock.close()
    assert server.process.poll() is None
    assert "at most" in server.stderr  # the limit it learnt
    assert "Traceback" not in server.stderr


def test_many_slow_connections_hold_little_memory(tmp_path: Path) -> None:
    """Each connection that never ends its head costs at most the 32 KiB it may send."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1300:
        pytest.skip(f"the hard open-file limit ({hard}) is below 1300")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    script = SERVER.replace("max_connections=10_000", "max_connections=10_000, header_timeout=120")
    stderr = (tmp_path / "err").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(min(hard, 4096))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())

        def rss() -> int:
            for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
            raise AssertionError("no VmRSS")

        httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
        before = rss()
        slow = []
        head = b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X-Filler: " + b"y" * 30_000 + b"\r\n"
        for _ in range(1000):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(head)
            slow.append(sock)
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=30).text == "fine"
        grown = rss() - before
        print(f"\n1,000 unfinished 30 KB heads: the server grew by {grown / 2**20:.1f} MiB")
        assert grown < 1000 * 100 * 1024  # the wsgiref server held ~5.7 MB each
        for sock in slow:
            sock.close()
    finally:
        process.kill()
        process.wait()
        stderr.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
