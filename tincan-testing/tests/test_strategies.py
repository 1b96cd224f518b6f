"""The strategies generate what they promise, judged by TinCan itself."""

from __future__ import annotations

import re
import urllib.parse

import httpx
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from tincan_core import FileKind, TemplateHeaderError, classify, parse_header
from tincan_testing import Webapp
from tincan_testing.checks import fetch
from tincan_testing.plugin import WebappFactory
from tincan_testing.strategies import (
    header_lines,
    hostile_paths,
    http_methods,
    page_names,
    url_paths,
    webapp_trees,
)

TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# launching a tree compiles its templates: keep those properties to a few dozen trees
few = settings(
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# find() without shrinking: only whether an example exists matters
search = settings(phases=[Phase.generate], max_examples=1000, database=None)


@given(header_lines(valid=True))
def test_valid_header_lines_parse(line: str) -> None:
    assert "\n" not in line
    parse_header([(1, line)], "page.pspx")


@given(header_lines(valid=False))
def test_invalid_header_lines_are_rejected_with_their_line(line: str) -> None:
    with pytest.raises(TemplateHeaderError) as raised:
        parse_header([(7, line)], "page.pspx")
    assert str(raised.value).startswith("page.pspx:7: ")


@given(page_names())
def test_page_names_are_pages(name: str) -> None:
    assert name.endswith(".pspx") and "/" not in name and not name.startswith(".")
    assert classify(name) is FileKind.PAGE
    assert len(name.encode("utf-8")) <= 255


@given(url_paths())
def test_url_paths_are_plain(path: str) -> None:
    assert path.startswith("/") and path.isascii() and "//" not in path
    assert not set(path.split("/")) & {".", ".."}


@given(http_methods())
def test_http_methods_are_tokens(method: str) -> None:
    assert TOKEN.fullmatch(method) and method == method.upper()


def test_the_strategies_cover_what_they_promise() -> None:
    def lower(s: st.SearchStrategy[str], pattern: str) -> str:
        return find(s, lambda p: re.search(pattern, p.lower()) is not None, settings=search)

    for pattern in (r"%2e%2e", r"/\.\./", r"%2f", r"\\", r"%00", r"//", r"\.$", r"[^/]{256}",
                    r"%5c", r"%ff"):
        lower(hostile_paths(), pattern)
    find(hostile_paths(), lambda p: "WEB-INF" not in p and "web-inf" in p.lower(), settings=search)
    for pattern in (r"[<>:]", r" ", r"é"):
        lower(page_names(), pattern)
    for directive in ("rem", "python", "template", "load", "forward", "errors", "hidden",
                      "methods", "end"):
        lower(header_lines(valid=True), f"^#{directive}")
    trees = webapp_trees()
    for pattern in (r"^#forward", r"^#errors", r"^#hidden", r"^#load", r"^#template",
                    r"^#python", r"^#methods"):
        find(trees, lambda t, p=pattern: any(isinstance(v, str) and re.search(p, v, re.M)
                                             for v in t.values()), settings=search)
    find(trees, lambda t: any(classify(k) is FileKind.STATIC for k in t), settings=search)
    find(trees, lambda t: any(k.endswith(".py") and "WEB-INF" not in k for k in t),
         settings=search)
    find(trees, lambda t: any(k.endswith("index.pspx") for k in t), settings=search)


@few
@given(names=st.lists(page_names(), min_size=1, max_size=4, unique_by=str.lower))
def test_page_names_route_literally(tincan_webapp: WebappFactory, names: list[str]) -> None:
    webapp = tincan_webapp({name: f"<p>{i}</p>" for i, name in enumerate(names)})
    client = webapp.client()
    for i, name in enumerate(names):
        response = client.get(webapp.url(name))
        assert (response.status_code, response.text) == (200, f"<p>{i}</p>")
    webapp.close()


@few
@given(files=webapp_trees(), static=st.booleans(), urlroot=st.sampled_from(["/", "/app"]))
def test_webapp_trees_launch_cleanly_and_every_route_renders(
    tincan_webapp: WebappFactory, files: dict[str, str | bytes], static: bool, urlroot: str
) -> None:
    webapp = tincan_webapp(files, static=static, urlroot=urlroot)  # fails on any launch error
    assert webapp.errors == 0 and webapp.app is not None
    assert not webapp.problems()
    client = webapp.client()
    pages = {info.file: info for info in webapp.app.route_info if info.kind == "page"}
    for info in webapp.app.route_info:
        if info.redirect:  # a directory without its slash: redirected to it
            response = fetch(client, urllib.parse.quote(info.path, safe="/"))
            assert urllib.parse.unquote(response.headers["location"]) == info.redirect
        elif info.path:
            response = fetch(client, urllib.parse.quote(info.path, safe="/"))
            assert response.status_code == 200, (info, webapp.messages)
            page = pages.get(info.file)  # an index route names its page, or a static file
            if page is None:
                assert webapp.last_page is None
            else:
                assert webapp.last_page is not None
                assert (webapp.last_page.page, webapp.last_page.target) == (
                    page.file, page.served_by
                )
    webapp.close()


@few
@given(files=webapp_trees(), data=st.data())
def test_hostile_paths_never_cause_server_errors_or_leaks(
    tincan_webapp: WebappFactory, files: dict[str, str | bytes], data: st.DataObject
) -> None:
    webapp = tincan_webapp(files, static=True)
    client = webapp.client()
    private = {
        relpath: content
        for relpath, content in files.items()
        if classify(relpath) not in (FileKind.STATIC, FileKind.PAGE)
    }
    for path in data.draw(st.lists(hostile_paths(list(files)), min_size=10, max_size=10)):
        response = fetch(client, path)
        assert response.status_code < 500, (path, webapp.messages)
        for content in private.values():
            raw = content.encode() if isinstance(content, str) else content
            assert raw.strip() not in response.content, path
    webapp.close()


FixedTree = tuple[Webapp, httpx.Client, dict[str, str]]


@pytest.fixture
def fixed_tree(tincan_webapp: WebappFactory) -> FixedTree:
    files = {
        "index.pspx": "#rem home\n<p>home</p>",
        "index.py": "from tincan import Page\nclass Home(Page):\n    secret = 'code-behind'\n",
        "WEB-INF/web.xml": "<web-app>private configuration</web-app>",
        "WEB-INF/lib/settings.py": "PASSWORD = 'private settings module'\n",
        "WEB-INF/tlib/layout.pt": "<div metal:define-macro='m'>private macro file</div>",
        "sub/WEB-INF/private.txt": "private file below the top\n",
        ".htaccess": "deny from all, a dot file\n",
    }
    webapp = tincan_webapp(files, static=True)
    return webapp, webapp.client(), files


@given(path=hostile_paths(), method=http_methods())
def test_hostile_requests_on_a_fixed_tree(fixed_tree: FixedTree, path: str, method: str) -> None:
    webapp, client, files = fixed_tree
    response = fetch(client, path, method)
    assert response.status_code < 500, (path, webapp.messages)
    for relpath, content in files.items():
        if relpath != "index.pspx":
            assert content.strip().encode() not in response.content, path
