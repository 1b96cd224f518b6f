"""Error pages (SPEC §6) and the default error page."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import bottle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SHOW = "<p>${error.status_code} ${request.path} ${page.__class__.__name__}</p>"


def error_code(cls: str, handle: str) -> str:
    body = "\n".join("        " + line for line in handle.splitlines())
    return (
        "import bottle\nfrom tincan import ErrorPage\n"
        f"class {cls}(ErrorPage):\n    def handle(self):\n{body}\n"
    )


def page_code(handle: str) -> str:
    body = "\n".join("        " + line for line in handle.splitlines())
    return (
        f"import bottle\nfrom tincan import Page\nclass P(Page):\n    def handle(self):\n{body}\n"
    )


def assert_clean(text: str) -> None:
    """Nothing from inside the server: no traceback, no repr of a path, no 'None'."""
    assert "Traceback" not in text
    assert "None" not in text
    assert not re.search(r"'/[^']*'", text), text
    assert "Exception" not in text
    assert 'File "' not in text


def test_error_page_for_several_codes(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "errors/client.pspx": "#errors 404 405 403\n" + SHOW,
            "errors/server.pspx": "#errors 500\n" + SHOW,
            "boom.pspx": "<p/>",
            "boom.py": page_code("raise RuntimeError('secret detail')"),
            "abort.pspx": "<p/>",
            "abort.py": page_code("bottle.abort(403, 'forbidden text')"),
            "post.pspx": "#methods POST\n<p>post</p>",
        },
        level=logging.CRITICAL,
    )
    assert webapp.errors == 0
    assert webapp.routes() == {"/boom.pspx", "/abort.pspx", "/post.pspx"}
    not_found = webapp.get("/missing.pspx")
    assert (not_found.status_code, not_found.text) == (404, "<p>404 /missing.pspx ErrorPage</p>")
    assert webapp.get("/errors/client.pspx").status_code == 404
    not_allowed = webapp.get("/post.pspx")
    assert (not_allowed.status_code, not_allowed.text) == (405, "<p>405 /post.pspx ErrorPage</p>")
    assert not_allowed.headers["allow"] == "POST"
    crashed = webapp.get("/boom.pspx")
    assert (crashed.status_code, crashed.text) == (500, "<p>500 /boom.pspx ErrorPage</p>")
    assert "secret detail" not in crashed.text
    aborted = webapp.get("/abort.pspx")
    assert (aborted.status_code, aborted.text) == (403, "<p>403 /abort.pspx ErrorPage</p>")


def test_error_page_code_behind_sees_request_and_error(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "404.pspx": "#errors 404\n<p>${message} ${path}</p>",
            "404.py": error_code(
                "NotFound",
                "self.message = 'lost: ' + str(self.error.status_code)\n"
                "self.path = self.request.path",
            ),
        }
    )
    response = webapp.get("/a/b")
    assert response.status_code == 404
    assert response.text == "<p>lost: 404 /a/b</p>"


def test_status_is_kept_even_if_the_error_page_renders_fine(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "all.pspx": "#errors\n<p>${error.status_line}</p>",
            "gone.pspx": "<p/>",
            "gone.py": page_code("bottle.abort(410)"),
        }
    )
    response = webapp.get("/gone.pspx")
    assert response.status_code == 410
    assert response.text == "<p>410 Gone</p>"


def test_template_directive_is_honoured_for_error_pages(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "404.pspx": "#errors 404\n#template WEB-INF/views/error.pspx\n<p>own body, unused</p>",
            "500.pspx": "#errors 500\n#template /WEB-INF/views/error.pspx\n",
            "WEB-INF/views/error.pspx": "#rem shared view\n<h1>Error ${error.status_code}</h1>",
            "boom.pspx": "<p/>",
            "boom.py": page_code("raise ValueError()"),
        },
        level=logging.CRITICAL,
    )
    assert webapp.errors == 0
    assert webapp.get("/x").text == "<h1>Error 404</h1>"
    assert webapp.get("/boom.pspx").text == "<h1>Error 500</h1>"


def test_error_page_with_load_and_forward(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "WEB-INF/tlib/layout.pt": "<div metal:define-macro='m'>layout</div>",
            "404.pspx": "#errors 404\n#forward WEB-INF/nf.pspx\n",
            "WEB-INF/nf.pspx": "#errors 404\n#load <layout.pt>\n"
            "<i metal:use-macro='layout.macros.m'/><p>${error.status_code}</p>",
        }
    )
    assert webapp.errors == 0
    assert webapp.get("/x").text == "<div>layout</div><p>404</p>"


@pytest.mark.parametrize(
    ("handle", "status", "location"),
    [
        ("bottle.redirect('/home', 302)", 302, "/home"),
        ("bottle.redirect('/home')", 303, "/home"),
        ("raise bottle.HTTPResponse('moved', status=301, Location='/new')", 301, "/new"),
        ("return bottle.HTTPResponse('returned', status=200)", 200, None),
    ],
)
def test_http_response_from_an_error_page_is_sent(
    launch_webapp: Callable[..., Any], handle: str, status: int, location: str | None
) -> None:
    webapp = launch_webapp({"404.pspx": "#errors 404\n<p/>", "404.py": error_code("E", handle)})
    response = webapp.get("/nowhere")
    assert response.status_code == status
    if location is not None:
        assert response.headers["location"].endswith(location)


def test_error_raised_by_an_error_page_is_plain(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {"404.pspx": "#errors 404 403\n<p/>", "404.py": error_code("E", "bottle.abort(403)")}
    )
    response = webapp.get("/nowhere")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/plain")
    assert_clean(response.text)


@pytest.mark.parametrize(
    "files",
    [
        {"404.pspx": "#errors 404\n<p/>", "404.py": error_code("E", "raise KeyError('inside')")},
        {"404.pspx": "#errors 404\n<p tal:content='no_such_variable'/>"},
        {
            "404.pspx": "#errors 404\n<p/>",
            "404.py": "from tincan import ErrorPage\nclass E(ErrorPage):\n"
            "    def __init__(self, request, error):\n        raise RuntimeError('ctor')\n",
        },
    ],
)
def test_exception_in_an_error_page_is_a_plain_500(
    launch_webapp: Callable[..., Any], files: dict[str, str]
) -> None:
    webapp = launch_webapp(files)
    assert webapp.errors == 0
    response = webapp.get("/nowhere")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "500 Internal Server Error\n"
    assert_clean(response.text)
    errors = [r for r in webapp.log.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None


def test_duplicate_explicit_codes_are_one_error_naming_both_files(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "#errors 404 500\n<p>a</p>",
            "b.pspx": "#rem\n#errors 403 404\n<p>b</p>",
            "ok.pspx": "<p>ok</p>",
        }
    )
    assert webapp.errors == 1
    error = webapp.log.errors()[0]
    assert error.startswith(f"{webapp.root / 'b.pspx'}:2: ")
    assert str(webapp.root / "a.pspx") in error
    assert "404" in error
    # The first page keeps its codes; the second registers none of them.
    assert webapp.get("/x").text == "<p>a</p>"
    assert webapp.get("/ok.pspx").text == "<p>ok</p>"
    forbidden = webapp.get("/forbidden.pspx")
    assert forbidden.status_code == 404
    assert webapp.app.error_handler.get(403) is None


def test_bad_code_registers_none_of_the_pages_codes(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"e.pspx": "#errors 404 999\n<p>custom</p>"})
    assert webapp.errors == 1
    assert webapp.log.errors()[0].startswith(f"{webapp.root / 'e.pspx'}:1: #errors: '999'")
    response = webapp.get("/x")
    assert response.status_code == 404
    assert "custom" not in response.text
    assert webapp.app.error_handler == {}


def test_catch_all_page_and_explicit_codes_win(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "all.pspx": "#errors\n<p>all ${error.status_code}</p>",
            "nf.pspx": "#errors 404\n<p>nf</p>",
            "teapot.pspx": "<p/>",
            "teapot.py": page_code("bottle.abort(418)"),
            "weird.pspx": "<p/>",
            "weird.py": page_code("bottle.abort(599)"),
        }
    )
    assert webapp.errors == 0
    assert webapp.get("/x").text == "<p>nf</p>"
    assert webapp.get("/teapot.pspx").text == "<p>all 418</p>"
    assert webapp.get("/weird.pspx").text == "<p>all 599</p>"
    assert set(webapp.app.error_handler) == set(range(400, 600))


def test_two_catch_all_pages_are_an_error(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"a.pspx": "#errors\n<p>a</p>", "b.pspx": "#errors\n<p>b</p>"})
    assert webapp.errors == 1
    assert webapp.log.errors()[0].startswith(f"{webapp.root / 'b.pspx'}:1: ")
    assert str(webapp.root / "a.pspx") in webapp.log.errors()[0]
    assert webapp.get("/x").text == "<p>a</p>"


def test_error_pages_never_get_routes(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {"e.pspx": "#errors 404\n<p>e</p>", "sub/index.pspx": "#errors 500\n<p>i</p>"}
    )
    assert webapp.routes() == set()
    kinds = {(i.file, i.kind) for i in webapp.app.route_info}
    assert kinds == {("e.pspx", "error"), ("sub/index.pspx", "error")}


# -- the default error page --------------------------------------------------------------
def test_default_error_pages_are_clean(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "boom.pspx": "<p/>",
            "boom.py": page_code("raise RuntimeError('/etc/passwd')"),
            "render.pspx": "<p tal:content='page.nothing_here'/>",
            "post.pspx": "#methods POST\n<p/>",
            "abort.pspx": "<p/>",
            "abort.py": page_code("bottle.abort(401, 'text from /inside')"),
        },
        level=logging.CRITICAL,
    )
    cases = [
        ("/missing'quote.pspx", 404),
        ("/boom.pspx", 500),
        ("/render.pspx", 500),
        ("/post.pspx", 405),
        ("/abort.pspx", 401),
    ]
    for path, status in cases:
        response = webapp.get(path)
        assert response.status_code == status
        assert_clean(response.text)
        assert response.text.strip()
        assert "/inside" not in response.text
        assert "passwd" not in response.text
        assert str(status) in response.text


def test_default_error_page_for_plain_bottle_routes(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"p.pspx": "<p>page</p>"})

    @webapp.app.route("/api/<item>")
    def api(item: str) -> str:
        if item == "none":
            bottle.abort(404)
        return f"item {item}"

    assert webapp.get("/api/x").text == "item x"
    assert webapp.get("/p.pspx").text == "<p>page</p>"
    response = webapp.get("/api/none")
    assert response.status_code == 404
    assert_clean(response.text)
    assert webapp.request("DELETE", "/api/x").status_code == 405


@settings(max_examples=40)
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20))
def test_default_404_never_echoes_the_path(launch_webapp_module: Any, name: str) -> None:
    response = launch_webapp_module.get("/" + quote(name))
    if response.status_code == 404:
        assert_clean(response.text)
        assert response.text.count("404") >= 1


@pytest.fixture(scope="module")
def launch_webapp_module(
    tmp_path_factory: pytest.TempPathFactory, make_client: Callable[[Any], Any]
) -> Iterator[Any]:
    import tincan_core

    root = tmp_path_factory.mktemp("e404")
    (root / "WEB-INF").mkdir()
    (root / "x.pspx").write_text("<p>x</p>")
    app, _ = tincan_core.launch(root)
    with make_client(app) as client:
        yield client


# -- what an error page sees: error.body and error.exception (issue 8) ---------------------
def test_a_405_error_page_sees_bottles_text(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "405.pspx": "#errors 405\n<p>${error.status_code} ${error.body}</p>",
            "post.pspx": "#methods POST\n<p/>",
            "forward.pspx": "<p/>",
            "forward.py": page_code("self.request.app.forward('post.pspx')"),
        }
    )
    for path in ("/post.pspx", "/forward.pspx"):
        response = webapp.get(path)
        assert (response.status_code, response.text) == (405, "<p>405 Method not allowed.</p>")
        assert response.headers["allow"] == "POST"


def test_a_500_error_page_sees_the_exception(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "500.pspx": "#errors 500\n<p>${error.body} ${kind}: ${message}</p>",
            "500.py": error_code(
                "E",
                "self.kind = type(self.error.exception).__name__\n"
                "self.message = str(self.error.exception)",
            ),
            "boom.pspx": "<p/>",
            "boom.py": page_code("raise LookupError('the detail')"),
            "exit.pspx": "<p/>",
            "exit.py": page_code("import sys\nsys.exit(3)"),
            "loop.pspx": "<p/>",
            "loop.py": page_code("self.request.app.forward('loop.pspx')"),
            "render.pspx": "<p tal:content='no_such_name'/>",
        },
        level=logging.CRITICAL,
    )
    details = "No further details available."
    assert webapp.get("/boom.pspx").text == f"<p>{details} LookupError: the detail</p>"
    assert webapp.get("/exit.pspx").text == f"<p>{details} SystemExit: 3</p>"
    loop = webapp.get("/loop.pspx")
    assert loop.status_code == 500
    assert loop.text == f"<p>{details} TinCanError: /loop.pspx: forward loop at '/loop.pspx'</p>"
    render = webapp.get("/render.pspx")
    assert render.status_code == 500
    assert render.text.startswith(f"<p>{details} NameError: ")
    assert "no_such_name" in render.text


def test_a_plain_404_has_an_empty_body_without_the_path(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "404.pspx": "#errors 404\n<p>[${text}] ${request.path}</p>",
            "404.py": error_code("E", "self.text = self.error.body.strip() or 'plain'"),
            "gone.pspx": "<p/>",
            "gone.py": page_code("bottle.abort(404, 'gone for good')"),
            "hidden.pspx": "#hidden\n<p/>",
        }
    )
    for path in ("/missing'quote.pspx", "/hidden.pspx", "/dir/"):
        response = webapp.get(path)
        assert (response.status_code, response.text) == (404, f"<p>[plain] {path}</p>")
    assert webapp.get("/gone.pspx").text == "<p>[gone for good] /gone.pspx</p>"


# -- abort() inside an error page (issue 8) ------------------------------------------------
def test_abort_with_another_code_shows_that_codes_error_page(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "404.pspx": "#errors 404\n<p>not found</p>",
            "404.py": error_code(
                "NotFound",
                "if self.request.path.startswith('/members/'):\n"
                "    bottle.abort(403, 'members only')",
            ),
            "403.pspx": "#errors 403\n<p>forbidden: ${error.body} ${request.path}</p>",
        }
    )
    response = webapp.get("/members/list.pspx")
    assert response.status_code == 403
    assert response.text == "<p>forbidden: members only /members/list.pspx</p>"
    assert response.headers["content-type"].startswith("text/html")
    assert webapp.get("/other.pspx").text == "<p>not found</p>"


def test_abort_to_a_code_without_an_error_page_shows_the_default_page(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {"404.pspx": "#errors 404\n<p/>", "404.py": error_code("E", "bottle.abort(410)")}
    )
    response = webapp.get("/nowhere")
    assert response.status_code == 410
    assert "<h1>410 Gone</h1>" in response.text
    assert_clean(response.text)


def test_an_error_page_reached_from_another_sends_its_errors_plainly(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "404.pspx": "#errors 404\n<p>404</p>",
            "404.py": error_code("E", "bottle.abort(403)"),
            "403.pspx": "#errors 403\n<p>403</p>",
            "403.py": error_code("E", "bottle.abort(410)"),
            "410.pspx": "#errors 410\n<p>410 page</p>",
            "forbidden.pspx": "<p/>",
            "forbidden.py": page_code("bottle.abort(403)"),
        }
    )
    # 404 page -> 403 page -> abort(410): the second level is plain, not the 410 page.
    chained = webapp.get("/nowhere")
    assert (chained.status_code, chained.text) == (410, "410 Gone\n")
    assert chained.headers["content-type"].startswith("text/plain")
    # Reached first, the 403 page does lead to the 410 page.
    direct = webapp.get("/forbidden.pspx")
    assert (direct.status_code, direct.text) == (410, "<p>410 page</p>")


def test_abort_with_the_same_code_in_an_error_page_is_plain(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {"404.pspx": "#errors 404\n<p/>", "404.py": error_code("E", "bottle.abort(404, 'x')")}
    )
    response = webapp.get("/nowhere")
    assert (response.status_code, response.text) == (404, "404 Not Found\n")


def test_a_failure_in_the_second_error_page_is_a_plain_500(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "404.pspx": "#errors 404\n<p/>",
            "404.py": error_code("E", "bottle.abort(403)"),
            "403.pspx": "#errors 403\n<p/>",
            "403.py": error_code("E", "raise KeyError('second')"),
        },
        level=logging.CRITICAL,
    )
    response = webapp.get("/nowhere")
    assert (response.status_code, response.text) == (500, "500 Internal Server Error\n")
    assert_clean(response.text)
