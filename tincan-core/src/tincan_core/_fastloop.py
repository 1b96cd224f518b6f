"""Loops that read their variable from the loop, not from the scope.

A ``tal:repeat="row rows"`` loop of a Chameleon 4.6 program stores each item in
the template's scope, then reads it back by name wherever the body uses it::

    for __item in __iterator:
        econtext['row'] = __item
        ...
        __content = getname('row')[0]

``getname`` is the scope's ``get_name``, bound once per function: a call a
read. When nothing in the body can change the scope's ``row`` after the first
statement set it, each ``getname('row')`` answers ``__item``, so
:func:`rewrite` writes ``__item`` in its place. A table of 40 rows that shows
its row four times a row makes 160 fewer calls a render.

The body is left as it is unless every part of it is known to keep the
scope's ``row`` and the names ``__item`` and ``getname`` as they are:

* no statement or expression of the body names ``econtext`` except to read or
  write another constant key (``tal:define`` of another name, and its
  restore); a macro call, a slot, ``tal:on-error`` or a ``tal:define`` of the
  loop's own name all do, so their loops are not rewritten;
* nothing in the body binds ``__item``, ``getname`` or ``get``;
* the body has no loop of its own (an inner loop rebinds ``__item``), and no
  function, lambda, comprehension, generator expression, ``:=``, ``with``,
  ``match``, import, ``global`` or ``nonlocal``: none of the scopes or
  bindings whose reads could come later than, or differ from, the row's;
* every node of the body is a kind this module knows.

The body can only reach the scope through names, so the whole program is
checked too: anywhere in it, ``econtext`` may only be read through
``get_name``, ``get``, ``copy``, ``update`` or an item (the uses Chameleon's
compiler writes), and ``locals``, ``vars``, ``eval`` and ``exec`` (which could
hand the render's frame to an expression) are not named at all. A template
that names any of them keeps every loop as Chameleon wrote it. Code that
reaches the render's frame by other means (``sys._getframe()``, through
``__import__`` or ``__builtins__``) and changes the scope through it is not
covered.

Every name a template's expressions use is written in its text, so a text that
cannot spell any of those names settles that check without a walk of the
program: ASCII only (Python folds other letters into ASCII ones in names), no
character reference but XML's five (expressions are read with references
decoded), and none of the names as a word. Any other text gets the walk. A
text without ``repeat`` has no loop, and its program is not looked at: the
rewrite costs a page without loops nothing, and one with a loop a few
per cent of its compile (one walk of its statements and of the loop bodies).

The loop must follow ``getname = econtext.get_name`` in the same function
(in the statement list that binds it, or nested in the statements after it),
and the function may bind ``getname`` only there.

New nodes are built for every node on the way to a replaced read (copy on
write): Chameleon's tree may share nodes between places. Part of the compile
speed-up of :mod:`._fastcompile`, installed only with the Chameleon versions it
was checked against, and proven the same way (``tests/test_fastloop.py``, and
the conformance corpus rendered with and without it).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from . import _fastrepeat
from ._fastnodes import flattened, with_fields

__all__ = ["rewrite"]

_ITEM = "__item"
_GETNAME = "getname"
_SCOPE = "econtext"
# What Chameleon's own statements read from the scope object itself.
_SCOPE_METHODS = frozenset({"get_name", "get", "copy", "update"})
# Builtins that hand an expression the calling frame or run code in it.
_FRAME_READERS = frozenset({"locals", "vars", "eval", "exec"})
# The names the body must leave bound as the loop bound them.
_KEPT = frozenset({_ITEM, _GETNAME, "get"})
# Names a nested function must not declare global or nonlocal.
_DECLARED = _KEPT | {_SCOPE}
# Kinds of node whose reads could come later than the row's, or that bind names
# other than by assignment: a body holding one is left alone.
_UNSAFE = frozenset({
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
    ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp, ast.NamedExpr,
    ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Match,
    ast.Global, ast.Nonlocal, ast.Import, ast.ImportFrom,
    ast.Await, ast.Yield, ast.YieldFrom,
})  # fmt: skip
_ATOMIC = frozenset({str, int, float, complex, bytes, bool, type(None), type(Ellipsis)})
_CONTEXTS = frozenset({ast.Load, ast.Store, ast.Del, ast.Param})
# What a walk of a loop body passes by: scalars, constants and name contexts.
_LEAVES = _ATOMIC | _CONTEXTS | {ast.Constant}
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_TRIES = (ast.Try, getattr(ast, "TryStar", ast.Try))
# What a text must not hold for its program to skip the walk (see the notes above).
_SPELLS_A_NAME = re.compile(
    r"\b(?:econtext|locals|vars|eval|exec|global|nonlocal)\b|&(?!(?:lt|gt|amp|quot|apos);)"
)


class _Unsafe(Exception):
    """A loop body holds something that could change what the rewrite relies on."""


def rewrite(tree: ast.Module, text: str | None = None) -> int:
    """Rewrite the loops of ``tree`` (a program Chameleon generated from the template
    ``text``, if known) in place; the number of ``getname(KEY)`` reads replaced."""
    if text is not None and "repeat" not in text:
        return 0  # a loop is a tal:repeat (under any prefix): most pages have none
    loops: list[tuple[_Function, list[Any], int]] = []
    _collect(tree.body, False, _Function(None), loops)
    if not loops:
        return 0  # most pages: nothing more to look at
    plain_text = text is not None and text.isascii() and _SPELLS_A_NAME.search(text) is None
    if not plain_text and not _names_are_plain(tree):
        return 0
    positions = _fastrepeat.names_repeat_plainly(tree)
    counts = [
        _rewrite_loop(statements, index, number, positions)
        for number, (function, statements, index) in enumerate(loops)
        if function.rewritable()
    ]
    if any(inlined for _, inlined in counts):
        for _, statements, _ in loops:
            flattened(statements)  # the guards, in lists of their own until now
        # Where the position reads find their names (._fastrepeat).
        tree.body.append(ast.fix_missing_locations(ast.parse(_fastrepeat.IMPORT).body[0]))
    return sum(reads for reads, _ in counts)


class _Function:
    """What the walk learns of a function: whether it takes the scope, and how it
    binds ``getname``."""

    __slots__ = ("bindings", "other_binding", "takes_scope")

    def __init__(self, function: ast.FunctionDef | ast.AsyncFunctionDef | None) -> None:
        self.takes_scope = function is not None and _takes_scope(function)
        self.bindings = 0
        self.other_binding = False

    def rewritable(self) -> bool:
        return self.takes_scope and self.bindings == 1 and not self.other_binding


def _collect(
    statements: list[Any],
    bound: bool,
    function: _Function,
    loops: list[tuple[_Function, list[Any], int]],
) -> None:
    """Note in ``loops`` each loop of ``statements`` (and the lists inside them) that
    follows ``getname = econtext.get_name`` in its function: in the same list, or
    in a list inside a statement after it (``bound``), inner loops first."""
    for index, statement in enumerate(flattened(statements)):
        kind = type(statement)
        if kind is ast.Assign and _is_binding(statement):
            function.bindings += 1
            bound = True
            continue
        if kind in _FUNCTIONS:
            _collect(statement.body, False, _Function(statement), loops)
            continue
        if kind is ast.ClassDef or not isinstance(statement, ast.stmt):
            continue
        if _binds_getname(statement):
            function.other_binding = True
        for inner in _inner_lists(statement):
            _collect(inner, bound, function, loops)
        if bound and kind is ast.For and _loop_key(statement) is not None:
            loops.append((function, statements, index))


_BLOCKS = ("body", "orelse", "finalbody")


def _inner_lists(statement: ast.stmt) -> Iterator[list[Any]]:
    """The statement lists directly inside ``statement`` (handlers' bodies included)."""
    for field in _BLOCKS:
        inner = getattr(statement, field, None)
        if type(inner) is list and inner:
            yield flattened(inner)
    for handler in getattr(statement, "handlers", None) or ():
        if isinstance(handler, ast.ExceptHandler):
            yield flattened(handler.body)


def _loop_key(statement: Any) -> str | None:
    """``KEY`` of ``for __item in ...: econtext[KEY] = __item; ...`` with no ``else``."""
    if not (
        type(statement) is ast.For
        and _is_name(statement.target, _ITEM)
        and not statement.orelse
        and type(statement.body) is list
        and len(statement.body) >= 2
    ):
        return None
    first = statement.body[0]
    if not (
        type(first) is ast.Assign and len(first.targets) == 1 and _is_name(first.value, _ITEM)
    ):
        return None
    return _scope_key(first.targets[0])


def _scope_key(node: Any) -> str | None:
    """``KEY`` of ``econtext[KEY]`` (a str constant), else None."""
    if type(node) is ast.Subscript and _is_name(node.value, _SCOPE):
        key = node.slice
        if type(key) is ast.Constant and type(key.value) is str:
            return key.value
    return None


def _is_name(node: Any, name: str) -> bool:
    return type(node) is ast.Name and node.id == name


def _names_are_plain(tree: ast.Module) -> bool:
    """Whether the program names the scope only as Chameleon does, and no builtin
    that reaches the frame (see the module's notes)."""
    pending: list[tuple[Any, Any]] = [(tree, None)]
    while pending:
        node, parent = pending.pop()
        kind = type(node)
        if kind in _LEAVES:
            continue
        if kind is list:
            pending.extend((item, parent) for item in node)
            continue
        if not isinstance(node, ast.AST):
            return False  # something this walk does not know
        if isinstance(node, ast.Name):
            if node.id in _FRAME_READERS:
                return False
            if node.id == _SCOPE and not _plain_scope_use(node, parent):
                return False
        elif isinstance(node, (ast.Global, ast.Nonlocal)) and not _DECLARED.isdisjoint(node.names):
            return False
        pending.extend((value, node) for value in vars(node).values())
    return True


def _plain_scope_use(name: ast.Name, parent: Any) -> bool:
    if isinstance(name.ctx, ast.Param):
        return True  # a parameter, as Chameleon's compiler writes them
    if not isinstance(name.ctx, ast.Load):
        return False
    if type(parent) is ast.Attribute:
        return parent.value is name and parent.attr in _SCOPE_METHODS
    return type(parent) is ast.Subscript and parent.value is name


def _takes_scope(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    names = [getattr(argument, "arg", None) or getattr(argument, "id", None) for argument in every]
    return _SCOPE in names


def _is_binding(statement: Any) -> bool:
    return (
        type(statement) is ast.Assign
        and len(statement.targets) == 1
        and _is_name(statement.targets[0], _GETNAME)
        and type(statement.value) is ast.Attribute
        and _is_name(statement.value.value, _SCOPE)
        and statement.value.attr == "get_name"
    )


def _binds_getname(statement: Any) -> bool:
    """Whether ``statement`` binds ``getname`` as a statement can (an expression
    cannot: the names in a template's expressions are looked up in the scope)."""
    kind = type(statement)
    if kind is ast.Assign:
        targets = statement.targets
    elif kind in (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor):
        targets = [statement.target]
    elif kind in _TRIES:
        targets = []
    else:
        return False
    if any(_names(target, _GETNAME) for target in targets):
        return True
    handlers = getattr(statement, "handlers", None) or ()
    return any(getattr(handler, "name", None) == _GETNAME for handler in handlers)


def _names(target: Any, name: str) -> bool:
    if _is_name(target, name):
        return True
    if type(target) in (ast.Tuple, ast.List):
        return any(_names(item, name) for item in target.elts)
    return type(target) is ast.Starred and _names(target.value, name)


def _rewrite_loop(
    statements: list[Any], index: int, number: int, positions: bool
) -> tuple[int, int]:
    """Rewrite the loop at ``statements[index]`` (the program's loop ``number``)
    unless its body holds anything unsafe; the number of reads of its name
    replaced, and of its position (with ``positions`` only)."""
    statement = statements[index]
    key = _loop_key(statement)
    assert key is not None
    reads = [0]
    try:
        rest = [_swapped(node, key, reads) for node in statement.body[1:]]
    except _Unsafe:
        return 0, 0
    guard, inlined = None, 0
    if positions:
        rest, guard, inlined = _fastrepeat.rewrite(statements, index, key, rest, number)
    if reads[0] or inlined:
        loop: Any = ast.copy_location(
            ast.For(
                target=statement.target,
                iter=statement.iter,
                body=[statement.body[0], *rest],
                orelse=[],
                type_comment=None,
            ),
            statement,
        )
        # The guard goes in front, in a list of its own in the loop's place until
        # every loop is done: the indexes of other loops noted in the same list
        # stay as they are.
        statements[index] = loop if guard is None else [guard, loop]
    return reads[0], inlined


def _is_read(node: ast.Call, key: str) -> bool:
    """``getname(KEY)``."""
    return (
        _is_name(node.func, _GETNAME)
        and len(node.args) == 1
        and not node.keywords
        and type(node.args[0]) is ast.Constant
        and node.args[0].value == key
        and type(node.args[0].value) is str
    )


def _swapped(node: Any, key: str, reads: list[int]) -> Any:
    """``node`` (part of a loop body) with each ``getname(KEY)`` in it replaced by
    ``__item``: a new node where anything below changed, the same node otherwise.
    Raises :class:`_Unsafe` for anything that could change ``econtext[KEY]``,
    ``__item``, ``getname`` or ``get`` (see the module's notes); adds the reads
    replaced to ``reads[0]``."""
    kind: Any = type(node)
    if kind in _LEAVES:
        return node
    if kind is ast.Name:
        if node.id == _SCOPE or (node.id in _KEPT and type(node.ctx) is not ast.Load):
            raise _Unsafe
        return node
    if kind is ast.Call and _is_read(node, key):
        reads[0] += 1
        return ast.copy_location(ast.Name(_ITEM, ast.Load()), node)
    if kind is ast.Subscript and _is_name(node.value, _SCOPE):
        other = _scope_key(node)
        if other is None or other == key:
            raise _Unsafe
        return node  # econtext['other']: nothing more in it
    if kind in _UNSAFE or not isinstance(node, ast.AST):
        raise _Unsafe
    if kind is ast.ExceptHandler and getattr(node, "name", None) in _KEPT:
        raise _Unsafe
    changed: dict[str, Any] | None = None
    for field, value in vars(node).items():
        if type(value) is list:
            copied: list[Any] | None = None
            for position, item in enumerate(value):
                if type(item) in _LEAVES:
                    continue
                if type(item) is list:
                    raise _Unsafe  # not flattened: not a shape this module knows
                new = _swapped(item, key, reads)
                if new is not item:
                    if copied is None:
                        copied = value[:]
                    copied[position] = new
            if copied is not None:
                changed = changed or {}
                changed[field] = copied
        elif isinstance(value, ast.AST):
            new = _swapped(value, key, reads)
            if new is not value:
                changed = changed or {}
                changed[field] = new
    return node if changed is None else with_fields(node, changed)
