"""Clean URLs (``clean_urls``), their collisions, and the redirects: ``dir`` to
``dir/``, and ``.pspx`` URLs to clean ones (``redirect_to_clean_urls``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import tincan_core

Launch = Callable[..., Any]

SHOW = "<p>${page.request.path}</p>"
TREE = {
    "index.pspx": SHOW,
    "about.pspx": SHOW,
    "a/b/name.pspx": SHOW,
    "docs/index.pspx": SHOW,
    "docs/guide.pspx": SHOW,
    "plain/index.html": "<p>plain</p>",
    "old/index.htm": "<p>old</p>",
}


def test_without_the_setting_there_are_no_clean_urls(launch_webapp: Launch) -> None:
    webapp = launch_webapp(TREE, static=True)
    assert webapp.get("/about").status_code == 404
    assert webapp.get("/a/b/name").status_code == 404
    assert webapp.get("/about.pspx").text == "<p>/about.pspx</p>"


@pytest.mark.parametrize("urlroot", ["/", "/app"])
def test_clean_urls_answer_beside_the_pspx_urls(launch_webapp: Launch, urlroot: str) -> None:
    webapp = launch_webapp(TREE, static=True, clean_urls=True, urlroot=urlroot)
    assert webapp.errors == 0
    root = urlroot.rstrip("/")
    for path in ("/about", "/about.pspx", "/a/b/name", "/a/b/name.pspx", "/docs/guide"):
        response = webapp.get(root + path)
        assert response.text == f"<p>{root}{path}</p>"  # the page sees the URL asked for
    # Index pages answer their directory, as before; no /docs/index clean URL.
    assert webapp.get(f"{root}/docs/").text == f"<p>{root}/docs/</p>"
    assert webapp.get(f"{root}/docs/index").status_code == 404
    assert webapp.get(f"{root}/").text == f"<p>{root}/</p>"
    assert webapp.get(f"{root}/plain/").text == "<p>plain</p>"
    # Only pages: static files keep their one URL.
    assert webapp.get(f"{root}/plain/index").status_code == 404


def test_clean_urls_with_methods_and_head(launch_webapp: Launch) -> None:
    webapp = launch_webapp({"form.pspx": "#methods POST\n" + SHOW}, clean_urls=True)
    assert webapp.request("POST", "/form").text == "<p>/form</p>"
    refused = webapp.get("/form")
    assert (refused.status_code, refused.headers["allow"]) == (405, "POST")


@pytest.mark.parametrize(
    ("files", "clean", "other"),
    [
        ({"about.pspx": SHOW, "about": "static"}, "/about", "static file about"),
        (
            {"about.pspx": SHOW, "about/index.pspx": SHOW},
            "/about",
            "directory about/ (index about/index.pspx)",
        ),
        (
            {"about.pspx": SHOW, "about/index.html": "x"},
            "/about",
            "directory about/ (index about/index.html)",
        ),
        ({"x.pspx": SHOW, "x.pspx.pspx": SHOW}, "/x.pspx", "page x.pspx"),
        ({"d/n.pspx": SHOW, "d/n": "static"}, "/d/n", "static file d/n"),
    ],
)
def test_a_clean_url_something_else_has_is_a_launch_error_naming_both(
    launch_webapp: Launch, files: dict[str, str], clean: str, other: str
) -> None:
    # Each file says which it is.
    files = {name: f"<p>{name}</p>" if name.endswith(".pspx") else text
             for name, text in files.items()}  # fmt: skip
    webapp = launch_webapp(files, static=True, clean_urls=True)
    assert webapp.errors == 1
    (message,) = webapp.log.errors()
    page = next(p for p in files if p.endswith(".pspx") and clean_of(p) == clean)
    assert message == (
        f"{webapp.root / page}: clean URL {clean} is also the URL of {other}; "
        "the page answers only at its .pspx URL"
    )
    # The other file keeps the URL; the page keeps its .pspx URL.
    assert webapp.get(f"/{page}").text == f"<p>{page}</p>"
    assert webapp.get(clean).text != f"<p>{page}</p>"


def test_a_clean_url_may_not_take_a_hidden_pages_url(launch_webapp: Launch) -> None:
    # forward("/x.pspx") reaches the hidden page: that URL stays its own.
    webapp = launch_webapp(
        {"x.pspx": "#hidden\n<p>hidden</p>", "x.pspx.pspx": SHOW}, clean_urls=True
    )
    (message,) = webapp.log.errors()
    assert message.endswith("clean URL /x.pspx is also the URL of hidden page x.pspx; "
                            "the page answers only at its .pspx URL")  # fmt: skip
    assert webapp.get("/x.pspx").status_code == 404
    assert webapp.get("/x.pspx.pspx").text == "<p>/x.pspx.pspx</p>"


def clean_of(relpath: str) -> str:
    return "/" + relpath.removesuffix(".pspx")


@pytest.mark.parametrize("name", ["about", "about/index.html"])
def test_a_collision_with_a_static_file_counts_without_static_serving_too(
    launch_webapp: Launch, name: str
) -> None:
    # The web server serves the file then, at the same URL: still two answers for one URL.
    webapp = launch_webapp({"about.pspx": SHOW, name: "static"}, clean_urls=True)
    assert webapp.errors == 1
    assert "clean URL /about is also the URL of" in webapp.log.errors()[0]
    assert webapp.get("/about").status_code == 404
    assert webapp.get("/about.pspx").text == "<p>/about.pspx</p>"


# -- directory redirects ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "status"), [("GET", 301), ("HEAD", 301), ("POST", 308), ("PUT", 308)]
)
def test_a_directory_without_its_slash_redirects_to_it(
    launch_webapp: Launch, method: str, status: int
) -> None:
    webapp = launch_webapp(
        {"docs/index.pspx": "#methods ANY\n" + SHOW, "plain/index.html": "<p>plain</p>"},
        static=True,
    )
    moved = webapp.request(method, "/docs?q=1&r=%20")
    assert moved.status_code == status
    assert moved.headers["location"] == "/docs/?q=1&r=%20"
    assert moved.content == b""
    static = webapp.request("HEAD" if method == "HEAD" else "GET", "/plain")
    assert (static.status_code, static.headers["location"]) == (301, "/plain/")


def test_the_location_never_comes_from_the_host_header(launch_webapp: Launch) -> None:
    webapp = launch_webapp({"docs/index.pspx": SHOW})
    moved = webapp.get("/docs", headers={"Host": "evil.example"})
    assert moved.headers["location"] == "/docs/"


def test_the_location_includes_script_name(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {"docs/index.pspx": SHOW, "über/index.pspx": SHOW, "p.pspx": SHOW},
        clean_urls=True,
        redirect_to_clean_urls=True,
    )
    assert webapp.app is not None
    status, headers = call(webapp.app, "/docs", script_name="/app", query="q=1")
    assert status.startswith("301") and headers["Location"] == "/app/docs/?q=1"
    # PEP 3333 paths are latin-1 strings of the bytes; the Location is percent-encoded.
    raw = "/über".encode().decode("latin-1")
    status, headers = call(webapp.app, raw, script_name="/my app/")
    assert headers["Location"] == "/my%20app/%C3%BCber/"
    status, headers = call(webapp.app, "/p.pspx", script_name="/app")
    assert headers["Location"] == "/app/p"


def call(
    app: Any, path: str, *, script_name: str = "", query: str = "", method: str = "GET"
) -> tuple[str, dict[str, str]]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, dict(headers)
        return lambda data: None

    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "evil.example",
        "wsgi.url_scheme": "http",
        "wsgi.input": __import__("io").BytesIO(b""),
        "wsgi.errors": __import__("io").StringIO(),
    }
    body = app(environ, start_response)
    b"".join(body)
    return seen["status"], seen["headers"]


def test_forwards_to_a_directory_without_its_slash_serve_the_index(
    launch_webapp: Launch,
) -> None:
    code = (
        "import tincan\nclass P(tincan.Page):\n    def handle(self):\n"
        "        self.request.app.forward('/docs')\n"
    )
    webapp = launch_webapp({"docs/index.pspx": SHOW, "go.pspx": "<p/>", "go.py": code})
    assert webapp.get("/go.pspx").text == "<p>/docs</p>"  # server-side: no redirect


# -- redirect_to_clean_urls ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "status"), [("GET", 301), ("HEAD", 301), ("POST", 308), ("DELETE", 308)]
)
def test_pspx_urls_redirect_to_the_clean_ones(
    launch_webapp: Launch, method: str, status: int
) -> None:
    webapp = launch_webapp(
        {
            "about.pspx": "#methods ANY\n" + SHOW,
            "docs/index.pspx": "#methods ANY\n" + SHOW,
            "entry.pspx": "#methods ANY\n#path <id:int>\n" + SHOW,
        },
        clean_urls=True,
        redirect_to_clean_urls=True,
        urlroot="/app",
    )
    assert webapp.errors == 0
    for old, new in (
        ("/app/about.pspx?x=1", "/app/about?x=1"),
        ("/app/docs/index.pspx", "/app/docs/"),
        ("/app/entry.pspx/042?y=%C3%A4", "/app/entry/042?y=%C3%A4"),
        ("/app/entry.pspx", "/app/entry"),
    ):
        moved = webapp.request(method, old)
        assert (moved.status_code, moved.headers["location"]) == (status, new), old
    assert webapp.request(method, "/app/entry/42").status_code == 200
    assert webapp.request(method, "/app/entry.pspx/x").status_code == 404  # not a form


def test_only_methods_the_page_takes_are_redirected(launch_webapp: Launch) -> None:
    webapp = launch_webapp({"about.pspx": SHOW}, clean_urls=True, redirect_to_clean_urls=True)
    refused = webapp.request("POST", "/about.pspx")
    assert (refused.status_code, refused.headers["allow"]) == (405, "GET, HEAD")


def test_a_page_whose_clean_url_collides_is_not_redirected(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {"about.pspx": SHOW, "about": "static"},
        static=True,
        clean_urls=True,
        redirect_to_clean_urls=True,
    )
    assert webapp.errors == 1
    assert webapp.get("/about.pspx").text == "<p>/about.pspx</p>"
    assert webapp.get("/about").text == "static"


def test_forwards_still_reach_a_redirected_page(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {"about.pspx": SHOW, "alias.pspx": "#forward about.pspx\n"},
        clean_urls=True,
        redirect_to_clean_urls=True,
    )
    assert webapp.get("/alias").text == "<p>/alias</p>"
    assert webapp.get("/alias.pspx").headers["location"] == "/alias"


@pytest.mark.slow
def test_a_real_server_follows_the_redirects(
    tmp_path: Path, serve_app: Callable[[Any], str]
) -> None:
    root = tmp_path / "w"
    (root / "WEB-INF").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "docs" / "index.pspx").write_text("<a href='guide.pspx'>${page.request.path}</a>")
    (root / "docs" / "guide.pspx").write_text(SHOW)
    app, errors = tincan_core.launch(root, clean_urls=True, redirect_to_clean_urls=True)
    assert errors == 0
    base = serve_app(app)
    with httpx.Client(base_url=base, follow_redirects=True) as client:
        response = client.get("/docs")
        assert str(response.url) == f"{base}/docs/"
        assert [r.status_code for r in response.history] == [301]
        guide = client.get("/docs/guide.pspx?a=1")
        assert str(guide.url) == f"{base}/docs/guide?a=1"
        assert guide.text == "<p>/docs/guide</p>"
