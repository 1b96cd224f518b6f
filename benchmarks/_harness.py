"""The ``harness`` figure: how long the first test of a session takes under tincan-testing.

A project is written to a temporary directory: the launch benchmark's tree
(``tree.py``, 65 pages by default) as ``site/``, and one test module whose
first test uses ``tincan_client`` with ``@pytest.mark.tincan("site")``. pytest
runs it in fresh processes; a conftest records what pytest reports as the
duration of that first test (setup, call and teardown: copying or resetting the
webapp, launching it, one request). The first session starts with an empty
pytest cache (every template compiled); the later ones find the copy and its
compiled templates in the cache, as a developer's second ``pytest`` run does.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

from _report import Figure

__all__ = ["harness_figure"]

_TARGET_MS = 50.0

_CONFTEST = '''
import json, os, time

import pytest

_durations = {}

def pytest_runtest_logreport(report):
    if report.nodeid.endswith("test_first"):
        _durations[report.when] = report.duration

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    started = time.thread_time()
    yield
    if item.name == "test_first":
        _durations["cpu"] = time.thread_time() - started

def pytest_sessionfinish(session):
    with open(os.environ["TINCAN_BENCH_REPORT"], "w") as f:
        json.dump(_durations, f)
'''

_TESTS = '''
import pytest

pytestmark = pytest.mark.tincan("../site")


def test_first(tincan_client):
    assert tincan_client.get("/dir0/page0.pspx").status_code == 200


def test_second(tincan_client):
    assert tincan_client.get("/dir0/page1.pspx").status_code == 200
'''


def _session(project: str) -> dict[str, float]:
    report = os.path.join(project, "durations.json")
    env = {**os.environ, "TINCAN_BENCH_REPORT": report, "PYTHONDONTWRITEBYTECODE": ""}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "tests"],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the harness benchmark's tests failed:\n{done.stdout[-2000:]}")
    with open(report, encoding="utf-8") as f:
        durations: dict[str, float] = json.load(f)
    return durations


def _total_ms(durations: dict[str, float], clock: str) -> float:
    if clock == "cpu":
        return 1000 * durations.get("cpu", 0.0)
    return 1000 * sum(durations.get(phase, 0.0) for phase in ("setup", "call", "teardown"))


def _age(root: str, seconds: float) -> None:
    """Date every file of ``root`` back, as the files of a checked-out project are: TinCan
    writes no bytecode for a code-behind saved in the last moments (it may be saved again)."""
    when = time.time() - seconds
    for directory, _, names in os.walk(root):
        for name in names:
            os.utime(os.path.join(directory, name), (when, when))


def harness_figure(workdir: str, pages: int, sessions: int, clock: str = "cpu") -> Figure:
    from tree import make_tree

    project = os.path.join(workdir, "harness")
    shutil.rmtree(project, ignore_errors=True)
    make_tree(os.path.join(project, "site"), pages=pages)
    _age(os.path.join(project, "site"), 3600)
    os.makedirs(os.path.join(project, "tests"))
    with open(os.path.join(project, "tests", "conftest.py"), "w", encoding="utf-8") as f:
        f.write(_CONFTEST)
    with open(os.path.join(project, "tests", "test_site.py"), "w", encoding="utf-8") as f:
        f.write(_TESTS)
    with open(os.path.join(project, "pytest.ini"), "w", encoding="utf-8") as f:
        f.write("[pytest]\n")

    cold = _session(project)
    warm = [_session(project) for _ in range(sessions)]
    shutil.rmtree(project, ignore_errors=True)
    cold_ms = _total_ms(cold, "wall")  # its compile workers are other processes: elapsed
    warm_ms = [_total_ms(d, clock) for d in warm]
    wall_ms = [_total_ms(d, "wall") for d in warm]
    median = statistics.median(warm_ms)
    phases: dict[str, Any] = {
        phase: round(1000 * statistics.median(d.get(phase, 0.0) for d in warm), 1)
        for phase in ("setup", "call", "teardown")
    }
    return Figure(
        "harness", f"first test of a session, {pages}-page app (ms)", f"{median:.0f} ms",
        f"{cold_ms:.0f} ms elapsed, empty cache", f"<= {_TARGET_MS:.0f} ms",
        median <= _TARGET_MS,
        ratio=cold_ms / statistics.median(wall_ms) if median else None,
        note=f"{clock} time of the test's setup, call and teardown in the pytest process, "
        f"median of {sessions} fresh sessions after the first ({min(warm_ms):.0f}-"
        f"{max(warm_ms):.0f} ms); as pytest reports it (elapsed) {statistics.median(wall_ms):.0f}"
        f" ms: setup {phases['setup']}, call {phases['call']}, teardown {phases['teardown']}; "
        "the ratio is elapsed time, empty cache over kept cache (the empty-cache session "
        "compiles every template, in worker processes)",
        data={"cold": cold, "warm": warm, "pages": pages, "clock": clock},
    )
