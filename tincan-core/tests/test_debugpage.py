"""The developer error page: only with launch(debug=True), escaped, secrets masked,
and the failure shown where the webapp's own code is (page line, not layout line)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import tincan_core
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

PAGE = {
    "boom.pspx": "<p>${x}</p>\n",
    "boom.py": (
        "from tincan import Page\n\nclass P(Page):\n"
        "    def handle(self) -> None:\n        raise ValueError('<bad & wrong>')\n"
    ),
}

LAYOUT = (
    '<html metal:define-macro="page"><body>\n'
    "<h1>Site</h1>\n"
    '<div metal:define-slot="content"></div>\n'
    "</body></html>\n"
)


def where(text: str) -> str:
    """The ``file:line`` the page puts first: where the webapp failed."""
    found = re.search(r'<section class="where">.*?<span class="file">([^<]*)</span>', text, re.S)
    assert found, text
    return html.unescape(found.group(1))


def listed(text: str) -> list[str]:
    """Every ``file:line`` of the traceback, innermost first."""
    return [html.unescape(m) for m in re.findall(r'<summary>.*?<span class="file">([^<]*)', text)]


def test_debug_page_shows_exception_frame_and_masked_request(
    launch_webapp: Callable[..., Any],
) -> None:
    site = launch_webapp(PAGE, debug=True)
    r = site.get(
        "/boom.pspx?a=1", headers={"Cookie": "s=topsecret", "Authorization": "Bearer tok"}
    )
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("text/html")
    assert r.text.startswith("<!DOCTYPE html>")
    assert "ValueError" in r.text
    assert "&lt;bad &amp; wrong&gt;" in r.text and "<bad & wrong>" not in r.text
    assert where(r.text) == "boom.py:5"
    assert "topsecret" not in r.text and "tok" not in r.text.replace("token", "")
    assert "<th>Query: a</th><td>1</td>" in r.text


def test_the_query_is_shown_decoded(launch_webapp: Callable[..., Any]) -> None:
    site = launch_webapp(PAGE, debug=True)
    r = site.get("/boom.pspx", params={"name": "Jürgen", "empty": "", "html": "<b>"})
    assert "<th>Query: name</th><td>Jürgen</td>" in r.text
    assert "<th>Query: empty</th><td></td>" in r.text
    assert "<th>Query: html</th><td>&lt;b&gt;</td>" in r.text


def test_production_launch_has_no_debug_page(launch_webapp: Callable[..., Any]) -> None:
    site = launch_webapp(PAGE)
    r = site.get("/boom.pspx")
    assert r.status_code == 500
    assert "ValueError" not in r.text and "boom.py" not in r.text


LAYOUT_PAGE = {
    "WEB-INF/tlib/layout.pt": LAYOUT,
    "typo.pspx": (
        "#load <layout.pt>\n"
        "<html metal:use-macro=\"layout.macros['page']\">\n"
        '<div metal:fill-slot="content">\n'
        "<p>${titel}</p>\n"
        "</div></html>\n"
    ),
}


def test_a_typo_in_a_slot_names_the_pages_line_not_the_use_macro_line(
    launch_webapp: Callable[..., Any],
) -> None:
    site = launch_webapp(LAYOUT_PAGE, debug=True)
    r = site.get("/typo.pspx")
    assert r.status_code == 500
    assert "NameError" in r.text and "name 'titel' is not defined" in html.unescape(r.text)
    assert where(r.text) == "typo.pspx:4"
    assert '<span class="line hit"><span class="no">4</span>&lt;p&gt;${titel}&lt;/p&gt;' in r.text
    # The path there, innermost first: the slot's line, then the use-macro line.
    templates = [f for f in listed(r.text) if f.startswith("typo.pspx")]
    assert templates == ["typo.pspx:4", "typo.pspx:2"]


SHARED_BODY = {
    "WEB-INF/views/shared.pspx": "#rem a body for several pages\n<p>shared</p>\n<p>${nope}</p>\n",
    "viatemplate.pspx": "#template /WEB-INF/views/shared.pspx\n<p>own body, unused</p>\n",
    "viaforward.pspx": "#forward /WEB-INF/views/shared.pspx\n",
}


def test_a_body_from_template_or_forward_names_that_file(
    launch_webapp: Callable[..., Any],
) -> None:
    site = launch_webapp(SHARED_BODY, debug=True)
    for url, page in [
        ("/viatemplate.pspx", "viatemplate.pspx"),
        ("/viaforward.pspx", "viaforward.pspx"),
    ]:
        r = site.get(url)
        assert r.status_code == 500, url
        assert where(r.text) == "WEB-INF/views/shared.pspx:3", url
        assert f"{page} takes its body from WEB-INF/views/shared.pspx" in r.text


def test_an_error_in_the_layout_itself_names_the_layouts_line(
    launch_webapp: Callable[..., Any],
) -> None:
    broken_layout = LAYOUT.replace("<h1>Site</h1>", "<h1>${site_name}</h1>")
    page = "#load <layout.pt>\n<html metal:use-macro=\"layout.macros['page']\"></html>\n"
    site = launch_webapp({"WEB-INF/tlib/layout.pt": broken_layout, "p.pspx": page}, debug=True)
    r = site.get("/p.pspx")
    assert where(r.text) == "WEB-INF/tlib/layout.pt:2"
    assert "WEB-INF/tlib/layout.pt is a file that p.pspx uses" in r.text
    assert "p.pspx:2" in listed(r.text)


LIB_PAGE = {
    "WEB-INF/lib/debugpage_helpers.py": (
        "def total(values):\n    count = len(values)\n    return sum(values) / count\n"
    ),
    "report.py": (
        "from debugpage_helpers import total\n"
        "from tincan import Page\n\n\n"
        "class Report(Page):\n"
        "    def average(self):\n"
        "        return total([])\n"
    ),
    "report.pspx": "<h1>Report</h1>\n<p>${page.average()}</p>\n",
}


def test_webapp_frames_are_shown_at_their_own_file_and_line(
    launch_webapp: Callable[..., Any],
) -> None:
    site = launch_webapp(LIB_PAGE, debug=True)
    r = site.get("/report.pspx")
    assert r.status_code == 500
    assert "ZeroDivisionError" in r.text
    assert where(r.text) == "WEB-INF/lib/debugpage_helpers.py:3"
    frames = listed(r.text)
    # The module, the code-behind that called it, the template line that called that.
    mine = [f for f in frames if not f.startswith("/")]
    assert mine == ["WEB-INF/lib/debugpage_helpers.py:3", "report.py:7", "report.pspx:2"]
    assert "return sum(values) / count" in r.text


@settings(max_examples=15)
@given(
    header=st.integers(min_value=0, max_value=3),
    before=st.integers(min_value=0, max_value=5),
    after=st.integers(min_value=0, max_value=3),
    inner=st.sampled_from(["${%s}", "<b tal:content='%s'/>", "<i tal:condition='%s'>x</i>"]),
)
def test_the_line_shown_is_the_line_of_the_undefined_name(
    make_webapp: Callable[..., Any],
    client_for: Callable[[Any], Any],
    header: int,
    before: int,
    after: int,
    inner: str,
) -> None:
    lines = ["#load <layout.pt>"] + ["#rem header"] * header
    lines += [
        "<html metal:use-macro=\"layout.macros['page']\">",
        '<div metal:fill-slot="content">',
    ]
    lines += ["<p>fine ${1 + 1}</p>"] * before
    lines.append(inner % "undefined_here")
    bad_line = len(lines)
    lines += ["<p>after</p>"] * after + ["</div></html>"]
    root = make_webapp({"WEB-INF/tlib/layout.pt": LAYOUT, "x.pspx": "\n".join(lines) + "\n"})
    app, errors = tincan_core.launch(root, debug=True)
    assert errors == 0
    r = client_for(app).get("/x.pspx")
    assert r.status_code == 500
    assert where(r.text) == f"x.pspx:{bad_line}"


def test_a_recursion_is_one_frame(launch_webapp: Callable[..., Any]) -> None:
    code = (
        "from tincan import Page\n\n\ndef down(n):\n    return down(n + 1)\n\n\n"
        "class P(Page):\n    def handle(self):\n        down(0)\n"
    )
    site = launch_webapp({"deep.pspx": "<p/>\n", "deep.py": code}, debug=True)
    r = site.get("/deep.pspx")
    assert r.status_code == 500 and "RecursionError" in r.text
    assert where(r.text) == "deep.py:5"
    assert re.search(r"\(\d{3,} times in a row\)", r.text)  # one frame for the recursion


def test_the_layout_step_is_its_define_slot_line(launch_webapp: Callable[..., Any]) -> None:
    layout = (
        '<html metal:define-macro="page"><body>\n'
        "<h1>${'Site'.upper()}</h1>\n"  # the layout's last expression before the slot
        "<nav>menu</nav>\n"
        '<main metal:define-slot="main-content"></main>\n'
        "</body></html>\n"
    )
    page = (
        "#load <layout.pt>\n<html metal:use-macro=\"layout.macros['page']\">\n"
        '<main metal:fill-slot="main-content">${missing}</main></html>\n'
    )
    site = launch_webapp({"WEB-INF/tlib/layout.pt": layout, "p.pspx": page}, debug=True)
    r = site.get("/p.pspx")
    assert where(r.text) == "p.pspx:3"
    assert [f for f in listed(r.text) if not f.startswith("/")] == [
        "p.pspx:3", "WEB-INF/tlib/layout.pt:4", "p.pspx:2",
    ]  # fmt: skip
    assert '<span class="fn">define-slot main-content</span>' in r.text


_HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=",;"), min_size=6
)
RAISES_THE_QUERY = {
    "boom.pspx": "<p/>\n",
    "boom.py": (
        "from tincan import Page\n\nclass P(Page):\n"
        "    def handle(self):\n"
        "        raise ValueError(self.request.query.getunicode('m'))\n"
    ),
}


@settings(max_examples=20)
@given(
    secret=_HEADER_TEXT,
    message=st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=60),
    other=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40),
)
@example(secret="conten", message="0", other="")  # a secret the page's markup holds
def test_secrets_are_masked_and_everything_shown_is_escaped(
    launch_webapp: Callable[..., Any], secret: str, message: str, other: str
) -> None:
    """Whatever a request and an exception carry: cookie and authorization values
    never appear, and text from either is shown escaped, never as markup."""
    assume(secret not in other and secret not in message and message.strip())
    site = launch_webapp(RAISES_THE_QUERY, debug=True)
    headers = {
        "Cookie": f"session={secret}",
        "Authorization": f"Basic {secret}",
        "Proxy-Authorization": secret,
        "X-Other": other,
    }
    r = site.get("/boom.pspx", params={"m": message}, headers=headers)
    assert r.status_code == 500
    # A short secret may be part of the page's own markup ('conten'): it must not
    # appear more often than on the same page for a secret made of other characters.
    placeholder = "|" * len(secret) if "|" not in secret else "~" * len(secret)
    masked = {name: value.replace(secret, placeholder) for name, value in headers.items()}
    baseline = site.get("/boom.pspx", params={"m": message}, headers=masked)
    assert r.text.count(secret) == baseline.text.count(secret)
    shown = re.search(r'<header class="failure">.*?<p>(.*?)</p>', r.text, re.S)
    assert shown is not None
    assert "<" not in shown.group(1) and ">" not in shown.group(1)
    assert html.unescape(shown.group(1)) == message
    if other:
        cell = re.search(r"<th>X-Other</th><td>(.*?)</td>", r.text)
        assert cell is not None and "<" not in cell.group(1) and ">" not in cell.group(1)
        assert html.unescape(cell.group(1)) == other


def test_secret_looking_headers_and_query_fields_are_masked_and_never_cached(
    launch_webapp: Callable[..., Any],
) -> None:
    site = launch_webapp(PAGE, debug=True)
    r = site.get(
        "/boom.pspx",
        params={"token": "tok-123", "api_key": "k-456", "page": "2"},
        headers={"X-Api-Key": "hdr-789", "X-Session-Id": "sid-000", "X-Plain": "shown"},
    )
    assert r.status_code == 500
    for secret in ("tok-123", "k-456", "hdr-789", "sid-000"):
        assert secret not in r.text
    assert "<th>Query: page</th><td>2</td>" in r.text
    assert "<td>shown</td>" in r.text
    assert r.headers["cache-control"] == "no-store"


def test_the_source_shown_is_the_file_as_it_is_now(
    make_webapp: Callable[..., Any], client_for: Callable[[Any], Any]
) -> None:
    # Under --reload the same process launches the edited tree again: the page must
    # show the new text of the file, not what an earlier failure read.
    root = make_webapp({"p.pspx": "<p>first</p>\n<p>${one}</p>\n"})
    app, _ = tincan_core.launch(root, debug=True)
    assert "${one}" in client_for(app).get("/p.pspx").text
    (root / "p.pspx").write_text("<p>edited, and longer</p>\n<p>x</p>\n<p>${two}</p>\n")
    app, _ = tincan_core.launch(root, debug=True)
    r = client_for(app).get("/p.pspx")
    assert where(r.text) == "p.pspx:3"
    assert "${two}" in r.text and "edited, and longer" in r.text and "${one}" not in r.text
