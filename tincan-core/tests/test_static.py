"""Static files through ``launch(static=True)``: types, validators, ranges, streaming."""

from __future__ import annotations

import email.utils
import errno
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_core import launch

DATA = bytes(range(256)) * 4  # 1024 bytes, every byte value
BIG = os.urandom(2 * 1024 * 1024 + 123)

FILES: dict[str, str | bytes | None] = {
    "style.css": "body { color: red }",
    "page.html": "<p>hi</p>",
    "notes.txt": "plain text",
    "image.png": b"\x89PNG\r\n\x1a\n" + bytes(100),
    "data.bin": DATA,
    "unknown.zzqq": b"???",
    "noext": b"no extension",
    "empty.txt": b"",
    "script.js": "var x;",
    "dir/deep/file.txt": "deep",
}


@pytest.fixture
def webapp(launch_webapp: Callable[..., Any]) -> Any:
    launched = launch_webapp(FILES, static=True)
    assert launched.errors == 0
    return launched


def test_static_is_off_by_default(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(FILES)
    assert webapp.get("/style.css").status_code == 404
    assert webapp.routes() == set()


def test_content_types(webapp: Any) -> None:
    expected = {
        "/style.css": "text/css; charset=utf-8",
        "/page.html": "text/html; charset=utf-8",
        "/notes.txt": "text/plain; charset=utf-8",
        "/image.png": "image/png",
        "/unknown.zzqq": "application/octet-stream",
        "/noext": "application/octet-stream",
        "/dir/deep/file.txt": "text/plain; charset=utf-8",
    }
    for path, content_type in expected.items():
        response = webapp.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == content_type, path
        assert "content-encoding" not in response.headers
    assert webapp.get("/script.js").headers["content-type"].split(";")[0] in (
        "application/javascript",
        "text/javascript",
    )


def test_body_and_length(webapp: Any) -> None:
    response = webapp.get("/data.bin")
    assert response.content == DATA
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["accept-ranges"] == "bytes"
    empty = webapp.get("/empty.txt")
    assert empty.status_code == 200
    assert empty.content == b""
    assert empty.headers["content-length"] == "0"


def test_charset_follows_the_encoding(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"a.txt": "x", "b.png": b"x"}, static=True, encoding="iso-8859-15")
    assert webapp.get("/a.txt").headers["content-type"] == "text/plain; charset=iso-8859-15"
    assert webapp.get("/b.png").headers["content-type"] == "image/png"


def test_last_modified_and_if_modified_since(webapp: Any) -> None:
    mtime = int(os.stat(webapp.root / "data.bin").st_mtime)
    response = webapp.get("/data.bin")
    assert response.headers["last-modified"] == email.utils.formatdate(mtime, usegmt=True)
    same = webapp.get(
        "/data.bin", headers={"If-Modified-Since": response.headers["last-modified"]}
    )
    assert same.status_code == 304
    assert same.content == b""
    later = email.utils.formatdate(mtime + 3600, usegmt=True)
    assert webapp.get("/data.bin", headers={"If-Modified-Since": later}).status_code == 304
    earlier = email.utils.formatdate(mtime - 3600, usegmt=True)
    assert webapp.get("/data.bin", headers={"If-Modified-Since": earlier}).status_code == 200
    assert webapp.get("/data.bin", headers={"If-Modified-Since": "garbage"}).status_code == 200


def test_modification_is_noticed(webapp: Any) -> None:
    first = webapp.get("/notes.txt")
    path = webapp.root / "notes.txt"
    path.write_text("changed text")
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 10))
    second = webapp.get("/notes.txt", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200
    assert second.text == "changed text"
    assert second.headers["etag"] != first.headers["etag"]
    assert second.headers["last-modified"] != first.headers["last-modified"]


def test_etag_and_if_none_match(webapp: Any) -> None:
    etag = webapp.get("/data.bin").headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = webapp.get("/data.bin", headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.headers["etag"] == etag
    assert webapp.get("/data.bin", headers={"If-None-Match": '"other"'}).status_code == 200
    # If-None-Match takes precedence over If-Modified-Since.
    last_modified = webapp.get("/data.bin").headers["last-modified"]
    response = webapp.get(
        "/data.bin", headers={"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=10-10", 10, 10),
        ("bytes=-100", 924, 1023),
        ("bytes=1000-", 1000, 1023),
        ("bytes=1000-5000", 1000, 1023),
        ("bytes=-5000", 0, 1023),
        ("bytes=0-", 0, 1023),
    ],
)
def test_ranges(webapp: Any, range_header: str, start: int, end: int) -> None:
    response = webapp.get("/data.bin", headers={"Range": range_header})
    assert response.status_code == 206
    assert response.content == DATA[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize("range_header", ["bytes=1024-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_range(webapp: Any, range_header: str) -> None:
    response = webapp.get("/data.bin", headers={"Range": range_header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(DATA)}"
    assert "1024" not in response.text.replace("*/1024", "")
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "range_header",
    [
        "bytes=0-1,5-6",
        "bytes=5-1",
        "items=0-1",
        "bytes=abc",
        "bytes=",
        "bytes=-",
        "bytes=+1-2",
        "bytes=1_0-20",
        "bytes= 1-2 3",
    ],
)
def test_multiple_or_malformed_ranges_get_the_whole_file(webapp: Any, range_header: str) -> None:
    response = webapp.get("/data.bin", headers={"Range": range_header})
    assert response.status_code == 200
    assert response.content == DATA
    assert "content-range" not in response.headers


def test_if_range(webapp: Any) -> None:
    full = webapp.get("/data.bin")
    etag, last_modified = full.headers["etag"], full.headers["last-modified"]
    for validator in (etag, last_modified):
        response = webapp.get("/data.bin", headers={"Range": "bytes=0-3", "If-Range": validator})
        assert response.status_code == 206
        assert response.content == DATA[:4]
    for validator in ('"stale"', f"W/{etag}", "Mon, 01 Jan 2001 00:00:00 GMT"):
        response = webapp.get("/data.bin", headers={"Range": "bytes=0-3", "If-Range": validator})
        assert response.status_code == 200
        assert response.content == DATA


def test_head(webapp: Any) -> None:
    get = webapp.get("/data.bin")
    head = webapp.request("HEAD", "/data.bin")
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified"):
        assert head.headers[name] == get.headers[name]


@pytest.mark.parametrize("path", ["/data.bin", "/notes.txt"])
def test_head_with_a_range_answers_as_a_plain_get(webapp: Any, path: str) -> None:
    # Ranges are defined for GET only (RFC 9110 §14.2): HEAD ignores the header.
    get = webapp.get(path)
    for range_header in ("bytes=0-9", "bytes=-1", "bytes=5000-"):
        head = webapp.request("HEAD", path, headers={"Range": range_header})
        assert head.status_code == 200, range_header
        assert head.content == b""
        assert "content-range" not in head.headers
        for name in ("content-type", "content-length", "etag", "last-modified", "accept-ranges"):
            assert head.headers[name] == get.headers[name], name


def test_only_get_and_head(webapp: Any) -> None:
    response = webapp.request("POST", "/style.css")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def _raw_get(app: Any, path: str, **environ: str) -> tuple[str, dict[str, str], Any]:
    """Call the WSGI app directly to see what it returns, before any client joins it."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"] = status
        captured["headers"] = dict(headers)

    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        **environ,
    }
    body = app(env, start_response)
    return captured["status"], captured["headers"], body


def test_large_file_is_streamed(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"big.bin": BIG}, static=True)
    status, headers, body = _raw_get(webapp.app, "/big.bin")
    assert status == "200 OK"
    assert headers["Content-Length"] == str(len(BIG))
    assert not isinstance(body, (bytes, list, tuple))
    chunks = []
    for chunk in body:
        assert len(chunk) < len(BIG)
        chunks.append(chunk)
    body.close()
    assert len(chunks) > 1
    assert b"".join(chunks) == BIG
    # A range of a large file is streamed too, and correct.
    status, headers, body = _raw_get(webapp.app, "/big.bin", HTTP_RANGE="bytes=1000000-")
    assert status.startswith("206")
    assert b"".join(body) == BIG[1000000:]
    body.close()
    assert webapp.get("/big.bin").content == BIG


def test_closing_an_unread_stream_closes_the_file(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"big.bin": BIG}, static=True)
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    for _ in range(5):
        _, _, body = _raw_get(webapp.app, "/big.bin")
        body.close()
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) <= before


@pytest.mark.parametrize("range_header", [None, "bytes=0-"])
def test_file_shrinking_after_the_stat_keeps_length_and_body_equal(
    webapp: Any, monkeypatch: pytest.MonkeyPatch, range_header: str | None
) -> None:
    # A file truncated between the stat and the read: the response must not promise
    # more bytes than it sends, or the client waits for bytes that never come.
    import tincan_core._static as static_module

    path = str(webapp.root / "data.bin")
    real_stat = os.stat

    def stat_then_truncate(name: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        result = real_stat(name, *args, **kwargs)
        if name == path:
            os.truncate(path, 100)
        return result

    monkeypatch.setattr(static_module.os, "stat", stat_then_truncate)
    extra = {"HTTP_RANGE": range_header} if range_header else {}
    status, headers, body = _raw_get(webapp.app, "/data.bin", **extra)
    data = b"".join(body) if not isinstance(body, bytes) else body
    assert status[:3] in ("200", "206")
    assert data == DATA[:100]
    assert headers["Content-Length"] == str(len(data))


def test_deleted_file_is_404(webapp: Any) -> None:
    (webapp.root / "notes.txt").unlink()
    response = webapp.get("/notes.txt")
    assert response.status_code == 404
    assert response.text == webapp.get("/never-existed.txt").text


@pytest.fixture
def unreadable(webapp: Any) -> Iterator[Path]:
    path = webapp.root / "notes.txt"
    os.chmod(path, 0)
    yield path
    os.chmod(path, 0o644)


def test_unreadable_file_is_403(webapp: Any, unreadable: Path) -> None:
    if os.access(unreadable, os.R_OK):
        pytest.skip("permissions are not enforced for this user (root)")
    assert webapp.get("/notes.txt").status_code == 403


def test_static_errors_go_through_error_pages(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "a.txt": "a",
            "404.pspx": "#errors 404\n<p>custom ${error.status_code}</p>",
            "416.pspx": "#errors 416\n<p>range ${error.status_code}</p>",
        },
        static=True,
    )
    (webapp.root / "a.txt").unlink()
    response = webapp.get("/a.txt")
    assert response.status_code == 404
    assert response.text == "<p>custom 404</p>"
    (webapp.root / "a.txt").write_text("abc")
    response = webapp.get("/a.txt", headers={"Range": "bytes=10-"})
    assert response.status_code == 416
    assert response.text == "<p>range 416</p>"


# -- index aliases -----------------------------------------------------------------------
def test_index_aliases_and_precedence(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "index.html": "<p>top html</p>",
            "index.htm": "<p>top htm</p>",
            "a/index.htm": "<p>a htm</p>",
            "b/index.pspx": "<p>b pspx</p>",
            "b/index.html": "<p>b html</p>",
            "b/index.htm": "<p>b htm</p>",
            "c/other.html": "<p>no index</p>",
            "d/index.pspx": "#hidden\n<p>hidden</p>",
            "d/index.html": "<p>d html</p>",
        },
        static=True,
    )
    assert webapp.errors == 0
    assert webapp.get("/").text == "<p>top html</p>"
    assert webapp.get("/a/").text == "<p>a htm</p>"
    assert (webapp.get("/a").status_code, webapp.get("/a").headers["location"]) == (301, "/a/")
    assert webapp.get("/b/").text == "<p>b pspx</p>"
    assert webapp.get("/b").headers["location"] == "/b/"
    assert webapp.get("/b/index.html").text == "<p>b html</p>"
    assert webapp.get("/c/").status_code == 404
    assert webapp.get("/c").status_code == 404
    assert webapp.get("/d/").text == "<p>d html</p>"
    messages = webapp.log.messages()
    assert "index index.htm is shadowed by index.html" in messages
    assert "index b/index.html is shadowed by b/index.pspx" in messages
    assert "index b/index.htm is shadowed by b/index.pspx" in messages
    assert not any("a/index.htm is shadowed" in m for m in messages)


def test_index_html_is_not_an_index_without_static(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"index.html": "<p>html</p>", "a/index.pspx": "<p>a</p>"})
    assert webapp.get("/").status_code == 404
    assert webapp.get("/a/").text == "<p>a</p>"


def test_sources_and_private_files_are_never_static(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "p.pspx": "<p>page</p>",
            "p.py": "from tincan import Page\nclass P(Page):\n    pass\n",
            "P.PY": "x = 1",
            "m.pt": "<p/>",
            "c.pyc": b"\0",
            "__pycache__/x.txt": "x",
            "WEB-INF/x.txt": "secret",
            "sub/web-inf/y.txt": "secret",
            ".hidden.txt": "secret",
            "ok.txt": "ok",
        },
        static=True,
    )
    assert webapp.routes() == {"/p.pspx", "/ok.txt"}


@settings(max_examples=60)
@given(
    st.integers(0, len(BIG) + 10), st.integers(0, len(BIG) + 10), st.sampled_from(["ab", "a", "b"])
)
def test_random_ranges_are_slices(big_webapp: Any, first: int, last: int, form: str) -> None:
    size = len(BIG)
    if form == "ab":
        header = f"bytes={min(first, last)}-{max(first, last)}"
        start, end = min(first, last), min(max(first, last), size - 1)
    elif form == "a":
        header = f"bytes={first}-"
        start, end = first, size - 1
    else:
        header = f"bytes=-{last}"
        start, end = max(0, size - last), size - 1
    response = big_webapp.get("/big.bin", headers={"Range": header})
    if start >= size or (form == "b" and last == 0):
        assert response.status_code == 416
        assert response.headers["content-range"] == f"bytes */{size}"
        return
    assert response.status_code == 206
    assert response.content == BIG[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{size}"


@pytest.fixture(scope="module")
def big_webapp(
    tmp_path_factory: pytest.TempPathFactory, make_client: Callable[[Any], Any]
) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("big")
    (root / "WEB-INF").mkdir()
    (root / "big.bin").write_bytes(BIG)
    app, errors = launch(root, static=True)
    assert errors == 0
    with make_client(app) as client:
        yield client


# -- compressed files --------------------------------------------------------------------
COMPRESSED = {
    "style.css.gz": "application/gzip",
    "bundle.js.gz": "application/gzip",
    "archive.tar.gz": "application/gzip",
    "archive.tgz": "application/gzip",
    "UPPER.GZ": "application/gzip",
    "plain.gz": "application/gzip",
    "drawing.svgz": "application/gzip",
    "style.css.br": "application/octet-stream",
    "page.html.br": "application/octet-stream",
    "data.json.bz2": "application/octet-stream",
    "archive.tar.xz": "application/octet-stream",
    "notes.txt.zst": "application/octet-stream",
    "old.tar.Z": "application/octet-stream",
}


def test_compressed_files_have_the_compressed_type(launch_webapp: Callable[..., Any]) -> None:
    # Sent as they are, without Content-Encoding: the inner type ("text/css" for
    # style.css.gz) would make a browser show compressed bytes as CSS.
    webapp = launch_webapp({name: b"\x1f\x8b\x08compressed" for name in COMPRESSED}, static=True)
    for name, content_type in COMPRESSED.items():
        for method in ("GET", "HEAD"):
            response = webapp.request(method, f"/{name}")
            assert response.status_code == 200, name
            assert response.headers["content-type"] == content_type, (method, name)
            assert "content-encoding" not in response.headers, name
    # The content is the file's, untouched.
    assert webapp.get("/style.css.gz").content == b"\x1f\x8b\x08compressed"


# -- preconditions (RFC 9110 §13) --------------------------------------------------------
def _validators(webapp: Any, path: str = "/data.bin") -> tuple[str, int]:
    response = webapp.get(path)
    mtime = email.utils.parsedate_to_datetime(response.headers["last-modified"]).timestamp()
    return response.headers["etag"], int(mtime)


def _date(seconds: int) -> str:
    return email.utils.formatdate(seconds, usegmt=True)


def test_if_match(webapp: Any) -> None:
    etag, _ = _validators(webapp)
    for header in (etag, "*", f'"other", {etag}', f' "a" ,, {etag} '):
        response = webapp.get("/data.bin", headers={"If-Match": header})
        assert response.status_code == 200, header
        assert response.content == DATA
    # A weak tag never matches strongly; a value that is no entity-tag list cannot hold.
    for header in ('"other"', f"W/{etag}", "garbage", f"{etag}x", '""'):
        response = webapp.get("/data.bin", headers={"If-Match": header})
        assert response.status_code == 412, header
        assert DATA not in response.content
        assert "etag" not in response.headers
    assert webapp.request("HEAD", "/data.bin", headers={"If-Match": '"x"'}).status_code == 412
    # Small files take a fast path: the precondition holds there too.
    assert webapp.get("/notes.txt", headers={"If-Match": '"x"'}).status_code == 412


def test_if_unmodified_since(webapp: Any) -> None:
    _, mtime = _validators(webapp)
    for seconds in (mtime, mtime + 3600):
        response = webapp.get("/data.bin", headers={"If-Unmodified-Since": _date(seconds)})
        assert response.status_code == 200
        assert response.content == DATA
    response = webapp.get("/data.bin", headers={"If-Unmodified-Since": _date(mtime - 1)})
    assert response.status_code == 412
    # An invalid date is ignored (§13.1.4).
    for garbage in ("garbage", "Sat, 01 Jan 10000 00:00:00 GMT", ""):
        response = webapp.get("/data.bin", headers={"If-Unmodified-Since": garbage})
        assert response.status_code == 200, garbage


def test_precondition_precedence(webapp: Any) -> None:
    etag, mtime = _validators(webapp)
    earlier, later = _date(mtime - 3600), _date(mtime + 3600)
    cases: list[tuple[dict[str, str], int]] = [
        # If-Match decides; If-Unmodified-Since is then ignored (§13.1.4).
        ({"If-Match": etag, "If-Unmodified-Since": earlier}, 200),
        ({"If-Match": '"x"', "If-Unmodified-Since": later}, 412),
        # A failed If-Match/If-Unmodified-Since is 412 before If-None-Match is looked at.
        ({"If-Match": '"x"', "If-None-Match": etag}, 412),
        ({"If-Unmodified-Since": earlier, "If-Modified-Since": later}, 412),
        ({"If-Unmodified-Since": earlier, "Range": "bytes=0-1"}, 412),
        # Then If-None-Match, which makes If-Modified-Since ignored.
        ({"If-Match": etag, "If-None-Match": etag}, 304),
        ({"If-Unmodified-Since": later, "If-Modified-Since": later}, 304),
        ({"If-None-Match": '"x"', "If-Modified-Since": later}, 200),
        # A 304 wins over a range.
        ({"If-None-Match": etag, "Range": "bytes=0-1"}, 304),
        ({"If-Match": etag, "Range": "bytes=0-1"}, 206),
    ]
    for headers, status in cases:
        response = webapp.get("/data.bin", headers=headers)
        assert response.status_code == status, headers


def test_412_goes_through_error_pages(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {"a.txt": "a", "412.pspx": "#errors 412\n<p>${error.status_code}: ${error.body}</p>"},
        static=True,
    )
    response = webapp.get("/a.txt", headers={"If-Match": '"stale"'})
    assert response.status_code == 412
    assert response.text == "<p>412: No further details available.</p>"


# -- Cache-Control -----------------------------------------------------------------------
def test_no_cache_control_by_default(webapp: Any) -> None:
    assert "cache-control" not in webapp.get("/notes.txt").headers
    assert "cache-control" not in webapp.get("/data.bin", headers={"Range": "bytes=0-1"}).headers


def test_cache_control_is_configurable(launch_webapp: Callable[..., Any]) -> None:
    value = "public, max-age=3600"
    webapp = launch_webapp({**FILES, "big.bin": BIG}, static=True, static_cache_control=value)
    plain = webapp.get("/notes.txt")
    assert plain.headers["cache-control"] == value
    etag = plain.headers["etag"]
    responses = {
        "fast path": plain,
        "large": webapp.get("/big.bin"),
        "range": webapp.get("/data.bin", headers={"Range": "bytes=0-1"}),
        "head": webapp.request("HEAD", "/data.bin"),
        "304": webapp.get("/notes.txt", headers={"If-None-Match": etag}),
        "index": webapp.get("/dir/deep/file.txt"),
    }
    for what, response in responses.items():
        assert response.status_code in (200, 206, 304), what
        assert response.headers["cache-control"] == value, what
    assert responses["304"].status_code == 304
    # Pages are not static files: their caching is theirs.
    assert "cache-control" not in webapp.get("/never-existed.txt").headers


def test_cache_control_from_the_settings_file(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "a.css": "x",
            "p.pspx": "<p>page</p>",
            "WEB-INF/tincan.toml": 'static_cache_control = "no-cache"\n',
        },
        static=True,
    )
    assert webapp.errors == 0
    assert webapp.get("/a.css").headers["cache-control"] == "no-cache"
    assert "cache-control" not in webapp.get("/p.pspx").headers
    # A launch keyword overrides the file.
    webapp = launch_webapp(
        {"a.css": "x", "WEB-INF/tincan.toml": 'static_cache_control = "no-cache"\n'},
        static=True,
        static_cache_control="max-age=60",
    )
    assert webapp.get("/a.css").headers["cache-control"] == "max-age=60"


# -- errors tell nothing of the file system ----------------------------------------------
ERROR_PAGES = {
    f"{code}.pspx": f"#errors {code}\n<p>{code} [${{error.body}}] [${{error.exception}}]</p>"
    for code in (403, 404, 500)
}


def _shows_no_details(response: Any, code: int, root: Path) -> None:
    assert response.status_code == code
    assert response.text == f"<p>{code} [No further details available.] []</p>"
    assert str(root) not in response.text


def test_vanished_file_error_body(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"a.txt": "a", "d/b.bin": BIG, **ERROR_PAGES}, static=True)
    (webapp.root / "a.txt").unlink()
    _shows_no_details(webapp.get("/a.txt"), 404, webapp.root)
    # A file where its directory was.
    (webapp.root / "d" / "b.bin").unlink()
    (webapp.root / "d").rmdir()
    (webapp.root / "d").write_text("now a file")
    _shows_no_details(webapp.get("/d/b.bin"), 404, webapp.root)
    assert webapp.log.errors() == []


def test_fifo_where_the_file_was_is_never_opened(launch_webapp: Callable[..., Any]) -> None:
    # Opening a FIFO blocks until a writer comes: the request would hang.
    webapp = launch_webapp({"a.txt": "a", **ERROR_PAGES}, static=True)
    (webapp.root / "a.txt").unlink()
    os.mkfifo(webapp.root / "a.txt")
    _shows_no_details(webapp.get("/a.txt"), 500, webapp.root)
    assert webapp.log.errors() == [
        f"{webapp.root / 'a.txt'}: cannot serve: not a regular file any more"
    ]


def test_forbidden_file_error_body(
    launch_webapp: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tincan_core._static as static_module

    webapp = launch_webapp({"a.txt": "a", "b.bin": BIG, **ERROR_PAGES}, static=True)
    forbidden = {str(webapp.root / "a.txt"), str(webapp.root / "b.bin")}
    real_os_open = os.open

    def os_open(path: str, *args: Any, **kwargs: Any) -> int:
        if path in forbidden:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_os_open(path, *args, **kwargs)

    def builtin_open(path: str, mode: str) -> Any:
        if path in forbidden:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return open(path, mode)

    # As root, chmod 0 forbids nothing: the denial comes from the calls themselves.
    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(static_module, "open", builtin_open, raising=False)
    _shows_no_details(webapp.get("/a.txt"), 403, webapp.root)
    _shows_no_details(webapp.get("/b.bin"), 403, webapp.root)
    _shows_no_details(webapp.get("/a.txt", headers={"Range": "bytes=0-0"}), 403, webapp.root)
    assert webapp.log.errors() == []


class _FailingFile:
    """What ``open()`` gives for a file whose disk fails: every read is EIO."""

    def __init__(self, path: str, mode: str) -> None:
        self.path = path

    def __enter__(self) -> _FailingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def close(self) -> None:
        pass

    def seek(self, offset: int) -> None:
        pass

    def read(self, size: int = -1) -> bytes:
        raise OSError(errno.EIO, "Input/output error", self.path)


@pytest.mark.parametrize("headers", [{}, {"Range": "bytes=0-0"}])
def test_unreadable_file_is_a_logged_500_without_details(
    launch_webapp: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, headers: dict[str, str]
) -> None:
    import tincan_core._static as static_module

    webapp = launch_webapp({"a.txt": "a", **ERROR_PAGES}, static=True)
    path = str(webapp.root / "a.txt")
    inode = os.stat(path).st_ino
    real_read = os.read

    def read(fd: int, size: int) -> bytes:
        if os.fstat(fd).st_ino == inode:
            raise OSError(errno.EIO, "Input/output error", path)
        return real_read(fd, size)

    monkeypatch.setattr(os, "read", read)
    monkeypatch.setattr(static_module, "open", _FailingFile, raising=False)
    _shows_no_details(webapp.get("/a.txt", headers=headers), 500, webapp.root)
    assert any("a.txt: cannot serve:" in message for message in webapp.log.errors())
