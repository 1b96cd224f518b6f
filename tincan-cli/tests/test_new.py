"""``tincan new``: the starter webapp launches with no errors and its own tests pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import tincan
from tincan_cli import main
from tincan_cli._new import starter_files

EXPECTED_FILES = {
    "WEB-INF/tlib/layout.pt",
    "WEB-INF/lib/site_helpers.py",
    "index.pspx",
    "index.py",
    "error.pspx",
    "error.py",
    "style.css",
    "tests/test_site.py",
}


@pytest.fixture
def starter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    target = tmp_path / "mysite"
    assert main(["new", str(target)]) == 0
    out = capsys.readouterr().out
    assert "tincan serve --static --reload" in out
    return target


GENERATED = {".gitignore", "WEB-INF/tincan.toml", "WEB-INF/secret.key"}


def test_starter_has_every_part(starter: Path) -> None:
    made = {path.relative_to(starter).as_posix() for path in starter.rglob("*") if path.is_file()}
    assert made == EXPECTED_FILES | GENERATED
    assert set(starter_files()) == EXPECTED_FILES  # no bytecode or dot files shipped


def test_every_new_webapp_gets_its_own_session_key(tmp_path: Path) -> None:
    keys = []
    for name in ("one", "two"):
        assert main(["new", str(tmp_path / name)]) == 0
        key_file = tmp_path / name / "WEB-INF" / "secret.key"
        assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
        keys.append(key_file.read_text().strip())
        assert "/WEB-INF/secret.key" in (tmp_path / name / ".gitignore").read_text().splitlines()
    assert keys[0] != keys[1] and len(keys[0]) >= 32


def test_the_starters_sessions_work_with_its_key(
    starter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TINCAN_SECRET_KEY", raising=False)
    app, errors = tincan.launch(starter)
    assert app is not None and errors == 0
    assert app.sessions.codec is not None


def test_starter_launches_with_no_errors_and_renders(starter: Path) -> None:
    app, errors = tincan.launch(starter, static=True)
    assert app is not None and errors == 0
    with httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://testserver"
    ) as client:
        home = client.get("/", params={"name": "Grace"})
        assert home.status_code == 200
        assert "Grace!" in home.text
        assert 'href="/style.css"' in home.text  # the layout macro from WEB-INF/tlib
        missing = client.get("/nothing-here")
        assert missing.status_code == 404
        assert "There is no page at" in missing.text
        assert client.get("/style.css").status_code == 200


def test_starter_works_below_a_urlroot(starter: Path) -> None:
    app, errors = tincan.launch(starter, "/site", static=True)
    assert app is not None and errors == 0
    with httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://testserver"
    ) as client:
        assert 'href="/site/style.css"' in client.get("/site/").text


def test_starter_tests_pass(starter: Path) -> None:
    """The generated tests/test_site.py, run the way its docstring says."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=starter,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout


def test_refuses_a_non_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["new", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err == f"tincan new: {tmp_path}: directory is not empty; choose a new or empty one\n"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_refuses_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["new", str(tmp_path / "file")]) == 1
    assert "exists and is not a directory" in capsys.readouterr().err


def test_fills_an_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", str(tmp_path)]) == 0
    assert (tmp_path / "WEB-INF" / "tlib" / "layout.pt").is_file()
