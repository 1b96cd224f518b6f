"""Page and ErrorPage constructors as code-behind calls them, and abort()/redirect().

Code-behind written for TinCan 0.1 calls ``super().__init__(req=..., resp=...)``
(``req``, ``err`` for error pages); ours names them ``request``, ``response`` and
``error``. Both spellings, and positional arguments, build the same page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bottle
import pytest
import tincan
import tincan_core
from tincan_core import ErrorPage, Page

LaunchWebapp = Callable[..., Any]

ORIGINAL_KEYWORDS = (
    "from tincan import Page\n"
    "class Home(Page):\n"
    "    def __init__(self, req, resp):\n"
    "        super().__init__(req=req, resp=resp)\n"
    "        self.greeting = 'hello ' + req.query.get('name', 'you')\n"
)

ORIGINAL_ERROR_KEYWORDS = (
    "from tincan import ErrorPage\n"
    "class Missing(ErrorPage):\n"
    "    def __init__(self, req, err):\n"
    "        super().__init__(req=req, err=err)\n"
    "        self.code = err.status_code\n"
)


def test_code_behind_with_the_originals_keywords_is_served(launch_webapp: LaunchWebapp) -> None:
    site = launch_webapp({
        "index.pspx": "<p>${greeting}</p>",
        "index.py": ORIGINAL_KEYWORDS,
        "404.pspx": "#errors 404\n<p>gone: ${code}</p>",
        "404.py": ORIGINAL_ERROR_KEYWORDS,
    })
    assert site.errors == 0, site.log.errors()
    response = site.get("/index.pspx", params={"name": "Ada"})
    assert (response.status_code, response.text) == (200, "<p>hello Ada</p>")
    missing = site.get("/nothing.pspx")
    assert (missing.status_code, missing.text) == (404, "<p>gone: 404</p>")
    assert site.log.errors() == []


@pytest.mark.parametrize("call", [
    "super().__init__(request, response)",
    "super().__init__(request=request, response=response)",
    "super().__init__(req=request, resp=response)",
    "super().__init__(request, resp=response)",
    "super().__init__(response=response, request=request)",
])
def test_every_spelling_of_the_page_constructor_serves(
    launch_webapp: LaunchWebapp, call: str
) -> None:
    site = launch_webapp({
        "index.pspx": "<p>${page.request.path} ${page.response.status_code}</p>",
        "index.py": (
            "from tincan import Page\n"
            "class Home(Page):\n"
            "    def __init__(self, request, response):\n"
            f"        {call}\n"
        ),
    })
    assert site.get("/index.pspx").text == "<p>/index.pspx 200</p>"


@pytest.mark.parametrize("call", [
    "super().__init__(request, error)",
    "super().__init__(request=request, error=error)",
    "super().__init__(req=request, err=error)",
    "super().__init__(request, err=error)",
])
def test_every_spelling_of_the_error_page_constructor_serves(
    launch_webapp: LaunchWebapp, call: str
) -> None:
    site = launch_webapp({
        "404.pspx": "#errors 404\n<p>${error.status_line} at ${request.path}</p>",
        "404.py": (
            "from tincan import ErrorPage\n"
            "class Missing(ErrorPage):\n"
            "    def __init__(self, request, error):\n"
            f"        {call}\n"
        ),
    })
    response = site.get("/nothing.pspx")
    assert (response.status_code, response.text) == (404, "<p>404 Not Found at /nothing.pspx</p>")


def test_both_names_of_one_argument_are_refused() -> None:
    with pytest.raises(TypeError, match=r"Page\(\) got both 'request' and 'req'"):
        Page(object(), req=object(), resp=object())  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"ErrorPage\(\) got both 'error' and 'err'"):
        ErrorPage(object(), object(), err=object())  # type: ignore[call-overload]


def test_a_missing_argument_names_both_spellings() -> None:
    with pytest.raises(TypeError, match=r"Page\(\) needs 'response' \(or 'resp'"):
        Page(object())  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"ErrorPage\(\) needs 'request' \(or 'req'"):
        ErrorPage(err=object())  # type: ignore[call-overload]


def test_none_is_a_value_not_a_missing_argument() -> None:
    page = Page(None, None)  # type: ignore[call-overload]
    assert (page.request, page.response) == (None, None)
    error_page = ErrorPage(req=None, err=None)  # type: ignore[call-overload]
    assert (error_page.request, error_page.error) == (None, None)


def test_request_and_response_are_still_not_template_variables() -> None:
    request, response = object(), object()
    variables = Page(req=request, resp=response).export()  # type: ignore[call-overload]
    assert set(variables) == {"page"}
    assert ErrorPage(req=request, err=response).export().keys() == {  # type: ignore[call-overload]
        "page", "request", "error",
    }


def test_abort_and_redirect_are_bottles_and_exported_by_the_facade() -> None:
    assert tincan.abort is tincan_core.abort
    assert tincan.redirect is tincan_core.redirect
    with pytest.raises(bottle.HTTPError) as caught:
        tincan.abort(418, "short and stout")
    error: Any = caught.value
    assert (error.status_code, error.body) == (418, "short and stout")


def test_redirect_keeps_the_cookie_set_before_it(launch_webapp: LaunchWebapp) -> None:
    site = launch_webapp({
        "login.pspx": "<p>never rendered</p>",
        "login.py": (
            "from tincan import Page, redirect\n"
            "class Login(Page):\n"
            "    def handle(self):\n"
            "        self.response.set_cookie('session', 'ada', httponly=True)\n"
            "        redirect('welcome.pspx')\n"
        ),
        "welcome.pspx": "<p>welcome ${page.request.get_cookie('session')}</p>",
    })
    response = site.get("/login.pspx")
    assert response.status_code == 303
    assert response.headers["location"] == "http://testserver/welcome.pspx"
    assert "session=ada" in response.headers["set-cookie"]
    assert site.client.get("/welcome.pspx").text == "<p>welcome ada</p>"


def test_abort_answers_with_the_error_page_for_its_code(launch_webapp: LaunchWebapp) -> None:
    site = launch_webapp({
        "secret.pspx": "<p>never rendered</p>",
        "secret.py": (
            "from tincan import Page, abort\n"
            "class Secret(Page):\n"
            "    def handle(self):\n"
            "        if self.request.query.get('key') != 'open':\n"
            "            abort(403, 'no key')\n"
            "        self.shown = True\n"
        ),
        "403.pspx": "#errors 403\n<p>forbidden: ${error.body}</p>",
    })
    response = site.get("/secret.pspx")
    assert (response.status_code, response.text) == (403, "<p>forbidden: no key</p>")
    assert site.get("/secret.pspx", params={"key": "open"}).status_code == 200
