"""A loop's position read from the loop renders what Chameleon's repeat variable gives.

:mod:`tincan_core._fastrepeat` answers ``repeat.row.<property>`` inside the loop
over ``row`` from the loop's own count. Here: every property, in text and in
attributes, for lists of any length, renders the same text as plain Chameleon
(through Chameleon's render, with its repeat dictionary, and through TinCan's
faster one, with its own); and the loops it must leave alone (read from the
generated program) still render the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from chameleon import PageTemplate
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_core import _fastcompile
from tincan_core._render import fast_render

pytestmark = pytest.mark.skipif(
    not _fastcompile.install(), reason="the faster compile is off for this Chameleon"
)

Pair = Callable[[str], tuple[PageTemplate, PageTemplate]]
Same = Callable[..., PageTemplate]
_PROPERTIES = ("index", "number", "start", "end", "odd", "even", "parity", "length")


def _rewritten(template: PageTemplate) -> int:
    """How many position reads the program answers from its loop."""
    assert template.source is not None
    return len(re.findall(r"if __tincan_rows_\d+ is not None:", template.source))


_EVERY = "".join(
    f"<b class='${{repeat.row.{name}}}'>${{repeat.row.{name}}}|"
    f"${{repeat.row.{name} and 'y' or 'n'}}</b>"
    for name in _PROPERTIES
)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.integers(0, 9), max_size=7))
def test_every_position_renders_as_chameleon_renders_it(
    same_as_chameleon: Same, rows: list[int]
) -> None:
    shown = f"${{row}}:{_EVERY}${{'%s' % repeat.row.index}}"
    body = f"<ul><li tal:repeat='row rows'>{shown}</li></ul>"
    fast = same_as_chameleon(body, rows=rows)
    assert _rewritten(fast) == 3 * len(_PROPERTIES) + 1


def test_the_values_are_chameleons_types(same_as_chameleon: Same) -> None:
    shown = " ".join(
        f"{name}:${{repeat.row.{name}.__class__.__name__}}={{${{repeat.row.{name}}}}}"
        for name in _PROPERTIES
    )
    body = f"<p tal:repeat='row rows'>{shown}</p>"
    fast = same_as_chameleon(body, rows=["a", "b", "c"])
    assert _rewritten(fast) == 2 * len(_PROPERTIES)
    text = fast_render(fast.render)(rows=["a", "b", "c"])
    assert "index:callableint={1}" in text and "odd:callablestr={odd}" in text
    assert "length:int={3}" in text and "end:callableint={1}" in text


def test_rows_after_an_empty_loop_and_in_several_loops(same_as_chameleon: Same) -> None:
    body = """<p tal:repeat='row first'>${repeat.row.number}</p><p
      tal:repeat='row second'>${repeat.row.number}/${repeat.row.length} ${repeat.row.end}</p><p
      tal:repeat='other second'>${repeat.other.parity}</p>"""
    for first, second in (([], [1, 2]), ([1], []), ([1, 2, 3], [4, 5])):
        fast = same_as_chameleon(body, first=first, second=second)
        assert _rewritten(fast) == 5


@pytest.mark.parametrize(
    "body",
    [
        # The repeat variable handed on, or read some other way: it could register
        # another loop of the same name, or be read after the rows moved on.
        "<p tal:repeat='row rows'>${repeat.row.odd} ${len(repeat)}</p>",
        "<p tal:repeat='row rows'>${repeat.row.odd} ${repeat['row'].index}</p>",
        "<p tal:repeat='row rows'>${repeat.row.odd} ${repeat.row.letter}</p>",
        "<p tal:repeat='row rows'>${repeat.row.odd} ${repeat.row is not None}</p>",
        "<p tal:repeat='row rows'>${repeat.row.odd} ${repeat.row.odd()}</p>",
        # Another loop's position.
        "<div tal:repeat='group rows'><p tal:repeat='row rows'>${repeat.group.index}</p></div>",
        # A define of the repeat variable, and names read from its class.
        "<p tal:repeat='row rows' tal:define='repeat rows'>${repeat}</p>",
        # An alias of the repeat variable, or an item of it kept, anywhere in the
        # template: the loop's name registered again, a row taken from its iterator.
        "<div tal:define='rp repeat'><p tal:repeat='row rows'>${rp('row', [7, 8, 9, 10])"
        " and ''}${repeat.row.index} ${repeat.row.length} ${repeat.row.odd}</p></div>",
        "<div tal:define='rp repeat'><p tal:repeat='row rows'>${next(iter(rp.row))"
        " if row == 3 else ''}${repeat.row.index} ${repeat.row.end} ${row}</p></div>",
        "<p tal:repeat='row rows' tal:define='item repeat.row'>${repeat.row.index}</p>",
        "<p tal:repeat='_row rows'>${repeat._row.index}</p>",
    ],
)
def test_loops_that_read_the_repeat_variable_otherwise_keep_chameleons_reads(
    same_as_chameleon: Same, body: str
) -> None:
    fast = same_as_chameleon(body, rows=[3, 1, 2])
    assert _rewritten(fast) == 0


class _OwnRepeat:
    """A page's own ``repeat`` variable: not one of the repeat dictionaries."""

    def __init__(self) -> None:
        self.row = self

    def __call__(self, key: str, iterable: Any) -> tuple[Any, int]:
        items = list(iterable)
        return iter(items), len(items)

    odd = "mine"


def test_a_repeat_variable_of_the_page_is_read_as_chameleon_reads_it(
    same_as_chameleon: Same,
) -> None:
    body = "<p tal:repeat='row rows'>${repeat.row.odd}</p>"
    fast = same_as_chameleon(body, rows=[1, 2], repeat=_OwnRepeat())
    assert _rewritten(fast) == 1
    assert fast_render(fast.render)(rows=[1, 2], repeat=_OwnRepeat()).count("mine") == 2


class _Again:
    """An iterable that gives a new iterator of ``make()`` each time it is iterated."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make

    def __iter__(self) -> Any:
        return iter(self.make())


def test_a_loop_over_other_iterables_counts_as_chameleon_does(same_as_chameleon: Same) -> None:
    body = "<p tal:repeat='row rows'>${repeat.row.index}${repeat.row.end}</p>"
    for rows in (
        _Again(lambda: (n for n in range(4))), {"a": 1, "b": 2}, "abc", None, range(3), (),
    ):  # fmt: skip
        fast = same_as_chameleon(body, rows=rows)
    assert _rewritten(fast) == 2
