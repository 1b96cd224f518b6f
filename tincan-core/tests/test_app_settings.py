"""The ``[app]`` table: the webapp's own settings, whose bad values are reported at
``tincan.toml:line`` by the getters the webapp's code reads them with."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tincan_core import TinCanError, launch
from tincan_core._settings import AppSettings, Settings, merge_overrides, parse_settings

FILE = "/site/WEB-INF/tincan.toml"

TEXT = """\
clean_urls = true

[app]
database = "/var/lib/site/guestbook.sqlite"
home = "~/guestbook.sqlite"
relative = "data/guestbook.sqlite"
port = 8080
title = "Guest\\nbook"
empty = ""
"""


def app_settings() -> AppSettings:
    settings, problems = parse_settings(TEXT, FILE)
    assert problems == []
    return settings.app


def test_the_table_is_a_read_only_mapping_of_its_values() -> None:
    app = app_settings()
    assert app["database"] == "/var/lib/site/guestbook.sqlite"
    assert dict(app)["port"] == 8080 and len(app) == 6 and "missing" not in app
    with pytest.raises(TypeError):
        app["database"] = "/elsewhere"  # type: ignore[index]
    assert Settings().app == {} and app.line("missing") is None


def test_each_key_knows_its_line() -> None:
    app = app_settings()
    assert (app.file, app.line("database"), app.line("port")) == (FILE, 4, 7)


def test_path_expands_home_and_normalises() -> None:
    app = app_settings()
    assert app.path("database") == "/var/lib/site/guestbook.sqlite"
    assert app.path("home") == os.path.join(os.path.expanduser("~"), "guestbook.sqlite")
    assert app.path("missing") is None
    assert app.path("missing", "/tmp/x.sqlite") == "/tmp/x.sqlite"


@pytest.mark.parametrize(
    ("key", "line", "fragment"),
    [
        ("relative", 6, "app.relative must be an absolute path (or start with ~)"),
        ("port", 7, "app.port must be a string, not a number"),
        ("title", 8, "app.title must not contain line breaks"),
        ("empty", 9, "app.empty must be a file path, not empty"),
    ],
)
def test_a_value_the_webapp_cannot_use_is_an_error_at_its_line(
    key: str, line: int, fragment: str
) -> None:
    with pytest.raises(TinCanError) as raised:
        app_settings().path(key)
    assert raised.value.file == FILE and raised.value.line == line
    assert str(raised.value).startswith(f"{FILE}:{line}: {fragment}")


def test_text_refuses_what_is_no_string() -> None:
    app = app_settings()
    assert app.text("database") == "/var/lib/site/guestbook.sqlite"
    assert app.text("missing", "fallback") == "fallback"
    with pytest.raises(TinCanError, match=r"tincan.toml:7: app.port must be a string"):
        app.text("port")
    assert str(app.error("database", "is read-only")) == (f"{FILE}:4: app.database is read-only")


def test_launch_keywords_give_values_without_a_line() -> None:
    settings = merge_overrides(Settings(), {"app": {"database": "db.sqlite"}})
    assert settings.app["database"] == "db.sqlite" and settings.app.line("database") is None
    with pytest.raises(TinCanError) as raised:
        settings.app.path("database")
    assert str(raised.value).startswith("app.database must be an absolute path")
    with pytest.raises(TypeError, match="app"):
        merge_overrides(Settings(), {"app": ["not", "a", "table"]})


def test_app_that_is_no_table_is_a_launch_error_at_its_line() -> None:
    settings, problems = parse_settings('clean_urls = true\napp = "x"\n', FILE)
    assert [str(p) for p in problems] == [f"{FILE}:2: app must be a table"]
    assert settings.app == {}


def test_the_launched_app_carries_the_table(tmp_path: Path) -> None:
    (tmp_path / "WEB-INF").mkdir()
    (tmp_path / "WEB-INF" / "tincan.toml").write_text('[app]\n\ndatabase = "/srv/x.sqlite"\n')
    app, errors = launch(tmp_path)
    assert errors == 0 and app is not None
    assert app.settings.app.path("database") == "/srv/x.sqlite"
    assert app.settings.app.line("database") == 3
    assert app.settings.app.file == str(tmp_path / "WEB-INF" / "tincan.toml")
    override, _ = launch(tmp_path, app={"database": "/srv/y.sqlite"})
    assert override is not None and override.settings.app["database"] == "/srv/y.sqlite"


_KEY = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)


@given(st.dictionaries(_KEY, st.integers(0, 10**6), min_size=1, max_size=6), st.data())
def test_every_key_is_located_at_the_line_it_is_written_on(
    values: dict[str, int], data: st.DataObject
) -> None:
    lines = ["# settings", "[app]"]
    expected = {}
    for key, value in values.items():
        lines.extend([""] * data.draw(st.integers(0, 2)))
        lines.append(f"{key} = {value}")
        expected[key] = len(lines)
    settings, problems = parse_settings("\n".join(lines) + "\n", FILE)
    assert problems == []
    assert {key: settings.app.line(key) for key in values} == expected
    for key in values:
        with pytest.raises(TinCanError) as raised:
            settings.app.path(key)
        assert raised.value.line == expected[key]
