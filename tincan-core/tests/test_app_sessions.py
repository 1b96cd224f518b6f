"""Sessions, flash messages and non-template responses in a launched app."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from tincan_core._session import SECRET_ENV

if TYPE_CHECKING:  # at run time the conftest is no importable module in an unpacked sdist
    from .conftest import Launched

Launch = Callable[..., "Launched"]
KEY = "a-secret-key-for-the-tests-0123456789"


@pytest.fixture(autouse=True)
def no_secret_from_outside(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    yield


COUNTER = {
    "count.pspx": "#methods GET POST\n<p>${visits}</p>",
    "count.py": (
        "from tincan import Page\n"
        "class Count(Page):\n"
        "    def handle(self):\n"
        "        self.visits = self.session.get('visits', 0) + 1\n"
        "        self.session['visits'] = self.visits\n"
    ),
    "plain.pspx": "<p>no session here</p>",
    "sign.pspx": "#methods GET POST\n<p>form</p>",
    "sign.py": (
        "import bottle\n"
        "from tincan import Page\n"
        "class Sign(Page):\n"
        "    def handle(self):\n"
        "        if self.request.method == 'POST':\n"
        "            self.flash('Thanks for signing!')\n"
        "            self.flash('Mind the gap', 'warning')\n"
        "            bottle.redirect('/done.pspx', 303)\n"
    ),
    "done.pspx": (
        "<ul><li tal:repeat='f page.flashed()' class='${f.category}'>${f.message}</li></ul>"
    ),
}


def logged_failures(app: Launched) -> list[str]:
    """Each logged error with the exception it carries."""
    return [
        f"{r.getMessage()} {r.exc_info[1] if r.exc_info else ''}"
        for r in app.log.records
        if r.levelno >= logging.ERROR
    ]


def key_file_tree(files: dict[str, str]) -> dict[str, str]:
    return {
        **files,
        "WEB-INF/tincan.toml": '[session]\nkey_file = "WEB-INF/secret.key"\n',
        "WEB-INF/secret.key": KEY + "\n",
    }


def test_the_session_survives_requests_through_the_cookie(launch_webapp: Launch) -> None:
    app = launch_webapp(key_file_tree(COUNTER))
    assert app.errors == 0
    texts = [app.get("/count.pspx").text for _ in range(3)]
    assert texts == ["<p>1</p>", "<p>2</p>", "<p>3</p>"]
    cookie = app.client.cookies.get("tincan-session")
    assert cookie is not None and cookie.startswith("v1.")


def test_the_cookie_is_httponly_lax_and_only_sent_when_changed(launch_webapp: Launch) -> None:
    app = launch_webapp(key_file_tree(COUNTER))
    first = app.get("/count.pspx")
    set_cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Path=/" in set_cookie
    assert "Secure" not in set_cookie
    assert "Set-Cookie" not in app.get("/plain.pspx").headers
    secure = app.client.get("https://testserver/count.pspx")
    assert "Secure" in secure.headers["Set-Cookie"]


def test_a_tampered_cookie_is_an_empty_session(launch_webapp: Launch) -> None:
    app = launch_webapp(key_file_tree(COUNTER))
    app.get("/count.pspx")
    value = app.client.cookies["tincan-session"]
    app.client.cookies.clear()
    app.client.cookies.set("tincan-session", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert app.get("/count.pspx").text == "<p>1</p>"


def test_keys_rotate_and_the_environment_wins(
    launch_webapp: Launch, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = launch_webapp(key_file_tree(COUNTER))
    old.get("/count.pspx")
    cookie = old.client.cookies["tincan-session"]
    rotated = key_file_tree(COUNTER)
    rotated["WEB-INF/secret.key"] = "a-brand-new-key-for-the-tests-987\n" + KEY + "\n"
    new = launch_webapp(rotated)
    new.client.cookies.set("tincan-session", cookie)
    assert new.get("/count.pspx").text == "<p>2</p>"  # the old key still verifies
    monkeypatch.setenv(SECRET_ENV, "yet-another-key-from-the-environment")
    env = launch_webapp(rotated)
    env.client.cookies.set("tincan-session", cookie)
    assert env.get("/count.pspx").text == "<p>1</p>"  # only the environment's key now


def test_flash_messages_follow_a_redirect_once(launch_webapp: Launch) -> None:
    app = launch_webapp(key_file_tree(COUNTER))
    posted = app.request("POST", "/sign.pspx", follow_redirects=False)
    assert posted.status_code == 303
    assert "tincan-session=v1." in posted.headers["Set-Cookie"]
    shown = app.get("/done.pspx")
    assert "<li class='message'>Thanks for signing!</li>" in shown.text
    assert "<li class='warning'>Mind the gap</li>" in shown.text
    assert app.get("/done.pspx").text == "<ul></ul>"


def test_without_a_key_a_page_using_its_session_is_a_500_saying_what_to_set(
    launch_webapp: Launch,
) -> None:
    app = launch_webapp(COUNTER)
    assert app.errors == 0
    assert app.get("/plain.pspx").status_code == 200
    response = app.get("/count.pspx")
    assert response.status_code == 500
    assert "TINCAN_SECRET_KEY" not in response.text
    assert any(SECRET_ENV in m and "key_file" in m for m in logged_failures(app))


def test_a_missing_key_file_is_a_launch_error(launch_webapp: Launch) -> None:
    files = {**COUNTER, "WEB-INF/tincan.toml": '[session]\nkey_file = "WEB-INF/nope.key"\n'}
    app = launch_webapp(files)
    assert app.errors == 1
    assert "session key file does not exist" in app.log.errors()[0]


def test_a_session_too_large_for_a_cookie_is_a_500_naming_the_page(
    launch_webapp: Launch,
) -> None:
    files = key_file_tree(
        {
            "big.pspx": "<p>big</p>",
            "big.py": (
                "from tincan import Page\n"
                "class Big(Page):\n"
                "    def handle(self):\n"
                "        self.session['blob'] = 'x' * 5000\n"
            ),
        }
    )
    app = launch_webapp(files)
    assert app.get("/big.pspx").status_code == 500
    assert any("big.pspx" in m and "more than a cookie holds" in m for m in logged_failures(app))


RETURNS = {
    "data.pspx": "",
    "data.py": (
        "from tincan import Page\n"
        "class Data(Page):\n"
        "    def handle(self):\n"
        "        kind = self.request.query.get('kind')\n"
        "        if kind == 'list':\n"
        "            return [1, 'zwei', None]\n"
        "        if kind == 'text':\n"
        "            return 'plain text'\n"
        "        if kind == 'bytes':\n"
        "            self.response.content_type = 'application/octet-stream'\n"
        "            return b'\\x00\\x01'\n"
        "        if kind == 'odd':\n"
        "            return 42\n"
        "        if kind == 'nan':\n"
        "            return {'x': float('nan')}\n"
        "        return {'name': 'Jürgen', 'n': 3}\n"
    ),
}


def test_handle_returning_data_sends_json(launch_webapp: Launch) -> None:
    app = launch_webapp(RETURNS)
    response = app.get("/data.pspx")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"name": "Jürgen", "n": 3}
    assert app.get("/data.pspx?kind=list").json() == [1, "zwei", None]
    text = app.get("/data.pspx?kind=text")
    assert text.text == "plain text" and text.headers["Content-Type"].startswith("text/html")
    assert app.get("/data.pspx?kind=bytes").content == b"\x00\x01"


@pytest.mark.parametrize(("kind", "fragment"), [("odd", "handle() returned int"), ("nan", "")])
def test_returning_anything_else_is_a_logged_500(
    launch_webapp: Launch, kind: str, fragment: str
) -> None:
    app = launch_webapp(RETURNS, level=logging.INFO)
    response = app.get(f"/data.pspx?kind={kind}")
    assert response.status_code == 500
    errors = logged_failures(app)
    assert errors and "data.pspx" in errors[0] and fragment in "\n".join(errors)


def test_code_behind_that_sets_its_own_session_attribute_keeps_it(launch_webapp: Launch) -> None:
    # Written before sessions existed: ``self.session`` is just an attribute there.
    files = {
        "old.pspx": "<p>${session}</p>",
        "old.py": (
            "from tincan import Page\n"
            "class Old(Page):\n"
            "    def handle(self):\n"
            "        self.session = self.request.get_cookie('session') or 'none'\n"
        ),
    }
    app = launch_webapp(files)
    assert app.get("/old.pspx").text == "<p>none</p>"
    app.client.cookies.set("session", "abc")
    assert app.get("/old.pspx").text == "<p>abc</p>"
