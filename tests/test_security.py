"""Security properties of a launched webapp (DESIGN §5).

Through httpx, a hand-built WSGI environ and a real socket: no request, however
its URL, method or headers are spelt, gets the source of a page, code-behind,
macro or bytecode, anything under any ``WEB-INF``, or a dot file; no response
carries a traceback, a file-system path or a Python repr; no request produces a
5xx or stops the server; and one broken page never takes down the launch.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import tincan
import tincan_core
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_testing.strategies import header_lines

from tests._secure_tree import (
    HTTP_METHODS,
    TRACEBACK,
    PathRecorder,
    Reply,
    SecureTree,
    any_hostile_path,
    assert_no_leak,
    assert_no_server_error,
    build_secure_tree,
    check_reply,
    forbidden_strings,
    forget_webapp,
    httpx_client,
    methods,
    recording,
    request_target,
    scaled_examples,
    send_httpx,
    send_raw,
    send_wire,
    spellings,
    wsgi_path_info,
)


@dataclass
class Site:
    tree: SecureTree
    urlroot: str
    app: tincan.TinCan = field(repr=False)
    client: httpx.Client = field(repr=False)
    recorder: PathRecorder = field(repr=False)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"Site({self.urlroot!r})")

    def check(self, reply: Reply, method: str, what: str) -> None:
        check_reply(reply, method, self.tree, self.urlroot, what)


@pytest.fixture(scope="module", params=["/", "/app"], ids=["root", "urlroot"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("secure")
    tree = build_secure_tree(root)
    with recording(f"test.security.{request.param_index}") as (logger, log):
        app, errors = tincan.launch(root, urlroot=request.param, static=True, logger=logger)
    assert app is not None
    assert errors == 0, log.messages(logging.ERROR)
    assert log.messages(logging.WARNING) == []
    client, recorder = httpx_client(app)
    with client:
        yield Site(tree, request.param, app, client, recorder)
    forget_webapp(root)


# -- the exact names ---------------------------------------------------------------------
def test_every_public_url_is_served(site: Site) -> None:
    """The positive control: without it the properties below could pass on a dead app."""
    routes = site.tree.public_routes(site.urlroot)
    assert len(routes) >= 12
    for path in routes:
        for method in ("GET", "HEAD"):
            reply = send_raw(site.app, method, path.encode("utf-8").decode("latin-1"))
            assert reply.status == 200, (method, path, reply.body)
            site.check(reply, method, f"{method} {path}")
        if path.endswith("/") and path != "/":  # an index: without its slash, a redirect
            reply = send_raw(site.app, "GET", path[:-1].encode("utf-8").decode("latin-1"))
            assert (reply.status, dict(reply.headers)["Location"]) == (301, path)


def test_every_secret_name_is_404(site: Site) -> None:
    """Every private, ignored or source file, except routed pages (their URL serves
    the rendering, checked below), is a plain 404."""
    prefix = site.urlroot.rstrip("/")
    unrouted = [relpath for relpath in site.tree.secrets if relpath not in site.tree.pages]
    assert len(unrouted) >= 20
    for relpath in unrouted:
        path = f"{prefix}/{relpath}"
        for send in ("httpx", "raw"):
            if send == "httpx":  # "#" (an editor's #autosave#) would start a fragment
                reply = send_httpx(site.client, site.recorder, "GET", path.replace("#", "%23"))
            else:
                reply = send_raw(site.app, "GET", path.encode("utf-8").decode("latin-1"))
            assert reply.status == 404, (send, path, reply.status)
            site.check(reply, "GET", f"{send} GET {path}")


def test_fixed_spellings_of_every_name(site: Site) -> None:
    """Every name of the tree, spelt every way in a fixed list, through both paths in."""
    checked = 0
    for relpath in site.tree.names:
        for path in spellings(relpath, site.urlroot):
            for method in ("GET", "HEAD"):
                site.check(send_raw(site.app, method, wsgi_path_info(path)), method,
                           f"raw {method} {path!r}")
                site.check(send_httpx(site.client, site.recorder, method, path), method,
                           f"httpx {method} {path!r}")
                checked += 2
    assert checked > 5000


def test_pages_render_without_their_secrets(site: Site) -> None:
    """Markers sit in header lines and Chameleon comments of rendered pages."""
    prefix = site.urlroot.rstrip("/")
    for relpath, text in site.tree.pages.items():
        reply = send_httpx(site.client, site.recorder, "GET", f"{prefix}/{relpath}")
        assert reply.status == 200
        assert text in reply.body.decode()
        assert_no_leak(reply, site.tree.forbidden(), relpath)


# -- hostile URLs ------------------------------------------------------------------------
@settings(max_examples=scaled_examples(250))
@given(data=st.data())
def test_hostile_urls_through_httpx(site: Site, data: st.DataObject) -> None:
    path = data.draw(any_hostile_path(site.tree.names, site.urlroot), label="path")
    method = data.draw(st.sampled_from(["GET", "GET", "HEAD"]), label="method")
    reply = send_httpx(site.client, site.recorder, method, path)
    site.check(reply, method, f"httpx {method} {path!r}")


@settings(max_examples=scaled_examples(250))
@given(data=st.data())
def test_hostile_urls_through_raw_environ(site: Site, data: st.DataObject) -> None:
    """Paths reach the app undecoded by any client: ``..``, ``\\``, NUL, bad UTF-8."""
    path = data.draw(any_hostile_path(site.tree.names, site.urlroot), label="path")
    method = data.draw(st.sampled_from(["GET", "HEAD"]), label="method")
    # As a server decodes it, and as a broken proxy might pass it on undecoded.
    for path_info in (wsgi_path_info(path), path.encode("utf-8").decode("latin-1")):
        reply = send_raw(site.app, method, path_info)
        site.check(reply, method, f"raw {method} {path_info!r}")


@settings(max_examples=scaled_examples(100))
@given(raw=st.binary(max_size=80), name=st.sampled_from(["WEB-INF/config.txt", "index.py",
                                                         ".env", "index.pspx", "style.css"]))
def test_arbitrary_path_bytes(site: Site, raw: bytes, name: str) -> None:
    """Any byte string as ``PATH_INFO``, alone and glued to a real name."""
    prefix = site.urlroot.rstrip("/").encode()
    for candidate in (raw, b"/" + raw, prefix + b"/" + raw + name.encode(),
                      prefix + b"/" + name.encode() + raw):
        reply = send_raw(site.app, "GET", candidate.decode("latin-1"))
        site.check(reply, "GET", f"raw bytes {candidate!r}")


# -- methods and headers -----------------------------------------------------------------
@settings(max_examples=scaled_examples(150))
@given(data=st.data())
def test_any_method_on_any_url(site: Site, data: st.DataObject) -> None:
    method = data.draw(methods(), label="method")
    routes = sorted(site.tree.public_routes(site.urlroot))
    path = data.draw(st.one_of(st.sampled_from(routes),
                               any_hostile_path(site.tree.names, site.urlroot)), label="path")
    reply = send_raw(site.app, method, wsgi_path_info(path))
    site.check(reply, method, f"raw {method} {path!r}")
    if method in HTTP_METHODS:
        reply = send_httpx(site.client, site.recorder, method, path)
        site.check(reply, method, f"httpx {method} {path!r}")


def test_unaccepted_methods_are_405_with_allow(site: Site) -> None:
    prefix = site.urlroot.rstrip("/")
    for path in (f"{prefix}/style.css", f"{prefix}/sub/page.pspx", f"{prefix}/"):
        for method in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"):
            reply = send_raw(site.app, method, path)
            assert reply.status == 405, (method, path)
            assert dict(reply.headers)["Allow"] == "GET, HEAD"
            site.check(reply, method, f"{method} {path}")


_HEADER_VALUES = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40),
    st.sampled_from([
        "bytes=0-0", "bytes=-1", "bytes=-0", "bytes=5-1", "bytes=0-", "bytes=99999999999999-",
        "bytes=0-1,2-3", "bytes=--1", "bytes= 1 - 2 ", "items=0-1", "bytes=\u0661-\u0662",
        "*", 'W/"x"', '"', "Mon, 01 Jan 99999 00:00:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT; length=3", "0", "-1", "Fri, 31 Dec 9999 23:59:59 +9999",
        "Tue, 32 Foo 2020 25:61:61 GMT", "a=b; c", "=;=;", "multipart/form-data; boundary=",
    ]),
)
_HEADER_NAMES = ("Range", "If-Range", "If-None-Match", "If-Modified-Since", "Cookie",
                 "Content-Type", "Content-Length", "Accept-Encoding", "Host")


@settings(max_examples=scaled_examples(150))
@given(data=st.data())
def test_hostile_headers(site: Site, data: st.DataObject) -> None:
    routes = sorted(site.tree.public_routes(site.urlroot))
    path = data.draw(st.sampled_from(routes), label="path")
    headers = data.draw(st.dictionaries(st.sampled_from(_HEADER_NAMES), _HEADER_VALUES,
                                        min_size=1, max_size=4), label="headers")
    method = data.draw(st.sampled_from(["GET", "HEAD", "POST"]), label="method")
    reply = send_raw(site.app, method, wsgi_path_info(path), headers=headers,
                     query=data.draw(st.sampled_from(["", "a=1", "%zz=%", "x" * 3000])))
    assert_no_server_error(reply, f"{method} {path} {headers!r}")
    assert_no_leak(reply, site.tree.forbidden(), f"{method} {path} {headers!r}")
    if reply.status in (200, 206):
        kind, expected = site.tree.public_routes(site.urlroot)[path]
        if kind == "static" and method == "GET":
            assert isinstance(expected, bytes)
            assert reply.body in expected if reply.status == 206 else reply.body == expected


@pytest.mark.parametrize("since", [
    "0 JAN 10000 0:0", "Mon, 01 Jan 99999 00:00:00 GMT",
    "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",
])
def test_dates_beyond_the_calendar_are_ignored(site: Site, since: str) -> None:
    """An If-Modified-Since no calendar can hold is ignored like any invalid date."""
    path = site.urlroot.rstrip("/") + "/robots.txt"
    reply = send_raw(site.app, "GET", path, headers={"If-Modified-Since": since})
    assert reply.status == 200, reply.body
    assert reply.body == b"PUBLIC-ROBOTS\n"


# -- the same over a real socket ------------------------------------------------------------
@dataclass
class Live:
    address: tuple[str, int]
    recorder: PathRecorder

    def send(self, request: bytes) -> Reply | None:
        self.recorder.seen = None
        reply = send_wire(self.address, request)
        if reply is not None:
            reply.seen_path = self.recorder.seen
        return reply


@pytest.fixture(scope="module")
def live(site: Site) -> Iterator[Live]:
    """The site's app behind the threaded server on a loopback port."""
    recorder = PathRecorder(site.app)
    httpd = tincan_core.make_server(recorder, "127.0.0.1", 0)
    thread = tincan_core.serve_in_thread(httpd)
    try:
        yield Live(("127.0.0.1", httpd.server_port), recorder)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def _get(target: bytes, method: bytes = b"GET") -> bytes:
    return method + b" " + target + b" HTTP/1.1\r\nHost: testserver\r\nConnection: close\r\n\r\n"


@settings(max_examples=scaled_examples(60))
@given(data=st.data())
def test_hostile_urls_over_the_wire(site: Site, live: Live, data: st.DataObject) -> None:
    """The server's own request parsing and path decoding, then the app."""
    path = data.draw(any_hostile_path(site.tree.names, site.urlroot), label="path")
    method = data.draw(st.sampled_from(["GET", "HEAD"]), label="method")
    reply = live.send(_get(request_target(path), method.encode()))
    assert reply is not None, path
    site.check(reply, method, f"wire {method} {path!r}")


_WIRE_GARBAGE = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda method, target, version, header: (
            method + b" " + target + b" " + version + b"\r\n" + header + b"\r\n\r\n"
        ),
        st.sampled_from([b"GET", b"get", b"G\x00T", b"", b"POST", b"\xff\xfe", b"GET GET"]),
        st.sampled_from([b"/", b"", b"*", b"http://elsewhere/", b"/\x00", b"/%", b"/a b",
                         b"/" + b"a" * 70000, b"/%c0%ae%c0%ae/WEB-INF/config.txt", b"\\..\\"]),
        st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/9.9", b"HTTP/1.1.1",
                         b"HTTP/", b"FOO", b""]),
        st.sampled_from([
            b"", b"Host: x", b"Content-Length: -1", b"Content-Length: 99999999999999999999",
            b"Transfer-Encoding: chunked", b"X: " + b"y" * 70000, b"Bad Header Line",
            b"\r\n".join(b"H%d: v" % i for i in range(150)), b"Cookie: \xff\xfe=\x00",
            b"Range: bytes=0-0\r\nIf-Modified-Since: 0 JAN 10000 0:0", b" folded: line",
        ]),
    ),
)


@settings(max_examples=scaled_examples(40))
@given(request=_WIRE_GARBAGE)
def test_garbage_on_the_wire_never_stops_the_server(site: Site, live: Live,
                                                    request: bytes) -> None:
    reply = live.send(request)
    if reply is not None:
        assert_no_server_error(reply, f"wire {request[:200]!r}")
        assert_no_leak(reply, site.tree.forbidden(), f"wire {request[:200]!r}")
    path = site.urlroot.rstrip("/") + "/robots.txt"
    after = live.send(_get(path.encode()))
    assert after is not None and after.status == 200 and after.body == b"PUBLIC-ROBOTS\n"


# -- broken pages never take down the launch -----------------------------------------------
_GOOD_PAGES = {
    "good.pspx": ("#load macro.pt\n<div metal:use-macro='macro.macros.box'/>"
                  "<p>${message}</p>\n", "GOOD-ONE"),
    "deep/ok.pspx": ("#rem a fine page\n<p>GOOD-TWO</p>\n", "GOOD-TWO"),
}
_GOOD_FILES = {
    "good.py": "from tincan import Page\n\nclass Good(Page):\n    message = 'GOOD-ONE'\n",
    "macro.pt": "<div metal:define-macro='box'>box</div>\n",
    "WEB-INF/tlib/lib.pt": "<div metal:define-macro='m'>lib</div>\n",
    "static.txt": "GOOD-STATIC\n",
}
_GARBAGE_NAMES = ("g0.pspx", "g1.pspx", "sub/g2.pspx", "sub/deeper/g3.pspx")

_DIRECTIVE_LINES = st.sampled_from([
    "#rem anything", "#end", "#hidden", "#hidden please", "#errors", "#errors 404", "#errors 500",
    "#errors 404 404", "#errors 200", "#errors 999", "#errors x", "#errors -1", "#methods",
    "#methods GET POST", "#methods get", "#methods GET,POST", "#methods G@T", "#methods ()",
    "#python good.py", "#python missing.py", "#python ../../../../etc/x.py", "#python 'a b.py'",
    "#python 'unterminated", "#python \"\\x\"", "#python g0.txt", "#template good.pspx",
    "#template /deep/ok.pspx", "#template nowhere.pspx", "#template ../../up.pspx",
    "#forward good.pspx", "#forward g0.pspx", "#forward g1.pspx", "#forward /sub/g2.pspx",
    "#forward ../g0.pspx", "#forward missing.pspx", "#forward ..", "#forward '/g1.pspx'",
    "#load macro.pt", "#load <lib.pt>", "#load <missing.pt>", "#load x=macro.pt", "#load =x.pt",
    "#load x=", "#load <>", "#load <lib.pt", "#load macro.txt", "#load ../../x.pt", "#", "# x",
    "#unknown", "#rem", "#python", "#template", "#forward", "#load", "#\u00e9", "#rem \x00",
])
_HEADER_LINE = st.one_of(
    _DIRECTIVE_LINES,
    header_lines(),
    st.tuples(st.sampled_from(["rem", "python", "template", "load", "forward", "errors",
                               "hidden", "methods", "end", "bogus", ""]),
              st.text(max_size=20)).map(lambda t: f"#{t[0]} {t[1]}"),
)
_BODY_PIECES = st.sampled_from([
    "<p>", "</p>", "<div>", "</div>", "${x}", "${", "}", "${page}", "${page.missing}",
    "${message}", "<tal:block>", "</tal:block>", "<p tal:content='page'/>",
    "<div metal:use-macro='macro.macros.box'/>", "<div metal:use-macro='nope.macros.x'/>",
    "<p tal:repeat='i range(3)'>${i}</p>", "<p tal:condition='missing'/>", "<![CDATA[", "<!--",
    "-->", "&", "&bogus;", "<?xml version='1.0'?>", "<", ">", "\n", " text ", "#end", "#rem x",
    "<p tal:define='a b c'>", "<p i18n:translate=''>", "\u00e9\u4e2d", "\ufeff", "\r\n",
])
_PAGE_TEXT = st.tuples(st.lists(_HEADER_LINE, max_size=5),
                       st.lists(_BODY_PIECES | st.text(max_size=10), max_size=12))
_CODE_BEHIND = st.sampled_from([
    None, None, "",
    "from tincan import Page\nclass P(Page):\n    pass\n",
    "from tincan import Page\nclass P(Page):\n    message = 'm'\n",
    "from tincan import Page\nclass P(Page): pass\nclass Q(Page): pass\n",
    "from tincan import ErrorPage\nclass E(ErrorPage):\n    pass\n",
    "raise RuntimeError('boom at import')\n",
    "import sys\nsys.exit(3)\n",
    "def broken(:\n",
    "from tincan import Page\nclass P(Page):\n    def handle(self):\n"
    "        raise ValueError('x')\n",
    "from tincan import Page\nclass P(Page):\n    def handle(self):\n"
    "        self.request.app.forward('g0.pspx')\n",
    "from tincan import Page\nclass P(Page):\n    def handle(self):\n"
    "        self.request.app.forward('../../../../x.pspx')\n",
    "import missing_module_xyz\n",
    "\x00\x01\x02",
])


def _page_bytes(draw_result: object) -> bytes:
    if isinstance(draw_result, bytes):
        return draw_result
    assert isinstance(draw_result, tuple)
    header, body = draw_result
    return ("\n".join([*header, "".join(body)])).encode("utf-8", "surrogatepass")


_GARBAGE_PAGE = st.one_of(st.binary(max_size=200), _PAGE_TEXT).map(_page_bytes)


def _write_tree(root: Path, garbage: dict[str, tuple[bytes, str | bytes | None]]) -> None:
    (root / "WEB-INF" / "lib").mkdir(parents=True)
    for relpath, text in {**{k: v[0] for k, v in _GOOD_PAGES.items()}, **_GOOD_FILES}.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text, encoding="utf-8")
    for relpath, (page, code) in garbage.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_bytes(page)
        if code is not None:
            data = code.encode() if isinstance(code, str) else code
            (root / relpath).with_suffix(".py").write_bytes(data)


@settings(max_examples=scaled_examples(30))
@given(data=st.data())
def test_broken_pages_cost_only_themselves(data: st.DataObject) -> None:
    count = data.draw(st.integers(1, len(_GARBAGE_NAMES)), label="count")
    garbage = {
        name: (data.draw(_GARBAGE_PAGE, label=name), data.draw(_CODE_BEHIND, label=f"{name}.py"))
        for name in _GARBAGE_NAMES[:count]
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write_tree(root, garbage)
        try:
            with recording("test.security.broken") as (logger, log):
                app, errors = tincan.launch(root, static=True, logger=logger)
        finally:
            forget_webapp(root)
        assert app is not None
        # Each error is one logged line naming a broken page, never a good one.
        messages = log.messages(logging.ERROR)
        assert len(messages) == errors, messages
        owners = {info.file for info in app.route_info}
        unbuilt = [name for name in garbage if name not in owners]
        assert errors == len(unbuilt), (messages, unbuilt)
        stems = [os.path.join(tmp, name.removesuffix(".pspx")) + "." for name in garbage]
        for message in messages:  # names the page or its code-behind
            assert any(stem in message for stem in stems), message
        forbidden = forbidden_strings([TRACEBACK], [])
        client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver")
        with client:
            # Bad requests to every broken route may fail, but never leak or crash.
            for name in garbage:
                for method in ("GET", "POST"):
                    reply = send_raw(app, method, f"/{name}")
                    assert_no_leak(reply, [*forbidden, tmp], f"{method} /{name}")
            for relpath, (_, text) in _GOOD_PAGES.items():
                response = client.get(f"/{relpath}")
                assert response.status_code == 200, (relpath, messages)
                assert text in response.text
            assert client.get("/static.txt").text == "GOOD-STATIC\n"
