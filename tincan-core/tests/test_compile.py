"""``compile_webapp`` and the compile caches: after a compile, a launch compiles and
writes nothing; every change of a source is picked up; a bad cache entry is never served."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tincan_core
from tincan_core import _cache
from tincan_core._templates import CACHE_DIRNAME

LAYOUT = """\
<html metal:define-macro="page"><body><h1>${page.title}</h1>
<div metal:define-slot="content">no content</div>
<p class="foot">layout v1</p></body></html>
"""


def page(title: str, content: str, *, extra_header: str = "") -> str:
    return (
        f"#load <layout.pt>\n{extra_header}"
        "<html metal:use-macro=\"layout.macros['page']\">\n"
        f'<div metal:fill-slot="content">{content}</div>\n'
        "</html>\n"
    )


def code_behind(cls: str, title: str, extra: str = "") -> str:
    return textwrap.dedent(f"""\
        from tincan_core import Page
        import shared_words


        class {cls}(Page):
            def handle(self):
                self.title = {title!r}
                self.word = shared_words.WORD
                {extra}
        """)


FILES: dict[str, str | bytes | None] = {
    "WEB-INF/tlib/layout.pt": LAYOUT,
    "WEB-INF/lib/shared_words.py": 'WORD = "from-lib"\n',
    "WEB-INF/views/report.pspx": "#rem shared view\n<p>report v1 ${page.title} ${page.word}</p>\n",
    "WEB-INF/controllers/shared.py": code_behind("Shared", "Shared"),
    "index.pspx": page("Home", "home ${page.word}"),
    "index.py": code_behind("Home", "Home"),
    "about.pspx": page("About", "about v1 ${page.word}"),
    "about.py": code_behind("About", "About"),
    "sub/report.pspx": (
        "#template /WEB-INF/views/report.pspx\n#python /WEB-INF/controllers/shared.py\n"
    ),
    "sub/alias.pspx": "#forward report.pspx\n",
    "plain.pspx": "<p>plain ${page.request.path}</p>\n",
    "missing.pspx": (
        "#errors 404\n#load <layout.pt>\n"
        "<html metal:use-macro=\"layout.macros['page']\">"
        '<div metal:fill-slot="content">not here: ${error.status_code}</div></html>\n'
    ),
    "missing.py": textwrap.dedent("""\
        from tincan_core import ErrorPage


        class Missing(ErrorPage):
            title = "Missing"
        """),
}
# What each route must show (a fragment of the body), and the 404 page.
EXPECTED = {
    "/": "home from-lib",
    "/index.pspx": "home from-lib",
    "/about.pspx": "about v1 from-lib",
    "/sub/report.pspx": "report v1 Shared from-lib",
    "/sub/alias.pspx": "report v1 Shared from-lib",
    "/plain.pspx": "plain /plain.pspx",
}
TEMPLATES = 6  # index, about, the report view, plain, missing, layout.pt
CODE_BEHIND = 4  # index.py, about.py, shared.py, missing.py


def snapshot(root: Path) -> dict[str, tuple[int, int, bytes | None]]:
    """Every path under ``root``: (mode, mtime_ns, content or None for directories)."""
    state: dict[str, tuple[int, int, bytes | None]] = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            content = None if stat.S_ISDIR(info.st_mode) else Path(path).read_bytes()
            state[os.path.relpath(path, root)] = (info.st_mode, info.st_mtime_ns, content)
    return state


def set_read_only(root: Path, read_only: bool) -> None:
    for directory, _, filenames in os.walk(root):
        for name in filenames:
            os.chmod(os.path.join(directory, name), 0o444 if read_only else 0o644)
        os.chmod(directory, 0o555 if read_only else 0o755)


@pytest.fixture
def webapp(make_webapp: Callable[..., Path]) -> Iterator[Path]:
    root = make_webapp(FILES)
    yield root
    set_read_only(root, False)  # let tmp_path be cleaned up


def wsgi_client(app: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver")


def check_pages(app: Any) -> None:
    client = wsgi_client(app)
    for path, fragment in EXPECTED.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert fragment in response.text, (path, response.text)
        if path in ("/", "/index.pspx", "/about.pspx"):
            assert "layout v1" in response.text
    missing = client.get("/nothing.pspx")
    assert missing.status_code == 404
    assert "not here: 404" in missing.text and "layout v1" in missing.text


def stats_of(app: Any) -> tincan_core.LaunchStats:
    stats = app.config["tincan.stats"]
    assert isinstance(stats, tincan_core.LaunchStats)
    return stats


def forget_memory() -> None:
    """What a fresh process would know: nothing compiled in memory."""
    _cache.shared_programs.clear()


# -- compile, then launch a read-only tree --------------------------------------------------

LAUNCH_AND_RENDER = """
import json, sys
import httpx
import tincan_core

app, errors = tincan_core.launch(sys.argv[1])
client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t")
bodies = {path: [client.get(path).status_code, client.get(path).text] for path in sys.argv[2:]}
stats = app.config["tincan.stats"]
print(json.dumps({"errors": errors, "bodies": bodies, "stats": {
    name: getattr(stats, name) for name in stats.__slots__}}))
"""


def test_after_compile_a_launch_compiles_nothing_and_writes_nothing(webapp: Path) -> None:
    report = tincan_core.compile_webapp(webapp)
    assert report.errors == []
    assert report.pages == 6
    assert report.templates_compiled == TEMPLATES  # sub/report.pspx renders the view
    assert report.templates_cached == 0
    assert report.code_behind == CODE_BEHIND
    assert (webapp / "WEB-INF" / CACHE_DIRNAME).is_dir()
    assert (webapp / "WEB-INF" / "lib" / "__pycache__").is_dir()  # imported modules too

    before = snapshot(webapp)
    set_read_only(webapp, True)
    paths = [*EXPECTED, "/nothing.pspx"]
    # A launch that compiled code-behind would write bytecode (were the tree writable).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(
        [sys.executable, "-c", LAUNCH_AND_RENDER, str(webapp), *paths],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    launched = json.loads(result.stdout)
    assert launched["errors"] == 0
    for path, fragment in EXPECTED.items():
        status, body = launched["bodies"][path]
        assert status == 200 and fragment in body, (path, body)
    assert launched["bodies"]["/nothing.pspx"][0] == 404
    stats = launched["stats"]
    assert stats["templates_compiled"] == 0
    assert stats["templates_loaded"] == TEMPLATES
    assert stats["cache_writes"] == 0 and stats["cache_rejected"] == 0
    assert stats["code_behind_imported"] == CODE_BEHIND
    assert stats["code_behind_compiled"] == 0
    set_read_only(webapp, False)
    after = snapshot(webapp)
    # Permission bits were changed by the test itself; everything else must be identical.
    assert {p: s[1:] for p, s in after.items()} == {p: s[1:] for p, s in before.items()}


def test_compile_again_changes_nothing(webapp: Path) -> None:
    tincan_core.compile_webapp(webapp)
    before = snapshot(webapp)
    forget_memory()
    report = tincan_core.compile_webapp(webapp, jobs=1)
    assert report.templates_compiled == 0
    assert report.templates_cached == TEMPLATES
    assert report.code_behind == CODE_BEHIND
    assert snapshot(webapp) == before


def test_launch_in_the_same_process_after_compile(
    webapp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    tincan_core.compile_webapp(webapp)
    before = snapshot(webapp)
    set_read_only(webapp, True)
    app, errors = tincan_core.launch(webapp)
    assert errors == 0
    check_pages(app)
    stats = stats_of(app)
    assert stats.templates_compiled == 0 and stats.cache_writes == 0
    assert stats.code_behind_compiled == 0
    set_read_only(webapp, False)
    assert {p: s[1:] for p, s in snapshot(webapp).items()} == {p: s[1:] for p, s in before.items()}


def test_read_only_tree_without_caches_launches_and_writes_nothing(
    webapp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    before = snapshot(webapp)
    set_read_only(webapp, True)
    if os.access(webapp, os.W_OK):
        pytest.skip("permissions are not enforced for this user (root)")
    forget_memory()
    app, errors = tincan_core.launch(webapp)
    assert errors == 0
    check_pages(app)
    stats = stats_of(app)
    assert stats.templates_compiled == TEMPLATES and stats.cache_writes == 0
    assert stats.code_behind_compiled == CODE_BEHIND
    set_read_only(webapp, False)
    assert {p: s[1:] for p, s in snapshot(webapp).items()} == {p: s[1:] for p, s in before.items()}


def test_read_only_tree_relaunch_recompiles_only_what_changed(webapp: Path) -> None:
    # Without write access (or, as root, with the caches deleted) a second launch
    # in the same process still compiles nothing that did not change.
    forget_memory()
    app, errors = tincan_core.launch(webapp)
    assert errors == 0
    for path in [webapp / "WEB-INF" / CACHE_DIRNAME, *webapp.rglob("__pycache__")]:
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
    set_read_only(webapp, True)
    app, errors = tincan_core.launch(webapp)
    stats = stats_of(app)
    assert errors == 0
    assert stats.templates_compiled == 0 and stats.templates_reused == TEMPLATES
    assert stats.code_behind_compiled == 0
    check_pages(app)
    set_read_only(webapp, False)
    (webapp / "about.pspx").write_text(page("About", "about v2 ${page.word}"))
    (webapp / "about.py").write_text(code_behind("About", "About", "self.word = 'edited'"))
    set_read_only(webapp, True)
    app, errors = tincan_core.launch(webapp)
    stats = stats_of(app)
    assert errors == 0
    assert stats.templates_compiled == 1 and stats.templates_reused == TEMPLATES - 1
    assert stats.code_behind_compiled == 1 and stats.code_behind_reused == CODE_BEHIND - 1
    assert "about v2 edited" in wsgi_client(app).get("/about.pspx").text


def test_compile_writes_what_only_memory_held(webapp: Path) -> None:
    app, errors = tincan_core.launch(webapp)  # programs now in this process's memory
    assert errors == 0
    cache = webapp / "WEB-INF" / CACHE_DIRNAME
    for entry in cache.iterdir():
        entry.unlink()
    report = tincan_core.compile_webapp(webapp)
    assert report.templates_compiled == TEMPLATES and report.templates_cached == 0
    forget_memory()
    app, errors = tincan_core.launch(webapp)
    assert stats_of(app).templates_loaded == TEMPLATES


def test_compiling_a_read_only_tree_is_an_error(webapp: Path) -> None:
    set_read_only(webapp, True)
    if os.access(webapp, os.W_OK):
        pytest.skip("permissions are not enforced for this user (root)")
    forget_memory()
    report = tincan_core.compile_webapp(webapp)
    assert any("cannot write the template cache" in e for e in report.errors)
    assert any("cannot compile to bytecode" in e for e in report.errors)
    assert report.code_behind == 0


# -- reports, errors, progress ---------------------------------------------------------------

BROKEN: dict[str, str | bytes | None] = {
    "bad-template.pspx": "<p>\n<p tal:content='python: 1 +'>x</p>\n",
    "bad-header.pspx": "#nonsense\n<p>x</p>\n",
    "bad-code.pspx": "<p>x</p>\n",
    "bad-code.py": "from tincan_core import Page\n\nclass X(Page)\n    pass\n",
    "no-python.pspx": "#python gone.py\n<p>x</p>\n",
    "bad-load.pspx": "#load broken.pt\n<p>x</p>\n",
    "broken.pt": "<div metal:define-macro='m'>\n</p></div>\n",
}


def test_report_lists_every_error_as_launch_logs_it(
    make_webapp: Callable[..., Path], new_logger: Callable[..., Any]
) -> None:
    root = make_webapp({**FILES, **BROKEN})
    report = tincan_core.compile_webapp(root)
    logger, capture = new_logger()
    forget_memory()
    app, errors = tincan_core.launch(root, logger=logger)
    assert len(report.errors) == errors == 5
    assert sorted(report.errors) == sorted(capture.errors())
    assert report.pages == 6 + 5
    for message in report.errors:
        file, line, _ = message.split(":", 2)
        assert os.path.isfile(file) and line.isdigit(), message
    assert any("bad-template.pspx:2:" in m for m in report.errors)
    assert any("bad-code.py:3:" in m for m in report.errors)
    check_pages(app)  # every other page still works


def test_unusable_tree_is_one_error(tmp_path: Path) -> None:
    report = tincan_core.compile_webapp(tmp_path)
    assert report.pages == 0 and len(report.errors) == 1
    assert "no WEB-INF" in report.errors[0]
    report = tincan_core.compile_webapp(tmp_path, encoding="no-such-codec")
    assert report.errors == ["unknown encoding 'no-such-codec'"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_counts_every_piece_of_work(webapp: Path, jobs: int) -> None:
    calls: list[tuple[int, int]] = []
    report = tincan_core.compile_webapp(
        webapp, jobs=jobs, progress=lambda done, total: calls.append((done, total))
    )
    work = report.templates_compiled + report.code_behind + 1  # + WEB-INF/lib/shared_words.py
    assert calls[0] == (0, work) and calls[-1] == (work, work)
    assert [d for d, _ in calls] == list(range(work + 1))


def test_unused_cache_files_are_pruned(webapp: Path) -> None:
    tincan_core.compile_webapp(webapp)
    cache = webapp / "WEB-INF" / CACHE_DIRNAME
    (cache / "0123456789abcdef0123456789abcdef.bin").write_bytes(b"left over")
    (cache / ".tmp-crashed").write_bytes(b"half")
    (cache / "README").write_text("not ours")
    (webapp / "about.pspx").write_text(page("About", "about v2"))
    before = {p.name for p in cache.iterdir()}
    report = tincan_core.compile_webapp(webapp)
    assert report.templates_compiled == 1
    after = {p.name for p in cache.iterdir()}
    assert len(after) == TEMPLATES + 1  # the entries in use, and README
    assert "README" in after and len(before - after) == 3


# -- code-behind bytecode --------------------------------------------------------------------


def test_code_behind_saved_twice_in_one_second_is_never_stale(
    make_webapp: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Python trusts bytecode while the source's mtime (in whole seconds) and size
    # match: bytecode of so fresh a file must not be written by a launch.
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    template = "from tincan_core import Page\n\nclass P(Page):\n    n = {}\n"
    root = make_webapp({"p.pspx": "<p>n=${page.n}</p>\n", "p.py": template.format(1)})
    pinned = (root / "p.py").stat().st_mtime_ns
    for n in (1, 2, 3):
        (root / "p.py").write_text(template.format(n))
        os.utime(root / "p.py", ns=(pinned, pinned))  # the same second, the same size
        forget_memory()
        app, errors = tincan_core.launch(root)
        assert errors == 0
        assert f"n={n}" in wsgi_client(app).get("/p.pspx").text
        assert not (root / "__pycache__").exists()
    old = pinned - 60 * 10**9
    os.utime(root / "p.py", ns=(old, old))
    app, errors = tincan_core.launch(root)
    stats = stats_of(app)
    assert stats.code_behind_compiled + stats.code_behind_reused == 1
    assert list((root / "__pycache__").glob("p.*.pyc"))  # an older file gets its bytecode
    app, errors = tincan_core.launch(root)
    stats = stats_of(app)
    assert stats.code_behind_compiled == stats.code_behind_reused == 0  # read from there
    assert "n=3" in wsgi_client(app).get("/p.pspx").text


# -- a compiled tree deployed elsewhere -----------------------------------------------------


def test_a_compiled_tree_copied_elsewhere_launches_compiling_nothing(
    webapp: Path, tmp_path: Path
) -> None:
    # Compiled in CI (or the staging directory of a two-directory deploy), then
    # copied to where it is served.
    assert tincan_core.compile_webapp(webapp).errors == []
    deployed = tmp_path / "srv" / "site"
    deployed.parent.mkdir()
    subprocess.run(["cp", "-a", str(webapp), str(deployed)], check=True)
    before = snapshot(deployed)
    set_read_only(deployed, True)
    try:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        result = subprocess.run(
            [sys.executable, "-c", LAUNCH_AND_RENDER, str(deployed), *EXPECTED],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )
    finally:
        set_read_only(deployed, False)
    assert result.returncode == 0, result.stderr
    launched = json.loads(result.stdout)
    assert launched["errors"] == 0
    for path, fragment in EXPECTED.items():
        status, body = launched["bodies"][path]
        assert status == 200 and fragment in body, (path, body)
    stats = launched["stats"]
    assert stats["templates_compiled"] == 0 and stats["templates_loaded"] == TEMPLATES
    assert stats["cache_writes"] == 0 and stats["cache_rejected"] == 0
    assert stats["code_behind_compiled"] == 0
    assert {p: s[1:] for p, s in snapshot(deployed).items()} == {
        p: s[1:] for p, s in before.items()
    }


# -- broken templates ------------------------------------------------------------------------


def test_after_compile_broken_templates_are_not_compiled_again(
    make_webapp: Callable[..., Path], new_logger: Callable[..., Any]
) -> None:
    files = {**FILES, **BROKEN}
    for n in range(6):  # enough for worker processes
        files[f"bad{n}.pspx"] = f"<p tal:content='python: {n} +'>x</p>\n"
    root = make_webapp(files)
    forget_memory()
    report = tincan_core.compile_webapp(root, jobs=2)
    assert len(report.errors) == 5 + 6
    # Each once: the bodies of the 4 pages of BROKEN that have one, broken.pt, bad*.
    assert report.templates_compiled == TEMPLATES + 5 + 6
    forget_memory()
    logger, capture = new_logger()
    app, errors = tincan_core.launch(root, logger=logger)
    stats = stats_of(app)
    assert errors == len(report.errors) and sorted(capture.errors()) == sorted(report.errors)
    assert stats.templates_compiled == 0 and stats.cache_writes == 0
    report = tincan_core.compile_webapp(root)
    assert report.templates_compiled == 0 and len(report.errors) == 11


def test_a_relative_fsroot_reports_absolute_files(
    make_webapp: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_webapp({**FILES, "bad-template.pspx": BROKEN["bad-template.pspx"]})
    monkeypatch.chdir(root.parent)
    report = tincan_core.compile_webapp(root.name)
    assert report.errors == [
        f"{root / 'bad-template.pspx'}:2: template error: invalid syntax: '1 +'"
    ]


@pytest.mark.parametrize("jobs", [1, 2])
def test_python_warnings_are_in_the_report_and_the_log_once(
    make_webapp: Callable[..., Path], new_logger: Callable[..., Any], jobs: int
) -> None:
    escape = "from tincan_core import Page\nclass Escape(Page):\n    pattern = '\\d+'\n"
    root = make_webapp({**FILES, "escape.pspx": "<p>${page.pattern}</p>\n", "escape.py": escape})
    logger, capture = new_logger()
    report = tincan_core.compile_webapp(root, jobs=jobs, logger=logger)
    assert report.errors == []
    expected = f"{root / 'escape.py'}:3: "
    assert [w[: len(expected)] for w in report.warnings] == [expected]
    assert report.warnings[0].endswith("Warning: invalid escape sequence '\\d'")
    assert report.warnings[0] in [r.getMessage() for r in capture.records]
    assert str(root / "escape.py") in report.python_files
    assert str(root / "WEB-INF" / "lib" / "shared_words.py") in report.python_files
    # Compiled now, the bytecode warns no more: nothing is compiled again.
    assert tincan_core.compile_webapp(root, jobs=jobs).warnings == []
