"""Action lines quote paths so a shell reads each back as exactly one word."""

from __future__ import annotations

import shlex
import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_static import quote_path


@given(st.text(max_size=30).filter(str.isprintable))
def test_property_printable_paths_round_trip_through_a_shell_parser(path: str) -> None:
    quoted = quote_path(path)
    assert quoted.startswith("'") and quoted.endswith("'")
    assert shlex.split(quoted) == [path]
    assert "\n" not in quoted


def test_quotes_and_control_characters() -> None:
    assert quote_path("it's") == "'it'\"'\"'s'"
    assert quote_path("a b") == "'a b'"
    nasty = "new\nline\tand 'quote' and \\ and \x7f"
    quoted = quote_path(nasty)
    assert "\n" not in quoted and quoted.startswith("$'")
    echoed = subprocess.run(
        ["bash", "-c", f"printf %s {quoted}"], capture_output=True, text=True, check=True
    ).stdout
    assert echoed == nasty


def test_undecodable_bytes_show_as_escapes() -> None:
    name = b"caf\xe9.css".decode("utf-8", "surrogateescape")
    assert quote_path(name) == "$'caf\\xe9.css'"


@settings(max_examples=30)
@given(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
)
def test_property_any_path_round_trips_through_bash(path: str) -> None:
    quoted = quote_path(path)
    assert "\n" not in quoted
    echoed = subprocess.run(
        ["bash", "-c", f"printf %s {quoted}"], capture_output=True, check=True
    ).stdout
    assert echoed == path.encode("utf-8")
