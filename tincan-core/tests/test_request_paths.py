"""The cheap request paths answer exactly as the general ones do.

A plain GET of a small static file, a page without code-behind and
``export()``'s per-class cache each take a shortcut; these tests compare them
with the way the same answer comes out of the general path.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import bottle
from tincan_core import Page

CSS = "body { color: red }\n" * 50


def _headers(response: Any) -> list[tuple[str, str]]:
    return sorted((k.lower(), v) for k, v in response.headers.items())


def test_plain_get_of_a_static_file_matches_the_conditional_path(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp({"style.css": CSS}, static=True)
    plain = webapp.get("/style.css")
    # An If-None-Match that does not match goes through the general path.
    general = webapp.get("/style.css", headers={"If-None-Match": '"no-such-tag"'})
    assert plain.status_code == general.status_code == 200
    assert plain.content == general.content == CSS.encode()
    assert _headers(plain) == _headers(general)
    assert plain.headers["content-length"] == str(len(CSS))
    cached = webapp.get("/style.css", headers={"If-None-Match": plain.headers["etag"]})
    assert cached.status_code == 304


def test_hooks_see_the_same_response_on_both_paths(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"style.css": CSS}, static=True)
    app = webapp.app

    @app.hook("before_request")
    def before() -> None:
        # A returned HTTPResponse replaces these, and so does the plain-GET path.
        bottle.response.set_header("X-Before", "1")
        bottle.response.set_cookie("early", "1")

    @app.hook("after_request")
    def after() -> None:
        bottle.response.add_header("X-After", str(len(bottle.response.body or b"")))

    plain = webapp.get("/style.css")
    general = webapp.get("/style.css", headers={"If-None-Match": '"no-such-tag"'})
    assert _headers(plain) == _headers(general)
    assert "x-before" not in plain.headers and "set-cookie" not in plain.headers
    assert plain.headers["x-after"] == str(len(CSS))


def test_a_changed_static_file_gets_new_validators(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"style.css": CSS}, static=True)
    path = webapp.root / "style.css"
    first = webapp.get("/style.css")
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # same size
    second = webapp.get("/style.css")
    assert second.headers["etag"] != first.headers["etag"]
    assert second.headers["last-modified"] != first.headers["last-modified"]
    path.write_text("p { margin: 0 }\n")
    third = webapp.get("/style.css")
    assert third.content == b"p { margin: 0 }\n"
    assert third.headers["content-length"] == "16"
    assert third.headers["etag"] not in (first.headers["etag"], second.headers["etag"])


def test_a_static_file_replaced_by_a_directory_is_a_logged_500(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp({"style.css": CSS}, static=True)
    assert webapp.get("/style.css").status_code == 200
    path = webapp.root / "style.css"
    path.unlink()
    assert webapp.get("/style.css").status_code == 404
    path.mkdir()
    response = webapp.get("/style.css")
    assert response.status_code == 500
    assert str(webapp.root) not in response.text
    assert any("style.css: cannot serve" in line for line in webapp.log.errors())


PAGE_BODY = (
    "<p>${page.request.path} ${page.__class__.__name__}</p>"
    "<p tal:content=\"layout.macros['x'] is not None\"></p>\n"
)


def test_pages_with_and_without_code_behind_render_the_same_variables(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp({
        "WEB-INF/tlib/layout.pt": '<div metal:define-macro="x">x</div>',
        "plain.pspx": "#load <layout.pt>\n" + PAGE_BODY,
        "coded.pspx": "#load <layout.pt>\n" + PAGE_BODY,
        "coded.py": "from tincan import Page\n\nclass Page(Page):\n    pass\n",
    })
    assert webapp.errors == 0, webapp.log.errors()
    plain = webapp.get("/plain.pspx").text
    coded = webapp.get("/coded.pspx").text
    assert plain == "<p>/plain.pspx Page</p><p>True</p>\n"
    assert coded == plain.replace("/plain.pspx", "/coded.pspx")


def test_the_page_object_overrides_a_load_named_page(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({
        "WEB-INF/tlib/layout.pt": '<div metal:define-macro="x">x</div>',
        "plain.pspx": "#load <page=layout.pt>\n<p>${page.request.path}</p>\n",
    })
    assert webapp.errors == 0, webapp.log.errors()
    assert webapp.get("/plain.pspx").text == "<p>/plain.pspx</p>\n"


def test_export_names_are_decided_per_class_not_inherited() -> None:
    class Parent(Page):
        colour = "red"

    class Child(Parent):
        size = 3

        @property
        def label(self) -> str:
            return f"{self.colour}-{self.size}"

    request, response = bottle.LocalRequest(), bottle.LocalResponse()
    parent = Parent(request, response)
    assert parent.export() == {"page": parent, "colour": "red"}
    child = Child(request, response)  # after Parent's names were cached
    assert child.export() == {"page": child, "colour": "red", "size": 3, "label": "red-3"}
    assert Parent(request, response).export().keys() == {"page", "colour"}
    Child.size = 4  # class values are read per request, not cached
    assert child.export()["label"] == "red-4"
