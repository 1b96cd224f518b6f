"""The Chameleon adapter for plain Bottle routes: ``chameleon_template``, ``chameleon_view``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import bottle
import pytest
from tincan import chameleon_template, chameleon_view


@pytest.fixture(autouse=True)
def fresh_template_cache() -> Iterator[None]:
    bottle.TEMPLATES.clear()
    yield
    bottle.TEMPLATES.clear()


@pytest.fixture
def views(tmp_path: Path) -> Path:
    directory = tmp_path / "views"
    directory.mkdir()
    (directory / "hello.pt").write_bytes("\ufeff\n\n<p>${name} é</p>\n".encode())
    (directory / "page.pspx").write_text("<b tal:content='value'>x</b>")
    (directory / "legacy.html").write_bytes("<i>${word} ü</i>".encode("latin-1"))
    return directory


def test_template_from_source() -> None:
    assert chameleon_template("\n<p>${x}</p>\n", x=1) == "<p>1</p>\n"
    assert chameleon_template("<p>${x}</p>\n", x="<b>") == "<p>&lt;b&gt;</p>\n"
    assert chameleon_template("<p>${structure: x}</p>\n", x="<b>") == "<p><b></p>\n"


def test_template_by_name_from_the_lookup_path(views: Path) -> None:
    lookup = [str(views)]
    assert chameleon_template("hello", template_lookup=lookup, name="bob") == "<p>bob é</p>\n"
    assert chameleon_template("page", template_lookup=lookup, value="v") == "<b>v</b>"
    assert (
        chameleon_template(
            "legacy", template_lookup=lookup, template_settings={"encoding": "latin-1"}, word="w"
        )
        == "<i>w ü</i>"
    )


def test_missing_template_is_a_bottle_error(views: Path) -> None:
    with pytest.raises(bottle.TemplateError):
        chameleon_template("nothing-here", template_lookup=[str(views)])


def test_view_decorator(views: Path, client_for: Callable[[Any], Any]) -> None:
    app = bottle.Bottle()

    @app.route("/hello/<name>")
    @chameleon_view("hello", template_lookup=[str(views)])
    def hello(name: str) -> dict[str, str]:
        return {"name": name}

    @app.route("/raw")
    @chameleon_view("hello", template_lookup=[str(views)])
    def raw() -> str:
        return "not a dict: passed through"

    client = client_for(app)
    response = client.get("/hello/ann")
    assert response.status_code == 200
    assert response.text == "<p>ann é</p>\n"
    assert client.get("/raw").text == "not a dict: passed through"


def test_adapter_on_a_launched_app(launch_webapp: Callable[..., Any], views: Path) -> None:
    webapp = launch_webapp({"p.pspx": "<p>page</p>"})

    @webapp.app.route("/extra")
    @chameleon_view("hello", template_lookup=[str(views)])
    def extra() -> dict[str, str]:
        return {"name": "extra"}

    assert webapp.get("/extra").text == "<p>extra é</p>\n"
    assert webapp.get("/p.pspx").text == "<p>page</p>"
