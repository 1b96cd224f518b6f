"""The fast ``repeat`` variable answers every read as Chameleon's ``RepeatDict`` does.

Property tests step both through the same loops and compare every position
property (value, type, and the value of calling it) after every step; template
tests render loops that read ``repeat`` in each way a template can (attribute
and item access, string and exists expressions, calls, nested and multi-name
loops, a loop name reused) through the fast render and through Chameleon's
``render()``.
"""

from __future__ import annotations

import string
from typing import Any

import pytest
from chameleon import PageTemplate, tal
from hypothesis import given
from hypothesis import strategies as st
from tincan_core import _repeat
from tincan_core._render import fast_render

PROPERTIES = (
    "index", "number", "start", "end", "odd", "even", "parity",
    "letter", "Letter", "roman", "Roman", "length",
)  # fmt: skip


def _read(repeat: Any, key: Any, how: str) -> tuple[str, Any]:
    try:
        if how == "attribute":
            item = getattr(repeat, key)
        elif how == "item":
            item = repeat[key]
        else:
            return "default", getattr(repeat, key, None) is None
    except Exception as exc:  # which failure is part of the behaviour
        return type(exc).__name__, exc.args
    answers = []
    for name in PROPERTIES:
        try:
            value = getattr(item, name)
        except Exception as exc:
            answers.append((name, type(exc).__name__))
            continue
        called = value() if callable(value) else value
        answers.append((name, type(value).__name__, value, called))
    return "item", answers


loop_names = st.sampled_from(["row", "item", "n", "_private", "__getitem__", "length"])
keys = st.one_of(loop_names, st.tuples(loop_names, loop_names))


@given(
    loops=st.lists(st.tuples(keys, st.lists(st.integers(), max_size=30) | st.none()), max_size=4),
    steps=st.lists(st.integers(min_value=0, max_value=3), max_size=40),
    probes=st.lists(st.one_of(loop_names, st.text(string.ascii_letters, max_size=3)), max_size=5),
)
def test_the_fast_repeat_answers_as_chameleons(
    loops: list[tuple[Any, list[int] | None]], steps: list[int], probes: list[str]
) -> None:
    plain, fast = tal.RepeatDict({}), _repeat.RepeatDict({})
    iterators = []
    for key, iterable in loops:
        plain_iterator, plain_length = plain(key, iterable)
        fast_iterator, fast_length = fast(key, iterable)
        assert fast_length == plain_length
        iterators.append((key, plain_iterator, fast_iterator))
    looked_at = [key for key, _, _ in iterators] + list(probes)
    for step in [*steps, None]:
        for key in looked_at:
            for how in ("attribute", "item", "default"):
                if how != "item" and not isinstance(key, str):
                    continue
                assert _read(fast, key, how) == _read(plain, key, how), (key, how)
        if step is not None and step < len(iterators):
            _, plain_iterator, fast_iterator = iterators[step]
            assert next(fast_iterator, "end") == next(plain_iterator, "end")


def test_loops_are_fast_repeat_items() -> None:
    repeat = _repeat.RepeatDict({})
    iterator, length = repeat("row", (n for n in "abc"))
    assert length == 3
    assert type(repeat.row) is _repeat.RepeatItem
    assert repeat.row is repeat["row"]
    assert list(iterator) == ["a", "b", "c"]
    assert repeat.row.end and repeat.row.number == 3


TEMPLATES = {
    "python": "<p tal:repeat='n items' class='${repeat.n.odd and \"odd\" or \"even\"}'>"
    "${repeat.n.index} ${repeat.n.number} ${repeat.n.start} ${repeat.n.end} ${n}</p>",
    "calls": "<p tal:repeat='n items'>${repeat.n.odd()}|${repeat.n.even()}|"
    "${repeat.n.parity()}|${repeat.n.index()}|${repeat.n.letter()}|${repeat.n.Roman}</p>",
    "item": "<p tal:repeat='n items'><span tal:content=\"repeat['n'].odd\"/>"
    "<span tal:content='string:${repeat.n.number}'/><b tal:condition='repeat.n.end'>last</b>"
    "<i tal:condition='exists: repeat.n.start'>x</i></p>",
    "nested": "<ul tal:repeat='a items'><li tal:repeat='b items'>"
    "${repeat.a.index}.${repeat.b.index} ${repeat.a.parity}</li></ul>",
    "reused": "<i tal:repeat='n items'>${repeat.n.index}</i><i tal:repeat='n letters'>"
    "${repeat.n.index}${repeat.n.end}</i><b>${repeat.n.index}</b>",
    "multi": "<p tal:repeat='(k, v) pairs'>${k}=${v} ${repeat[('k', 'v')].index}</p>",
    "empty": "<p tal:repeat='n nothing'>${n}</p><b>${repeat.n.length}</b>",
    "missing": "<p>${repeat.nope}</p>",
    "default": "<p>${getattr(repeat, 'nope', 'none')}</p>",
}
VARIABLES: dict[str, Any] = {
    "items": [10, 20, 30, 40, 50],
    "letters": "xyz",
    "pairs": [("a", 1), ("b", 2)],
    "nothing": [],
}


def _outcome(render: Any) -> tuple[str, str]:
    try:
        return "ok", render(**VARIABLES)
    except Exception as exc:
        return type(exc).__name__, str(exc).split("\n")[0]


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_templates_read_the_fast_repeat_as_chameleons(name: str) -> None:
    template = PageTemplate(TEMPLATES[name])
    fast = fast_render(template.render)
    assert fast is not template.render
    assert _outcome(fast) == _outcome(template.render)
    if name not in ("missing",):
        assert _outcome(fast)[0] == "ok", _outcome(fast)
