"""The interpolation test of the faster compile renders what Chameleon renders, for any value.

:mod:`tincan_core._fastprogram` changes the program Chameleon generates: a str
with nothing to escape, an int or a float skips the escaping call. Here the same
template, compiled with and without it, renders every kind of value through
every kind of interpolation, with the same text or the same error; the
conformance corpus (``test_chameleon_conformance.py``) renders whole pages
both ways, and ``test_fastcompile.py`` compares the programs.
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any

import pytest
from chameleon import PageTemplate
from chameleon.exc import TemplateError
from hypothesis import example, given
from hypothesis import strategies as st
from tincan_core import _cache, _fastcompile, _fastprogram

pytestmark = pytest.mark.skipif(
    not _fastcompile.install(), reason="the faster compile is off for this Chameleon"
)

# Every way a page shows a value as text: in text, around text, in attributes
# (alone, among text, through tal:attributes), by tal:content and tal:replace,
# and as structure (not rewritten: the control); in a loop (where the test is
# written) and outside one, in a macro and in a slot filled from another template.
_SHOWN = """\
<p class="${v}" title="a ${v} b">${v}|text ${v}|${v} and ${v}<span
  tal:content="v">d</span><b tal:replace="v">d</b><i tal:attributes="data-v v; alt v">${v}</i><em
  tal:content="structure v">s</em></p>"""
FORMS = f"""\
<div metal:define-macro="box">{_SHOWN}<ul><li tal:repeat="x [v, v]"
  class="row-${{repeat.x.odd}}">${{x}}{_SHOWN}</li></ul><slot
  metal:define-slot="s">${{v}}</slot></div>
"""
USER = """\
<p metal:use-macro="forms.macros['box']"><i metal:fill-slot="s"
  tal:repeat="n (1, 2)">slot ${v} ${n}</i></p>
"""


def _templates() -> tuple[PageTemplate, PageTemplate, PageTemplate, PageTemplate]:
    with _fastcompile.disabled():
        plain = PageTemplate(FORMS), PageTemplate(USER)
        for template in plain:
            template.cook_check()
    fast = PageTemplate(FORMS), PageTemplate(USER)
    for template in fast:
        template.cook_check()
    return (*plain, *fast)


PLAIN, PLAIN_USER, FAST, FAST_USER = _templates()


class Markup:
    def __init__(self, html: str) -> None:
        self.html = html

    def __html__(self) -> str:
        return self.html


class Shown:
    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


class Unshowable:
    def __str__(self) -> str:
        raise ValueError("cannot show this")


class Number(int):
    def __str__(self) -> str:
        return f"number {int(self)} <&>"


class Text(str):
    pass


class Real(float):
    def __str__(self) -> str:
        return "real"


def _values() -> st.SearchStrategy[Any]:
    text = st.text(st.sampled_from("ab <>&\"'\x00é\u2028;#x") | st.characters(), max_size=12)
    return st.one_of(
        text,
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.none(),
        st.binary(max_size=8),
        text.map(Text),
        text.map(Markup),
        text.map(Shown),
        st.integers().map(Number),
        st.floats(allow_nan=False).map(Real),
        st.just(Unshowable()),
        st.just(10**5000),  # str() refuses it: the same error both ways
    )


_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")  # objects' addresses, in Chameleon's error reports


def _outcome(render: Any, **variables: Any) -> tuple[str, str]:
    try:
        return "text", render(**variables)
    except Exception as exc:  # the kind and the message a developer sees
        try:
            message = str(exc)
        except Exception as unprintable:  # Chameleon's report can fail to show a value
            message = f"unprintable: {type(unprintable).__name__}"
        return type(exc).__name__, _ADDRESS.sub(" at ...>", message)


@given(value=_values())
@example(value="")
@example(value="<a href='x'>&amp;</a>\x00")
@example(value=float("nan"))
@example(value=-0.0)
@example(value=True)
def test_every_value_renders_as_chameleon_renders_it(value: Any) -> None:
    plain = _outcome(PLAIN.render, v=value)
    assert _outcome(FAST.render, v=value) == plain
    used = _outcome(FAST_USER.render, v=value, forms=FAST)
    assert used == _outcome(PLAIN_USER.render, v=value, forms=PLAIN)


def test_common_values_render_what_they_rendered() -> None:
    # Spelled out, so that a change in both programs alike is seen too.
    text = FAST.render(v=7)
    shown_7 = '<p class="7" title="a 7 b">7|text 7|7 and 7<span>7</span>7<i data-v="7" alt="7">7'
    assert text.count(shown_7) == 3  # once, then in each of the two rows
    assert '<li\n  class="row-">7' in text and 'class="row-odd">7' in text
    shown = FAST.render(v="<b>&'")
    assert shown.count('<p class="&lt;b&gt;&amp;\'" title="a &lt;b&gt;&amp;\' b">') == 3
    assert shown.count("<span>&lt;b&gt;&amp;'</span>") == 3
    assert FAST.render(v=None).count('<p title="a  b">|text | and <span></span><i></i>') == 3
    assert "<i>slot 2.5 1</i>\n<i>slot 2.5 2</i>" in FAST_USER.render(v=2.5, forms=FAST)
    assert "math" not in FAST.render(v=math.inf)


@pytest.mark.parametrize(
    "block",
    [
        "float = 0.5",
        "int = 0",
        "str = repr",
        "type = lambda value: str",
        "for int in (1,): pass",
        "(float := 0.5)",
        "x = [(str := i) for i in (1,)]",
        "import os as g_re_needs_escape",
        "x = repr(__tt)",
    ],
)
@pytest.mark.parametrize("value", ["plain", "<escaped>", 3, 2.5, None, b"bytes", Text("sub")])
def test_a_code_block_binding_a_builtin_renders_as_chameleon_renders_it(
    block: str, value: Any
) -> None:
    # The block makes the builtin's name a local of the render function, after the
    # loop too (Chameleon's program fails then, or not, as the value decides); the
    # test, which reads those names, is not written.
    shown = "<p tal:repeat='n (1, 2)' title='${v}'>${v} <b tal:content='v'/></p>"
    body = f"{shown}<?python {block} ?>"
    with _fastcompile.disabled():
        plain = PageTemplate(body)
    fast = PageTemplate(body, keep_source=True)
    assert "g_re_needs_escape(" not in fast.source
    assert "g_re_needs_escape(" in PageTemplate(shown, keep_source=True).source
    assert _outcome(fast.render, v=value) == _outcome(plain.render, v=value)


def test_a_code_block_in_a_slot_filled_from_another_template_renders_as_chameleons() -> None:
    macro = '<div metal:define-macro="m"><span metal:define-slot="s">x</span></div>'
    page = (
        '<div metal:use-macro="mac.macros[\'m\']"><i metal:fill-slot="s">'
        "<p tal:repeat='n (1, 2)'>${v}</p><?python import os as g_re_needs_escape ?></i></div>"
    )
    with _fastcompile.disabled():
        plain = PageTemplate(page), PageTemplate(macro)
    fast = PageTemplate(page), PageTemplate(macro)
    for value in ("<", "plain", 3):
        assert _outcome(fast[0].render, v=value, mac=fast[1]) == _outcome(
            plain[0].render, v=value, mac=plain[1]
        )


def test_a_compile_that_failed_leaves_the_next_its_test() -> None:
    with pytest.raises(TemplateError):
        PageTemplate("<?python x = 1 ?><p tal:repeat='n (1,'>${v}</p>")
    loop = PageTemplate("<p tal:repeat='n (1, 2)'>${v}</p>", keep_source=True)
    assert "g_re_needs_escape(" in loop.source


def _program(body: str) -> ast.Module:
    with _fastprogram.unrewritten():
        template = PageTemplate(body, keep_source=True)
        template.cook_check()
    return ast.parse(template.source)


def test_each_interpolation_gets_the_test() -> None:
    looped = "<p class='${a}'>${b}<b>text ${c}</b><i tal:content='d'/><u>${e}${f}</u></p>"
    once = _program(looped)
    assert _fastprogram.rewrite(once) == 0  # outside a loop it runs once a render
    tree = _program(f"<div tal:repeat='n (1, 2)'>{looped}</div>")
    # class, ${b}, "text ${c}", tal:content: the whole group; "${e}${f}" is one
    # text of two values, each quoted alone and joined after: each quote.
    assert _fastprogram.rewrite(tree) == 6
    source = ast.unparse(tree)
    assert source.count("g_re_needs_escape(") == 6
    assert source.count("elif __tt is int or __tt is float:") == 4
    compile(ast.fix_missing_locations(tree), "<rewritten>", "exec")
    assert _fastprogram.rewrite(tree) == 0  # once is all
    assert ast.unparse(tree) == source


def test_a_program_without_chameleons_escape_search_is_left_alone() -> None:
    tree = _program("<p tal:repeat='n (1, 2)'>${b}</p>")
    tree.body = [
        statement
        for statement in tree.body
        if not (
            isinstance(statement, ast.Assign) and "g_re_needs_escape" in ast.unparse(statement)
        )
    ]
    before = ast.dump(tree)
    assert _fastprogram.rewrite(tree) == 0
    assert ast.dump(tree) == before


def test_a_group_of_another_shape_is_left_alone() -> None:
    tree = _program("<p tal:repeat='n (1, 2)'>${b}</p>")
    before = ast.unparse(tree)
    # A default marker that could be a str: a str value might be it.
    changed = ast.parse(before.replace("'&#0;', None, None)", "'&#0;', None, 'marker')"))
    assert _fastprogram.rewrite(changed) == 0
    # Something between the escaping and the append: no whole group.
    changed = ast.parse(before)
    for node in ast.walk(changed):
        for statements in (getattr(node, "body", None),):
            if isinstance(statements, list):
                for index, statement in enumerate(statements):
                    if "__quote(" in ast.unparse(statement).split("\n")[0]:
                        statements.insert(index + 1, ast.parse("log()").body[0])
                        break
    assert "log()" in ast.unparse(changed)
    assert _fastprogram.rewrite(changed) == 1  # the quote alone, as in a text of two values
    assert "elif __tt is int or __tt is float:" not in ast.unparse(changed)


def test_turned_off_the_program_is_chameleons() -> None:
    body = "<p tal:repeat='n (1, 2)' title='${a}'>${b}</p>"
    with _fastcompile.disabled():
        plain = PageTemplate(body, keep_source=True)
        plain.cook_check()
    with _fastprogram.unrewritten():
        unrewritten = PageTemplate(body, keep_source=True)
        unrewritten.cook_check()
    rewritten = PageTemplate(body, keep_source=True)
    rewritten.cook_check()
    assert "g_re_needs_escape(" not in plain.source
    assert "g_re_needs_escape(" not in unrewritten.source
    assert rewritten.source.count("g_re_needs_escape(") == 2


def test_the_template_cache_tells_rewritten_programs_apart() -> None:
    with_test = _cache.cache_tag()
    with _fastprogram.unrewritten():
        without = _cache.cache_tag()
    with _fastcompile.disabled():
        plain = _cache.cache_tag()
    assert with_test != without == plain
    assert f"interpolation test {_fastprogram.REVISION}".encode() in with_test


def _texts(tree: ast.Module) -> list[str]:
    return [
        node.value.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "__append"
        and node.value.args
        and isinstance(node.value.args[0], ast.Constant)
    ]


def test_texts_appended_one_after_another_are_appended_as_one() -> None:
    body = "<table class='t'>\n<tr><td>1</td><td title='x'>2</td></tr>\n</table>"
    tree = _program(body)
    before = _texts(tree)
    _fastprogram.rewrite(tree)
    after = _texts(tree)
    assert len(after) < len(before) and "".join(after) == "".join(before)
    assert after == ["<table class='t'>\n<tr><td>1</td><td title='x'>2</td></tr>\n</table>"]
    with _fastcompile.disabled():
        plain = PageTemplate(body)
    assert PageTemplate(body).render() == plain.render()


def test_a_text_is_not_moved_above_anything_but_bookkeeping() -> None:
    tree = _program("<p>a</p><p>b</p>")
    source = re.sub(
        r"^( *)(__append\('<p>b</p>'\))",
        r"\1__append = other.append\n\1\2",
        ast.unparse(tree),
        flags=re.MULTILINE,
    )
    tree = ast.parse(source)
    assert "__append = other.append" in source
    _fastprogram.rewrite(tree)
    assert _texts(tree) == ["<p>a</p>", "<p>b</p>"]
