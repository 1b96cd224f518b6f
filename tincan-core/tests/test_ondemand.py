"""``launch_on_demand``: routes at once, pages compiled when first requested and in the
background, broken pages answering with their launch errors."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import tincan_core
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_core import OnDemandLaunch, _ondemand, launch_on_demand
from tincan_core._launcherrors import error_context
from tincan_testing.strategies import webapp_trees

LAYOUT = (
    '<html metal:define-macro="page"><body><main metal:define-slot="content">x</main>'
    "</body></html>\n"
)
SITE = {
    "WEB-INF/tlib/layout.pt": LAYOUT,
    "index.pspx": "#load <layout.pt>\n<html metal:use-macro=\"layout.macros['page']\">"
    '<main metal:fill-slot="content"><p>${word}</p></main></html>\n',
    "index.py": "from tincan import Page\n\n\nclass Home(Page):\n    word = 'home'\n",
    "about.pspx": "<p>about</p>\n",
    "broken.pspx": "<p>fine</p>\n<p tal:nonsense='1'>not fine</p>\n",
    "moved.pspx": "#forward about.pspx\n",
    "oops.pspx": "#errors\n<p>error page for ${error.status_code}</p>\n",
}


def write(root: Path, files: Mapping[str, str]) -> Path:
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "WEB-INF").mkdir(exist_ok=True)
    return root


def get(app: Any, path: str) -> httpx.Response:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        return client.get(path)


def launched(root: Path, **kwargs: Any) -> tuple[OnDemandLaunch, Any]:
    started = launch_on_demand(root, **kwargs)
    assert started.app is not None
    return started, started.app


def test_pages_compile_when_first_requested(tmp_path: Path) -> None:
    started, app = launched(write(tmp_path, SITE))
    assert started.errors == 0  # nothing compiled yet: the template error is not known
    assert started.compiled == 0
    assert get(app, "/").text.strip() == "<html><body><main><p>home</p></main></body></html>"
    assert started.compiled == 1
    assert get(app, "/moved.pspx").text.strip() == "<p>about</p>"
    assert get(app, "/nowhere.pspx").text.strip() == "<p>error page for 404</p>"
    assert started.errors == 0


def test_a_broken_page_answers_with_its_launch_errors(tmp_path: Path) -> None:
    root = write(tmp_path, SITE)
    started, app = launched(root, debug=True)
    page = get(app, "/broken.pspx")
    assert page.status_code == 500
    assert page.headers["cache-control"] == "no-store"
    assert f"{root / 'broken.pspx'}:2" in page.text
    assert "template error" in page.text
    assert "1  &lt;p&gt;fine&lt;/p&gt;" in page.text  # the lines around it
    assert started.errors == 1
    assert get(app, "/about.pspx").status_code == 200  # every other page is served


def test_without_debug_a_broken_page_is_the_webapps_plain_500(tmp_path: Path) -> None:
    root = write(tmp_path, SITE)
    _, app = launched(root)
    page = get(app, "/broken.pspx")
    assert page.status_code == 500
    assert page.text.strip() == "<p>error page for 500</p>"  # the webapp's own error page


def test_a_broken_error_page_shows_its_errors_in_place_of_the_error(tmp_path: Path) -> None:
    root = write(tmp_path, {**SITE, "oops.pspx": "#errors\n<p tal:wrong='x'>oops</p>\n"})
    _, shown = launched(root, debug=True)
    page = get(shown, "/nowhere.pspx")
    assert page.status_code == 500
    assert f"{root / 'oops.pspx'}:2" in page.text
    _, plain = launched(root)
    page = get(plain, "/nowhere.pspx")
    assert page.status_code == 404
    assert str(root) not in page.text


def test_header_errors_are_found_at_launch_and_keep_a_route(tmp_path: Path) -> None:
    root = write(tmp_path, {"index.pspx": "<p>ok</p>\n", "bad.pspx": "#bogus\n<p>x</p>\n"})
    started, app = launched(root, debug=True)
    assert started.errors == 1
    page = get(app, "/bad.pspx")
    assert page.status_code == 500
    assert f"{root / 'bad.pspx'}:1" in page.text
    assert "unknown directive #bogus" in page.text
    # A page whose header cannot be read may be meant for any method.
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        posted = client.post("/bad.pspx", headers={"Sec-Fetch-Site": "same-origin"})
    assert posted.status_code == 500
    assert "unknown directive #bogus" in posted.text


def test_concurrent_first_requests_compile_a_page_once(tmp_path: Path) -> None:
    log = tmp_path / "imports.log"
    slow = (
        "import time\nfrom tincan import Page\n"
        f"with open({str(log)!r}, 'a') as f:\n    f.write('imported\\n')\n"
        "time.sleep(0.5)  # long enough for every thread to ask meanwhile\n\n\n"
        "class Slow(Page):\n    word = 'ready'\n"
    )
    root = write(tmp_path / "site", {"slow.pspx": "<p>${word}</p>\n", "slow.py": slow})
    started, app = launched(root)
    threads = 8
    barrier = threading.Barrier(threads)
    answers: list[tuple[int, str]] = []

    def first_request() -> None:
        barrier.wait()
        answer = get(app, "/slow.pspx")
        answers.append((answer.status_code, answer.text.strip()))

    workers = [threading.Thread(target=first_request) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert answers == [(200, "<p>ready</p>")] * threads
    assert log.read_text() == "imported\n"  # the code-behind ran once: compiled once
    assert started.compiled == 1


def test_the_background_compiles_every_page_into_the_cache(tmp_path: Path) -> None:
    root = write(tmp_path, SITE)
    started, app = launched(root)
    finished: list[OnDemandLaunch] = []
    started.start(jobs=2, on_done=finished.append)
    assert started.wait(120)
    assert finished == [started]
    assert started.complete
    assert started.compiled == started.pages == 5
    assert started.errors == 1  # the broken template, found without a request
    stats = app.config["tincan.stats"]
    assert stats.pages == 5
    classes = {i.file: i.page_class for i in app.route_info if i.file == "index.pspx"}
    assert classes["index.pspx"].endswith(".Home")
    # The cache is filled: a complete launch of the same tree compiles nothing.
    tincan_core._cache.shared_programs.clear()
    again, errors = tincan_core.launch(root)
    assert again is not None and errors == 1
    assert again.config["tincan.stats"].templates_compiled == 0


def test_a_tree_compiled_before_starts_no_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path, SITE)
    first, _ = launched(root)
    first.start(jobs=2)
    assert first.wait(120) and first.complete
    pools: list[object] = []
    real = _ondemand.WorkerPool

    def counted(*args: Any, **kwargs: Any) -> Any:
        pools.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(_ondemand, "WorkerPool", counted)
    tincan_core._cache.shared_programs.clear()
    again, app = launched(root)
    again.start(jobs=2)
    assert again.wait(120) and again.complete
    assert pools == []  # every template was in the cache: nothing to fork for
    assert again.compiled == again.pages == 5
    assert get(app, "/about.pspx").text.strip() == "<p>about</p>"
    # A tree with something left to compile still gets its workers.
    (root / "new.pspx").write_text("<p>new</p>", encoding="utf-8")
    (root / "more.pspx").write_text("<p>more</p>", encoding="utf-8")
    third, _ = launched(root)
    third.start(jobs=2)
    assert third.wait(120) and third.complete
    assert len(pools) == 1


def test_stop_ends_the_background_and_pages_still_compile(tmp_path: Path) -> None:
    root = write(tmp_path, SITE)
    started, app = launched(root)
    started.start(jobs=2)
    started.stop()
    assert started.wait(30)
    assert get(app, "/about.pspx").text.strip() == "<p>about</p>"


def test_launch_stays_eager(tmp_path: Path) -> None:
    root = write(tmp_path, SITE)
    app, errors = tincan_core.launch(root, debug=True)
    assert app is not None and errors == 1  # reported before anything is served
    assert get(app, "/broken.pspx").status_code == 404  # and the page has no route


def test_an_unusable_tree_gives_no_app(tmp_path: Path) -> None:
    started = launch_on_demand(tmp_path / "missing")
    assert started.app is None and started.errors == 1
    started.start()
    assert started.wait(1)


def _answer(app: Any, path: str) -> tuple[int, str, str, str]:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        answer = client.get(path)
    headers = answer.headers
    return (
        answer.status_code,
        answer.text,
        headers.get("content-type", ""),
        headers.get("location", ""),
    )


@settings(max_examples=25)
@given(webapp_trees(max_pages=6, max_static=2))
def test_on_demand_answers_as_a_complete_launch(tree: dict[str, str | bytes]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for relpath, content in tree.items():
            path = root / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        (root / "WEB-INF").mkdir(exist_ok=True)
        eager, errors = tincan_core.launch(root, static=True)
        assert eager is not None and errors == 0
        started = launch_on_demand(root, static=True)
        assert started.app is not None and started.errors == 0
        paths = [i.path for i in eager.route_info if i.path and i.kind != "pattern"]
        for url in [*paths, "/no-such-page.pspx"]:
            assert _answer(started.app, url) == _answer(eager, url), url
        # Once all are compiled, the routes describe the same pages and classes.
        started.start(jobs=1)
        assert started.wait(60) and started.complete
        assert sorted(map(repr, started.app.route_info)) == sorted(map(repr, eager.route_info))


@given(
    st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs", "Zl", "Zp", "Cc"])),
             min_size=1, max_size=30),
    st.integers(min_value=1, max_value=40),
)  # fmt: skip
def test_error_context_shows_the_line_and_its_neighbours(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], line: int
) -> None:
    path = tmp_path_factory.mktemp("ctx") / "page.pspx"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = error_context(os.fspath(path), line)
    numbers = [number for number, _, _ in rows]
    assert numbers == list(range(max(1, line - 3), min(len(lines), line + 3) + 1))
    assert all(text == lines[number - 1] for number, text, _ in rows)
    hits = [number for number, _, hit in rows if hit]
    assert hits == ([line] if line <= len(lines) else [])
