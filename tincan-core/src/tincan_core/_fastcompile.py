"""A faster Chameleon compile, for the Chameleon versions it was checked against.

Chameleon copies the syntax tree of every expression statement it emits before
rewriting the names in it (``astutil.NameLookupRewriteVisitor``), with
``copy.deepcopy``. That generic copy is about a third of a page's compile: for
each node it looks up a copier, asks for ``__deepcopy__``, reduces the node and
rebuilds it from the reduction. :func:`clone` makes the same copy directly: a
node of a class that ``deepcopy`` would rebuild from ``__reduce_ex__`` is
rebuilt the same way (a new instance, its ``__dict__`` copied into it), lists
are copied, immutable scalars are kept, and anything else goes to
``copy.deepcopy`` with the same memo. Objects reached twice are copied once, as
``deepcopy`` does, so the copy has the same shape as Chameleon's.

This reaches into Chameleon's internals, so it is installed only for the
versions in :data:`CHECKED_VERSIONS` (each proven by the conformance corpus,
``tests/test_chameleon_conformance.py``, rendering identically with and without
it) and when Chameleon still has the parts it replaces; any other version
compiles as plain Chameleon does. ``TINCAN_CHAMELEON_SPEEDUP=0`` turns it off.
"""

from __future__ import annotations

import ast
import copy
import copyreg
import functools
import importlib.metadata
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "CHECKED_VERSIONS",
    "chameleon_version",
    "clone",
    "disabled",
    "install",
    "installed",
    "uninstall",
]

# Chameleon releases whose compiler this module was checked against.
CHECKED_VERSIONS = frozenset({"4.6.0"})
_ENV = "TINCAN_CHAMELEON_SPEEDUP"

# Immutable scalars: deepcopy hands these back as they are.
_ATOMIC: frozenset[type] = frozenset(
    {type(None), int, float, bool, complex, str, bytes, type(Ellipsis)}
)
# AST classes checked to be copied by deepcopy through AST.__reduce__ (by
# instantiating the class and updating its __dict__), cached per class.
_rebuilt: dict[type, bool] = {}
_MISSING = object()


def _rebuilt_like_deepcopy(cls: type) -> bool:
    """Whether ``deepcopy`` copies instances of ``cls`` as :func:`clone` does."""
    known = _rebuilt.get(cls)
    if known is None:
        known = _rebuilt[cls] = (
            issubclass(cls, ast.AST)
            and cls not in copy._deepcopy_dispatch  # type: ignore[attr-defined]
            and not hasattr(cls, "__deepcopy__")
            and not hasattr(cls, "__setstate__")
            and cls.__reduce_ex__ is object.__reduce_ex__
            and cls.__reduce__ is ast.AST.__reduce__
            and cls not in copyreg.dispatch_table
        )
    return known


def clone(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """``copy.deepcopy(value, memo)`` for syntax trees, made directly."""
    if memo is None:
        memo = {}
    return _clone(value, memo)


def _clone(value: Any, memo: dict[int, Any]) -> Any:
    cls = value.__class__
    if cls in _ATOMIC:
        return value
    key = id(value)
    done = memo.get(key, _MISSING)
    if done is not _MISSING:
        return done
    if cls is list:
        items: list[Any] = []
        memo[key] = items
        for item in value:
            items.append(_clone(item, memo))
        return items
    if not _rebuilt_like_deepcopy(cls):
        return copy.deepcopy(value, memo)
    node = cls()
    memo[key] = node
    state = value.__dict__
    if state:
        copied: dict[str, Any] = {}
        memo[id(state)] = copied
        for name, item in state.items():
            copied[name] = _clone(item, memo)
        node.__dict__.update(copied)
    return node


def _visitor_call(self: Any, node: ast.AST) -> ast.AST:
    """``NameLookupRewriteVisitor.__call__`` with :func:`clone` for its deepcopy."""
    result: ast.AST = self.visit(_clone(node, {}))
    return result


_original: dict[str, Any] = {}


@functools.cache
def chameleon_version() -> str | None:
    """The installed Chameleon's version (looked up once: it reads the package metadata)."""
    try:
        return importlib.metadata.version("chameleon")
    except importlib.metadata.PackageNotFoundError:
        return None


def _chameleon_version() -> str | None:
    return chameleon_version()


def _applicable() -> bool:
    if os.environ.get(_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if _chameleon_version() not in CHECKED_VERSIONS:
        return False
    from chameleon import astutil

    visitor = getattr(astutil, "NameLookupRewriteVisitor", None)
    return visitor is not None and "__call__" in vars(visitor)


def install() -> bool:
    """Use the faster compile if this Chameleon is one it was checked against.

    Returns whether it is in use. Idempotent.
    """
    if _original:
        return True
    if not _applicable():
        return False
    from chameleon import astutil

    visitor = astutil.NameLookupRewriteVisitor
    _original["visitor_call"] = vars(visitor)["__call__"]
    visitor.__call__ = _visitor_call  # type: ignore[method-assign]
    return True


def uninstall() -> None:
    """Compile as plain Chameleon does again."""
    if not _original:
        return
    from chameleon import astutil

    astutil.NameLookupRewriteVisitor.__call__ = _original.pop(  # type: ignore[method-assign]
        "visitor_call"
    )
    _original.clear()


def installed() -> bool:
    """Whether the faster compile is in use."""
    return bool(_original)


@contextmanager
def disabled() -> Iterator[None]:
    """Plain Chameleon meanwhile (what tests compare against), as it was afterwards."""
    was = installed()
    uninstall()
    try:
        yield
    finally:
        if was:
            install()
