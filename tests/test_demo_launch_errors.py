"""Launch errors (SPEC §3-§6, §8): one broken page added to the demo costs exactly one
error, logged on one line naming the file (and the line, where the SPEC asks), and
that page alone: it gets no route and every other page of the demo is still served.
Each case is a copy of the demo with files added, launched by tincan-testing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest
import tincan

from tests._helpers import DEMO, DEMO_URLS, fresh_logger, logged
from tests.conftest import DemoFactory

LAYOUT_PAGE = """\
<!DOCTYPE html>
<html metal:use-macro="layout.macros['page']">
<main metal:fill-slot="content"><p>a page that should not be served</p></main>
</html>
"""


@dataclass(frozen=True)
class Broken:
    """A broken addition to the demo and the error it must cause."""

    page: str  # the added .pspx (its route must not exist)
    header: str  # header lines of the page
    message: str  # a fragment of the logged message, besides the files it names
    named: str = ""  # the file the message names (default: the page)
    line: int | None = None  # the line the message names, when the SPEC asks for one
    body: str | bytes = LAYOUT_PAGE
    extra: dict[str, str | bytes] = field(default_factory=dict)  # other files to add
    also: str = ""  # another file of the demo the message names

    def files(self) -> dict[str, str | bytes]:
        body = self.body if isinstance(self.body, bytes) else self.body.encode("utf-8")
        return {self.page: self.header.encode("utf-8") + body, **self.extra}


def page(name: str) -> str:
    return f"zz-{name}.pspx"


CASES: dict[str, Broken] = {
    # -- the header grammar (§3.1)
    "unknown directive": Broken(
        page("unknown"), "#rem fine\n#bogus\n", "unknown directive #bogus", line=2
    ),
    "bare #": Broken(page("bare"), "# a comment\n", "invalid directive", line=1),
    "duplicate": Broken(
        page("duplicate"), "#methods GET\n#rem\n#methods POST\n", "duplicate #methods", line=3
    ),
    "#python without parameter": Broken(
        page("noparam-python"), "#python\n", "#python needs a parameter", line=1
    ),
    "#template without parameter": Broken(
        page("noparam-template"), "#rem\n#template   \n", "#template needs a parameter", line=2
    ),
    "#forward without parameter": Broken(
        page("noparam-forward"), "#forward\n", "#forward needs a parameter", line=1
    ),
    "#load without parameter": Broken(
        page("noparam-load"), "#load\n", "#load needs a parameter", line=1
    ),
    "quoted #methods not a token": Broken(
        page("methods-quoted"), "#methods 'GET P@ST'\n", "'P@ST' is not an HTTP method", line=1
    ),
    "malformed literal": Broken(
        page("literal"), '#rem\n#python "\\x.py"\n', "malformed string literal", line=2
    ),
    "undecodable page": Broken(
        page("latin1"),
        "",
        "cannot decode as utf-8",
        line=3,
        body=b"<p>\n\n\xff</p>\n",
    ),
    # -- #load
    "#load of a non-.pt file": Broken(
        page("load-css"), "#load <style.css>\n", "does not end in .pt", line=1
    ),
    "#load with empty variable": Broken(
        page("load-var"), "#load <=layout.pt>\n", "empty variable name", line=1
    ),
    "#load unbalanced <": Broken(page("load-bracket"), "#load <layout.pt\n", "unbalanced", line=1),
    "#load of a missing tlib file": Broken(
        page("load-missing"),
        "#rem\n#load <layout.pt>\n#load <zz-nothere.pt>\n",
        "zz-nothere.pt",
        line=3,
    ),
    "#load of a missing local file": Broken(
        "about/zz-load-local.pspx", "#load zz-nothere.pt\n", "about/zz-nothere.pt", line=1
    ),
    "#load of a broken macro file": Broken(
        page("load-broken"),
        "#load <layout.pt>\n#load zz-broken-macro.pt\n",
        "template error",
        line=2,
        extra={"zz-broken-macro.pt": '<div metal:define-macro="m" tal:repeat="x">x</div>\n'},
    ),
    "#load above the root": Broken(
        page("load-above"), "#load ../../x.pt\n", "outside the webapp", line=1
    ),
    # -- #python
    "#python missing": Broken(
        page("python-missing"), "#python zz-nothere.py\n", "does not exist", line=1
    ),
    "#python not .py": Broken(
        page("python-txt"), "#python entries.txt\n", "does not end in .py", line=1
    ),
    # -- #template
    "#template not .pspx": Broken(
        page("template-html"), "#template docs/index.html\n", "does not end in .pspx", line=1
    ),
    "#template missing": Broken(
        page("template-missing"), "#rem\n#template zz-nothere.pspx\n", "#template", line=2
    ),
    # -- #forward
    "#forward to itself": Broken(
        page("forward-self"), "#forward zz-forward-self.pspx\n", "#forward loop", line=1
    ),
    "#forward above the root": Broken(
        page("forward-above"), "#forward ../../x.pspx\n", "outside the webapp", line=1
    ),
    "#forward missing": Broken(
        page("forward-missing"), "#forward zz-nothere.pspx\n", "does not exist", line=1
    ),
    "#forward not .pspx": Broken(
        page("forward-html"), "#forward docs/index.html\n", "does not end in .pspx", line=1
    ),
    "#forward to an error page": Broken(
        page("forward-error"),
        "#rem\n#forward errors/404.pspx\n",
        "switches between error page and normal page",
        line=2,
    ),
    "error page #forward to a page": Broken(
        page("error-forward"),
        "#errors 418\n#forward index.pspx\n",
        "switches between error page and normal page",
        line=2,
    ),
    # -- #errors (§6)
    "#errors code out of range": Broken(
        page("errors-999"), "#errors 418 999\n", "'999' is not an error code", line=1
    ),
    "#errors not a number": Broken(
        page("errors-word"), "#errors teapot\n", "'teapot' is not an error code", line=1
    ),
    "#errors success code": Broken(
        page("errors-200"), "#rem\n#errors 200\n", "'200' is not an error code", line=2
    ),
    # the code that clashes, and both pages claiming it
    "duplicate error code": Broken(
        page("errors-dup"), "#rem\n#errors 418 404\n", "404", line=2, also="errors/404.pspx"
    ),
    "second catch-all error page": Broken(
        page("errors-all"), "#errors\n", "#errors", line=1, also="errors/other.pspx"
    ),
    # -- #methods
    "#methods not a token": Broken(
        page("methods-token"), "#methods GET P@ST\n", "'P@ST' is not an HTTP method", line=1
    ),
    "#methods empty list": Broken(
        page("methods-empty"), "#methods , ,\n", "no methods listed", line=1
    ),
    # -- code-behind (§4)
    "code-behind syntax error": Broken(
        page("syntax"),
        "",
        "SyntaxError",
        named="zz-syntax.py",
        line=3,
        extra={"zz-syntax.py": "from tincan import Page\n\nclass SyntaxPage(Page)\n    pass\n"},
    ),
    "code-behind raises at import": Broken(
        page("raises"),
        "",
        "RuntimeError: broken at import",
        named="zz-raises.py",
        line=4,
        extra={
            "zz-raises.py": "from tincan import Page\n\n\nraise RuntimeError('broken at import')\n"
        },
    ),
    "code-behind imports something missing": Broken(
        page("importerror"),
        "",
        "ModuleNotFoundError",
        named="zz-importerror.py",
        line=1,
        extra={"zz-importerror.py": "import zz_no_such_module\n"},
    ),
    "code-behind without a Page class": Broken(
        page("noclass"),
        "",
        "no Page class found",
        named="zz-noclass.py",
        extra={"zz-noclass.py": "ANSWER = 42\n"},
    ),
    "ambiguous Page classes": Broken(
        page("ambiguous"),
        "",
        "ambiguous",
        named="zz-ambiguous.py",
        extra={
            "zz-ambiguous.py": (
                "from tincan import Page\n\nclass One(Page): pass\nclass Two(Page): pass\n"
            )
        },
    ),
    "error page with only a Page class": Broken(
        page("error-class"),
        "#errors 418\n",
        "no ErrorPage class found",
        named="zz-error-class.py",
        extra={
            "zz-error-class.py": "from tincan import Page\n\nclass NotAnErrorPage(Page): pass\n"
        },
    ),
    "#python to a broken controller": Broken(
        page("python-broken"),
        "#python zz-broken-controller.py\n",
        "ValueError",
        named="zz-broken-controller.py",
        line=2,
        extra={"zz-broken-controller.py": "from tincan import Page\nint('not a number')\n"},
    ),
    # -- the template body (§3: line numbers match the file)
    "template syntax error": Broken(
        page("template"),
        "#rem one\n#rem two\n#load <layout.pt>\n",
        "template error",
        line=5,
        body='<!DOCTYPE html>\n<p tal:repeat="x">broken</p>\n',
    ),
    "template expression error": Broken(
        page("expression"),
        "#rem\n",
        "invalid syntax",
        line=4,
        body="<div>\n\n<p>${1 +}</p>\n</div>\n",
    ),
    "template error after #end": Broken(
        page("after-end"),
        "#rem\n#end\n",
        "Bad attribute",
        line=4,
        body='#not a directive\n<p tal:bogus="x">x</p>\n',
    ),
    "template error with a BOM": Broken(
        page("bom"),
        "\ufeff#rem\n",
        "invalid syntax",
        line=2,
        body="<p>${1 +}</p>\n",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_broken_page_costs_one_error_and_nothing_else(demo: DemoFactory, case: Broken) -> None:
    site = demo(case.files(), allow_errors=True)
    root = str(site.root)
    assert site.errors == 1, logged(site)
    [message] = logged(site)
    named = f"{root}/{case.named or case.page}"
    location = f"{named}:{case.line}: " if case.line else f"{named}: "
    assert message.startswith(location), message
    rest = message[len(location) :]
    if case.also:
        also = f"{root}/{case.also}"
        assert also in rest, message
        rest = rest.replace(also, "")
    assert case.message in rest, message
    assert "\n" not in message and "Traceback" not in message
    assert all(record.exc_info is None for record in site.records)  # INFO: no traceback
    client = site.client()
    assert client.get("/" + case.page).status_code == 404
    for url, status, marker in DEMO_URLS:
        response = client.get(url)
        assert (response.status_code, marker in response.text) == (status, True), url


def test_errors_are_logged_with_traceback_at_debug(demo: DemoFactory) -> None:
    case = CASES["code-behind raises at import"]
    site = demo(case.files(), allow_errors=True, log_level=logging.DEBUG)
    assert site.errors == 1
    [record] = [r for r in site.records if r.levelno == logging.ERROR]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)
    assert site.client().get("/").status_code == 200


def test_several_broken_pages_are_counted_one_by_one(demo: DemoFactory) -> None:
    chosen = [
        "unknown directive",
        "code-behind syntax error",
        "template syntax error",
        "#forward missing",
    ]
    files: dict[str, str | bytes] = {}
    for name in chosen:
        files.update(CASES[name].files())
    site = demo(files, allow_errors=True)
    assert site.errors == len(chosen) == len(logged(site))
    assert site.client().get("/guestbook.pspx").status_code == 200


def test_a_page_forwarding_to_a_broken_page_fails_too(demo: DemoFactory) -> None:
    files = {**CASES["unknown directive"].files(), page("to-broken"): "#forward zz-unknown.pspx\n"}
    site = demo(files, allow_errors=True)
    assert site.errors == 2
    assert any(f"{page('to-broken')}:1: #forward target" in m for m in logged(site))
    assert site.client().get("/" + page("to-broken")).status_code == 404


@pytest.mark.parametrize(
    ("fsroot", "urlroot", "message"),
    [
        ("missing", "/", "not a directory"),
        ("no-web-inf", "/", "no WEB-INF directory"),
        ("demo", "relative", "must start with '/'"),
    ],
)
def test_an_unusable_tree_is_none_and_one_error(fsroot: str, urlroot: str, message: str) -> None:
    """``launch()`` itself, on trees the plugin would not build: it stops before reading
    (or writing) anything in the demo."""
    root = DEMO if fsroot == "demo" else DEMO / "docs" if fsroot == "no-web-inf" else DEMO / "zz"
    assert root.is_dir() is (fsroot != "missing")
    logger, log = fresh_logger()
    assert tincan.launch(root, urlroot, logger=logger) == (None, 1)
    [logged] = log.errors
    assert message in logged
