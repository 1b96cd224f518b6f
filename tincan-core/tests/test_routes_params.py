"""``#path`` routes: parameterised URLs, their values in ``self.params``, the order
routes are tried in, and the launch errors for two pages claiming the same URLs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import bottle
import pytest
import tincan_core
from hypothesis import given, settings
from hypothesis import strategies as st

Launch = Callable[..., Any]

SHOW = "<p>${page.request.path} ${page.params}</p>"
CODE = """
import tincan
class Page(tincan.Page):
    def handle(self):
        self.request.environ.setdefault("test.ran", []).append(self.params)
        self.kind = type(self.params.get("id")).__name__
"""


def test_a_path_parameter_answers_after_the_page_url(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {"entry.pspx": "#path <id:int>\n<p>${kind} ${page.params['id'] + 1}</p>", "entry.py": CODE}
    )
    assert webapp.errors == 0
    assert webapp.get("/entry.pspx/42").text == "<p>int 43</p>"
    assert webapp.get("/entry.pspx/-7").text == "<p>int -6</p>"
    # The plain URL still answers, with no values.
    plain = launch_webapp({"e.pspx": "#path <id:int>\n<p>${page.params}</p>"})
    assert plain.get("/e.pspx").text == "<p>{}</p>"


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("<name>", "/p.pspx/J%C3%BCrgen%20%C3%84", "{'name': 'Jürgen Ä'}"),
        ("<x:float>", "/p.pspx/1.5", "{'x': 1.5}"),
        ("<rest:path>", "/p.pspx/a/b/c.txt", "{'rest': 'a/b/c.txt'}"),
        ("<slug:re:[a-z-]+>", "/p.pspx/hello-world", "{'slug': 'hello-world'}"),
        ("archive/<y:int>/<m:int>", "/p.pspx/archive/2026/12", "{'y': 2026, 'm': 12}"),
    ],
)
def test_every_filter_converts_its_value(
    launch_webapp: Launch, pattern: str, path: str, expected: str
) -> None:
    webapp = launch_webapp({"p.pspx": f"#path {pattern}\n<p>${{page.params}}</p>"})
    assert webapp.get(path).text == f"<p>{expected}</p>"


@pytest.mark.parametrize(
    "path",
    [
        "/entry.pspx/x",
        "/entry.pspx/4.2",
        "/entry.pspx/42/more",
        "/entry.pspx/",
        "/entry.pspx/" + "9" * 5000,  # more digits than int() takes: no 500
        "/entry/42",  # no clean URLs unless asked for
        "/entry.pspx42",
    ],
)
def test_a_value_its_filter_refuses_is_a_404_before_any_code_runs(
    launch_webapp: Launch, path: str
) -> None:
    webapp = launch_webapp(
        {
            "entry.pspx": "#path <id:int>\n<p>${kind}</p>",
            "entry.py": CODE,
            "404.pspx": "#errors 404\n<h1>Nothing at ${request.path}</h1>",
        }
    )
    seen: list[dict[str, Any]] = []

    @webapp.app.hook("after_request")  # type: ignore[misc]
    def record() -> None:
        seen.extend(bottle.request.environ.get("test.ran", []))

    response = webapp.get(path)
    assert response.status_code == 404
    assert "<h1>Nothing at" in response.text
    assert seen == []


def test_params_are_a_template_variable_only_through_page(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "#path <id>\n<p>${page.params['id']} ${'params' in econtext}</p>",
            "b.pspx": "#path <id>\n<p>${params}</p>",
            "b.py": "import tincan\nclass P(tincan.Page):\n    def handle(self):\n"
            "        self.params = {'own': self.params['id']}\n",
        }
    )
    assert webapp.get("/a.pspx/x").text == "<p>x False</p>"
    # Code-behind that sets self.params itself keeps it, as a template variable too.
    assert webapp.get("/b.pspx/y").text == "<p>{'own': 'y'}</p>"


def test_repeated_path_lines_are_each_a_url_form(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {"archive.pspx": "#path <year:int>\n#path <year:int>/<month:int>\n" + SHOW}
    )
    assert webapp.get("/archive.pspx/2026").text == "<p>/archive.pspx/2026 {'year': 2026}</p>"
    assert webapp.get("/archive.pspx/2026/5").text == (
        "<p>/archive.pspx/2026/5 {'year': 2026, 'month': 5}</p>"
    )


def test_literal_routes_match_first(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {
            "docs/index.pspx": "#path <slug>\n" + SHOW,
            "docs/about.pspx": "<p>about</p>",
            "docs/style.css": "body {}",
        },
        static=True,
        clean_urls=True,
    )
    assert webapp.errors == 0
    assert webapp.get("/docs/about").text == "<p>about</p>"
    assert webapp.get("/docs/about.pspx").text == "<p>about</p>"
    assert webapp.get("/docs/style.css").text == "body {}"
    assert webapp.get("/docs/").text == "<p>/docs/ {}</p>"
    assert webapp.get("/docs/intro").text == "<p>/docs/intro {'slug': 'intro'}</p>"


def test_a_literal_path_with_another_method_is_its_405_not_a_pattern(
    launch_webapp: Launch,
) -> None:
    webapp = launch_webapp(
        {"docs/index.pspx": "#methods POST\n#path <slug>\n" + SHOW, "docs/about.pspx": "<p/>"},
        clean_urls=True,
    )
    refused = webapp.request("POST", "/docs/about")
    assert (refused.status_code, refused.headers["allow"]) == (405, "GET, HEAD")
    assert webapp.request("POST", "/docs/other").text == "<p>/docs/other {'slug': 'other'}</p>"


def test_patterns_with_more_literal_segments_are_tried_first(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {
            # Written in the opposite order on purpose: the order is the documented one.
            "blog.pspx": "#path <rest:path>\n#path feed/<kind>\n<p>blog ${page.params}</p>",
            "docs.pspx": "#path <rest:path>\n#path <a>/<b>\n<p>docs ${page.params}</p>",
        }
    )
    assert webapp.errors == 0
    assert webapp.get("/blog.pspx/feed/rss").text == "<p>blog {'kind': 'rss'}</p>"
    assert webapp.get("/blog.pspx/feed/rss/x").text == "<p>blog {'rest': 'feed/rss/x'}</p>"
    # Same literal text: a pattern without a path placeholder first.
    assert webapp.get("/docs.pspx/x/y").text == "<p>docs {'a': 'x', 'b': 'y'}</p>"
    assert webapp.get("/docs.pspx/x/y/z").text == "<p>docs {'rest': 'x/y/z'}</p>"


@pytest.mark.parametrize("names", [("blog", "blog"), ("a", "z"), ("z", "a")])
def test_a_deeper_page_wins_whatever_the_file_order(
    launch_webapp: Launch, names: tuple[str, str]
) -> None:
    top, deep = names
    webapp = launch_webapp(
        {
            f"{top}.pspx": "#path <rest:path>\n<p>top ${page.params}</p>",
            f"{top}/{deep}.pspx": "#path <kind>\n<p>deep ${page.params}</p>",
        },
        clean_urls=True,
    )
    assert webapp.errors == 0
    assert webapp.get(f"/{top}/{deep}/rss").text == "<p>deep {'kind': 'rss'}</p>"
    assert webapp.get(f"/{top}/{deep}").text == "<p>deep {}</p>"  # its clean URL
    assert webapp.get(f"/{top}/x/rss").text == "<p>top {'rest': 'x/rss'}</p>"
    assert webapp.app is not None
    keys = [key for key, *_ in webapp.app.router.patterns]
    assert keys == sorted(keys)


def test_two_pages_with_the_same_pattern_shape_are_a_launch_error(
    launch_webapp: Launch,
) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "#rem\n#path b/<id:int>\n<p>first</p>",
            "a/b.pspx": "#path <n:int>\n<p>second</p>",
        },
        clean_urls=True,
    )
    # /a/b/<id:int> and /a/b/<n:int>: the same URLs, whatever the names. The walk
    # (sorted, depth first) meets a/b.pspx first: it keeps them.
    assert webapp.errors == 1
    (message,) = webapp.log.errors()
    root = str(webapp.root)
    assert message == (
        f"{root}/a.pspx:2: #path b/<id:int>: /a/b/<id:int> matches the same URLs as "
        f"#path <n:int> of {root}/a/b.pspx:1"
    )
    assert webapp.get("/a/b/7").text == "<p>second</p>"
    assert webapp.get("/a.pspx/b/7").text == "<p>first</p>"  # its other form stays


def test_two_path_lines_of_one_page_with_the_same_shape(launch_webapp: Launch) -> None:
    webapp = launch_webapp({"p.pspx": "#path <id:int>\n#path <n:int>\n" + SHOW})
    (message,) = webapp.log.errors()
    assert message.endswith(
        "p.pspx:2: #path <n:int>: /p.pspx/<n:int> matches the same URLs as "
        f"#path <id:int> of {webapp.root}/p.pspx:1"
    )
    assert webapp.get("/p.pspx/3").text == "<p>/p.pspx/3 {'id': 3}</p>"


def test_a_pattern_route_with_another_method_is_a_405(launch_webapp: Launch) -> None:
    webapp = launch_webapp(
        {
            "post.pspx": "#methods POST\n#path <id:int>\n<p>${page.request.method}</p>",
            "any.pspx": "#methods ANY\n#path <id:int>\n<p>${page.request.method}</p>",
        }
    )
    refused = webapp.get("/post.pspx/3")
    assert (refused.status_code, refused.headers["allow"]) == (405, "POST")
    assert webapp.request("POST", "/post.pspx/3").text == "<p>POST</p>"
    assert webapp.request("DELETE", "/any.pspx/3").text == "<p>DELETE</p>"
    head = webapp.request("HEAD", "/any.pspx/3")
    assert (head.status_code, head.content) == (200, b"")


def test_a_forward_page_answers_its_own_path_with_the_targets_body(
    launch_webapp: Launch,
) -> None:
    webapp = launch_webapp(
        {
            "alias.pspx": "#forward real.pspx\n#path <slug>\n",
            "real.pspx": "#path <id:int>\n<p>${page.request.path} ${page.params}</p>",
        }
    )
    assert webapp.get("/alias.pspx/x").text == "<p>/alias.pspx/x {'slug': 'x'}</p>"
    assert webapp.get("/alias.pspx/1").text == "<p>/alias.pspx/1 {'slug': '1'}</p>"
    assert webapp.get("/real.pspx/1").text == "<p>/real.pspx/1 {'id': 1}</p>"
    assert webapp.get("/real.pspx/x").status_code == 404


def test_a_programmatic_forward_sees_the_targets_params(launch_webapp: Launch) -> None:
    go = (
        "import tincan\nclass P(tincan.Page):\n    def handle(self):\n"
        "        self.request.app.forward(self.request.query.to)\n"
    )
    webapp = launch_webapp(
        {
            "go.pspx": "#path <x>\n<p/>",
            "go.py": go,
            "show.pspx": "#path <n:int>\n<p>${page.params}</p>",
            "plain.pspx": "<p>${page.params}</p>",
        }
    )
    assert webapp.get("/go.pspx/a?to=/show.pspx/5").text == "<p>{'n': 5}</p>"
    assert webapp.get("/go.pspx/a?to=/plain.pspx").text == "<p>{}</p>"
    assert webapp.get("/go.pspx/a?to=/show.pspx/x").status_code == 404


def test_user_bottle_routes_come_after_the_patterns(launch_webapp: Launch) -> None:
    webapp = launch_webapp({"api.pspx": "#path <id:int>\n<p>page ${page.params['id']}</p>"})
    assert webapp.app is not None
    webapp.app.route("/api.pspx/<name>", callback=lambda name: f"bottle {name}")
    assert webapp.get("/api.pspx/7").text == "<p>page 7</p>"
    assert webapp.get("/api.pspx/seven").text == "bottle seven"


def test_routes_describe_the_patterns(launch_webapp: Launch) -> None:
    webapp = launch_webapp({"e.pspx": "#path <id:int>\n<p/>"}, urlroot="/app")
    assert webapp.app is not None
    (info,) = [i for i in webapp.app.route_info if i.kind == "pattern"]
    assert (info.path, info.pattern, info.file, info.methods) == (
        "/app/e.pspx/<id:int>",
        "<id:int>",
        "e.pspx",
        ("GET",),
    )
    assert info.served_by == "e.pspx"


segment = st.text(
    st.characters(codec="utf-8", exclude_characters="/\x00", exclude_categories=("Cs",)),
    min_size=1,
    max_size=8,
).filter(lambda v: v not in (".", ".."))  # a client normalises these away


@pytest.fixture(scope="module")
def filters_client(
    tmp_path_factory: pytest.TempPathFactory, make_client: Callable[[Any], Any]
) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("filters")
    (root / "WEB-INF").mkdir()
    (root / "n.pspx").write_text("#path <v:int>\n<p/>")
    (root / "n.py").write_text(JSON_PARAMS)
    (root / "s.pspx").write_text("#path <v>\n<p/>")
    (root / "s.py").write_text(JSON_PARAMS)
    app, errors = tincan_core.launch(root)
    assert errors == 0
    with make_client(app) as client:
        yield client


JSON_PARAMS = """
import tincan
class P(tincan.Page):
    def handle(self):
        return dict(self.params)
"""


@settings(max_examples=80)
@given(segment)
def test_any_segment_is_an_int_or_a_404_and_a_plain_value_as_sent(
    filters_client: Any, value: str
) -> None:
    as_int = filters_client.get("/n.pspx/" + quote(value, safe=""))
    if re.fullmatch(r"-?[0-9]+", value):
        assert as_int.json() == {"v": int(value)}
    else:
        assert as_int.status_code == 404
    as_text = filters_client.get("/s.pspx/" + quote(value, safe=""))
    assert as_text.json() == {"v": value}
