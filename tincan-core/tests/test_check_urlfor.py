"""``tincan check`` judges literal ``url_for(...)`` calls in templates and code-behind:
an unknown page, a missing parameter or a value its filter refuses is an error at
the call's file and line, and the check says so exactly when a request would fail."""

from __future__ import annotations

import keyword
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tincan_core import Finding, check_app
from tincan_core._check_urlfor import python_calls, template_calls
from tincan_testing.plugin import WebappFactory

# -- finding the calls (pure) -----------------------------------------------------------


def test_template_calls_are_found_with_their_line_and_literal_arguments() -> None:
    text = (
        "<p>\n"
        "<a href=\"${page.url_for('entry.pspx', n=3)}\">three</a>\n"
        '<a href="${page.url_for("/a b.pspx", _query={"q": 1})}">\n'
        "<a tal:attributes=\"href page.url_for('x.pspx',\n    n=entry.number, m='y')\">\n"
        "<a href=\"${page.url_for('open.pspx', **values)}\">\n"
        "<a href=\"${url_for('plain.pspx')}\">${page.url_for(target)}</a>\n"
    )
    calls = template_calls(text)
    assert [(c.line, c.target, dict(c.params), set(c.unknown), c.open_names) for c in calls] == [
        (2, "entry.pspx", {"n": 3}, set(), False),
        (3, "/a b.pspx", {}, set(), False),
        (4, "x.pspx", {"m": "y"}, {"n"}, False),
        (6, "open.pspx", {}, set(), True),
    ]  # a plain url_for() is not TinCan's; a computed target cannot be judged


def test_python_calls_are_read_from_the_source() -> None:
    source = (
        "from tincan import Page, redirect\n"
        "class P(Page):\n"
        "    def handle(self):\n"
        "        redirect(self.url_for('entry.pspx', n=-1, _query=q))\n"
        "        self.link = self.request.app.url_for(\n"
        "            '/missing.pspx')\n"
        "        url_for('flask.pspx')\n"
    )
    calls = python_calls(source)
    assert [(c.line, c.target, dict(c.params)) for c in calls] == [
        (4, "entry.pspx", {"n": -1}),
        (5, "/missing.pspx", {}),
    ]
    assert python_calls("def broken(:\n") == []


_PIECES = st.text(st.sampled_from("<>\"'${}()=;\n ab\\#"), max_size=30)
_TARGETS = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12)
_VALUES = st.integers(-(10**6), 10**6) | st.text("abc-_ ", max_size=5) | st.booleans()
_NAMES = st.from_regex(r"[a-z][a-z0-9]{0,4}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n)
)


@given(_PIECES, _TARGETS, st.dictionaries(_NAMES, _VALUES, max_size=3), _PIECES)
def test_a_literal_call_is_found_whatever_surrounds_it(
    before: str, target: str, params: dict[str, Any], after: str
) -> None:
    arguments = "".join(f", {name}={value!r}" for name, value in params.items())
    call = f"page.url_for({target!r}{arguments})"
    text = f"{before}${{{call}}}{after}"
    found = [c for c in template_calls(text) if c.target == target and dict(c.params) == params]
    assert found, text
    assert found[0].line == before.count("\n") + 1


# -- judging them against a launched webapp -----------------------------------------------
SITE = {
    "WEB-INF/tincan.toml": "clean_urls = true\n",
    "entry.pspx": "#path <n:int>\n#path <year:int>/<slug>\n<p>${page.params}</p>",
    "hidden.pspx": "#hidden\n<p>hidden</p>",
    "docs/index.pspx": "<p>docs</p>",
    "errors.pspx": "#errors\n<p>${error.status_code}</p>",
}


def url_for_findings(findings: list[Finding]) -> list[tuple[str, int | None, str]]:
    return [(Path(f.file or "").name, f.line, f.message) for f in findings if f.code == "url-for"]


def test_each_mistake_is_an_error_at_its_line(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp(
        {
            **SITE,
            "links.pspx": (
                "#load <w=macros.pt>\n"
                "<a href=\"${page.url_for('entry.pspx', n=1)}\">fine</a>\n"
                "<a href=\"${page.url_for('entry.pspx', year=2024, slug=page.request.path)}\">\n"
                "<a href=\"${page.url_for('entyr.pspx', n=1)}\">typo</a>\n"
                "<a href=\"${page.url_for('entry.pspx')}\">no number: the plain URL</a>\n"
                "<a href=\"${page.url_for('entry.pspx', year=2024)}\">missing slug</a>\n"
                "<a href=\"${page.url_for('entry.pspx', n='three')}\">not an int</a>\n"
                "<a href=\"${page.url_for('hidden.pspx')}\">no URL</a>\n"
                "<a href=\"${page.url_for('docs/index.pspx', page=2)}\">no #path</a>\n"
                "<a href=\"${page.url_for('entry.pspx', n=page.params.get('n', 1))}\">\n"
            ),
            "WEB-INF/tlib/macros.pt": (
                "<p metal:define-macro=\"m\">\n${page.url_for('/gone.pspx')}</p>\n"
            ),
            "links.py": (
                "from tincan import Page\n"
                "class Links(Page):\n"
                "    def handle(self):\n"
                "        self.back = self.url_for('docs/index.pspx')\n"
                "        self.up = self.url_for('../outside.pspx')\n"
            ),
        }
    )
    assert webapp.app is not None
    found = url_for_findings(check_app(webapp.app))
    assert sorted(found) == [
        ("links.pspx", 4, "url_for: no page 'entyr.pspx' (from links.pspx)"),
        ("links.pspx", 6, "url_for: missing parameter 'slug' for 'entry.pspx' "
                          "(#path <year:int>/<slug>)"),
        ("links.pspx", 7, "url_for: n='three' does not pass the filter of <n:int> in "
                          "/entry/<n:int>"),
        ("links.pspx", 8, "url_for: 'hidden.pspx' is #hidden: it has no URL"),
        ("links.pspx", 9, "url_for: 'docs/index.pspx' takes no parameters (it has no #path); "
                          "given: page"),
        ("links.py", 5, "url_for: '../outside.pspx' is outside the webapp"),
        ("macros.pt", 2, "url_for: no page 'gone.pspx'"),
    ]  # fmt: skip
    assert all(f.severity == "error" for f in check_app(webapp.app) if f.code == "url-for")


def test_error_pages_have_their_absolute_targets_judged_only(
    tincan_webapp: WebappFactory,
) -> None:
    webapp = tincan_webapp(
        {
            **SITE,
            "errors.pspx": (
                "#errors\n<a href=\"${page.url_for('relative-and-unknown.pspx')}\">x</a>\n"
                "<a href=\"${page.url_for('/nowhere.pspx')}\">y</a>\n"
            ),
        }
    )
    assert webapp.app is not None
    assert url_for_findings(check_app(webapp.app)) == [
        ("errors.pspx", 3, "url_for: no page 'nowhere.pspx'")
    ]


def test_the_demo_has_no_url_for_mistakes(tincan_webapp: WebappFactory) -> None:
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo"
    if not demo.is_dir():
        pytest.skip("examples/demo is not here (an sdist)")
    webapp = tincan_webapp(copy_from=demo, static=True)
    assert webapp.app is not None
    assert url_for_findings(check_app(webapp.app)) == []


_CALL_ARGS = st.sampled_from(
    [
        "",
        "n=1",
        "n=-7",
        "n='x'",
        "n=1.5",
        "n=True",
        "year=2024, slug='a-b'",
        "year=2024",
        "slug='a'",
        "year='x', slug='y'",
        "m=1",
        "slug='a/b', year=1",
    ]
)
_CALL_TARGETS = st.sampled_from(
    ["entry.pspx", "/entry.pspx", "hidden.pspx", "docs/index.pspx", "docs/", "nope.pspx", "../x"]
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_CALL_TARGETS, _CALL_ARGS)
def test_the_check_names_exactly_the_calls_a_request_fails_on(
    tincan_webapp: WebappFactory, target: str, arguments: str
) -> None:
    call = f"page.url_for({target!r}{', ' + arguments if arguments else ''})"
    webapp = tincan_webapp(
        {**SITE, "probe.pspx": f"<p>${{{call}}}</p>"}, raise_server_exceptions=False
    )
    assert webapp.app is not None
    response = webapp.client().get("/probe")
    reported = url_for_findings(check_app(webapp.app))
    assert (response.status_code == 500) == bool(reported), (call, response.status_code, reported)
    if reported:
        assert reported[0][:2] == ("probe.pspx", 1)
