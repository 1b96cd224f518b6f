"""``tincan serve --reload``: the watcher, the app swap, and a real server picking up edits."""

from __future__ import annotations

import os
import py_compile
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import tincan
from tincan_cli._reload import Reloader, SwappableApp, snapshot

POLL_BOUND = 60.0  # seconds; generous, never asserted as a duration


def render(app: Any, path: str = "/") -> str:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        return client.get(path).text.strip()


def make_reloader(
    root: Path, *, static: bool = False, keep_broken: bool = False
) -> tuple[Reloader, list[str]]:
    initial = snapshot(str(root), static=static)
    app, errors = tincan.launch(root, static=static)
    assert app is not None and errors == 0
    reports: list[str] = []
    reloader = Reloader(
        SwappableApp(app),
        str(root),
        lambda: tincan.launch(root, static=static),
        static=static,
        initial=initial,
        report=reports.append,
        keep_broken=keep_broken,
    )
    return reloader, reports


def test_snapshot_covers_what_a_launch_reads(make_webapp: Any) -> None:
    root = make_webapp(
        {
            "index.pspx": "x",
            "index.py": "",
            "macros.pt": "",
            "style.css": "",
            "WEB-INF/lib/helper.py": "",
            "WEB-INF/tlib/layout.pt": "",
            "__pycache__/index.cpython-311.pyc": "",
            "WEB-INF/.tincan-cache/abc": "",
            ".hidden.pspx": "",
        }
    )
    assert set(snapshot(str(root), static=False)) == {
        "index.pspx",
        "index.py",
        "macros.pt",
        "WEB-INF/lib/helper.py",
        "WEB-INF/tlib/layout.pt",
    }
    assert "style.css" in snapshot(str(root), static=True)


def test_edit_swaps_in_the_new_app(make_webapp: Any) -> None:
    root = make_webapp({"index.pspx": "<p>first</p>\n"})
    reloader, reports = make_reloader(root)
    assert reloader.check() is False  # nothing changed yet
    (root / "index.pspx").write_text("<p>second version</p>\n")
    assert reloader.check() is True
    assert render(reloader.target) == "<p>second version</p>"
    assert reports == ["changed: index.pspx; reloading", "reloaded: 2 route(s)"]


def test_a_broken_launch_keeps_the_last_good_app(make_webapp: Any) -> None:
    root = make_webapp({"index.pspx": "<p>good</p>\n"})
    reloader, reports = make_reloader(root)
    good = reloader.target.current
    (root / "index.pspx").write_text("#nonsense\n<p>bad</p>\n")
    assert reloader.check() is True
    assert reloader.target.current is good
    assert render(reloader.target) == "<p>good</p>"
    assert reports[-1] == "1 error(s) detected, still serving the previous version"
    (root / "index.pspx").write_text("<p>fixed again</p>\n")
    reloader.check()
    assert render(reloader.target) == "<p>fixed again</p>"


def test_keep_broken_installs_a_launch_with_errors(make_webapp: Any) -> None:
    root = make_webapp({"index.pspx": "<p>good</p>\n"})
    reloader, reports = make_reloader(root, keep_broken=True)
    (root / "other.pspx").write_text("#nonsense\n")
    reloader.check()
    assert reports[-1] == "reloaded with 1 error(s): 2 route(s)"


def test_lib_modules_and_code_behind_are_imported_again(make_webapp: Any) -> None:
    root = make_webapp(
        {
            "WEB-INF/lib/reload_test_words.py": "WORD = 'alpha'\n",
            "index.py": (
                "import reload_test_words\nfrom tincan import Page\n\n\n"
                "class Home(Page):\n    word = reload_test_words.WORD\n"
            ),
            "index.pspx": "<p>${word}</p>\n",
        }
    )
    lib = root / "WEB-INF/lib/reload_test_words.py"
    second = 1_700_000_000 * 10**9
    os.utime(lib, ns=(second + 100, second + 100))
    py_compile.compile(str(lib), doraise=True)  # as an import would, were bytecode written
    reloader, _ = make_reloader(root)
    assert render(reloader.target) == "<p>alpha</p>"
    # Same size, same second: Python's own bytecode check would not notice the edit.
    lib.write_text("WORD = 'gamma'\n")
    os.utime(lib, ns=(second + 200, second + 200))
    assert reloader.check() is True
    assert render(reloader.target) == "<p>gamma</p>"


def test_static_files_are_watched_only_when_served(make_webapp: Any) -> None:
    root = make_webapp({"index.pspx": "<p>x</p>\n"})
    plain, _ = make_reloader(root)
    (root / "new.css").write_text("p {}\n")
    assert plain.check() is False
    with_static, _ = make_reloader(root, static=True)
    (root / "newer.css").write_text("p {}\n")
    assert with_static.check() is True
    assert render(with_static.target, "/newer.css") == "p {}"


def test_requests_in_flight_finish_on_the_old_app() -> None:
    def app(text: str) -> Callable[..., Any]:
        def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            if environ["PATH_INFO"] == "/swap":
                swappable.current = new
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [text.encode()]

        return wsgi

    old, new = app("old"), app("new")
    swappable = SwappableApp(old)
    assert render(swappable, "/swap") == "old"
    assert render(swappable, "/") == "new"


def poll(condition: Callable[[], bool], what: str, server: Any) -> None:
    deadline = time.monotonic() + POLL_BOUND
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen\nstderr:\n{server.stderr}")
        time.sleep(0.1)


@pytest.mark.slow
def test_serve_reload_shows_a_broken_page_and_brings_it_back(
    start_server: Any, tincan_cmd: Any, make_webapp: Any
) -> None:
    root = make_webapp({"index.pspx": "<p>version one</p>\n", "other.pspx": "<p>other</p>\n"})
    server = start_server(tincan_cmd("serve", "--reload", str(root)))
    assert server.get("/").text.strip() == "<p>version one</p>"

    (root / "index.pspx").write_text("<p>version two, edited</p>\n")
    poll(lambda: server.get("/").text.strip() == "<p>version two, edited</p>", "reload", server)

    # The edit breaks the index page: its routes show its launch errors, with the line.
    (root / "index.pspx").write_text("<p>kept</p>\n<p tal:nonsense='1'>broken</p>\n")
    (root / "other.pspx").write_text("<p>other, edited with it</p>\n")
    poll(lambda: server.get("/").status_code == 500, "broken page", server)
    for path in ("/", "/index.pspx"):
        page = server.get(path)
        assert page.status_code == 500
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert f"{root / 'index.pspx'}:2" in page.text
        assert "did not launch" in page.text
        assert "tal:nonsense" in page.text  # the source line around the error
    # Every other page is the new launch's.
    assert server.get("/other.pspx").text.strip() == "<p>other, edited with it</p>"
    poll(lambda: f"{root / 'index.pspx'}:2: template error" in server.stderr, "report", server)

    # Fixed: the page comes back.
    (root / "index.pspx").write_text("<p>version three</p>\n")
    poll(lambda: server.get("/").status_code == 200, "fixed page", server)
    assert server.get("/").text.strip() == "<p>version three</p>"

    finished = server.stop(signal.SIGINT)
    assert finished.returncode == 0
    assert "Traceback" not in finished.stderr


@pytest.mark.slow
def test_serve_reload_without_the_debug_page_answers_a_plain_500(
    start_server: Any, tincan_cmd: Any, make_webapp: Any
) -> None:
    root = make_webapp({"index.pspx": "#bogus\n<p>broken from the start</p>\n"})
    server = start_server(tincan_cmd("serve", "--reload", "--no-debug-page", str(root)))
    page = server.get("/")
    assert page.status_code == 500
    assert str(root) not in page.text and "bogus" not in page.text
    assert "1 error(s) detected, serving the other pages (they answer 500)" in server.stderr
    (root / "index.pspx").write_text("<p>fixed</p>\n")
    poll(lambda: server.get("/").status_code == 200, "fixed page", server)
    assert server.get("/").text.strip() == "<p>fixed</p>"
    assert server.stop().returncode == 0
