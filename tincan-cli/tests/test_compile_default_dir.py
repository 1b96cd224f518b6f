"""``tincan compile`` without DIR compiles the current directory, as serve and routes do."""

from __future__ import annotations

from pathlib import Path

import pytest
from tincan_cli import main


def test_compile_defaults_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "WEB-INF").mkdir()
    (tmp_path / "index.pspx").write_text("<p>${1 + 1}</p>\n")
    (tmp_path / "broken.pspx").write_text("#nosuch directive\n<p/>\n")
    monkeypatch.chdir(tmp_path)
    assert main(["compile"]) == 1  # the broken page is listed, as with DIR
    captured = capsys.readouterr()
    assert f"{tmp_path / 'broken.pspx'}:1:" in captured.out + captured.err
    (tmp_path / "broken.pspx").unlink()
    assert main(["compile", "-q"]) == 0
    assert any((tmp_path / "WEB-INF").glob(".tincan-cache*"))


def test_compile_outside_a_webapp_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["compile"]) == 1
    assert capsys.readouterr().err == "tincan compile: .: not a webapp (no WEB-INF directory)\n"


def test_compile_help_shows_dir_as_optional(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "--help"]) == 0
    assert "[DIR]" in capsys.readouterr().out
