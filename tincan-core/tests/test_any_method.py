"""``#methods ANY``: a page that accepts every method, as a Bottle route with ``ANY`` does."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import tincan_core
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_testing.strategies import http_methods

SHOW = "<p>${page.request.method} ${page.request.path}</p>"
FORWARD = "from tincan import Page\nclass F(Page):\n    def handle(self):\n"

ANY_TREE = {
    "any.pspx": "#methods ANY\n" + SHOW,
    "dir/index.pspx": "#methods any\n" + SHOW,
    "hidden.pspx": "#hidden\n#methods ANY\n" + SHOW,
    "forward.pspx": "#methods ANY\n<p/>",
    "forward.py": FORWARD + "        self.request.app.forward('hidden.pspx')\n",
    "get.pspx": SHOW,
    "to-get.pspx": "#methods ANY\n<p/>",
    "to-get.py": FORWARD + "        self.request.app.forward('get.pspx')\n",
}

# Any RFC 9110 token, in any case: Bottle upper-cases the method.
TOKENS = st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}", fullmatch=True)


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, make_client: Callable[[Any], Any]
) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("any")
    (root / "WEB-INF").mkdir()
    for relpath, text in ANY_TREE.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text, encoding="utf-8")
    app, errors = tincan_core.launch(root)
    assert errors == 0
    with make_client(app) as client:
        yield client


@settings(max_examples=60)
@given(method=st.one_of(http_methods(), TOKENS))
def test_any_accepts_every_method(client: Any, method: str) -> None:
    verb = method.upper()
    cases = [
        ("/any.pspx", "/any.pspx"),
        ("/dir/", "/dir/"),
        ("/forward.pspx", "/hidden.pspx"),  # an ANY endpoint as a forward target
    ]
    # The directory without its slash redirects, for every method the index takes.
    moved = client.request(method, "/dir?q=1")
    assert moved.status_code == (301 if verb in ("GET", "HEAD") else 308)
    assert moved.headers["location"] == "/dir/?q=1"
    for path, seen in cases:
        response = client.request(method, path)
        assert response.status_code == 200, (method, path)
        assert "allow" not in response.headers
        expected = (
            b"" if verb == "HEAD" else f"<p>{html.escape(verb, quote=False)} {seen}</p>".encode()
        )
        assert response.content == expected


@settings(max_examples=60)
@given(method=st.one_of(http_methods(), TOKENS))
def test_any_is_not_a_method_of_other_pages(client: Any, method: str) -> None:
    verb = method.upper()
    for path in ("/get.pspx", "/to-get.pspx"):
        response = client.request(method, path)
        if verb in ("GET", "HEAD"):
            assert response.status_code == 200
        else:
            assert response.status_code == 405, (method, path)
            assert response.headers["allow"] == "GET, HEAD"


def test_any_in_route_info(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {"any.pspx": "#methods ANY\n<p/>", "both.pspx": "#methods GET any\n<p/>"}
    )
    methods = {info.path: info.methods for info in webapp.app.route_info}
    assert methods == {"/any.pspx": ("ANY",), "/both.pspx": ("GET", "ANY")}
    assert any("route ANY /any.pspx -> any.pspx" in m for m in webapp.log.messages())
    assert webapp.request("DELETE", "/both.pspx").status_code == 200


def test_allow_header_never_names_any() -> None:
    assert tincan_core.Endpoint(frozenset({"ANY"}), lambda: "").accepts("PURGE")
    assert not tincan_core.Endpoint(frozenset({"POST"}), lambda: "").accepts("GET")
    assert (
        tincan_core.Endpoint(frozenset({"GET", "ANY"}), lambda: "").allow_header() == "GET, HEAD"
    )
