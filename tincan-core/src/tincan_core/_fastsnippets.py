"""Chameleon's code snippets, parsed once a process instead of once a use.

Chameleon writes most of a program from snippets of Python source with
placeholder names (``codegen.template("TARGET = not TARGET", TARGET=...)``):
every use parses the snippet with ``compile()``, defines a ``NodeTransformer``
class and walks the fresh tree with it, putting the given nodes in place of
the placeholder names and ``Builtin`` nodes in place of builtin names. A page
uses a few hundred snippets, nearly all of them the same few dozen texts.

:func:`template` takes the same arguments and gives the same tree: the snippet
is parsed once and kept unchanged, and turned into a function (:func:`_builder`)
that makes a fresh copy of it with the placeholders put in as Chameleon's
transformer puts them (same rules for ``FunctionDef`` names, builtin names,
types and strings, and the same list splicing and field removal as
``ast.NodeTransformer``); :class:`_Expansion` is that transformer's walk. Parsing singletons
(``Load``, ``Add``...) are shared, as ``compile()`` shares them. Whether a name
is a builtin is decided at each use, as Chameleon does. The snippet functions
Chameleon makes when it is imported (``emit_convert`` and the others, closures
over their source) are remade by :func:`rebuilt` from the same source.
"""

from __future__ import annotations

import ast
import builtins
import sys
import textwrap
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from chameleon import codegen as _codegen

from ._templatewarnings import MAY_WARN

__all__ = ["parse_expression", "rebuilt", "template"]

# Parsed snippets by (source, mode). Chameleon's snippet texts are fixed strings
# of its own; the bound only keeps an unexpected stream of texts from growing it.
codegen: Any = _codegen  # its names (parse, Builtin...) looked up at each use, as its own are
_parsed: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {}
_MOST_SNIPPETS = 4096
_NOT_GIVEN = object()
# Python expressions of templates, parsed, by text; bounded, as their number is the
# templates' to decide.
_expressions: dict[str, Any] = {}
_MOST_EXPRESSIONS = 2048

# Classes compile() hands out as one shared instance each (contexts, operators).
_SINGLETONS: frozenset[type] = frozenset(
    cls
    for base in (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)
    for cls in base.__subclasses__()
)

# Values a copy keeps as they are: immutable scalars, and the parsing singletons.
_KEPT: frozenset[type] = frozenset(
    {type(None), int, float, bool, complex, str, bytes, type(Ellipsis), *_SINGLETONS}
)


def template(
    source: str,
    mode: str = "exec",
    is_func: bool = False,
    func_args: Sequence[str] = (),
    func_defaults: tuple[Any, ...] = (),
    **kw: Any,
) -> Any:
    """``chameleon.codegen.template``, with the snippet parsed once a process."""
    assert isinstance(source, str)
    if is_func:

        def wrapper(*vargs: Any, **kwargs: Any) -> Any:
            symbols = dict(zip(func_args, vargs + func_defaults, strict=False))
            symbols.update(kwargs)
            return _expand(source, mode, symbols)

        return wrapper
    symbols = dict(zip(func_args, func_defaults, strict=False))
    symbols.update(kw)
    return _expand(source, mode, symbols)


def rebuilt(function: Any, plain_code: Any) -> Callable[..., Any] | None:
    """The snippet function ``function`` (made by Chameleon's ``template(is_func=True)``,
    whose inner function has code ``plain_code``) made by :func:`template`; ``None``
    if ``function`` is not one."""
    code = getattr(function, "__code__", None)
    if code is not plain_code or function.__closure__ is None:
        return None
    cells = {
        name: cell.cell_contents
        for name, cell in zip(code.co_freevars, function.__closure__, strict=True)
    }
    try:
        source, mode, args, defaults = (cells[n] for n in ("source", "mode", "args", "defaults"))
    except KeyError:
        return None
    made: Callable[..., Any] = template(
        source, mode, is_func=True, func_args=args, func_defaults=defaults
    )
    return made


def _expand(source: str, mode: str, symbols: dict[str, Any]) -> Any:
    key = (source, mode)
    build = _parsed.get(key)
    if build is None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            build = _builder(codegen.parse(textwrap.dedent(source), mode=mode))
        # A text Python warns about (a <?python ?> block's, which Chameleon compiles
        # as a snippet) is parsed at every use, so that every compile warns.
        for found in caught:
            warnings.warn_explicit(found.message, found.category, found.filename, found.lineno)
        if len(_parsed) < _MOST_SNIPPETS and not caught:
            _parsed[key] = build
    return build(symbols).body


def _builder(tree: ast.AST) -> Callable[[dict[str, Any]], Any]:
    """A function of the symbols making what :class:`_Expansion` makes of ``tree``.

    It is one Python expression making one node after the other, so that a use
    costs no walk: node classes, parsing singletons and field values are taken
    from ``tree`` (kept unchanged), each node's attributes given in the order it
    has them. A ``Name`` goes to :meth:`_Expansion._name` and a ``FunctionDef`` to
    :meth:`_Expansion.visit`; the result of a ``Name`` in a list is spliced in
    or left out as ``NodeTransformer`` does, and a field whose ``Name`` gave
    ``None`` is removed.
    """
    values: list[Any] = []

    def value(item: Any) -> str:
        if item is None or type(item) in (int, str):
            return repr(item)  # a constant of the builder's code: the same value
        values.append(item)
        return f"V[{len(values) - 1}]"

    def made(node: Any) -> str:
        cls = node.__class__
        if cls in _SINGLETONS:
            return value(node)
        if cls is ast.Name:
            return f"_name(S, {value(node)})"
        if cls is ast.FunctionDef:
            return f"_visit(S, {value(node)})"
        if not isinstance(node, ast.AST):
            return value(node)
        fields = set(cls._fields)
        parts: list[str] = []
        maybe_none: list[str] = []
        for name, item in node.__dict__.items():
            if name in fields and item.__class__ is list:
                made_item = f"[{', '.join(listed(element) for element in item)}]"
            elif name in fields and isinstance(item, ast.AST):
                if item.__class__ is ast.Name:
                    maybe_none.append(name)
                made_item = made(item)
            else:
                made_item = value(item)
            parts.append(f"{name!r}: {made_item}")
        state = "{" + ", ".join(parts) + "}"
        if maybe_none:
            return f"_node_or_less({value(cls)}, {state}, {value(tuple(maybe_none))})"
        return f"_node({value(cls)}, {state})"

    def listed(item: Any) -> str:
        if not isinstance(item, ast.AST):
            return value(item)
        if item.__class__ in (ast.Name, ast.FunctionDef):
            return f"*_spliced({made(item)})"
        return made(item)

    body = made(tree)
    namespace: dict[str, Any] = {}
    code = compile(f"def build(S):\n    return {body}\n", "<tincan snippet>", "exec")
    exec(code, {"V": tuple(values), **_BUILDER_GLOBALS}, namespace)
    build: Callable[[dict[str, Any]], Any] = namespace["build"]
    return build


def _spliced(result: Any) -> Any:
    """What ``NodeTransformer`` puts into a list for a child visited as ``result``."""
    if result is None:
        return ()
    if isinstance(result, ast.AST):
        return (result,)
    spliced: list[Any] = []
    spliced.extend(result)  # and its TypeError for anything else
    return spliced


def _node(cls: Any, state: dict[str, Any]) -> Any:
    """A node of ``cls`` with attributes ``state``: what ``cls(**state)`` makes (in the
    same order), without the keyword arguments."""
    node = cls.__new__(cls)
    node.__dict__ = state
    return node


def _node_or_less(cls: Any, state: dict[str, Any], names: tuple[str, ...]) -> Any:
    """:func:`_node`, without the fields ``names`` whose child was visited as ``None``."""
    for name in names:
        if state[name] is None:
            del state[name]
    return _node(cls, state)


class _Expansion:
    """One use of a snippet: Chameleon's transformer run over a fresh copy of it."""

    __slots__ = ("symbols",)

    def __init__(self, symbols: dict[str, Any]) -> None:
        self.symbols = symbols

    def visit(self, node: ast.AST) -> Any:
        cls = node.__class__
        if cls is ast.Name:
            return self._name(node)  # type: ignore[arg-type]
        if cls is ast.FunctionDef and node.name in self.symbols:  # type: ignore[attr-defined]
            return self._function(node)  # type: ignore[arg-type]
        if cls in _SINGLETONS:
            return node
        return self._generic(node)

    def _generic(self, node: ast.AST) -> ast.AST:
        """``NodeTransformer.generic_visit`` of a copy of ``node``."""
        cls = node.__class__
        state = dict(node.__dict__)
        for field in cls._fields:
            old = state.get(field, _NOT_GIVEN)
            if old is _NOT_GIVEN:
                old = getattr(node, field, _NOT_GIVEN)
                if old is _NOT_GIVEN:
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
                state[field] = new
            elif isinstance(old, ast.AST):
                replaced = self.visit(old)
                if replaced is None:
                    state.pop(field, None)
                else:
                    state[field] = replaced
        copy = cls.__new__(cls)
        copy.__dict__.update(state)
        return copy

    def _name(self, node: ast.Name) -> Any:
        return _name(self.symbols, node)

    def _function(self, node: ast.FunctionDef) -> ast.FunctionDef:
        name = self.symbols[node.name]
        assert isinstance(name, str)
        body = [self.visit(stmt) for stmt in node.body]
        fields: dict[str, Any] = {
            "name": name,
            "args": _copy(node.args),
            "body": body,
            "decorator_list": _copy(node.decorator_list),
            "returns": _copy(node.returns),
        }
        if sys.version_info >= (3, 12):
            fields["type_params"] = _copy(node.type_params)
        return ast.FunctionDef(**fields)


def _name(symbols: dict[str, Any], node: ast.Name) -> Any:
    """Chameleon's ``visit_Name`` of a fresh copy of ``node``: the symbol's node, a
    ``Builtin`` or ``Symbol`` for a builtin or a type, a name for a string."""
    value = symbols.get(node.id, _NOT_GIVEN)
    if value is _NOT_GIVEN:
        if node.id == "None" or getattr(builtins, node.id, None) is not None:
            return codegen.Builtin(node.id)
        return _copy(node)
    if isinstance(value, type) or value in codegen.reverse_builtin_map:
        name = codegen.reverse_builtin_map.get(value)
        if name is not None:
            return codegen.Builtin(name)
        return codegen.Symbol(value)
    if isinstance(value, str):
        value = codegen.load(value)
    return value


def _copy(value: Any) -> Any:
    """A fresh copy of part of a parsed snippet, as a new parse would make it."""
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if not isinstance(value, ast.AST):
        return value
    cls = value.__class__
    if cls in _SINGLETONS:
        return value
    kept = _KEPT
    copy = cls.__new__(cls)
    copy.__dict__ = {
        name: item if item.__class__ in kept else _copy(item)
        for name, item in value.__dict__.items()
    }
    return copy


def parse_expression(parse: Callable[[str], Any], string: str) -> Any:
    """``parse(string)`` (an expression's tree, as ``PythonExpr.parse`` makes it),
    parsed once a process for each text and copied for each use.

    A text the parser might warn about (a backslash: an invalid escape sequence;
    a number run into letters: ``1if x else 2``) is parsed at every use, so that
    every compile warns as plain Chameleon's does.
    """
    tree = _expressions.get(string)
    if tree is None:
        tree = parse(string)  # a SyntaxError is raised each time, as before
        if len(_expressions) < _MOST_EXPRESSIONS and not MAY_WARN.search(string):
            _expressions[string] = tree
    return _copy(tree)


_BUILDER_GLOBALS: dict[str, Any] = {
    "_name": _name,
    "_visit": lambda symbols, node: _Expansion(symbols).visit(node),
    "_spliced": _spliced,
    "_node": _node,
    "_node_or_less": _node_or_less,
}
