"""The developer error page: only with launch(debug=True), escaped, secrets masked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PAGE = {
    "boom.pspx": "<p>${x}</p>\n",
    "boom.py": (
        "from tincan import Page\n\nclass P(Page):\n"
        "    def handle(self) -> None:\n        raise ValueError('<bad & wrong>')\n"
    ),
}


def test_debug_page_shows_exception_frame_and_masked_request(
    launch_webapp: Callable[..., Any],
) -> None:
    site = launch_webapp(PAGE, debug=True)
    r = site.get(
        "/boom.pspx?a=1", headers={"Cookie": "s=topsecret", "Authorization": "Bearer tok"}
    )
    assert r.status_code == 500
    assert "ValueError" in r.text
    assert "&lt;bad &amp; wrong&gt;" in r.text and "<bad & wrong>" not in r.text
    assert "boom.py:5" in r.text
    assert "topsecret" not in r.text and "tok" not in r.text.replace("token", "")


def test_production_launch_has_no_debug_page(launch_webapp: Callable[..., Any]) -> None:
    site = launch_webapp(PAGE)
    r = site.get("/boom.pspx")
    assert r.status_code == 500
    assert "ValueError" not in r.text and "boom.py" not in r.text


LAYOUT_PAGE = {
    "WEB-INF/tlib/layout.pt": (
        '<html metal:define-macro="page"><body>\n'
        '<div metal:define-slot="content"></div>\n'
        "</body></html>\n"
    ),
    "typo.pspx": (
        "#load <layout.pt>\n"
        "<html metal:use-macro=\"layout.macros['page']\">\n"
        '<div metal:fill-slot="content">\n'
        "<p>${titel}</p>\n"
        "</div></html>\n"
    ),
}


def test_a_template_error_names_the_page_and_its_source(launch_webapp: Callable[..., Any]) -> None:
    site = launch_webapp(LAYOUT_PAGE, debug=True)
    r = site.get("/typo.pspx")
    assert r.status_code == 500
    assert "NameError" in r.text and "titel" in r.text
    assert "typo.pspx:" in r.text  # the page, with its source around the line
    assert "&lt;p&gt;${titel}&lt;/p&gt;" in r.text
