"""The texts an expression can give, when its syntax alone settles them.

``${repeat.row.odd and 'odd' or 'even'}`` is always ``'odd'`` or ``'even'``,
whatever ``repeat.row.odd`` is: ``and`` and ``or`` give one of their operands,
and an operand that is a constant is known. When every text an interpolation
can show is known and none holds a character HTML escapes, the page shows the
value as it is, and :mod:`._fastprogram` writes the append without the type
test and the escape search (once a row, in a loop).

:func:`known_texts` follows Python's rules for what an expression evaluates to:

* a ``str`` constant is itself (the program is unparsed and compiled again, so
  a constant of a ``str`` subclass runs as the ``str``);
* ``a if t else b`` is ``a`` or ``b``;
* ``a or b or c`` is the first operand that is true, or else the last one: a
  true value of ``a`` or ``b``, or any value of ``c``;
* ``a and b and c`` is the first operand that is false, or else the last one:
  a false value of ``a`` or ``b``, or any value of ``c``.

Anything else is unknown, and so is an operator whose operand can give an
unknown value in the place that counts. The operands are still evaluated as
Python evaluates them (the expression is not changed), so a value whose truth
raises an error raises it as before.
"""

from __future__ import annotations

import ast
import re

__all__ = ["known_texts", "shown_as_is"]

# What Chameleon 4.6's escape search looks for (the module-level
# g_re_needs_escape of its programs): a text without any of them is shown as it is.
_NEEDS_ESCAPE = re.compile("[&<>\"']").search


def known_texts(node: ast.expr) -> frozenset[str] | None:
    """Every value ``node`` can evaluate to, if each is a known ``str``; else None."""
    found = _values(node)
    return None if found is None else found[0]


def shown_as_is(node: ast.expr) -> bool:
    """Whether ``node`` can only give texts that need no escaping (at least one)."""
    texts = known_texts(node)
    return bool(texts) and all(_NEEDS_ESCAPE(text) is None for text in texts)  # type: ignore[union-attr]


_Values = tuple[frozenset[str], frozenset[str], frozenset[str]]  # (all, true ones, false ones)


def _values(node: ast.expr) -> _Values | None:
    kind = type(node)
    if kind is ast.Constant:
        value = node.value  # type: ignore[attr-defined]
        # Chameleon's compiler writes a text of the template as its Token, a str
        # that knows its place; the program is unparsed, so it runs as the str.
        if not isinstance(value, str):
            return None
        value = str(value)
        every = frozenset((value,))
        return (every, every, frozenset()) if value else (every, frozenset(), every)
    if kind is ast.IfExp:
        body, orelse = _values(node.body), _values(node.orelse)  # type: ignore[attr-defined]
        if body is None or orelse is None:
            return None
        return body[0] | orelse[0], body[1] | orelse[1], body[2] | orelse[2]
    if kind is ast.BoolOp:
        return _bool_op(node)  # type: ignore[arg-type]
    return None


def _bool_op(node: ast.BoolOp) -> _Values | None:
    # An operand before the last one gives the result only when it is true (or)
    # or false (and): only those of its values count.
    last = _values(node.values[-1])
    if last is None:
        return None
    stops_on_truth = isinstance(node.op, ast.Or)
    every, true, false = set(last[0]), set(last[1]), set(last[2])
    for operand in node.values[:-1]:
        found = _values(operand)
        # What it can stop with: a true value (or) or a false one (and).
        if found is None:
            given = _stopping(operand, stops_on_truth)
        else:
            given = found[1] if stops_on_truth else found[2]
        if given is None:
            return None
        every |= given
        (true if stops_on_truth else false).update(given)
    return frozenset(every), frozenset(true), frozenset(false)


def _stopping(operand: ast.expr, on_truth: bool) -> frozenset[str] | None:
    """The true values (``on_truth``) or the false ones an operand of unknown
    value can give, when they are known: ``x and 'a'`` is true only as ``'a'``."""
    if type(operand) is not ast.BoolOp:
        return None
    inner = operand
    if isinstance(inner.op, ast.Or) == on_truth:
        return None  # an or inside an or (written with brackets): not followed
    # ``a and b`` is true only as its last operand (every other one was true and
    # passed over); ``a or b`` is false only as its last operand.
    last = _values(inner.values[-1])
    if last is None:
        return None
    return last[1] if on_truth else last[2]
