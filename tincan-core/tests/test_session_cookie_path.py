"""The session cookie's Path is where the webapp lives: SCRIPT_NAME, then the urlroot,
so two webapps on one host (different urlroots) never share or clobber a session."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tincan_core._session import _cookie_path
from tincan_testing.plugin import WebappFactory

SITE = {
    "WEB-INF/tincan.toml": '[session]\nkey_file = "WEB-INF/k.key"\n',
    "WEB-INF/k.key": "a-key-for-the-cookie-path-tests\n",
    "count.pspx": "<p>${visits}</p>",
    "count.py": (
        "from tincan import Page\n"
        "class Count(Page):\n"
        "    def handle(self):\n"
        "        self.visits = self.session['visits'] = self.session.get('visits', 0) + 1\n"
    ),
}


@pytest.fixture(autouse=True)
def no_secret_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TINCAN_SECRET_KEY", raising=False)


@pytest.mark.parametrize(
    ("urlroot", "path"),
    [("/", "/"), ("/shop", "/shop/"), ("/shop/", "/shop/"), ("/über", "/%C3%BCber/")],
)
def test_the_cookie_path_is_the_urlroot(
    tincan_webapp: WebappFactory, urlroot: str, path: str
) -> None:
    webapp = tincan_webapp(SITE, urlroot=urlroot)
    client = webapp.client()
    response = client.get(urlroot.rstrip("/") + "/count.pspx")
    assert response.status_code == 200, response.text
    assert f"; Path={path}; HttpOnly" in response.headers["set-cookie"]
    assert client.get(urlroot.rstrip("/") + "/count.pspx").text == "<p>2</p>"


@pytest.mark.parametrize(
    ("script_name", "urlroot", "path"),
    [("/mounted", "/shop", "/mounted/shop/"), ("/mounted/", "/", "/mounted/"), ("", "/", "/")],
)
def test_a_mounted_app_adds_script_name(script_name: str, urlroot: str, path: str) -> None:
    class App:
        config = {"tincan.urlroot": urlroot}

    assert _cookie_path({"SCRIPT_NAME": script_name, "bottle.app": App()}) == path


@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20))
def test_the_path_is_always_one_attribute(segment: str) -> None:
    class App:
        config = {"tincan.urlroot": "/" + segment.strip("/")}

    path = _cookie_path({"bottle.app": App()})
    assert path.startswith("/") and path.endswith("/")
    assert path.isascii() and not any(c in path for c in ";, \t\r\n")
