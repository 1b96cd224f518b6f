"""Argument parsing, messages and exit codes, with ``main(argv)`` called in-process."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pytest
import tincan_core
from hypothesis import given
from hypothesis import strategies as st
from tincan_cli import main
from tincan_cli._compat import launch_main
from tincan_cli._options import port_number, urlroot_path


def run(
    capsys: pytest.CaptureFixture[str], argv: list[str], entry: Any = main
) -> tuple[int, str, str]:
    code = entry(argv)
    out, err = capsys.readouterr()
    return code, out, err


# -- help and version ---------------------------------------------------------------------
def test_version_names_cli_and_core(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, ["--version"])
    assert code == 0
    assert "tincan-cli 0.2.0" in out
    assert f"tincan-core {tincan_core.__version__}" in out


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, ["--help"])
    assert code == 0
    for command in ("serve", "compile", "routes", "new", "install-static", "server-config"):
        assert command in out


SERVE_OPTIONS = ("--bind", "--port", "--static", "--compile", "--debug", "--encoding", "--force")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["serve", "--help"], (*SERVE_OPTIONS, "--reload", "--server", "--workers", "--threads")),
        (["compile", "--help"], ("--encoding", "--jobs", "--quiet", "--debug")),
        (["routes", "--help"], ("--static", "--json", "--encoding", "urlroot")),
        (["new", "--help"], ("DIR", "starter")),
    ],
)
def test_every_subcommand_explains_its_options(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: tuple[str, ...]
) -> None:
    code, out, _ = run(capsys, argv)
    assert code == 0
    for word in expected:
        assert word in out


def test_launch_help_explains_the_original_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, ["--help"], launch_main)
    assert code == 0
    assert out.startswith("usage: launch")
    for short, long in zip("bpscdef", SERVE_OPTIONS, strict=True):
        assert f"-{short}" in out
        assert long in out
    assert "directory" in out and "urlroot" in out


# -- usage errors: exit 2, one line ---------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bogus"],
        ["serve", "--no-such-option"],
        ["serve", "-p", "http"],
        ["serve", "-p", "70000"],
        ["serve", ".", "app"],
        ["serve", "--server", "nginx"],
        ["serve", "--workers", "2"],
        ["serve", "--threads", "2"],
        ["serve", "--server", "gunicorn", "--workers", "0"],
        ["serve", "--reload", "--server", "gunicorn"],
        ["routes", ".", "/", "extra"],
        ["compile", ".", "--jobs", "none"],
        ["new"],
    ],
)
def test_bad_usage_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, argv)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("tincan")
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["-p"], ["a", "/", "c"], ["--reload"], ["-x"]])
def test_launch_bad_usage_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, err = run(capsys, argv, launch_main)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith("launch: error:")


# -- problems with the webapp: exit 1, one clear line ---------------------------------------------
def test_missing_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, ["serve", str(tmp_path / "nowhere")])
    assert (code, err) == (1, f"tincan serve: {tmp_path / 'nowhere'}: no such directory\n")


@pytest.mark.parametrize("entry", [main, launch_main])
def test_force_without_a_webapp_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], make_webapp: Any, entry: Any
) -> None:
    root = make_webapp({"index.pspx": "<p>x</p>"}, webapp=False)
    argv = ["-f", str(root)] if entry is launch_main else ["serve", "-f", str(root)]
    code, _, err = run(capsys, argv, entry)
    assert code == 1
    assert err.splitlines() == [err.strip()]
    assert "not a webapp (no WEB-INF directory)" in err


def test_a_file_is_not_a_webapp(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    file = tmp_path / "file.txt"
    file.write_text("x")
    code, _, err = run(capsys, ["routes", str(file)])
    assert (code, err) == (1, f"tincan routes: {file}: not a directory\n")


def test_unknown_encoding(capsys: pytest.CaptureFixture[str], basic_webapp: Path) -> None:
    code, _, err = run(capsys, ["serve", "-e", "klingon-8", str(basic_webapp)])
    assert (code, err) == (1, "tincan serve: unknown encoding 'klingon-8'\n")


# -- launch --compile ------------------------------------------------------------------------
def test_compile_option_launches_reports_and_writes_caches(
    capsys: pytest.CaptureFixture[str], basic_webapp: Path
) -> None:
    code, out, err = run(capsys, ["-c", str(basic_webapp)], launch_main)
    assert code == 0
    assert "route GET /index.pspx -> index.pspx" in err
    assert "route GET / -> index.pspx" in err
    assert "0 error(s) detected" in err
    assert "Serving" not in out  # compiled, not served
    assert any((basic_webapp / "WEB-INF" / ".tincan-cache").iterdir())
    assert any((basic_webapp / "__pycache__").glob("index.*.pyc"))


@pytest.mark.parametrize("force", [False, True])
def test_compile_option_with_errors_exits_1(
    capsys: pytest.CaptureFixture[str], broken_webapp: Path, force: bool
) -> None:
    argv = ["serve", "-c", *(["-f"] if force else []), str(broken_webapp)]
    code, _, err = run(capsys, argv)
    assert code == 1
    assert f"{broken_webapp / 'broken.pspx'}:1: unknown directive #bogus" in err
    assert err.rstrip().endswith("1 error(s) detected, aborting")
    assert "route GET /about.pspx" in err  # the other pages still launched


def test_encoding_option_decodes_pages(
    capsys: pytest.CaptureFixture[str], make_webapp: Any
) -> None:
    root = make_webapp({"caf\u00e9.pspx": "<p>caf\u00e9</p>\n".encode("latin-1")})
    code, _, err = run(capsys, ["serve", "-c", str(root)])
    assert code == 1 and "cannot decode as utf-8" in err
    code, _, err = run(capsys, ["serve", "-c", "-e", "latin-1", str(root)])
    assert code == 0, err


FAILING_CODE_BEHIND = {"index.pspx": "<p>x</p>\n", "index.py": "raise ValueError('kaputt')\n"}


def test_launch_errors_have_a_traceback_only_with_debug(
    capsys: pytest.CaptureFixture[str], make_webapp: Any
) -> None:
    root = make_webapp(FAILING_CODE_BEHIND)
    code, _, err = run(capsys, ["-c", str(root)], launch_main)
    assert code == 1
    assert "index.py:1: code-behind failed to load: ValueError: kaputt" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, ["-c", "-d", str(root)], launch_main)
    assert code == 1
    assert "Traceback" in err and "kaputt" in err


# -- unexpected failures ---------------------------------------------------------------------
@pytest.fixture
def exploding_launch(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(tincan_core, "launch", explode)


@pytest.mark.usefixtures("exploding_launch")
def test_unexpected_error_without_debug_is_one_line(
    capsys: pytest.CaptureFixture[str], basic_webapp: Path
) -> None:
    code, _, err = run(capsys, ["routes", str(basic_webapp)])
    assert code == 1
    assert err == (
        "tincan routes: unexpected error: RuntimeError: boom "
        "(run with --debug for the traceback)\n"
    )


@pytest.mark.usefixtures("exploding_launch")
@pytest.mark.parametrize("where", ["before", "after"])
def test_unexpected_error_with_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str], basic_webapp: Path, where: str
) -> None:
    argv = (
        ["-d", "routes", str(basic_webapp)]
        if where == "before"
        else ["routes", "-d", str(basic_webapp)]
    )
    code, _, err = run(capsys, argv)
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: boom" in err


# -- optional servers and argument types ---------------------------------------------------------
@pytest.mark.parametrize(
    ("server", "module"), [("waitress", "waitress"), ("gunicorn", "gunicorn.app.base")]
)
def test_missing_server_package_names_the_extra(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    basic_webapp: Path,
    server: str,
    module: str,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes the import fail
    code, out, err = run(capsys, ["serve", "--server", server, str(basic_webapp)])
    assert code == 1
    assert err.splitlines()[-1] == (
        f'tincan serve: the {server} server is not installed: pip install "tincan-cli[{server}]"'
    )
    assert "Serving" not in out


@given(st.integers(-(10**6), 10**6))
def test_port_numbers_are_0_to_65535(number: int) -> None:
    if 0 <= number <= 65535:
        assert port_number(str(number)) == number
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            port_number(str(number))


@given(st.text())
def test_urlroot_must_be_absolute(text: str) -> None:
    if text.startswith("/"):
        assert urlroot_path(text) == text
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            urlroot_path(text)
