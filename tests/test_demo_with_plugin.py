"""An example test suite for ``examples/demo``, written the way a TinCan user writes one:
with the ``tincan-testing`` fixtures, traces, ``make_page`` and the ready-made checks."""

from __future__ import annotations

import bottle
import httpx
import pytest
from tincan_testing import LiveServer, Webapp, make_page, trace
from tincan_testing.checks import assert_hidden_like_missing, check_webapp

pytestmark = pytest.mark.tincan(webapp="../examples/demo", static=True)


def test_the_home_page_shows_the_newest_entries(tincan_client: httpx.Client) -> None:
    response = tincan_client.get("/")
    assert response.status_code == 200
    assert "Welcome to the TinCan guestbook" in response.text
    visit = trace(response)[-1]
    assert (visit.page, visit.page_class.__name__) == ("index.pspx", "HomePage")
    assert visit.variables is not None
    assert 0 < len(visit.variables["entries"]) <= 3


@pytest.mark.parametrize("old", ["/home.pspx", "/start.pspx"])
def test_old_addresses_are_served_by_the_home_page(tincan_client: httpx.Client, old: str) -> None:
    response = tincan_client.get(old)
    assert response.status_code == 200 and response.url.path == old
    (visit,) = trace(response)
    assert (visit.page, visit.target) == (old.lstrip("/"), "index.pspx")


def test_signing_redirects_to_the_entry_with_a_flash_message(
    tincan_client: httpx.Client, tincan_app: Webapp
) -> None:
    response = tincan_client.post("/guestbook", data={"name": "Grace", "message": "Hi!"})
    assert response.status_code == 303
    assert response.headers["location"] == "http://testserver" + tincan_app.url_for(
        "entry.pspx", n=3
    )
    assert [visit.page for visit in trace(response)] == ["guestbook.pspx"]
    entry = tincan_client.get(response.headers["location"])
    assert "Thank you, Grace! Your note is entry #3." in entry.text
    assert trace(entry)[-1].instance is not None
    assert trace(entry)[-1].instance.params == {"n": 3}  # type: ignore[attr-defined]
    assert "Hi!" in tincan_client.get("/entries").text


def test_a_bad_form_is_shown_again_with_its_problems(tincan_client: httpx.Client) -> None:
    response = tincan_client.post("/guestbook.pspx", data={"name": "", "message": ""})
    assert response.status_code == 422
    variables = trace(response)[-1].variables
    assert variables is not None and set(variables["problems"]) == {"name", "message"}


def test_every_test_starts_with_a_fresh_guestbook(tincan_client: httpx.Client) -> None:
    response = tincan_client.get("/entries.pspx")
    assert response.status_code == 200
    assert "Grace" not in response.text  # who signed in the test above


def test_the_source_of_a_page_cannot_be_told_from_a_missing_file(
    tincan_client: httpx.Client,
) -> None:
    assert_hidden_like_missing(tincan_client, "/guestbook.py", "/no-such-page.pspx")


@pytest.mark.tincan(raise_server_exceptions=False)  # the 500 page, not the exception
def test_a_failing_page_gets_the_500_page_and_its_error_is_logged(
    tincan_client: httpx.Client, tincan_app: Webapp
) -> None:
    response = tincan_client.get("/crash.pspx")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "Traceback" not in response.text
    assert [visit.page for visit in trace(response)] == ["crash.pspx", "errors/500.pspx"]
    assert any("this page fails on purpose" in line for line in tincan_app.messages)


def test_the_entry_page_redirects_without_a_number(tincan_app: Webapp) -> None:
    EntryPage = tincan_app.page_class("entry.pspx")
    page = make_page(EntryPage, path="/entry.pspx", app=tincan_app.app)
    with pytest.raises(bottle.HTTPResponse) as redirect:
        page.handle()
    assert redirect.value.status_code in (302, 303)
    assert redirect.value.headers["Location"].endswith(tincan_app.url_for("entries.pspx"))


def test_the_entry_page_takes_its_number_from_the_url(tincan_app: Webapp) -> None:
    EntryPage = tincan_app.page_class("entry.pspx")
    page = make_page(EntryPage, path="/entry/2", params={"n": 2}, app=tincan_app.app)
    page.handle()
    variables = page.export()
    assert variables["entry"].name == "Ada" and variables["older"] == 1
    assert variables["newer"] is None
    missing = make_page(EntryPage, path="/entry/9", params={"n": 9}, app=tincan_app.app)
    with pytest.raises(bottle.HTTPError) as aborted:
        missing.handle()
    assert aborted.value.status_code == 404


def test_the_guestbook_page_remembers_the_session_name(tincan_app: Webapp) -> None:
    page = make_page(
        tincan_app.page_class("guestbook.pspx"), session={"name": "Grace"}, app=tincan_app.app
    )
    page.handle()
    assert page.export()["name"] == "Grace" and not page.session.modified


@pytest.mark.tincan(urlroot="/guestbook")
def test_the_demo_works_below_a_urlroot(tincan_client: httpx.Client) -> None:
    response = tincan_client.get("/guestbook/")
    assert response.status_code == 200
    assert 'href="/guestbook/entries"' in response.text
    assert tincan_client.get("/entries.pspx").status_code == 404


def test_the_live_server_serves_pages_and_static_files(tincan_live_server: LiveServer) -> None:
    with httpx.Client(base_url=tincan_live_server.url) as client:
        assert client.get("/about/").status_code == 200
        style = client.get("/static/style.css")
        assert style.status_code == 200
        assert style.headers["content-type"].startswith("text/css")


def test_the_demo_passes_every_ready_made_check(tincan_app: Webapp) -> None:
    check_webapp(tincan_app, allow_server_errors=["/crash.pspx", "/crash"])
