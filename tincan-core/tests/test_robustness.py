"""Requests and page code that must not get past TinCan's own layer."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Any


def raw_get(app: Any, path: str) -> tuple[str, bytes]:
    """Call the WSGI app with ``path`` exactly as a server would put it in PATH_INFO."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }
    statuses: list[str] = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return statuses[0], body


def test_sys_exit_in_page_code_is_a_logged_500_not_the_end_of_the_worker(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "bye.pspx": "<p>never</p>",
            "bye.py": "import sys\nfrom tincan import Page\n"
            "class Bye(Page):\n    def handle(self):\n        sys.exit(3)\n",
            "ok.pspx": "<p>still here</p>",
        }
    )
    response = webapp.get("/bye.pspx")
    assert response.status_code == 500
    assert "SystemExit" not in response.text
    assert any("bye.pspx" in line for line in webapp.log.errors())
    assert webapp.get("/ok.pspx").text == "<p>still here</p>"


def test_sys_exit_in_an_error_page_is_a_plain_500(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "404.pspx": "#errors 404\n<p>lost</p>",
            "404.py": "import sys\nfrom tincan import ErrorPage\n"
            "class Lost(ErrorPage):\n    def handle(self):\n        sys.exit(1)\n",
        }
    )
    response = webapp.get("/missing.pspx")
    assert response.status_code == 500
    assert response.text == "500 Internal Server Error\n"


def test_a_path_that_is_not_utf8_is_a_400_never_another_file(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp({"robots.txt": "User-agent: *\n"}, static=True)
    assert raw_get(webapp.app, "/robots.txt")[0] == "200 OK"
    # What a server puts in PATH_INFO for /robots%FF.txt: the byte 0xFF as latin-1.
    status, body = raw_get(webapp.app, "/robots\xff.txt")
    assert status == "400 Bad Request"
    assert b"User-agent" not in body
    # A client breaking the WSGI rules (characters beyond latin-1) is refused the same way.
    assert raw_get(webapp.app, "/robots\u0100.txt")[0] == "400 Bad Request"


def test_a_callable_page_attribute_does_not_take_the_page_variable_away(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "p.pspx": "<p>${page.__class__.__name__} ${title}</p>",
            "p.py": "from tincan import Page\nclass P(Page):\n    def handle(self):\n"
            "        self.title = 'T'\n        self.page = lambda: 'not a variable'\n",
        }
    )
    assert webapp.get("/p.pspx").text == "<p>P T</p>"


def test_a_load_variable_chameleon_would_shadow_is_a_launch_error(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "WEB-INF/tlib/econtext.pt": "<b metal:define-macro='m'>M</b>",
            "a.pspx": "#load <econtext.pt>\n<i metal:use-macro=\"econtext.macros['m']\"/>",
            "b.pspx": "#load <lay=econtext.pt>\n<i metal:use-macro=\"lay.macros['m']\"/>",
        }
    )
    assert webapp.errors == 1
    (message,) = webapp.log.errors()
    assert message.startswith(str(webapp.root / "a.pspx") + ":1: #load: 'econtext'")
    assert webapp.get("/a.pspx").status_code == 404
    assert webapp.get("/b.pspx").text == "<b>M</b>"
