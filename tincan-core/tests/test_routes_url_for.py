"""Reverse routing: ``page.url_for()`` and ``app.url_for()``, the URL forms they choose,
``SCRIPT_NAME``, urlroot, clean URLs, queries, and their errors."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
import tincan_core
from hypothesis import given
from hypothesis import strategies as st
from tincan_core import TinCanError

Launch = Callable[..., Any]

TREE = {
    "index.pspx": "<p/>",
    "about.pspx": "<p/>",
    "entry.pspx": "#path <id:int>\n#path <id:int>/<slug>\n<p/>",
    "archive/index.pspx": "#path <year:int>\n#path <year:int>/<month:int>\n<p/>",
    "archive/list.pspx": "<p/>",
    "files.pspx": "#path <rest:path>\n<p/>",
    "tag.pspx": "#path <name:re:[a-z]+>\n<p/>",
    "hidden.pspx": "#hidden\n<p/>",
    "404.pspx": "#errors 404\n<p/>",
    "alias.pspx": "#forward about.pspx\n",
}


@pytest.fixture
def app(launch_webapp: Launch) -> tincan_core.TinCan:
    webapp = launch_webapp(TREE)
    assert webapp.errors == 0 and webapp.app is not None
    return webapp.app  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("target", "params", "url"),
    [
        ("about.pspx", {}, "/about.pspx"),
        ("/about.pspx", {}, "/about.pspx"),
        ("index.pspx", {}, "/index.pspx"),
        ("alias.pspx", {}, "/alias.pspx"),
        ("entry.pspx", {}, "/entry.pspx"),
        ("entry.pspx", {"id": 3}, "/entry.pspx/3"),
        ("entry.pspx", {"id": "3"}, "/entry.pspx/3"),
        ("entry.pspx", {"id": 3, "slug": "a b?#%"}, "/entry.pspx/3/a%20b%3F%23%25"),
        ("archive/index.pspx", {"year": 2026, "month": 5}, "/archive/index.pspx/2026/5"),
        ("archive/./../archive/list.pspx", {}, "/archive/list.pspx"),
        ("files.pspx", {"rest": "a/b c.txt"}, "/files.pspx/a/b%20c.txt"),
        ("tag.pspx", {"name": "news"}, "/tag.pspx/news"),
    ],
)
def test_app_url_for_outside_a_request(
    app: tincan_core.TinCan, target: str, params: dict[str, Any], url: str
) -> None:
    assert app.url_for(target, **params) == url


@pytest.mark.parametrize(
    ("target", "params", "message"),
    [
        ("nope.pspx", {}, "url_for: no page 'nope.pspx'"),
        ("../x.pspx", {}, "url_for: '../x.pspx' is outside the webapp"),
        ("", {}, "url_for: the target must be a page path"),
        ("hidden.pspx", {}, "url_for: 'hidden.pspx' is #hidden: it has no URL"),
        ("404.pspx", {}, "url_for: '404.pspx' is an error page: it has no URL"),
        ("about.pspx", {"id": 1}, "url_for: 'about.pspx' takes no parameters (it has no #path)"),
        ("entry.pspx", {"slug": "x"}, "url_for: missing parameter 'id' for 'entry.pspx'"),
        ("entry.pspx", {"id": 1, "x": 2}, "url_for: no #path of 'entry.pspx' takes exactly id, x"),
        ("entry.pspx", {"id": "x"}, "url_for: id='x' does not pass the filter of <id:int>"),
        ("entry.pspx", {"id": True}, "does not pass the filter of <id:int>"),
        ("entry.pspx", {"id": 1, "slug": "a/b"}, "does not pass the filter of <slug>"),
        ("tag.pspx", {"name": "A"}, "does not pass the filter of <name:re>"),
    ],
)
def test_url_for_errors_are_clear(
    app: tincan_core.TinCan, target: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(TinCanError) as info:
        app.url_for(target, **params)
    assert message in str(info.value)


def test_the_query(app: tincan_core.TinCan) -> None:
    assert app.url_for("about.pspx", _query={"q": "a b", "tag": ["x", "y"]}) == (
        "/about.pspx?q=a+b&tag=x&tag=y"
    )
    assert app.url_for("entry.pspx", id=1, _query=[("a", 1), ("a", 2)]) == "/entry.pspx/1?a=1&a=2"
    assert app.url_for("about.pspx", _query={}) == "/about.pspx"


@pytest.mark.parametrize("urlroot", ["/app", "/app/", "/a b"])
def test_the_urlroot_and_clean_urls(launch_webapp: Launch, urlroot: str) -> None:
    webapp = launch_webapp(TREE, urlroot=urlroot, clean_urls=True)
    app = webapp.app
    root = "/" + urlroot.strip("/").replace(" ", "%20")
    assert app.url_for("about.pspx") == f"{root}/about"
    assert app.url_for("index.pspx") == f"{root}/"
    assert app.url_for("archive/index.pspx") == f"{root}/archive/"
    assert app.url_for("archive/index.pspx", year=2026) == f"{root}/archive/2026"
    assert app.url_for("entry.pspx", id=4, slug="s") == f"{root}/entry/4/s"
    for url in (f"{root}/about", f"{root}/archive/2026", f"{root}/entry/4/s"):
        assert webapp.get(url).status_code == 200, url


def test_a_page_whose_clean_url_collides_gets_its_pspx_url(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {"about.pspx": "#path <id:int>\n<p/>", "about": "x"}, clean_urls=True, static=True
    )
    assert webapp.app.url_for("about.pspx") == "/about.pspx"
    assert webapp.app.url_for("about.pspx", id=1) == "/about.pspx/1"


LINKS = """<p>${page.url_for('about.pspx')}
${page.url_for('../entry.pspx', id=7, _query={'from': page.request.path})}
${page.url_for('list.pspx')}
${page.url_for('/archive/index.pspx', year=2020)}</p>"""


def test_page_url_for_is_relative_to_the_page_and_honours_script_name(
    launch_webapp: Launch,
) -> None:
    files = {
        **TREE,
        "archive/list.pspx": "#path <page:int>\n" + LINKS.replace("'about", "'../about"),
    }
    webapp = launch_webapp(files, clean_urls=True)
    assert webapp.errors == 0
    expected = "<p>/about\n/entry/7?from=%2Farchive%2Flist%2F2\n/archive/list\n/archive/2020</p>"
    assert webapp.get("/archive/list/2").text == expected
    body = get(webapp.app, "/archive/list/2", script_name="/mount")
    assert body == expected.replace("/about", "/mount/about").replace(
        "\n/entry", "\n/mount/entry"
    ).replace("\n/archive", "\n/mount/archive")


def test_a_forward_page_resolves_from_its_own_directory(launch_webapp: Launch) -> None:
    # The route is the forward page's: relative targets start where the browser is.
    webapp = launch_webapp(
        {
            "a/alias.pspx": "#forward /WEB-INF/views/show.pspx\n",
            "a/x.pspx": "<p/>",
            "WEB-INF/views/show.pspx": "<p>${page.url_for('x.pspx')}</p>",
            "b/go.pspx": "<p/>",
            "b/go.py": "import tincan\nclass P(tincan.Page):\n    def handle(self):\n"
            "        self.request.app.forward('/a/alias.pspx')\n",
        }
    )
    assert webapp.get("/a/alias.pspx").text == "<p>/a/x.pspx</p>"
    assert webapp.get("/b/go.pspx").text == "<p>/a/x.pspx</p>"  # after a forward: the target


def test_url_for_is_no_template_variable(launch_webapp: Launch) -> None:
    webapp = launch_webapp({"p.pspx": "<p>${'url_for' in econtext} ${'params' in econtext}</p>"})
    assert webapp.get("/p.pspx").text == "<p>False False</p>"


def test_a_url_for_mistake_in_a_page_is_a_logged_500(launch_webapp: Launch) -> None:
    webapp = launch_webapp({"p.pspx": "<p>${page.url_for('missing.pspx')}</p>"})
    response = webapp.get("/p.pspx")
    assert response.status_code == 500
    assert "missing.pspx" not in response.text
    (record,) = [r for r in webapp.log.records if r.exc_info]
    assert "url_for: no page 'missing.pspx'" in str(record.exc_info[1])


def test_app_url_for_inside_a_request_uses_its_script_name(launch_webapp: Launch) -> None:
    code = (
        "import tincan\nclass P(tincan.Page):\n    def handle(self):\n"
        "        return self.request.app.url_for('x.pspx')\n"
    )
    webapp = launch_webapp({"d/p.pspx": "<p/>", "d/p.py": code, "d/x.pspx": "<p/>"})
    assert get(webapp.app, "/d/p.pspx", script_name="/m") == "/m/d/x.pspx"
    # Outside the request, again from the root and without SCRIPT_NAME.
    assert webapp.app.url_for("d/x.pspx") == "/d/x.pspx"


def get(app: Any, path: str, *, script_name: str = "") -> str:
    seen: dict[str, str] = {}

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        seen["status"] = status
        return lambda data: None

    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
    }
    body = b"".join(app(environ, start_response)).decode()
    assert seen["status"].startswith("200"), (seen, body)
    return body


# -- round trips --------------------------------------------------------------------------
values = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00", exclude_categories=("Cs",)),
    min_size=1,
    max_size=10,
)


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory, make_client: Callable[[Any], Any]) -> Any:
    root = tmp_path_factory.mktemp("echo")
    (root / "WEB-INF").mkdir()
    code = (
        "import tincan\nclass P(tincan.Page):\n    def handle(self):\n        return self.params"
    )
    for name, pattern in (("one", "<v>"), ("num", "<v:int>/x"), ("rest", "<v:path>")):
        (root / f"{name}.pspx").write_text(f"#path {pattern}\n<p/>")
        (root / f"{name}.py").write_text(code)
    app, errors = tincan_core.launch(root, clean_urls=True)
    assert errors == 0
    with make_client(app) as client:
        yield app, client


@given(values, st.integers(-(10**12), 10**12))
def test_every_url_url_for_builds_routes_back_to_its_values(
    echo: Any, value: str, number: int
) -> None:
    app, client = echo
    for target, given_value in (("one.pspx", value), ("num.pspx", number), ("rest.pspx", value)):
        try:
            url = app.url_for(target, v=given_value)
        except TinCanError as exc:
            # Only values the filter refuses: a "/" in one segment, a path part a
            # client would normalise ("." or ".." segments, empty segments).
            assert "does not pass the filter" in str(exc)
            continue
        if target == "rest.pspx" and any(s in ("", ".", "..") for s in value.split("/")):
            continue  # a client removes such segments before sending
        if target == "one.pspx" and value in (".", ".."):
            continue
        assert unquote(url).startswith("/")
        assert client.get(url).json() == {"v": given_value}, url


def test_error_pages_have_url_for_too(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {
            "about.pspx": "<p/>",
            "errors/404.pspx": "#errors 404\n<a href=\"${page.url_for('/about.pspx')}\">about</a>",
        },
        clean_urls=True,
        urlroot="/site",
    )
    missing = webapp.get("/site/nothing/here.pspx")
    assert missing.status_code == 404
    assert missing.text == '<a href="/site/about">about</a>'
