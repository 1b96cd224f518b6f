"""Zero-downtime redeploy, for real: nginx in front of gunicorn (two prefork workers).

The two-directory deployment of the README (``install-static``, ``server-config
nginx`` and ``wsgi``, ``tincan compile``, gunicorn) serves a copy of the demo
while client threads send requests without pause: pages, a static file, and
guestbook signatures (POSTs, which nginx never retries). A new version of the
webapp is then deployed as the README says: the tree is updated, ``tincan
compile`` and ``install-static`` run, and gunicorn gets SIGHUP (new workers
launch the new version, the old ones finish what they serve and leave). Not one
request may fail, and the new version must be what is served afterwards.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._deploy import (
    VENV_BIN,
    copy_demo,
    ensure_debian_package,
    free_port,
    server_config,
    start_nginx,
    stop,
    wait_for_port,
)

pytestmark = pytest.mark.slow

OLD_TITLE = "<h1>Welcome to the TinCan guestbook</h1>"
NEW_TITLE = "<h1>Welcome to the TinCan guestbook, version 2</h1>"
NEW_STATIC = "static/version.txt"
LOAD_THREADS = 2


@dataclass
class Site:
    webapp: Path
    static: Path
    nginx_port: int
    gunicorn: subprocess.Popen[bytes]
    gunicorn_log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.nginx_port}{path}"

    def workers(self) -> set[int]:
        children: set[int] = set()
        for task in Path(f"/proc/{self.gunicorn.pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                children |= {int(pid) for pid in (task / "children").read_text().split()}
        return children


def run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    nginx_binary = ensure_debian_package("nginx", ("nginx-light", "nginx"))
    webapp = copy_demo(tmp_path / "webapp")
    static = tmp_path / "static"
    run(str(VENV_BIN / "tincan"), "compile", "-q", str(webapp))
    run(str(VENV_BIN / "install-static"), "-q", str(webapp), str(static))
    app_dir = tmp_path / "wsgi"
    app_dir.mkdir()
    (app_dir / "wsgi.py").write_text(server_config("wsgi", "--webapp", str(webapp)))
    app_port = free_port()
    gunicorn_log = tmp_path / "gunicorn.log"
    gunicorn = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{app_port}",
         "--chdir", str(app_dir), "--graceful-timeout", "30", "wsgi:application"],
        stdout=gunicorn_log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    nginx_port = free_port()
    nginx_conf = server_config(
        "nginx", "--static-dir", str(static), "--webapp", str(webapp),
        "--app-url", f"http://127.0.0.1:{app_port}", "--listen", f"127.0.0.1:{nginx_port}",
        "--server-name", "127.0.0.1",
    )  # fmt: skip
    nginx = start_nginx(nginx_binary, tmp_path / "nginx", nginx_conf)
    try:
        wait_for_port(app_port, gunicorn, gunicorn_log)
        wait_for_port(nginx_port, nginx, tmp_path / "nginx" / "nginx.log")
        yield Site(webapp, static, nginx_port, gunicorn, gunicorn_log)
    finally:
        stop(nginx)
        stop(gunicorn)


@dataclass
class Load:
    """Client threads that request without pause until stopped, keeping every outcome."""

    site: Site
    done: list[tuple[float, str, int, bool]] = field(
        default_factory=list
    )  # time, what, status, new
    failures: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for number in range(LOAD_THREADS):
            thread = threading.Thread(target=self._run, args=(number,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _run(self, number: int) -> None:
        url = self.site.url
        with httpx.Client(timeout=30) as client:
            for signed in itertools.count():
                if self.stopping.is_set():
                    return
                self._one("home", client.get, url("/"))
                self._one("css", client.get, url("/static/style.css"))
                note = {"name": f"Load {number}", "message": f"Note {signed}"}
                self._one("sign", client.post, url("/guestbook.pspx"), data=note)
                self._one("entries", client.get, url("/entries.pspx"))

    def _one(self, what: str, send: Callable[..., httpx.Response], *args: Any, **kw: Any) -> None:
        try:
            response = send(*args, **kw)
        except httpx.HTTPError as exc:
            self.failures.append(f"{what}: {type(exc).__name__}: {exc}")
            return
        # A signature is answered with a redirect to its entry (Post/Redirect/Get).
        expected = (303, "/entry/") if what == "sign" else (200, "")
        got = response.headers.get("location", "") if what == "sign" else ""
        if response.status_code != expected[0] or expected[1] not in got:
            self.failures.append(f"{what}: {response.status_code} {response.text[:200]!r}")
        new = NEW_TITLE in response.text if what == "home" else False
        self.done.append((time.monotonic(), what, response.status_code, new))

    def count(self) -> int:
        return len(self.done)

    def wait_for(self, requests: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        target = self.count() + requests
        while self.count() < target:
            assert time.monotonic() < deadline, f"only {self.count()} requests done"
            assert not self.failures, self.failures
            time.sleep(0.05)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)


def deploy_new_version(site: Site) -> None:
    """The README's update steps: new files in the tree, compile, install-static."""
    index = site.webapp / "index.pspx"
    index.write_text(index.read_text().replace(OLD_TITLE, NEW_TITLE))
    (site.webapp / NEW_STATIC).write_text("version 2\n")
    run(str(VENV_BIN / "tincan"), "compile", "-q", str(site.webapp))
    run(str(VENV_BIN / "install-static"), "-q", str(site.webapp), str(site.static))


def test_redeploy_under_load_loses_no_request(site: Site) -> None:
    load = Load(site)
    load.start()
    try:
        load.wait_for(100)  # steady load before anything changes
        old_workers = site.workers()
        assert len(old_workers) == 2
        deploy_new_version(site)
        reloaded_at = time.monotonic()
        before_reload = load.count()
        os.kill(site.gunicorn.pid, signal.SIGHUP)  # graceful: new workers, old ones finish
        deadline = time.monotonic() + 120
        while True:
            workers = site.workers()
            homes = [new for _, what, _, new in load.done[before_reload:] if what == "home"]
            if len(workers) == 2 and not workers & old_workers and homes[-20:] == [True] * 20:
                break
            assert time.monotonic() < deadline, (workers, old_workers, homes[-20:])
            assert not load.failures, load.failures
            time.sleep(0.05)
        settled_at = time.monotonic()
        load.wait_for(100)  # and it goes on serving
    finally:
        load.stop()
    assert load.failures == [], "\n".join(load.failures[:20])
    during = [entry for entry in load.done if reloaded_at <= entry[0] <= settled_at]
    old_after_reload = [new for _, what, _, new in load.done[before_reload:] if what == "home"]
    print(
        f"\n{load.count()} requests, none failed; {len(during)} of them during the "
        f"{settled_at - reloaded_at:.1f} s of the reload "
        f"({old_after_reload.count(False)} homes of the old version after SIGHUP)"
    )
    assert during, "no request ran while the workers were replaced"
    # Once the old workers are gone, only the new version answers.
    with httpx.Client(timeout=30) as client:
        for _ in range(10):
            assert NEW_TITLE in client.get(site.url("/")).text
        new_static = client.get(site.url("/" + NEW_STATIC))
        assert (new_static.status_code, new_static.text) == (200, "version 2\n")
    log = site.gunicorn_log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
