"""Tests of this webapp, using the tincan-testing pytest plugin.

Install what they need as the README says (``tincan[testing]``, from the directory
of TinCan's wheels: the name ``tincan`` alone on the package index is another
project), then run, from the project directory: ``python -m pytest``
"""

from __future__ import annotations

import importlib
from datetime import datetime

import httpx
import pytest

from tincan_testing import LiveServer

# Each test gets a fresh copy of the webapp (../webapp, relative to this file),
# launched with static files served; a launch error fails the test.
pytestmark = pytest.mark.tincan("../webapp", static=True)

PAGES = ["/", "/about.pspx", "/no/such/page.pspx"]


def test_home_page_greets_a_visitor(tincan_client: httpx.Client) -> None:
    response = tincan_client.get("/")
    assert response.status_code == 200
    assert "visitor!" in response.text


def test_home_page_greets_by_name(tincan_client: httpx.Client) -> None:
    response = tincan_client.get("/", params={"name": "Jürgen"})
    assert "Jürgen!" in response.text


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_a_standards_mode_html_page(tincan_client: httpx.Client, path: str) -> None:
    response = tincan_client.get(path)
    assert response.text.startswith("<!DOCTYPE html>")
    assert response.headers["content-type"] == "text/html; charset=UTF-8"
    assert '<link rel="stylesheet" href="/style.css">' in response.text  # from the layout


def test_unknown_url_gets_the_error_page(tincan_client: httpx.Client) -> None:
    response = tincan_client.get("/no/such/page.pspx")
    assert response.status_code == 404
    assert "There is no page at" in response.text


def test_stylesheet_is_served(tincan_client: httpx.Client) -> None:
    response = tincan_client.get("/style.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_sources_are_never_served(tincan_client: httpx.Client) -> None:
    for path in ("/index.py", "/WEB-INF/lib/site_helpers.py", "/WEB-INF/tlib/layout.pt"):
        assert tincan_client.get(path).status_code == 404


def test_greeting_suits_the_time_of_day(tincan_client: httpx.Client) -> None:
    # WEB-INF/lib is on sys.path once the webapp is launched (imported by name, so that
    # a type checker run on the tests alone does not look for it)
    site_helpers = importlib.import_module("site_helpers")

    assert site_helpers.greeting("Ada", datetime(2024, 1, 1, 9)) == "Good morning, Ada!"
    assert site_helpers.greeting("Ada", datetime(2024, 1, 1, 21)) == "Good evening, Ada!"


def test_served_over_http(tincan_live_server: LiveServer) -> None:
    response = tincan_live_server.client().get("/")
    assert response.status_code == 200
    assert "visitor!" in response.text
