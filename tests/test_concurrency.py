"""Concurrent requests on the threaded server never see each other's state.

Dozens of clients hit pages whose code-behind keeps per-request state on the
page instance, sleeps to force interleaving, and echoes that state back in the
body, a header and a cookie; one page forwards programmatically to a hidden
page. Every response must carry its own request's values and nobody else's,
with ``multithread=True`` and ``multithread=False`` alike.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import tincan
import tincan_core

from tests._secure_tree import forget_webapp, recording

CLIENTS = 48
REQUESTS_PER_CLIENT = 8
# A generous bound that only a hung server reaches; the run takes a few seconds.
OVERALL_TIMEOUT = 120.0

FILES = {
    "WEB-INF/lib/inflight.py": '''
import threading

_lock = threading.Lock()
current = 0
peak = 0


def enter():
    global current, peak
    with _lock:
        current += 1
        peak = max(peak, current)


def leave():
    global current
    with _lock:
        current -= 1
''',
    "WEB-INF/tlib/layout.pt": (
        '<html metal:define-macro="page"><body>'
        '<div metal:define-slot="content"></div></body></html>\n'
    ),
    "echo.pspx": (
        "#load <layout.pt>\n#methods GET POST\n"
        '<html metal:use-macro="layout.macros.page"><div metal:fill-slot="content">'
        '<p id="value">${value}</p><p id="path">${page.request.path}</p>'
        '<p id="seen">${seen}</p></div></html>\n'
    ),
    "echo.py": '''
import random
import time

import inflight
from tincan import Page


class Echo(Page):
    value = "CLASS-DEFAULT"

    def handle(self):
        inflight.enter()
        try:
            self.value = self.request.params.get("v", "")
            time.sleep(random.random() / 200)
            self.response.set_header("X-Echo", self.value)
            self.response.set_cookie("echo", self.value)
            time.sleep(random.random() / 200)
            # What this instance still holds after other requests ran in between.
            self.seen = self.request.params.get("v", "") + "|" + self.value
        finally:
            inflight.leave()
''',
    "forward.pspx": "<p>FORWARD-BODY-NEVER-SENT</p>\n",
    "forward.py": '''
import random
import time

import inflight
from tincan import Page


class Forward(Page):
    def handle(self):
        inflight.enter()
        try:
            value = self.request.query.get("v", "")
            self.response.set_header("X-Forwarded-From", value)
            time.sleep(random.random() / 200)
        finally:
            inflight.leave()
        self.request.app.forward("target.pspx")
''',
    "target.pspx": (
        "#hidden\n#load <layout.pt>\n"
        '<html metal:use-macro="layout.macros.page"><div metal:fill-slot="content">'
        '<p id="value">${value}</p><p id="path">${page.request.path}</p></div></html>\n'
    ),
    "target.py": '''
import random
import time

from tincan import Page


class Target(Page):
    def handle(self):
        self.value = self.request.query.get("v", "")
        time.sleep(random.random() / 200)
        self.response.set_cookie("target", self.value)
''',
    "plain.pspx": '<p id="value">${page.request.query.get("v")}</p>\n',
    "peak.pspx": "<p>${peak}</p>\n",
    "peak.py": '''
import inflight
from tincan import Page


class Peak(Page):
    def handle(self):
        self.peak = inflight.peak
''',
}

VALUE = re.compile(r"c\d+-r\d+-[0-9a-f]{8}")


@dataclass
class Server:
    base_url: str
    root: Path


@pytest.fixture(params=[True, False], ids=["multithread", "single-thread-mode"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    for relpath, text in FILES.items():
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"), encoding="utf-8")
    with recording("test.concurrency") as (logger, log):
        app, errors = tincan.launch(tmp_path, multithread=request.param, logger=logger)
    assert app is not None
    assert errors == 0, log.messages(40)
    httpd = tincan_core.make_server(app, "127.0.0.1", 0)
    thread = tincan_core.serve_in_thread(httpd)
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_port}", tmp_path)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
        forget_webapp(tmp_path)


def _only_value(text: str, value: str) -> None:
    """``value`` is the one request value anywhere in ``text``."""
    assert VALUE.findall(text) == [value] * len(VALUE.findall(text)), (value, text)


def _one_request(client: httpx.Client, kind: str, value: str) -> str | None:
    """Send one request; return a description of what is wrong with the answer, if anything."""
    if kind == "get":
        response = client.get("/echo.pspx", params={"v": value})
    elif kind == "post":
        response = client.post("/echo.pspx", data={"v": value})
    elif kind == "forward":
        response = client.get("/forward.pspx", params={"v": value})
    else:
        response = client.get("/plain.pspx", params={"v": value})
    body = response.text
    try:
        assert response.status_code == 200, response.status_code
        assert f'<p id="value">{value}</p>' in body
        _only_value(body, value)
        cookies = response.headers.get_list("set-cookie")
        if kind in ("get", "post"):
            assert response.headers.get_list("x-echo") == [value]
            assert [c.split(";")[0] for c in cookies] == [f"echo={value}"]
            assert '<p id="path">/echo.pspx</p>' in body
            assert f'<p id="seen">{value}|{value}</p>' in body
        elif kind == "forward":
            assert response.headers.get_list("x-forwarded-from") == [value]
            assert [c.split(";")[0] for c in cookies] == [f"target={value}"]
            assert '<p id="path">/target.pspx</p>' in body
            assert "FORWARD-BODY-NEVER-SENT" not in body
        else:
            assert cookies == []
        for name, header in response.headers.multi_items():
            _only_value(f"{name}: {header}", value)
    except AssertionError as exc:
        return f"{kind} {value}: {exc}\n{response.headers}\n{body}"
    return None


def _client_run(base_url: str, client_id: int, start: threading.Barrier) -> list[str]:
    kinds = ("get", "post", "forward", "plain")
    problems = []
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        start.wait(timeout=30)
        for i in range(REQUESTS_PER_CLIENT):
            value = f"c{client_id}-r{i}-{secrets.token_hex(4)}"
            problem = _one_request(client, kinds[(client_id + i) % len(kinds)], value)
            if problem:
                problems.append(problem)
    return problems


def test_concurrent_requests_keep_their_own_state(server: Server) -> None:
    start = threading.Barrier(CLIENTS)
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(_client_run, server.base_url, n, start) for n in range(CLIENTS)]
        done, pending = wait(futures, timeout=OVERALL_TIMEOUT)
        assert not pending, f"{len(pending)} clients still running after {OVERALL_TIMEOUT}s"
    problems = [p for f in done for p in f.result()]
    assert problems == [], f"{len(problems)} bad responses, first: {problems[0]}"
    with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
        peak = int(re.sub(r"\D", "", client.get("/peak.pspx").text))
    # Proof the run overlapped requests at all; otherwise the test would prove nothing.
    assert peak >= 2, peak
