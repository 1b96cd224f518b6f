"""What ``mypy --strict`` makes of code-behind: typed request, response, error, abort, redirect.

Each test type-checks a code-behind file the way a user's project would (no
configuration but ``--strict``) and reads mypy's verdict.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

pytestmark = pytest.mark.slow  # mypy takes a second or two per run

GOOD = '''
from tincan import ErrorPage, Page, abort, redirect
from tincan_core import ErrorResponse, Request, Response


class Home(Page):
    def handle(self) -> None:
        name = self.request.query.get("name", "world")
        reveal_type(name)  # str
        user = self.request.get_cookie("user")
        if user is None:
            redirect("/login.pspx")
        reveal_type(user)  # str (redirect() does not return)
        count = self.request.query.get("n", 0, type=int)
        reveal_type(count)  # int
        self.response.status = 201
        reveal_type(self.response.status)  # str (set as a code, read as the line)
        self.response.set_cookie("seen", "1", max_age=60, httponly=True)
        self.response["X-Frame-Options"] = "DENY"
        upload = self.request.files.get("photo")
        if upload is None:
            abort(400, "no photo")
        reveal_type(upload.filename)  # str (abort() does not return)
        reveal_type(self.request.forms.getall("tag"))  # list[str]
        self.request.app.forward("/other.pspx")


class Legacy(Page):
    def __init__(self, req: Request, resp: Response) -> None:
        super().__init__(req=req, resp=resp)


class Missing(ErrorPage):
    def __init__(self, req: Request, err: ErrorResponse) -> None:
        super().__init__(req, err=err)

    def handle(self) -> None:
        reveal_type(self.error.status_code)  # int
        reveal_type(self.error.exception)  # BaseException | None
'''

BAD = '''
from tincan import Page, abort


class Wrong(Page):
    def handle(self) -> None:
        self.response.status = [404]  # error
        self.request.query.get(3)  # error
        self.request.no_such_thing  # error
        abort("404")  # error
'''


def mypy_strict(tmp_path: Path, source: str) -> list[tuple[int, str]]:
    """mypy's lines about ``source`` as (line number, message)."""
    (tmp_path / "mypy.ini").write_text("[mypy]\n")
    page = tmp_path / "page.py"
    page.write_text(source)
    out, err, _ = api.run([
        "--strict", "--config-file", str(tmp_path / "mypy.ini"),
        "--cache-dir", str(tmp_path / ".mypy_cache"), "--no-error-summary", str(page),
    ])
    assert not err, err
    found = []
    for line in out.splitlines():
        _, number, message = line.split(":", 2)
        found.append((int(number), message.strip()))
    return found


def marked(source: str, marker: str = "") -> dict[int, str]:
    """The lines of ``source`` whose comment starts with ``marker``: the comment's text
    up to any parenthesis, by line number."""
    lines = {}
    for number, line in enumerate(source.splitlines(), 1):
        _, hash_, comment = line.partition("  # ")
        if hash_ and comment.startswith(marker):
            lines[number] = comment.split(" (")[0]
    return lines


def test_code_behind_gets_useful_types(tmp_path: Path) -> None:
    found = mypy_strict(tmp_path, GOOD)
    assert not [m for _, m in found if m.startswith("error:")], found
    revealed = {
        number: re.sub(r'^note: Revealed type is "(.*)"$', r"\1", message)
        for number, message in found
    }
    assert revealed == marked(GOOD)


def test_mistakes_in_code_behind_are_type_errors(tmp_path: Path) -> None:
    found = mypy_strict(tmp_path, BAD)
    errors = {number for number, message in found if message.startswith("error:")}
    assert errors == set(marked(BAD, "error")), found
