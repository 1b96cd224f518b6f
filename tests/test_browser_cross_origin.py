"""Cross-origin protection in a real browser: headless Chromium against the demo.

The demo runs under ``tincan serve --static`` on 127.0.0.1. Chromium (Debian's
``chromium``, installed with apt-get when missing, as nginx is) loads a page
and ``--dump-dom`` prints the document it ends on:

* from the demo's own origin, a page takes the guestbook's sign form from
  ``/guestbook.pspx`` as the demo serves it, fills it in and submits it: the
  guestbook is signed (the thank-you page, the new entry listed);
* from another loopback port, a page submits a form to the demo's guestbook,
  urlencoded and ``text/plain``: each is refused with 403 (the demo's error
  page), and nothing is signed.

Chromium decides the ``Sec-Fetch-Site`` and ``Origin`` headers itself; nothing
here sets them. No driver library: each case is one ``chromium --headless
--dump-dom`` run of a page that submits its form while it loads.
"""

from __future__ import annotations

import html
import http.server
import re
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests._deploy import copy_demo, ensure_debian_package, free_port, stop, wait_for_port

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip

# Each page submits its form while it is being parsed, so the navigation starts
# before the page has loaded and --dump-dom waits for the page the submission
# ends on. (A submission from onload needs --virtual-time-budget, with which this
# Chromium often never exits after a cross-site navigation.)

# Served by the demo itself (same origin): takes the sign form from the guestbook as
# the demo serves it (a synchronous request, so it is there while the page parses),
# fills it in and submits it.
SIGN_WITH_THE_DEMOS_FORM = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>sign</title></head>
<body>
<script>
const request = new XMLHttpRequest();
request.open("GET", "/guestbook.pspx", false);
request.send();
const page = new DOMParser().parseFromString(request.responseText, "text/html");
const form = document.adoptNode(page.querySelector("form.sign"));
form.elements["name"].value = "__NAME__";
form.elements["message"].value = "__MESSAGE__";
document.body.appendChild(form);
form.submit();
</script>
</body></html>
"""

# Served from another port (another origin): a form aimed at the demo.
FOREIGN_FORM = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>elsewhere</title></head>
<body>
<form method="post" action="__ACTION__" enctype="__ENCTYPE__">
<input name="name" value="__NAME__"><textarea name="message">__MESSAGE__</textarea>
</form>
<script>document.forms[0].submit();</script>
</body></html>
"""


@dataclass
class Demo:
    port: int
    root: Path
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def access_log(self) -> list[str]:
        return [line for line in self.log.read_text(errors="replace").splitlines() if '"' in line]


@pytest.fixture(scope="module")
def chromium() -> str:
    return ensure_debian_package("chromium", ("chromium",))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    base = tmp_path_factory.mktemp("browser-demo")
    root = copy_demo(base / "demo")
    (root / "sign.html").write_text(SIGN_WITH_THE_DEMOS_FORM)  # a static file: same origin
    port = free_port()
    log = base / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tincan_cli", "serve", "--static",
             "-b", "127.0.0.1", "-p", str(port), str(root)],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_port(port, process, log)
        yield Demo(port, root, log)
    finally:
        stop(process, signal.SIGINT, 30)
    assert "Traceback" not in log.read_text(errors="replace")


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[Callable[[str, str], str]]:
    """``elsewhere(name, html)``: the URL of a page served from another loopback port."""
    pages = tmp_path / "elsewhere"
    pages.mkdir()
    handler = partial(QuietHandler, directory=str(pages))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(name: str, text: str) -> str:
        (pages / name).write_text(text)
        return f"http://127.0.0.1:{server.server_port}/{name}"

    try:
        yield serve
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def browse(chromium: str, url: str, profile: Path) -> str:
    """The document Chromium ends on after loading ``url`` (and what it submits)."""
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _fill(template: str, **values: str) -> str:
    for key, value in values.items():
        template = template.replace(f"__{key.upper()}__", value)
    return template


def entries(demo: Demo) -> str:
    return httpx.get(demo.url("/entries.pspx"), timeout=30).text


def test_the_demos_own_form_signs_the_guestbook(chromium: str, demo: Demo, tmp_path: Path) -> None:
    name, message = "Browser Bea", f"Signed by Chromium {uuid.uuid4().hex[:8]}"
    page = (demo.root / "sign.html").read_text()
    (demo.root / "sign.html").write_text(_fill(page, name=name, message=message))
    dom = browse(chromium, demo.url("/sign.html"), tmp_path / "profile")
    assert f"Thank you, {name}!" in dom, dom[-2000:]  # the flash message on the entry's page
    assert html.escape(message) in entries(demo)
    # the form's action is the clean URL url_for() wrote
    assert any('"POST /guestbook HTTP/1.1" 303' in line for line in demo.access_log())


@pytest.mark.parametrize(
    "enctype", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]
)
def test_a_form_from_another_origin_is_refused(
    chromium: str,
    demo: Demo,
    elsewhere: Callable[[str, str], str],
    tmp_path: Path,
    enctype: str,
) -> None:
    message = f"Forged {uuid.uuid4().hex[:8]}"
    form = _fill(
        FOREIGN_FORM, action=demo.url("/guestbook.pspx"), enctype=enctype,
        name="Mallory", message=message,
    )  # fmt: skip
    refused_before = sum(
        '"POST /guestbook.pspx HTTP/1.1" 403' in line for line in demo.access_log()
    )
    dom = browse(chromium, elsewhere("attack.html", form), tmp_path / "profile")
    # The browser ends on the demo's 403 page, through its error pages.
    assert re.search(r"<h1[^>]*>\s*403 Forbidden\s*</h1>", dom), dom[-2000:]
    assert "Thank you" not in dom
    assert message not in entries(demo)
    refused = sum('"POST /guestbook.pspx HTTP/1.1" 403' in line for line in demo.access_log())
    assert refused == refused_before + 1
