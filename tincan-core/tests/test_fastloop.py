"""Loops that read their variable from the loop render what Chameleon renders.

:mod:`tincan_core._fastloop` replaces a ``tal:repeat`` body's ``getname(KEY)``
reads with the loop's ``__item`` when nothing in the body can change the
scope's name. Here: which loops it rewrites and which it leaves alone (read
from the generated program), and that every loop body, rewritten or not,
renders the same text or the same error as plain Chameleon, through
Chameleon's own render and through TinCan's faster one.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import pytest
from chameleon import PageTemplate
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_core import _fastcompile, _fastloop

pytestmark = pytest.mark.skipif(
    not _fastcompile.install(), reason="the faster compile is off for this Chameleon"
)

ROWS = [(1, "a <b>", 2.5), (2, "c & d", None), ("x", "", 0)]
Pair = Callable[[str], tuple[PageTemplate, PageTemplate]]
Same = Callable[..., PageTemplate]


def _reads(template: PageTemplate, key: str) -> int:
    assert template.source is not None
    return template.source.count(f"getname({key!r})")


def test_a_plain_loop_reads_its_item_from_the_loop(
    same_as_chameleon: Same, plain_and_fast: Pair
) -> None:
    body = """<table><tr tal:repeat="row rows" class="${repeat.row.odd and 'odd' or 'even'}">
      <td>${row[0]}</td><td tal:content="row[1]">x</td><td>${'%s' % (row[2],)}</td></tr></table>"""
    fast = same_as_chameleon(body, rows=ROWS)
    assert _reads(fast, "row") == 0
    assert fast.source is not None and fast.source.count("__item[") == 3
    plain, _ = plain_and_fast(body)
    assert _reads(plain, "row") == 3


@pytest.mark.parametrize(
    "body",
    [
        """<p tal:repeat="row rows"><b tal:define="first row[0]">${first} ${row[1]}</b></p>""",
        # The error is stored under another name, and the fallback renders.
        """<p tal:repeat="row rows"><b tal:on-error="string:err">${row[9]}</b>${row[0]}</p>""",
    ],
)
def test_a_body_that_stores_other_names_keeps_the_rewrite(
    same_as_chameleon: Same, body: str
) -> None:
    fast = same_as_chameleon(body, rows=ROWS)
    assert _reads(fast, "row") == 0


@pytest.mark.parametrize(
    "body",
    [
        # The body defines the loop's own name: the scope's value changes.
        """<p tal:repeat="row rows"><b tal:define="row row[1]">${row}</b>${row[0]}</p>""",
        # A macro or a slot is given the scope.
        """<div metal:define-macro="m">${row[0]}</div><p tal:repeat="row rows"><i
            metal:use-macro="template.macros['m']"/>${row[0]}</p>""",
        # tal:on-error stores the error in the scope, as "error".
        """<p tal:repeat="error rows"><b tal:on-error="string:err">${error[9]}</b
          >${error[0]}</p>""",
        # Functions and comprehensions read later, or in a scope of their own.
        """<p tal:repeat="row rows">${(lambda: row[0])()} ${row[0]}</p>""",
        """<p tal:repeat="row rows">${[c for c in row[1]]} ${row[0]}</p>""",
        """<p tal:repeat="row rows">${list(c for c in row[1])} ${row[0]}</p>""",
        # An outer loop with an inner one: the inner loop rebinds __item.
        """<p tal:repeat="row rows"><i tal:repeat="c row[1]">${c}</i>${row[0]}</p>""",
    ],
)
def test_bodies_that_could_change_the_name_keep_their_reads(
    same_as_chameleon: Same, body: str
) -> None:
    fast = same_as_chameleon(body, rows=ROWS)
    key = "error" if "error rows" in body else "row"
    assert _reads(fast, key) >= 1


def test_an_inner_loop_is_rewritten_while_its_outer_loop_is_not(same_as_chameleon: Same) -> None:
    body = """<p tal:repeat="row rows"><i tal:repeat="c row[1]">${c}${c}</i>${row[0]}</p>"""
    fast = same_as_chameleon(body, rows=ROWS)
    assert _reads(fast, "c") == 0
    assert _reads(fast, "row") == 2  # the inner loop's iterable, and ${row[0]}


@pytest.mark.parametrize(
    "definition",
    [
        # A variable holding the scope itself, changed from inside the loop.
        "ctx econtext",
        # The render's frame, and the scope in it.
        "ctx python: locals()['econtext']",
        # Names spelled so that the template's text does not hold them: a
        # character reference, and a letter Python folds into an ASCII one.
        "ctx &#101;context",
        "ctx \uff45context",
    ],
)
def test_a_template_that_holds_the_scope_keeps_every_loop(
    same_as_chameleon: Same, definition: str
) -> None:
    body = f"""<div tal:define="{definition}"><p tal:repeat="row rows">${{row[0]}}${{
        ctx.__setitem__('row', ('changed',)) or ''}}${{row[0]}}</p></div>"""
    fast = same_as_chameleon(body, rows=ROWS)
    assert "changed" in fast.render(rows=ROWS)  # the second read sees the change
    assert _reads(fast, "row") == 2


def test_the_rewrite_builds_new_nodes_for_what_it_changes() -> None:
    # A statement shared by two places in the tree, one inside a loop: the copy
    # outside the loop keeps reading the scope.
    shared = ast.parse("print(getname('row'))").body[0]
    tree = ast.parse(
        "def render(__stream, econtext, rcontext):\n"
        "    getname = econtext.get_name\n"
        "    for __item in __iterator:\n"
        "        econtext['row'] = __item\n"
        "        SHARED\n"
        "    SHARED\n"
    )
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    loop = function.body[1]
    assert isinstance(loop, ast.For)
    loop.body[1] = shared
    function.body[2] = shared
    assert _fastloop.rewrite(tree) == 1
    assert ast.unparse(function.body[2]) == "print(getname('row'))"
    rewritten = function.body[1]
    assert isinstance(rewritten, ast.For) and rewritten is not loop
    assert ast.unparse(rewritten.body[1]) == "print(__item)"


def test_a_loop_before_the_binding_or_in_a_function_that_rebinds_getname_is_kept() -> None:
    source = (
        "def render(__stream, econtext, rcontext):\n"
        "    getname = econtext.get_name\n"
        "    for __item in __iterator:\n"
        "        econtext['row'] = __item\n"
        "        show(getname('row'))\n"
        "    getname = other\n"
    )
    tree = ast.parse(source)
    assert _fastloop.rewrite(tree) == 0
    kept = ast.parse(source.replace("    getname = other\n", ""))
    assert _fastloop.rewrite(kept) == 1  # the same loop, with getname bound only once
    early = ast.parse(
        source.replace("    getname = other\n", "").replace(
            "    getname = econtext.get_name\n", ""
        )
        + "    getname = econtext.get_name\n"
    )
    assert _fastloop.rewrite(early) == 0


# Parts of loop bodies, each with and without what keeps a loop from the rewrite.
_PARTS = [
    "${row[0]}",
    "${row}",
    "<b tal:content='row[1]'>d</b>",
    "<i class='${row[0]}' title='a ${row[1]} b'>i</i>",
    "${repeat.row.index}${repeat.row.odd}",
    "<b tal:condition='row[2]'>${row[2]}</b>",
    "<b tal:define='other row[0]'>${other}${row[1]}</b>",
    "<b tal:define='row (9, \"redefined\", 1)'>${row[1]}</b>",
    "<b tal:repeat='c row[1]'>${c}${row[0]}</b>",
    "<b tal:repeat='row row[1]'>${row}</b>",
    "<b tal:replace='structure row[1]'/>",
    "${row[7]}",
    '<b tal:on-error="string:failed">${row[7]}</b>',
    "${[c for c in str(row[0])]}",
    "<b tal:attributes='data-x row[0]'>a</b>",
    "<b tal:switch='row[0]'><i tal:case='1'>one</i><i tal:case='default'>other</i></b>",
]


@settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(st.sampled_from(_PARTS), min_size=1, max_size=4),
    nested=st.booleans(),
    rows=st.lists(st.sampled_from(ROWS), max_size=3),
)
def test_any_loop_body_renders_as_chameleon_renders_it(
    same_as_chameleon: Same, parts: list[str], nested: bool, rows: list[Any]
) -> None:
    body = f"<p tal:repeat='row rows'>{''.join(parts)}</p>"
    if nested:
        body = f"<div tal:repeat='group groups'>{body}${{group}}</div>"
    same_as_chameleon(body, rows=rows, groups=[1, 2])
