"""Directives at work in a launched webapp: #template, #load, #methods, #hidden, bodies."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

Launch = Callable[..., Any]


def page_code(handle: str, cls: str = "P") -> str:
    body = "\n".join("        " + line for line in handle.splitlines())
    return (
        "import bottle\nfrom tincan import Page\n"
        f"class {cls}(Page):\n    def handle(self):\n{body}\n"
    )


# -- bodies ------------------------------------------------------------------------------
def test_leading_newlines_of_the_output_are_stripped(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "#rem one\n#rem two\n\n\r\n<p>a</p>\n",
            "b.pspx": "\n\n<p>b</p>  \n\n",
            "c.pspx": "#hidden\n#end\n#not a directive\n<p>c</p>",
            "d.pspx": "#forward c.pspx\n",
        }
    )
    assert webapp.get("/a.pspx").text == "<p>a</p>\n"
    assert webapp.get("/b.pspx").text == "<p>b</p>  \n\n"
    assert webapp.get("/d.pspx").text == "#not a directive\n<p>c</p>"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("<p tal:content='x'</p>", 1),
        ("#rem\n#rem\n\n<p tal:content='x'</p>", 4),
        ("#rem a\x0cb\n#rem c\u2028d\n<p>\n<b tal:repeat='x'></b></p>", 4),
        ("#rem\n#end\n#bogus\n<div>\n<p tal:repeat='x'></p></div>", 5),
    ],
)
def test_template_errors_name_the_line_of_the_file(
    launch_webapp: Launch, text: str, line: int
) -> None:
    webapp = launch_webapp({"bad.pspx": text, "good.pspx": "<p>g</p>"})
    assert webapp.errors == 1
    error = webapp.log.errors()[0]
    assert error.startswith(f"{webapp.root / 'bad.pspx'}:{line}: template error"), error
    assert webapp.get("/good.pspx").text == "<p>g</p>"


def test_render_error_line_matches_the_file(launch_webapp: Launch) -> None:
    webapp = launch_webapp({"p.pspx": "#rem\x0c x\n#rem\n<p>\n<b tal:content='page.nope'/></p>"})
    assert webapp.get("/p.pspx").status_code == 500
    record = webapp.log.records[-1]
    assert record.exc_info is not None
    assert "line 4" in str(record.exc_info[1])


# -- #template ---------------------------------------------------------------------------
def test_template_renders_another_body(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {
            "WEB-INF/views/list.pspx": "#python ignored.py\n#errors 404\n"
            "<ul><li tal:repeat='i items'>${i}</li></ul>",
            "a/short.pspx": "#template ../WEB-INF/views/list.pspx\n<p>unused body</p>",
            "a/short.py": "from tincan import Page\nclass P(Page):\n    items = [1, 2]\n",
            "long.pspx": "#template 'WEB-INF/views/list.pspx'\n",
            "long.py": "from tincan import Page\nclass P(Page):\n    items = [1, 2, 3]\n",
            "views/my view.pspx": "<p>spaced</p>",
            "spaced.pspx": '#template "views/my view.pspx"\n',
        }
    )
    assert webapp.errors == 0
    assert webapp.get("/a/short.pspx").text.replace("\n", "") == "<ul><li>1</li><li>2</li></ul>"
    assert webapp.get("/long.pspx").text.replace("\n", "") == (
        "<ul><li>1</li><li>2</li><li>3</li></ul>"
    )
    assert webapp.get("/spaced.pspx").text == "<p>spaced</p>"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("#template missing.pspx", "#template: "),
        ("#template ../../up.pspx", "#template: '../../up.pspx' is outside the webapp"),
        ("#template x.html", "does not end in .pspx"),
    ],
)
def test_template_errors(launch_webapp: Launch, header: str, message: str) -> None:
    webapp = launch_webapp({"p.pspx": f"#rem\n{header}\n", "ok.pspx": "<p>ok</p>"})
    assert webapp.errors == 1
    error = webapp.log.errors()[0]
    assert error.startswith(f"{webapp.root / 'p.pspx'}:2: ")
    assert message in error
    assert webapp.get("/p.pspx").status_code == 404
    assert webapp.get("/ok.pspx").status_code == 200


def test_errors_in_shared_files_name_their_file_and_every_page_using_them(
    launch_webapp: Launch,
) -> None:
    webapp = launch_webapp(
        {
            "WEB-INF/views/view.pspx": "#rem\n<div>\n<p tal:repeat='x'></p></div>",
            "WEB-INF/ctl.py": "from tincan import Page\n\nraise ValueError('ctl')\n",
            "a.pspx": "#template WEB-INF/views/view.pspx\n",
            "b.pspx": "#template WEB-INF/views/view.pspx\n",
            "c.pspx": "#python WEB-INF/ctl.py\n<p/>",
            "d.pspx": "#python WEB-INF/ctl.py\n<p/>",
            "e.pspx": "<p/>",
            "e.py": "raise KeyError('e')\n",
            "f.pspx": "#forward e.pspx\n",
            "ok.pspx": "<p>ok</p>",
        }
    )
    root = webapp.root
    errors = sorted(webapp.log.errors())
    assert len(errors) == 6
    view, ctl, e = root / "WEB-INF/views/view.pspx", root / "WEB-INF/ctl.py", root / "e.py"
    assert errors[0].startswith(f"{ctl}:3: code-behind failed to load: ValueError: ctl")
    assert errors[0].endswith("(used by c.pspx)")
    assert errors[1].endswith("(used by d.pspx)")
    assert errors[2].startswith(f"{view}:3: template error")
    assert errors[2].endswith("(used by a.pspx)")
    assert errors[3].endswith("(used by b.pspx)")
    assert errors[4] == f"{e}:1: code-behind failed to load: KeyError: 'e'"
    assert errors[5] == f"{e}:1: code-behind failed to load: KeyError: 'e' (used by f.pspx)"
    assert webapp.routes() == {"/ok.pspx"}


# -- #load -------------------------------------------------------------------------------
def test_load_from_tlib_and_from_the_page_directory(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {
            "WEB-INF/tlib/layout.pt": "<div metal:define-macro='page'>"
            "[<b metal:define-slot='body'/>]</div>",
            "WEB-INF/tlib/sub/parts.pt": "<i metal:define-macro='part'>part</i>",
            "shop/local.pt": "<u metal:define-macro='m'>local</u>",
            "shop/page.pspx": "#load <layout.pt>\n#load p=<sub/parts.pt>\n#load local.pt\n"
            "#load up=../shared/x.pt\n"
            "<div metal:use-macro='layout.macros.page'><b metal:fill-slot='body'>"
            "<i metal:use-macro='p.macros.part'/><u metal:use-macro='local.macros.m'/>"
            "<s metal:use-macro='up.macros.s'/></b></div>",
            "shared/x.pt": "<s metal:define-macro='s'>shared</s>",
        }
    )
    assert webapp.errors == 0
    assert webapp.get("/shop/page.pspx").text == (
        "<div>[<b><i>part</i><u>local</u><s>shared</s></b>]</div>"
    )
    assert webapp.get("/shop/local.pt").status_code == 404


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("#load <nope.pt>", "#load: "),
        ("#load nope.pt", "#load: "),
        ("#load <../../../x.pt>", "outside the webapp"),
        ("#load x.html", "does not end in .pt"),
        ("#load <broken.pt>", "template error"),
    ],
)
def test_load_errors_name_the_page_and_line(
    launch_webapp: Launch, header: str, message: str
) -> None:
    webapp = launch_webapp(
        {
            "WEB-INF/tlib/broken.pt": "<div metal:define-macro='m'>\n<p tal:repeat='x'/></div>",
            "p.pspx": f"#rem\n#rem\n{header}\n<p/>",
            "ok.pspx": "#load <ok.pt>\n<p>ok</p>",
            "WEB-INF/tlib/ok.pt": "<p metal:define-macro='m'/>",
        }
    )
    assert webapp.errors == 1, webapp.log.errors()
    error = webapp.log.errors()[0]
    assert error.startswith(f"{webapp.root / 'p.pspx'}:3: "), error
    assert message in error
    assert webapp.get("/ok.pspx").text == "<p>ok</p>"


def test_one_broken_macro_costs_every_page_that_loads_it(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {
            "WEB-INF/tlib/broken.pt": "<div metal:define-macro='m'>\n<p tal:repeat='x'/></div>",
            "a.pspx": "#load <broken.pt>\n<p/>",
            "b.pspx": "#load <broken.pt>\n<p/>",
        }
    )
    assert webapp.errors == 2
    assert {e.split(":", 1)[0] for e in webapp.log.errors()} == {
        str(webapp.root / "a.pspx"),
        str(webapp.root / "b.pspx"),
    }


# -- #methods and #hidden ----------------------------------------------------------------
def test_methods(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {
            "get.pspx": "<p>${page.request.method}</p>",
            "post.pspx": "#methods post\n<p>${page.request.method}</p>",
            "both.pspx": "#methods GET, POST, put\n<p>${page.request.method}</p>",
            "dir/index.pspx": "#methods POST\n<p>index ${page.request.method}</p>",
        }
    )
    assert webapp.get("/get.pspx").text == "<p>GET</p>"
    head = webapp.request("HEAD", "/get.pspx")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len("<p>HEAD</p>"))
    refused = webapp.request("POST", "/get.pspx")
    assert (refused.status_code, refused.headers["allow"]) == (405, "GET, HEAD")
    assert webapp.request("POST", "/post.pspx").text == "<p>POST</p>"
    post_only = webapp.get("/post.pspx")
    assert (post_only.status_code, post_only.headers["allow"]) == (405, "POST")
    assert webapp.request("HEAD", "/post.pspx").status_code == 405
    assert webapp.request("PUT", "/both.pspx").text == "<p>PUT</p>"
    assert webapp.request("DELETE", "/both.pspx").headers["allow"] == "GET, HEAD, POST, PUT"
    assert webapp.request("POST", "/dir/").text == "<p>index POST</p>"
    moved = webapp.request("POST", "/dir")  # to the slash form, as a POST
    assert (moved.status_code, moved.headers["location"]) == (308, "/dir/")
    assert webapp.get("/dir/").status_code == 405
    assert webapp.get("/dir").status_code == 405  # the index's methods, not a redirect


def test_hidden_page_has_no_route(launch_webapp: Launch) -> None:
    webapp = launch_webapp({"h.pspx": "#hidden\n<p>h</p>", "v.pspx": "<p>v</p>"})
    assert webapp.routes() == {"/v.pspx"}
    assert webapp.get("/h.pspx").status_code == 404
    assert webapp.app.endpoints.keys() == {"/h.pspx", "/v.pspx"}


def test_routes_are_case_sensitive(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {"Page.pspx": "<p>P</p>", "dir/index.pspx": "<p>i</p>", "f.txt": "f"}, static=True
    )
    assert webapp.get("/Page.pspx").status_code == 200
    for path in ("/page.pspx", "/PAGE.pspx", "/Page.PSPX", "/DIR/", "/Dir", "/F.txt", "/f.TXT"):
        assert webapp.get(path).status_code == 404, path


# -- code-behind responses ---------------------------------------------------------------
def test_code_behind_sets_status_headers_and_cookies(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {
            "p.pspx": "<p>created</p>",
            "p.py": page_code(
                "self.response.status = 201\n"
                "self.response.set_header('X-Thing', 'yes')\n"
                "self.response.set_cookie('session', 'abc')\n"
                "self.response.content_type = 'text/plain; charset=utf-8'"
            ),
        }
    )
    response = webapp.get("/p.pspx")
    assert response.status_code == 201
    assert response.headers["x-thing"] == "yes"
    assert response.cookies["session"] == "abc"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "<p>created</p>"


@pytest.mark.parametrize(
    ("handle", "status", "body"),
    [
        ("return bottle.HTTPResponse('as is', status=202, X_Extra='1')", 202, "as is"),
        ("raise bottle.HTTPResponse('raised', status=200)", 200, "raised"),
        ("bottle.redirect('/elsewhere', 302)", 302, ""),
        ("bottle.abort(403, 'no')", 403, None),
        ("return None", 200, "<p>page</p>"),
        ("return 'the body'", 200, "the body"),  # 0.2: a returned str is the body
    ],
)
def test_http_responses_from_code_behind(
    launch_webapp: Launch, handle: str, status: int, body: str | None
) -> None:
    webapp = launch_webapp({"p.pspx": "<p>page</p>", "p.py": page_code(handle)})
    response = webapp.get("/p.pspx")
    assert response.status_code == status
    if body is not None:
        assert response.text == body
    assert webapp.log.errors() == []


def test_page_exception_is_logged_with_traceback_and_hidden_from_client(
    launch_webapp: Launch,
) -> None:
    webapp = launch_webapp(
        {"p.pspx": "<p/>", "p.py": page_code("raise ValueError('/srv/secret/path')")},
        level=logging.ERROR,
    )
    response = webapp.get("/p.pspx")
    assert response.status_code == 500
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    [record] = webapp.log.records
    assert record.exc_info is not None
    assert "/p.pspx" in record.getMessage()


def test_static_file_replaced_by_a_directory_is_a_logged_500(launch_webapp: Launch) -> None:
    webapp = launch_webapp({"f.txt": "f"}, static=True, level=logging.ERROR)
    (webapp.root / "f.txt").unlink()
    (webapp.root / "f.txt").mkdir()
    response = webapp.get("/f.txt")
    assert response.status_code == 500
    assert str(webapp.root) not in response.text
    assert len(webapp.log.errors()) == 1


# -- written for TinCan 0.1 (issue 8) ----------------------------------------------------
def test_quoted_parameters_of_every_directive_at_launch(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {
            "WEB-INF/tlib/my layout.pt": "<b metal:define-macro='m'>layout</b>",
            "local.pt": "<i metal:define-macro='m'>local</i>",
            "page.pspx": "#load \"<my layout.pt>\"\n#load 'v=local.pt'\n#methods 'GET POST'\n"
            "<b metal:use-macro=\"python: econtext['my layout'].macros['m']\"/>"
            "<i metal:use-macro='v.macros.m'/>",
            "404.pspx": "#errors '404'\n<p>missing</p>",
        }
    )
    assert webapp.errors == 0, webapp.log.errors()
    assert webapp.get("/page.pspx").text == "<b>layout</b><i>local</i>"
    assert webapp.request("POST", "/page.pspx").status_code == 200
    nowhere = webapp.get("/nowhere")
    assert (nowhere.status_code, nowhere.text) == (404, "<p>missing</p>")


def test_malformed_literal_is_an_error_of_its_page_only(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {
            "bad.pspx": "#rem\n#errors '40\\N{nope}4'\n<p/>",
            "ok.pspx": "#errors '500'\n<p/>",
            "p.pspx": "<p>p</p>",
        }
    )
    assert webapp.errors == 1
    error = webapp.log.errors()[0]
    assert error.startswith(f"{webapp.root / 'bad.pspx'}:2: malformed string literal")
    assert webapp.get("/p.pspx").text == "<p>p</p>"


def test_flag_with_trailing_text_and_signed_error_codes(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {
            "h.pspx": "#hidden # reached by forward only\n<p>h</p>",
            "f.pspx": "#forward h.pspx\n",
            "e.pspx": "#errors +404 0500\n<p>${error.status_code}</p>",
        }
    )
    assert webapp.errors == 0, webapp.log.errors()
    assert webapp.get("/h.pspx").status_code == 404
    assert webapp.get("/f.pspx").text == "<p>h</p>"
    assert webapp.get("/nowhere").text == "<p>404</p>"
    assert webapp.log.messages(logging.WARNING) == [
        f"{webapp.root / 'h.pspx'}:1: #hidden takes no parameter;"
        " '# reached by forward only' ignored"
    ]
    assert all(
        r.levelno == logging.WARNING for r in webapp.log.records if "ignored" in r.getMessage()
    )


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
def test_any_line_end_convention_launches_with_the_right_lines(
    launch_webapp: Launch, newline: str
) -> None:
    def lines(*texts: str) -> str:
        return newline.join(texts) + newline

    webapp = launch_webapp(
        {
            "mac.pspx": lines("#hidden", "#rem old editor", "<ul>", "<li>x</li>", "</ul>"),
            "show.pspx": lines("#forward mac.pspx"),
            "bad.pspx": lines("#rem", "#rem", "<div>", "<p tal:repeat='x'></p></div>"),
        }
    )
    assert webapp.errors == 1
    assert webapp.log.errors()[0].startswith(f"{webapp.root / 'bad.pspx'}:4: template error")
    assert webapp.get("/show.pspx").text == "<ul>\n<li>x</li>\n</ul>\n"
