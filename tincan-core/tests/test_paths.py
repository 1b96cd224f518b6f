"""Path arithmetic and the literal routing of arbitrary file names."""

from __future__ import annotations

import posixpath
import unicodedata
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_core import (
    FileKind,
    TinCanError,
    classify,
    launch,
    resolve_url_path,
    resolve_webapp_path,
)
from tincan_core._paths import index_routes, normalize_urlroot, route_for
from tincan_testing.strategies import hostile_paths, page_names

segment = st.one_of(
    st.sampled_from([".", "..", "", "a", "b", "...", "WEB-INF", "x.pspx"]),
    st.text(st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=5),
)
relative_path = st.lists(segment, max_size=6).map("/".join)
page_path = st.lists(
    st.text(st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=5).filter(
        lambda s: s not in (".", "..")
    ),
    min_size=1,
    max_size=4,
).map("/".join)


# -- resolve_webapp_path -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("page", "path", "expected"),
    [
        ("a/b/page.pspx", "x.py", "a/b/x.py"),
        ("a/b/page.pspx", "/x.py", "x.py"),
        ("a/b/page.pspx", "../x.py", "a/x.py"),
        ("a/b/page.pspx", "../../x.py", "x.py"),
        ("a/b/page.pspx", "./c/./d/../x.py", "a/b/c/x.py"),
        ("a/b/page.pspx", "/WEB-INF/views/v.pspx", "WEB-INF/views/v.pspx"),
        ("page.pspx", "sub//x.py", "sub/x.py"),
        ("page.pspx", "/a/../b/x.py", "b/x.py"),
    ],
)
def test_resolve_webapp_path(page: str, path: str, expected: str) -> None:
    assert resolve_webapp_path(page, path) == expected


@pytest.mark.parametrize(
    ("page", "path"),
    [
        ("page.pspx", "../x.py"),
        ("a/page.pspx", "../../x.py"),
        ("a/page.pspx", "/../x.py"),
        ("a/b/page.pspx", "/a/../../x.py"),
        ("page.pspx", "/"),
        ("page.pspx", "."),
        ("a/p.pspx", ".."),
    ],
)
def test_resolve_webapp_path_above_or_at_the_root_is_an_error(page: str, path: str) -> None:
    with pytest.raises(TinCanError):
        resolve_webapp_path(page, path)


def _climbs_above(start_depth: int, path: str) -> bool:
    depth = start_depth
    for part in path.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return depth == 0


@given(page_path, relative_path, st.booleans())
def test_resolved_webapp_path_is_normal_and_inside(page: str, path: str, absolute: bool) -> None:
    path = "/" + path if absolute else path
    absolute = path.startswith("/")
    base = "/root/" + (posixpath.dirname(page) if not absolute else "")
    expected = posixpath.normpath(posixpath.join(base, path.lstrip("/")))
    start_depth = 0 if absolute else page.count("/")
    try:
        result = resolve_webapp_path(page, path)
    except TinCanError as exc:
        assert _climbs_above(start_depth, path)
        assert "outside the webapp" in str(exc)
        return
    assert not _climbs_above(start_depth, path)
    segments = result.split("/")
    assert ".." not in segments
    assert "." not in segments
    assert "" not in segments
    assert "/root/" + result == expected


# -- urlroot, routes ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("urlroot", "prefix"),
    [
        ("/", ""),
        ("//", ""),
        ("/app", "/app"),
        ("/app/", "/app"),
        ("/a/b//", "/a/b"),
        ("//a//b/", "/a/b"),
        ("/a/./b/.", "/a/b"),
        ("/my app/été/", "/my app/été"),
        ("/<x>/:y", "/<x>/:y"),
    ],
)
def test_normalize_urlroot(urlroot: str, prefix: str) -> None:
    assert normalize_urlroot(urlroot) == prefix


@pytest.mark.parametrize("urlroot", ["", "app", "app/", "./app"])
def test_urlroot_must_start_with_a_slash(urlroot: str) -> None:
    with pytest.raises(TinCanError, match="must start with '/'"):
        normalize_urlroot(urlroot)


@pytest.mark.parametrize("urlroot", ["/..", "/a/../b", "/a/.."])
def test_urlroot_must_not_climb(urlroot: str) -> None:
    with pytest.raises(TinCanError, match=r"must not contain '\.\.'"):
        normalize_urlroot(urlroot)


def test_route_and_index_routes() -> None:
    assert route_for("", "a b/<x>.pspx") == "/a b/<x>.pspx"
    assert route_for("/app", "index.pspx") == "/app/index.pspx"
    assert index_routes("", "index.pspx") == ["/"]
    assert index_routes("/app", "index.pspx") == ["/app/", "/app"]
    assert index_routes("", "d/e/index.html") == ["/d/e/", "/d/e"]
    assert index_routes("/app", "d/index.htm") == ["/app/d/", "/app/d"]


# -- resolve_url_path --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        ("/a/b.pspx", "c.pspx", "/a/c.pspx"),
        ("/a/b.pspx", "/c.pspx", "/c.pspx"),
        ("/a/b.pspx", "../c.pspx", "/c.pspx"),
        ("/a/b.pspx", "./d/../c.pspx", "/a/c.pspx"),
        ("/a/", "c.pspx", "/a/c.pspx"),
        ("/a/b.pspx", "sub/", "/a/sub/"),
        ("/a/b.pspx", ".", "/a/"),
        ("/a/b/c.pspx", "..", "/a/"),
        ("/a/b.pspx", "..", "/"),
        ("/a/b.pspx", "my page.pspx", "/a/my page.pspx"),
        ("/a/b.pspx", "été.pspx?x=1", "/a/été.pspx"),
        ("/b.pspx", "/", "/"),
    ],
)
def test_resolve_url_path(current: str, target: str, expected: str) -> None:
    assert resolve_url_path(current, target) == expected


@pytest.mark.parametrize(
    ("current", "target"),
    [("/b.pspx", "../x.pspx"), ("/a/b.pspx", "/../x"), ("/a/b.pspx", "../../x")],
)
def test_resolve_url_path_above_the_root_is_none(current: str, target: str) -> None:
    assert resolve_url_path(current, target) is None


@given(page_path.map(lambda p: "/" + p), relative_path, st.booleans())
def test_resolved_url_path_is_normal(current: str, target: str, absolute: bool) -> None:
    check_resolved_url_path(current, target, absolute)


@given(page_path.map(lambda p: "/" + p), hostile_paths(), st.booleans())
def test_hostile_targets_resolve_normal_or_not_at_all(
    current: str, hostile: str, absolute: bool
) -> None:
    """Request paths in disguise (``%2e%2e``, backslashes, NUL, over-long names) as
    forward targets, written absolute or relative."""
    check_resolved_url_path(current, hostile.lstrip("/"), absolute)


def check_resolved_url_path(current: str, target: str, absolute: bool) -> None:
    target = ("/" + target if absolute else target).replace("?", "")
    absolute = target.startswith("/")
    result = resolve_url_path(current, target)
    base = "/" if absolute else posixpath.dirname(current)
    start_depth = 0 if absolute else current.count("/") - 1
    climbs = _climbs_above(start_depth, target) and not _ends_at_depth(start_depth, target, 0)
    if result is None:
        assert climbs
        return
    assert not climbs
    assert result.startswith("/")
    assert "/../" not in result + "/"
    assert "/./" not in result + "/"
    assert "//" not in result
    expected = posixpath.normpath(posixpath.join("/r" + base, target.lstrip("/")))
    assert ("/r" + result).rstrip("/") == expected.rstrip("/")


def _ends_at_depth(start_depth: int, path: str, depth: int) -> bool:
    for part in path.split("/"):
        if part == "..":
            start_depth -= 1
            if start_depth < 0:
                return False
        elif part not in ("", "."):
            start_depth += 1
    return start_depth == depth


# -- routing of arbitrary file names -----------------------------------------------------
name_chars = st.characters(
    codec="utf-8",
    exclude_characters="/\x00",
    exclude_categories=["Cs"],
)
file_stem = st.one_of(
    st.text(name_chars, min_size=1, max_size=10),
    page_names().map(lambda name: name.removesuffix(".pspx")),
    st.sampled_from(
        [
            "<x>",
            "<x:int>",
            ":x",
            "<name:path>",
            "#frag",
            "%20",
            "%2e%2e",
            "a b",
            "?q=1",
            "a\\b",
            "\\..\\x",
            "ümlaut",
            "日本",
            "semi;colon",
            "+plus",
            "tab\tname",
            "*",
        ]
    ),
).filter(lambda s: not s.startswith(".") and s not in ("WEB-INF",) and "__pycache__" not in s)


def _clean(name: str) -> str:
    # One spelling per name: the file system keeps what it is given, so NFC or not
    # does not matter to the route, but the set of names must not collide.
    return unicodedata.normalize("NFC", name)


def _page_and_static(stem: str) -> bool:
    # A stem such as "0.PSPX" or "x.py" makes its ".txt" copy never-served (SPEC §1).
    return (
        classify(f"p/{stem}.pspx") is FileKind.PAGE
        and classify(f"s/{stem}.txt") is FileKind.STATIC
    )


def url_for(route: str) -> str:
    return quote(route, safe="/")


@settings(max_examples=25)
@given(
    st.lists(
        file_stem.map(_clean).filter(_page_and_static),
        min_size=1, max_size=4, unique_by=str.casefold,
    ),
    st.sampled_from(["/", "/app", "/my app/"]),
)  # fmt: skip
def test_arbitrary_file_names_are_routed_literally(
    make_webapp: Callable[..., Path],
    make_client: Callable[[object], httpx.Client],
    stems: list[str],
    urlroot: str,
) -> None:
    files: dict[str, str | bytes | None] = {}
    expected: dict[str, bytes] = {}
    prefix = urlroot.rstrip("/")
    for number, stem in enumerate(stems):
        page = f"p/{stem}.pspx"
        static = f"s/{stem}.txt"
        files[page] = f"<p>page {number}</p>"
        files[static] = f"static {number}"
        expected[f"{prefix}/{page}"] = f"<p>page {number}</p>".encode()
        expected[f"{prefix}/{static}"] = f"static {number}".encode()
    root = make_webapp(files)
    app, errors = launch(root, urlroot, static=True)
    assert errors == 0
    assert app is not None
    routes = set(app.router.literal)
    assert routes == set(expected)
    with make_client(app) as client:
        for route, body in expected.items():
            response = client.get(url_for(route))
            assert response.status_code == 200, route
            assert response.content == body
        # A name with rule syntax never acts as a wildcard.
        for probe in [f"{prefix}/p/anything.pspx", f"{prefix}/p/123.pspx", f"{prefix}/s/zz.txt"]:
            if probe not in expected:
                assert client.get(url_for(probe)).status_code == 404


def test_arbitrary_names_over_a_real_server(
    make_webapp: Callable[..., Path], serve_app: Callable[[object], str]
) -> None:
    names = ["<x>", ":id", "a b", "%41", "#hash", "été", "a\\b", "?q", "<path:p>"]
    root = make_webapp({f"{n}.pspx": f"<b>{i}</b>" for i, n in enumerate(names)})
    app, errors = launch(root, "/root/")
    assert errors == 0
    base = serve_app(app)
    with httpx.Client(base_url=base) as client:
        for i, name in enumerate(names):
            response = client.get(url_for(f"/root/{name}.pspx"))
            assert response.status_code == 200, name
            assert response.text == f"<b>{i}</b>"
        assert client.get("/root/other.pspx").status_code == 404
        assert client.get("/root/x.pspx").status_code == 404
        assert client.get("/root/%3Cy%3E.pspx").status_code == 404
