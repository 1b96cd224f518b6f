"""Programs that render what Chameleon's render, with fewer calls: interpolations that
skip the escaping call when there is nothing to escape, and fewer appends.

For every ``${...}`` in text or in an attribute, and every ``tal:content`` or
``tal:replace`` of text, a Chameleon 4.6 program calls its ``__quote`` function
on the value and then runs a conversion block on the result before appending
it. For the values most interpolations show, that work changes nothing:

* a ``str`` without ``&``, ``<``, ``>``, ``"`` or ``'`` is appended as it is;
* an ``int`` or a ``float`` (exactly those types) is appended as ``str(value)``.

(A text with several values, ``Page ${n} of ${pages}``, quotes each one and
joins them after; there only the first case is tested, value by value.)

:func:`rewrite` puts a test for those two cases in front of each such
statement group of a program's syntax tree, before it is unparsed: the two
cases take the short branch, and every other value (other types, subclasses,
strings that need escaping, ``None``, the default marker) runs Chameleon's
own statements, kept as they were in the other branch. The short branch does
what the long one would have done for the value, so the page renders the same
text; only the number of calls per interpolation changes (one ``__quote`` call,
a regular expression search and about ten comparisons, against a type test and
the same search).

When the statement before the group gives the value from an expression whose
texts are all known and need no escaping (:mod:`._fastconst`:
``${repeat.row.odd and 'odd' or 'even'}``), there is nothing to test: the
group becomes its short branch alone.

The test is written only inside loops (``tal:repeat``), where an interpolation
runs once a row. Outside them it would save a fraction of a microsecond a
render, and every test makes the program bigger: its compile slower and the
memory of a launched webapp larger.

Runs of constant text a program appends with only Chameleon's bookkeeping in
between (``__token``, ``__attrs_*`` and ``__default_*`` assignments of a name
or a constant, comment placeholders) are appended as one text: ``'</td>'``
then ``'<td>'`` becomes ``'</td><td>'``. The stream joins to the same page.
(One message changes: when a value that is not text reaches the stream, an
``__html__`` returning an int, the join's ``TypeError`` names its place in a
shorter stream, ``sequence item 1`` for ``item 2``.)

A template with a ``<?python ?>`` block gets no interpolation test, only joined
texts: the block's Python can make a builtin's name (``int = 0``,
``(float := 0.5)``) or one of Chameleon's own a local of the render function,
and the test reads ``type``, ``str``, ``int``, ``float`` and
``g_re_needs_escape`` where Chameleon's program does not. :mod:`._fastcompile`
notes the block as Chameleon compiles it.

A group is rewritten only when it has exactly the shape Chameleon 4.6.0 emits
(checked statement by statement), in a module that defines Chameleon's
``g_re_needs_escape``; the test reads that same search. It is part of the
compile speed-up of :mod:`._fastcompile`, installed only for the Chameleon
versions that module was checked against, and proven the same way: the
conformance corpus and Chameleon's own test templates render identically
with and without it (``tests/test_chameleon_conformance.py``,
``tests/test_fastprogram.py``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from . import _fastattr, _fastconst, _fastloop
from ._fastnodes import flattened

__all__ = ["REVISION", "enabled", "rewrite", "unrewritten"]

# Written into the template cache's tag, so a cache of programs rewritten by
# another revision (or not at all) is not taken for this one's.
REVISION = 9

_SEARCH = "g_re_needs_escape"
# What Chameleon assigns to it, as ast.unparse writes it.
_SEARCH_SOURCE = ast.unparse(ast.parse(r"""re.compile(r'[&<>\"\']').search""", mode="eval"))
_MARKER = "_DEFAULT_MARKER"

_on = True


def enabled() -> bool:
    """Whether compiles rewrite their programs (tests turn it off to compare)."""
    return _on


@contextmanager
def unrewritten() -> Iterator[None]:
    """Programs compiled meanwhile are left as Chameleon's compiler makes them."""
    global _on
    was, _on = _on, False
    try:
        yield
    finally:
        _on = was


def rewrite(tree: ast.Module, *, code_blocks: bool = False, text: str | None = None) -> int:
    """Rewrite ``tree`` (a program Chameleon generated) in place; the number of
    interpolations given the test. ``code_blocks``: the template has a
    ``<?python ?>`` block, and its program gets joined texts only. ``text``: the
    template's text, if known (:func:`._fastloop.rewrite` reads it)."""
    if not _on or _search_definition(tree) is None:
        return 0
    walk = _Walk()
    walk.statements(tree.body, in_loop=False)
    if code_blocks:
        # A code block's Python can bind builtins (int = 0, (float := 0.5)) or
        # Chameleon's own names as locals: the test would read them where
        # Chameleon's program does not.
        return 0
    tested = sum(_rewrite_groups(statements) for statements in walk.loops)
    _fastattr.rewrite(tree, walk.loops)
    # After the test and the attribute reads: the loops they rewrote in place are
    # the ones put back in new nodes.
    _fastloop.rewrite(tree, text)
    return tested


def _search_definition(tree: ast.Module) -> ast.stmt | None:
    """Chameleon's module-level ``g_re_needs_escape = ...``, which the test reads."""
    for statement in tree.body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and statement.targets[0].id == _SEARCH
        ):
            return statement if ast.unparse(statement.value) == _SEARCH_SOURCE else None
    return None


# The statement lists of each kind of statement Chameleon writes (a compile walks
# thousands of statements: the kind decides, not attribute lookups).
_INNER: dict[type, tuple[str, ...]] = {
    ast.If: ("body", "orelse"),
    ast.For: ("body", "orelse"),
    ast.While: ("body", "orelse"),
    ast.With: ("body",),
    ast.FunctionDef: ("body",),
    ast.ClassDef: ("body",),
    ast.Try: ("body", "orelse", "finalbody"),
}


_Node = TypeVar("_Node", bound=ast.stmt)
_LOOPS = (ast.For, ast.While)  # tal:repeat: where an interpolation runs again and again


class _Walk:
    """One pass over a program's statements: texts are joined on the way, and the
    statement lists inside loops that hold assignments are kept for the test."""

    def __init__(self) -> None:
        self.loops: list[list[ast.stmt]] = []

    def statements(self, statements: list[Any], in_loop: bool) -> None:
        assigns = texts = 0
        for statement in flattened(statements):
            kind = type(statement)
            if kind is ast.Assign:
                assigns += 1
                continue
            if kind is ast.Expr:
                texts += 1
                continue
            inner = _INNER.get(kind)
            if inner is None or _is_shortcut(statement):
                continue  # rewritten already: its long branch keeps Chameleon's statements
            looping = in_loop or kind in _LOOPS
            for name in inner:
                nested = getattr(statement, name, None)  # Chameleon's nodes may lack one
                if nested:
                    self.statements(nested, looping)
            if kind is ast.Try:
                for handler in getattr(statement, "handlers", None) or ():
                    self.statements(handler.body, looping)
        if assigns and in_loop:
            self.loops.append(statements)
        if texts > 1:
            _join_texts(statements)


def _rewrite_groups(statements: list[ast.stmt]) -> int:
    count = 0
    index = 0
    while index < len(statements):
        if _quoted_name(statements[index]) is None:
            index += 1
            continue
        size = _group_size(statements, index)
        if index and _shows_as_is(statements[index - 1], statements[index]):
            # Nothing to test: only the append (and the text around the value) is left.
            kept = _tail(statements[index : index + size]) if size else []
            statements[index : index + max(size, 1)] = kept
            index += len(kept)
        elif size:
            shortcut = _shortcut(statements[index : index + size])
            statements[index : index + size] = shortcut
            index += len(shortcut)
        else:
            statements[index] = _guarded(statements[index])
            index += 1
        count += 1
    return count


def _shows_as_is(value: ast.stmt, quote: ast.stmt) -> bool:
    """Whether ``value``, the statement before ``quote``, gives the quoted name a
    value that can only be texts with nothing to escape (:mod:`._fastconst`):
    ``__quote`` hands such a text back as it is, and the conversion leaves it."""
    name = _assigned_name(quote)
    return (
        name is not None
        and _assigned_name(value) == name
        and _fastconst.shown_as_is(value.value)  # type: ignore[attr-defined]
    )


def _appended_text(statement: ast.stmt) -> tuple[str, str] | None:
    """(function, text) of ``__append('text')`` (or another stream's ``__append_*``)."""
    if type(statement) is not ast.Expr:
        return None
    call = statement.value
    if (
        type(call) is ast.Call
        and type(call.func) is ast.Name
        and call.func.id.startswith("__append")
        and len(call.args) == 1
        and not call.keywords
        and isinstance(call.args[0], ast.Constant)
        and type(call.args[0].value) is str
    ):
        return call.func.id, call.args[0].value
    return None


_BOOKKEEPING = ("__attrs_", "__default_")


def _is_bookkeeping(statement: ast.stmt) -> bool:
    """A statement an append of constant text may move above: it neither writes
    nor rebinds a stream, and cannot fail."""
    if isinstance(statement, ast.Expr):
        return isinstance(statement.value, ast.Constant)  # a comment's placeholder
    name = _assigned_name(statement)
    return (
        name is not None
        and (name == "__token" or name.startswith(_BOOKKEEPING))
        and isinstance(statement.value, (ast.Name, ast.Constant))  # type: ignore[attr-defined]
    )


def _join_texts(statements: list[ast.stmt]) -> None:
    """Append each run of constant texts as one (:func:`_is_bookkeeping` between them)."""
    joined: list[ast.stmt] = []
    last: int | None = None  # where in ``joined`` the run's append is
    for statement in statements:
        appended = _appended_text(statement)
        if appended is not None and last is not None:
            function, text = _appended_text(joined[last])  # type: ignore[misc]
            if function == appended[0]:
                # New nodes: Chameleon's tree may share the old ones elsewhere.
                call = ast.Call(
                    ast.Name(function, ast.Load()), [ast.Constant(text + appended[1])], []
                )
                joined[last] = ast.fix_missing_locations(
                    ast.copy_location(ast.Expr(call), joined[last])
                )
                continue
        if appended is not None:
            last = len(joined)
        elif not _is_bookkeeping(statement):
            last = None
        joined.append(statement)
    statements[:] = joined


def _is_shortcut(statement: ast.stmt) -> bool:
    """The test :func:`_shortcut` or :func:`_guarded` writes (Chameleon never calls
    the search by this name)."""
    if not (isinstance(statement, ast.If) and isinstance(statement.test, ast.BoolOp)):
        return False
    search = statement.test.values[-1]
    return (
        isinstance(search, ast.Compare)
        and isinstance(search.left, ast.Call)
        and _is_name(search.left.func, _SEARCH)
    )


def _group_size(statements: list[ast.stmt], index: int) -> int:
    """How many statements from ``index`` make a group :func:`_shortcut` takes (0: none).

    Two shapes: quote, then the append (``tal:content``); or quote, a second
    assignment, the conversion block, then the append (an interpolation)."""
    name = _quoted_name(statements[index])
    if name is None:
        return 0
    rest = statements[index + 1 : index + 4]
    if rest and _is_append(rest[0], name):
        return 2
    if (
        len(rest) == 3
        and _second_assignment(rest[0], name) is not None
        and _is_conversion(rest[1], name)
        and _is_append(rest[2], name)
    ):
        return 4
    return 0


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _is_none(node: ast.AST) -> bool:
    # Chameleon's compiler writes None as the name (load("None")), its snippets
    # as the constant; both unparse to None.
    return (isinstance(node, ast.Constant) and node.value is None) or _is_name(node, "None")


def _is_marker(node: ast.AST) -> bool:
    # The default markers Chameleon passes: None, or its DEFAULT_MARKER object.
    # Neither is ever a str, an int or a float.
    return _is_none(node) or _is_name(node, _MARKER)


def _assigned_name(statement: ast.stmt) -> str | None:
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        return statement.targets[0].id
    return None


def _quoted_name(statement: ast.stmt) -> str | None:
    """``X`` of ``X = __quote(X, quote, entity, default, marker)``."""
    if type(statement) is not ast.Assign or type(statement.value) is not ast.Call:
        return None
    name = _assigned_name(statement)
    if name is None:
        return None
    call = statement.value
    if not (
        isinstance(call, ast.Call)
        and _is_name(call.func, "__quote")
        and len(call.args) == 5
        and not call.keywords
        and _is_name(call.args[0], name)
        and all(isinstance(arg, ast.Constant) or _is_none(arg) for arg in call.args[1:4])
        and _is_marker(call.args[4])
    ):
        return None
    return name


def _second_assignment(statement: ast.stmt, name: str) -> ast.stmt | None:
    """``X = X`` or ``X = '<text>' % (...)`` (text around the value): a str for a str."""
    if _assigned_name(statement) != name:
        return None
    value = statement.value  # type: ignore[attr-defined]
    if _is_name(value, name):
        return statement
    if (
        isinstance(value, ast.BinOp)
        and isinstance(value.op, ast.Mod)
        and isinstance(value.left, ast.Constant)
        and type(value.left.value) is str
        and isinstance(value.right, ast.Tuple)
    ):
        return statement
    return None


def _is_conversion(statement: ast.stmt, name: str) -> bool:
    """``if X is None: pass / elif X is <marker>: X = None / else: <convert X>``."""
    if not (
        isinstance(statement, ast.If)
        and _compares(statement.test, name, ast.Is)
        and len(statement.body) == 1
        and isinstance(statement.body[0], ast.Pass)
        and len(statement.orelse or ()) == 1
    ):
        return False
    branch = statement.orelse[0]
    return (
        isinstance(branch, ast.If)
        and isinstance(branch.test, ast.Compare)
        and _is_name(branch.test.left, name)
        and len(branch.test.ops) == 1
        and isinstance(branch.test.ops[0], ast.Is)
        and _is_marker(branch.test.comparators[0])
        and len(branch.body) == 1
        and _assigned_name(branch.body[0]) == name
        and _is_none(branch.body[0].value)  # type: ignore[attr-defined]
        and _converts_only_other_types(branch.orelse or [], name)
    )


def _converts_only_other_types(statements: list[ast.stmt], name: str) -> bool:
    """The conversion: ``__tt = type(X)``, then a branch for bytes and one for
    everything that is not a str. A str passes it unchanged."""
    if len(statements) != 2 or _assigned_name(statements[0]) != "__tt":
        return False
    kind = statements[0].value  # type: ignore[attr-defined]
    if not (
        isinstance(kind, ast.Call)
        and _is_name(kind.func, "type")
        and len(kind.args) == 1
        and _is_name(kind.args[0], name)
    ):
        return False
    branch = statements[1]
    if not (isinstance(branch, ast.If) and _type_test(branch.test, "bytes", ast.Is)):
        return False
    other = branch.orelse or []
    return (
        len(other) == 1
        and isinstance(other[0], ast.If)
        and _type_test(other[0].test, "str", ast.IsNot)
        and not other[0].orelse
    )


def _type_test(test: ast.expr, type_name: str, op: type[ast.cmpop]) -> bool:
    return (
        isinstance(test, ast.Compare)
        and _is_name(test.left, "__tt")
        and len(test.ops) == 1
        and isinstance(test.ops[0], op)
        and _is_name(test.comparators[0], type_name)
    )


def _compares(test: ast.expr, name: str, op: type[ast.cmpop]) -> bool:
    """``X is None`` (op ``ast.Is``) or ``X is not None`` (``ast.IsNot``)."""
    return (
        isinstance(test, ast.Compare)
        and _is_name(test.left, name)
        and len(test.ops) == 1
        and isinstance(test.ops[0], op)
        and _is_none(test.comparators[0])
    )


def _is_append(statement: ast.stmt, name: str) -> bool:
    """``if X is not None: __append(...)``."""
    return (
        isinstance(statement, ast.If)
        and _compares(statement.test, name, ast.IsNot)
        and not statement.orelse
        and len(statement.body) == 1
        and isinstance(statement.body[0], ast.Expr)
        and isinstance(statement.body[0].value, ast.Call)
        and _is_name(statement.body[0].value.func, "__append")
    )


# The new statements are built node by node (a compile makes dozens a page), and
# share the append they copy with the group: the tree is only unparsed.


def _load(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


def _call(function: str, name: str) -> ast.Call:
    return ast.Call(_load(function), [_load(name)], [])


def _type_is(name: str, type_name: str, op: ast.cmpop) -> ast.Compare:
    """``type(X) is T`` (or ``is not``)."""
    return ast.Compare(_call("type", name), [op], [_load(type_name)])


def _search_is(name: str, op: ast.cmpop) -> ast.Compare:
    """``g_re_needs_escape(X) is None`` (or ``is not``)."""
    return ast.Compare(_call(_SEARCH, name), [op], [ast.Constant(None)])


def _guarded(quote: ast.stmt) -> ast.stmt:
    """``X = __quote(X, ...)`` made only for a value it may change::

        if type(X) is not str or g_re_needs_escape(X) is not None:
            X = __quote(X, ...)

    One value of a text with several (``Page ${n} of ${pages}``) is quoted
    alone and joined after; ``__quote`` hands a str with nothing to escape
    back as it is, so for that value the call is skipped."""
    name = _assigned_name(quote)
    assert name is not None
    test = ast.BoolOp(
        ast.Or(), [_type_is(name, "str", ast.IsNot()), _search_is(name, ast.IsNot())]
    )
    return _located(ast.If(test, [quote], []), quote)


def _shortcut(group: list[ast.stmt]) -> list[ast.stmt]:
    """``group`` behind a test for the values it would append unchanged::

        __tt = type(X)
        if __tt is str and g_re_needs_escape(X) is None:
            <the second assignment, unless it is X = X>
            <the append>
        elif __tt is int or __tt is float:
            X = str(X)
            <the second assignment, unless it is X = X>
            <the append>
        else:
            <group>

    For a str with nothing to escape ``__quote`` hands back the str, the second
    assignment makes a str of a str, the conversion leaves a str alone and the
    append appends it; of an int or a float ``__quote`` makes ``str(X)``.
    """
    name = _assigned_name(group[0])
    assert name is not None
    kind = ast.Assign([ast.Name("__tt", ast.Store())], _call("type", name))
    tail = _tail(group)
    plain = ast.BoolOp(ast.And(), [_tt_is("str"), _search_is(name, ast.Is())])
    number = ast.BoolOp(ast.Or(), [_tt_is("int"), _tt_is("float")])
    convert = ast.Assign([ast.Name(name, ast.Store())], _call("str", name))
    numbers = _located(ast.If(number, [_located(convert, group[0]), *tail], group), group[0])
    return [_located(kind, group[0]), _located(ast.If(plain, tail, [numbers]), group[0])]


def _tail(group: list[ast.stmt]) -> list[ast.stmt]:
    """What ``group`` does with a str it appends unchanged: the second assignment
    (unless it is ``X = X``), then the append."""
    name = _assigned_name(group[0])
    assert name is not None
    append = group[-1].body[0]  # type: ignore[attr-defined]
    second = group[1:2] if len(group) == 4 and not _is_name(group[1].value, name) else []  # type: ignore[attr-defined]
    return [*second, append]


_POSITION = ("lineno", "col_offset", "end_lineno", "end_col_offset")


def _located(node: _Node, like: ast.stmt) -> _Node:
    """``node`` placed where ``like`` is (line 1 if it has no place), with its own
    expressions; the statements it holds keep theirs. Only ``ast.unparse`` reads
    them, and only the line."""
    where = [getattr(like, field, None) for field in _POSITION]
    if where[0] is None:
        where = [1, 0, 1, 0]
    for field, value in zip(_POSITION, where, strict=True):
        setattr(node, field, value)
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.expr):
            ast.fix_missing_locations(ast.copy_location(child, node))
    return node


def _tt_is(type_name: str) -> ast.Compare:
    return ast.Compare(_load("__tt"), [ast.Is()], [_load(type_name)])
