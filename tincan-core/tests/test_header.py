"""The pure header parser: splitting a page, the directive grammar, errors with file:line."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from tincan_core import (
    LoadSpec,
    ParsedHeader,
    TemplateHeaderError,
    TinCanError,
    parse_header,
    parse_page,
    split_page,
)

FILE = "/srv/app/page.pspx"
ALL_CODES = tuple(range(400, 600))

# Text made of lines, with every kind of line ending and odd control character.
line_chars = st.characters(codec="utf-8", exclude_characters="\n")
any_text = st.lists(
    st.one_of(
        st.text(line_chars, max_size=12),
        st.text(line_chars, max_size=12).map(lambda s: "#" + s),
        st.sampled_from(["#end", "#end  x", "#rem", "\r", "\x0c", "\x0b", "\u2028", "\x85"]),
    ),
    max_size=12,
).map(lambda lines: "\n".join(lines))


def header_error(text: str) -> TemplateHeaderError:
    with pytest.raises(TemplateHeaderError) as info:
        parse_page(text, FILE)
    return info.value


# -- splitting ---------------------------------------------------------------------------
@given(any_text, st.booleans(), st.booleans())
def test_split_keeps_every_line_and_blanks_the_header(
    text: str, bom: bool, final_nl: bool
) -> None:
    if final_nl:
        text += "\n"
    header, body = split_page(("\ufeff" if bom else "") + text)
    input_lines = text.split("\n")
    body_lines = body.split("\n")
    assert len(body_lines) == len(input_lines)
    assert not body.startswith("\ufeff")
    numbers = [number for number, _ in header]
    assert numbers == list(range(1, len(header) + 1))
    for number, line in header:
        assert input_lines[number - 1].removesuffix("\r") == line
        assert line.startswith("#")
        assert body_lines[number - 1] == ""
    # Everything after the header is kept exactly.
    assert body_lines[len(header) :] == input_lines[len(header) :]
    if len(header) < len(input_lines) and not (
        header and re.fullmatch(r"#end(\s.*)?", header[-1][1], re.S)
    ):
        assert not input_lines[len(header)].startswith("#")


@given(
    st.lists(st.sampled_from(["#rem a", "#hidden", "#methods get"]), max_size=3, unique=True),
    any_text,
)
def test_end_ends_the_header_early(before: list[str], after: str) -> None:
    text = "\n".join([*before, "#end of header", "#python later.py", after])
    header, body = split_page(text)
    assert [line for _, line in header] == [*before, "#end of header"]
    assert body.split("\n")[len(before) + 1] == "#python later.py"
    parsed = parse_page(text, FILE)
    assert parsed.header.python is None


def test_end_must_stand_alone_or_be_followed_by_whitespace() -> None:
    assert split_page("#end\nx")[0] == [(1, "#end")]
    assert split_page("#end\tcomment\nx")[0] == [(1, "#end\tcomment")]
    error = header_error("#ending\nbody")
    assert str(error) == f"{FILE}:1: unknown directive #ending"


def test_crlf_header_lines_are_blanked_and_parsed() -> None:
    parsed = parse_page("#python 'a b.py'\r\n#hidden\r\n<p>x</p>\r\n", FILE)
    assert parsed.header.python == "a b.py"
    assert parsed.header.hidden
    assert parsed.body == "\n\n<p>x</p>\r\n"


def test_form_feed_in_a_header_line_does_not_shift_line_numbers() -> None:
    header, body = split_page("#rem a\x0cb\n#rem c\u2028d\n<p/>\n")
    assert [n for n, _ in header] == [1, 2]
    assert body == "\n\n<p/>\n"


def test_bom_is_dropped_before_the_header() -> None:
    parsed = parse_page("\ufeff#hidden\nbody", FILE)
    assert parsed.header.hidden
    assert parsed.body == "\nbody"


def test_page_without_header() -> None:
    parsed = parse_page("<html/>\n#python x.py\n", FILE)
    assert parsed.header == ParsedHeader()
    assert parsed.body == "<html/>\n#python x.py\n"


def test_line_after_header_that_starts_with_space_is_body() -> None:
    parsed = parse_page("#hidden\n #python x.py\n", FILE)
    assert parsed.body == "\n #python x.py\n"


# -- valid headers -----------------------------------------------------------------------
plain_segment = st.text(
    st.characters(codec="utf-8", categories=["L", "N"], include_characters="-_.~()+@"),
    min_size=1,
    max_size=8,
).filter(lambda s: s not in (".", ".."))
spaced_segment = st.text(
    st.characters(codec="utf-8", exclude_characters="/\x00", exclude_categories=["Cs"]),
    min_size=1,
    max_size=8,
)


def paths(suffix: str, segment: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda lead, parts: lead + "/".join(parts) + suffix,
        st.sampled_from(["", "/", "../", "./"]),
        st.lists(segment, min_size=1, max_size=3),
    )


@dataclass
class Param:
    """A directive parameter: the value the parser must return and how it is written."""

    value: str
    written: str


def path_param(suffix: str) -> st.SearchStrategy[Param]:
    raw = paths(suffix, plain_segment).map(lambda p: Param(p, p))
    quoted = st.builds(
        lambda p, double: Param(p, json.dumps(p, ensure_ascii=False) if double else repr(p)),
        paths(suffix, spaced_segment),
        st.booleans(),
    )
    return st.one_of(raw, quoted)


@st.composite
def load_lines(draw: st.DrawFn) -> tuple[str, tuple[str, str, bool]]:
    path = draw(path_param(".pt"))
    tlib = draw(st.booleans())
    var = draw(st.none() | st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True))
    inner = (
        path.written
        if var is None
        else f"{var}{draw(st.sampled_from(['=', ' = ', '= ']))}{path.written}"
    )
    written = f"<{inner}>" if tlib else inner
    expected_var = var if var is not None else path.value.rsplit("/", 1)[-1][: -len(".pt")]
    assume(expected_var)
    return written, (expected_var, path.value, tlib)


methods_words = st.lists(
    st.sampled_from(["get", "POST", "Put", "delete", "PATCH", "options", "PROPFIND", "x-custom"]),
    min_size=1,
    max_size=4,
)


@st.composite
def headers(draw: st.DrawFn) -> tuple[list[tuple[str, str]], dict[str, object]]:
    """A valid header as (directive, line) pairs in random order, and what it means."""
    lines: list[tuple[str, str]] = []
    expected: dict[str, object] = {}
    space = st.sampled_from([" ", "  ", "\t", " \t "])
    for name in ("python", "template", "forward"):
        if draw(st.booleans()):
            param = draw(path_param({"python": ".py"}.get(name, ".pspx")))
            trailing = draw(st.sampled_from(["", " ", "\t"]))
            lines.append((name, f"#{name}{draw(space)}{param.written}{trailing}"))
            expected[name] = param.value
    for _ in range(draw(st.integers(0, 3))):
        written, load = draw(load_lines())
        line = f"#load{draw(space)}{written}"
        lines.append(("load", line))
        expected[line] = load
    kind = draw(st.sampled_from(["none", "all", "list"]))
    if kind == "all":
        lines.append(("errors", "#errors" + draw(st.sampled_from(["", " ", "  \t"]))))
        expected["errors"] = ALL_CODES
    elif kind == "list":
        codes = draw(st.lists(st.integers(400, 599), min_size=1, max_size=5))
        sep = draw(st.sampled_from([" ", ", ", ",", "\t"]))
        lines.append(("errors", "#errors " + sep.join(map(str, codes))))
        expected["errors"] = tuple(dict.fromkeys(codes))
    if draw(st.booleans()):
        lines.append(("hidden", "#hidden"))
        expected["hidden"] = True
    if draw(st.booleans()):
        words = draw(methods_words)
        lines.append(("methods", "#methods " + draw(st.sampled_from([" ", ", "])).join(words)))
        expected["methods"] = tuple(dict.fromkeys(w.upper() for w in words))
    for _ in range(draw(st.integers(0, 2))):
        lines.append(("rem", "#rem" + draw(st.sampled_from(["", " a comment", " #python x.py"]))))
    order = draw(st.permutations(lines))
    return list(order), expected


@given(headers(), st.text(max_size=20).filter(lambda s: not s.startswith("#")))
def test_every_valid_header_parses_to_what_it_says(
    plan: tuple[list[tuple[str, str]], dict[str, object]], body: str
) -> None:
    lines, expected = plan
    text = "".join(line + "\n" for _, line in lines) + body
    parsed = parse_page(text, FILE)
    header = parsed.header
    assert header.python == expected.get("python")
    assert header.template == expected.get("template")
    assert header.forward == expected.get("forward")
    assert header.errors == expected.get("errors")
    assert header.hidden == expected.get("hidden", False)
    assert header.methods == expected.get("methods", ("GET",))
    assert header.loads == tuple(
        LoadSpec(*expected[line], line=number)  # type: ignore[misc]
        for number, (name, line) in enumerate(lines, 1)
        if name == "load"
    )
    first_lines: dict[str, int] = {}
    for number, (name, _) in enumerate(lines, 1):
        first_lines.setdefault(name, number)
    assert dict(header.lines) == first_lines
    assert parsed.body == "\n" * len(lines) + body


def test_quoted_parameters_may_hold_spaces_and_escapes() -> None:
    header = parse_page(
        "#python 'my code.py'\n#template \"../shared views/main page.pspx\"\n"
        "#forward '\\u00e9t\\u00e9.pspx'\n#load <'my layout.pt'>\n#load 'x=y.pt'\nbody",
        "/srv/app/sub/p.pspx",
    ).header
    assert header.python == "my code.py"
    assert header.template == "../shared views/main page.pspx"
    assert header.forward == "été.pspx"
    assert header.loads[0] == LoadSpec("my layout", "my layout.pt", True, 4)
    assert header.loads[1] == LoadSpec("x=y", "x=y.pt", False, 5)


def test_unbalanced_quotes_are_plain_text() -> None:
    header = parse_page("#python 'x.py\n#template \"a'.pspx\n", FILE).header
    assert header.python == "'x.py"
    assert header.template == "\"a'.pspx"


def test_load_forms() -> None:
    loads = parse_page(
        "#load layout.pt\n#load <macros.pt>\n#load m = <x/y.pt>\n#load <v=lib/z.pt>\n"
        "#load sub/dir/w.pt\n#load é=ü.pt\n",
        FILE,
    ).header.loads
    assert loads == (
        LoadSpec("layout", "layout.pt", False, 1),
        LoadSpec("macros", "macros.pt", True, 2),
        LoadSpec("m", "x/y.pt", True, 3),
        LoadSpec("v", "lib/z.pt", True, 4),
        LoadSpec("w", "sub/dir/w.pt", False, 5),
        LoadSpec("é", "ü.pt", False, 6),
    )


def test_errors_without_a_list_means_every_code_from_400_to_599() -> None:
    assert parse_page("#errors\n", FILE).header.errors == ALL_CODES
    assert parse_page("#errors   \n", FILE).header.errors == ALL_CODES


def test_methods_are_upper_cased_and_deduplicated() -> None:
    assert parse_page("#methods get Post GET\n", FILE).header.methods == ("GET", "POST")


def test_parse_header_accepts_split_page_output_and_stops_at_end() -> None:
    header_lines, _ = split_page("#hidden\n#end\n#python x.py\n")
    assert parse_header(header_lines, FILE) == ParsedHeader(hidden=True, lines=(("hidden", 1),))
    assert parse_header([(1, "#hidden"), (2, "#end"), (3, "#bogus")], FILE).hidden


# -- invalid headers ---------------------------------------------------------------------
INVALID = [
    ("#", "invalid directive"),
    ("# a comment", "invalid directive"),
    ("#\tx", "invalid directive"),
    ("#bogus", "unknown directive #bogus"),
    ("#Python x.py", "unknown directive #Python"),
    ("#python", "#python needs a parameter"),
    ("#python   ", "#python needs a parameter"),
    ("#template", "#template needs a parameter"),
    ("#forward", "#forward needs a parameter"),
    ("#load", "#load needs a parameter"),
    ("#methods", "#methods needs a parameter"),
    ("#methods ,", "#methods: no methods listed"),
    ("#methods GET P(ST", "is not an HTTP method"),
    ("#methods GET é", "is not an HTTP method"),
    ("#python x.txt", "does not end in .py"),
    ("#python ''", "does not end in .py"),
    ("#template x.html", "does not end in .pspx"),
    ("#forward x.py", "does not end in .pspx"),
    ("#python 'x.py'x", "does not end in .py"),
    ("#python 'a' + 'b.py'", "malformed string literal"),
    ("#python '''x.py'", "malformed string literal"),
    ("#python '\\N{NO SUCH NAME}.py'", "malformed string literal"),
    ("#python 'x\\x00.py'", "NUL"),
    ('#template "a\x00b.pspx"', "NUL"),
    ("#load x.pspx", "does not end in .pt"),
    ("#load <x.pt", "unbalanced"),
    ("#load x.pt>", "unbalanced"),
    ("#load <>", "empty file name"),
    ("#load =x.pt", "empty variable name"),
    ("#load v=", "empty file name"),
    ("#load .pt", "empty variable name"),
    ("#load a b=x.pt", "invalid variable name"),
    ("#load 'x.pt' + ''", "malformed string literal"),
    ("#errors 404 abc", "'abc' is not an error code"),
    ("#errors 399", "'399' is not an error code"),
    ("#errors 600", "'600' is not an error code"),
    ("#errors 404.0", "is not an error code"),
    ("#errors -404", "is not an error code"),
    ("#errors \u0664\u0660\u0664", "is not an error code"),
    ("#hidden yes", "#hidden takes no parameter"),
]


@pytest.mark.parametrize(("line", "message"), INVALID)
@pytest.mark.parametrize("position", [1, 3])
def test_invalid_directive_is_an_error_at_its_line(line: str, message: str, position: int) -> None:
    before = ["#rem first", "#rem second"][: position - 1]
    error = header_error("\n".join([*before, line, "<p>body</p>"]))
    assert isinstance(error, TinCanError)
    assert error.file == FILE
    assert error.line == position
    assert str(error).startswith(f"{FILE}:{position}: ")
    assert message in str(error)
    assert "Traceback" not in str(error)


@pytest.mark.parametrize(
    "directive",
    [
        "#python a.py",
        "#template a.pspx",
        "#forward a.pspx",
        "#errors 404",
        "#hidden",
        "#methods GET",
    ],
)
def test_duplicate_directive_is_an_error_naming_both_lines(directive: str) -> None:
    error = header_error(f"{directive}\n#rem x\n{directive}\nbody")
    assert error.line == 3
    assert str(error) == f"{FILE}:3: duplicate {directive.split()[0]} (first at line 1)"


def test_load_and_rem_are_repeatable() -> None:
    header = parse_page("#rem a\n#load a.pt\n#rem b\n#load a.pt\n", FILE).header
    assert [load.line for load in header.loads] == [2, 4]


directive_names = st.sampled_from(
    ["python", "template", "forward", "load", "errors", "hidden", "methods", "rem"]
)


@given(st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=30))
def test_any_single_header_line_parses_or_fails_with_its_location(line: str) -> None:
    text = "#rem\n#" + line + "\nbody"
    try:
        parse_page(text, FILE)
    except TemplateHeaderError as exc:
        assert exc.line == 2
        assert str(exc).startswith(f"{FILE}:2: ")
        assert "\n" not in str(exc)


@given(
    directive_names, st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=20)
)
def test_directive_with_random_parameter_parses_or_fails_cleanly(name: str, param: str) -> None:
    try:
        parse_page(f"#{name} {param}\n", FILE)
    except TemplateHeaderError as exc:
        assert exc.line == 1
        assert exc.file == FILE
