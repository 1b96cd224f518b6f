"""``check_webapp`` and ``check_app`` on whole webapps: the demo, generated trees, and
one small tree per kind of finding."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tincan_core
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_core import CheckReport, Finding, check_app, check_webapp
from tincan_testing.strategies import webapp_trees

Files = dict[str, "str | bytes | None"]
Client = Callable[[Any], httpx.Client]
DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
LAYOUT = (
    '<html metal:define-macro="page"><title>${title}</title>'
    '<body><main metal:define-slot="content">default</main></body></html>\n'
)


def codes(findings: list[Finding], *severities: str) -> list[tuple[str, str, int | None]]:
    return [
        (f.code, Path(f.file).name if f.file else "", f.line)
        for f in findings
        if not severities or f.severity in severities
    ]


@pytest.fixture(autouse=True)
def own_imports(tmp_path: Path) -> Iterator[None]:
    """Launching imports the trees' WEB-INF/lib modules and puts the directory on
    sys.path: both are taken back, so no later test imports this test's modules."""
    path = list(sys.path)
    yield
    sys.path[:] = path
    inside = str(tmp_path) + os.sep
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(inside):
            del sys.modules[name]


@pytest.fixture
def check(make_webapp: Callable[..., Path]) -> Callable[..., CheckReport]:
    def run(files: Files, urlroot: str = "/") -> CheckReport:
        return check_webapp(make_webapp(files), urlroot, jobs=1)

    return run


def launched(root: Path, **options: Any) -> tincan_core.TinCan:
    app, errors = tincan_core.launch(root, **options)
    assert app is not None and errors == 0
    return app


# -- the demo --------------------------------------------------------------------------
# The demo lives in the repository, not in tincan-core's sdist.
needs_demo = pytest.mark.skipif(not DEMO.is_dir(), reason="examples/demo is not here (an sdist)")


@needs_demo
def test_the_demo_is_clean(tmp_path: Path) -> None:
    root = shutil.copytree(DEMO, tmp_path / "demo", ignore=shutil.ignore_patterns("__pycache__"))
    report = check_webapp(root, jobs=1)
    assert report.pages == 16
    assert report.errors == 0 and report.warnings == 0, [str(f) for f in report.findings]
    # Its static directories hold no pages: said, as information only.
    assert codes(report.findings) == [("no-pages", "docs", None), ("no-pages", "static", None)]


@needs_demo
def test_the_demo_under_a_urlroot_is_clean(tmp_path: Path) -> None:
    root = shutil.copytree(DEMO, tmp_path / "demo", ignore=shutil.ignore_patterns("__pycache__"))
    assert check_webapp(root, "/guestbook", jobs=1).failed(strict=True) is False


# -- generated trees ---------------------------------------------------------------------
@settings(max_examples=25)
@given(webapp_trees(max_pages=5, max_static=2))
def test_trees_that_render_get_no_warnings(
    make_webapp: Callable[..., Path], client_for: Client, tree: dict[str, str | bytes]
) -> None:
    root = make_webapp(dict(tree))
    app = launched(root, static=True)
    client = client_for(app)
    for info in app.route_info:
        if info.kind == "page":
            assert client.get(info.path).status_code != 500, info.path
    findings = check_app(app)
    assert codes(findings, "error", "warning") == []


_MODULES = itertools.count()
_POOL = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "request", "handle"]


@st.composite
def code_behind(draw: st.DrawFn) -> tuple[dict[str, str], list[str]]:
    """A code-behind (and a WEB-INF/lib base class) defining some of the pool's names,
    each in another way, and a template reading some of them."""
    defined = draw(st.lists(st.sampled_from(_POOL[:6]), unique=True))
    ways = {n: draw(st.sampled_from(["class", "property", "handle", "base", "global", "method"]))
            for n in defined}  # fmt: skip
    base = ["from tincan import Page", "", "class Base(Page):", "    shared = 1"]
    module = ["from base_lib import Base", "", "class P(Base):", "    own = 1"]
    globals_ = []
    for name, way in ways.items():
        if way == "class":
            module.append(f"    {name} = 1")
        elif way == "property":
            module += ["    @property", f"    def {name}(self):", "        return 1"]
        elif way == "base":
            base.append(f"    {name} = 1")
        elif way == "method":
            module += [f"    def {name}(self):", "        return 1"]
        elif way == "global":
            globals_.append(f"{name} = 1")
    handle = [f"        self.{n} = 1" for n, way in ways.items() if way == "handle"]
    module += ["    def handle(self):", *(handle or ["        pass"])]
    read = draw(st.lists(st.sampled_from(_POOL), min_size=1, max_size=4, unique=True))
    files = {
        "WEB-INF/lib/base_lib.py": "\n".join(base) + "\n",
        "page.py": "\n".join(globals_ + module) + "\n",
        "page.pspx": "".join(f"<p>${{{n}}}</p>\n" for n in read),
    }
    exported = {n for n, way in ways.items() if way not in ("global", "method")}
    return files, [n for n in read if n not in exported]


@settings(max_examples=40)
@given(code_behind())
def test_exported_names_are_the_page_class_s(
    make_webapp: Callable[..., Path], client_for: Client, case: tuple[dict[str, str], list[str]]
) -> None:
    files, undefined = case
    # WEB-INF/lib modules stay imported for the process: one name per example.
    module = f"base_lib_{next(_MODULES)}"
    files = {
        k.replace("base_lib", module): v.replace("base_lib", module) for k, v in files.items()
    }
    app = launched(make_webapp(files))
    status = client_for(app).get("/page.pspx").status_code
    assert (status == 500) == bool(undefined)
    found = [f for f in check_app(app) if f.code == "undefined-name"]
    assert sorted(f.message.split("'")[1] for f in found) == sorted(undefined)
    assert {f.line for f in found} <= {i + 1 for i, line in enumerate(files["page.pspx"])}


# -- one tree per finding ----------------------------------------------------------------
def test_undefined_names_with_suggestions(check: Callable[..., CheckReport]) -> None:
    report = check(
        {
            "index.pspx": "<h1>${titel}</h1>\n<p>${request.path}</p>\n<p>${helper}</p>\n",
            "index.py": (
                "from tincan import Page\nLIMIT = 3\nclass Index(Page):\n    title = 'x'\n"
                "    def helper(self):\n        return 1\n"
            ),
        }
    )
    found = {(f.line, f.suggestion) for f in report.findings if f.code == "undefined-name"}
    assert found == {(1, "title"), (2, "page.request"), (3, "page.helper()")}
    assert report.errors == 0 and report.failed() is False and report.failed(strict=True)


def test_a_page_without_code_behind_using_a_layout(check: Callable[..., CheckReport]) -> None:
    report = check(
        {
            "WEB-INF/tlib/layout.pt": LAYOUT,
            "new.pspx": "#load <layout.pt>\n<html metal:use-macro=\"layout.macros['page']\">"
            '<main metal:fill-slot="content">hi</main></html>\n',
        }
    )
    (finding,) = [f for f in report.findings if f.severity != "info"]
    assert (finding.code, Path(finding.file or "").name, finding.line) == (
        "undefined-name",
        "new.pspx",
        2,
    )
    assert "'title'" in finding.message and "WEB-INF/tlib/layout.pt:1" in finding.message


def test_unknown_methods(check: Callable[..., CheckReport]) -> None:
    report = check(
        {
            "a.pspx": "#methods GTE POST\n<p>a</p>\n",
            "b.pspx": "#methods GET, PATCH, any\n<p>b</p>\n",
            "c.pspx": "#forward a.pspx\n#methods NOPE\n",  # ignored there: a launch warning
        }
    )
    methods = [(Path(f.file or "").name, f.line, f.suggestion)
               for f in report.findings if f.code == "unknown-method"]  # fmt: skip
    assert methods == [("a.pspx", 1, "GET")]
    assert ("launch-warning", "c.pspx", 2) in codes(report.findings)


def test_missing_macros_are_errors(check: Callable[..., CheckReport]) -> None:
    report = check(
        {
            "WEB-INF/tlib/layout.pt": LAYOUT,
            "WEB-INF/tlib/lib.pt": '<x><p metal:define-macro="box">b</p>'
            '<div metal:define-macro="uses" metal:use-macro="load: nothere.pt"/></x>',
            "a.pspx": "#load <layout.pt>\n<html metal:use-macro=\"layout.macros['pgae']\"/>\n",
            "b.pspx": "#load <layout.pt>\n\n<div metal:use-macro=\"layout['nope']\"/>\n",
            "c.pspx": "#load <lib.pt>\n<div metal:use-macro=\"lib.macros['uses']\"/>\n",
        }
    )
    assert sorted(codes(report.findings, "error")) == [
        ("missing-macro", "a.pspx", 2),
        ("missing-macro", "b.pspx", 3),
        ("missing-macro", "lib.pt", 1),
    ]
    first = next(f for f in report.findings if f.file and f.file.endswith("a.pspx"))
    assert first.suggestion == "page" and "WEB-INF/tlib/layout.pt" in first.message
    assert report.failed()


def test_unknown_slots(check: Callable[..., CheckReport]) -> None:
    report = check(
        {
            "WEB-INF/tlib/layout.pt": LAYOUT,
            "a.pspx": "#load <layout.pt>\n<html metal:use-macro=\"layout.macros['page']\">"
            '\n<main metal:fill-slot="contnet">x</main></html>\n',
            "a.py": "from tincan import Page\nclass A(Page):\n    title = 't'\n",
        }
    )
    (finding,) = [f for f in report.findings if f.severity != "info"]
    assert (finding.code, finding.line, finding.suggestion) == ("unknown-slot", 3, "content")


def test_broken_links(check: Callable[..., CheckReport]) -> None:
    report = check(
        {
            "index.pspx": (
                '<a href="missing.pspx">1</a>\n<a href="sub/">2</a>\n<a href="style.css">3</a>\n'
                '<a href="http://example.com/x">4</a>\n<a href="#top">5</a>\n'
                '<a href="${page.request.path}x">6</a>\n<img src="/logo.png">\n'
                '<form action="hidden.pspx"></form>\n<a href="sub">9</a>\n'
                '<a href="sub/page.pspx?x=1#y">10</a>\n<a href="Sub/">11</a>\n'
            ),
            "hidden.pspx": "#hidden\n<p>h</p>\n",
            "style.css": "p {}\n",
            "sub/page.pspx": '<a href="../index.pspx">up</a> <a href="../../../x.pspx">up</a>\n',
            "sub/index.html": '<a href="page.pspx">p</a> <a href="../nope.html">n</a>\n',
        }
    )
    broken = {(n, line) for code, n, line in codes(report.findings) if code == "broken-link"}
    assert broken == {
        ("index.pspx", 1), ("index.pspx", 7), ("index.pspx", 8), ("index.pspx", 11),
        ("page.pspx", 1), ("index.html", 1),
    }  # fmt: skip


def test_links_under_a_urlroot(check: Callable[..., CheckReport]) -> None:
    files: Files = {
        "index.pspx": '<a href="/shop/a.pspx">in</a> <a href="/elsewhere">out</a>\n'
        '<a href="/shop/b.pspx">missing</a>\n',
        "a.pspx": "<p>a</p>\n",
    }
    broken = [line for code, _, line in codes(check(files, "/shop").findings)
              if code == "broken-link"]  # fmt: skip
    assert broken == [2]


def test_other_routes_count_for_links(make_webapp: Callable[..., Path]) -> None:
    # Routes that are not literal (Bottle rules added to the app, #path patterns).
    root = make_webapp({"index.pspx": '<a href="/api/7">api</a> <a href="/other">x</a>\n'})
    app = launched(root)
    app.route("/api/<number:int>", callback=lambda number: "")
    broken = [f.message for f in check_app(app) if f.code == "broken-link"]
    assert len(broken) == 1 and "'/other'" in broken[0]


def test_static_files_count_without_static_serving(make_webapp: Callable[..., Path]) -> None:
    root = make_webapp({"index.pspx": '<link href="s.css"><a href="d/">d</a>\n', "s.css": "",
                        "d/index.html": "x"})  # fmt: skip
    assert [f for f in check_app(launched(root)) if f.severity != "info"] == []


def test_custom_export_is_not_checked(check: Callable[..., CheckReport]) -> None:
    report = check(
        {
            "index.pspx": "<p>${anything}</p>\n",
            "index.py": "from tincan import Page\nclass I(Page):\n"
            "    def export(self):\n        return {'anything': 1}\n",
            "other.pspx": "<p>${x}</p>\n",
            "other.py": "import helpers\nfrom tincan import Page\nclass O(Page):\n"
            "    def handle(self):\n        helpers.fill(self)\n",
            "WEB-INF/lib/helpers.py": "def fill(page):\n    page.x = 1\n",
        }
    )
    assert [f for f in report.findings if f.severity != "info"] == []
    skipped = sorted(f.message for f in report.findings if f.code == "not-checked")
    assert "defines its own export()" in skipped[0]
    assert "passes self to helpers.fill()" in skipped[1]


def test_base_class_calls_and_constructor_keywords(check: Callable[..., CheckReport]) -> None:
    # Code-behind in TinCan 0.1's style: explicit base calls, the original's keywords.
    report = check(
        {
            "index.pspx": "<p>${a} ${b} ${c}</p>\n",
            "index.py": (
                "from tincan import Page\n"
                "class Base(Page):\n"
                "    def __init__(self, req, resp):\n"
                "        super().__init__(req=req, resp=resp)\n"
                "        self.a = 1\n"
                "class Index(Base):\n"
                "    def __init__(self, req, resp):\n"
                "        Base.__init__(self, req, resp)\n"
                "        self.b = 2\n"
                "    def handle(self):\n"
                "        self.c = type(self).__name__\n"
            ),
        }
    )
    assert [f for f in report.findings if f.severity != "info"] == []
    assert [f for f in report.findings if f.code == "not-checked"] == []


def test_directories_and_error_pages(check: Callable[..., CheckReport]) -> None:
    report = check(
        {
            "index.pspx": "<p>i</p>\n",
            "img/a/b.png": b"x",
            "docs/index.pspx": "<p>d</p>\n",
            "docs/pics/x.png": b"x",
            "404.pspx": "#errors 404\n<p>${error.status_line}</p>\n",
        }
    )
    assert sorted(codes(report.findings, "info")) == [
        ("no-error-page", "404.pspx", None),
        ("no-pages", "img", None),  # the topmost directory without pages only
        ("no-pages", "pics", None),
    ]
    message = next(f.message for f in report.findings if f.code == "no-error-page")
    assert "400, 403, 405, 500" in message
    assert not report.failed(strict=True)


def test_launch_errors_are_reported_as_compile_reports_them(
    check: Callable[..., CheckReport], make_webapp: Callable[..., Path]
) -> None:
    files: Files = {"bad.pspx": "#nonsense\n<p/>\n", "worse.pspx": "<p>${a +}</p>\n"}
    report = check(files)
    compiled = tincan_core.compile_webapp(make_webapp(files), jobs=1)
    assert [f.code for f in report.findings] == ["launch-error", "launch-error"]
    assert sorted(f.message for f in report.findings) == sorted(
        e.split(": ", 1)[1] for e in compiled.errors
    )
    assert [f.line for f in report.findings] == [1, 1]


def test_not_a_webapp(tmp_path: Path) -> None:
    report = check_webapp(tmp_path / "missing")
    assert report.failed() and "not a directory" in report.findings[0].message


def test_json_document() -> None:
    report = CheckReport("/w", "/", 1, [Finding("warning", "/w/a.pspx", 3, "undefined-name",
                                                 "'x' is not defined", "y")])  # fmt: skip
    document = json.loads(json.dumps(report.to_json()))
    assert document == {
        "schema": 1, "webapp": "/w", "urlroot": "/", "pages": 1,
        "errors": 0, "warnings": 1, "infos": 0,
        "findings": [{"severity": "warning", "file": "/w/a.pspx", "line": 3,
                      "code": "undefined-name", "message": "'x' is not defined",
                      "suggestion": "y"}],
    }  # fmt: skip
    assert str(report.findings[0]) == (
        "/w/a.pspx:3: warning: 'x' is not defined (did you mean 'y'?) [undefined-name]"
    )


def test_path_patterns_count_for_links(check: Callable[..., CheckReport]) -> None:
    report = check(
        {
            "entry.pspx": "#path <number:int>\n<p>${page.params}</p>\n",
            "index.pspx": '<a href="entry.pspx/42">ok</a>\n<a href="entry.pspx/x">no</a>\n',
        }
    )
    broken = [line for code, _, line in codes(report.findings) if code == "broken-link"]
    assert broken == [2]
