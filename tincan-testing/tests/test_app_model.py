"""The request model of a real app in tests: make_page with #path values and a session,
webapp.url_for, settings for a test's webapps, and sessions and flash messages
across a Post/Redirect/Get through the in-process client."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from tincan_core import TinCanError
from tincan_testing import HTTPResponse, make_page
from tincan_testing.plugin import WebappFactory

SECRET = {
    "WEB-INF/tincan.toml": 'clean_urls = true\n[session]\nkey_file = "WEB-INF/secret.key"\n',
    "WEB-INF/secret.key": "a-secret-key-for-the-app-model-tests\n",
}
SITE = {
    **SECRET,
    "index.pspx": '<a href="${page.url_for(\'entry.pspx\', n=1)}">first</a>',
    "entry.pspx": (
        "#path <n:int>\n#methods GET POST\n"
        '<p tal:repeat="note page.flashed()">${note.category}: ${note.message}</p>'
        "<h1>Entry ${page.params['n']}</h1>"
    ),
    "entry.py": (
        "from tincan import Page, redirect\n"
        "class Entry(Page):\n"
        "    def handle(self):\n"
        "        self.doubled = self.params.get('n', 0) * 2\n"
        "        if self.request.method == 'POST':\n"
        "            self.session['signed'] = self.params['n']\n"
        "            self.flash('Thank you!', 'success')\n"
        "            redirect(self.url_for('entry.pspx', n=self.params['n']), 303)\n"
    ),
}


@pytest.fixture(autouse=True)
def no_secret_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TINCAN_SECRET_KEY", raising=False)


def test_make_page_takes_path_values_and_a_session(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp(SITE)
    entry = webapp.page_class("entry.pspx")
    page = make_page(entry, path="/entry/21", params={"n": 21}, app=webapp.app)
    page.handle()
    assert page.params == {"n": 21} and page.export()["doubled"] == 42
    assert "params" not in page.export()  # as served: page.params is no variable of its own

    posted = make_page(
        entry, method="POST", path="/entry/3", params={"n": 3}, session={"seen": True},
        app=webapp.app,
    )  # fmt: skip
    with pytest.raises(HTTPResponse) as redirected:
        posted.handle()
    assert redirected.value.headers["Location"].endswith("/entry/3")
    assert posted.session["seen"] is True and posted.session["signed"] == 3
    assert posted.session.modified
    assert [tuple(note) for note in posted.flashed()] == [("Thank you!", "success")]


def test_make_page_without_params_or_session_is_as_before(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp(SITE)
    page = make_page(webapp.page_class("entry.pspx"), app=webapp.app)
    assert page.params == {}
    assert dict(page.session) == {}  # from the (absent) cookie, with the webapp's key


def test_webapp_url_for_is_the_apps(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp(SITE, urlroot="/site")
    assert webapp.url_for("entry.pspx", n=7) == "/site/entry/7"
    assert webapp.url_for("/index.pspx", _query={"q": "a b"}) == "/site/?q=a+b"
    client = webapp.client()
    assert client.get(webapp.url_for("entry.pspx", n=7)).text.endswith("<h1>Entry 7</h1>")
    with pytest.raises(TinCanError, match=r"no #path of 'entry.pspx' takes exactly m"):
        webapp.url_for("entry.pspx", m=1)
    with pytest.raises(TinCanError, match=r"no page 'nowhere\.pspx'"):
        webapp.url_for("nowhere.pspx")


def test_the_client_sees_the_flash_message_after_the_redirect(
    tincan_webapp: WebappFactory,
) -> None:
    webapp = tincan_webapp(SITE)
    client = webapp.client()
    posted = client.post(webapp.url_for("entry.pspx", n=5))
    assert posted.status_code == 303
    assert posted.headers["location"] == "http://testserver/entry/5"
    assert "HttpOnly" in posted.headers["set-cookie"]
    shown = client.get(posted.headers["location"])
    assert shown.text.startswith("<p>success: Thank you!</p><h1>Entry 5</h1>")
    again = client.get("/entry/5")  # flashed once: gone on the next page
    assert again.text == "<h1>Entry 5</h1>"
    assert webapp.client().get("/entry/5").text == "<h1>Entry 5</h1>"  # another visitor


def test_settings_are_launch_keywords(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp(
        {"about.pspx": "<p>${page.request.app.settings.app['motto']}</p>"},
        settings={"clean_urls": True, "app": {"motto": "files are pages"}},
    )
    assert webapp.client().get("/about").text == "<p>files are pages</p>"


class TestSettingsFixture:
    @pytest.fixture
    def tincan_settings(self, tmp_path: Path) -> Mapping[str, Any]:
        return {"clean_urls": True, "app": {"database": str(tmp_path / "db.sqlite")}}

    def test_every_webapp_of_the_test_gets_them(
        self, tincan_webapp: WebappFactory, tmp_path: Path
    ) -> None:
        page = {"db.pspx": "<p>${page.request.app.settings.app.path('database')}</p>"}
        first, second = tincan_webapp(page), tincan_webapp(page)
        for webapp in (first, second):
            assert webapp.client().get("/db").text == f"<p>{tmp_path / 'db.sqlite'}</p>"

    def test_a_launchs_own_settings_are_laid_over_them(self, tincan_webapp: WebappFactory) -> None:
        webapp = tincan_webapp({"a.pspx": "<p>a</p>"}, settings={"clean_urls": False})
        assert webapp.client().get("/a").status_code == 404
        assert webapp.app is not None and "database" in webapp.app.settings.app


@pytest.mark.tincan(webapp={"b.pspx": "<p>b</p>"}, settings={"clean_urls": True})
def test_the_marker_takes_settings(tincan_client: Any) -> None:
    assert tincan_client.get("/b").text == "<p>b</p>"
