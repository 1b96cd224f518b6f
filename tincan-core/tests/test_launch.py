"""``launch()`` as SPEC §8 describes it: results, logging, config, sys.path, encodings."""

from __future__ import annotations

import logging
import os
import stat
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import tincan
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_core import launch

PAGE_CODE = """
from tincan import Page

class Hello(Page):
    def handle(self):
        self.greeting = "hello " + self.request.query.get("name", "world")
"""
RAISING_CODE = """
from tincan import Page

class Boom(Page):
    def handle(self):
        raise RuntimeError("kaboom")
"""


@pytest.fixture
def clean_sys_path() -> Iterator[None]:
    saved = list(sys.path)
    yield
    sys.path[:] = saved


@pytest.fixture
def root_records() -> Iterator[list[logging.LogRecord]]:
    """Every record that reaches the root logger while the test runs, at any level."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if not record.name.startswith(("httpx", "httpcore")):  # the test client's own
                records.append(record)

    root = logging.getLogger()
    handler = Keep(logging.DEBUG)
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(old_level)


# -- unusable trees ----------------------------------------------------------------------
def test_missing_directory(tmp_path: Path, new_logger: Callable[..., Any]) -> None:
    logger, capture = new_logger()
    assert launch(tmp_path / "nope", logger=logger) == (None, 1)
    assert capture.errors() == [f"{tmp_path / 'nope'}: not a directory"]


def test_file_instead_of_directory(tmp_path: Path, new_logger: Callable[..., Any]) -> None:
    (tmp_path / "file").write_text("x")
    logger, capture = new_logger()
    assert launch(tmp_path / "file", logger=logger) == (None, 1)
    assert len(capture.errors()) == 1


def test_no_web_inf(make_webapp: Callable[..., Path], new_logger: Callable[..., Any]) -> None:
    root = make_webapp({"index.pspx": "x", "web-inf/lib/x.py": ""}, web_inf=False)
    logger, capture = new_logger()
    assert launch(root, logger=logger) == (None, 1)
    assert capture.errors() == [f"{root}: no WEB-INF directory, not a webapp"]


def test_web_inf_must_be_a_directory(tmp_path: Path, new_logger: Callable[..., Any]) -> None:
    (tmp_path / "WEB-INF").write_text("not a dir")
    logger, capture = new_logger()
    assert launch(tmp_path, logger=logger) == (None, 1)
    assert len(capture.errors()) == 1


@pytest.mark.parametrize("urlroot", ["", "app", "app/"])
def test_relative_urlroot(
    make_webapp: Callable[..., Path], new_logger: Callable[..., Any], urlroot: str
) -> None:
    logger, capture = new_logger()
    assert launch(make_webapp(), urlroot, logger=logger) == (None, 1)
    assert capture.errors() == [f"urlroot {urlroot!r} must start with '/'"]


@pytest.mark.parametrize("encoding", ["no-such-codec", "base64", "rot13", "zlib"])
def test_unknown_or_non_text_encoding(
    make_webapp: Callable[..., Path], new_logger: Callable[..., Any], encoding: str
) -> None:
    logger, capture = new_logger()
    root = make_webapp({"index.pspx": "<p>x</p>"})
    assert launch(root, logger=logger, encoding=encoding) == (None, 1)
    assert len(capture.errors()) == 1
    assert encoding in capture.errors()[0]


def test_unknown_keyword_is_a_type_error(make_webapp: Callable[..., Path]) -> None:
    with pytest.raises(TypeError):
        launch(make_webapp(), debugging=True)
    with pytest.raises(TypeError):
        launch(make_webapp(), "/", True, None)  # type: ignore[misc]


def test_fsroot_defaults_to_the_current_directory(
    make_webapp: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_webapp({"here.pspx": "<p>here</p>"})
    monkeypatch.chdir(root)
    app, errors = launch()
    assert errors == 0
    assert app is not None
    assert app.config["tincan.fsroot"] == str(root)
    monkeypatch.chdir(root.parent)  # relative file names must not matter after launch
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        assert client.get("/here.pspx").text == "<p>here</p>"


def test_relative_fsroot(
    make_webapp: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    new_logger: Callable[..., Any],
    clean_sys_path: None,
) -> None:
    root = make_webapp(
        {
            "a.pspx": "<p>a</p>",
            "WEB-INF/tlib/l.pt": "<b metal:define-macro='m'>L</b>",
            "b.pspx": "#load <l.pt>\n<i metal:use-macro='l.macros.m'/>",
            "bad.pspx": "#bogus\n",
        }
    )
    monkeypatch.chdir(root.parent)
    logger, capture = new_logger()
    app, errors = launch(root.name, logger=logger)
    assert errors == 1
    assert capture.errors() == [f"{root / 'bad.pspx'}:1: unknown directive #bogus"]
    assert app is not None
    assert app.config["tincan.fsroot"] == str(root)
    monkeypatch.chdir("/")
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        assert client.get("/a.pspx").text == "<p>a</p>"
        assert client.get("/b.pspx").text == "<b>L</b>"


# -- silence and logging -----------------------------------------------------------------
BROKEN_TREE: dict[str, str | bytes | None] = {
    "ok.pspx": "<p tal:content='page.greeting'>x</p>",
    "ok.py": PAGE_CODE,
    "boom.pspx": "<p>never</p>",
    "boom.py": RAISING_CODE,
    "bad-header.pspx": "#bogus\n<p/>",
    "bad-template.pspx": "<p tal:content='x'</p>",
    "bad-code.pspx": "<p/>",
    "bad-code.py": "def (:\n",
    "bad-import.pspx": "<p/>",
    "bad-import.py": "import no_such_module_anywhere\n",
    "escape.pspx": "<p/>",
    "escape.py": "from tincan import Page\nPATTERN = '\\d+'\nclass P(Page):\n    pass\n",
    "render-error.pspx": "<p tal:content='page.missing'>x</p>",
    "loop.pspx": "#forward loop.pspx\n",
    "dangling.txt": None,
}


def test_completely_silent_without_a_logger(
    make_webapp: Callable[..., Path],
    capfd: pytest.CaptureFixture[str],
    root_records: list[logging.LogRecord],
    tmp_path: Path,
) -> None:
    files = {k: v for k, v in BROKEN_TREE.items() if v is not None}
    root = make_webapp(files)
    (root / "dangling.txt").symlink_to("nowhere")
    (root / "out.txt").symlink_to(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app, errors = launch(root, static=True)
        assert app is not None
        assert errors == 5
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
            assert client.get("/ok.pspx").text == "<p>hello world</p>"
            assert client.get("/boom.pspx").status_code == 500
            assert client.get("/render-error.pspx").status_code == 500
            assert client.get("/missing.pspx").status_code == 404
            assert client.post("/ok.pspx").status_code == 405
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""
    assert root_records == []
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize("pages", [1, 8])  # 8: compiled in forked worker processes
def test_warnings_while_compiling_templates_never_reach_stderr(
    make_webapp: Callable[..., Path],
    new_logger: Callable[..., Any],
    capfd: pytest.CaptureFixture[str],
    pages: int,
) -> None:
    files = {f"p{n}.pspx": f"<p>${{'\\d{n}'}}</p>" for n in range(pages)}
    logger, capture = new_logger()
    for log in (None, logger):
        root = make_webapp(files)  # a fresh tree: compiled again, not reused
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            app, errors = launch(root, logger=log)
        assert errors == 0
        assert app is not None
        assert [str(w.message) for w in caught] == []
        assert capfd.readouterr() == ("", "")
        if log is not None:  # compiled here or in a worker: logged, naming file and line
            warned = [r.getMessage() for r in capture.records if r.levelno == logging.WARNING]
            assert len(warned) == pages
            assert {m.split(":1: ", 1)[0] for m in warned} == {
                str(root / f"p{n}.pspx") for n in range(pages)
            }
            assert all(m.endswith("Warning: invalid escape sequence '\\d'") for m in warned)
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
            assert client.get("/p0.pspx").text == "<p>\\d0</p>"


def test_info_logs_routes_and_problems_but_no_requests(
    launch_webapp: Callable[..., Any],
) -> None:
    files = {k: v for k, v in BROKEN_TREE.items() if v is not None}
    files["style.css"] = "b{}"
    webapp = launch_webapp(files, static=True)
    assert webapp.errors == 5
    records = webapp.log.records
    assert all(r.levelno >= logging.INFO for r in records)
    infos = [r.getMessage() for r in records if r.levelno == logging.INFO]
    assert all(m.startswith(("route ", "index ")) for m in infos), infos
    assert "route GET /ok.pspx -> ok.pspx" in infos
    assert "route GET /style.css -> style.css" in infos
    errors = webapp.log.errors()
    assert len(errors) == 5
    for message in errors:
        assert message.startswith(str(webapp.root))
        assert "Traceback" not in message
        assert "\n" not in message
    assert all(r.exc_info is None for r in records if r.levelno >= logging.ERROR)
    warned = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert len(warned) == 1
    assert warned[0].startswith(f"{webapp.root / 'escape.py'}:2: ")
    assert warned[0].endswith("Warning: invalid escape sequence '\\d'")
    # The compile errors name file and line.
    by_file = {m.split(":", 1)[0]: m for m in errors}
    assert by_file[str(webapp.root / "bad-header.pspx")].startswith(
        f"{webapp.root / 'bad-header.pspx'}:1: unknown directive #bogus"
    )
    assert by_file[str(webapp.root / "bad-code.py")].startswith(
        f"{webapp.root / 'bad-code.py'}:1: "
    )
    assert "bad-template.pspx:1: " in by_file[str(webapp.root / "bad-template.pspx")]
    webapp.log.clear()
    for _ in range(3):
        assert webapp.get("/ok.pspx").status_code == 200
        assert webapp.get("/style.css").status_code == 200
        assert webapp.get("/missing.pspx").status_code == 404
        assert webapp.request("DELETE", "/ok.pspx").status_code == 405
    assert webapp.log.records == []
    # A failing page is an exceptional event: logged once per failure, with its traceback.
    assert webapp.get("/boom.pspx").status_code == 500
    assert len(webapp.log.records) == 1
    record = webapp.log.records[0]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert "kaboom" in str(record.exc_info[1])


def test_debug_adds_tracebacks_for_launch_errors(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "bad-code.pspx": "<p/>",
            "bad-code.py": "raise ValueError('at import')\n",
            "bad-header.pspx": "#python\n",
        },
        level=logging.DEBUG,
    )
    assert webapp.errors == 2
    errors = [r for r in webapp.log.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2
    code_error = next(r for r in errors if "bad-code.py" in r.getMessage())
    assert code_error.getMessage() == (
        f"{webapp.root / 'bad-code.py'}:1: code-behind failed to load: ValueError: at import"
    )
    assert code_error.exc_info is not None
    assert isinstance(code_error.exc_info[1], ValueError)
    header_error = next(r for r in errors if "bad-header" in r.getMessage())
    assert header_error.exc_info is not None


# -- configuration -----------------------------------------------------------------------
def test_app_config(make_webapp: Callable[..., Path], new_logger: Callable[..., Any]) -> None:
    logger, _ = new_logger()
    root = make_webapp({"a.pspx": "a"})
    app, errors = launch(root, "/shop/", logger=logger, encoding="latin-1")
    assert errors == 0
    assert isinstance(app, tincan.TinCan)
    assert app.config["tincan.fsroot"] == str(root)
    assert app.config["tincan.urlroot"] == "/shop"
    assert app.config["tincan.logger"] is logger
    assert app.config["tincan.encoding"] == "latin-1"


def test_web_inf_lib_is_importable_and_added_once(
    make_webapp: Callable[..., Path], clean_sys_path: None
) -> None:
    root = make_webapp(
        {
            "WEB-INF/lib/launch_test_helper_mod.py": "GREETING = 'from lib'\n",
            "p.pspx": "<p tal:content='page.text'/>",
            "p.py": "from tincan import Page\nimport launch_test_helper_mod as h\n"
            "class P(Page):\n    text = h.GREETING\n",
        }
    )
    lib = os.path.realpath(root / "WEB-INF" / "lib")
    for _ in range(3):
        app, errors = launch(root)
        assert errors == 0
    assert sys.path.count(lib) == 1
    other = make_webapp({"WEB-INF/lib/x.txt": ""})
    launch(other)
    assert sys.path.count(os.path.realpath(other / "WEB-INF" / "lib")) == 1
    assert sys.path.count(lib) == 1
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        assert client.get("/p.pspx").text == "<p>from lib</p>"
    sys.modules.pop("launch_test_helper_mod", None)


def test_web_inf_lib_is_created_if_missing(
    make_webapp: Callable[..., Path], clean_sys_path: None
) -> None:
    root = make_webapp({"a.pspx": "a"})
    assert not (root / "WEB-INF" / "lib").exists()
    launch(root)
    assert (root / "WEB-INF" / "lib").is_dir()


def _make_read_only(root: Path) -> list[Path]:
    changed = []
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        os.chmod(path, mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        changed.append(path)
    return changed


def test_read_only_tree_still_launches(
    make_webapp: Callable[..., Path], clean_sys_path: None
) -> None:
    root = make_webapp(
        {
            "index.pspx": "#load <layout.pt>\n<p tal:content='page.text'>x</p>",
            "index.py": "from tincan import Page\nclass P(Page):\n    text = 'ro'\n",
            "WEB-INF/tlib/layout.pt": "<div metal:define-macro='m'/>",
        }
    )
    changed = _make_read_only(root)
    try:
        if os.access(root, os.W_OK):
            pytest.skip("permissions are not enforced for this user (root)")
        app, errors = launch(root)
        assert errors == 0
        assert app is not None
        assert not (root / "WEB-INF" / "lib").exists()
        assert not (root / "__pycache__").exists()
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
            assert client.get("/").text == "<p>ro</p>"
    finally:
        for path in changed:
            os.chmod(path, path.stat().st_mode | stat.S_IWUSR)


# -- encodings ---------------------------------------------------------------------------
def test_latin1_encoding(make_webapp: Callable[..., Path], client_for: Callable[..., Any]) -> None:
    root = make_webapp(
        {
            "p.pspx": "#rem caf\xe9\n<p>caf\xe9 \xfcber</p>".encode("latin-1"),
            "WEB-INF/tlib/l.pt": "<b metal:define-macro='m'>\xe9t\xe9</b>".encode("latin-1"),
            "q.pspx": "#load <l.pt>\n<i metal:use-macro='l.macros.m'/>",
            "notes.txt": "caf\xe9".encode("latin-1"),
        }
    )
    app, errors = launch(root, encoding="latin-1", static=True)
    assert errors == 0
    client = client_for(app)
    response = client.get("/p.pspx")
    assert response.text == "<p>café über</p>"
    assert client.get("/q.pspx").text == "<b>été</b>"
    notes = client.get("/notes.txt")
    assert notes.headers["content-type"] == "text/plain; charset=latin-1"
    assert notes.content == "café".encode("latin-1")


def test_undecodable_page_is_an_error_with_its_line(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"bad.pspx": b"<p>\n<p>caf\xe9</p>", "good.pspx": "<p>ok</p>"})
    assert webapp.errors == 1
    assert webapp.log.errors()[0].startswith(
        f"{webapp.root / 'bad.pspx'}:2: cannot decode as utf-8"
    )
    assert webapp.get("/good.pspx").text == "<p>ok</p>"
    assert webapp.get("/bad.pspx").status_code == 404


@pytest.mark.parametrize("newline", [b"\r", b"\r\n", b"\n"])
def test_undecodable_line_is_counted_with_universal_newlines(
    launch_webapp: Callable[..., Any], newline: bytes
) -> None:
    page = newline.join([b"#rem", b"<p>", b"caf\xe9</p>"])
    webapp = launch_webapp({"bad.pspx": page})
    assert webapp.log.errors()[0].startswith(f"{webapp.root / 'bad.pspx'}:3: cannot decode")


def test_byte_order_mark_is_ignored(launch_webapp: Callable[..., Any]) -> None:
    bom = b"\xef\xbb\xbf"
    webapp = launch_webapp(
        {
            "a.pspx": bom + b"#hidden\n<p>a</p>",
            "b.pspx": bom + "<p>\u00e9</p>".encode(),
            "c.pspx": bom + b"#forward a.pspx\n",
            "WEB-INF/tlib/l.pt": bom + b"<b metal:define-macro='m'>L</b>",
            "d.pspx": "#load <l.pt>\n<i metal:use-macro='l.macros.m'/>",
        }
    )
    assert webapp.errors == 0
    assert webapp.get("/a.pspx").status_code == 404
    assert webapp.get("/b.pspx").content == "<p>é</p>".encode()
    assert webapp.get("/c.pspx").text == "<p>a</p>"
    assert webapp.get("/d.pspx").text == "<b>L</b>"
    latin = launch_webapp({"e.pspx": bom + "<p>\xe9</p>".encode("latin-1")}, encoding="latin-1")
    assert latin.get("/e.pspx").text == "<p>é</p>"


# -- urlroot -----------------------------------------------------------------------------
@pytest.mark.parametrize("urlroot", ["/app", "/app/", "/app//"])
def test_urlroot_prefix(launch_webapp: Callable[..., Any], urlroot: str) -> None:
    webapp = launch_webapp(
        {"index.pspx": "<p>home</p>", "sub/index.pspx": "<p>sub</p>", "sub/x.pspx": "<p>x</p>"},
        urlroot=urlroot,
    )
    assert webapp.routes() == {
        "/app/index.pspx",
        "/app/",
        "/app",
        "/app/sub/index.pspx",
        "/app/sub/",
        "/app/sub",
        "/app/sub/x.pspx",
    }
    assert webapp.get("/app/").text == "<p>home</p>"
    assert webapp.get("/app").headers["location"] == "/app/"
    assert webapp.get("/app/sub").headers["location"] == "/app/sub/"
    assert webapp.get("/app/sub/").text == "<p>sub</p>"
    assert webapp.get("/app/sub/x.pspx").text == "<p>x</p>"
    assert webapp.get("/index.pspx").status_code == 404
    assert webapp.get("/app//sub/x.pspx").status_code == 404


@pytest.mark.parametrize(
    ("urlroot", "configured"),
    [("/", "/"), ("//", "/"), ("/app", "/app"), ("/app/", "/app"), ("/a//b/", "/a/b")],
)
def test_config_urlroot_is_the_normalised_urlroot_without_trailing_slash(
    launch_webapp: Callable[..., Any], urlroot: str, configured: str
) -> None:
    # Links built the way TinCan 0.1 webapps build them: urlroot + "/name".
    link = (
        "from tincan import Page\nclass P(Page):\n    def handle(self):\n"
        "        self.link = self.request.app.config['tincan.urlroot'].rstrip('/') + '/b.pspx'\n"
        "        self.joined = self.request.app.config['tincan.urlroot'] + '/b.pspx'\n"
    )
    webapp = launch_webapp(
        {"a.pspx": "<a href='${link}'>${joined}</a>", "a.py": link, "b.pspx": "<p>b</p>"},
        urlroot=urlroot,
    )
    assert webapp.app.config["tincan.urlroot"] == configured
    page = webapp.get(configured.rstrip("/") + "/a.pspx").text
    prefix = configured.rstrip("/")
    assert page == f"<a href='{prefix}/b.pspx'>{configured}/b.pspx</a>"
    if configured != "/":
        # The original's way of joining gives a working link below a prefix.
        assert webapp.get(f"{configured}/b.pspx").text == "<p>b</p>"


# -- a webapp written for TinCan 0.1 (issue 8) -------------------------------------------
ORIGINAL_STYLE_TREE: dict[str, str | bytes | None] = {
    "WEB-INF/tlib/my layout.pt": "<div metal:define-macro='page'><b metal:define-slot='body'/>"
    "</div>",
    "index.pspx": "#load \"<my layout.pt>\"\n#methods 'GET POST'\n"
    "<div metal:use-macro=\"python: econtext['my layout'].macros['page']\">"
    "<b metal:fill-slot='body'><a href='${page.request.app.config[\"tincan.urlroot\"]}"
    "/old.pspx'>old</a></b></div>",
    "index.py": "from tincan import Page\n",
    "old.pspx": b"#hidden # kept for old links\r#rem saved on a classic Mac\r<p>old</p>\r",
    "link.pspx": "#forward old.pspx\n#template unused.html\n#methods GET\n",
    "404.pspx": "#errors '+404 0500'\n<p>${error.status_code}</p>",
    "mixed.pspx": "<p>${page.__class__.__name__}</p>",
    "mixed.py": "from tincan import Page\nclass Base(Page): pass\nclass Mixin(Page): pass\n"
    "class Middle(Base): pass\nclass A(Mixin, Middle): pass\nclass Deep(Middle): pass\n",
}


def test_a_tree_the_original_launched_launches_without_errors(
    launch_webapp: Callable[..., Any],
) -> None:
    # What the compatible launch command checks: no error, so it serves the tree.
    webapp = launch_webapp(ORIGINAL_STYLE_TREE, urlroot="/app/")
    assert webapp.errors == 0, webapp.log.errors()
    assert webapp.get("/app/").text == "<div><b><a href='/app/old.pspx'>old</a></b></div>"
    assert webapp.request("POST", "/app/").status_code == 200
    assert webapp.get("/app/old.pspx").status_code == 404
    assert webapp.get("/app/link.pspx").text == "<p>old</p>\n"
    assert webapp.get("/app/mixed.pspx").text == "<p>Deep</p>"
    assert webapp.get("/app/nowhere").text == "<p>404</p>"
    assert len(webapp.log.messages(logging.WARNING)) == 3  # the ignored header lines


# -- deployment --------------------------------------------------------------------------
DEPLOYMENT = """
import logging, tincan
logger = logging.getLogger("webapp")
application, errors = tincan.launch(fsroot="/var/www/html/ti", logger=logger,
                                    multithread=False)
"""


def test_deployment_snippet_works_unchanged(
    make_webapp: Callable[..., Path], serve_app: Callable[[Any], str], clean_sys_path: None
) -> None:
    root = make_webapp(
        {
            "index.pspx": "#load <layout.pt>\n<html metal:use-macro='layout.macros.page'>"
            "<p metal:fill-slot='body' tal:content='page.text'>x</p></html>",
            "index.py": PAGE_CODE.replace("greeting", "text"),
            "WEB-INF/tlib/layout.pt": "<html metal:define-macro='page'><body>"
            "<div metal:define-slot='body'/></body></html>",
            "boom.pspx": "<p/>",
            "boom.py": RAISING_CODE,
        }
    )
    namespace: dict[str, Any] = {}
    exec(compile(DEPLOYMENT.replace("/var/www/html/ti", str(root)), "wsgi.py", "exec"), namespace)
    assert namespace["errors"] == 0
    application = namespace["application"]
    base = serve_app(application)
    with httpx.Client(base_url=base) as client:
        for name in ["ann", "bob", "cy"]:
            response = client.get("/", params={"name": name})
            assert response.status_code == 200
            assert response.text == f"<html><body><p>hello {name}</p></body></html>"
        broken = client.get("/boom.pspx")
        assert broken.status_code == 500
        assert "kaboom" not in broken.text
        assert "Traceback" not in broken.text


def test_code_behind_bytecode_goes_to_pycache(
    make_webapp: Callable[..., Path], clean_sys_path: None
) -> None:
    root = make_webapp(
        {"p.pspx": "<p/>", "p.py": PAGE_CODE, "sub/q.pspx": "<p/>", "sub/q.py": PAGE_CODE}
    )
    _, errors = launch(root)
    assert errors == 0
    assert not (root / "p.pyc").exists()
    assert not (root / "sub" / "q.pyc").exists()
    if sys.dont_write_bytecode:
        return
    cached = [p.name for p in (root / "__pycache__").iterdir()]
    assert len(cached) == 1
    assert cached[0].startswith("p.") and cached[0].endswith(".pyc")
    assert any((root / "sub" / "__pycache__").iterdir())




# -- robustness --------------------------------------------------------------------------
HEADER_LINES = [
    "#rem x",
    "#hidden",
    "#methods GET POST",
    "#methods",
    "#errors",
    "#errors 404",
    "#errors 500 abc",
    "#forward p0.pspx",
    "#forward p1.pspx",
    "#forward ../../out.pspx",
    "#forward nowhere.pspx",
    "#template p2.pspx",
    "#template 'missing view.pspx'",
    "#python p0.py",
    "#python shared.py",
    "#python nope.py",
    "#load <layout.pt>",
    "#load <missing.pt>",
    "#load broken=<broken.pt>",
    "#load 'bad",
    "#",
    "#bogus",
    "#end",
]
BODIES = ["<p>ok</p>", "<p tal:content='page.x'>x</p>", "<p tal:repeat='x'></p>", "", "#x\n<b/>"]
CODE = [
    None,
    "from tincan import Page\nclass P(Page):\n    x = 1\n",
    "from tincan import ErrorPage\nclass E(ErrorPage):\n    x = 1\n",
    "def broken(:\n",
    "raise RuntimeError('import')\n",
    "from tincan import Page\nclass A(Page): pass\nclass B(Page): pass\n",
]


@st.composite
def random_trees(draw: st.DrawFn) -> dict[str, str | bytes | None]:
    files: dict[str, str | bytes | None] = {
        "WEB-INF/tlib/layout.pt": "<b metal:define-macro='m'>L</b>",
        "WEB-INF/tlib/broken.pt": "<b metal:define-macro='m' tal:repeat='x'>L</b>",
        "shared.py": "from tincan import Page\nclass S(Page):\n    x = 2\n",
    }
    for n in range(draw(st.integers(1, 5))):
        lines = draw(st.lists(st.sampled_from(HEADER_LINES), max_size=4))
        files[f"p{n}.pspx"] = "\n".join([*lines, draw(st.sampled_from(BODIES))])
        code = draw(st.sampled_from(CODE))
        if code is not None:
            files[f"p{n}.py"] = code
    return files


@settings(max_examples=60)
@given(random_trees())
def test_any_tree_launches_and_every_problem_is_one_logged_error(
    make_webapp: Callable[..., Path],
    new_logger: Callable[..., Any],
    files: dict[str, str | bytes | None],
) -> None:
    root = make_webapp(files)
    logger, capture = new_logger()
    app, errors = launch(root, logger=logger, static=True)
    assert app is not None
    messages = capture.errors()
    assert errors == len(messages)
    pages = sorted(name for name in files if name.endswith(".pspx"))
    routed = set(app.router.literal)
    registered = {info.file for info in app.route_info}

    def blames(message: str, page: str) -> bool:
        located = (f"{root / page}:", f"{root / page.replace('.pspx', '.py')}:")
        return message.startswith(located) or message.endswith(f"(used by {page})")

    for page in pages:
        named = [m for m in messages if blames(m, page)]
        # Every page got what it asked for (route, hidden entry, error handler) or is
        # named by exactly one error; never both, never silently dropped.
        if page in registered:
            assert not [m for m in named if m.startswith(f"{root / page}:")], named
        else:
            assert len(named) >= 1, (page, messages)
    assert len(registered) + errors >= len(pages)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        for path in routed:
            # Any status will do (a generated page may fail at request time); what
            # must hold is that the app answers, and never with a traceback.
            response = client.get(quote(path))
            assert "Traceback" not in response.text
