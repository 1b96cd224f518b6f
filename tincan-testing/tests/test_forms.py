"""assert_redirects, assert_contains and forms filled in and submitted as a browser would."""

from __future__ import annotations

import html
import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tincan_testing import Webapp, assert_contains, assert_redirects, find_form, forms
from tincan_testing.plugin import WebappFactory

ECHO = (
    "import json\n"
    "from tincan import Page\n"
    "class Echo(Page):\n"
    "    def handle(self):\n"
    "        r = self.request\n"
    "        fields = r.query if r.method == 'GET' else r.forms\n"
    "        pairs = [*fields.decode().allitems(), *r.files.allitems()]\n"
    "        self.got = json.dumps([\n"
    "            (k, v if isinstance(v, str) else v.filename + ':' + v.file.read().decode())\n"
    "            for k, v in pairs])\n"
    "        self.how = r.method + ' ' + r.content_type.split(';')[0]\n"
    "        self.origin = r.get_header('Origin', '-') + ' ' + r.get_header('Referer', '-')\n"
)

SIGNUP = """\
<html><body>
<form id="search" action="echo.pspx"><input name="q" value="tin"></form>
<form id="signup" method="post" action="/echo.pspx?from=signup">
  <input type="hidden" name="token" value="t0k">
  <input name="name">
  <input type="password" name="secret" value="x" disabled>
  <input type="checkbox" name="news" value="yes">
  <input type="checkbox" name="tag" value="a" checked><input type="checkbox" name="tag" value="b">
  <input type="radio" name="plan" value="free" checked><input type="radio" name="plan" value="pro">
  <select name="country"><option>Norway</option>
    <option value="se" selected>Sweden</option></select>
  <select name="langs" multiple><option value="py" selected>Python</option>
    <option>Go</option></select>
  <textarea name="bio">
Hello &amp; welcome</textarea>
  <input type="reset"><button type="button">nothing</button>
  <button name="action" value="save">Save</button>
  <button name="action" value="delete" formaction="/echo.pspx?deleted=1">Delete</button>
</form>
<input name="outside" value="owned" form="signup">
<form id="upload" method="post" enctype="multipart/form-data" action="echo.pspx">
  <input name="title" value="me"><input type="file" name="photo">
</form>
</body></html>
"""


@pytest.fixture
def site(tincan_webapp: WebappFactory) -> Webapp:
    return tincan_webapp({
        "form.pspx": SIGNUP,
        "echo.pspx": "#methods GET POST\n<p>${how}|${got}|${origin}</p>",
        "echo.py": ECHO,
        "go.pspx": "<p>x</p>",
        "go.py": (
            "from tincan import Page, redirect\n"
            "class Go(Page):\n"
            "    def handle(self):\n"
            "        redirect(self.request.query.get('to', 'form.pspx'))\n"
        ),
    })


def echoed(response: httpx.Response) -> tuple[str, str, str]:
    """How the echo page was asked, what it got (``name=value ...``, grouped by name as
    Bottle keeps them), and the Origin and Referer headers."""
    text = html.unescape(response.text.removeprefix("<p>").removesuffix("</p>"))
    how, rest = text.split("|", 1)
    got, origin = rest.rsplit("|", 1)
    return how, " ".join(f"{k}={v}" for k, v in json.loads(got)), origin


def grouped(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for name in dict.fromkeys(k for k, _ in pairs) for k, v in pairs if k == name]


def test_a_form_sends_what_a_browser_sends(site: Webapp) -> None:
    client = site.client()
    page = client.get("/form.pspx")
    form = find_form(page, "signup")
    assert (form.method, str(form.action)) == ("POST", "http://testserver/echo.pspx?from=signup")
    assert form["token"] == "t0k" and form["country"] == "se" and form["bio"] == "Hello & welcome"
    assert form.getall("tag") == ["a"] and form["news"] is None
    form["name"] = "Ada"
    form["news"] = True
    form["tag"] = ["a", "b"]
    form["plan"] = "pro"
    form["country"] = "Norway"
    form["langs"] = ["py", "Go"]
    how, got, origin = echoed(form.submit(client, "action", value="save"))
    assert how == "POST application/x-www-form-urlencoded"
    assert got == (
        "token=t0k name=Ada news=yes tag=a tag=b plan=pro country=Norway langs=py langs=Go "
        "bio=Hello & welcome action=save outside=owned"
    )
    assert [name for name, _ in form.data("action", value="save")] == [
        "token", "name", "news", "tag", "tag", "plan", "country", "langs", "langs", "bio",
        "action", "outside",
    ]
    assert origin == "http://testserver http://testserver/form.pspx"


def test_the_button_pressed_decides_its_action(site: Webapp) -> None:
    client = site.client()
    form = find_form(client.get("/form.pspx"), "signup")
    response = form.submit(client, "action", value="delete")
    assert response.request.url.query == b"deleted=1"
    assert "action=delete" in echoed(response)[1]
    assert "action=" not in echoed(form.submit(client))[1]  # no button: none sent


def test_get_forms_go_in_the_query_and_multipart_carries_files(site: Webapp) -> None:
    client = site.client()
    page = client.get("/form.pspx")
    search = find_form(page, 0)
    search["q"] = "can & tin"
    response = search.submit(client)
    assert response.request.url.path == "/echo.pspx"
    assert echoed(response)[:2] == ("GET ", "q=can & tin")
    upload = find_form(page, "upload")
    upload["photo"] = ("me.txt", b"pixels")
    how, got, _ = echoed(upload.submit(client))
    assert how == "POST multipart/form-data"
    assert got == "title=me photo=me.txt:pixels"


def test_mistakes_are_named(site: Webapp) -> None:
    page = site.client().get("/form.pspx")
    form = find_form(page, "signup")
    with pytest.raises(KeyError, match=r"no field named 'nmae' \(fields: token, name, secret"):
        form["nmae"] = "Ada"
    with pytest.raises(ValueError, match=r"radio 'plan' has no value 'gold'"):
        form["plan"] = "gold"
    with pytest.raises(ValueError, match=r"select 'country' has no option \['Denmark'\]"):
        form["country"] = "Denmark"
    with pytest.raises(ValueError, match="'secret' is disabled"):
        form["secret"] = "y"
    with pytest.raises(KeyError, match=r"no submit button 'go' \(buttons: action=save"):
        form.submit(site.client(), "go")
    with pytest.raises(AssertionError, match=r"has 3 forms \(#search, #signup, #upload\)"):
        find_form(page)
    with pytest.raises(AssertionError, match="no form with id 'login'"):
        find_form(page, "login")
    with pytest.raises(AssertionError, match=r"no \[5\]"):
        find_form(page, 5)


def test_assert_redirects(site: Webapp) -> None:
    client = site.client()
    response = client.get("/go.pspx", params={"to": "/form.pspx"})
    assert_redirects(response, "/form.pspx")
    assert_redirects(response, "http://testserver/form.pspx", status_code=303)
    assert_redirects(response, "form.pspx")  # relative to the request, as a browser reads it
    with pytest.raises(AssertionError, match=r"GET /go\.pspx\?to=%2Fform\.pspx redirects, "
                                             r"but goes to http://testserver/form\.pspx, not /x"):
        assert_redirects(response, "/x")
    with pytest.raises(AssertionError, match="is a 303, not a 301"):
        assert_redirects(response, "/form.pspx", status_code=301)
    with pytest.raises(AssertionError, match=r"GET /form\.pspx is 200 OK, not a redirect to /x"):
        assert_redirects(client.get("/form.pspx"), "/x")
    followed = site.client(follow_redirects=True).get("/go.pspx")
    assert followed.status_code == 200
    assert_redirects(followed, "/form.pspx")


def test_assert_contains(site: Webapp) -> None:
    response = site.client().get("/form.pspx")
    assert_contains(response, "<form", count=3)
    assert_contains(response, "Sweden")
    assert_contains(response, "Denmark", count=0)
    with pytest.raises(AssertionError, match=r"'Denmark' is not in the response to GET /form"):
        assert_contains(response, "Denmark")
    with pytest.raises(AssertionError, match=r"'<form' is 3 time\(s\) in .*, expected 2"):
        assert_contains(response, "<form", 2)
    missing = site.client().get("/nothing.pspx")
    with pytest.raises(AssertionError, match=r"is 404 Not Found, not 200 \(looking for 'x'\)"):
        assert_contains(missing, "x")
    assert_contains(missing, "404", status_code=404)
    assert_contains(missing, "Not Found", status_code=None)


field_text = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=20)


@given(values=st.lists(st.tuples(st.sampled_from(["a", "b", "c d"]), field_text), max_size=6))
def test_any_text_survives_the_round_trip(site: Webapp, values: list[tuple[str, str]]) -> None:
    inputs = "".join(f'<input name="{n}" value="">' for n, _ in values)
    response = httpx.Response(200, text=f'<form method="post">{inputs}</form>',
                              request=httpx.Request("GET", "http://testserver/echo.pspx"))
    form = forms(response)[0]
    for index, (name, value) in enumerate(values):
        form.set(name, value, index=[n for n, _ in values[:index]].count(name))
    assert form.data() == values
    _, got, _ = echoed(form.submit(site.client()))
    assert got == " ".join(f"{n}={v}" for n, v in grouped(values))
