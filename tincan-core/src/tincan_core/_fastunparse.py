"""``ast.unparse`` with less overhead a node, for the Python versions it was checked on.

Chameleon turns each template's syntax tree into source text with
``ast.unparse`` and compiles that text. The unparser is a ``NodeVisitor``: every
node costs a method name built from its class name, and every bracket and
block a generator-based context manager. :func:`unparse` runs the standard
library's own unparser (every ``visit_*`` method is its own) with three
things changed, none of which changes the text:

* its walk looks up each class's ``visit_*`` method once;
* brackets (``delimit``, ``require_parens``) and blocks (``block``) are
  small context manager objects doing what the generators do;
* a node's type comment is read without its line number when the module has
  no ``# type: ignore`` comments (the number only looks one of those up), so
  a tree whose statements were never given line numbers unparses as well.

The walk and the context managers are tied to the unparser's private methods,
so :func:`available` is true only for the Python versions in
:data:`CHECKED_PYTHONS`.
"""

from __future__ import annotations

import ast
import sys
from contextlib import nullcontext
from typing import Any

__all__ = ["CHECKED_PYTHONS", "available", "unparse"]

# (major, minor) versions whose ast._Unparser this was checked against.
CHECKED_PYTHONS = frozenset({(3, 11)})
_PARTS = ("traverse", "visit", "block", "delimit", "delimit_if", "require_parens", "fill")


def available() -> bool:
    """Whether :func:`unparse` may be used on this Python."""
    plain = getattr(ast, "_Unparser", None)
    return (
        sys.version_info[:2] in CHECKED_PYTHONS
        and isinstance(plain, type)
        and all(callable(getattr(plain, name, None)) for name in _PARTS)
        and isinstance(getattr(ast, "_Precedence", None), type)
    )


class _Block:
    """``_Unparser.block``: a colon (and ``extra``) and one more level of indent."""

    __slots__ = ("extra", "unparser")

    def __init__(self, unparser: Any, extra: str | None) -> None:
        self.unparser = unparser
        self.extra = extra

    def __enter__(self) -> None:
        unparser = self.unparser
        unparser._source.append(":")
        if self.extra:
            unparser._source.append(self.extra)
        unparser._indent += 1

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            self.unparser._indent -= 1


_NO_PARENS = nullcontext()
_methods: dict[type, Any] = {}
_AVAILABLE = available()

if _AVAILABLE:
    _TEST = ast._Precedence.TEST  # type: ignore[attr-defined]

    class _Unparser(ast._Unparser):  # type: ignore[name-defined,misc]
        def traverse(self, node: Any) -> None:
            if isinstance(node, list):
                for item in node:
                    self.traverse(item)
                return
            cls = node.__class__
            method: Any = _methods.get(cls)
            if method is None:
                method = getattr(_Unparser, "visit_" + cls.__name__, _Unparser.generic_visit)
                _methods[cls] = method
            method(self, node)

        def fill(self, text: str = "") -> None:
            source = self._source
            if source:
                source.append("\n")
            source.append("    " * self._indent + text)

        def delimit(self, start: str, end: str) -> Any:
            # A ``_Delimit`` writes to the buffer in use when it is entered.
            return _DelimitHere(self, start, end)

        def require_parens(self, precedence: Any, node: Any) -> Any:
            if self._precedences.get(node, _TEST) > precedence:
                return _DelimitHere(self, "(", ")")
            return _NO_PARENS

        def block(self, *, extra: str | None = None) -> Any:
            return _Block(self, extra)

        def get_type_comment(self, node: Any) -> str | None:
            if self._type_ignores:
                result: str | None = super().get_type_comment(node)
                return result
            comment = node.type_comment
            if comment is not None:
                return f" # type: {comment}"
            return None


class _DelimitHere:
    """``_Unparser.delimit`` on whatever buffer the unparser writes to when entered."""

    __slots__ = ("end", "start", "unparser")

    def __init__(self, unparser: Any, start: str, end: str) -> None:
        self.unparser = unparser
        self.start = start
        self.end = end

    def __enter__(self) -> None:
        self.unparser._source.append(self.start)

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            self.unparser._source.append(self.end)


def unparse(tree: ast.AST) -> str:
    """``ast.unparse(tree)``: the same text (see :func:`available`)."""
    if not _AVAILABLE:
        return ast.unparse(tree)
    text: str = _Unparser().visit(tree)
    return text
