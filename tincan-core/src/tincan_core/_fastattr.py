"""Attribute reads in loops without a call to Chameleon's ``lookup_attr`` each.

A template's ``row.name`` is compiled by Chameleon 4.6 into a call,
``_lookup_attr(row, 'name')``: the attribute, or, when reading it raises
``AttributeError``, the item ``row['name']`` (the ``AttributeError`` is raised
again when there is no such item either). The call is a Python frame for
every read, the largest part of reading an attribute.

Inside ``tal:repeat`` loops, where a read runs once a row, :func:`rewrite`
splits an assignment whose value starts with such a chain of reads (the part
Python evaluates first) into statements that read the attribute directly::

    __attr = row
    try:
        __attr = __attr.name
    except AttributeError as __attr_error:
        __attr = __tincan_lookup_item(__attr, 'name', __attr_error)
    __content = __attr ...

``__tincan_lookup_item`` (defined in the program) is the rest of
``lookup_attr``: the item, or the first error raised again. Each part of the
chain is evaluated once, in the same order, and raises the same exception
object: only the frames of a traceback differ. "Evaluated first" is followed
through the left operand of ``and``/``or`` and of arithmetic (or the right one
when the left is a constant), the left side of a comparison, the operand of a
unary operator, the object of a subscript or an attribute, and the test of a
conditional expression; a chain anywhere else, and every other read, keeps
Chameleon's call.

Only programs that import Chameleon's ``lookup_attr`` as ``_lookup_attr`` (and
bind that name nowhere else) are rewritten; templates with ``<?python ?>``
blocks are not (their Python could bind the names the statements use). Part of
the compile speed-up of :mod:`._fastcompile`, proven by rendering with and
without it (``tests/test_fastattr.py``, and the conformance corpus).
"""

from __future__ import annotations

import ast
from typing import Any

from ._fastnodes import with_fields

__all__ = ["rewrite"]

_LOOKUP = "_lookup_attr"
_VALUE = "__attr"
_ERROR = "__attr_error"
_HELPER = "__tincan_lookup_item"
_HELPER_SOURCE = f"""
def {_HELPER}(obj, key, error):
    try:
        get = obj.__getitem__
    except AttributeError:
        raise error
    try:
        return get(key)
    except KeyError:
        raise error
"""

# Where Python evaluates first, by node class: the field holding that part.
_FIRST: dict[type, str] = {
    ast.BoolOp: "values",
    ast.BinOp: "left",
    ast.Compare: "left",
    ast.UnaryOp: "operand",
    ast.Subscript: "value",
    ast.Attribute: "value",
    ast.IfExp: "test",
}


def rewrite(tree: ast.Module, statement_lists: list[list[Any]]) -> int:
    """Split the assignments of ``statement_lists`` (lists of ``tree``, inside loops)
    as described above; the number of chains read directly."""
    if not _imports_lookup(tree):
        return 0
    count = 0
    for statements in statement_lists:
        index = 0
        while index < len(statements):
            split = _split(statements[index])
            if split is None:
                index += 1
                continue
            statements[index : index + 1] = split
            index += len(split)
            count += 1
    if count:
        tree.body.extend(ast.parse(_HELPER_SOURCE).body)
    return count


def _imports_lookup(tree: ast.Module) -> bool:
    """Whether the module binds ``_lookup_attr`` once, to Chameleon's function."""
    bindings = 0
    chameleons = 0
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom):
            for alias in statement.names:
                if (alias.asname or alias.name) == _LOOKUP:
                    bindings += 1
                    chameleons += statement.module == "chameleon.utils" and (
                        alias.name == "lookup_attr"
                    )
        elif isinstance(statement, ast.Import):
            bindings += any((alias.asname or alias.name) == _LOOKUP for alias in statement.names)
        elif isinstance(statement, (ast.Assign, ast.FunctionDef, ast.ClassDef)):
            targets = statement.targets if isinstance(statement, ast.Assign) else []
            names = [getattr(target, "id", None) for target in targets]
            bindings += _LOOKUP in names or getattr(statement, "name", None) in (_LOOKUP, _HELPER)
    return bindings == 1 and chameleons == 1


def _is_lookup(node: Any) -> bool:
    return (
        type(node) is ast.Call
        and type(node.func) is ast.Name
        and node.func.id == _LOOKUP
        and len(node.args) == 2
        and not node.keywords
        and type(node.args[1]) is ast.Constant
        and type(node.args[1].value) is str
        and node.args[1].value.isidentifier()
        and type(node.args[0]) is not ast.Starred
    )


def _split(statement: Any) -> list[ast.stmt] | None:
    """``statement`` as the statements above, if it is an assignment to a name whose
    value starts with a chain of lookups; None otherwise."""
    if not (
        type(statement) is ast.Assign
        and len(statement.targets) == 1
        and type(statement.targets[0]) is ast.Name
        and statement.targets[0].id not in (_VALUE, _ERROR)
    ):
        return None
    path: list[tuple[Any, str]] = []  # (node, field) down to the chain
    node: Any = statement.value
    while not _is_lookup(node):
        field = _FIRST.get(type(node))
        if field is None:
            return None
        first = getattr(node, field)
        if field == "values":
            first = first[0]
        elif type(first) is ast.Constant and type(node) in (ast.BinOp, ast.Compare):
            # A constant has no effect: the right side is what runs first.
            if type(node) is ast.BinOp:
                field, first = "right", node.right
            else:
                field, first = "comparators", node.comparators[0]
        path.append((node, field))
        node = first
    names: list[str] = []
    while _is_lookup(node):
        names.append(node.args[1].value)
        node = node.args[0]
    if _mentions(statement.value, (_VALUE, _ERROR)):
        return None  # the value would read the rewrite's own names
    split: list[ast.stmt] = [_assign(node)]
    for name in reversed(names):
        split.append(_read(name))
    value = _replaced(path, _load(_VALUE))
    split.append(ast.Assign(targets=statement.targets, value=value))
    return [ast.fix_missing_locations(ast.copy_location(new, statement)) for new in split]


def _mentions(node: Any, names: tuple[str, ...]) -> bool:
    return any(type(inner) is ast.Name and inner.id in names for inner in ast.walk(node))


def _load(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


def _assign(value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[ast.Name(_VALUE, ast.Store())], value=value)


def _read(name: str) -> ast.Try:
    """``try: __attr = __attr.NAME`` with the item as the fallback."""
    fallback = ast.Call(_load(_HELPER), [_load(_VALUE), ast.Constant(name), _load(_ERROR)], [])
    handler = ast.ExceptHandler(
        type=_load("AttributeError"), name=_ERROR, body=[_assign(fallback)]
    )
    return ast.Try(
        body=[_assign(ast.Attribute(_load(_VALUE), name, ast.Load()))],
        handlers=[handler],
        orelse=[],
        finalbody=[],
    )


def _replaced(path: list[tuple[Any, str]], new: ast.expr) -> ast.expr:
    """The top node of ``path`` with the node at its end replaced by ``new``: new
    nodes along the path (the tree may share them), the rest shared."""
    for node, field in reversed(path):
        if field in ("values", "comparators"):
            new = with_fields(node, {field: [new, *getattr(node, field)[1:]]})
        else:
            new = with_fields(node, {field: new})
    return new
