"""Static files of ``examples/demo`` (SPEC §7): types, validators, ranges, what is never served."""

from __future__ import annotations

import email.utils
import io
import os
import sys
from wsgiref.util import setup_testing_defaults

import httpx
import pytest
from tincan_testing import Webapp

from tests._helpers import DEMO
from tests.conftest import DemoFactory

pytestmark = pytest.mark.tincan(webapp="../examples/demo", static=True)

STATIC_FILES = [
    ("/static/style.css", "static/style.css", "text/css; charset=utf-8"),
    ("/static/logo.png", "static/logo.png", "image/png"),
    ("/docs/index.html", "docs/index.html", "text/html; charset=utf-8"),
]


@pytest.mark.parametrize(("url", "relpath", "content_type"), STATIC_FILES)
def test_static_file_is_served_whole_with_its_type(
    tincan_client: httpx.Client, url: str, relpath: str, content_type: str
) -> None:
    response = tincan_client.get(url)
    assert response.status_code == 200
    assert response.content == (DEMO / relpath).read_bytes()
    assert response.headers["content-type"] == content_type
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str((DEMO / relpath).stat().st_size)


def test_the_logo_is_a_real_png(tincan_client: httpx.Client) -> None:
    data = tincan_client.get("/static/logo.png").content
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")


def test_last_modified_and_if_modified_since(
    tincan_client: httpx.Client, tincan_app: Webapp
) -> None:
    first = tincan_client.get("/static/style.css")
    mtime = int((tincan_app.root / "static/style.css").stat().st_mtime)
    assert first.headers["last-modified"] == email.utils.formatdate(mtime, usegmt=True)
    again = tincan_client.get(
        "/static/style.css", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert again.status_code == 304 and again.content == b""
    older = email.utils.formatdate(mtime - 3600, usegmt=True)
    assert (
        tincan_client.get("/static/style.css", headers={"If-Modified-Since": older}).status_code
        == 200
    )


def test_etag_and_if_none_match(tincan_client: httpx.Client) -> None:
    etag = tincan_client.get("/static/logo.png").headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = tincan_client.get("/static/logo.png", headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.headers["etag"] == etag
    assert (
        tincan_client.get("/static/logo.png", headers={"If-None-Match": '"other"'}).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=10-", 10, None),
        ("bytes=-16", -16, None),
        ("bytes=5-5", 5, 5),
        ("bytes=100-999999", 100, None),
    ],
)
def test_range_requests_get_206(
    tincan_client: httpx.Client, range_header: str, start: int, end: int | None
) -> None:
    data = (DEMO / "static/style.css").read_bytes()
    expected = data[start:] if end is None else data[start : end + 1]
    response = tincan_client.get("/static/style.css", headers={"Range": range_header})
    assert response.status_code == 206
    assert response.content == expected
    first = start % len(data)
    assert (
        response.headers["content-range"]
        == f"bytes {first}-{first + len(expected) - 1}/{len(data)}"
    )


@pytest.mark.parametrize("range_header", ["bytes=999999-", "bytes=999999-9999999", "bytes=-0"])
def test_unsatisfiable_range_is_416(tincan_client: httpx.Client, range_header: str) -> None:
    size = (DEMO / "static/style.css").stat().st_size
    response = tincan_client.get("/static/style.css", headers={"Range": range_header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"
    assert response.headers["content-type"] == "text/html; charset=UTF-8"  # the error page


def test_head_sends_headers_only(tincan_client: httpx.Client) -> None:
    response = tincan_client.head("/static/logo.png")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str((DEMO / "static/logo.png").stat().st_size)
    assert response.headers["content-type"] == "image/png"


NEVER_SERVED = [
    "/index.py",
    "/guestbook.py",
    "/errors/404.py",
    "/about/team.pt",
    "/about/Über uns.py",
    "/WEB-INF/tlib/layout.pt",
    "/WEB-INF/lib/guestbook_store.py",
    "/WEB-INF/templates/error.pspx",
    "/WEB-INF/",
    "/web-inf/tlib/layout.pt",
    "/.gitignore",
    "/static/../index.py",
    "/static/%2e%2e/index.py",
    "/about/../WEB-INF/tlib/layout.pt",
]


@pytest.mark.parametrize("url", NEVER_SERVED)
def test_source_private_and_dot_files_are_never_served(
    tincan_client: httpx.Client, url: str
) -> None:
    response = tincan_client.get(url)
    assert response.status_code == 404
    for secret in (
        "from tincan import",
        "metal:define-macro",
        "import threading",
        ".tincan-cache",
    ):
        assert secret not in response.text


def test_pages_are_served_rendered_never_as_source(tincan_client: httpx.Client) -> None:
    body = tincan_client.get("/index.pspx").text
    assert "#load" not in body and "${" not in body and "metal:use-macro" not in body


# -- with files the demo does not ship ---------------------------------------------------------


def test_upper_case_source_extensions_and_dotfiles_are_never_served(demo: DemoFactory) -> None:
    files = {
        "zz-static/SECRET.PY": "print('secret source')",
        "zz-static/macro.PT": "<p>secret macro</p>",
        "zz-static/Compiled.PyC": b"secret bytecode",
        f"zz-static/__pycache__/page.{sys.implementation.cache_tag}.pyc": b"secret bytecode",
        "zz-static/__pycache__/notes.txt": "secret cache notes",
        "zz-static/.env": "SECRET=1",
        "zz-static/.private/notes.txt": "secret notes",
        "zz-static/WEB-INF/inner.txt": "secret inner",
        "zz-static/visible.txt": "public text",
    }
    site = demo(files)
    client = site.client()
    assert site.errors == 0
    assert client.get("/zz-static/visible.txt").text == "public text"
    assert (
        client.get("/zz-static/visible.txt").headers["content-type"] == "text/plain; charset=utf-8"
    )
    for relpath in files:
        if "visible" not in relpath:
            response = client.get("/" + relpath)
            assert response.status_code == 404, relpath
            assert "secret" not in response.text


def test_unknown_extension_is_octet_stream(demo: DemoFactory) -> None:
    site = demo({"static/zz-data.weird-extension": b"\x00\x01"})
    response = site.client().get("/static/zz-data.weird-extension")
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == b"\x00\x01"


def test_large_file_is_streamed_in_chunks(demo: DemoFactory) -> None:
    data = os.urandom(1024) * 3 * 1024  # 3 MiB
    site = demo({"static/zz-large.bin": data})
    client = site.client()
    response = client.get("/static/zz-large.bin")
    assert response.status_code == 200 and response.content == data
    ranged = client.get("/static/zz-large.bin", headers={"Range": "bytes=1000000-2999999"})
    assert ranged.status_code == 206 and ranged.content == data[1000000:3000000]

    environ: dict[str, object] = {
        "PATH_INFO": "/static/zz-large.bin",
        "wsgi.input": io.BytesIO(),
    }
    setup_testing_defaults(environ)
    started: list[str] = []
    assert site.app is not None
    body = site.app(environ, lambda status, headers, exc_info=None: started.append(status))
    try:
        chunks = [bytes(chunk) for chunk in body]
    finally:
        getattr(body, "close", lambda: None)()
    assert started == ["200 OK"]
    assert b"".join(chunks) == data
    assert len(chunks) > 1 and max(map(len, chunks)) < len(data) // 8


def test_vanished_file_is_404(demo: DemoFactory) -> None:
    site = demo({"static/zz-gone.css": "p {}"})
    (site.root / "static/zz-gone.css").unlink()
    response = site.client().get("/static/zz-gone.css")
    assert response.status_code == 404
    assert "<h1>Nothing here</h1>" in response.text


@pytest.mark.tincan(static=False)
def test_without_static_serving_only_pages_are_routed(
    tincan_client: httpx.Client, tincan_app: Webapp
) -> None:
    assert tincan_app.errors == 0
    assert tincan_client.get("/").status_code == 200
    assert tincan_client.get("/static/style.css").status_code == 404
    assert tincan_client.get("/docs/").status_code == 404
