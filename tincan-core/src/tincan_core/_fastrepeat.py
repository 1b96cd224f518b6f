"""A loop's position read from the loop: ``repeat.row.odd`` without the repeat variable.

A ``tal:repeat="row rows"`` loop of a Chameleon 4.6 program registers the row's
state in the template's ``repeat`` variable, and counts down the rows left::

    __iterator, ____index_N = getname('repeat')('row', __iterator)
    econtext['row'] = None
    for __item in __iterator:
        econtext['row'] = __item
        ...
        ____index_N -= 1
        if ____index_N > 0:
            __append(...)   # the text between rows

Each ``repeat.row.odd`` in the body reads the scope's ``repeat``, its ``row``
item and the item's property, which asks the iterator how many rows are left:
a quarter of a microsecond a read, a row. Until the count-down the row's
index is the rows' number less ``____index_N``, so :func:`rewrite` reads the
position from that, with no call but the one ``callableint`` an int property
makes::

    __tincan_rows_K = ____index_N if type(getname('repeat')) in __tincan_repeats else None
    for __item in __iterator:
        ...
        if __tincan_rows_K is not None:
            __attr = __tincan_odds[__tincan_rows_K - ____index_N & 1]
        else:
            <Chameleon's reads>

The values are those :class:`chameleon.tal.RepeatItem` (and
:class:`._repeat.RepeatItem`) compute, of the same types: ``index``,
``number``, ``start`` and ``end`` as :class:`~chameleon.utils.callableint`,
``odd``, ``even`` and ``parity`` as the texts :mod:`._repeat` makes once, and
``length`` as the int. The test before the loop keeps Chameleon's reads for a
``repeat`` that is not one of the two repeat dictionaries (a page attribute
or a define named ``repeat``).

:mod:`._fastloop` calls it for a loop whose body it has found safe: nothing in
it binds the loop's names or changes the scope but through other constant
keys, and it runs no other loop, macro or slot (which could register a loop of
the same name). A loop is also left alone unless each of these holds:

* the loop's name is not ``repeat`` and does not start with ``_`` (such a
  name is read from the repeat dictionary's class, not as its item);
* the body names the scope's ``repeat`` only as the first of the statements
  :mod:`._fastattr` writes for ``repeat.<the loop's name>.<property>``, and no
  ``econtext['repeat']``;
* the whole program names ``repeat`` only in loop headers and such position
  reads (:func:`names_repeat_plainly`): no alias of it (``tal:define="rp
  repeat"``) and no item of it (``repeat.row``) that an expression could use to
  register the loop's name again or take a row from its iterator. A repeat
  dictionary handed in under another name by a macro's caller, or kept by the
  page's own code, and used that way, is not covered;
* each read comes before the count-down, which is written once, and nothing
  else in the body assigns the count.
"""

from __future__ import annotations

import ast
from typing import Any

from ._fastnodes import with_fields

__all__ = ["IMPORT", "rewrite"]

_GETNAME = "getname"
_SCOPE = "econtext"
_VALUE = "__attr"  # what ._fastattr reads a chain into
_REPEAT = "repeat"
_PROPERTIES = frozenset({"index", "number", "start", "end", "odd", "even", "parity", "length"})

# What a rewritten program imports (once, at its end: functions read it when
# called). The names are those of ._repeat.
IMPORT = (
    "from tincan_core._repeat import REPEAT_TYPES as __tincan_repeats, ODDS as __tincan_odds, "
    "EVENS as __tincan_evens, PARITIES as __tincan_parities, callableint as __tincan_callableint"
)
IMPORTED = "__tincan_repeats"


def rewrite(
    statements: list[Any], index: int, key: str, body: list[Any], number: int
) -> tuple[list[Any], ast.stmt | None, int]:
    """For the loop ``statements[index]`` over ``key`` whose body (without its first
    statement) is ``body``: the body with its position reads rewritten, the
    statement to write before the loop, and the number of reads rewritten; or
    ``(body, None, 0)`` when the loop is left alone. ``number`` tells the
    program's loops apart: the guard's name ends with it."""
    counter = _counter(statements, index, key)
    if counter is None or key == _REPEAT or key.startswith("_"):
        return body, None, 0
    end = _count_down(body, counter)
    if end is None or _assigns(body[:end] + body[end + 1 :], counter):
        return body, None, 0
    rows = f"__tincan_rows_{number}"
    reads = [0]
    try:
        new = _inlined(body[:end], key, counter, rows, reads)
    except _Declined:
        return body, None, 0
    rewritten = [*new, *body[end:]]
    if not reads[0] or _other_repeat_use(rewritten):
        return body, None, 0
    guard = ast.Assign(
        targets=[ast.Name(rows, ast.Store())],
        value=ast.IfExp(
            test=ast.Compare(
                ast.Call(_load("type"), [_getname(_REPEAT)], []), [ast.In()], [_load(IMPORTED)]
            ),
            body=_load(counter),
            orelse=ast.Constant(None),
        ),
    )
    placed = ast.fix_missing_locations(ast.copy_location(guard, statements[index]))
    return rewritten, placed, reads[0]


def names_repeat_plainly(tree: ast.Module) -> bool:
    """Whether the program reads the scope's ``repeat`` only in loop headers and as
    ``repeat.<name>.<property>`` position reads: no alias of it (``tal:define="rp
    repeat"``), no item of it kept or handed on, anywhere in the template. Only
    then are its loops' positions computed from their counts."""
    reads = 0  # getname('repeat') anywhere
    plain = 0  # of those, in a header or starting a position read
    for node in ast.walk(tree):
        if _is_getname(node, _REPEAT):
            reads += 1
            continue
        if _names_repeat_otherwise(node):
            return False
        if type(node) is ast.Assign and type(node.value) is ast.Call:
            plain += _is_getname(node.value.func, _REPEAT)  # a loop's header
        for field in _BLOCKS:
            statements = getattr(node, field, None)
            if type(statements) is list:
                plain += sum(
                    _chain_property(statements, position) is not None
                    for position in range(len(statements))
                )
        if type(node) is ast.ExceptHandler:
            plain += sum(
                _chain_property(node.body, position) is not None
                for position in range(len(node.body))
            )
    return reads == plain


def _names_repeat_otherwise(node: Any) -> bool:
    """``get('repeat', ...)`` (the scope's get, as Chameleon writes it: with a constant
    key; the program's other ``get`` is the item lookup of ._fastattr's helper), or
    ``econtext[...]`` with a key that may be ``repeat``."""
    if type(node) is ast.Call and _is_name(node.func, "get"):
        return bool(node.args) and (
            type(node.args[0]) is ast.Constant and node.args[0].value == _REPEAT
        )
    return (
        type(node) is ast.Subscript
        and _is_name(node.value, _SCOPE)
        and not (type(node.slice) is ast.Constant and node.slice.value != _REPEAT)
    )


def _chain_property(statements: list[Any], position: int) -> str | None:
    """The property of a position read at ``statements[position]``, of any loop."""
    first = statements[position]
    if not (type(first) is ast.Assign and _is_getname(first.value, _REPEAT)):
        return None
    names = [_attribute_read(statement) for statement in statements[position + 1 : position + 3]]
    if len(names) != 2 or names[0] is None or names[1] not in _PROPERTIES:
        return None
    if not (len(first.targets) == 1 and _is_name(first.targets[0], _VALUE)):
        return None
    return names[1]


class _Declined(Exception):
    """A read of the loop's position that this module does not rewrite."""


def _load(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


def _getname(key: str) -> ast.Call:
    return ast.Call(_load(_GETNAME), [ast.Constant(key)], [])


def _is_name(node: Any, name: str) -> bool:
    return type(node) is ast.Name and node.id == name


def _keyed_call(node: Any, count: int, key: str) -> bool:
    """Whether ``node`` is a call with ``count`` arguments, the first the text ``key``."""
    return (
        type(node) is ast.Call
        and len(node.args) == count
        and not node.keywords
        and type(node.args[0]) is ast.Constant
        and isinstance(node.args[0].value, str)  # Chameleon's Token, a str, as well
        and node.args[0].value == key
    )


def _is_getname(node: Any, key: str) -> bool:
    return _keyed_call(node, 1, key) and _is_name(node.func, _GETNAME)


def _counter(statements: list[Any], index: int, key: str) -> str | None:
    """``____index_N`` of the header ``X, ____index_N = getname('repeat')(KEY, X)``
    just before the loop (with ``econtext[KEY] = None`` between)."""
    position = index - 1
    if position >= 0 and _clears(statements[position], key):
        position -= 1
    if position < 0:
        return None
    header = statements[position]
    if not (
        type(header) is ast.Assign
        and len(header.targets) == 1
        and type(header.targets[0]) is ast.Tuple
        and len(header.targets[0].elts) == 2
        and all(type(name) is ast.Name for name in header.targets[0].elts)
    ):
        return None
    iterated, counter = (str(getattr(name, "id", "")) for name in header.targets[0].elts)
    call = header.value
    loop = statements[index]
    if not (
        _keyed_call(call, 2, key)
        and _is_getname(call.func, _REPEAT)  # type: ignore[attr-defined]
        and _is_name(call.args[1], iterated)  # type: ignore[attr-defined]
        and _is_name(loop.iter, iterated)
        and counter.startswith("____index")
        and counter != iterated
    ):
        return None
    return counter


def _clears(statement: Any, key: str) -> bool:
    """``econtext[KEY] = None``."""
    if not (type(statement) is ast.Assign and len(statement.targets) == 1):
        return False
    target = statement.targets[0]
    return (
        type(target) is ast.Subscript
        and _is_name(target.value, _SCOPE)
        and type(target.slice) is ast.Constant
        and target.slice.value == key
        # Chameleon's compiler writes None as a name.
        and (_is_name(statement.value, "None") or (
            type(statement.value) is ast.Constant and statement.value.value is None
        ))
    )


def _count_down(body: list[Any], counter: str) -> int | None:
    """Where in ``body`` the one ``____index_N -= 1`` is."""
    found = [
        position
        for position, statement in enumerate(body)
        if type(statement) is ast.AugAssign
        and _is_name(statement.target, counter)
        and type(statement.op) is ast.Sub
        and type(statement.value) is ast.Constant
        and statement.value.value == 1
        and type(statement.value.value) is int
    ]
    return found[0] if len(found) == 1 else None


def _assigns(nodes: list[Any], name: str) -> bool:
    return any(
        type(node) is ast.Name and node.id == name and type(node.ctx) is not ast.Load
        for statement in nodes
        for node in ast.walk(statement)
    )


def _other_repeat_use(nodes: list[Any]) -> bool:
    """Whether anything but a rewritten read's fallback names the scope's ``repeat``."""
    pending = list(nodes)
    while pending:
        node = pending.pop()
        if type(node) is ast.If and getattr(node, "tincan_repeat", False):
            continue  # a rewritten read: its fallback is Chameleon's read
        if _is_getname(node, _REPEAT):
            return True
        if (
            type(node) is ast.Call
            and _is_name(node.func, "get")
            and node.args
            and type(node.args[0]) is ast.Constant
            and node.args[0].value == _REPEAT
        ):
            return True
        if (
            type(node) is ast.Subscript
            and _is_name(node.value, _SCOPE)
            and not (type(node.slice) is ast.Constant and node.slice.value != _REPEAT)
        ):
            return True
        pending.extend(ast.iter_child_nodes(node))
    return False


_BLOCKS = ("body", "orelse", "finalbody")


def _inlined(
    statements: list[Any], key: str, counter: str, rows: str, reads: list[int]
) -> list[Any]:
    """``statements`` with each read of ``repeat.KEY.<property>`` rewritten: a new
    list, with new nodes where something inside them changed."""
    new: list[Any] = []
    position = 0
    while position < len(statements):
        statement = statements[position]
        prop = _position_read(statements, position, key)
        if prop is not None:
            new.append(_read(statements[position : position + 3], prop, counter, rows))
            reads[0] += 1
            position += 3
            continue
        new.append(_within(statement, key, counter, rows, reads))
        position += 1
    return new


def _within(statement: Any, key: str, counter: str, rows: str, reads: list[int]) -> Any:
    """``statement`` with the reads in the statement lists inside it rewritten."""
    changed: dict[str, Any] = {}
    for field in _BLOCKS:
        inner = getattr(statement, field, None)
        if type(inner) is list and inner:
            before = reads[0]
            rewritten = _inlined(inner, key, counter, rows, reads)
            if reads[0] != before:
                changed[field] = rewritten
    handlers = getattr(statement, "handlers", None)
    if handlers:
        before = reads[0]
        new_handlers = [
            with_fields(handler, {"body": _inlined(handler.body, key, counter, rows, reads)})
            for handler in handlers
        ]
        if reads[0] != before:
            changed["handlers"] = new_handlers
    return with_fields(statement, changed) if changed else statement


def _position_read(statements: list[Any], position: int, key: str) -> str | None:
    """The property of ``repeat.KEY.<property>`` if ``statements[position:]`` starts
    with the reads of it that :mod:`._fastattr` writes::

        __attr = getname('repeat')
        try: __attr = __attr.KEY ...
        try: __attr = __attr.PROPERTY ...
    """
    first = statements[position]
    if not (
        type(first) is ast.Assign
        and len(first.targets) == 1
        and _is_name(first.targets[0], _VALUE)
        and _is_getname(first.value, _REPEAT)
    ):
        return None
    names = [_attribute_read(statement) for statement in statements[position + 1 : position + 3]]
    if len(names) != 2 or names[0] != key:
        raise _Declined  # the repeat variable, read some other way
    if names[1] not in _PROPERTIES:
        raise _Declined
    return names[1]


def _attribute_read(statement: Any) -> str | None:
    """NAME of ``try: __attr = __attr.NAME`` (with ._fastattr's handler)."""
    if not (
        type(statement) is ast.Try and len(statement.body) == 1 and len(statement.handlers) == 1
    ):
        return None
    read = statement.body[0]
    if not (
        type(read) is ast.Assign
        and len(read.targets) == 1
        and _is_name(read.targets[0], _VALUE)
        and type(read.value) is ast.Attribute
        and _is_name(read.value.value, _VALUE)
    ):
        return None
    handler = statement.handlers[0]
    if not (
        _is_name(handler.type, "AttributeError")
        and not statement.orelse
        and not statement.finalbody
    ):
        return None
    name: str = read.value.attr
    return name


def _read(chameleons: list[Any], prop: str, counter: str, rows: str) -> ast.If:
    """``if ROWS is not None: __attr = <the position> else: <Chameleon's reads>``."""
    index = ast.BinOp(_load(rows), ast.Sub(), _load(counter))  # rows before this one
    value: ast.expr
    if prop == "length":
        value = _load(rows)
    elif prop in ("odd", "even", "parity"):
        table = {"odd": "__tincan_odds", "even": "__tincan_evens", "parity": "__tincan_parities"}
        value = ast.Subscript(_load(table[prop]), ast.BinOp(index, ast.BitAnd(), ast.Constant(1)))
    else:
        shown: ast.expr = {
            "index": index,
            "number": ast.BinOp(index, ast.Add(), ast.Constant(1)),
            "start": ast.Compare(_load(rows), [ast.Eq()], [_load(counter)]),
            "end": ast.Compare(_load(counter), [ast.Eq()], [ast.Constant(1)]),
        }[prop]
        value = ast.Call(_load("__tincan_callableint"), [shown], [])
    test = ast.Compare(_load(rows), [ast.IsNot()], [ast.Constant(None)])
    read = ast.If(test, [ast.Assign([ast.Name(_VALUE, ast.Store())], value)], list(chameleons))
    read.tincan_repeat = True  # type: ignore[attr-defined]
    return ast.fix_missing_locations(ast.copy_location(read, chameleons[0]))
