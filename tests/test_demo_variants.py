"""End to end over copies of ``examples/demo`` with a few files added or moved aside:
index precedence, encoding, export rules, forward and error-page edge cases,
the default error page, a urlroot and ``multithread=False`` (SPEC §2-§8)."""

from __future__ import annotations

import logging
import re

import pytest
from tincan_testing import Webapp

from tests._helpers import DEMO, DEMO_URLS, logged
from tests.conftest import DemoFactory

LAYOUT_BODY = """\
#load <layout.pt>
<!DOCTYPE html>
<html metal:use-macro="layout.macros['page']">
<main metal:fill-slot="content">{}</main>
</html>
"""


def code_behind(body: str, base: str = "Page") -> str:
    """A code-behind module whose page class runs ``body`` in ``handle``."""
    lines = "\n".join("        " + line for line in body.splitlines())
    return (
        f"from bottle import abort, redirect\nfrom tincan import {base}\n\n\n"
        f"class TestPage({base}):\n    def handle(self):\n{lines}\n"
    )


# -- §2 index precedence -----------------------------------------------------------------------


def test_index_precedence_pspx_over_html_over_htm(demo: DemoFactory) -> None:
    files = {
        "about/index.html": "<p>shadowed html</p>",
        "docs/index.htm": "<p>shadowed htm</p>",
        "zz-htm-only/index.htm": "<p>the htm index</p>",
        "zz-all/index.htm": "<p>all: htm</p>",
        "zz-all/index.html": "<p>all: html</p>",
        "zz-all/index.pspx": "<p>all: pspx</p>",
    }
    site = demo(files)
    client = site.client()
    assert site.errors == 0
    for directory, winner in [
        ("/about", "<h1>About this site</h1>"),
        ("/docs", "<h1>How this site is built</h1>"),
        ("/zz-htm-only", "<p>the htm index</p>"),
        ("/zz-all", "<p>all: pspx</p>"),
    ]:
        assert winner in client.get(directory + "/").text, directory
        assert client.get(directory).headers["location"] == directory + "/"
    # the shadowed files are still files of their own
    assert client.get("/about/index.html").text == "<p>shadowed html</p>"
    assert client.get("/zz-all/index.htm").text == "<p>all: htm</p>"
    shadowed = [m for m in logged(site, logging.INFO) if "shadowed" in m]
    assert len(shadowed) == 4
    assert any("about/index.html" in m and "about/index.pspx" in m for m in shadowed)
    assert any("docs/index.htm " in m and "docs/index.html" in m for m in shadowed)


def test_hidden_index_page_does_not_answer_for_its_directory(demo: DemoFactory) -> None:
    files = {"zz-hidden-index/index.pspx": "#hidden\n<p>hidden index</p>"}
    site = demo(files)
    client = site.client()
    for url in ("/zz-hidden-index/", "/zz-hidden-index", "/zz-hidden-index/index.pspx"):
        assert client.get(url).status_code == 404


def test_file_names_are_routed_literally(demo: DemoFactory) -> None:
    files = {
        "zz-<name>.pspx": "<p>angle brackets</p>",
        "zz-:colon.pspx": "<p>colon</p>",
        "zz-with space.pspx": "<p>space</p>",
        "zz-ünïcödé.pspx": "<p>unicode</p>",
    }
    site = demo(files)
    client = site.client()
    assert site.errors == 0
    assert client.get("/zz-<name>.pspx").text == "<p>angle brackets</p>"
    assert client.get("/zz-anything.pspx").status_code == 404  # no wildcard
    assert client.get("/zz-:colon.pspx").text == "<p>colon</p>"
    assert client.get("/zz-x.pspx").status_code == 404
    assert client.get("/zz-with space.pspx").text == "<p>space</p>"
    assert client.get("/zz-ünïcödé.pspx").text == "<p>unicode</p>"


# -- §3 header and body ------------------------------------------------------------------------


def test_byte_order_mark_and_leading_newlines(demo: DemoFactory) -> None:
    files = {
        "zz-bom.pspx": "\ufeff#rem a BOM, then a header\n" + LAYOUT_BODY.format("<p>with BOM</p>"),
        "zz-newlines.pspx": "#rem\n\n\n\r\n<p>after blank lines</p>\n",
        "zz-no-header.pspx": "<p>no header at all</p>",
    }
    site = demo(files)
    client = site.client()
    assert site.errors == 0
    bom = client.get("/zz-bom.pspx")
    assert bom.content.startswith(b"<!DOCTYPE html>") and "<p>with BOM</p>" in bom.text
    assert client.get("/zz-newlines.pspx").text == "<p>after blank lines</p>\n"
    assert client.get("/zz-no-header.pspx").text == "<p>no header at all</p>"


def test_quoted_paths_and_latin1_encoding(demo: DemoFactory) -> None:
    files = {
        "zz-quoted.pspx": "#template 'about/index.pspx'\n#python \"about/Über uns.py\"\n"
        "#load <layout.pt>\n#load '/about/team.pt'\n",
    }
    site = demo(files)
    client = site.client()
    assert site.errors == 0
    assert "<h1>Über diese Seite</h1>" in client.get("/zz-quoted.pspx").text


# -- §4 code-behind: export rules, status, redirect --------------------------------------------

EXPORTS_TEMPLATE = """\
#load <layout.pt>
<dl>
<dt>page</dt><dd>${page.__class__.__name__}</dd>
<dt>request</dt><dd>${'request' in econtext}</dd>
<dt>response</dt><dd>${'response' in econtext}</dd>
<dt>GLOBAL_NAME</dt><dd>${'GLOBAL_NAME' in econtext}</dd>
<dt>_private</dt><dd>${'_private' in econtext}</dd>
<dt>helper</dt><dd>${'helper' in econtext}</dd>
<dt>visible</dt><dd>${visible}</dd>
<dt>prop</dt><dd>${prop}</dd>
<dt>computed</dt><dd>${computed}</dd>
<dt>layout</dt><dd>${layout}</dd>
<dt>path</dt><dd>${page.request.path}</dd>
</dl>
"""

EXPORTS_CODE = """\
from tincan import Page

GLOBAL_NAME = "a module global"


class ExportsPage(Page):
    visible = "a class attribute"
    _private = "private"

    def handle(self):
        self.computed = 6 * 7
        self.layout = "the exported name wins over the #load"

    def helper(self):
        return "a method"

    @property
    def prop(self):
        return "a property"
"""


def exported(html: str) -> dict[str, str]:
    return dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html))


def test_page_export_rules(demo: DemoFactory) -> None:
    files = {"zz-exports.pspx": EXPORTS_TEMPLATE, "zz-exports.py": EXPORTS_CODE}
    site = demo(files)
    client = site.client()
    assert site.errors == 0
    assert exported(client.get("/zz-exports.pspx").text) == {
        "page": "ExportsPage",
        "request": "False",
        "response": "False",
        "GLOBAL_NAME": "False",
        "_private": "False",
        "helper": "False",
        "visible": "a class attribute",
        "prop": "a property",
        "computed": "42",
        "layout": "the exported name wins over the #load",
        "path": "/zz-exports.pspx",
    }


ERROR_EXPORTS_TEMPLATE = """\
#errors 418
<dl>
<dt>page</dt><dd>${page.__class__.__name__}</dd>
<dt>request</dt><dd>${request.path}</dd>
<dt>error</dt><dd>${error.status_line}</dd>
<dt>body</dt><dd>${error.body}</dd>
</dl>
"""


def test_error_page_export_rules_and_an_explicit_code_beside_the_catch_all(
    demo: DemoFactory,
) -> None:
    files = {
        "zz-teapot-errors.pspx": ERROR_EXPORTS_TEMPLATE,
        "zz-teapot-errors.py": (
            "from tincan import ErrorPage\n\nclass TeapotPage(ErrorPage):\n    pass\n"
        ),
        "zz-teapot.pspx": "<p>never</p>",
        "zz-teapot.py": code_behind("abort(418, 'short and stout')"),
    }
    site = demo(files)
    client = site.client()
    assert site.errors == 0  # 418 is listed explicitly: no clash with errors/other.pspx
    response = client.get("/zz-teapot.pspx")
    assert response.status_code == 418
    assert exported(response.text) == {
        "page": "TeapotPage",
        "request": "/zz-teapot.pspx",
        "error": "418 I'm a teapot",
        "body": "short and stout",
    }
    assert client.get("/zz-errors.pspx").status_code == 404  # no route of its own


def test_status_headers_and_cookies_from_code_behind(demo: DemoFactory) -> None:
    code = code_behind(
        "self.response.status = 202\n"
        "self.response.set_header('X-Demo', 'yes')\n"
        "self.response.set_cookie('flavour', 'oatmeal', path='/')\n"
        "self.response.add_header('Set-Cookie', 'second=2; Path=/')"
    )
    site = demo({"zz-status.pspx": "<p>accepted</p>", "zz-status.py": code})
    client = site.client()
    response = client.get("/zz-status.pspx")
    assert response.status_code == 202 and response.text == "<p>accepted</p>"
    assert response.headers["x-demo"] == "yes"
    assert response.cookies["flavour"] == "oatmeal" and response.cookies["second"] == "2"


def test_returned_http_response_is_sent_as_is(demo: DemoFactory) -> None:
    code = (
        "from bottle import HTTPResponse\nfrom tincan import Page\n\n"
        "class P(Page):\n    def handle(self):\n"
        "        return HTTPResponse('plain', status=201, Content_Type='text/plain')\n"
    )
    site = demo({"zz-returns.pspx": "<p>never</p>", "zz-returns.py": code})
    client = site.client()
    response = client.get("/zz-returns.pspx")
    assert (response.status_code, response.text) == (201, "plain")
    assert response.headers["content-type"] == "text/plain"


def test_exception_while_rendering_is_a_500_page(demo: DemoFactory) -> None:
    files = {"zz-render-error.pspx": LAYOUT_BODY.format("<p>${1 // 0}</p>")}
    site = demo(files)
    client = site.client()
    response = client.get("/zz-render-error.pspx")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "ZeroDivisionError" not in response.text and "Traceback" not in response.text
    assert any("zz-render-error.pspx" in m for m in logged(site))


# -- §5.2 programmatic forwards: the edge cases ------------------------------------------------


FORWARDS = {
    "zz-fwd-self.pspx": "<p>never</p>",
    "zz-fwd-self.py": code_behind("self.request.app.forward('zz-fwd-self.pspx')"),
    "zz-fwd-a.pspx": "<p>never</p>",
    "zz-fwd-a.py": code_behind("self.request.app.forward('zz-fwd-b.pspx')"),
    "zz-fwd-b.pspx": "<p>never</p>",
    "zz-fwd-b.py": code_behind("self.request.app.forward('/zz-fwd-a.pspx')"),
    "zz-fwd-unknown.pspx": "<p>never</p>",
    "zz-fwd-unknown.py": code_behind("self.request.app.forward('no-such-target.pspx')"),
    "zz-fwd-above.pspx": "<p>never</p>",
    "zz-fwd-above.py": code_behind("self.request.app.forward('../../index.pspx')"),
    "zz-fwd-method.pspx": "#methods GET POST\n<p>never</p>",
    "zz-fwd-method.py": code_behind("self.request.app.forward('about/')"),
    # a hidden page in the demo's layout: no URL of its own, reachable by forward
    "zz-thanks.pspx": (
        "#hidden\n#load <layout.pt>\n<!DOCTYPE html>\n"
        "<html metal:use-macro=\"layout.macros['page']\">\n"
        '<main metal:fill-slot="content"><h1>Thank you, friend!</h1></main>\n</html>\n'
    ),
    "zz-fwd-hidden.pspx": "<p>never</p>",
    "zz-fwd-hidden.py": code_behind(
        "self.response.set_header('X-Before', 'kept')\n"
        "self.request.app.forward('./zz-thanks.pspx?ignored=1')"
    ),
    "zz-dir/fwd-up.pspx": "<p>never</p>",
    "zz-dir/fwd-up.py": code_behind("self.request.app.forward('../about/Über uns.pspx')"),
    "zz-fwd-index.pspx": "<p>never</p>",
    "zz-fwd-index.py": code_behind("self.request.app.forward('/about/')"),
}


@pytest.fixture
def forwards(demo: DemoFactory) -> Webapp:
    site = demo(FORWARDS)
    assert site.errors == 0
    return site


@pytest.mark.parametrize(
    ("url", "method", "status", "marker"),
    [
        ("/zz-fwd-self.pspx", "GET", 500, "Something went wrong on our side"),
        ("/zz-fwd-a.pspx", "GET", 500, "Something went wrong on our side"),
        (
            "/zz-fwd-unknown.pspx",
            "GET",
            404,
            "There is no page at <code>/no-such-target.pspx</code>",  # the target's path
        ),
        ("/zz-fwd-above.pspx", "GET", 500, "Something went wrong on our side"),
        ("/zz-fwd-method.pspx", "POST", 405, "This address does not answer POST requests."),
        ("/zz-fwd-method.pspx", "GET", 200, "<h1>About this site</h1>"),
        ("/zz-fwd-hidden.pspx", "GET", 200, "<h1>Thank you, friend!</h1>"),
        ("/zz-dir/fwd-up.pspx", "GET", 200, "<h1>Über diese Seite</h1>"),
        ("/zz-fwd-index.pspx", "GET", 200, "<h1>About this site</h1>"),
    ],
)
def test_programmatic_forward(
    forwards: Webapp, url: str, method: str, status: int, marker: str
) -> None:
    response = forwards.client().request(method, url)
    assert response.status_code == status
    assert marker in response.text
    assert "Traceback" not in response.text


def test_forward_loop_is_logged(forwards: Webapp) -> None:
    assert logged(forwards) == []
    forwards.client().get("/zz-fwd-a.pspx")
    assert any("forward loop" in m and "/zz-fwd-a.pspx" in m for m in logged(forwards))


def test_forward_target_sees_its_own_path_and_earlier_headers(forwards: Webapp) -> None:
    client = forwards.client()
    response = client.get("/zz-fwd-hidden.pspx")
    assert "Served by TinCan for <code>/zz-thanks.pspx</code>" in response.text
    assert client.get("/zz-thanks.pspx").status_code == 404  # hidden: no route of its own
    assert response.headers["x-before"] == "kept"
    up = client.get("/zz-dir/fwd-up.pspx")
    assert "Served by TinCan for <code>/about/Über uns.pspx</code>" in up.text
    # the target's methods decide: about/ accepts GET only
    assert client.post("/zz-fwd-method.pspx").headers["allow"] == "GET, HEAD"


# -- §6 error pages: the edge cases ------------------------------------------------------------


TEAPOT = {"zz-teapot2.pspx": "<p>never</p>", "zz-teapot2.py": code_behind("abort(418)")}


@pytest.mark.parametrize(
    ("handler", "status", "body"),
    [
        ("raise RuntimeError('error page broke')", 500, "500 Internal Server Error\n"),
        ("self.request.app.forward('/index.pspx')", 500, "500 Internal Server Error\n"),
        ("abort(418)", 418, "418 I'm a teapot\n"),  # its own code again: plain
        ("redirect('/guestbook.pspx', 302)", 302, ""),
    ],
    ids=["raises", "forwards", "aborts", "redirects"],
)
def test_error_page_code_behind_edge_cases(
    demo: DemoFactory, handler: str, status: int, body: str
) -> None:
    files = {
        **TEAPOT,
        "zz-teapot2-errors.pspx": "#errors 418\n<p>never shown</p>",
        "zz-teapot2-errors.py": code_behind(handler, base="ErrorPage"),
    }
    site = demo(files)
    client = site.client()
    assert site.errors == 0
    response = client.get("/zz-teapot2.pspx")
    assert response.status_code == status
    assert response.text == body  # plain: never a traceback, never the error pages again
    if status == 302:
        assert response.headers["location"] == "http://testserver/guestbook.pspx"
    else:
        assert response.headers["content-type"].startswith("text/plain")
    if handler.startswith(("raise", "self")):
        assert any("zz-teapot2-errors.pspx" in m for m in logged(site))


def test_template_error_in_an_error_page_is_a_plain_500(demo: DemoFactory) -> None:
    files = {**TEAPOT, "zz-teapot2-errors.pspx": "#errors 418\n<p>${undefined_name}</p>"}
    site = demo(files)
    client = site.client()
    response = client.get("/zz-teapot2.pspx")
    assert (response.status_code, response.text) == (500, "500 Internal Server Error\n")


ERROR_PAGES = [
    "errors/404.pspx",
    "errors/404.py",
    "errors/500.pspx",
    "errors/500.py",
    "errors/other.pspx",
    "errors/other.py",
]


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/no-such-page.pspx", 404),
        ("GET", "/crash.pspx", 500),
        ("POST", "/about/", 405),
        ("GET", "/entry/999999", 404),
        ("GET", "/entry/abc", 404),
        ("GET", "/%3Cscript%3E.pspx", 404),
    ],
)
def test_default_error_page_without_error_pages(
    demo: DemoFactory, method: str, url: str, status: int
) -> None:
    site = demo(dict.fromkeys(ERROR_PAGES))
    client = site.client()
    assert site.errors == 0
    response = client.request(method, url)
    assert response.status_code == status
    assert f"<h1>{status} " in response.text
    for leak in (
        "None",
        "<script>",
        "Traceback",
        "HTTPError",
        "object at 0x",
        "'/",
        str(site.root),
        str(DEMO),
    ):
        assert leak not in response.text


def test_only_the_catch_all_error_page(demo: DemoFactory) -> None:
    site = demo(dict.fromkeys(ERROR_PAGES[:4]))
    client = site.client()
    response = client.get("/no-such-page.pspx")
    assert response.status_code == 404
    assert "<h1>404 Not Found</h1>" in response.text  # errors/other.pspx now has 404 too
    crash = client.get("/crash.pspx")
    assert crash.status_code == 500 and "<h1>500 Internal Server Error</h1>" in crash.text


# -- §8 urlroot and multithread=False ----------------------------------------------------------


@pytest.mark.parametrize("urlroot", ["/demo", "/demo/"])
def test_the_demo_under_a_urlroot(demo: DemoFactory, urlroot: str) -> None:
    site = demo(urlroot=urlroot)
    client = site.client()
    assert site.errors == 0
    for url, status, marker in DEMO_URLS:
        response = client.get("/demo" + url if url != "/" else "/demo/")
        assert (
            response.status_code,
            marker.replace("<code>/", "<code>/demo/") in response.text,
        ) == (status, True), url
        assert client.get(url).status_code == 404, url
    assert client.get("/demo").headers["location"] == "/demo/"
    home = client.get("/demo/").text
    assert 'href="/demo/guestbook"' in home and 'href="/demo/static/style.css"' in home
    assert 'href="/demo/entry/1"' in home and 'href="/demo/api/entries"' in home
    assert "//" not in re.sub(r"https?://", "", " ".join(re.findall(r'href="([^"]*)"', home)))
    signed = client.post("/demo/guestbook.pspx", data={"name": "Root", "message": "hi"})
    assert signed.headers["location"] == "http://testserver/demo/entry/3"
    assert "Path=/demo/" in signed.headers["set-cookie"]
    entry = client.get("/demo/entry/3")
    assert "Thank you, Root! Your note is entry #3." in entry.text
    assert "Served by TinCan for <code>/demo/entry/3</code>" in entry.text
    assert client.get("/demo/api/entries").json()["entries"][0]["url"] == "/demo/entry/3"
    moved = client.get("/demo/guestbook.html")
    assert moved.headers["location"] == "http://testserver/demo/guestbook"
    assert client.get("/demo/entry.pspx").headers["location"] == "http://testserver/demo/entries"


def test_single_threaded_mode_renders_the_same(demo: DemoFactory) -> None:
    threaded = demo()
    single = demo(multithread=False)
    assert single.errors == 0
    for url, _, _ in DEMO_URLS:
        if (
            url.startswith("/entr")
            or url == "/"
            or "index.pspx" in url
            or url.endswith("start.pspx")
            or url.endswith("home.pspx")
        ):
            continue  # shows the guestbook, which other tests change
        one, other = threaded.client().get(url), single.client().get(url)
        assert (one.status_code, one.content) == (other.status_code, other.content), url
    assert single.client().get("/").status_code == 200


def test_without_clean_urls_every_link_is_a_pspx_url(demo: DemoFactory) -> None:
    site = demo(settings={"clean_urls": False})
    client = site.client()
    home = client.get("/").text
    assert 'href="/guestbook.pspx"' in home and 'href="/entry.pspx/1"' in home
    assert 'href="/static/style.css"' in home and 'href="/theme.pspx"' in home
    assert client.get("/guestbook").status_code == 404
    signed = client.post("/guestbook.pspx", data={"name": "Plain", "message": "no clean URLs"})
    assert signed.headers["location"] == "http://testserver/entry.pspx/3"
    assert "Thank you, Plain!" in client.get("/entry.pspx/3").text
