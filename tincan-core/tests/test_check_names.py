"""The undefined-name analysis of ``tincan check``, judged against Chameleon itself.

Examples pin each scoping rule; a property test generates templates (defines,
repeats, conditions, pipes, typed expressions, macros with slots), renders them
with real Chameleon and requires the checker to name exactly the name a render
fails on, and nothing when the render succeeds.
"""

from __future__ import annotations

import string

import pytest
from chameleon import PageTemplate
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tincan_core._check_expr import expression_names, interpolations
from tincan_core._check_template import CHAMELEON_NAMES, undefined_names


def names(body: str, defined: set[str] | None = None, **loads: str) -> list[str]:
    return [p.name for p in undefined_names(body, defined or set(), loads=loads)]


def render_failure(body: str, variables: dict[str, object], **loads: str) -> str | None:
    """The name a real render fails on with NameError, or None when it renders."""
    macros = {var: PageTemplate(text) for var, text in loads.items()}
    try:
        PageTemplate(body).render(**variables, **macros)
    except NameError as exc:
        return str(exc).split("\n", 1)[0].strip()
    return None


# -- expressions -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "reads"),
    [
        ("a + b", ["a", "b"]),
        ("a | b", ["b"]),  # a failing alternative falls through
        ("a | b | 3", []),
        ("a | string:x ${b}", ["b"]),
        ("exists: a", []),
        ("not: a", ["a"]),
        ("structure: a.b", ["a"]),
        ("python: a", ["a"]),
        ("string:hello ${a} $b $$c", ["a", "b"]),
        ("[x for x in items if x > y]", ["items", "y"]),
        ("{k: v for k, v in pairs}", ["pairs"]),
        ("lambda q, r=d: q + z", ["d", "z"]),
        ("__filename", []),
        ("import: os.path", []),
        ("a \\| b", ["a", "b"]),  # an escaped pipe is Python's
    ],
)
def test_expression_reads(expression: str, reads: list[str]) -> None:
    assert [use.name for use in expression_names(expression).reads] == reads


def test_expression_offsets_point_at_the_name() -> None:
    text = "  first + second"
    for use in expression_names(text).reads:
        assert use.offset is not None
        assert text[use.offset :].startswith(use.name)


def test_broken_expressions_are_left_to_the_launch() -> None:
    assert not expression_names("a +").valid
    assert not expression_names("nosuchtype: a").valid


def test_interpolation_finds_what_chameleon_finds() -> None:
    text = "${a} $${b} ${ {'k': 1}['k'] } ${c + '}'} ${}"
    assert [e for e, _ in interpolations(text)] == ["a", " {'k': 1}['k'] ", "c + '}'"]


# -- scoping rules, each as Chameleon renders it ------------------------------------------
LAYOUT = (
    '<html metal:define-macro="page" tal:define="root 1">'
    '<div tal:define="inner 2"><main metal:define-slot="content">default</main></div>'
    "<footer>${title}</footer></html>"
)

CASES = [
    # (template, variables, macros, expected undefined names)
    ("<p>${a}</p>", {}, {}, ["a"]),
    ("<p>${a}</p>", {"a": 1}, {}, []),
    ('<p tal:define="a 1; b a + 1">${b}</p>', {}, {}, []),
    ('<p tal:define="a b">x</p>', {}, {}, ["b"]),
    ('<div><p tal:define="a 1">x</p>${a}</div>', {}, {}, ["a"]),  # local to its element
    ('<div><p tal:define="global a 1">x</p>${a}</div>', {}, {}, []),
    # A loop restores its variable afterwards, even over a global define inside.
    ('<p tal:repeat="b [1]"><i tal:define="global b 2"/></p>${b}', {}, {}, ["b"]),
    ('<p tal:define="global b 1" tal:repeat="b [1]">x</p>${b}', {}, {}, []),
    ('<p tal:repeat="i [1]">${i} ${repeat.i.index}</p>', {}, {}, []),
    ('<p tal:repeat="i [1]" tal:condition="i">x</p>', {}, {}, ["i"]),  # condition first
    ('<p tal:define="i 1" tal:condition="i">x</p>', {}, {}, []),
    ('<p tal:repeat="(k, v) [(1, 2)]">${k}${v}</p>', {}, {}, []),
    ('<p tal:attributes="title t" title="${u}">x</p>', {"t": 1}, {}, []),  # u: never read
    ('<p tal:attributes="title t">x</p>', {}, {}, ["t"]),
    ('<p tal:content="a">x</p>', {}, {}, ["a"]),
    ('<p tal:replace="structure a">x</p>', {}, {}, ["a"]),
    ('<p tal:omit-tag="a">x</p>', {}, {}, ["a"]),
    ('<p tal:on-error="error">${boom}</p>', {}, {}, []),  # the error is shown instead
    ('<p tal:on-error="oops">${boom}</p>', {}, {}, ["oops"]),
    ('<div tal:switch="a"><p tal:case="1">one</p></div>', {}, {}, ["a"]),
    ("<!-- ${a} --> <!--? ${b} --> <!--! ${c} -->", {}, {}, ["a"]),
    ('<p meta:interpolation="false">${a}</p>', {}, {}, []),
    ("<?python q = 3 ?>${q}", {}, {}, []),
    ("<p>$${a}</p>", {}, {}, []),
    ("<p>${a | 'fallback'}</p>", {}, {}, []),
    ("<p>${nothing} ${attrs} ${repeat} ${template} ${macros} ${len('x')}</p>", {}, {}, []),
    ("<p>${target_language} ${translate} ${econtext} ${True}</p>", {}, {}, []),
    ("<p>${macroname}</p>", {}, {}, ["macroname"]),  # only inside a used macro
    # Macros: the fill sees the macro's variables at the slot, and the caller's.
    (
        '<html metal:use-macro="lay.macros[\'page\']" tal:define="x 1">'
        '<main metal:fill-slot="content">${root} ${inner} ${x} ${macroname}</main></html>',
        {"title": 1},
        {"lay": LAYOUT},
        [],
    ),
    # What a using element holds besides its fills is never rendered...
    (
        "<html metal:use-macro=\"lay.macros['page']\"><head>${never}</head>"
        '<body tal:define="y 1"><main metal:fill-slot="content">${y}</main></body></html>',
        {"title": 1},
        {"lay": LAYOUT},
        ["y"],  # ...so its defines do not reach the fill either
    ),
    # The macro reads the page's variables.
    (
        "<html metal:use-macro=\"lay.macros['page']\"></html>",
        {},
        {"lay": LAYOUT},
        ["title"],
    ),
]


@pytest.mark.parametrize(("body", "variables", "loads", "expected"), CASES)
def test_scoping_matches_chameleon(
    body: str, variables: dict[str, object], loads: dict[str, str], expected: list[str]
) -> None:
    assert names(body, set(variables), **loads) == expected
    failure = render_failure(body, variables, **loads)
    assert failure == (expected[0] if expected else None)


def test_every_builtin_name_renders() -> None:
    for name in sorted(n for n in CHAMELEON_NAMES - {"default"} if not n.startswith("__")):
        assert render_failure(f"<p>${{{name} is None}}</p>", {}) is None, name
    assert render_failure('<p tal:content="default">x</p>', {}) is None


def test_suggestion_for_a_close_name() -> None:
    (problem,) = undefined_names("<p>${titel}</p>", {"title", "page"})
    assert problem.suggestion == "title"
    (problem,) = undefined_names("<p>${lenn(x)}</p>", {"x"})
    assert problem.suggestion == "len"
    (problem,) = undefined_names("<p>${zzz}</p>", {"title"})
    assert problem.suggestion is None


def test_line_numbers_are_the_files() -> None:
    body = "\n\n<p>\n  ${a}\n</p>\n<p\n  tal:define='b 1;\n     c d'>x</p>\n"
    found = {p.name: p.line for p in undefined_names(body, set())}
    assert found == {"a": 4, "d": 8}


def test_broken_templates_are_left_to_the_launch() -> None:
    assert names("<p>${a}</div>", set()) == []
    assert names('<p foo:bar="1">${a}</p>', set()) == []


def test_macro_names_are_reported_at_the_use() -> None:
    (problem,) = undefined_names(
        "\n<div metal:use-macro=\"w.macros['box']\"></div>",
        set(),
        loads={"w": '<x>\n<p metal:define-macro="box">\n${label}</p></x>'},
    )
    assert (problem.name, problem.file, problem.line) == ("label", "w.pt", 3)
    assert problem.used_by == ("<template>", 2)


# -- the property: exactly the render's NameError ---------------------------------------
POOL = ["a", "b", "c", "d"]
_name = st.sampled_from(POOL)  # "no_such_name" is never defined


@st.composite
def python_expressions(draw: st.DrawFn) -> str:
    """Plain Python: what can stand inside a larger Python expression."""
    n, m = draw(_name), draw(_name)
    forms = [n, f"{n} + {m}", f"[q for q in [{n}]][0]", f"(lambda q: q + {n})(1)"]
    return draw(st.sampled_from([*forms, f"len(str({n}))"]))


@st.composite
def expressions(draw: st.DrawFn) -> str:
    """Whole TALES expressions: pipes and typed ones too."""
    n, m = draw(_name), draw(_name)
    # A pipe's last alternative runs only when the ones before fail; the checker
    # judges it as if they did, so these pipes always fall through or never need to.
    pipes = [f"{n} | 0", f"no_such_name | {m}"]
    typed = [*pipes, f"exists: {n}", f"string:${{{n}}}", f"not: {n}"]
    return draw(st.one_of(python_expressions(), st.sampled_from(typed)))


@st.composite
def elements(draw: st.DrawFn, depth: int = 0) -> str:
    attributes = []
    if draw(st.booleans()):
        scope = draw(st.sampled_from(["", "global "]))
        attributes.append(f'tal:define="{scope}{draw(_name)} {draw(expressions())}"')
    if draw(st.booleans()):
        attributes.append(f'tal:condition="({draw(python_expressions())}) or True"')
    if draw(st.booleans()):
        attributes.append(f'tal:repeat="{draw(_name)} [{draw(python_expressions())}]"')
    kind = draw(st.sampled_from(["text", "content", "attributes", "interpolated attribute"]))
    expression = draw(expressions())
    inner = ""
    if kind == "content":
        attributes.append(f'tal:content="{expression}"')
    elif kind == "attributes":
        attributes.append(f'tal:attributes="title {expression}"')
    elif kind == "interpolated attribute":
        attributes.append(f'title="${{{expression}}}"')
    else:
        inner = f"${{{expression}}}"
    if depth < 2 and kind != "content":
        inner += "".join(draw(st.lists(elements(depth + 1), max_size=2)))
    return f"<p {' '.join(attributes)}>{inner}</p>"


MACROS = (
    '<x><div metal:define-macro="m" tal:define="a 1">${b}'
    '<span metal:define-slot="s">${c}</span></div></x>'
)


@st.composite
def templates(draw: st.DrawFn) -> str:
    body = "".join(draw(st.lists(elements(), min_size=1, max_size=3)))
    if draw(st.booleans()):
        fill = "".join(draw(st.lists(elements(), max_size=2)))
        filled = f'<b metal:fill-slot="s">{fill}</b>' if draw(st.booleans()) else ""
        body += f"<div metal:use-macro=\"lib.macros['m']\">{filled}</div>"
    return body


@settings(max_examples=60)  # each example compiles two templates with Chameleon
@given(templates(), st.sets(_name))
def test_checker_names_exactly_what_the_render_fails_on(body: str, defined: set[str]) -> None:
    variables: dict[str, object] = {name: 1 for name in defined}
    try:
        failure = render_failure(body, variables, lib=MACROS)
    except TypeError:  # a define made a value of another type: no verdict on names
        assume(False)
    found = names(body, defined, lib=MACROS)
    if failure is None:
        assert found == []
    else:
        assert failure in found


@given(st.text(string.ascii_letters + "${}|: '\"+-", max_size=30))
def test_interpolation_never_fails(text: str) -> None:
    for expression, offset in interpolations(text):
        assert 0 <= offset <= len(text)
        assert expression_names(expression).valid
