"""The one classification of webapp files: page, private, never-served, ignored, static."""

from __future__ import annotations

import re
import string
import sys

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from tincan_core import INDEX_NAMES, NAME_RULES, NEVER_SERVED_SUFFIXES, FileKind, classify

SOURCE_SUFFIXES = [".py", ".pyc", ".pyo", ".pyw", ".pyi", ".pyx", ".pt", ".pspx"]
BACKUP_SUFFIXES = [".bak", ".orig", ".rej", ".swp", ".swo"]
ON_LINUX = sys.platform.startswith("linux")
PAGES_IGNORE_CASE = sys.platform in ("darwin", "win32", "cygwin")

name_chars = st.characters(codec="utf-8", exclude_characters="/\x00", exclude_categories=["Cs"])
plain_name = st.text(name_chars, min_size=1, max_size=10).filter(lambda s: not s.startswith("."))
directory = plain_name.filter(lambda s: s[:7].upper() != "WEB-INF" and s.lower() != "__pycache__")
# Names built from the characters the rules look at, so that near misses are common.
tricky_name = st.text(st.sampled_from("aPy.~#-_ bBkKoOtTsSwWxXrReEcCiI"), min_size=1, max_size=12)


def case_variants(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda flips: "".join(
            c.upper() if f else c.lower() for c, f in zip(word, flips, strict=True)
        )
    )


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def reference(relpath: str) -> FileKind:
    """The rules of SPEC §1 written out by hand, word by word, to check the patterns.

    Case folding is ASCII only, as PCRE's; a name's end is judged before one final
    newline, as PCRE's and Python's ``$`` do (so nginx and TinCan agree even there).
    """
    parts = relpath.translate(_ASCII_LOWER).split("/")
    if any(p.startswith("web-inf") for p in parts):
        return FileKind.PRIVATE
    if any(p.startswith(".") for p in parts):
        return FileKind.IGNORED
    if any(p.removesuffix("\n") == "__pycache__" for p in parts):
        return FileKind.NEVER_SERVED
    exact = relpath.split("/")[-1].removesuffix("\n")
    name = parts[-1].removesuffix("\n")
    if exact.endswith(".pspx") or (PAGES_IGNORE_CASE and name.endswith(".pspx")):
        return FileKind.PAGE
    if set("." + s for s in name.split(".")[1:]) & NEVER_SERVED_SUFFIXES:
        return FileKind.NEVER_SERVED
    if name.endswith("~") or (len(name) >= 2 and name[0] == name[-1] == "#"):
        return FileKind.NEVER_SERVED
    return FileKind.STATIC


@given(
    st.lists(directory, max_size=3),
    case_variants("web-inf"),
    st.sampled_from(["", ".bak", "-old", "2", " copy", "~"]),
    st.lists(plain_name, max_size=3),
    plain_name,
)
def test_anything_under_a_web_inf_name_at_any_depth_and_case_is_private(
    above: list[str], web_inf: str, tail: str, below: list[str], name: str
) -> None:
    assert classify("/".join([*above, web_inf + tail, *below, name])) is FileKind.PRIVATE


@given(st.lists(directory, max_size=3), case_variants("web-inf"), plain_name | st.just(""))
def test_a_file_named_like_web_inf_is_private_too(
    above: list[str], web_inf: str, tail: str
) -> None:
    """A URL does not say whether /WEB-INF.zip is a file or a directory."""
    assert classify("/".join([*above, web_inf + tail])) is FileKind.PRIVATE


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
    st.sampled_from(SOURCE_SUFFIXES).flatmap(case_variants),
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
    st.lists(directory, max_size=3),
    plain_name.filter(lambda s: "/" not in s),
    st.sampled_from(SOURCE_SUFFIXES + BACKUP_SUFFIXES).flatmap(case_variants),
    st.lists(st.sampled_from([".bak", ".BAK", ".orig", ".js", ".txt", ".1", ".", ".gz"]),
             max_size=3).map("".join),
    st.sampled_from(["", "~"]),
)  # fmt: skip
def test_a_source_or_backup_suffix_anywhere_among_the_suffixes_is_never_served(
    above: list[str], stem: str, suffix: str, more: str, tilde: str
) -> None:
    """index.pspx.bak, stats.py.BAK, x.py.js, style.css.orig.gz: never served, never a page."""
    name = stem + suffix + more + tilde
    if name.endswith(".pspx"):
        return  # a page
    # A name starting with WEB-INF is private first: never served either way.
    expected = (FileKind.PRIVATE,) if name.upper().startswith("WEB-INF") else ()
    assert classify("/".join([*above, name])) in (FileKind.NEVER_SERVED, *expected)


@given(st.lists(directory, max_size=3), plain_name)
def test_backup_and_editor_copies_are_never_served(above: list[str], name: str) -> None:
    for copy in (name + "~", f"#{name}#", name + ".~1~"):
        assert classify("/".join([*above, copy])) is FileKind.NEVER_SERVED, copy


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
    if set("." + s for s in lowered.split(".")[1:]) & NEVER_SERVED_SUFFIXES:
        return
    if name.endswith("~") or (len(name) > 1 and name[0] == name[-1] == "#"):
        return
    assert classify("/".join([*above, name])) is FileKind.STATIC


@given(st.lists(tricky_name | directory | case_variants("web-inf.x"), min_size=1, max_size=4))
@example(["a.py", "b.css"])  # a directory's suffix does not count
@example(["x.PY."])
@example(["#a#", "b"])
@example(["web-\u0131nf", "x.css"])  # dotless i: ASCII folding, as PCRE does
@example(["x.\u017fwp"])  # long s: not an "s"
def test_the_patterns_say_what_the_words_say(parts: list[str]) -> None:
    """NAME_RULES (what web servers get) against the rules spelled out by hand."""
    relpath = "/".join(parts)
    assert classify(relpath) is reference(relpath), relpath


def test_rules_are_pcre_compatible_plain_patterns() -> None:
    """Only syntax nginx and Apache read as Python does: no lookaround, no named
    groups, no escapes beyond \\., no character-class shorthands."""
    for rule in NAME_RULES:
        assert not re.search(r"\(\?|\\[^.]|\{", rule.pattern), rule.pattern
        assert rule.what


@pytest.mark.parametrize(
    ("relpath", "kind"),
    [
        ("index.html", FileKind.STATIC),
        ("style.css", FileKind.STATIC),
        ("jquery.min.js", FileKind.STATIC),
        ("py", FileKind.STATIC),
        ("py.txt", FileKind.STATIC),
        ("x.python", FileKind.STATIC),
        ("a.py/b.css", FileKind.STATIC),
        ("old~/b.css", FileKind.STATIC),
        ("#", FileKind.STATIC),
        ("a#", FileKind.STATIC),
        ("x.py.txt", FileKind.NEVER_SERVED),
        ("x.py.js", FileKind.NEVER_SERVED),
        ("messages.pt.json", FileKind.NEVER_SERVED),
        ("x.pyc", FileKind.NEVER_SERVED),
        ("X.PY", FileKind.NEVER_SERVED),
        ("layout.PT", FileKind.NEVER_SERVED),
        ("index.py~", FileKind.NEVER_SERVED),
        ("page.pspx.bak", FileKind.NEVER_SERVED),
        ("x.py.orig", FileKind.NEVER_SERVED),
        ("#index.py#", FileKind.NEVER_SERVED),
        ("about.pspx.swp", FileKind.NEVER_SERVED),
        ("stats.py.BAK", FileKind.NEVER_SERVED),
        ("patch.rej", FileKind.NEVER_SERVED),
        ("style.css.orig", FileKind.NEVER_SERVED),
        ("x.py.", FileKind.NEVER_SERVED),
        ("WEB-INF/lib/helper.py", FileKind.PRIVATE),
        ("a/web-inf/b.txt", FileKind.PRIVATE),
        ("a/Web-Inf/x.pspx", FileKind.PRIVATE),
        ("WEB-INF.bak/lib/helper.py", FileKind.PRIVATE),
        ("a/Web-Inf-old/b.txt", FileKind.PRIVATE),
        ("web-inf.txt", FileKind.PRIVATE),
        ("WEB-INF.zip", FileKind.PRIVATE),
        ("my-web-inf/x.txt", FileKind.STATIC),
        (".htaccess", FileKind.IGNORED),
        ("a/.git/config", FileKind.IGNORED),
        ("__pycache__/x.cpython-311.pyc", FileKind.NEVER_SERVED),
        ("a/__pycache__/notes.txt", FileKind.NEVER_SERVED),
        ("__pycache__", FileKind.NEVER_SERVED),
        ("index.pspx", FileKind.PAGE),
        ("a.py.pspx", FileKind.PAGE),
        ("old~.pspx", FileKind.PAGE),
    ],
)
def test_examples(relpath: str, kind: FileKind) -> None:
    assert classify(relpath) is kind


def test_index_names_in_order_of_precedence() -> None:
    assert INDEX_NAMES == ("index.pspx", "index.html", "index.htm")


@given(st.lists(tricky_name | directory | case_variants("web-inf"), min_size=1, max_size=3))
def test_directory_rules_are_the_ones_that_match_directory_names(dirs: list[str]) -> None:
    """``NameRule.directories`` (what Apache's DirectoryMatch gets) tells the truth:
    a rule without it never matches because of a directory's name."""
    path = "/".join([*dirs, "f"])
    for rule in NAME_RULES:
        if not rule.directories:
            assert not rule.regex.search(path), (rule.pattern, path)
        elif any(rule.regex.search(d) for d in dirs):
            assert rule.regex.search(path), (rule.pattern, path)
