"""Page traces: which page served a response, with which class and variables."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import tincan
from tincan_core import _hooks
from tincan_testing import PageVisit, Webapp, trace
from tincan_testing.plugin import WebappFactory

FILES = {
    "index.pspx": "<h1>${title}</h1>",
    "index.py": (
        "from tincan import Page\n\n"
        "class Home(Page):\n"
        "    title = 'Home'\n\n"
        "    def handle(self):\n"
        "        self.visitor = self.request.query.get('name', 'nobody')\n"
    ),
    "old.pspx": "#forward new.pspx\n",
    "new.pspx": "#forward hidden.pspx\n",
    "hidden.pspx": "#hidden\n<p>hidden ${page.request.path}</p>",
    "jump.pspx": "<p>never</p>",
    "jump.py": (
        "from tincan import Page\n\n"
        "class Jump(Page):\n"
        "    def handle(self):\n"
        "        self.request.app.forward('hidden.pspx')\n"
    ),
    "boom.pspx": "<p>never</p>",
    "boom.py": (
        "from tincan import Page\n\n"
        "class Boom(Page):\n"
        "    def handle(self):\n"
        "        raise RuntimeError('boom')\n"
    ),
    "errors.pspx": "#errors\n<h1>${error.status_code}</h1>",
    "echo.pspx": "#methods GET POST\n<p>${name}</p>",
    "echo.py": (
        "from tincan import Page\n\n"
        "class Echo(Page):\n"
        "    def handle(self):\n"
        "        self.name = self.request.params.get('name', '')\n"
    ),
    "plain.txt": "static\n",
}


@pytest.fixture
def webapp(tincan_webapp: WebappFactory) -> Webapp:
    return tincan_webapp(FILES, static=True)


def pages(response: httpx.Response) -> list[str]:
    return [visit.page for visit in trace(response)]


def test_a_page_reports_its_file_class_and_variables(webapp: Webapp) -> None:
    response = webapp.client().get("/", params={"name": "Ada"})
    (visit,) = trace(response)
    assert visit.page == "index.pspx" and visit.target == "index.pspx"
    assert visit.page_class.__name__ == "Home"
    assert visit.variables is not None
    assert visit.variables["title"] == "Home" and visit.variables["visitor"] == "Ada"
    assert visit.variables["page"] is visit.instance
    assert not visit.error_page
    assert webapp.last_page == visit


def test_forward_chains_name_the_page_that_rendered(webapp: Webapp) -> None:
    response = webapp.client().get("/old.pspx")
    assert response.text == "<p>hidden /old.pspx</p>"
    (visit,) = trace(response)  # resolved at launch: one visit, owner and final target
    assert (visit.page, visit.target) == ("old.pspx", "hidden.pspx")

    response = webapp.client().get("/jump.pspx")
    assert response.text == "<p>hidden /hidden.pspx</p>"
    jump, hidden = trace(response)
    assert jump.page == "jump.pspx" and jump.variables is None  # it forwarded, never rendered
    assert hidden.page == "hidden.pspx" and hidden.variables is not None


def test_errors_show_the_failing_page_and_the_error_page(webapp: Webapp) -> None:
    response = webapp.client(raise_server_exceptions=False).get("/boom.pspx")
    assert response.status_code == 500
    assert pages(response) == ["boom.pspx", "errors.pspx"]
    boom, error = trace(response)
    assert boom.variables is None and error.error_page
    assert error.variables is not None and error.variables["error"].status_code == 500
    assert any("RuntimeError: boom" in m for m in webapp.messages)

    assert pages(webapp.client().get("/missing")) == ["errors.pspx"]


def test_static_files_have_an_empty_trace(webapp: Webapp) -> None:
    response = webapp.client().get("/plain.txt")
    assert response.status_code == 200 and trace(response) == ()
    assert webapp.last_page is None


def test_concurrent_requests_get_their_own_traces(webapp: Webapp) -> None:
    names = [f"caller{i}" for i in range(12)]
    results: dict[str, httpx.Response] = {}
    with webapp.live() as server:
        client = server.client()

        def call(name: str) -> None:
            results[name] = client.post("/echo.pspx", data={"name": name})

        threads = [threading.Thread(target=call, args=(n,)) for n in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        for name in names:
            (visit,) = trace(results[name])
            assert visit.variables is not None and visit.variables["name"] == name
            assert results[name].text == f"<p>{name}</p>"
    with pytest.raises(LookupError, match="stopped"):
        trace(results[names[0]])


def test_responses_from_elsewhere_have_no_trace(webapp: Webapp) -> None:
    assert webapp.app is not None
    plain = httpx.Client(transport=httpx.WSGITransport(app=webapp.app), base_url="http://x")
    with pytest.raises(LookupError, match="tincan_testing client"):
        trace(plain.get("/"))


def recorder() -> tuple[list[PageVisit], Callable[[PageVisit], None]]:
    seen: list[PageVisit] = []
    return seen, seen.append


def test_the_observer_is_read_at_launch_only(tmp_path: Path) -> None:
    root = tmp_path / "app"
    (root / "WEB-INF").mkdir(parents=True)
    (root / "index.pspx").write_text("<p>x</p>")
    seen, observe = recorder()

    previous = _hooks.set_page_observer(observe)
    try:
        observed, _ = tincan.launch(root)
    finally:
        _hooks.set_page_observer(previous)
    plain, _ = tincan.launch(root)

    httpx.Client(transport=httpx.WSGITransport(app=plain)).get("http://x/")
    assert seen == []  # launched without an observer: plain callbacks
    _hooks.set_page_observer(observe)
    try:
        httpx.Client(transport=httpx.WSGITransport(app=plain)).get("http://x/")
    finally:
        _hooks.set_page_observer(previous)
    assert seen == []  # setting it later changes nothing for an app already built
    httpx.Client(transport=httpx.WSGITransport(app=observed)).get("http://x/")
    assert [v.page for v in seen] == ["index.pspx"]  # and unsetting it kept the observed one


def test_plain_apps_serve_the_uninstrumented_callbacks(tmp_path: Path) -> None:
    root = tmp_path / "app"
    (root / "WEB-INF").mkdir(parents=True)
    (root / "index.pspx").write_text("<p>x</p>")
    (root / "index.py").write_text("from tincan import Page\nclass Home(Page):\n    pass\n")
    app, _ = tincan.launch(root)
    assert app is not None
    callback = app.router.literal["/index.pspx"]["GET"].callback
    cells = [cell.cell_contents for cell in callback.__closure__ or ()]
    # the page class itself, not a stand-in, is what the request path calls
    assert any(isinstance(c, type) and c.__name__ == "Home" for c in cells)
    assert not any(getattr(c, "__module__", "") == _hooks.__name__ for c in cells)
