"""The literal fast path answers every request exactly as Bottle's own request handling.

One webapp, launched twice: once as launched (literal routes served by
``TinCan._serve_literal``), once with ``app.fast_path = False`` (every request
through ``bottle.Bottle.wsgi``, the router and the hooks). Hypothesis sends both
the same raw WSGI requests, covering what a page can do to a response (status,
headers, cookies, redirects, aborts, exceptions, JSON, bytes, forwards, sessions)
and what a client can send (HEAD, unsafe and cross-site methods, malformed
headers, forwarded headers, conditional requests, paths that are not UTF-8), and
compares status, every header and the body.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from typing import Any

import bottle
import pytest
import tincan_core
from hypothesis import given
from hypothesis import strategies as st
from tincan_core._session import SECRET_ENV
from tincan_core._settings import Settings

FILES: dict[str, str | bytes] = {
    "index.pspx": "<p tal:repeat='n range(3)'>Item ${n}</p>",
    "hello.pspx": "#methods GET POST\n<p>Hello, ${name}! ${page.request.method}</p>",
    "hello.py": (
        "import bottle\n"
        "from tincan import Page\n"
        "class Hello(Page):\n"
        "    def handle(self):\n"
        "        self.name = bottle.request.query.getunicode('name', 'world')\n"
        "        bottle.response.set_header('X-Greeting', 'hello')\n"
        "        self.response.set_cookie('seen', 'yes', path='/')\n"
        "        if self.request.query.get('status'):\n"
        "            self.response.status = int(self.request.query.get('status'))\n"
    ),
    "go.pspx": "<p>never shown</p>",
    "go.py": (
        "import bottle\n"
        "from tincan import Page\n"
        "class Go(Page):\n"
        "    def handle(self):\n"
        "        self.response.set_header('X-Before', 'kept')\n"
        "        bottle.redirect('index.pspx')\n"
    ),
    "gone.pspx": "<p>never shown</p>",
    "gone.py": (
        "import bottle\n"
        "from tincan import Page\n"
        "class Gone(Page):\n"
        "    def handle(self):\n"
        "        bottle.abort(404, 'It went away.')\n"
    ),
    "boom.pspx": "<p>${1 / 0}</p>",
    "crash.pspx": "<p>never shown</p>",
    "crash.py": (
        "from tincan import Page\n"
        "class Crash(Page):\n"
        "    def handle(self):\n"
        "        raise ValueError('broken code-behind')\n"
    ),
    "data.pspx": "",
    "data.py": (
        "from tincan import Page\n"
        "class Data(Page):\n"
        "    def handle(self):\n"
        "        return {'entries': [1, 2, 3], 'name': 'J\\u00fcrgen'}\n"
    ),
    "raw.pspx": "",
    "raw.py": (
        "from tincan import Page\n"
        "class Raw(Page):\n"
        "    def handle(self):\n"
        "        self.response.content_type = 'text/plain; charset=latin-1'\n"
        "        return 'caf\\u00e9 \\u00fcber'\n"
    ),
    "empty.pspx": "",
    "empty.py": (
        "from tincan import Page\n"
        "class Empty(Page):\n"
        "    def handle(self):\n"
        "        self.response.status = 204\n"
    ),
    "framed.pspx": "<p>framed</p>",
    "framed.py": (
        "from tincan import Page\n"
        "class Framed(Page):\n"
        "    def handle(self):\n"
        "        self.response.set_header('x-frame-options', 'SAMEORIGIN')\n"
        "        self.response.set_header('X-Name', 'J\\u00fcrgen')\n"
    ),
    "fwd.pspx": "#forward hello.pspx\n",
    "jump.pspx": "<p>never shown</p>",
    "jump.py": (
        "from tincan import Page\n"
        "class Jump(Page):\n"
        "    def handle(self):\n"
        "        self.response.set_header('X-Jumped', 'yes')\n"
        "        self.request.app.forward('hello.pspx')\n"
    ),
    "webhook.pspx": "#methods POST\n#allow-cross-origin\n<p>${page.request.forms.get('a')}</p>",
    "count.pspx": "<p>${visits}</p>",
    "count.py": (
        "from tincan import Page\n"
        "class Count(Page):\n"
        "    def handle(self):\n"
        "        self.visits = self.session.get('visits', 0) + 1\n"
        "        self.session['visits'] = self.visits\n"
    ),
    "caf\u00e9.pspx": "<p>caf\u00e9</p>",
    "errors/404.pspx": "#errors 404\n<h1>Not here: ${error.body}</h1>",
    "errors/404.py": "from tincan import ErrorPage\nclass NotFound(ErrorPage):\n    pass\n",
    "errors/500.pspx": "#errors 500\n<h1>Sorry</h1>",
    "errors/500.py": "from tincan import ErrorPage\nclass Failed(ErrorPage):\n    pass\n",
    "css/site.css": "body { color: #333; }\n",
    "docs/index.html": "<p>docs</p>",
}

PATHS = [
    "/", "/index.pspx", "/hello.pspx", "/go.pspx", "/gone.pspx", "/boom.pspx", "/crash.pspx",
    "/data.pspx", "/raw.pspx", "/empty.pspx", "/framed.pspx", "/fwd.pspx", "/jump.pspx",
    "/webhook.pspx",
    "/count.pspx", "/caf\u00e9.pspx".encode().decode("latin-1"), "/caf\xe9.pspx",
    "/css/site.css", "/docs", "/docs/", "/nope.pspx", "/errors/404.pspx",
]  # fmt: skip
METHODS = ["GET", "HEAD", "POST", "PUT", "OPTIONS", "get"]
QUERIES = ["", "name=J%C3%BCrgen", "status=201", "status=304", "name=%FF"]
HEADER_SETS: list[dict[str, str]] = [
    {},
    {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "http://evil.example"},
    {"HTTP_SEC_FETCH_SITE": "same-origin"},
    {"HTTP_ORIGIN": "http://elsewhere.example"},
    {"CONTENT_LENGTH": "12x"},
    {"CONTENT_TYPE": "text/plain;;=", "CONTENT_LENGTH": "0"},
    {"CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": "3", "body": "a=1"},
    {"HTTP_X_FORWARDED_FOR": "203.0.113.9", "HTTP_X_FORWARDED_HOST": "evil.example"},
    {"HTTP_IF_NONE_MATCH": "*"},
    {"HTTP_COOKIE": "seen=yes"},
]


def environ_for(method: str, path: str, query: str, headers: dict[str, str]) -> dict[str, Any]:
    fields = dict(headers)
    body = fields.pop("body", "").encode("latin-1")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8080",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    environ.update(fields)
    return environ


def answer(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, headers))
        return lambda data: None

    out = app(environ, start_response)
    try:
        body = b"".join(out)
    finally:
        if hasattr(out, "close"):
            out.close()
    status, headers = started[0]
    return status, [_stable(name, value) for name, value in headers], body


SESSION_COOKIE = Settings().session_cookie_name


def _stable(name: str, value: str) -> tuple[str, str]:
    # A session cookie is signed with the time it was sent: the same to the second
    # on both sides only by luck. Its name, attributes and payload are compared.
    if name == "Set-Cookie" and value.startswith(SESSION_COOKIE + "="):
        cookie, _, attributes = value.partition(";")
        version, payload, *_ = cookie.split("=", 1)[1].split(".")
        return name, f"{SESSION_COOKIE}=<{version} {payload} signed>;{attributes}"
    return name, value


class Pair:
    def __init__(self, fast: tincan_core.TinCan, general: tincan_core.TinCan) -> None:
        self.fast = fast
        self.general = general

    def both(self, environ: dict[str, Any]) -> tuple[Any, Any]:
        second = {**environ, "wsgi.input": io.BytesIO(environ["wsgi.input"].getvalue())}
        second["wsgi.errors"] = io.StringIO()
        return answer(self.fast, environ), answer(self.general, second)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    saved = {key: sys.modules.get(key) for key in list(sys.modules)}
    apps = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_ENV, "a-secret-key-for-the-tests-0123456789")
        # One tree for both (static files' validators come from the files' times).
        root = tmp_path_factory.mktemp("fastpath")
        for relpath, content in FILES.items():
            path = root / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            path.write_bytes(data)
        (root / "WEB-INF").mkdir()
        for name in ("fast", "general"):
            logger = logging.getLogger(f"tincan-core-tests.fastpath.{name}")
            logger.addHandler(logging.NullHandler())
            logger.propagate = False
            app, errors = tincan_core.launch(root, logger=logger, static=True)
            assert errors == 0 and app is not None
            apps.append(app)
        fast, general = apps
        general.fast_path = False
        yield Pair(fast, general)
    for key in list(sys.modules):
        if key not in saved:
            del sys.modules[key]


@given(
    method=st.sampled_from(METHODS),
    path=st.sampled_from(PATHS),
    query=st.sampled_from(QUERIES),
    headers=st.sampled_from(HEADER_SETS),
)
def test_fast_and_general_paths_answer_alike(
    pair: Pair, method: str, path: str, query: str, headers: dict[str, str]
) -> None:
    fast, general = pair.both(environ_for(method, path, query, headers))
    assert fast == general


@pytest.mark.parametrize(
    ("method", "path", "query", "status"),
    [
        ("GET", "/index.pspx", "", "200 OK"),
        ("HEAD", "/hello.pspx", "", "200 OK"),
        ("GET", "/go.pspx", "", "303 See Other"),
        ("GET", "/gone.pspx", "", "404 Not Found"),
        ("GET", "/crash.pspx", "", "500 Internal Server Error"),
        ("GET", "/data.pspx", "", "200 OK"),
        ("GET", "/empty.pspx", "", "204 No Content"),
        ("GET", "/count.pspx", "", "200 OK"),
        ("GET", "/jump.pspx", "name=Ann", "200 OK"),
        ("GET", "/fwd.pspx", "", "200 OK"),
        ("GET", "/css/site.css", "", "200 OK"),
    ],
)
def test_the_named_cases_are_served_by_the_fast_path_alike(
    pair: Pair, method: str, path: str, query: str, status: str
) -> None:
    fast, general = pair.both(environ_for(method, path, query, {}))
    assert fast[0] == status
    assert fast == general


def test_session_cookies_are_compared_without_their_time(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The two answers are signed a second apart: only the signature differs, and the
    # comparison leaves the time and signature out (and nothing else).
    clock = iter(range(1_800_000_000, 1_800_000_010))
    monkeypatch.setattr("tincan_core._session.time.time", lambda: float(next(clock)))
    fast, general = pair.both(environ_for("GET", "/count.pspx", "", {}))
    cookies = [value for name, value in fast[1] if name == "Set-Cookie"]
    assert cookies and cookies[0].startswith(SESSION_COOKIE + "=<v1 ")
    assert fast == general


def test_a_literal_page_is_served_without_the_router(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fast path is taken (the router is never asked) and still answers as Bottle.
    def no_router(environ: dict[str, Any]) -> Any:
        raise AssertionError("the router was asked")

    monkeypatch.setattr(pair.fast.router, "match", no_router)
    status, headers, body = answer(pair.fast, environ_for("GET", "/hello.pspx", "name=Ann", {}))
    assert status == "200 OK"
    assert body == b"<p>Hello, Ann! GET</p>"
    assert ("X-Greeting", "hello") in headers
    assert ("Set-Cookie", "seen=yes; Path=/") in headers
    assert ("X-Content-Type-Options", "nosniff") in headers


def test_security_headers_a_page_sets_itself_are_not_doubled(pair: Pair) -> None:
    _, headers, _ = answer(pair.fast, environ_for("GET", "/framed.pspx", "", {}))
    frames = [value for name, value in headers if name.lower() == "x-frame-options"]
    assert frames == ["SAMEORIGIN"]
    assert ("X-Name", "J\u00fcrgen".encode().decode("latin-1")) in headers


def test_hooks_installed_on_the_app_run_for_literal_pages(pair: Pair) -> None:
    seen: list[str] = []

    def before() -> None:
        seen.append("before " + bottle.request.path)

    def after() -> None:
        bottle.response.set_header("X-After", "ran")

    pair.fast.add_hook("before_request", before)
    pair.fast.add_hook("after_request", after)
    try:
        status, headers, _ = answer(pair.fast, environ_for("GET", "/index.pspx", "", {}))
    finally:
        pair.fast.remove_hook("before_request", before)
        pair.fast.remove_hook("after_request", after)
    assert status == "200 OK"
    assert seen == ["before /index.pspx"]
    assert ("X-After", "ran") in headers
    # Without hooks again, the next request takes the fast path (and no hook runs).
    answer(pair.fast, environ_for("GET", "/index.pspx", "", {}))
    assert seen == ["before /index.pspx"]


def test_plugins_installed_on_the_app_run_for_literal_pages(pair: Pair) -> None:
    calls: list[str] = []

    def plugin(callback: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.append(bottle.request.path)
            return callback(*args, **kwargs)

        return wrapper

    pair.fast.install(plugin)
    pair.general.install(plugin)
    try:
        fast, general = pair.both(environ_for("GET", "/index.pspx", "", {}))
    finally:
        pair.fast.uninstall(plugin)
        pair.general.uninstall(plugin)
    assert fast == general
    assert calls == ["/index.pspx", "/index.pspx"]


def test_code_behind_sees_bottle_request_and_response(pair: Pair) -> None:
    # bottle.request and bottle.response are bound on the fast path as on Bottle's.
    status, _, body = answer(
        pair.fast, environ_for("GET", "/hello.pspx", "name=J%C3%BCrgen&status=201", {})
    )
    assert status == "201 Created"
    assert "Hello, J\u00fcrgen!".encode() in body
    assert bottle.request.environ["bottle.app"] is pair.fast
