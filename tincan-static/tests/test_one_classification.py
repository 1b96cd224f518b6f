"""One classification, four places that apply it, and they agree on every file:

    classify() says static
    <=> install-static installs it
    <=> launch(static=True) serves it (GET answers 200 with its bytes)
    <=> the generated nginx and Apache rules do not refuse it

for trees full of names built to sit on the edges of the rules (source and backup
suffixes anywhere among the suffixes, ``~``, ``#name#``, ``WEB-INF`` copies, case
variants) and for whole webapps from tincan-testing with editor copies beside
their sources.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_core import FileKind, classify, launch
from tincan_static import Site, apache_config, install_static, nginx_config
from tincan_testing.plugin import WebappFactory
from tincan_testing.strategies import page_names, webapp_trees

MARKERS = [".py", ".PY", ".pyc", ".pyo", ".pyw", ".pyi", ".pyx", ".pt", ".pspx", ".Pspx",
           ".bak", ".BAK", ".orig", ".rej", ".swp", ".swo", "~", ".js", ".css", ".txt", ".",
           ".gz", ".min", ".python", ".ptx", ".bakery"]  # fmt: skip
stems = st.one_of(
    st.text(alphabet="aZ_-~ #é.<>:", min_size=1, max_size=6),
    st.sampled_from(["WEB-INF", "web-inf", "Web-Inf-old", "WEB-INF.bak", "__pycache__",
                     "index", "#index", "py", "x"]),
    page_names().map(lambda n: n.removesuffix(".pspx")),
)  # fmt: skip
names = (
    st.tuples(stems, st.lists(st.sampled_from(MARKERS), max_size=3), st.booleans())
    .map(lambda t: t[0] + "".join(t[1]) + ("#" if t[2] and t[0].startswith("#") else ""))
    .filter(lambda n: n not in (".", "..") and "/" not in n)
)
relpaths = st.lists(names, min_size=1, max_size=3).map("/".join)
urlroots = st.sampled_from(["/", "/site"])


def write(root: Path, files: Iterable[str]) -> dict[str, bytes]:
    """Write what fits (a name cannot be a file and a directory); a page gets a body
    that renders, every other file unique bytes."""
    (root / "WEB-INF").mkdir(parents=True, exist_ok=True)
    written: dict[str, bytes] = {}
    for relpath in files:
        path = root / relpath
        content = (
            b"#rem the source\n<p>page</p>\n"
            if relpath.endswith(".pspx")
            else f"FILE {relpath}\n".encode()
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                continue
            path.write_bytes(content)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue
        written[relpath] = content
    return {k: v for k, v in written.items() if (root / k).is_file()}


def get(app: Any, url: str) -> tuple[int, bytes]:
    """GET ``url`` straight through WSGI, the path exactly as a server would pass it."""
    environ = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "QUERY_STRING": "",
        "PATH_INFO": url.encode("utf-8").decode("latin-1"), "SERVER_NAME": "testserver",
        "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }  # fmt: skip
    status: list[str] = []
    body = app(environ, lambda s, h, e=None: status.append(s))
    try:
        data = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return int(status[0].split()[0]), data


def installed_files(target: Path) -> set[str]:
    return {
        p.relative_to(target).as_posix()
        for p in target.rglob("*")
        if p.is_file() and p.name != ".tincan-static-manifest.json"
    }


def check_agreement(
    servers: Any, webapp: Path, target: Path, files: dict[str, bytes], urlroot: str
) -> None:
    app, _ = launch(webapp, urlroot=urlroot, static=True)
    assert app is not None
    static_routes = {info.file for info in app.route_info if info.kind == "static"}
    report = install_static(webapp, target)
    assert report.ok, report.errors
    installed = installed_files(target)
    prefix = urlroot.rstrip("/")
    site = Site(urlroot=urlroot, static_dir="/srv/static", webapp="/srv/webapp")
    nginx = nginx_config(site)
    apache = apache_config(site)
    single = apache_config(site, single_directory=True)
    for relpath, content in files.items():
        kind = classify(relpath)
        static = kind is FileKind.STATIC
        url = f"{prefix}/{relpath}"
        status, body = get(app, url)
        # A page without header lines renders as its own text: judge it by its route.
        served = relpath in static_routes and status == 200 and body == content
        views = {
            "installed": relpath in installed,
            "served by launch(static=True)": served,
            "not refused by nginx": servers.nginx_outcome(nginx, url) == "none",
            "not refused by Apache (two directories)": (
                servers.apache_outcome(apache, url) != "deny" and kind is not FileKind.PAGE
            ),
            "not refused by Apache (one directory)": (
                servers.apache_outcome(single, url) == "none"
                and not servers.apache_file_denied(single, "/srv/webapp/" + relpath)
            ),
        }
        disagree = {view: said for view, said in views.items() if said is not static}
        assert not disagree, f"{relpath!r} is {kind.name}, but: {disagree}"
        if not static and kind is not FileKind.PAGE and len(content) >= 8:
            assert content not in body, f"{url!r} shows the file"
        if kind is FileKind.PAGE:
            assert servers.nginx_outcome(nginx, url) == "app", url


@settings(max_examples=100)
@given(files=st.lists(relpaths, min_size=1, max_size=10), urlroot=urlroots)
def test_property_edge_names_agree_everywhere(
    servers: Any, tmp_path_factory: pytest.TempPathFactory, files: list[str], urlroot: str
) -> None:
    base = tmp_path_factory.mktemp("edge")
    written = write(base / "webapp", files)
    check_agreement(servers, base / "webapp", base / "static", written, urlroot)


def editor_copies(files: dict[str, str | bytes]) -> dict[str, str | bytes]:
    """What an editor, a patch or a careless ``cp`` leaves beside a webapp's sources."""
    copies: dict[str, str | bytes] = {}
    for relpath, original in files.items():
        directory, _, name = relpath.rpartition("/")
        mark = f"\n# an editor's copy of {relpath}\n"
        content = original + (mark if isinstance(original, str) else mark.encode())
        at = f"{directory}/" if directory else ""
        if relpath.startswith("WEB-INF/"):
            copies["WEB-INF.bak/" + relpath.removeprefix("WEB-INF/")] = content
            continue
        for copy in (f"{name}~", f"#{name}#", f"{name}.bak", f"{name}.ORIG", f"{name}.swp"):
            copies[at + copy] = content
    return copies


@settings(max_examples=25)
@given(files=webapp_trees(), urlroot=urlroots)
def test_property_webapps_with_editor_copies_agree_everywhere(
    servers: Any,
    tincan_webapp: WebappFactory,
    tmp_path_factory: pytest.TempPathFactory,
    files: dict[str, str | bytes],
    urlroot: str,
) -> None:
    tree = {**files, **editor_copies(files)}
    webapp = tincan_webapp(tree, static=True, urlroot=urlroot)  # any launch error fails
    assert webapp.app is not None
    contents = {
        relpath: path.read_bytes() for relpath in tree if (path := webapp.root / relpath).is_file()
    }
    check_agreement(servers, webapp.root, tmp_path_factory.mktemp("static"), contents, urlroot)
    webapp.close()


@pytest.mark.parametrize(
    "relpath",
    ["index.py~", "page.pspx.bak", "x.py.orig", "#index.py#", "about.pspx.swp", "stats.py.BAK",
     "x.py.js", "WEB-INF.bak/lib/x.py", "Web-Inf-old/notes.txt", "WEB-INF.zip", "style.css.orig"],
)  # fmt: skip
def test_the_reported_copies_are_never_installed_served_or_let_through(
    servers: Any, tmp_path: Path, relpath: str
) -> None:
    written = write(tmp_path / "webapp", [relpath, "index.pspx", "style.css"])
    assert classify(relpath) is not FileKind.STATIC
    check_agreement(servers, tmp_path / "webapp", tmp_path / "static", written, "/")
    assert installed_files(tmp_path / "static") == {"style.css"}
