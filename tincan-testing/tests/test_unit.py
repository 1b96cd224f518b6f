"""Code-behind classes tested without HTTP: make_page and make_error_page."""

from __future__ import annotations

from typing import Any

import bottle
import pytest
from tincan import ErrorPage, Page
from tincan_testing import make_error_page, make_page
from tincan_testing.plugin import WebappFactory


class Greeting(Page):
    greeting = "Hello"

    def handle(self) -> Any:
        request = self.request
        self.name = request.query.get("name", "stranger")
        self.method = request.method
        self.path = request.path
        self.comment = request.forms.getunicode("comment")
        self.tags = request.query.getall("tag")
        self.agent = request.headers.get("User-Agent")
        self.session = request.get_cookie("session")
        if self.name == "admin":
            bottle.redirect("/login.pspx")
        self.response.set_header("X-Greeted", self.name)
        self.response.set_cookie("seen", "yes")
        return None


class NotFound(ErrorPage):
    def handle(self) -> Any:
        self.code = self.error.status_code
        self.asked_for = self.request.path
        return None


def test_a_page_sees_the_request_described() -> None:
    page = make_page(
        Greeting,
        method="post",
        path="/greet/ünï.pspx",
        query={"name": "Ada", "tag": ["a", "b"]},
        form={"comment": "héllo wörld"},
        headers={"User-Agent": "test-agent/1"},
        cookies={"session": "abc 123;x"},
    )
    page.handle()
    variables = page.export()
    assert variables["page"] is page
    assert variables["greeting"] == "Hello" and variables["name"] == "Ada"
    assert variables["method"] == "POST" and variables["path"] == "/greet/ünï.pspx"
    assert variables["comment"] == "héllo wörld" and variables["tags"] == ["a", "b"]
    assert variables["agent"] == "test-agent/1" and variables["session"] == "abc 123;x"
    assert "request" not in variables and "response" not in variables
    assert page.response.get_header("X-Greeted") == "Ada"
    assert ("Set-Cookie", "seen=yes") in page.response.headerlist
    assert isinstance(page.request, bottle.BaseRequest)
    assert isinstance(page.response, bottle.BaseResponse)


def test_defaults_are_a_plain_get_of_the_root() -> None:
    page = make_page(Greeting, query="name=Bob")
    page.handle()
    assert (page.method, page.path, page.name) == ("GET", "/", "Bob")
    assert page.comment is None and page.session is None


def test_redirects_and_aborts_are_raised_for_the_test_to_catch() -> None:
    page = make_page(Greeting, query=[("name", "admin")])
    with pytest.raises(bottle.HTTPResponse) as raised:
        page.handle()
    assert raised.value.status_code in (302, 303)
    assert raised.value.headers["Location"].endswith("/login.pspx")


def test_each_call_builds_a_fresh_instance_and_response() -> None:
    first, second = make_page(Greeting), make_page(Greeting)
    first.handle()
    assert first is not second and first.response is not second.response
    assert second.response.get_header("X-Greeted") is None


def test_error_pages_get_the_error() -> None:
    page = make_error_page(NotFound, path="/nowhere.pspx")
    page.handle()
    variables = page.export()
    assert variables["code"] == 404 and variables["asked_for"] == "/nowhere.pspx"
    assert variables["error"].status_code == 404 and "request" in variables
    failed = make_error_page(NotFound, 500, body="it broke")
    assert failed.error.status_line == "500 Internal Server Error"
    assert failed.error.body == "it broke"


def test_with_an_app_the_page_can_forward(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp({
        "target.pspx": "#hidden\n<p>target of ${page.request.path}</p>",
        "start.py": (
            "from tincan import Page\n\n"
            "class Start(Page):\n"
            "    def handle(self):\n"
            "        self.request.app.forward('target.pspx')\n"
        ),
        "start.pspx": "<p>start</p>",
    })
    assert webapp.last_page is None  # nothing served yet
    from_tree = webapp.client().get("/start.pspx")
    assert from_tree.text == "<p>target of /target.pspx</p>"
    visit = webapp.last_trace[0]
    page = make_page(visit.page_class, path="/start.pspx", app=webapp.app)  # type: ignore[type-var]
    with pytest.raises(bottle.HTTPResponse) as forwarded:
        page.handle()
    assert forwarded.value.body == "<p>target of /target.pspx</p>"
