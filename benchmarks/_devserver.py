"""The ``serve`` figure: how soon ``tincan serve`` answers on a large uncompiled tree.

A fresh copy of the launch tree (``tree.py``, 500 pages, nothing compiled) is
served with ``tincan serve`` as a developer starts it (``python -m tincan_cli
serve``, loopback, the builtin server) in a fresh process. The clock starts
when the process is started and stops when the first page answers 200, polled
every 20 ms over HTTP. The reference is the target of 3 s; the note gives every
round.
"""

from __future__ import annotations

import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from _http import free_port
from _report import Figure

__all__ = ["serve_figure"]

_TARGET_SECONDS = 3.0
_GIVE_UP_SECONDS = 300.0
_FIRST_PAGE = "/dir0/page0.pspx"


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", _FIRST_PAGE)
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        connection.close()


def first_page_seconds(template: str, workdir: str) -> float:
    """Seconds from starting ``tincan serve`` on a fresh copy of ``template`` until
    its first page answers 200."""
    root = tempfile.mkdtemp(prefix="serve-", dir=workdir)
    shutil.rmtree(root)
    shutil.copytree(template, root)
    port = free_port()
    command = [sys.executable, "-m", "tincan_cli", "serve", "-b", "127.0.0.1",
               "-p", str(port), root]  # fmt: skip
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        while not _answers(port):
            if process.poll() is not None or time.perf_counter() - started > _GIVE_UP_SECONDS:
                log.seek(0)
                detail = log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"tincan serve did not answer {_FIRST_PAGE}:\n{detail}")
            time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def serve_figure(workdir: str, pages: int, rounds: int) -> Figure:
    from tree import make_tree

    template = os.path.join(workdir, f"serve-tree-{pages}")
    if not os.path.isdir(template):
        make_tree(template, pages)
    seconds = [first_page_seconds(template, workdir) for _ in range(rounds)]
    median = statistics.median(seconds)
    spread = ", ".join(f"{s:.2f}" for s in seconds)
    return Figure(
        "serve",
        f"tincan serve, first page of an uncompiled {pages}-page tree",
        f"{median:.2f} s",
        "-",
        f"<= {_TARGET_SECONDS:.0f} s",
        median <= _TARGET_SECONDS,
        note=f"{rounds} fresh processes on fresh copies, wall time: {spread} s",
        data={"seconds": seconds},
    )
