"""What an expression can evaluate to, read from its syntax, and the appends it saves.

:mod:`tincan_core._fastconst` says which texts an expression made of constants,
``and``, ``or`` and conditional expressions can give. The analysis must never
leave one out: for any such expression and any values of its unknown parts,
Python's result is one of the texts it names. A loop's interpolation whose
texts all need no escaping is appended as it is, and renders what Chameleon
renders.
"""

from __future__ import annotations

import ast
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tincan_core import _fastcompile
from tincan_core._fastconst import known_texts, shown_as_is
from tincan_core._render import fast_render

_NAMES = ("x", "y")
_TEXTS = st.sampled_from(["", "odd", "even", "a b", "<", "&amp;", "'", "0"])


def _expressions() -> st.SearchStrategy[str]:
    atoms = _TEXTS.map(repr) | st.sampled_from(_NAMES)

    def combined(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        operands = st.lists(inner, min_size=2, max_size=3)
        return (
            st.tuples(inner, inner, inner).map(lambda p: f"({p[0]} if {p[1]} else {p[2]})")
            | operands.map(lambda p: "(" + " and ".join(p) + ")")
            | operands.map(lambda p: "(" + " or ".join(p) + ")")
        )

    return st.recursive(atoms, combined, max_leaves=8)


_VALUES = st.sampled_from(["", "z", 0, 1, None, [], [0], 2.5, True, False])


@settings(max_examples=400, deadline=None)
@given(expression=_expressions(), x=_VALUES, y=_VALUES)
@example(expression="x and 'odd' or 'even'", x=0, y=0)
@example(expression="x and 'odd' or 'even'", x=[1], y=0)
@example(expression="(x and '') or 'c'", x=1, y=0)
@example(expression="'a' if x else ('b' or y)", x=0, y=0)
def test_the_known_texts_hold_every_value_python_gives(expression: str, x: Any, y: Any) -> None:
    node = ast.parse(expression, mode="eval").body
    texts = known_texts(node)
    if texts is None:
        return
    value = eval(expression, {}, {"x": x, "y": y})  # generated from constants and names
    assert type(value) is str and value in texts


def _texts(expression: str) -> frozenset[str] | None:
    return known_texts(ast.parse(expression, mode="eval").body)


def test_the_texts_of_the_usual_forms() -> None:
    assert _texts("repeat.row.odd and 'odd' or 'even'") == {"odd", "even"}
    assert _texts("'on' if item.active else 'off'") == {"on", "off"}
    assert _texts("x and ('a' if y else 'b') or 'c'") == {"a", "b", "c"}
    assert _texts("x and '' or 'c'") == {"c"}  # the empty text is false: 'c' then
    assert _texts("'plain'") == {"plain"}


def test_an_unknown_value_that_can_be_the_result_is_unknown() -> None:
    for expression in ("x", "x or 'a'", "x and 'a'", "'a' if x else y", "x and y or 'c'",
                       "'%s' % x", "1", "b'bytes'", "None", "'a' + 'b'", "f'{x}'"):
        assert _texts(expression) is None, expression


def test_texts_that_need_escaping_are_not_shown_as_they_are() -> None:
    def shown(expression: str) -> bool:
        return shown_as_is(ast.parse(expression, mode="eval").body)

    assert shown("x and 'odd' or 'even'")
    assert not shown("x and 'a<b' or 'even'")
    for character in "&<>\"'":
        assert not shown(f"'a' if x else {character!r}")
    assert shown("x and '' or ''")  # nothing to escape in an empty text


# Rendered with and without the faster compile: in a loop (where the append is
# rewritten) and outside one, in text and in attributes, by tal:content, in a
# text of several values, and with texts that need escaping (kept).
_FORMS = """\
<ul><li tal:repeat="v values" class="${v and 'on' or 'off'}" title="${'x' if v else 'y'}"
  >${v and 'yes' or 'no'}|${'t' if v else 'f'} of ${'a' if v else 'b'}|<b
  tal:content="v and 'one' or 'two'">d</b><i class="${v and 'a&amp;b' or '&lt;'}"
  >${v and '<em>' or 'plain'}</i></li></ul>${values and 'some' or 'none'}"""


@pytest.mark.skipif(not _fastcompile.install(), reason="the faster compile is off")
@settings(max_examples=60, deadline=None)
@given(values=st.lists(_VALUES, max_size=4))
def test_known_texts_render_as_chameleon_renders_them(
    plain_and_fast: Any, values: list[Any]
) -> None:
    plain, fast = plain_and_fast(_FORMS)
    expected = plain.render(values=values)
    assert fast.render(values=values) == expected
    assert fast_render(fast.render)(values=values) == expected


@pytest.mark.skipif(not _fastcompile.install(), reason="the faster compile is off")
def test_known_texts_in_a_loop_are_appended_without_a_search(plain_and_fast: Any) -> None:
    body = "<p tal:repeat='v values' class=\"${v and 'on' or 'off'}\">${v}</p>"
    _, fast = plain_and_fast(body)
    assert fast.source is not None
    # ${v} keeps its test; the class, whose texts are known, has none.
    assert fast.source.count("g_re_needs_escape(") == 1
    assert "__append(' class=\"%s\"' % __attr_class)" in fast.source
    _, escaped = plain_and_fast(body.replace("'off'", "'o<f'"))
    assert escaped.source is not None and escaped.source.count("g_re_needs_escape(") == 2
