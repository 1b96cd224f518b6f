"""End to end over ``examples/demo`` as shipped: routes, directives, code-behind,
forwards and error pages (SPEC §2-§6), through httpx in-process. Every test gets
the demo freshly launched (an empty guestbook) by tincan-testing's fixtures."""

from __future__ import annotations

import re
import uuid

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
    if status != 301 and (".pspx" in url or not url.startswith(("/static", "/docs")))
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


@pytest.mark.parametrize(
    "url", ["/guestbook", "/index", "/about/index", "/entries.PSPX", "/theme"]
)
def test_the_extension_is_part_of_the_route(tincan_client: httpx.Client, url: str) -> None:
    assert tincan_client.get(url).status_code == 404


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


def test_hidden_page_has_no_route(tincan_client: httpx.Client) -> None:
    assert tincan_client.get("/thanks.pspx").status_code == 404
    assert tincan_client.post("/thanks.pspx", data={"name": "x"}).status_code == 404


def test_python_directive_lets_one_controller_drive_two_views(tincan_client: httpx.Client) -> None:
    cards, table = tincan_client.get("/entries.pspx"), tincan_client.get("/entries-table.pspx")
    count = re.search(r"<h1>All (\d+) entries</h1>", cards.text)
    assert count and f"<h1>All {count.group(1)} entries</h1>" in table.text
    numbers = re.findall(r'entry\.pspx\?n=(\d+)"', cards.text)
    assert numbers and numbers == re.findall(r'entry\.pspx\?n=(\d+)"', table.text)
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


def test_signing_the_guestbook(tincan_client: httpx.Client) -> None:
    name = f"Zoë {uuid.uuid4().hex[:8]}"
    response = sign(tincan_client, name, "Lovely little site!")
    assert response.status_code == 200
    assert f"<h1>Thank you, {name}!</h1>" in response.text
    number = re.search(r"Your note is entry\s+<a href=\"/entry.pspx\?n=(\d+)\">", response.text)
    assert number
    entry = tincan_client.get(f"/entry.pspx?n={number.group(1)}")
    assert entry.status_code == 200
    assert "Lovely little site!" in entry.text and name in entry.text
    assert name in tincan_client.get("/").text  # the newest entries on the home page


def test_code_behind_sets_status_and_headers(tincan_client: httpx.Client) -> None:
    response = sign(tincan_client, "", "x" * 501)
    assert response.status_code == 422
    assert response.headers["cache-control"] == "no-store"
    assert "Please tell us your name." in response.text
    assert "Messages are limited to 500 characters." in response.text
    theme = tincan_client.get("/theme.pspx?accent=plum")
    assert theme.headers["content-type"] == "text/css; charset=utf-8"
    assert theme.headers["cache-control"] == "max-age=300"
    assert "--accent: #7e22ce;" in theme.text


def test_code_behind_sets_and_reads_cookies(tincan_client: httpx.Client) -> None:
    name = f"Jürgen {uuid.uuid4().hex[:6]}"
    response = sign(tincan_client, name, "Hallo!")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("guestbook_name=J%C3%BCrgen%20")
    assert "HttpOnly" in cookie and "Path=/;" in cookie
    value = cookie.split(";")[0].partition("=")[2]
    form = tincan_client.get("/guestbook.pspx", headers={"Cookie": f"guestbook_name={value}"})
    assert f'<input id="name" name="name" value="{name}"' in form.text


def test_template_variables_are_escaped(tincan_client: httpx.Client) -> None:
    name, message = "<script>alert(1)</script>", 'He said "hi" & <b>left</b>'
    response = sign(tincan_client, name, message)
    assert "<script>alert(1)</script>" not in response.text
    assert "Thank you, &lt;script&gt;alert(1)&lt;/script&gt;!" in response.text
    listing = tincan_client.get("/entries.pspx").text
    assert '<p class="message">He said "hi" &amp; &lt;b&gt;left&lt;/b&gt;</p>' in listing
    form = tincan_client.get("/guestbook.pspx", headers={"Cookie": "guestbook_name=%22%3E%3Cb%3E"})
    assert '<input id="name" name="name" value="&quot;&gt;&lt;b&gt;"' in form.text


def test_redirect_from_code_behind(tincan_client: httpx.Client) -> None:
    response = tincan_client.get("/entry.pspx")
    assert response.status_code == 303
    assert response.headers["location"] == "http://testserver/entries.pspx"


@pytest.mark.parametrize("number", ["999999", "abc", "-1"])
def test_abort_from_code_behind_goes_through_the_error_page(
    tincan_client: httpx.Client, number: str
) -> None:
    response = tincan_client.get(f"/entry.pspx?n={number}")
    assert response.status_code == 404
    assert f"There is no entry #{number}." in response.text
    assert '<header id="masthead">' in response.text


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


def test_programmatic_forward_target_sees_its_own_path(tincan_client: httpx.Client) -> None:
    response = sign(tincan_client, "Fwd", "forwarded")
    assert str(response.url) == "http://testserver/guestbook.pspx" and not response.history
    assert footer_path(response) == "/thanks.pspx"  # a hidden page, reached by forward
    # the same request went on: the form is readable and the cookie set before forwarding stays
    assert "<h1>Thank you, Fwd!</h1>" in response.text
    assert response.headers["set-cookie"].startswith("guestbook_name=Fwd;")
    assert response.headers["cache-control"] == "no-store"


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
        ("GET", "/static/style.css", 416, "<h1>416 Requested Range Not Satisfiable</h1>"),
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
    ("old", "new"), [("/guestbook.html", "/guestbook.pspx"), ("/about.html", "/about/")]
)
def test_redirect_from_an_error_page_is_sent(
    tincan_client: httpx.Client, old: str, new: str
) -> None:
    response = tincan_client.get(old)
    assert response.status_code == 301
    assert response.headers["location"] == f"http://testserver{new}"
    assert tincan_client.get(old, follow_redirects=True).status_code == 200
