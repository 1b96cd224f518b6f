"""The developer error page as a browser shows it: headless Chromium, real pixels.

A webapp launched with ``debug=True`` runs on a real server on 127.0.0.1.
Chromium (Debian's ``chromium``, installed with apt-get when missing, as for
the cross-origin test) opens its failing pages at 1280 px and at a phone's
390 px, over the DevTools protocol on a pipe (``tests/_chromium.py``). What is
checked is what a developer would notice: a page in standards mode that
is not blank, the exception's headline in TinCan's colours at the top, the
page's own line in view without scrolling, and nothing wider than the window
(a long message, query or header wraps instead of pushing the page sideways).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import tincan_core
from tincan_core import make_server, serve_in_thread

from tests._chromium import Browser
from tests._deploy import ensure_debian_package

pytestmark = pytest.mark.slow

HEADLINE_RED = (0x8B, 0x1E, 0x2D)  # header.failure in debug500.pt
LONG_WORD = "unbroken" * 40

WEBAPP = {
    "WEB-INF/tlib/layout.pt": (
        '<html metal:define-macro="page"><head><meta charset="utf-8"><title>t</title></head>\n'
        '<body><main metal:define-slot="content"></main></body></html>\n'
    ),
    "typo.pspx": (
        "#load <layout.pt>\n<!DOCTYPE html>\n"
        "<html metal:use-macro=\"layout.macros['page']\">\n"
        '<main metal:fill-slot="content">\n<h1>Hello</h1>\n<p>${titel}</p>\n</main>\n</html>\n'
    ),
    "long.pspx": "<p>${page.explode()}</p>\n",
    "long.py": (
        "from tincan import Page\n\n\nclass Long(Page):\n    def explode(self):\n"
        f"        raise ValueError('{LONG_WORD}')\n"
    ),
}


@pytest.fixture(scope="module")
def chromium() -> str:
    return ensure_debian_package("chromium", ("chromium",))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("debugpage-site")
    for relpath, text in {"WEB-INF/lib": None, **WEBAPP}.items():
        path = root / relpath
        if text is None:
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    app, errors = tincan_core.launch(root, debug=True)
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
def browser(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with Browser(chromium, tmp_path_factory.mktemp("chromium-profile")) as running:
        yield running


LAYOUT_FACTS = """(() => {
  const h1 = document.querySelector("header h1").getBoundingClientRect();
  const where = document.querySelector("section.where");
  return {
    mode: document.compatMode,
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    headline: document.querySelector("header h1").innerText,
    h1: [h1.left, h1.top, h1.right, h1.bottom],
    where: where ? where.querySelector(".file").innerText : null,
    whereTop: where ? where.getBoundingClientRect().top : null,
    hitVisible: where ? where.querySelector(".line.hit").getBoundingClientRect().bottom
      <= window.innerHeight : false,
  };
})()"""


@pytest.mark.parametrize("width", [1280, 390])
def test_the_page_looks_like_tincan_and_shows_the_line_at_once(
    browser: Browser, site: str, width: int
) -> None:
    tab = browser.open(f"{site}/typo.pspx?name=J%C3%BCrgen", width, 900)
    facts = tab.evaluate(LAYOUT_FACTS)
    assert facts["mode"] == "CSS1Compat"  # standards mode: the page has its doctype
    assert facts["scrollWidth"] <= facts["clientWidth"] == width, facts
    assert facts["headline"].split() == ["500", "NameError"]
    assert facts["where"] == "typo.pspx:6"
    assert facts["hitVisible"], facts  # the failing line is on the first screen

    shot = tab.screenshot()
    assert (shot.width, shot.height) == (width, 900)
    assert len(shot.colours()) > 40, "the screenshot is (nearly) blank"
    left, top, right, bottom = (int(v) for v in facts["h1"])
    assert 0 <= top < bottom < 300  # the headline is at the top of the window
    # The band behind the headline is TinCan's red, and the headline's text is drawn
    # on it (light pixels inside the heading's box).
    assert shot.pixel(max(0, left - 8), (top + bottom) // 2) == HEADLINE_RED
    inside = shot.colours(top, bottom, step=1) if right - left > 0 else set()
    assert any(min(c) > 200 for c in inside), "no text drawn in the headline"


def test_a_long_message_wraps_instead_of_widening_the_page(browser: Browser, site: str) -> None:
    long_query = "q=" + "x" * 600
    tab = browser.open(f"{site}/long.pspx?{long_query}", 1280, 900)
    facts = tab.evaluate(LAYOUT_FACTS)
    assert facts["where"] == "long.py:6"
    assert facts["scrollWidth"] <= facts["clientWidth"] == 1280, facts
    assert tab.evaluate("document.body.innerText.includes('unbrokenunbroken')")
