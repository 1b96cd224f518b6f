"""The one classification of webapp files: page, private, never-served, ignored, static."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tincan_core import INDEX_NAMES, FileKind, classify

NEVER_SERVED_SUFFIXES = [".py", ".pyc", ".pyo", ".pt", ".pspx"]
ON_LINUX = sys.platform.startswith("linux")

name_chars = st.characters(codec="utf-8", exclude_characters="/\x00", exclude_categories=["Cs"])
plain_name = st.text(name_chars, min_size=1, max_size=10).filter(lambda s: not s.startswith("."))
directory = plain_name.filter(lambda s: s.upper() != "WEB-INF" and s.lower() != "__pycache__")


def case_variants(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda flips: "".join(
            c.upper() if f else c.lower() for c, f in zip(word, flips, strict=True)
        )
    )


@given(
    st.lists(directory, max_size=3),
    case_variants("web-inf"),
    st.lists(plain_name, max_size=3),
    plain_name,
)
def test_anything_under_web_inf_at_any_depth_and_case_is_private(
    above: list[str], web_inf: str, below: list[str], name: str
) -> None:
    assert classify("/".join([*above, web_inf, *below, name])) is FileKind.PRIVATE


@given(
    st.lists(plain_name, max_size=3), case_variants("web-inf"), st.lists(plain_name, max_size=2)
)
def test_private_wins_over_dot_names_below_web_inf(
    above: list[str], web_inf: str, below: list[str]
) -> None:
    assert classify("/".join([*above, web_inf, *below, ".secret"])) is FileKind.PRIVATE


@given(
    st.lists(directory, max_size=3), plain_name, st.lists(plain_name, max_size=2), st.booleans()
)
def test_dot_names_anywhere_are_ignored(
    above: list[str], dotted: str, below: list[str], last: bool
) -> None:
    parts = [*above, "." + dotted, *below] if not last else [*above, "." + dotted]
    if not last and not below:
        parts.append("file.txt")
    assert classify("/".join(parts)) is FileKind.IGNORED


@given(
    st.lists(directory, max_size=3),
    plain_name,
    st.sampled_from(NEVER_SERVED_SUFFIXES).flatmap(case_variants),
)
def test_source_suffixes_in_any_case_are_never_static(
    above: list[str], stem: str, suffix: str
) -> None:
    kind = classify("/".join([*above, stem + suffix]))
    assert kind is not FileKind.STATIC
    if suffix == ".pspx":
        assert kind is FileKind.PAGE
    elif ON_LINUX:
        assert kind is FileKind.NEVER_SERVED


@given(
    st.lists(directory, max_size=2),
    case_variants("__pycache__"),
    st.lists(plain_name, max_size=2),
    plain_name,
)
def test_pycache_contents_are_never_static(
    above: list[str], cache: str, below: list[str], name: str
) -> None:
    assert classify("/".join([*above, cache, *below, name])) is FileKind.NEVER_SERVED


@pytest.mark.skipif(not ON_LINUX, reason="page recognition is exact only on Linux")
@pytest.mark.parametrize("name", ["x.PSPX", "x.Pspx", "x.pspX"])
def test_only_exact_pspx_is_a_page_on_linux(name: str) -> None:
    assert classify(name) is FileKind.NEVER_SERVED
    assert classify("x.pspx") is FileKind.PAGE
    assert classify("a/b/x.pspx") is FileKind.PAGE


@given(st.lists(directory, max_size=3), plain_name)
def test_other_names_are_static(above: list[str], name: str) -> None:
    lowered = name.lower()
    if any(lowered.endswith(s) for s in NEVER_SERVED_SUFFIXES) and lowered.rfind(".") > 0:
        return
    assert classify("/".join([*above, name])) is FileKind.STATIC


@pytest.mark.parametrize(
    ("relpath", "kind"),
    [
        ("index.html", FileKind.STATIC),
        ("style.css", FileKind.STATIC),
        ("py", FileKind.STATIC),
        ("x.py.txt", FileKind.STATIC),
        ("x.pyc", FileKind.NEVER_SERVED),
        ("X.PY", FileKind.NEVER_SERVED),
        ("layout.PT", FileKind.NEVER_SERVED),
        ("WEB-INF/lib/helper.py", FileKind.PRIVATE),
        ("a/web-inf/b.txt", FileKind.PRIVATE),
        ("a/Web-Inf/x.pspx", FileKind.PRIVATE),
        ("web-inf.txt", FileKind.STATIC),
        (".htaccess", FileKind.IGNORED),
        ("a/.git/config", FileKind.IGNORED),
        ("__pycache__/x.cpython-311.pyc", FileKind.NEVER_SERVED),
        ("a/__pycache__/notes.txt", FileKind.NEVER_SERVED),
        ("index.pspx", FileKind.PAGE),
    ],
)
def test_examples(relpath: str, kind: FileKind) -> None:
    assert classify(relpath) is kind


def test_index_names_in_order_of_precedence() -> None:
    assert INDEX_NAMES == ("index.pspx", "index.html", "index.htm")
