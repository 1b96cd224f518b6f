"""The starter project's pages in a real browser: standards mode, styled, no overflow.

``tincan new`` writes the project; its webapp runs on a real server on
127.0.0.1 (static files served, as ``tincan serve --static`` would); headless
Chromium (``tests/_chromium.py``) opens every page, including one added the
way the home page suggests (a copy of ``about.pspx``), at a desktop and a
phone width. Chromium drops into quirks mode for a page without a doctype,
which is what pages rendered through a layout had before.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import tincan
from tincan_cli import main
from tincan_core import make_server, serve_in_thread

from tests._chromium import Browser
from tests._deploy import ensure_debian_package

pytestmark = pytest.mark.slow

PAGES = ["/", "/about.pspx", "/contact.pspx", "/no-such-page.pspx"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    project = tmp_path_factory.mktemp("starter") / "mysite"
    assert main(["new", str(project)]) == 0
    webapp = project / "webapp"
    about = (webapp / "about.pspx").read_text(encoding="utf-8")
    (webapp / "contact.pspx").write_text(about.replace("About", "Contact"), encoding="utf-8")
    app, errors = tincan.launch(webapp, static=True)
    assert app is not None and errors == 0
    # TinCan's own server: Chromium's spare connections hold up nothing there.
    server = make_server(app, "127.0.0.1", 0)
    thread = serve_in_thread(server)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    chromium = ensure_debian_package("chromium", ("chromium",))
    profile: Path = tmp_path_factory.mktemp("chromium-profile")
    with Browser(chromium, profile) as running:
        yield running


FACTS = """(() => ({
  mode: document.compatMode,
  title: document.title,
  scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
  styled: getComputedStyle(document.body).fontFamily.includes("system-ui"),
  heading: document.querySelector("main h1") ? document.querySelector("main h1").innerText : "",
}))()"""


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("path", PAGES)
def test_every_starter_page_renders_in_standards_mode(
    browser: Browser, site: str, path: str, width: int
) -> None:
    facts = browser.open(site + path, width, 800).evaluate(FACTS)
    assert facts["mode"] == "CSS1Compat", facts  # "BackCompat" is quirks mode
    assert facts["title"].endswith(" · My TinCan site"), facts
    assert facts["styled"], facts  # the layout's stylesheet link works
    assert facts["heading"], facts
    assert facts["scrollWidth"] <= facts["clientWidth"] == width, facts
