"""The ready-made checks pass on sound webapps and catch each kind of defect."""

from __future__ import annotations

from pathlib import Path

import bottle
import pytest
from tincan_testing import Webapp
from tincan_testing.checks import (
    assert_head_matches_get,
    assert_hidden_like_missing,
    assert_no_server_errors,
    assert_no_source_reachable,
    check_webapp,
    disguises,
    fetch,
)
from tincan_testing.plugin import WebappFactory

SOUND = {
    "index.pspx": "#rem the home page\n<h1>${title}</h1>",
    "index.py": "from tincan import Page\n\nclass Home(Page):\n    title = 'Home sweet home'\n",
    "sub/page one.pspx": "#methods GET POST\n<p>one</p>",
    "sub/secret.pspx": "#hidden\n<p>hidden content</p>",
    "errors.pspx": "#errors 404 405\n<h1>Not here: ${request.path}</h1>",
    "style.css": "p { margin: 0 }\n",
    "WEB-INF/config.ini": "[db]\npassword = hunter2 hunter2\n",
    "WEB-INF/tlib/macros.pt": "<div metal:define-macro='x'>private macro text</div>",
    "sub/web-inf/notes.txt": "private notes below the top level\n",
    ".env": "TOKEN=a-dot-file-secret\n",
}


@pytest.fixture
def sound(tincan_webapp: WebappFactory) -> Webapp:
    return tincan_webapp(SOUND, static=True)


def serve_files_raw(webapp: Webapp) -> None:
    """The classic mistake: a catch-all route that serves whatever file is asked for."""
    assert webapp.app is not None
    root = webapp.root

    @webapp.app.route("/<path:path>")
    def raw(path: str) -> bytes:
        file = root / path
        if not file.is_file():
            bottle.abort(404)
        return file.read_bytes()


def test_a_sound_webapp_passes_every_check(sound: Webapp) -> None:
    client = sound.client()
    assert_no_source_reachable(client, sound.root)
    assert_no_server_errors(client, ["/", "/sub/page%20one.pspx", "/nope", *disguises("index.py")])
    assert_head_matches_get(client, "/")
    assert_head_matches_get(client, "/style.css")
    assert_head_matches_get(client, "/missing.pspx")
    assert_hidden_like_missing(client, "/sub/secret.pspx", "/sub/other.pspx")
    assert_hidden_like_missing(client, "/WEB-INF/config.ini", "/WEB-INF/other.ini")
    requests = check_webapp(sound)
    assert requests > 100


def test_a_served_source_file_is_reported(sound: Webapp) -> None:
    serve_files_raw(sound)
    with pytest.raises(AssertionError) as raised:
        assert_no_source_reachable(sound.client(), sound.root)
    report = str(raised.value)
    for leaked in ("index.py", "WEB-INF/config.ini", "WEB-INF/tlib/macros.pt", ".env",
                   "sub/web-inf/notes.txt", "sub/secret.pspx"):
        assert f"\n  {leaked} shown by GET " in report
    assert "index.py shown by GET /index.py -> 200 (and " in report


def test_only_a_disguised_leak_is_found_too(sound: Webapp) -> None:
    assert sound.app is not None
    source = (sound.root / "index.py").read_bytes()

    @sound.app.route("/INDEX.PY")
    def upper() -> bytes:  # a case-insensitive lookup somewhere in the stack
        return source

    with pytest.raises(AssertionError, match=r"index\.py shown by GET /INDEX\.PY -> 200$"):
        assert_no_source_reachable(sound.client(), sound.root)


def test_server_errors_are_listed(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp({
        "ok.pspx": "<p>ok</p>",
        "boom.pspx": "<p>${undefined_name}</p>",
    })
    with pytest.raises(AssertionError) as raised:
        assert_no_server_errors(
            webapp.client(raise_server_exceptions=False), ["/ok.pspx", "/boom.pspx"]
        )
    assert str(raised.value).splitlines() == [
        "server errors: 2 problem(s)",
        "  GET /boom.pspx -> 500",
        "  HEAD /boom.pspx -> 500",
    ]
    # a client that raises server exceptions: each problem says what and where
    with pytest.raises(AssertionError) as raised:
        assert_no_server_errors(webapp.client(), ["/ok.pspx", "/boom.pspx"])
    boom = f"NameError: undefined_name ({webapp.root}/boom.pspx:1)"
    assert str(raised.value).splitlines() == [
        "server errors: 2 problem(s)",
        f"  GET /boom.pspx -> {boom}",
        f"  HEAD /boom.pspx -> {boom}",
    ]
    with pytest.raises(AssertionError, match=r"GET /boom\.pspx -> NameError: undefined_name"):
        check_webapp(webapp)
    check_webapp(webapp, allow_server_errors=["/boom.pspx"])


def test_head_that_differs_from_get_is_reported(sound: Webapp) -> None:
    assert sound.app is not None
    sound.app.route("/status", "GET", lambda: "fine")
    sound.app.route("/status", "HEAD", lambda: bottle.HTTPResponse(status=204))
    with pytest.raises(AssertionError, match="/status: HEAD 204, GET 200"):
        assert_head_matches_get(sound.client(), "/status")


def test_an_existence_oracle_is_reported(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp({
        "secret.pspx": "#hidden\n<p>x</p>",
        "errors.pspx": "#errors 404\n<p>${known}</p>",
        "errors.py": (
            "import os\nfrom tincan import ErrorPage\n\n"
            "class Oracle(ErrorPage):\n"
            "    def handle(self):\n"
            "        root = self.request.app.config['tincan.fsroot']\n"
            "        self.known = os.path.exists(root + self.request.path)\n"
        ),
    })
    with pytest.raises(AssertionError, match=r"/secret\.pspx and /other\.pspx: different body"):
        assert_hidden_like_missing(webapp.client(), "/secret.pspx", "/other.pspx")
    with pytest.raises(AssertionError, match="different body"):
        check_webapp(webapp)


def test_a_hidden_page_that_answers_is_reported(sound: Webapp) -> None:
    with pytest.raises(AssertionError, match=r"/index\.pspx -> 200, /other\.pspx -> 404"):
        assert_hidden_like_missing(sound.client(), "/index.pspx", "/other.pspx")


def test_fetch_sends_paths_as_written(sound: Webapp) -> None:
    assert sound.app is not None
    sound.app.route("/<path:path>", "GET", lambda path: bottle.request.path)
    client = sound.client()
    for path, seen in [
        ("/a/../index.py", "/a/../index.py"),
        ("/./x", "/./x"),
        ("/a%2fb", "/a/b"),
        ("/a\\b", "/a\\b"),
        ("/über uns", "/über uns"),
        ("/%C3%BCber", "/über"),
    ]:
        assert fetch(client, path).text == seen, path


def test_disguises_start_with_the_plain_path() -> None:
    spellings = disguises("WEB-INF/lib/x.py", "/app")
    assert spellings[0] == "/app/WEB-INF/lib/x.py"
    assert len(spellings) == len(set(spellings)) > 20
    assert "/app/web-inf/lib/x.py" in spellings and "/app/WEB-INF%2flib%2fx.py" in spellings
    assert all(s.startswith("/app/") for s in spellings)


def test_checks_work_over_a_live_server(sound: Webapp, tmp_path: Path) -> None:
    with sound.live() as server:
        client = server.client()
        assert_no_server_errors(client, ["/", "/x/%2e%2e/index.py"])
        assert_head_matches_get(client, "/")
        assert_hidden_like_missing(client, "/sub/secret.pspx", "/sub/other.pspx")
