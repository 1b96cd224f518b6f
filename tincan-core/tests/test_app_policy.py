"""The request policy in a launched app: settings file, cross-origin writes, security
headers, forwarded headers, malformed and oversized requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import tincan_core

if TYPE_CHECKING:
    # For annotations only: importing the conftest at run time fails where these tests
    # run without the repository's --import-mode=importlib (an unpacked sdist).
    from .conftest import Launched

Launch = Callable[..., "Launched"]

FORM = {
    "WEB-INF/tincan.toml": "",
    "index.pspx": "<p>home</p>",
    "sign.pspx": "#methods GET POST\n<p>${page.request.method} ${signed}</p>",
    "sign.py": (
        "from tincan import Page\n"
        "class Sign(Page):\n"
        "    signed = ''\n"
        "    def handle(self):\n"
        "        self.signed = self.request.forms.getunicode('name') or ''\n"
    ),
    "forbidden.pspx": "#errors 403\n<h1>Refused: ${error.status_code}</h1>",
    "style.css": "p { color: red }",
}


def post(app: Launched, path: str = "/sign.pspx", **headers: str) -> Any:
    return app.request("POST", path, data={"name": "Ada"}, headers=headers)


def test_cross_site_posts_are_refused_through_the_error_pages(launch_webapp: Launch) -> None:
    app = launch_webapp(FORM)
    assert app.errors == 0
    refused = post(app, **{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "Refused: 403" in refused.text
    # A text/plain form is no exception: the check is on the request, not its type.
    plain = app.request(
        "POST", "/sign.pspx", content=b"name=Ada",
        headers={"Content-Type": "text/plain", "Sec-Fetch-Site": "same-site"},
    )  # fmt: skip
    assert plain.status_code == 403
    assert post(app, Origin="http://evil.example").status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "http://testserver"},
        {},  # not a browser: curl, a script, another server
    ],
)
def test_same_origin_and_non_browser_posts_pass(
    launch_webapp: Launch, headers: dict[str, str]
) -> None:
    response = post(launch_webapp(FORM), **headers)
    assert response.status_code == 200
    assert response.text == "<p>POST Ada</p>"


def test_safe_methods_are_never_refused(launch_webapp: Launch) -> None:
    app = launch_webapp(FORM)
    response = app.get("/sign.pspx", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200


def test_trusted_origins_from_the_settings_file_and_from_keywords(launch_webapp: Launch) -> None:
    files = {**FORM, "WEB-INF/tincan.toml": 'trusted_origins = ["https://admin.example"]\n'}
    app = launch_webapp(files)
    cross = {"Sec-Fetch-Site": "cross-site"}
    assert post(app, Origin="https://admin.example", **cross).status_code == 200
    assert post(app, Origin="https://other.example", **cross).status_code == 403
    overridden = launch_webapp(files, trusted_origins=["https://other.example"])
    assert post(overridden, Origin="https://other.example", **cross).status_code == 200
    assert post(overridden, Origin="https://admin.example", **cross).status_code == 403


def test_security_headers_on_pages_static_files_and_errors(launch_webapp: Launch) -> None:
    app = launch_webapp(FORM, static=True)
    for path, status in [("/", 200), ("/style.css", 200), ("/missing", 404)]:
        response = app.get(path)
        assert response.status_code == status
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_security_headers_per_webapp_and_per_response(launch_webapp: Launch) -> None:
    files = {
        **FORM,
        "WEB-INF/tincan.toml": '[security_headers]\nX-Frame-Options = ""\n'
        "Content-Security-Policy = \"frame-ancestors 'self'\"\n",
        "embed.pspx": "<p>embed</p>",
        "embed.py": (
            "from tincan import Page\n"
            "class Embed(Page):\n"
            "    def handle(self):\n"
            "        self.response.set_header('Referrer-Policy', 'no-referrer')\n"
        ),
    }
    app = launch_webapp(files)
    home = app.get("/")
    assert "X-Frame-Options" not in home.headers
    assert home.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    embed = app.get("/embed.pspx")
    assert embed.headers.get_list("Referrer-Policy") == ["no-referrer"]


def test_settings_errors_are_launch_errors_with_file_and_line(launch_webapp: Launch) -> None:
    files = {**FORM, "WEB-INF/tincan.toml": "# settings\nclean_url = true\nmax_body_size = 'x'\n"}
    app = launch_webapp(files)
    assert app.errors == 2
    toml = str(app.root / "WEB-INF" / "tincan.toml")
    assert app.log.errors() == [
        f"{toml}:2: unknown setting 'clean_url' (did you mean 'clean_urls'?)",
        f"{toml}:3: max_body_size must be a whole number of bytes, more than 0",
    ]
    assert app.get("/").status_code == 200  # every page still launches
    assert app.app is not None
    assert app.app.config["tincan.settings"].max_body_size == 10 * 1024 * 1024


def test_unknown_or_mistyped_keywords_are_type_errors(tmp_path: Any) -> None:
    (tmp_path / "WEB-INF").mkdir()
    with pytest.raises(TypeError, match="unexpected keyword argument 'clean_url'"):
        tincan_core.launch(tmp_path, clean_url=True)
    with pytest.raises(TypeError, match="max_body_size"):
        tincan_core.launch(tmp_path, max_body_size="big")
    app, errors = tincan_core.launch(tmp_path, clean_urls=True)
    assert errors == 0 and app is not None
    assert app.config["tincan.settings"].clean_urls is True


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": ";;;==="}, 400),
        ({"Content-Type": "multipart/form-data"}, 400),  # no boundary
        ({"Content-Length": "abc"}, 400),
        ({"Content-Length": "-1"}, 400),
    ],
)
def test_malformed_requests_are_400(
    launch_webapp: Launch,
    client_for: Callable[[Any], httpx.Client],
    headers: dict[str, str],
    status: int,
) -> None:
    app = launch_webapp(FORM)
    assert app.app is not None

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            environ[key if key.startswith("CONTENT") else f"HTTP_{key}"] = value
        return app.app(environ, start_response)  # type: ignore[misc]

    response = client_for(wsgi).post("/sign.pspx", content=b"name=Ada")
    assert response.status_code == status
    assert "Traceback" not in response.text
    assert app.log.errors() == []


def test_bodies_over_the_maximum_are_413(launch_webapp: Launch) -> None:
    files = {**FORM, "WEB-INF/tincan.toml": "max_body_size = 100\n"}
    app = launch_webapp(files)
    response = app.request("POST", "/sign.pspx", content=b"name=" + b"x" * 200)
    assert response.status_code == 413
    ok = app.request("POST", "/sign.pspx", data={"name": "x" * 50})
    assert ok.status_code == 200


REDIRECT = {
    "go.pspx": "<p>never</p>",
    "go.py": (
        "import bottle\n"
        "from tincan import Page\n"
        "class Go(Page):\n"
        "    def handle(self):\n"
        "        bottle.redirect('/index.pspx')\n"
    ),
    "index.pspx": "<p>home</p>",
}
EVIL = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}


def test_forwarded_headers_from_clients_never_reach_redirects(launch_webapp: Launch) -> None:
    app = launch_webapp(REDIRECT)
    response = app.get("/go.pspx", headers=EVIL, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["Location"] == "http://testserver/index.pspx"


def test_forwarded_headers_from_a_trusted_proxy_are_used(launch_webapp: Launch) -> None:
    # The in-process client connects from 127.0.0.1.
    app = launch_webapp(REDIRECT, trusted_proxies=["127.0.0.1"])
    headers = {"X-Forwarded-Host": "www.example", "X-Forwarded-Proto": "https"}
    response = app.get("/go.pspx", headers=headers, follow_redirects=False)
    assert response.headers["Location"] == "https://www.example/index.pspx"
