"""Attribute reads in loops render what Chameleon's ``lookup_attr`` calls render.

:mod:`tincan_core._fastattr` reads the chain of attributes an assignment's
value starts with directly, with the item as the fallback. Here every kind of
object (attributes, items, properties that fail, ``__getattr__``, side
effects) is read through every form the rewrite takes, with plain Chameleon
and with the rewrite, comparing the text, the error, and how many times each
part ran.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

import pytest
from chameleon import PageTemplate
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_core import _fastattr, _fastcompile
from tincan_core._render import fast_render

pytestmark = pytest.mark.skipif(
    not _fastcompile.install(), reason="the faster compile is off for this Chameleon"
)

Pair = Callable[[str], tuple[PageTemplate, PageTemplate]]
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


class Plain:
    def __init__(self, **values: Any) -> None:
        vars(self).update(values)


class Failing:
    """A property that counts its reads and fails, and an item to fall back on."""

    def __init__(self, log: list[str], item: bool) -> None:
        self.log = log
        self.item = item
        self.found = Plain(b="from the item")

    @property
    def a(self) -> Any:
        self.log.append("property")
        raise AttributeError("the property failed")

    def __getitem__(self, key: str) -> Any:
        self.log.append(f"item {key}")
        if not self.item:
            raise KeyError(key)
        return self.found


class Dynamic:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def __getattr__(self, name: str) -> Any:
        self.log.append(f"getattr {name}")
        if name == "a":
            return {"b": "dynamic"}
        raise AttributeError(name)


def _objects(log: list[str]) -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [
            Plain(a=Plain(b="b <&>", c=3), n=2),
            Plain(a={"b": "in a dict", "c": 0}),
            {"a": {"b": "all dicts"}},
            {"x": 1},
            Failing(log, item=True),
            Failing(log, item=False),
            Dynamic(log),
            None,
            "text",
            Plain(a=Plain(b=None)),
            Plain(a=[1, 2]),
        ]
    )


# Values whose first part is a chain, and values where it is not.
FORMS = [
    "${x.a}",
    "${x.a.b}",
    "${x.a.b and 'yes' or 'no'}",
    "${not x.a}",
    "${x.a.c + 1}",
    "${'%s!' % x.a.b}",
    "${1 < x.a.c}",
    "${x.a['b']}",
    "${x.a.b if x.a else 'none'}",
    "${count().a}",
    "${(count() or x).a}",
    "${count() and x.a.b}",
    "${str(count()) + x.a.b}",
    "${x.n if count() else x.a.b}",
    "${len(x.a)}",
    "${[x.a.b][0]}",
    "<b tal:content='x.a.b'>d</b>",
    "<b tal:condition='x.a'>shown</b>",
    "<b tal:define='v x.a.b'>${v}</b>",
    "<i class='${x.a.b}'>i</i>",
]


def _outcome(render: Any, log: list[str], **variables: Any) -> tuple[str, str, list[str]]:
    del log[:]
    try:
        kind, text = "text", _ADDRESS.sub(" at ...", render(**variables))
    except Exception as exc:
        kind, text = type(exc).__name__, _ADDRESS.sub(" at ...", str(exc))
    return kind, text, list(log)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), form=st.sampled_from(FORMS))
def test_every_read_renders_as_chameleon_renders_it(
    plain_and_fast: Pair, data: st.DataObject, form: str
) -> None:
    log: list[str] = []
    rows = data.draw(st.lists(_objects(log), min_size=1, max_size=3))
    body = f"<p tal:repeat='x rows'>{form}</p>"
    plain, fast = plain_and_fast(body)

    def count() -> Any:
        log.append("count")
        return rows[0]

    expected = _outcome(plain.render, log, rows=rows, count=count)
    assert _outcome(fast.render, log, rows=rows, count=count) == expected
    assert _outcome(fast_render(fast.render), log, rows=rows, count=count) == expected


def test_a_read_in_a_loop_takes_no_call_and_one_outside_keeps_it(plain_and_fast: Pair) -> None:
    body = "<div>${x.a}<p tal:repeat='r rows'>${r.a.b} ${repeat.r.index}</p></div>"
    plain, fast = plain_and_fast(body)
    assert fast.source is not None and plain.source is not None
    loop = fast.source[fast.source.index("for __item") :]
    assert "_lookup_attr(" not in loop
    assert "__attr = __attr.b" in loop
    assert fast.source.count("_lookup_attr(") == 1  # ${x.a}, outside the loop
    rows = [Plain(a=Plain(b="one")), {"a": {"b": "two"}}]
    assert fast.render(x={"a": 1}, rows=rows) == plain.render(x={"a": 1}, rows=rows)


def _program(*module_lines: str) -> tuple[ast.Module, list[Any]]:
    """A module importing Chameleon's lookup (then ``module_lines``) whose function
    ``first`` reads ``a`` of its first item in a loop; and that loop's body."""
    source = "\n".join(
        [
            "from chameleon.utils import lookup_attr as _lookup_attr",
            *module_lines,
            "def first(items):",
            "    for __item in items:",
            "        x = _lookup_attr(__item, 'a')",
            "        return x",
        ]
    )
    tree = ast.parse(source)
    loop = tree.body[-1].body[0]  # type: ignore[attr-defined]
    return tree, loop.body


def _rewritten_function() -> Any:
    tree, body = _program()
    assert _fastattr.rewrite(tree, [body]) == 1
    namespace: dict[str, Any] = {}
    exec(compile(tree, "<test>", "exec"), namespace)
    return namespace["first"]


def test_the_same_exception_object_is_raised_again() -> None:
    first = _rewritten_function()
    error = AttributeError("kept")

    class Raising:
        @property
        def a(self) -> Any:
            raise error

    with pytest.raises(AttributeError) as raised:
        first([Raising()])
    assert raised.value is error
    assert first([{"a": "item"}]) == "item"
    with pytest.raises(AttributeError, match="'dict' object has no attribute 'a'"):
        first([{}])


def test_a_program_that_binds_the_name_itself_is_left_alone() -> None:
    tree, body = _program("_lookup_attr = other")
    assert _fastattr.rewrite(tree, [body]) == 0
    tree.body.pop(1)
    assert _fastattr.rewrite(tree, [body]) == 1
    assert ast.unparse(body[-2]) == "x = __attr"
    assert _fastattr.rewrite(tree, [body]) == 0  # the helper is defined once


@pytest.mark.parametrize(
    "value",
    ["_lookup_attr(__attr, 'a')", "_lookup_attr(__item, 'a') + __attr", "__attr_error or 1"],
)
def test_a_value_naming_the_rewrites_own_names_is_left_alone(value: str) -> None:
    """``__attr`` and ``__attr_error`` hold the chain while it is read: a value that
    reads either of them (a template may name internal names) keeps its call."""
    tree = ast.parse(
        "from chameleon.utils import lookup_attr as _lookup_attr\n"
        f"def first(items):\n    for __item in items:\n        x = {value}\n"
    )
    body = tree.body[-1].body[0].body  # type: ignore[attr-defined]
    before = ast.dump(tree)
    assert _fastattr.rewrite(tree, [body]) == 0
    assert ast.dump(tree) == before
