"""``#allow-cross-origin``: a page (a webhook) that takes cross-site writes, on every
URL form it has; every other page keeps the cross-origin check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Launch = Callable[..., Any]

HOOK = "#methods POST PUT\n#allow-cross-origin\n#path <source>\n<p>${page.request.method} ok</p>"
CROSS = {"Sec-Fetch-Site": "cross-site", "Origin": "https://payments.example"}


@pytest.fixture
def webapp(launch_webapp: Launch) -> Any:
    launched = launch_webapp(
        {
            "hook.pspx": HOOK,
            "form.pspx": "#methods POST\n#path <source>\n<p>form ok</p>",
            "relay.pspx": "#forward form.pspx\n#allow-cross-origin\n",
            "guarded.pspx": "#forward hook.pspx\n",
        },
        clean_urls=True,
    )
    assert launched.errors == 0
    return launched


@pytest.mark.parametrize("path", ["/hook.pspx", "/hook", "/hook.pspx/stripe", "/hook/stripe"])
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_page_that_allows_cross_origin_takes_cross_site_writes_on_every_url(
    webapp: Any, path: str, method: str
) -> None:
    response = webapp.request(method, path, content=b"{}", headers=CROSS)
    assert (response.status_code, response.text) == (200, f"<p>{method} ok</p>")


@pytest.mark.parametrize("path", ["/form.pspx", "/form", "/form.pspx/x", "/form/x"])
def test_other_pages_refuse_them(webapp: Any, path: str) -> None:
    assert webapp.request("POST", path, headers=CROSS).status_code == 403
    same = {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"}
    assert webapp.request("POST", path, headers=same).status_code == 200


def test_the_flag_belongs_to_the_route_owner(webapp: Any) -> None:
    # A forward page answers with its own rule, whatever its target's.
    assert webapp.request("POST", "/relay", headers=CROSS).text == "<p>form ok</p>"
    assert webapp.request("POST", "/guarded", headers=CROSS).status_code == 403


def test_the_redirects_of_such_a_page_take_them_too(launch_webapp: Launch) -> None:
    webapp = launch_webapp({"hook.pspx": HOOK}, clean_urls=True, redirect_to_clean_urls=True)
    moved = webapp.request("POST", "/hook.pspx/github", headers=CROSS)
    assert (moved.status_code, moved.headers["location"]) == (308, "/hook/github")
