"""The Chameleon adapter for plain Bottle routes: ``chameleon_template``, ``chameleon_view``.

It behaves as the original's: names are looked up as Bottle looks them up, files
are read by Chameleon (which honours their own encoding declarations), and the
output is Chameleon's own, leading newlines included.
"""

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
    (directory / "hello.tpl").write_bytes("\ufeff\n\n<p>${name} é</p>\n".encode())
    (directory / "hello.html").write_text("<p>html ${name}</p>")
    (directory / "page.pt").write_text("<b tal:content='value'>x</b>")
    (directory / "legacy.thtml").write_bytes("<i>${word} ü</i>".encode("latin-1"))
    (directory / "simple.stpl").write_text("<u>${word}</u>")
    return directory


def test_template_from_source_keeps_leading_newlines() -> None:
    assert chameleon_template("\n<p>${x}</p>\n", x=1) == "\n<p>1</p>\n"
    assert chameleon_template("<p>${x}</p>\n", x="<b>") == "<p>&lt;b&gt;</p>\n"
    assert chameleon_template("<p>${structure: x}</p>\n", x="<b>") == "<p><b></p>\n"


def test_names_are_found_with_bottles_extensions(views: Path) -> None:
    lookup = [str(views)]
    # hello.tpl wins over hello.html (Bottle's order: tpl html thtml stpl); the
    # UTF-8 byte-order mark goes, the newlines after it stay.
    assert chameleon_template("hello", template_lookup=lookup, name="bob") == "\n\n<p>bob é</p>\n"
    assert chameleon_template("hello.html", template_lookup=lookup, name="b") == "<p>html b</p>"
    assert chameleon_template("simple", template_lookup=lookup, word="w") == "<u>w</u>"
    assert (
        chameleon_template(
            "legacy", template_lookup=lookup, template_settings={"encoding": "latin-1"}, word="w"
        )
        == "<i>w ü</i>"
    )
    # Other extensions only by their full name, as in the original.
    assert chameleon_template("page.pt", template_lookup=lookup, value="v") == "<b>v</b>"
    with pytest.raises(bottle.TemplateError):
        chameleon_template("page", template_lookup=lookup, value="v")


def test_lookup_directories_are_searched_in_order(views: Path, tmp_path: Path) -> None:
    later = tmp_path / "later"
    later.mkdir()
    (later / "page.tpl").write_text("<p>later</p>")
    (later / "hello.tpl").write_text("<p>shadowed</p>")
    lookup = [str(views), str(later)]
    assert chameleon_template("page", template_lookup=lookup) == "<p>later</p>"
    assert "shadowed" not in chameleon_template("hello", template_lookup=lookup, name="x")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b'<?xml version="1.0" encoding="iso-8859-1"?>\r\n<p>\xe9</p>\r\n',
            '<?xml version="1.0" encoding="iso-8859-1"?>\r\n<p>é</p>\r\n',
        ),
        (
            b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2"><p>\xb1</p>',
            '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2"><p>ą</p>',
        ),
        ("<p>ü</p>".encode("utf-16"), "<p>ü</p>"),
    ],
    ids=["xml-declaration", "meta-charset", "utf-16-bom"],
)
def test_files_declaring_their_encoding(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / "declared.tpl").write_bytes(content)
    assert chameleon_template("declared", template_lookup=[str(tmp_path)]) == expected


def test_xml_files_keep_line_ends_and_plain_attributes(tmp_path: Path) -> None:
    (tmp_path / "x.tpl").write_bytes(b'<?xml version="1.0"?>\r\n<input checked="${True}"/>\r\n')
    (tmp_path / "h.tpl").write_bytes(b'<p>\r\n<input checked="${True}"/></p>\r\n')
    lookup = [str(tmp_path)]
    assert chameleon_template("x", template_lookup=lookup) == (
        '<?xml version="1.0"?>\r\n<input checked="True"/>\r\n'
    )
    assert chameleon_template("h", template_lookup=lookup) == (
        '<p>\n<input checked="checked"/></p>\n'
    )


def test_load_expressions_search_the_lookup_path(views: Path) -> None:
    (views / "uses.tpl").write_text('<div metal:use-macro="load: macros.pt" />')
    (views / "macros.pt").write_text("<p>from the macro file ${word}</p>")
    result = chameleon_template("uses", template_lookup=[str(views)], word="w")
    assert result == "<p>from the macro file w</p>"


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
    assert response.text == "\n\n<p>ann é</p>\n"
    assert client.get("/raw").text == "not a dict: passed through"


def test_adapter_on_a_launched_app(launch_webapp: Callable[..., Any], views: Path) -> None:
    webapp = launch_webapp({"p.pspx": "\n<p>page</p>"})

    @webapp.app.route("/extra")
    @chameleon_view("hello", template_lookup=[str(views)])
    def extra() -> dict[str, str]:
        return {"name": "extra"}

    assert webapp.get("/extra").text == "\n\n<p>extra é</p>\n"  # only pages strip newlines
    assert webapp.get("/p.pspx").text == "<p>page</p>"
