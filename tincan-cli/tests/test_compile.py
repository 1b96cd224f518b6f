"""``tincan compile``: summary, errors as file:line: message, progress only on a terminal."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
import tincan
from tincan_cli import main
from tincan_cli._compile import ProgressLine

LAYOUT = (
    '<html metal:define-macro="page"><body><div metal:define-slot="content"></div></body></html>\n'
)
SITE = {
    "WEB-INF/tlib/layout.pt": LAYOUT,
    "index.pspx": (
        "#load <layout.pt>\n"
        "<html metal:use-macro=\"layout.macros['page']\">"
        '<div metal:fill-slot="content">${word}</div></html>\n'
    ),
    "index.py": "from tincan import Page\n\n\nclass Home(Page):\n    word = 'compiled'\n",
    "about.pspx": "<p>about</p>\n",
}


def compile_(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["compile", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def tree_digest(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_compile_then_launch_writes_nothing(
    capsys: pytest.CaptureFixture[str], make_webapp: Any
) -> None:
    root = make_webapp(SITE)
    code, out, err = compile_(capsys, str(root), "--jobs", "2")
    assert (code, err) == (0, "")
    assert out == (
        "2 pages: 3 template(s) compiled, 0 cached, 1 code-behind module(s), 0 error(s)\n"
    )
    before = tree_digest(root)
    app, errors = tincan.launch(root)
    assert app is not None and errors == 0
    assert tree_digest(root) == before

    code, out, _ = compile_(capsys, str(root))
    assert code == 0
    assert "0 template(s) compiled, 3 cached" in out


def test_errors_are_listed_and_exit_1(
    capsys: pytest.CaptureFixture[str], make_webapp: Any
) -> None:
    root = make_webapp(
        {
            **SITE,
            "bad.pspx": "#bogus\n",
            "worse.pspx": '<p>\n<p tal:condition="1 +">x</p>\n',
        }
    )
    code, out, err = compile_(capsys, str(root))
    assert code == 1
    errors = err.splitlines()
    assert f"{root / 'bad.pspx'}:1: unknown directive #bogus" in errors
    assert any(line.startswith(f"{root / 'worse.pspx'}:2: ") for line in errors)
    assert len(errors) == 2
    assert out.endswith("2 error(s)\n")


def test_quiet_prints_only_errors(capsys: pytest.CaptureFixture[str], make_webapp: Any) -> None:
    root = make_webapp(SITE)
    assert compile_(capsys, str(root), "-q") == (0, "", "")


def test_progress_only_on_a_terminal(
    capsys: pytest.CaptureFixture[str], make_webapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_webapp(SITE)
    _, _, err = compile_(capsys, str(root))
    assert "\r" not in err  # captured stderr is not a terminal
    monkeypatch.setattr("tincan_cli._compile.stderr_is_terminal", lambda: True)
    (root / "about.pspx").write_text("<p>changed</p>\n")
    _, _, err = compile_(capsys, str(root))
    assert "\rcompiling 1/1" in err
    assert err.endswith("\r")  # the progress line is cleared before the summary


def test_progress_line_overwrites_itself() -> None:
    stream = io.StringIO()
    progress = ProgressLine(stream)
    progress(9, 10)
    progress(10, 10)
    progress.clear()
    assert stream.getvalue() == "\rcompiling 9/10\rcompiling 10/10\r" + " " * 15 + "\r"


def test_not_a_webapp(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = compile_(capsys, str(tmp_path))
    assert (code, err) == (1, f"tincan compile: {tmp_path}: not a webapp (no WEB-INF directory)\n")


def test_debug_shows_tracebacks(capsys: pytest.CaptureFixture[str], make_webapp: Any) -> None:
    root = make_webapp({"index.pspx": "<p>x</p>\n", "index.py": "1 / 0\n"})
    code, _, err = compile_(capsys, str(root))
    assert code == 1
    failure = "code-behind failed to load: ZeroDivisionError: division by zero"
    assert err == f"{root / 'index.py'}:1: {failure}\n"
    code, _, err = compile_(capsys, "-d", str(root))
    assert code == 1
    assert "Traceback" in err and "ZeroDivisionError" in err
