"""End to end over ``examples/demo`` as shipped: routes, directives, code-behind,
forwards and error pages (SPEC §2-§6), through httpx in-process. Every test gets
the demo freshly launched (an empty guestbook) by tincan-testing's fixtures."""

from __future__ import annotations

import re
import uuid
from http import HTTPStatus

import httpx
import pytest
from tincan_testing import Webapp

from tests._helpers import DEMO, DEMO_URLS

# raise_server_exceptions=False: these tests look at the demo's 500 pages themselves
pytestmark = pytest.mark.tincan(
    webapp="../examples/demo", static=True, raise_server_exceptions=False
)

PAGE_URLS = [
    url
    for url, status, _ in DEMO_URLS
    if status != 301 and (".pspx" in url or not url.startswith(("/static", "/docs", "/api")))
]


def footer_path(response: httpx.Response) -> str:
    """The request path the page saw (the layout prints ``page.request.path``)."""
    match = re.search(r"Served by TinCan for <code>(.*?)</code>", response.text)
    assert match, response.text
    return match.group(1)


def main_of(response: httpx.Response) -> str:
    """The page's own content, without the layout around it (which shows the path)."""
    match = re.search(r"<main.*</main>", response.text, re.DOTALL)
    assert match, response.text
    return match.group(0)


def test_the_demo_launches_without_errors(tincan_app: Webapp) -> None:
    assert tincan_app.errors == 0
    assert tincan_app.problems() == []  # no errors, no warnings


@pytest.mark.parametrize(("url", "status", "marker"), DEMO_URLS)
def test_every_demo_url_answers(
    tincan_client: httpx.Client, url: str, status: int, marker: str
) -> None:
    response = tincan_client.get(url)
    assert response.status_code == status
    assert marker in response.text


# -- §2 routes -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/index", "/about/index", "/entries.PSPX", "/guestbook/"])
def test_the_extension_is_part_of_the_route(tincan_client: httpx.Client, url: str) -> None:
    # clean URLs drop ".pspx", nothing else: an index page's clean URL is its directory
    assert tincan_client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("clean", "page"),
    [("/guestbook", "/guestbook.pspx"), ("/theme", "/theme.pspx"),
     ("/about/deutsch", "/about/deutsch.pspx"), ("/entry/1", "/entry.pspx/1")],
)  # fmt: skip
def test_clean_urls_answer_as_the_pspx_urls_do(
    tincan_client: httpx.Client, clean: str, page: str
) -> None:
    by_clean, by_page = tincan_client.get(clean), tincan_client.get(page)
    assert by_clean.status_code == by_page.status_code == 200
    if clean == "/theme":  # a stylesheet, without the layout
        assert by_clean.text == by_page.text
    else:
        assert footer_path(by_clean) == clean
        assert main_of(by_clean) == main_of(by_page)


@pytest.mark.parametrize(
    ("alias", "index"),
    [
        ("/", "/index.pspx"),
        ("/about/", "/about/index.pspx"),
        ("/docs/", "/docs/index.html"),
    ],
)
def test_index_files_answer_for_their_directory(
    tincan_client: httpx.Client, alias: str, index: str
) -> None:
    by_alias, by_name = tincan_client.get(alias), tincan_client.get(index)
    assert by_alias.status_code == by_name.status_code == 200
    if index.endswith(".html"):
        assert by_alias.content == by_name.content
    else:  # the same page, seeing the path it was asked for
        assert footer_path(by_alias) == alias
        assert main_of(by_alias) == main_of(by_name)


@pytest.mark.parametrize(
    ("url", "location"), [("/about?lang=de", "/about/?lang=de"), ("/docs", "/docs/")]
)
def test_a_directory_without_its_slash_redirects_to_it(
    tincan_client: httpx.Client, url: str, location: str
) -> None:
    # Relative links of the index page resolve against the slash form.
    response = tincan_client.get(url)
    assert (response.status_code, response.headers["location"]) == (301, location)
    assert tincan_client.post("/docs").status_code == 405  # a static index takes GET only


@pytest.mark.parametrize(
    "url", ["/static/", "/static", "/errors/", "/errors", "/WEB-INF/", "/about//"]
)
def test_directories_without_an_index_are_404(tincan_client: httpx.Client, url: str) -> None:
    response = tincan_client.get(url)
    assert response.status_code == 404
    assert "<h1>Nothing here</h1>" in response.text  # the 404 page, not a listing


@pytest.mark.parametrize(
    "url",
    [
        "/Guestbook.pspx",
        "/GUESTBOOK.PSPX",
        "/About/",
        "/ABOUT",
        "/Docs/",
        "/static/Style.css",
        "/static/logo.PNG",
        "/Index.pspx",
        "/about/über uns.pspx",
    ],
)
def test_routes_are_case_sensitive(tincan_client: httpx.Client, url: str) -> None:
    assert tincan_client.get(url).status_code == 404


# -- §3 header and body ------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGE_URLS)
def test_pages_start_with_their_body_not_with_blank_header_lines(
    tincan_client: httpx.Client, url: str
) -> None:
    body = tincan_client.get(url).text
    assert body.startswith("<!DOCTYPE html>\n<html") or url == "/theme.pspx"
    assert "#rem" not in body and "#load" not in body and "metal:" not in body


def test_rem_lines_are_comments(tincan_client: httpx.Client) -> None:
    assert "It answers /index.pspx" in (DEMO / "index.pspx").read_text()
    assert "It answers" not in tincan_client.get("/").text


def test_end_closes_the_header_so_later_hash_lines_are_body(tincan_client: httpx.Client) -> None:
    response = tincan_client.get("/theme.pspx")
    assert response.text.startswith("#masthead { border-bottom-color: #0f766e; }\n")
    assert "#end" not in response.text and "#rem" not in response.text


def test_methods_lists_what_a_page_accepts(tincan_client: httpx.Client) -> None:
    assert (
        tincan_client.post("/guestbook.pspx", data={"name": "", "message": ""}).status_code == 422
    )
    response = tincan_client.delete("/guestbook.pspx")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"


@pytest.mark.parametrize("url", ["/about/", "/about", "/", "/entries.pspx", "/about/deutsch.pspx"])
def test_get_only_pages_refuse_post_with_405_and_allow(
    tincan_client: httpx.Client, url: str
) -> None:
    response = tincan_client.post(url)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    # through the error pages: the catch-all page with its own text
    assert "<h1>405 Method Not Allowed</h1>" in response.text
    assert "This address does not answer POST requests." in response.text


@pytest.mark.parametrize("url", ["/", "/guestbook.pspx", "/about/Über uns.pspx", "/docs/"])
def test_head_follows_get(tincan_client: httpx.Client, url: str) -> None:
    response = tincan_client.head(url)
    assert response.status_code == 200
    assert response.content == b""


def test_python_directive_lets_one_controller_drive_two_views(tincan_client: httpx.Client) -> None:
    cards, table = tincan_client.get("/entries.pspx"), tincan_client.get("/entries-table.pspx")
    count = re.search(r"<h1>All (\d+) entries</h1>", cards.text)
    assert count and f"<h1>All {count.group(1)} entries</h1>" in table.text
    numbers = re.findall(r'href="/entry/(\d+)"', cards.text)
    assert numbers and numbers == re.findall(r'href="/entry/(\d+)"', table.text)
    assert '<article class="entry">' not in table.text and "<table" not in cards.text


def test_template_directive_renders_another_pages_body(tincan_client: httpx.Client) -> None:
    english, german = tincan_client.get("/about/"), tincan_client.get("/about/Über uns.pspx")
    assert german.status_code == 200
    assert '<html lang="de">' in german.text and '<html lang="en">' in english.text
    # the body of index.pspx, the texts of the German page's own code-behind
    assert (
        german.text.count('<li class="member">') == english.text.count('<li class="member">') == 3
    )
    assert "Wer dahintersteckt" in german.text and "Who is behind it" not in german.text


def test_load_from_tlib_and_from_the_pages_directory(tincan_client: httpx.Client) -> None:
    about = tincan_client.get("/about/").text
    assert '<header id="masthead">' in about  # <layout.pt> from WEB-INF/tlib
    assert '<span class="avatar">A</span>' in about  # team.pt beside the page
    home = tincan_client.get("/").text
    assert '<article class="entry">' in home  # <w=widgets.pt>, as variable "w"


# -- §4 code-behind ----------------------------------------------------------------------------


def sign(client: httpx.Client, name: str, message: str, **kwargs: object) -> httpx.Response:
    return client.post("/guestbook.pspx", data={"name": name, "message": message}, **kwargs)  # type: ignore[arg-type]


def signed_entry(response: httpx.Response) -> int:
    """The number of the entry a successful POST redirected to (Post/Redirect/Get)."""
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"http://testserver/entry/(\d+)", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def test_signing_the_guestbook_redirects_to_the_new_entry(tincan_client: httpx.Client) -> None:
    name = f"Zoë {uuid.uuid4().hex[:8]}"
    response = sign(tincan_client, name, "Lovely little site!")
    number = signed_entry(response)
    assert response.content == b""  # nothing rendered for a POST: a refresh posts nothing
    entry = tincan_client.get(f"/entry/{number}")
    assert entry.status_code == 200
    assert "Lovely little site!" in entry.text and name in entry.text
    # the flash message the POST left, shown once on the page the redirect leads to
    thanks = f"Thank you, {name}! Your note is entry #{number}."
    assert f'<p class="notice success">{thanks}</p>' in entry.text
    assert thanks not in tincan_client.get(f"/entry/{number}").text
    assert name in tincan_client.get("/").text  # the newest entries on the home page
    listed = tincan_client.get("/api/entries").json()["entries"][0]
    assert (listed["number"], listed["name"], listed["url"]) == (number, name, f"/entry/{number}")


def test_entries_are_numbered_one_after_another(tincan_client: httpx.Client) -> None:
    first = signed_entry(sign(tincan_client, "One", "first"))
    second = signed_entry(sign(tincan_client, "Two", "second"))
    assert second == first + 1
    assert f'href="/entry/{first}">Older</a>' in tincan_client.get(f"/entry/{second}").text


def test_the_home_page_counts_entries_not_signings(tincan_client: httpx.Client) -> None:
    home = tincan_client.get("/").text
    assert "since this server started" not in home
    assert "The guestbook holds 2\n       entries." in home  # the two welcome notes
    sign(tincan_client, "Three", "third")
    assert "The guestbook holds 3\n       entries." in tincan_client.get("/").text


def test_the_json_endpoint_lists_the_entries(tincan_client: httpx.Client) -> None:
    response = tincan_client.get("/api/entries")
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert data["count"] == len(data["entries"]) == 2
    assert [e["number"] for e in data["entries"]] == [2, 1]  # newest first
    assert set(data["entries"][0]) == {"number", "name", "message", "signed", "url"}
    assert tincan_client.get("/api/entries.pspx").json() == data


def test_code_behind_sets_status_and_headers(tincan_client: httpx.Client) -> None:
    response = sign(tincan_client, "", "x" * 501)
    assert response.status_code == 422
    assert response.headers["cache-control"] == "no-store"
    assert "Please tell us your name." in response.text
    assert "Messages are limited to 500 characters." in response.text
    assert "set-cookie" not in response.headers  # the session did not change
    theme = tincan_client.get("/theme.pspx?accent=plum")
    assert theme.headers["content-type"] == "text/css; charset=utf-8"
    assert theme.headers["cache-control"] == "max-age=300"
    assert "--accent: #7e22ce;" in theme.text


def test_the_session_remembers_the_visitors_name(
    tincan_client: httpx.Client, tincan_app: Webapp
) -> None:
    name = f"Jürgen {uuid.uuid4().hex[:6]}"
    response = sign(tincan_client, name, "Hallo!")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("tincan-session=v1.")  # signed, not the name in clear
    assert name not in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/;" in cookie
    form = tincan_client.get("/guestbook")
    assert f'<input id="name" name="name" value="{name}"' in form.text
    assert f"Welcome back, {name}!" in tincan_client.get("/").text
    stranger = tincan_app.client()  # another browser: no session
    assert 'value=""' in stranger.get("/guestbook").text
    assert "Welcome back" not in stranger.get("/").text


def test_a_forged_session_cookie_is_an_empty_session(tincan_app: Webapp) -> None:
    client = tincan_app.client()
    sign(client, "Mallory", "hi")
    value = client.cookies["tincan-session"]
    payload = value.split(".")[1]
    forged = value.replace(payload, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"))
    other = tincan_app.client(cookies={"tincan-session": forged})
    response = other.get("/guestbook")
    assert response.status_code == 200 and 'value=""' in response.text


def test_template_variables_are_escaped(tincan_client: httpx.Client) -> None:
    name, message = "<script>alert(1)</script>", 'He said "hi" & <b>left</b>'
    number = signed_entry(sign(tincan_client, name, message))
    entry = tincan_client.get(f"/entry/{number}").text
    assert "<script>alert(1)</script>" not in entry
    assert "Thank you, &lt;script&gt;alert(1)&lt;/script&gt;!" in entry  # the flash message
    listing = tincan_client.get("/entries.pspx").text
    assert '<p class="message">He said "hi" &amp; &lt;b&gt;left&lt;/b&gt;</p>' in listing
    form = tincan_client.get("/guestbook.pspx")
    assert (
        '<input id="name" name="name" value="&lt;script&gt;alert(1)&lt;/script&gt;"' in form.text
    )


def test_redirect_from_code_behind(tincan_client: httpx.Client) -> None:
    response = tincan_client.get("/entry.pspx")
    assert response.status_code == 303
    assert response.headers["location"] == "http://testserver/entries"
    old = tincan_client.get("/entry.pspx?n=2")  # an entry's address in an older version
    assert (old.status_code, old.headers["location"]) == (301, "http://testserver/entry/2")


@pytest.mark.parametrize(
    ("url", "number"),
    [("/entry/999999", "999999"), ("/entry/-1", "-1"), ("/entry.pspx?n=abc", "abc"),
     ("/entry.pspx?n=-1", "-1"), (f"/entry/{'9' * 100}", "9" * 40 + "...")],
)  # fmt: skip
def test_abort_from_code_behind_goes_through_the_error_page(
    tincan_client: httpx.Client, url: str, number: str
) -> None:
    response = tincan_client.get(url)
    assert response.status_code == 404
    assert f"There is no entry #{number}." in response.text
    assert '<header id="masthead">' in response.text


@pytest.mark.parametrize("url", ["/entry/abc", "/entry/1.5", "/entry/1/2", "/entry.pspx/x"])
def test_a_number_its_filter_refuses_is_a_404_before_any_code(
    tincan_client: httpx.Client, tincan_app: Webapp, url: str
) -> None:
    response = tincan_client.get(url)
    assert response.status_code == 404
    assert "There is no page at <code>" in response.text  # the router's 404, not entry.py's
    assert tincan_app.last_page is not None and tincan_app.last_page.page == "errors/404.pspx"


def test_every_link_follows_the_urlroot_and_clean_urls(tincan_client: httpx.Client) -> None:
    for url in ("/", "/guestbook", "/entries", "/entries-table", "/entry/1", "/about/"):
        text = tincan_client.get(url).text
        links = re.findall(r'(?:href|action|src)="([^"]*)"', text)
        assert links, url
        pages = [link for link in links if link.startswith("/") and ".pspx" in link]
        assert pages == [], (url, pages)  # every page link is the clean one url_for wrote


def test_exception_becomes_the_500_page_without_traceback(
    tincan_client: httpx.Client, tincan_app: Webapp
) -> None:
    response = tincan_client.get("/crash.pspx")
    assert response.status_code == 500
    assert "<h1>Something went wrong on our side</h1>" in response.text
    leaks = ("Traceback", "RuntimeError", "on purpose", "crash.py", str(DEMO), 'File "')
    for leak in (*leaks, str(tincan_app.root)):
        assert leak not in response.text
    logged = tincan_app.records[-1]
    assert "error serving /crash.pspx" in logged.getMessage()
    assert logged.exc_info and "on purpose" in str(logged.exc_info[1])


# -- §5 forwards -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/home.pspx", "/start.pspx"])
def test_forward_chain_keeps_the_url_and_request_path(
    tincan_client: httpx.Client, url: str
) -> None:
    response = tincan_client.get(url)
    assert response.status_code == 200
    assert not response.history and str(response.url) == f"http://testserver{url}"
    assert footer_path(response) == url
    assert main_of(response) == main_of(tincan_client.get("/"))


def test_forward_target_written_as_a_string_literal(tincan_client: httpx.Client) -> None:
    response = tincan_client.get("/about/deutsch.pspx")
    assert "<h1>Über diese Seite</h1>" in response.text
    assert footer_path(response) == "/about/deutsch.pspx"


@pytest.mark.parametrize("url", ["/about/?lang=de", "/about/index.pspx?lang=de"])
def test_programmatic_forward_to_a_name_with_space_and_umlaut(
    tincan_client: httpx.Client, url: str
) -> None:
    response = tincan_client.get(url)
    assert response.status_code == 200
    assert "<h1>Über diese Seite</h1>" in response.text
    assert footer_path(response) == "/about/Über uns.pspx"
    assert tincan_client.get(url.replace("lang=de", "lang=en")).text.count("About this site") == 1


# -- §6 error pages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "status", "heading"),
    [
        ("GET", "/no-such-page.pspx", 404, "<h1>Nothing here</h1>"),
        ("GET", "/static/missing.css", 404, "<h1>Nothing here</h1>"),
        ("GET", "/WEB-INF/tlib/layout.pt", 404, "<h1>Nothing here</h1>"),
        ("GET", "/crash.pspx", 500, "<h1>Something went wrong on our side</h1>"),
        ("PUT", "/about/", 405, "<h1>405 Method Not Allowed</h1>"),
        # the phrase is Python's: "Range Not Satisfiable" (RFC 9110) from 3.13 on
        ("GET", "/static/style.css", 416, f"<h1>416 {HTTPStatus(416).phrase}</h1>"),
    ],
)
def test_error_pages_keep_the_status(
    tincan_client: httpx.Client, method: str, url: str, status: int, heading: str
) -> None:
    headers = {"Range": "bytes=999999-"} if status == 416 else {}
    response = tincan_client.request(method, url, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "text/html; charset=UTF-8"
    assert heading in response.text
    assert '<header id="masthead">' in response.text  # the layout: a real error page
    for leak in ("None", "HTTPError", "object at 0x", "Traceback"):
        assert leak not in response.text


def test_error_pages_sharing_one_body_through_template(tincan_client: httpx.Client) -> None:
    server_error, other = tincan_client.get("/crash.pspx"), tincan_client.post("/about/")
    shared = re.compile(r'<main class="error">\s*<h1>.*</h1>\s*<p>.*</p>\s*<p><a href="/">Back')
    assert shared.search(server_error.text) and shared.search(other.text)
    assert "WEB-INF/templates/error.pspx" in (DEMO / "errors" / "500.pspx").read_text()


def test_error_page_code_behind_sees_request_and_error(tincan_client: httpx.Client) -> None:
    response = tincan_client.get("/nowhere/at/all.pspx")
    assert "There is no page at <code>/nowhere/at/all.pspx</code>" in response.text


@pytest.mark.parametrize(
    ("old", "new"), [("/guestbook.html", "/guestbook"), ("/about.html", "/about/")]
)
def test_redirect_from_an_error_page_is_sent(
    tincan_client: httpx.Client, old: str, new: str
) -> None:
    response = tincan_client.get(old)
    assert response.status_code == 301
    assert response.headers["location"] == f"http://testserver{new}"
    assert tincan_client.get(old, follow_redirects=True).status_code == 200
