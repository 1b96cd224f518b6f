"""The install-static command: options, output, exit codes, progress."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tincan_static import main_install_static
from tincan_static._progress import LARGE_TREE, Progress


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main_install_static(args)
    out, err = capsys.readouterr()
    return status, out, err


def test_prints_actions_and_a_summary(
    make_webapp: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make_webapp({"a.css": "a", "index.pspx": "<p/>"})
    target = tmp_path / "out"
    status, out, err = run([str(source), str(target)], capsys)
    assert status == 0 and err == ""
    assert out.splitlines() == [
        f"mkdir '{target}'",
        f"cp '{source}/a.css' '{target}/a.css'",
        "1 copied, 0 unchanged, 0 removed",
    ]
    status, out, _ = run(["-v", str(source), str(target)], capsys)
    assert out.splitlines() == ["# unchanged 'a.css'", "0 copied, 1 unchanged, 0 removed"]
    (source / "a.css").write_text("changed")
    status, out, err = run(["-q", str(source), str(target)], capsys)
    assert (status, out, err) == (0, "", "")
    assert (target / "a.css").read_text() == "changed"


def test_no_preserve_and_dry_run_options(
    make_webapp: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make_webapp({"a.css": "a"})
    target = tmp_path / "out"
    status, out, _ = run(["--dry-run", str(source), str(target)], capsys)
    assert status == 0 and out.endswith("(dry run: nothing was changed)\n")
    assert not target.exists()
    assert run(["-n", str(source), str(target)], capsys)[0] == 0
    assert (target / "a.css").read_text() == "a"


@pytest.mark.parametrize(
    "args",
    [["-m", "-n", "a", "b"], ["only-one"], ["-q", "-v", "a", "b"], ["--bogus", "a", "b"]],
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(args, capsys)
    assert status == 2 and "usage:" in err and "Traceback" not in err


def test_not_a_webapp_exits_2_and_conflicts_exit_1(
    make_webapp: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plain").mkdir()
    status, _, err = run([str(tmp_path / "plain"), str(tmp_path / "out")], capsys)
    assert (
        status == 2
        and err == f"install-static: {tmp_path}/plain: not a webapp (no WEB-INF directory)\n"
    )
    source = make_webapp({"a/b.css": "b"})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a").write_text("in the way")
    status, out, err = run([str(source), str(tmp_path / "out")], capsys)
    assert status == 1 and out == ""
    assert f"{tmp_path}/out/a: is not a directory" in err
    status, _, err = run([str(source), str(source / "static")], capsys)
    assert status == 1 and "inside the webapp" in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["--help"], capsys)
    assert status == 0 and "--move" in out and "--no-preserve" in out and "--prune" in out


def test_progress_on_a_terminal_erases_itself() -> None:
    stream = io.StringIO()
    progress = Progress(stream, verbose=False, tty=True)
    for done in range(1, LARGE_TREE + 1):
        progress.update(done, LARGE_TREE)
    text = stream.getvalue()
    assert f"installing: {LARGE_TREE // 2}/{LARGE_TREE} files (50%)" in text
    assert text.endswith("\r\x1b[K")


def test_progress_off_a_terminal_only_when_verbose() -> None:
    quiet, verbose = io.StringIO(), io.StringIO()
    for stream, is_verbose in ((quiet, False), (verbose, True)):
        progress = Progress(stream, verbose=is_verbose, tty=False)
        for done in range(1, 2 * LARGE_TREE + 1):
            progress.update(done, 2 * LARGE_TREE)
    assert quiet.getvalue() == ""
    lines = verbose.getvalue().splitlines()
    assert len(lines) == 10 and lines[-1] == f"installing: {2 * LARGE_TREE}/{2 * LARGE_TREE} files"
    small = io.StringIO()
    Progress(small, verbose=True, tty=True).update(3, 10)
    assert small.getvalue() == ""  # a small tree needs no progress


def test_runs_as_a_program_with_its_exit_code(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_webapp({"a.css": "a"})
    code = "import sys, tincan_static; sys.exit(tincan_static.main_install_static())"
    result = subprocess.run(
        [sys.executable, "-c", code, str(source), str(tmp_path / "out")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0
    assert result.stdout.endswith("1 copied, 0 unchanged, 0 removed\n")
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), str(tmp_path / "out2")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2 and "not a webapp" in result.stderr
