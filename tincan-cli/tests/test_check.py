"""``tincan check``: findings as text or JSON, exit codes, and the counts that
``tincan compile`` and ``tincan serve`` add to their summary lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tincan
from tincan_cli import _check, main

LAYOUT = (
    '<html metal:define-macro="page"><title>${title}</title>'
    '<body><main metal:define-slot="content">default</main></body></html>\n'
)
BROKEN = {
    "WEB-INF/tlib/layout.pt": LAYOUT,
    "index.pspx": "#load <layout.pt>\n<html metal:use-macro=\"layout.macros['page']\">"
    '<main metal:fill-slot="content"><p>${greting}</p></main></html>\n',
    "index.py": "from tincan import Page\nclass Home(Page):\n    title = 'Home'\n"
    "    greeting = 'hello'\n",
    "form.pspx": "#methods GTE\n<p>form</p>\n",
}


@pytest.fixture(autouse=True)
def own_imports(tmp_path: Path) -> Iterator[None]:
    """Launching imports the trees' WEB-INF/lib modules and puts the directory on
    sys.path: both are taken back, so no later test imports this test's modules."""
    path = list(sys.path)
    yield
    sys.path[:] = path
    inside = str(tmp_path) + os.sep
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(inside):
            del sys.modules[name]


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_findings_as_text(capsys: pytest.CaptureFixture[str], make_webapp: Any) -> None:
    root = make_webapp(BROKEN)
    code, out, err = check(capsys, str(root))
    assert (code, err) == (0, "")  # warnings only
    lines = out.splitlines()
    assert lines[0] == (
        f"{root}/form.pspx:1: warning: #methods: 'GTE' is no standard HTTP method; browsers "
        "never send it, and a GET of this page is answered 405 (did you mean 'GET'?) "
        "[unknown-method]"
    )
    assert lines[1].startswith(f"{root}/index.pspx:2: warning: 'greting' is not defined: ")
    assert lines[1].endswith("(did you mean 'greeting'?) [undefined-name]")
    assert lines[2] == (
        "2 pages checked: 0 errors, 2 warnings, 0 notes (--strict makes warnings fail)"
    )
    assert check(capsys, "--strict", str(root))[0] == 1


def test_errors_fail(capsys: pytest.CaptureFixture[str], make_webapp: Any) -> None:
    root = make_webapp(
        {
            **BROKEN,
            "bad.pspx": "#load <layout.pt>\n<html metal:use-macro=\"layout['x']\"/>\n",
            "worse.pspx": "#bogus\n",
        }
    )
    code, out, _ = check(capsys, str(root))
    assert code == 1
    assert f"{root}/bad.pspx:2: error: metal:use-macro:" in out
    assert f"{root}/worse.pspx:1: error: unknown directive #bogus [launch-error]" in out
    assert out.splitlines()[-1] == "4 pages checked: 2 errors, 2 warnings, 0 notes"


def test_json_is_the_same_findings(capsys: pytest.CaptureFixture[str], make_webapp: Any) -> None:
    root = make_webapp(BROKEN)
    code, out, _ = check(capsys, "--json", "--strict", str(root), "/shop")
    assert code == 1
    document = json.loads(out)
    assert (document["schema"], document["urlroot"], document["warnings"]) == (1, "/shop", 2)
    assert {f["code"] for f in document["findings"]} == {"unknown-method", "undefined-name"}
    first = document["findings"][0]
    assert set(first) == {"severity", "file", "line", "code", "message", "suggestion"}
    assert (first["file"], first["line"], first["suggestion"]) == (
        f"{root}/form.pspx", 1, "GET",
    )  # fmt: skip


def test_notes_with_verbose(capsys: pytest.CaptureFixture[str], make_webapp: Any) -> None:
    root = make_webapp({"index.pspx": "<p>i</p>\n", "img/logo.png": b"png"})
    code, out, _ = check(capsys, str(root))
    assert (code, out) == (0, "1 page checked: 0 errors, 0 warnings, 1 note "
                              "(--verbose shows the notes)\n")  # fmt: skip
    code, out, _ = check(capsys, "-v", str(root))
    assert out.splitlines()[0] == f"{root}/img: info: no pages in this directory or below it " \
        "(static files only) [no-pages]"  # fmt: skip


def test_a_template_expression_python_warns_about_is_a_warning_at_its_line(
    capsys: pytest.CaptureFixture[str], make_webapp: Any
) -> None:
    page = "<p>digits</p>\n<p>${__import__('re').sub('\\d', '#', 'a1')}</p>\n"
    root = make_webapp({"digits.pspx": page})
    for _ in range(2):  # the second run reads the compiled template from the cache
        code, out, err = check(capsys, str(root))
        assert (code, err) == (0, "")
        lines = out.splitlines()
        assert lines[0].startswith(f"{root}/digits.pspx:2: warning: ")
        assert lines[0].endswith("Warning: invalid escape sequence '\\d' [launch-warning]")
        assert lines[1] == (
            "1 page checked: 0 errors, 1 warning, 0 notes (--strict makes warnings fail)"
        )
    assert check(capsys, "--strict", str(root))[0] == 1


def test_usage_and_missing_directories(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = check(capsys, str(tmp_path / "nowhere"))
    assert (code, err) == (1, f"tincan check: {tmp_path / 'nowhere'}: no such directory\n")
    code, _, err = check(capsys, str(tmp_path))
    assert code == 1 and "not a webapp (no WEB-INF directory)" in err
    assert check(capsys, str(tmp_path), "shop")[0] == 2
    assert check(capsys, "--no-such-option")[0] == 2
    code, _, err = check(capsys, "-e", "klingon", str(tmp_path))
    assert (code, err) == (1, "tincan check: unknown encoding 'klingon'\n")


def test_the_starter_is_clean(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert main(["new", str(site)]) == 0
    capsys.readouterr()
    code, out, _ = check(capsys, "--strict", "--verbose", str(site / "webapp"))
    assert (code, out) == (0, "3 pages checked: 0 errors, 0 warnings, 0 notes\n")


def test_a_page_added_to_the_starter_is_flagged_exactly_when_it_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # A page without code-behind, using the starter's layout as its index page does.
    main(["new", str(tmp_path / "site")])
    site = tmp_path / "site" / "webapp"
    index = (site / "index.pspx").read_text(encoding="utf-8")
    (site / "new.pspx").write_text(
        index.replace("${greeting}", "New page").replace("${name}", "").replace("${home}", ""),
        encoding="utf-8",
    )
    capsys.readouterr()
    app, errors = tincan.launch(site)
    assert app is not None and errors == 0
    status = (
        httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t")
        .get("/new.pspx")
        .status_code
    )
    code, out, _ = check(capsys, "--strict", str(site))
    flagged = [line for line in out.splitlines() if "new.pspx" in line]
    assert bool(flagged) == (status == 500), out
    assert code == (1 if flagged else 0)


def test_compile_counts_check_warnings(
    capsys: pytest.CaptureFixture[str], make_webapp: Any
) -> None:
    root = make_webapp(BROKEN)
    assert main(["compile", str(root)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith(", 0 error(s), 2 check warning(s) (tincan check shows them)")


def test_serve_compile_counts_check_warnings(
    capsys: pytest.CaptureFixture[str], make_webapp: Any
) -> None:
    root = make_webapp(BROKEN)
    assert main(["serve", "--compile", str(root)]) == 0
    err = capsys.readouterr().err
    assert err.rstrip().endswith(
        "0 error(s) detected, 2 check warning(s) (tincan check shows them)"
    )


@pytest.mark.slow
def test_serve_announces_check_warnings(
    make_webapp: Any, start_server: Any, tincan_cmd: Any
) -> None:
    root = make_webapp(BROKEN)
    server = start_server(tincan_cmd("serve", str(root)))
    assert server.get("/").status_code == 500  # the typo the check warned about
    finished = server.stop()
    assert (
        f"Serving {root} on http://127.0.0.1:{server.port}/ (press Ctrl-C to stop); "
        "2 check warning(s) (tincan check shows them)"
    ) in finished.stdout


def test_a_slow_check_reports_later(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, make_webapp: Any
) -> None:
    release = threading.Event()
    real = _check.check_app

    def slow(app: Any) -> Any:
        release.wait(10)
        return real(app)

    monkeypatch.setattr(_check, "check_app", slow)
    app, _ = tincan.launch(make_webapp(BROKEN))
    assert app is not None
    background = _check.BackgroundCheck(app)
    assert background.note(wait=0.01) == ""  # the server announces without it...
    release.set()
    background._done.wait(10)
    # ...and the note follows on a line of its own.
    assert capsys.readouterr().out == "2 check warning(s) (tincan check shows them)\n"


# Python 3.12 and newer show a SyntaxWarning for an invalid escape sequence at once;
# 3.11 raises a DeprecationWarning, shown with PYTHONWARNINGS=default, as here.
ESCAPES = {
    "WEB-INF/lib/patterns.py": "DIGITS = '\\d+'\n",
    "escape.pspx": "<p>${page.pattern}</p>\n",
    "escape.py": "from tincan import Page\nclass P(Page):\n    pattern = '\\w+'\n",
    "code.pspx": '<?python\nx = "\\d"\n?>\n<p>${x}</p>\n',
    "index.pspx": "<p>${'\\s'}</p>\n",
}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_python_warnings_are_findings_on_every_run_and_never_raw_stderr(
    make_webapp: Any, jobs: str
) -> None:
    root = make_webapp(ESCAPES)
    env = {**os.environ, "PYTHONWARNINGS": "default"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "tincan_cli", *args]
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)

    compiled = run("compile", "-j", jobs, str(root))
    assert (compiled.returncode, compiled.stderr) == (0, "")
    assert "4 check warning(s)" in compiled.stdout
    for _ in range(2):  # the second run finds the bytecode the first one wrote
        checked = run("check", "-j", jobs, str(root))
        assert (checked.returncode, checked.stderr) == (0, "")
        warned = [line for line in checked.stdout.splitlines() if "invalid escape" in line]
        where_and_what = [
            (line.split(": warning: ")[0], line.rsplit(" sequence ", 1)[1]) for line in warned
        ]
        assert where_and_what == [
            (f"{root}/WEB-INF/lib/patterns.py:1", "'\\d' [launch-warning]"),
            (f"{root}/code.pspx:2", "'\\d' [launch-warning]"),  # a <?python ?> block
            (f"{root}/escape.py:3", "'\\w' [launch-warning]"),
            (f"{root}/index.pspx:1", "'\\s' [launch-warning]"),  # a template expression
        ]
        assert all("Warning: invalid escape sequence" in line for line in warned)
