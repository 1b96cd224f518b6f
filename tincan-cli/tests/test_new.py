"""``tincan new``: the starter project: its webapp launches with no errors, every page
is a standards-mode HTML page, a page added as the index suggests works, its own
tests pass (and type-check), and wsgi.py serves it."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
import tincan
from tincan_cli import main
from tincan_cli._new import project_name, starter_files

EXPECTED_FILES = {
    "README.md",
    "wsgi.py",
    "tests/test_site.py",
    "webapp/WEB-INF/tlib/layout.pt",
    "webapp/WEB-INF/lib/site_helpers.py",
    "webapp/index.pspx",
    "webapp/index.py",
    "webapp/about.pspx",
    "webapp/error.pspx",
    "webapp/style.css",
}


@pytest.fixture
def starter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    target = tmp_path / "mysite"
    assert main(["new", str(target)]) == 0
    out = capsys.readouterr().out
    assert "tincan serve --static --reload" in out
    return target


GENERATED = {
    ".gitignore",
    "pyproject.toml",
    "webapp/WEB-INF/tincan.toml",
    "webapp/WEB-INF/secret.key",
}


def test_starter_has_every_part(starter: Path) -> None:
    made = {path.relative_to(starter).as_posix() for path in starter.rglob("*") if path.is_file()}
    assert made == EXPECTED_FILES | GENERATED
    assert set(starter_files()) == EXPECTED_FILES  # no bytecode or dot files shipped


def test_every_new_webapp_gets_its_own_session_key(tmp_path: Path) -> None:
    keys = []
    for name in ("one", "two"):
        assert main(["new", str(tmp_path / name)]) == 0
        key_file = tmp_path / name / "webapp" / "WEB-INF" / "secret.key"
        assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
        keys.append(key_file.read_text().strip())
        ignored = (tmp_path / name / ".gitignore").read_text().splitlines()
        assert "/webapp/WEB-INF/secret.key" in ignored
    assert keys[0] != keys[1] and len(keys[0]) >= 32


def test_the_starters_sessions_work_with_its_key(
    starter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TINCAN_SECRET_KEY", raising=False)
    app, errors = tincan.launch(starter / "webapp")
    assert app is not None and errors == 0
    assert app.sessions.codec is not None


def test_starter_launches_with_no_errors_and_renders(starter: Path) -> None:
    app, errors = tincan.launch(starter / "webapp", static=True)
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
    app, errors = tincan.launch(starter / "webapp", "/site", static=True)
    assert app is not None and errors == 0
    with httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://testserver"
    ) as client:
        for path in ("/site/", "/site/about.pspx", "/site/nothing"):
            page = client.get(path).text
            assert 'href="/site/style.css"' in page and 'href="/site/"' in page, path


def test_starter_tests_pass(starter: Path) -> None:
    """The generated tests, run the way its README says (from the project directory)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
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
    assert (tmp_path / "webapp" / "WEB-INF" / "tlib" / "layout.pt").is_file()


def client(app: object) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver")


def test_every_page_of_the_starter_starts_with_a_doctype(starter: Path) -> None:
    # Chameleon keeps no doctype from the layout's macro file: each page has its own.
    app, errors = tincan.launch(starter / "webapp", static=True)
    assert errors == 0
    with client(app) as web:
        for path in ("/", "/index.pspx", "/about.pspx", "/missing.pspx"):
            assert web.get(path).text.startswith('<!DOCTYPE html>\n<html lang="en">'), path


def test_a_page_added_as_the_index_suggests_works_and_checks_clean(
    starter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    webapp = starter / "webapp"
    assert (
        "copy" in (webapp / "index.pspx").read_text()
        and "about.pspx" in (webapp / "index.pspx").read_text()
    )
    # Copied without code-behind, in a subdirectory too, and edited a little.
    about = (webapp / "about.pspx").read_text(encoding="utf-8")
    (webapp / "contact.pspx").write_text(about.replace("About", "Contact"), encoding="utf-8")
    (webapp / "team").mkdir()
    (webapp / "team" / "index.pspx").write_text(about.replace("About", "Ümlaut team"))
    app, errors = tincan.launch(webapp, static=True)
    assert errors == 0
    with client(app) as web:
        for path, title in (("/contact.pspx", "Contact"), ("/team/", "Ümlaut team")):
            page = web.get(path)
            assert page.status_code == 200, page.text
            assert page.text.startswith("<!DOCTYPE html>")
            assert f"<title>{title} · My TinCan site</title>" in page.text
            assert '<link rel="stylesheet" href="/style.css">' in page.text
    capsys.readouterr()
    assert main(["check", "--strict", str(webapp)]) == 0
    assert capsys.readouterr().out == "5 pages checked: 0 errors, 0 warnings, 0 notes\n"


def test_the_starter_checks_clean_and_hints_at_its_webapp(
    starter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["check", "--strict", str(starter / "webapp")]) == 0
    assert capsys.readouterr().out == "3 pages checked: 0 errors, 0 warnings, 0 notes\n"
    assert main(["check", str(starter)]) == 1
    assert f"{starter / 'webapp'} is one" in capsys.readouterr().err


def test_the_starters_pyproject_and_readme_name_this_release(starter: Path) -> None:
    project = tomllib.loads((starter / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "mysite"
    assert project["project"]["dependencies"] == ["tincan>=0.2,<0.3"]
    assert "tincan[testing]>=0.2,<0.3" in project["dependency-groups"]["dev"]
    readme = (starter / "README.md").read_text(encoding="utf-8")
    assert 'pip install --find-links DIST "tincan[testing]>=0.2,<0.3" mypy' in readme
    assert "{" not in readme  # no placeholder left
    ignored = (starter / ".gitignore").read_text().splitlines()
    assert {".venv/", "__pycache__/", ".pytest_cache/", "/webapp/WEB-INF/secret.key"} <= set(
        ignored
    )


def test_the_starters_wsgi_script_serves_the_webapp(
    starter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(starter))
    namespace = runpy.run_path(str(starter / "wsgi.py"), run_name="wsgi")
    with client(namespace["application"]) as web:
        home = web.get("/", params={"name": "Jürgen"})
        assert home.status_code == 200 and "Jürgen!" in home.text
        assert web.get("/style.css").status_code == 404  # the web server serves static files


def test_the_starters_tests_and_wsgi_script_pass_mypy_strict(starter: Path) -> None:
    pytest.importorskip("mypy", reason="mypy is a development tool of the repository")
    done = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=starter, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found in 2 source files" in done.stdout


@pytest.mark.parametrize(
    ("directory", "name"), [("mysite", "mysite"), ("My Site 2", "my-site-2"), ("_", "webapp")]
)
def test_project_names_are_valid(directory: str, name: str) -> None:
    assert project_name(directory) == name
