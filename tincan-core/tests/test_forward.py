"""Forwards: ``#forward`` resolved at launch and ``request.app.forward()`` at request time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import bottle
import pytest

SHOW_PATH = "<p>${page.request.path} ${page.__class__.__name__}</p>"


def code(cls: str, handle: str = "pass", extra: str = "") -> str:
    body = "\n".join("        " + line for line in handle.splitlines())
    return f"from tincan import Page\n{extra}\nclass {cls}(Page):\n    def handle(self):\n{body}\n"


# -- #forward ----------------------------------------------------------------------------
def test_forward_serves_the_target_under_the_original_route(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "#forward sub/b.pspx\n<p>never</p>",
            "a.py": "raise RuntimeError('the forwarding page code is not used')\n",
            "sub/b.pspx": "#load <lay.pt>\n#methods GET POST\n<i metal:use-macro='lay.macros.m'/>"
            + SHOW_PATH,
            "sub/b.py": code("B"),
            "WEB-INF/tlib/lay.pt": "<b metal:define-macro='m'>L</b>",
        }
    )
    assert webapp.errors == 0
    response = webapp.get("/a.pspx")
    assert response.status_code == 200
    assert response.text == "<b>L</b><p>/a.pspx B</p>"
    assert webapp.request("POST", "/a.pspx").text == "<b>L</b><p>/a.pspx B</p>"
    assert webapp.get("/sub/b.pspx").text == "<b>L</b><p>/sub/b.pspx B</p>"


def test_forward_chain_is_followed(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "#forward b.pspx\n",
            "b.pspx": "#forward /c/c.pspx\n#methods POST\n",
            "c/c.pspx": "#forward ../d.pspx\n",
            "d.pspx": SHOW_PATH,
            "d.py": code("D"),
        }
    )
    assert webapp.errors == 0
    for path in ("/a.pspx", "/b.pspx", "/c/c.pspx", "/d.pspx"):
        assert webapp.get(path).text == f"<p>{path} D</p>"
    info = {i.file: i for i in webapp.app.route_info}
    assert info["a.pspx"].forward == "d.pspx"
    assert info["a.pspx"].served_by == "d.pspx"


def test_hidden_and_errors_come_from_the_original_page(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "hidden.pspx": "#hidden\n<p>hidden ${page.request.path}</p>",
            "visible.pspx": "#forward hidden.pspx\n",
            "secret.pspx": "#hidden\n#forward visible.pspx\n",
            "WEB-INF/views/private.pspx": "<p>private view</p>",
            "public.pspx": "#forward /WEB-INF/views/private.pspx\n",
            "err.pspx": "#errors 404\n#forward WEB-INF/views/nf.pspx\n",
            "WEB-INF/views/nf.pspx": "#errors\n<p>not found ${error.status_code}</p>",
        }
    )
    assert webapp.errors == 0
    assert webapp.get("/hidden.pspx").text != "<p>hidden /hidden.pspx</p>"
    assert webapp.get("/hidden.pspx").status_code == 404
    assert webapp.get("/visible.pspx").text == "<p>hidden /visible.pspx</p>"
    assert webapp.get("/secret.pspx").status_code == 404
    assert webapp.get("/public.pspx").text == "<p>private view</p>"
    assert webapp.get("/nowhere").text == "<p>not found 404</p>"
    assert webapp.get("/err.pspx").status_code == 404


def test_forward_targets_with_spaces_and_non_ascii(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "#forward 'my dir/été page.pspx'\n",
            "b.pspx": '#forward "my dir/\\u00e9t\\u00e9 page.pspx"\n',
            "my dir/été page.pspx": "<p>${page.request.path}</p>",
        }
    )
    assert webapp.errors == 0
    assert webapp.get("/a.pspx").text == "<p>/a.pspx</p>"
    assert webapp.get("/b.pspx").text == "<p>/b.pspx</p>"
    assert webapp.get("/my dir/été page.pspx").text == "<p>/my dir/été page.pspx</p>"


@pytest.mark.parametrize(
    ("files", "line", "message"),
    [
        ({"a.pspx": "#forward a.pspx\n"}, 1, "#forward loop: a.pspx -> a.pspx"),
        ({"a.pspx": "#rem\n#forward ./x/../a.pspx\n"}, 2, "#forward loop: a.pspx -> a.pspx"),
        (
            {"a.pspx": "#forward b.pspx\n", "b.pspx": "#forward a.pspx\n"},
            1,
            "#forward loop: a.pspx -> b.pspx -> a.pspx",
        ),
        ({"a.pspx": "#forward ../x.pspx\n"}, 1, "#forward: '../x.pspx' is outside the webapp"),
        (
            {"a.pspx": "#forward missing.pspx\n"},
            1,
            "#forward target 'missing.pspx' does not exist",
        ),
        ({"a.pspx": "#forward b.html\n", "b.html": ""}, 1, "does not end in .pspx"),
        (
            {"a.pspx": "#forward e.pspx\n", "e.pspx": "#errors 404\n<p/>"},
            1,
            "switches between error page and normal page",
        ),
        (
            {"a.pspx": "#errors 500\n#forward n.pspx\n", "n.pspx": "<p/>"},
            2,
            "switches between error page and normal page",
        ),
        (
            {"a.pspx": "#forward b.pspx\n", "b.pspx": "#bogus\n"},
            1,
            "#forward target 'b.pspx' is broken",
        ),
    ],
)
def test_forward_errors(
    launch_webapp: Callable[..., Any], files: dict[str, str], line: int, message: str
) -> None:
    webapp = launch_webapp({**files, "ok.pspx": "<p>ok</p>"})
    errors = [e for e in webapp.log.errors() if e.startswith(f"{webapp.root / 'a.pspx'}:")]
    assert len(errors) == 1, webapp.log.errors()
    assert errors[0].startswith(f"{webapp.root / 'a.pspx'}:{line}: ")
    assert message in errors[0]
    assert webapp.get("/a.pspx").status_code == 404
    assert webapp.get("/ok.pspx").text == "<p>ok</p>"


def test_broken_chain_is_an_error_of_each_page_that_loses_its_route(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "#forward b.pspx\n",
            "b.pspx": "#rem\n#forward c.pspx\n",
            "c.pspx": "#forward ../../up.pspx\n",
            "x.pspx": "#forward y.pspx\n",
            "y.pspx": "#forward x.pspx\n",
        }
    )
    assert webapp.errors == 5
    assert sorted(e.removeprefix(f"{webapp.root}/") for e in webapp.log.errors()) == [
        "a.pspx:1: #forward: '../../up.pspx' is outside the webapp"
        " (via a.pspx -> b.pspx -> c.pspx)",
        "b.pspx:2: #forward: '../../up.pspx' is outside the webapp (via b.pspx -> c.pspx)",
        "c.pspx:1: #forward: '../../up.pspx' is outside the webapp",
        "x.pspx:1: #forward loop: x.pspx -> y.pspx -> x.pspx",
        "y.pspx:1: #forward loop: y.pspx -> x.pspx -> y.pspx",
    ]


# -- request.app.forward() ---------------------------------------------------------------
def forwarding(target: str, before: str = "") -> str:
    return code("F", f"{before}\nself.request.app.forward({target!r})")


def test_programmatic_forward(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "a/from.pspx": "<p>never</p>",
            "a/from.py": forwarding("../b/to.pspx"),
            "abs.pspx": "<p>never</p>",
            "abs.py": forwarding("/b/to.pspx"),
            "dots.pspx": "<p/>",
            "dots.py": forwarding("./b/./x/../to.pspx"),
            "b/to.pspx": "<p>${page.request.path} ${page.request.query.q}"
            " ${page.request.method}</p>",
        }
    )
    assert webapp.errors == 0
    assert webapp.get("/a/from.pspx?q=1").text == "<p>/b/to.pspx 1 GET</p>"
    assert webapp.get("/abs.pspx?q=2").text == "<p>/b/to.pspx 2 GET</p>"
    assert webapp.get("/dots.pspx?q=3").text == "<p>/b/to.pspx 3 GET</p>"


def test_forward_keeps_method_body_and_response_headers(launch_webapp: Callable[..., Any]) -> None:
    target = code(
        "T",
        "self.got = self.request.forms.get('x')\nself.response.set_header('X-Target', 'yes')",
    )
    webapp = launch_webapp(
        {
            "from.pspx": "#methods POST\n<p/>",
            "from.py": forwarding(
                "to.pspx",
                "self.response.set_header('X-Before', 'kept')\n"
                "self.response.set_cookie('c', 'v')\nself.response.status = 201",
            ),
            "to.pspx": "#methods POST\n<p>${got}</p>",
            "to.py": target,
        }
    )
    response = webapp.request("POST", "/from.pspx", data={"x": "posted"})
    assert response.text == "<p>posted</p>"
    assert response.status_code == 201
    assert response.headers["x-before"] == "kept"
    assert response.headers["x-target"] == "yes"
    assert response.cookies["c"] == "v"


def test_forward_with_urlroot(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "<p/>",
            "a.py": forwarding("/app/sub/t.pspx"),
            "b.pspx": "<p/>",
            "b.py": forwarding("sub/t.pspx"),
            "c.pspx": "<p/>",
            "c.py": forwarding("/sub/t.pspx"),
            "d.pspx": "<p/>",
            "d.py": forwarding("sub/"),
            "sub/t.pspx": "<p>${page.request.path}</p>",
            "sub/index.pspx": "<p>index ${page.request.path}</p>",
        },
        urlroot="/app/",
    )
    assert webapp.get("/app/a.pspx").text == "<p>/app/sub/t.pspx</p>"
    assert webapp.get("/app/b.pspx").text == "<p>/app/sub/t.pspx</p>"
    assert webapp.get("/app/c.pspx").status_code == 404
    assert webapp.get("/app/d.pspx").text == "<p>index /app/sub/</p>"


def test_forward_to_hidden_spaces_and_non_ascii(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "<p/>",
            "a.py": forwarding("my dir/ünïcode page.pspx"),
            "my dir/ünïcode page.pspx": "#hidden\n<p>${page.request.path}</p>",
            "b.pspx": "<p/>",
            "b.py": forwarding("/日本/ページ.pspx"),
            "日本/ページ.pspx": "<p>${page.request.path}</p>",
        }
    )
    assert webapp.get("/a.pspx").text == "<p>/my dir/ünïcode page.pspx</p>"
    assert webapp.get("/my dir/ünïcode page.pspx").status_code == 404
    assert webapp.get("/b.pspx").text == "<p>/日本/ページ.pspx</p>"


def test_forward_over_a_real_server_with_encoded_names(
    make_webapp: Callable[..., Any], serve_app: Callable[[Any], str]
) -> None:
    import httpx
    import tincan_core

    root = make_webapp(
        {
            "ä b.pspx": "<p/>",
            "ä b.py": forwarding("ziel ö.pspx"),
            "ziel ö.pspx": "#hidden\n<p>${page.request.path}</p>",
        }
    )
    app, errors = tincan_core.launch(root)
    assert errors == 0
    with httpx.Client(base_url=serve_app(app)) as client:
        response = client.get("/%C3%A4%20b.pspx")
        assert response.status_code == 200
        assert response.text == "<p>/ziel ö.pspx</p>"


@pytest.mark.parametrize(
    ("target", "status"),
    [("../../x.pspx", 500), ("nowhere.pspx", 404), ("post-only.pspx", 405), ("a.pspx", 500)],
)
def test_forward_failures(launch_webapp: Callable[..., Any], target: str, status: int) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "<p/>",
            "a.py": forwarding(target),
            "post-only.pspx": "#methods POST PUT\n<p/>",
        }
    )
    response = webapp.get("/a.pspx")
    assert response.status_code == status
    if status == 405:
        assert response.headers["allow"] == "POST, PUT"
    assert "Traceback" not in response.text
    errors = webapp.log.errors()
    if status == 500:
        assert len(errors) == 1
        assert "/a.pspx" in errors[0]
    else:
        assert errors == []


def test_forward_loop_at_request_time(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "<p/>",
            "a.py": forwarding("b.pspx"),
            "b.pspx": "<p/>",
            "b.py": forwarding("a.pspx"),
        }
    )
    response = webapp.get("/a.pspx")
    assert response.status_code == 500
    errors = webapp.log.errors()
    assert len(errors) == 1
    assert "forward loop" in errors[0]


def test_forward_from_an_error_page_is_a_plain_500(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "404.pspx": "#errors 404\n<p>not found</p>",
            "404.py": "from tincan import ErrorPage\nclass E(ErrorPage):\n"
            "    def handle(self):\n        self.request.app.forward('/ok.pspx')\n",
            "ok.pspx": "<p>ok</p>",
        },
        level=logging.ERROR,
    )
    response = webapp.get("/missing")
    assert response.status_code == 500
    assert "ok" not in response.text
    assert "Traceback" not in response.text
    assert response.headers["content-type"].startswith("text/plain")


def test_forward_to_a_page_that_fails(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "<p/>",
            "a.py": forwarding("b.pspx"),
            "b.pspx": "<p/>",
            "b.py": code("B", "raise ValueError('inner')"),
            "c.pspx": "<p/>",
            "c.py": forwarding("d.pspx"),
            "d.pspx": "<p/>",
            "d.py": code("D", "import bottle\nbottle.abort(403, 'no')"),
            "e.pspx": "<p/>",
            "e.py": forwarding("f.pspx"),
            "f.pspx": "<p/>",
            "f.py": code("G", "import bottle\nbottle.redirect('/elsewhere')"),
        }
    )
    failed = webapp.get("/a.pspx")
    assert failed.status_code == 500
    assert "inner" not in failed.text
    assert webapp.get("/c.pspx").status_code == 403
    redirected = webapp.get("/e.pspx")
    assert redirected.status_code in (302, 303)
    assert redirected.headers["location"].endswith("/elsewhere")


def test_forward_chain_of_programmatic_forwards(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "<p/>",
            "a.py": forwarding("b.pspx", "self.response.set_header('X-A', '1')"),
            "b.pspx": "<p/>",
            "b.py": forwarding("c.pspx", "self.response.set_header('X-B', '1')"),
            "c.pspx": "<p>${page.request.path}</p>",
        }
    )
    response = webapp.get("/a.pspx")
    assert response.text == "<p>/c.pspx</p>"
    assert response.headers["x-a"] == "1"
    assert response.headers["x-b"] == "1"


def test_head_through_a_forward(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"a.pspx": "<p/>", "a.py": forwarding("b.pspx"), "b.pspx": "<p>b</p>"})
    response = webapp.request("HEAD", "/a.pspx")
    assert response.status_code == 200
    assert response.content == b""


# -- forward() to whatever the app routes (issue 8) ----------------------------------------
def test_forward_to_static_files(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "css.pspx": "<p/>",
            "css.py": forwarding("style.css", "self.response.set_header('X-Before', 'dropped')"),
            "docs.pspx": "<p/>",
            "docs.py": forwarding("/docs/"),
            "text.pspx": "<p/>",
            "text.py": forwarding("my files/ünï cöde.txt"),
            "style.css": "body { margin: 0 }\n",
            "docs/index.html": "<h1>docs</h1>\n",
            "my files/ünï cöde.txt": "text\n",
        },
        static=True,
    )
    css = webapp.get("/css.pspx")
    assert (css.status_code, css.text) == (200, "body { margin: 0 }\n")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    # The file's response replaces the page's headers, as returning it would.
    assert "x-before" not in css.headers
    assert webapp.get("/docs.pspx").text == "<h1>docs</h1>\n"
    assert webapp.get("/text.pspx").text == "text\n"
    head = webapp.request("HEAD", "/css.pspx")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len("body { margin: 0 }\n"))
    cached = webapp.get("/css.pspx", headers={"If-None-Match": css.headers["etag"]})
    assert cached.status_code == 304


def test_forward_to_a_static_file_needs_static_serving(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {"css.pspx": "<p/>", "css.py": forwarding("style.css"), "style.css": "body {}\n"}
    )
    assert webapp.get("/css.pspx").status_code == 404


def test_forward_to_ordinary_bottle_routes(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "status.pspx": "<p/>",
            "status.py": forwarding("api/status"),
            "item.pspx": "<p/>",
            "item.py": forwarding("/api/items/42"),
            "denied.pspx": "<p/>",
            "denied.py": forwarding("/api/denied"),
            "errors.pspx": "#errors 403\n<p>${error.status_code} ${request.path}</p>",
        }
    )
    app = webapp.app

    @app.route("/api/status")
    def status() -> dict[str, Any]:
        return {"ok": True, "path": bottle.request.path}

    @app.route("/api/items/<number:int>")
    def item(number: int) -> str:
        return f"item {number + 1} {bottle.request.url_args} {bottle.request.route.rule}"

    @app.route("/api/denied")
    def denied() -> None:
        bottle.abort(403)

    response = webapp.get("/status.pspx")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"  # Bottle's JSON plugin
    assert response.json() == {"ok": True, "path": "/api/status"}
    assert webapp.get("/item.pspx").text == "item 43 {'number': 42} /api/items/<number:int>"
    refused = webapp.get("/denied.pspx")
    assert (refused.status_code, refused.text) == (403, "<p>403 /api/denied</p>")


def test_forward_through_a_bottle_route_keeps_loop_detection(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {"a.pspx": "<p/>", "a.py": forwarding("/api/back")}, level=logging.ERROR
    )

    @webapp.app.route("/api/back")
    def back() -> None:
        bottle.request.app.forward("/a.pspx")

    assert webapp.get("/a.pspx").status_code == 500
    assert any("forward loop" in e for e in webapp.log.errors())


def test_error_pages_see_the_target_of_a_failed_forward(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "errors.pspx": "#errors 404 405\n<p>${error.status_code} ${request.path}</p>",
            "a.pspx": "<p/>",
            "a.py": forwarding("nowhere.pspx"),
            "sub/b.pspx": "<p/>",
            "sub/b.py": forwarding("../post-only.pspx"),
            "c.pspx": "<p/>",
            "c.py": forwarding("/api/post-only"),
            "post-only.pspx": "#methods POST\n<p/>",
        }
    )

    @webapp.app.route("/api/post-only", "POST")
    def post_only() -> str:
        return "posted"

    assert webapp.get("/a.pspx").text == "<p>404 /nowhere.pspx</p>"
    not_allowed = webapp.get("/sub/b.pspx")
    assert not_allowed.text == "<p>405 /post-only.pspx</p>"
    assert not_allowed.headers["allow"] == "POST"
    routed = webapp.get("/c.pspx")
    assert (routed.status_code, routed.text) == (405, "<p>405 /api/post-only</p>")
    assert routed.headers["allow"] == "POST"


# -- directives a #forward page does not use (issue 8) --------------------------------
def test_directives_a_forward_page_does_not_use_are_ignored_with_a_warning(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "#forward t.pspx\n#template missing.pspx\n#python nope.txt\n"
            "#load <absent.pt>\n#methods G(T\n<p>never</p>",
            "b.pspx": "#methods POST\n#forward t.pspx\n#python 'b.py'\n",
            "b.py": "raise RuntimeError('not the code-behind of a forwarding page')\n",
            "t.pspx": "#methods GET PUT\n" + SHOW_PATH,
            "t.py": code("T"),
        }
    )
    assert webapp.errors == 0, webapp.log.errors()
    assert webapp.get("/a.pspx").text == "<p>/a.pspx T</p>"
    # The target's #methods apply, not the forwarding page's.
    assert webapp.request("PUT", "/b.pspx").text == "<p>/b.pspx T</p>"
    assert webapp.request("POST", "/b.pspx").status_code == 405
    a, b = webapp.root / "a.pspx", webapp.root / "b.pspx"
    assert sorted(webapp.log.messages(logging.WARNING)) == sorted(
        [
            f"{a}:2: #template is ignored on a #forward page",
            f"{a}:3: #python is ignored on a #forward page: #python: 'nope.txt'"
            " does not end in .py",
            f"{a}:4: #load is ignored on a #forward page",
            f"{a}:5: #methods is ignored on a #forward page: #methods: 'G(T'"
            " is not an HTTP method",
            f"{b}:1: #methods is ignored on a #forward page",
            f"{b}:3: #python is ignored on a #forward page",
        ]
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("#bogus", "unknown directive #bogus"),
        ("#template", "#template needs a parameter"),
        ("#forward t.pspx", "duplicate #forward"),
        ("#python 'a' + 'b.py'", "malformed string literal"),
    ],
)
def test_a_forward_page_header_must_still_be_well_formed(
    launch_webapp: Callable[..., Any], line: str, message: str
) -> None:
    webapp = launch_webapp({"a.pspx": f"#forward t.pspx\n{line}\n", "t.pspx": "<p>t</p>"})
    assert webapp.errors == 1
    assert webapp.log.errors()[0].startswith(f"{webapp.root / 'a.pspx'}:2: {message}")
    assert webapp.get("/a.pspx").status_code == 404
