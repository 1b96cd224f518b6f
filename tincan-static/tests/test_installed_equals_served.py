"""The installer and the server agree: install_static installs exactly the files
launch(static=True) routes as static, for any tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_core import launch
from tincan_static import install_static
from tincan_testing.plugin import WebappFactory
from tincan_testing.strategies import page_names, webapp_trees

names = st.one_of(
    st.text(alphabet="aZ_-~ '<>:é.", min_size=1, max_size=6),
    st.sampled_from(
        ["WEB-INF", "web-inf", "__pycache__", "__PyCache__", ".git", ".hidden", "x<y>", ":id"]
    ),
    page_names(),
).filter(lambda n: n not in (".", "..") and "/" not in n)
suffixes = st.sampled_from(
    [".css", ".png", ".txt", ".html", ".PY", ".Py", ".py", ".pyc", ".PYC", ".pt", ".PT",
     ".pspx", ".PSPX", ".Pspx", ".py.", ""]
)  # fmt: skip
relpaths = st.tuples(st.lists(names, min_size=1, max_size=3), suffixes).map(
    lambda t: "/".join(t[0]) + t[1]
)
links = st.tuples(relpaths, st.one_of(relpaths, st.sampled_from(["../outside.css", "../out"])))


def build(root: Path, files: list[str], symlinks: list[tuple[str, str]], outside: Path) -> None:
    (root / "WEB-INF").mkdir(parents=True)
    for relpath in files:
        path = root / relpath
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Any "page" gets a valid body: a page that fails to compile loses only its route.
            path.write_text("<p>x</p>\n" if relpath.endswith(".pspx") else relpath)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue
    for relpath, target in symlinks:
        path = root / relpath
        destination = outside / target[3:] if target.startswith("../") else root / target
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.relpath(destination, path.parent), path)
        except (FileExistsError, NotADirectoryError):
            continue


@settings(max_examples=40)
@given(
    files=st.lists(relpaths, min_size=1, max_size=10),
    symlinks=st.lists(links, max_size=3),
)
def test_property_installed_set_equals_served_set(
    tmp_path_factory: pytest.TempPathFactory,
    files: list[str],
    symlinks: list[tuple[str, str]],
) -> None:
    base = tmp_path_factory.mktemp("tree")
    outside = base / "outside"
    outside.mkdir()
    (outside / "outside.css").write_text("must never be installed")
    (outside / "out").mkdir()
    (outside / "out" / "deep.css").write_text("must never be installed")
    webapp = base / "webapp"
    build(webapp, files, symlinks, outside)
    app, _ = launch(webapp, static=True)
    assert app is not None
    served = {info.file for info in app.route_info if info.kind == "static"}
    target = base / "static"
    report = install_static(webapp, target)
    assert report.ok, report.errors
    installed = installed_files(target)
    assert installed == served
    for relpath in installed:
        data = (target / relpath).read_bytes()
        assert data != b"must never be installed"
        assert data == (webapp / relpath).read_bytes()


def installed_files(target: Path) -> set[str]:
    return {
        p.relative_to(target).as_posix()
        for p in target.rglob("*")
        if p.is_file() and p.name != ".tincan-static-manifest.json"
    }


@settings(max_examples=15)
@given(files=webapp_trees())
def test_property_valid_webapps_install_what_they_serve(
    tincan_webapp: WebappFactory,
    tmp_path_factory: pytest.TempPathFactory,
    files: dict[str, str | bytes],
) -> None:
    """Whole webapps as tincan-testing generates them: pages with code-behind,
    forwards, error pages, index files, private files at any depth, dot files."""
    webapp = tincan_webapp(files, static=True)  # fails the example on any launch error
    assert webapp.app is not None
    served = {info.file for info in webapp.app.route_info if info.kind == "static"}
    target = tmp_path_factory.mktemp("static")
    report = install_static(webapp.root, target)
    assert report.ok, report.errors
    assert installed_files(target) == served
    for relpath in served:
        assert (target / relpath).read_bytes() == (webapp.root / relpath).read_bytes()
    webapp.close()
