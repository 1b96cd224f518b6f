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
``deepcopy`` does, so the copy has the same shape as Chameleon's. Chameleon's
tree walkers (the name rewriting and the code generator, ``ast.NodeTransformer``
subclasses) get :func:`_visit` and :func:`_generic_visit`, the same walk as
``ast.NodeTransformer``'s without its per-node generator and method-name work.

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


# -- walking trees --------------------------------------------------------------------
# ``ast.NodeTransformer`` walks a tree through a generator of fields and a method
# name built for every node; Chameleon's visitors walk every expression and the
# whole module so. These two are the same walk with less overhead per node.

_visit_names: dict[type, str] = {}
_plain_constants: dict[type, bool] = {}
_DEPRECATED_CONSTANT_VISITORS = ("Num", "Str", "Bytes", "NameConstant", "Ellipsis")


def _constant_is_leaf(visitor: type) -> bool:
    """Whether ``visitor`` visits a ``Constant`` as ``NodeVisitor`` does with no
    deprecated ``visit_Num``-style methods: a walk of a node without children."""
    known = _plain_constants.get(visitor)
    if known is None:
        known = _plain_constants[visitor] = getattr(
            visitor, "visit_Constant", None
        ) is ast.NodeVisitor.visit_Constant and not any(
            hasattr(visitor, "visit_" + name) for name in _DEPRECATED_CONSTANT_VISITORS
        )
    return known


def _visit(self: Any, node: ast.AST) -> Any:
    """``NodeVisitor.visit``: the node's ``visit_<class>`` method, else ``generic_visit``."""
    cls = node.__class__
    name = _visit_names.get(cls)
    if name is None:
        name = _visit_names[cls] = "visit_" + cls.__name__
    if cls is ast.Constant and _constant_is_leaf(self.__class__):
        return self.generic_visit(node)
    method = getattr(self, name, None)
    if method is None:
        return self.generic_visit(node)
    return method(node)


def _generic_visit(self: Any, node: ast.AST) -> ast.AST:
    """``NodeTransformer.generic_visit``: each child visited and replaced by the result
    (``None`` removes it, a list in a list is spliced in)."""
    for field in node._fields:
        try:
            old = getattr(node, field)
        except AttributeError:
            continue
        if isinstance(old, list):
            new: list[Any] = []
            for item in old:
                if isinstance(item, ast.AST):
                    item = self.visit(item)
                    if item is None:
                        continue
                    if not isinstance(item, ast.AST):
                        new.extend(item)
                        continue
                new.append(item)
            old[:] = new
        elif isinstance(old, ast.AST):
            replaced = self.visit(old)
            if replaced is None:
                delattr(node, field)
            else:
                setattr(node, field, replaced)
    return node


# (class, attribute, replacement): what install() sets; what was there is kept in
# _original to be put back by uninstall().
def _patches() -> list[tuple[type, str, Any]]:
    from chameleon import astutil, codegen

    walkers = [astutil.NodeTransformerBase, codegen.TemplateCodeGenerator]
    return [
        (astutil.NameLookupRewriteVisitor, "__call__", _visitor_call),
        *((cls, "visit", _visit) for cls in walkers),
        *((cls, "generic_visit", _generic_visit) for cls in walkers),
    ]


_original: dict[tuple[type, str], Any] = {}
_MISSING_ATTRIBUTE = object()


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
    try:
        from chameleon import astutil, codegen
    except ImportError:
        return False
    parts = [
        getattr(astutil, "NameLookupRewriteVisitor", None),
        getattr(astutil, "NodeTransformerBase", None),
        getattr(codegen, "TemplateCodeGenerator", None),
    ]
    return all(isinstance(cls, type) and issubclass(cls, ast.NodeTransformer) for cls in parts)


def install() -> bool:
    """Use the faster compile if this Chameleon is one it was checked against.

    Returns whether it is in use. Idempotent.
    """
    if _original:
        return True
    if not _applicable():
        return False
    for cls, attribute, replacement in _patches():
        _original[(cls, attribute)] = vars(cls).get(attribute, _MISSING_ATTRIBUTE)
        setattr(cls, attribute, replacement)
    return True


def uninstall() -> None:
    """Compile as plain Chameleon does again."""
    for (cls, attribute), was in _original.items():
        if was is _MISSING_ATTRIBUTE:
            delattr(cls, attribute)
        else:
            setattr(cls, attribute, was)
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
