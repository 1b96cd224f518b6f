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
    # Universal newlines: "\r\n", "\r" and "\n" each end a line, nothing else does.
    input_lines = re.split(r"\r\n|\r|\n", text)
    body_lines = body.split("\n")
    assert len(body_lines) == len(input_lines)
    assert not body.startswith("\ufeff")
    numbers = [number for number, _ in header]
    assert numbers == list(range(1, len(header) + 1))
    for number, line in header:
        assert input_lines[number - 1] == line
        assert line.startswith("#")
        assert body_lines[number - 1] == ""
    # Everything after the header is kept exactly.
    assert body_lines[len(header) :] == input_lines[len(header) :]
    if len(header) < len(input_lines) and not (
        header and re.fullmatch(r"#end([ \t\x0b\x0c].*)?", header[-1][1], re.S)
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
    assert parsed.body == "\n\n<p>x</p>\n"


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
    if written != path.value and written == path.written:
        # Quoted as a whole: unquoted first, then read as a #load parameter (as the
        # original did), so '<', '=' or quotes in the name would change its meaning.
        assume(not path.value.startswith(("<", "'", '"')) and "=" not in path.value)
        assume(not path.value.endswith(">"))
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
    # A #forward page takes body, code-behind, #loads and #methods from its target,
    # an error page has no methods: those directives are ignored, with a warning.
    unused, why = set(), ""
    if "forward" in expected:
        unused, why = {"python", "template", "load", "methods"}, "a #forward page"
    elif "errors" in expected:
        unused, why = {"methods"}, "an error page"
    assert header.python == (None if "python" in unused else expected.get("python"))
    assert header.template == (None if "template" in unused else expected.get("template"))
    assert header.forward == expected.get("forward")
    assert header.errors == expected.get("errors")
    assert header.hidden == expected.get("hidden", False)
    assert header.methods == (
        ("GET",) if "methods" in unused else expected.get("methods", ("GET",))
    )
    assert header.loads == tuple(
        LoadSpec(*expected[line], line=number)  # type: ignore[misc]
        for number, (name, line) in enumerate(lines, 1)
        if name == "load" and "load" not in unused
    )
    assert header.warnings == tuple(
        f"{FILE}:{number}: #{name} is ignored on {why}"
        for number, (name, _) in enumerate(lines, 1)
        if name in unused
    )
    first_lines: dict[str, int] = {}
    for number, (name, _) in enumerate(lines, 1):
        first_lines.setdefault(name, number)
    assert dict(header.lines) == first_lines
    assert parsed.body == "\n" * len(lines) + re.sub(r"\r\n?", "\n", body)


def test_quoted_parameters_may_hold_spaces_and_escapes() -> None:
    header = parse_page(
        "#python 'my code.py'\n#template \"../shared views/main page.pspx\"\n"
        "#rem\n#load <'my layout.pt'>\n#load 'x=y.pt'\nbody",
        "/srv/app/sub/p.pspx",
    ).header
    assert header.python == "my code.py"
    assert header.template == "../shared views/main page.pspx"
    assert parse_page("#forward '\\u00e9t\\u00e9.pspx'\n", FILE).header.forward == "été.pspx"
    assert header.loads[0] == LoadSpec("my layout", "my layout.pt", True, 4)
    # Unquoted first, then read as a #load parameter, as the original did.
    assert header.loads[1] == LoadSpec("x", "y.pt", False, 5)


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
    ("#load 'x.pt' + ''", "malformed string literal"),
    ("#errors 404 abc", "'abc' is not an error code"),
    ("#errors 399", "'399' is not an error code"),
    ("#errors 600", "'600' is not an error code"),
    ("#errors 404.0", "is not an error code"),
    ("#errors -404", "is not an error code"),
    ("#errors +600", "'+600' is not an error code"),
    ("#errors 0399", "'0399' is not an error code"),
    ("#errors 4__04", "is not an error code"),
    ("#errors '404 abc'", "'abc' is not an error code"),
    ("#methods ''", "#methods: no methods listed"),
    ("#methods 'GET P(ST'", "is not an HTTP method"),
    ("#load '<x.pt'", "unbalanced"),
    ('#load "x.pspx"', "does not end in .pt"),
    ("#python '", "malformed string literal"),
    ('#errors "404', "is not an error code"),  # not quoted: plain text
    ('#methods "GET', "is not an HTTP method"),
    ("#errors '40\\N{nope}4'", "malformed string literal"),
    ("#methods 'GET' + 'POST'", "malformed string literal"),
    ("#load '<a.pt>' + 'x'", "malformed string literal"),
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


# -- TinCan 0.1 compatibility (issue 8) ---------------------------------------------------
@pytest.mark.parametrize(
    ("line", "attribute", "value"),
    [
        ('#load "<my layout.pt>"', "loads", (LoadSpec("my layout", "my layout.pt", True, 1),)),
        ("#load 'v=local.pt'", "loads", (LoadSpec("v", "local.pt", False, 1),)),
        ("#load '<v=lib/m.pt>'", "loads", (LoadSpec("v", "lib/m.pt", True, 1),)),
        ("#errors '404'", "errors", (404,)),
        ('#errors "404 500"', "errors", (404, 500)),
        ("#errors ''", "errors", ALL_CODES),
        ("#methods 'GET POST'", "methods", ("GET", "POST")),
        ('#methods "put"', "methods", ("PUT",)),
        ("#python 'x.py'", "python", "x.py"),
        ('#template "v.pspx"', "template", "v.pspx"),
    ],
)
def test_a_quoted_parameter_is_unquoted_first_for_every_directive(
    line: str, attribute: str, value: object
) -> None:
    header = parse_page(line + "\n<p/>", FILE).header
    assert getattr(header, attribute) == value
    assert header.warnings == ()


def _escaped(value: str) -> str:
    """``value`` as a string literal made only of escapes."""
    return "'" + "".join(f"\\U{ord(c):08x}" for c in value) + "'"


def _quoted_forms(value: str) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [
            repr(value),
            json.dumps(value, ensure_ascii=False),  # (JSON's surrogate pairs are not Python's)
            _escaped(value),
            "'''" + value + "'''",
            '"' + value[:1] + '" "' + value[1:] + '"',  # implicit concatenation
        ]
    )


@st.composite
def unquoted_parameters(draw: st.DrawFn) -> tuple[str, str]:
    """A directive and a valid parameter for it, written without quotes."""
    name = draw(st.sampled_from(["python", "template", "forward", "load", "errors", "methods"]))
    if name == "python":
        return name, draw(paths(".py", plain_segment))
    if name in ("template", "forward"):
        return name, draw(paths(".pspx", plain_segment))
    if name == "load":
        path = draw(paths(".pt", plain_segment))
        var = draw(st.none() | st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True))
        inner = path if var is None else f"{var}={path}"
        assume(var is not None or path.rsplit("/", 1)[-1] != ".pt")
        return name, f"<{inner}>" if draw(st.booleans()) else inner
    if name == "errors":
        codes = draw(st.lists(st.integers(400, 599), max_size=4))
        return name, " ".join(map(str, codes))
    return name, " ".join(draw(methods_words))


@given(unquoted_parameters(), st.data())
def test_any_quoted_form_of_a_parameter_parses_as_the_parameter(
    directive: tuple[str, str], data: st.DataObject
) -> None:
    name, raw = directive
    assume(name != "errors" or raw)  # "#errors" alone has no parameter to quote
    quoted = data.draw(_quoted_forms(raw))
    plain = parse_page(f"#rem\n#{name} {raw}\n<p/>", FILE)
    assert parse_page(f"#rem\n#{name} {quoted}\n<p/>", FILE) == plain
    assert plain.header.warnings == ()


# Header lines of every kind that a valid page may hold, and body lines.
_HEADER_LINES = st.sampled_from(
    [
        "#hidden",
        "#hidden # a comment",
        "#rem a remark",
        "#methods GET POST",
        "#python 'a b.py'",
        "#errors +404 0500",
        "#load <layout.pt>",
        "#forward t.pspx",
        "#template v.pspx",
        "#end",
    ]
)
_BODY_LINES = st.text(
    st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=10
) | st.sampled_from(["#python x.py", "<p tal:content='x'/>", "", "\x0c", "\u2028", "\x85"])


@st.composite
def pages_with_line_ends(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """The lines of a page and the line end after each (the last may have none)."""
    header = draw(st.lists(_HEADER_LINES, max_size=5, unique=True))
    body = draw(st.lists(_BODY_LINES, max_size=5))
    lines = header + body
    convention = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    if convention == "mixed":
        ends = draw(
            st.lists(
                st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(lines), max_size=len(lines)
            )
        )
    else:
        ends = [convention] * len(lines)
    if lines and draw(st.booleans()):
        ends[-1] = ""
    # "\r" then an empty line ended by "\n" is one "\r\n": that file has one line less.
    for i in range(len(lines) - 1):
        assume(not (ends[i] == "\r" and lines[i + 1] == "" and ends[i + 1].startswith("\n")))
    return lines, ends


@given(pages_with_line_ends(), st.booleans())
def test_any_newline_convention_gives_the_same_header_and_line_numbers(
    page: tuple[list[str], list[str]], bom: bool
) -> None:
    lines, ends = page
    text = ("\ufeff" if bom else "") + "".join(
        line + end for line, end in zip(lines, ends, strict=True)
    )
    reference = "".join(
        line + ("\n" if end else "") for line, end in zip(lines, ends, strict=True)
    )
    try:
        expected = parse_page(reference, FILE)
    except TemplateHeaderError as exc:
        with pytest.raises(TemplateHeaderError) as raised:
            parse_page(text, FILE)
        assert (raised.value.line, raised.value.message) == (exc.line, exc.message)
        return
    parsed = parse_page(text, FILE)
    assert parsed == expected
    assert "\r" not in parsed.body
    # One body line per line of the file: template errors keep their line numbers.
    assert parsed.body.count("\n") == sum(1 for end in ends if end)
    header_lines, _ = split_page(text)
    assert header_lines == split_page(reference)[0]


def test_classic_mac_page_has_its_header_lines_and_numbers() -> None:
    text = "#hidden\r#python 'a.py'\r<p>\r<b tal:content='x'/></p>\r"
    header, body = split_page(text)
    assert header == [(1, "#hidden"), (2, "#python 'a.py'")]
    assert body == "\n\n<p>\n<b tal:content='x'/></p>\n"
    parsed = parse_page(text, FILE)
    assert parsed.header.hidden and parsed.header.python == "a.py"


@pytest.mark.parametrize(
    ("written", "codes"),
    [
        ("+404", (404,)),
        ("0404", (404,)),
        ("4_04", (404,)),
        ("+0500 +404", (500, 404)),
        ("\u0664\u0660\u0664", (404,)),  # Arabic-Indic digits: int() reads them
        ("\uff15\uff10\uff13", (503,)),  # fullwidth digits
        ("'  404  '", (404,)),
        ("404, 500,", (404, 500)),
    ],
)
def test_error_codes_are_read_as_int_reads_them(written: str, codes: tuple[int, ...]) -> None:
    assert parse_page(f"#errors {written}\n", FILE).header.errors == codes


# The zero digits of ASCII, Arabic-Indic, Persian, Devanagari and fullwidth digits.
_DIGIT_ZEROS = [0x30, 0x660, 0x6F0, 0x966, 0xFF10]


@st.composite
def written_codes(draw: st.DrawFn) -> tuple[int, str]:
    """An integer and one way int() accepts to write it."""
    code = draw(st.integers(-1000, 1200))
    digits = str(abs(code)).zfill(draw(st.integers(0, 5)))
    zero = draw(st.sampled_from(_DIGIT_ZEROS))
    digits = "".join(chr(zero + int(d)) for d in digits)
    if len(digits) > 1 and draw(st.booleans()):
        at = draw(st.integers(1, len(digits) - 1))
        digits = digits[:at] + "_" + digits[at:]
    sign = "-" if code < 0 else draw(st.sampled_from(["", "+"]))
    return code, sign + digits


@given(written_codes())
def test_any_int_form_of_a_code_is_that_code_when_in_range(written: tuple[int, str]) -> None:
    code, text = written
    assert int(text) == code
    if 400 <= code <= 599:
        assert parse_page(f"#errors {text}\n", FILE).header.errors == (code,)
    else:
        assert str(header_error(f"#errors {text}\n")).startswith(f"{FILE}:1: #errors: ")


@given(st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), min_size=1, max_size=20))
def test_a_flag_ignores_its_parameter_with_a_warning(param: str) -> None:
    assume(param.strip())
    header = parse_page(f"#rem\n#hidden {param}\n<p/>", FILE).header
    assert header.hidden
    assert header.warnings == (f"{FILE}:2: #hidden takes no parameter; {param.strip()!r} ignored",)


def test_hidden_with_a_trailing_comment() -> None:
    header = parse_page("#hidden # not listed in the menu\n<p/>", FILE).header
    assert header == ParsedHeader(
        hidden=True,
        lines=(("hidden", 1),),
        warnings=(f"{FILE}:1: #hidden takes no parameter; '# not listed in the menu' ignored",),
    )
    # Even a malformed literal: the original never looked at a flag's parameter.
    assert parse_page("#hidden 'oops\n", FILE).header.hidden


def test_a_forward_page_ignores_the_directives_its_target_provides() -> None:
    text = (
        "#forward target.pspx\n#template view.html\n#python code.txt\n"
        "#load broken.pspx\n#methods G(T\n#hidden\n<p>unused</p>"
    )
    header = parse_page(text, FILE).header
    assert header.forward == "target.pspx" and header.hidden
    assert (header.template, header.python, header.loads, header.methods) == (
        None,
        None,
        (),
        ("GET",),
    )
    assert header.warnings == (
        f"{FILE}:2: #template is ignored on a #forward page: #template: 'view.html' does not"
        " end in .pspx",
        f"{FILE}:3: #python is ignored on a #forward page: #python: 'code.txt' does not end"
        " in .py",
        f"{FILE}:4: #load is ignored on a #forward page: #load: 'broken.pspx' does not end in .pt",
        f"{FILE}:5: #methods is ignored on a #forward page: #methods: 'G(T' is not an HTTP method",
    )
    valid = parse_page("#methods POST\n#forward t.pspx\n", FILE).header
    assert valid.methods == ("GET",)
    assert valid.warnings == (f"{FILE}:1: #methods is ignored on a #forward page",)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("#bogus", "unknown directive #bogus"),
        ("#forward other.pspx", "duplicate #forward (first at line 1)"),
        ("#template", "#template needs a parameter"),
        ("#python", "#python needs a parameter"),
        ("#methods 'GET' + 'PUT'", "malformed string literal"),
        ("#errors 404 x", "'x' is not an error code"),
    ],
)
def test_a_forward_page_still_needs_a_well_formed_header(line: str, message: str) -> None:
    error = header_error(f"#forward t.pspx\n{line}\n")
    assert error.line == 2
    assert message in str(error)
    assert "does not end in .pspx" in str(header_error("#methods GET\n#forward x.py\n"))


def test_an_error_page_ignores_methods() -> None:
    header = parse_page("#errors 404\n#methods G(T\n", FILE).header
    assert header.errors == (404,) and header.methods == ("GET",)
    assert header.warnings == (
        f"{FILE}:2: #methods is ignored on an error page: #methods: 'G(T' is not an HTTP method",
    )


def test_end_after_other_whitespace_stops_parsing_but_not_the_header() -> None:
    # The original ended the header only at "#end" plus ASCII whitespace, but its
    # directive parser stops at any line whose first word is "#end".
    header, body = split_page("#end\x85more\n#bogus\n<p/>")
    assert [n for n, _ in header] == [1, 2]
    assert body == "\n\n<p/>"
    assert parse_page("#end\x85more\n#bogus\n<p/>", FILE).header == ParsedHeader()


def test_parsing_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("DEBUG"):
        header = parse_page("#hidden x\n#forward t.pspx\n#python y.txt\n", FILE).header
    assert len(header.warnings) == 2
    assert caplog.records == []


def test_a_load_variable_that_is_no_python_name_is_a_warning() -> None:
    # The original passed any name on; templates cannot reach it, so say so.
    header = parse_page("#load my layout=x.pt\n#load 1v=<y.pt>\n#load a-b.pt\n", FILE).header
    assert [(load.var, load.path) for load in header.loads] == [
        ("my layout", "x.pt"),
        ("1v", "y.pt"),
        ("a-b", "a-b.pt"),
    ]
    assert header.warnings == (
        f"{FILE}:1: #load: 'my layout' is not a name templates can use",
        f"{FILE}:2: #load: '1v' is not a name templates can use",
    )


# -- #path and #allow-cross-origin (issue 12) ---------------------------------------------
def test_path_is_repeatable_and_keeps_each_pattern_with_its_line() -> None:
    text = "#path <year:int>\n#rem x\n#path '<year:int>/<month:int>'\n#path /<slug>\n<p/>"
    header = parse_page(text, FILE).header
    assert header.paths == (("<year:int>", 1), ("<year:int>/<month:int>", 3), ("<slug>", 4))
    assert header.warnings == ()
    assert dict(header.lines)["path"] == 1


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("<id:integer>", "#path: unknown filter '<id:integer>'"),
        ("archive", "#path: 'archive' has no <name> placeholder"),
        ("<a>/<a>", "#path: <a> appears twice"),
        ("<x:re:(>", "#path: <x:re:(>:"),
        ("<x:re:>", "needs a regular expression"),
        ("a<b/<x>", "malformed placeholder"),
        ("../<x>", "'.' and '..' segments are not allowed"),
        ("<_query>", "#path: <_query> is a name url_for() keeps for itself"),
        ("'<x>' + 'y'", "malformed string literal"),
    ],
)
def test_a_bad_path_pattern_is_an_error_at_its_line(param: str, message: str) -> None:
    error = header_error(f"#rem\n#path <ok>\n#path {param}\n<p/>")
    assert (error.file, error.line) == (FILE, 3)
    assert str(error).startswith(f"{FILE}:3: ")
    assert message in str(error)


def test_path_needs_a_parameter() -> None:
    assert str(header_error("#path\n")) == f"{FILE}:1: #path needs a parameter"


@given(st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=30))
def test_any_path_parameter_parses_or_fails_at_its_line(param: str) -> None:
    try:
        header = parse_page(f"#rem\n#path {param}\n", FILE).header
    except TemplateHeaderError as exc:
        assert (exc.file, exc.line) == (FILE, 2)
        assert "\n" not in str(exc)
    else:
        ((pattern, line),) = header.paths
        assert line == 2 and "<" in pattern


def test_a_forward_page_keeps_its_own_path_and_cross_origin_flag() -> None:
    # The route is the forward page's own: its URL forms and its cross-origin rule.
    header = parse_page("#forward t.pspx\n#path <id:int>\n#allow-cross-origin\n", FILE).header
    assert header.forward == "t.pspx"
    assert header.paths == (("<id:int>", 2),)
    assert header.allow_cross_origin
    assert header.warnings == ()


@pytest.mark.parametrize(
    ("first", "why"), [("#errors 404", "an error page"), ("#hidden", "a #hidden page")]
)
def test_pages_without_a_route_ignore_path_and_cross_origin_with_a_warning(
    first: str, why: str
) -> None:
    header = parse_page(f"{first}\n#path <x:nope>\n#allow-cross-origin\n", FILE).header
    assert header.paths == () and not header.allow_cross_origin
    assert header.warnings == (
        f"{FILE}:2: #path is ignored on {why}: #path: unknown filter '<x:nope>' "
        "(use int, float, path or re:...)",
        f"{FILE}:3: #allow-cross-origin is ignored on {why}",
    )


def test_allow_cross_origin_is_a_flag() -> None:
    assert parse_page("#allow-cross-origin\n", FILE).header.allow_cross_origin
    assert not parse_page("#hidden\n", FILE).header.allow_cross_origin
    header = parse_page("#allow-cross-origin webhooks\n", FILE).header
    assert header.allow_cross_origin
    assert header.warnings == (
        f"{FILE}:1: #allow-cross-origin takes no parameter; 'webhooks' ignored",
    )
    error = header_error("#allow-cross-origin\n#allow-cross-origin\n")
    assert str(error) == f"{FILE}:2: duplicate #allow-cross-origin (first at line 1)"
