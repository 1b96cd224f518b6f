"""Code-behind classes tested without HTTP: make_page and make_error_page."""

from __future__ import annotations

from typing import Any

import bottle
import pytest
from tincan import ErrorPage, Page, redirect
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


def test_each_call_starts_a_new_request_as_a_server_would() -> None:
    first = make_page(Greeting, query={"name": "Ada"}, cookies={"session": "alice"})
    first.handle()
    assert first.response.get_header("X-Greeted") == "Ada"
    second = make_page(Greeting)
    assert first is not second
    # nothing of the earlier request is left: headers, cookies, status
    assert second.response.headerlist == [("Content-Type", "text/html; charset=UTF-8")]
    assert second.response.status_code == 200
    assert second.request.get_cookie("session") is None
    # page.request and page.response are Bottle's own, as for a served page
    assert second.request is bottle.request and second.response is bottle.response


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


class Login(Page):
    def handle(self) -> Any:
        self.response.set_cookie("session", "ada", httponly=True)
        redirect("/welcome.pspx")


def test_a_redirect_keeps_the_cookie_set_before_it() -> None:
    page = make_page(Login, path="/login.pspx", method="POST")
    with pytest.raises(bottle.HTTPResponse) as raised:
        page.handle()
    response = raised.value
    assert response.status_code == 303
    assert response.get_header("Location") == "http://testserver/welcome.pspx"
    assert any(
        name == "Set-Cookie" and value.startswith("session=ada") and "httponly" in value.lower()
        for name, value in response.headerlist
    )


def test_nothing_of_an_earlier_request_on_the_thread_leaks_in(
    tincan_webapp: WebappFactory,
) -> None:
    webapp = tincan_webapp({
        "stale.pspx": "<p>stale</p>",
        "stale.py": (
            "from tincan import Page\n"
            "class Stale(Page):\n"
            "    def handle(self):\n"
            "        self.response.set_cookie('session', 'alice')\n"
            "        self.response.set_header('X-Stale', 'yes')\n"
        ),
    })
    served = webapp.client().get("/stale.pspx")  # in-process: on this very thread
    assert served.cookies["session"] == "alice"
    page = make_page(Login)
    with pytest.raises(bottle.HTTPResponse) as raised:
        page.handle()
    headers = raised.value.headerlist
    assert not [h for h in headers if h[0] in ("X-Stale", "Content-Length")]
    assert [v for n, v in headers if n == "Set-Cookie"] == [
        v for n, v in headers if n == "Set-Cookie" and v.startswith("session=ada")
    ]


def test_an_error_page_sees_the_response_of_its_error() -> None:
    page = make_error_page(NotFound, 410, body="gone for good")
    assert bottle.response.status_code == 410
    assert page.error.body == "gone for good"


def test_page_class_is_typed_for_make_page(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp({
        "hello.pspx": "<p>${greeting}</p>",
        "hello.py": (
            "from tincan import Page\n"
            "class Hello(Page):\n"
            "    def handle(self):\n"
            "        self.greeting = 'hi ' + self.request.query.get('name', 'you')\n"
        ),
        "errors.pspx": "#errors\n<p>${code}</p>",
        "errors.py": (
            "from tincan import ErrorPage\n"
            "class Errors(ErrorPage):\n"
            "    def handle(self):\n"
            "        self.code = self.error.status_code\n"
        ),
    })
    page = make_page(webapp.page_class("hello.pspx"), query={"name": "Ada"})
    page.handle()
    assert page.export()["greeting"] == "hi Ada"
    error_page = make_error_page(webapp.page_class("errors.pspx", ErrorPage), 404)
    error_page.handle()
    assert error_page.export()["code"] == 404
    with pytest.raises(TypeError, match=r"errors\.pspx is an error page whose class Errors is"):
        webapp.page_class("errors.pspx")
    with pytest.raises(KeyError):
        webapp.page_class("nothing.pspx")
