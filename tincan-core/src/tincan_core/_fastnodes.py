"""Small pieces the program rewrites share (:mod:`._fastprogram`,
:mod:`._fastloop`, :mod:`._fastattr`): Chameleon's nested statement lists made
flat, and a syntax-tree node copied with some of its fields changed."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any, TypeVar

__all__ = ["flat", "flattened", "with_fields"]

_Node = TypeVar("_Node", bound=ast.AST)


def flat(items: list[Any]) -> Iterator[Any]:
    """The items of ``items``, with each list in it (Chameleon's statement lists
    may hold lists of statements, which the unparser writes in their place)
    replaced by its own items."""
    for item in items:
        if type(item) is list:
            yield from flat(item)
        else:
            yield item


def flattened(statements: list[Any]) -> list[Any]:
    """``statements`` itself, made flat in place if it holds lists."""
    if list in map(type, statements):
        statements[:] = flat(statements)
    return statements


def with_fields(node: _Node, fields: dict[str, Any]) -> _Node:
    """A new node of ``node``'s class, with its attributes and then ``fields``: the
    rewrites build new nodes where they change one, as Chameleon's tree may share
    the old one elsewhere. (The class is not called: some need arguments.)"""
    kind: Any = type(node)
    copy: _Node = kind.__new__(kind)
    vars(copy).update(vars(node))
    vars(copy).update(fields)
    return copy
