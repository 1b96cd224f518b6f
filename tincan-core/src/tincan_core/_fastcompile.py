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

More parts, each making what Chameleon makes:

* Code snippets (``codegen.template``) and the Python expressions of
  templates (``PythonExpr.parse``) are parsed once a process and copied for
  each use (:mod:`._fastsnippets`).
* ``Compiler.visit`` joins runs of text and of token references as its
  ``itertools.groupby`` does, without grouping everything else
  (:func:`_compiler_visit`).
* The module's tree goes to text through :func:`._fastunparse.unparse` (the
  standard library's unparser with a cheaper walk, for the Python versions
  it was checked on), and then the compiler's ``ast.fix_missing_locations``
  calls are skipped: locations were made only for ``ast.unparse``, which
  writes none of them (:func:`_ast_unlocated`).
* Interpolations of a str with nothing to escape, an int or a float skip
  Chameleon's ``__quote`` call and conversion (:mod:`._fastprogram`), and a
  ``tal:repeat`` body whose variable nothing can change reads it from the loop
  (:mod:`._fastloop`), and reads the attributes a loop's expression starts
  with without a ``lookup_attr`` call each (:mod:`._fastattr`); in such a
  loop, the loop's position (``repeat.row.odd``) is computed from the loop's
  count (:mod:`._fastrepeat`), and a value that can only be texts with nothing
  to escape is appended as it is (:mod:`._fastconst`). These change the
  program, not what it renders.
* While a template compiles, the garbage collector runs less often
  (:mod:`._gcpace`): a compile makes hundreds of thousands of short-lived
  nodes, and the collections they trigger were about a sixth of its time.

The generated source, without the interpolation test, is compared with plain
Chameleon's for the conformance corpus and Chameleon's own test templates
(``tests/test_fastcompile.py``, ``tests/test_chameleon_conformance.py``), and
both render what plain Chameleon renders.

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
import inspect
import os
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import _gcpace

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
# How clone() makes a new instance of a class (see _making), cached per class.
_makers: dict[type, int] = {}
_DEEPCOPY, _CALL, _NEW, _TOKEN, _REDUCE = 0, 1, 2, 3, 4
_MISSING = object()


def _reduces_positionally() -> bool:
    """Whether ``ast.AST.__reduce__`` gives a node's class arguments to be called with
    (``None`` for each field up to the first one unset, from Python 3.13 on), rather
    than none at all."""
    probe = ast.Name.__new__(ast.Name)
    probe.id = "x"
    return bool(probe.__reduce__()[1])


_POSITIONAL = _reduces_positionally()


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


def _token_like_deepcopy(cls: type) -> bool:
    """Whether ``cls`` is Chameleon's ``Token`` (a ``str`` with slots) and ``deepcopy``
    copies it by the reduction :func:`_clone_token` repeats."""
    from chameleon import tokenize

    return (
        cls is getattr(tokenize, "Token", None)
        and issubclass(cls, str)
        and "__dict__" not in dir(cls)
        and cls not in copy._deepcopy_dispatch  # type: ignore[attr-defined]
        and cls not in copyreg.dispatch_table
        and not hasattr(cls, "__deepcopy__")
        and not hasattr(cls, "__setstate__")
        and cls.__reduce_ex__ is object.__reduce_ex__
        and cls.__reduce__ is object.__reduce__
        and getattr(cls, "__getnewargs__", None) is str.__getnewargs__
        and getattr(cls, "__getstate__", None) is getattr(object, "__getstate__", _MISSING)
    )


def _clone_token(value: Any, memo: dict[int, Any]) -> Any:
    """What ``deepcopy`` makes of a ``Token``: ``cls.__new__(cls, *__getnewargs__())``
    (``copyreg.__newobj__``), then each slot of its state set, copied."""
    state = value.__getstate__()
    if not (isinstance(state, tuple) and len(state) == 2 and state[0] is None):
        return copy.deepcopy(value, memo)
    cls = value.__class__
    token = cls.__new__(cls, *value.__getnewargs__())
    memo[id(value)] = token
    for name, item in state[1].items():
        setattr(token, name, item if item.__class__ in _ATOMIC else _clone(item, memo))
    return token


def _making(cls: type) -> int:
    """``_DEEPCOPY``: leave ``cls`` to ``deepcopy``; ``_CALL``: a copy starts as ``cls()``,
    as ``deepcopy`` starts it; ``_REDUCE``: as ``cls(*node.__reduce__()[1])``, as
    ``deepcopy`` starts it where the reduction has arguments (a stdlib node, from Python
    3.13 on); ``_NEW``: as ``cls.__new__(cls)``, the same thing for Chameleon's nodes,
    whose ``__init__`` does nothing when given nothing, and only sets the fields that the
    copied state then sets again when given ``None`` for them."""
    known = _makers.get(cls)
    if known is None:
        known = _DEEPCOPY
        if _token_like_deepcopy(cls):
            known = _TOKEN
        elif _rebuilt_like_deepcopy(cls):
            known = _REDUCE if _POSITIONAL else _CALL
            from chameleon import astutil

            fields = getattr(cls, "_fields", None)
            if getattr(cls, "__init__", None) is astutil.Node.__init__ and isinstance(
                fields, tuple
            ):
                known = _NEW
        _makers[cls] = known
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
    atomic = _ATOMIC
    if cls is list:
        items: list[Any] = []
        memo[key] = items
        for item in value:
            items.append(item if item.__class__ in atomic else _clone(item, memo))
        return items
    making = _makers.get(cls)
    if making is None:
        making = _making(cls)
    if making == _DEEPCOPY:
        return copy.deepcopy(value, memo)
    if making == _TOKEN:
        return _clone_token(value, memo)
    if making == _NEW:
        node = cls.__new__(cls)
    elif making == _CALL:
        node = cls()
    else:
        node = cls(*value.__reduce__()[1])
    memo[key] = node
    state = value.__dict__
    if state:
        copied: dict[str, Any] = {}
        memo[id(state)] = copied
        for name, item in state.items():
            copied[name] = item if item.__class__ in atomic else _clone(item, memo)
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

_DEPRECATED_CONSTANT_VISITORS = ("Num", "Str", "Bytes", "NameConstant", "Ellipsis")
# (visitor class, node class): the function visiting such a node, as visit() finds it.
# Chameleon makes a visitor class for every template it compiles, hence the bound.
_methods: dict[tuple[type, type], Any] = {}
_MOST_METHODS = 4096


def _constant_is_leaf(visitor: type) -> bool:
    """Whether ``visitor`` visits a ``Constant`` as ``NodeVisitor`` does with no
    deprecated ``visit_Num``-style methods: a walk of a node without children."""
    return getattr(visitor, "visit_Constant", None) is ast.NodeVisitor.visit_Constant and not any(
        hasattr(visitor, "visit_" + name) for name in _DEPRECATED_CONSTANT_VISITORS
    )


def _class_function(visitor: type, name: str) -> Any:
    """``visitor``'s method ``name`` as a function of (visitor, node)."""
    for klass in visitor.__mro__:
        if name in vars(klass):
            found = vars(klass)[name]
            if isinstance(found, types.FunctionType):
                return found
            break
    return lambda self, node: getattr(self, name)(node)


def _method(key: tuple[type, type]) -> Any:
    """What ``NodeVisitor.visit`` calls for a node of class ``key[1]`` visited by an
    instance of ``key[0]`` (its ``visit_<class>``, else its ``generic_visit``)."""
    visitor, cls = key
    name = "visit_" + cls.__name__
    if (cls is ast.Constant and _constant_is_leaf(visitor)) or getattr(
        visitor, name, None
    ) is None:
        name = "generic_visit"
    found = _class_function(visitor, name)
    if len(_methods) >= _MOST_METHODS:
        _methods.clear()
    _methods[key] = found
    return found


def _visit(self: Any, node: ast.AST) -> Any:
    """``NodeVisitor.visit``: the node's ``visit_<class>`` method, else ``generic_visit``."""
    key = (self.__class__, node.__class__)
    method = _methods.get(key) or _method(key)
    return method(self, node)


# Node classes none of whose fields is a data descriptor: for those, a field found in
# the instance's __dict__ is what getattr() finds.
_fields_are_plain: dict[type, bool] = {}


def _plain_fields(cls: type) -> bool:
    plain = not any(
        hasattr(type(inspect.getattr_static(cls, field, None)), "__set__")
        for field in getattr(cls, "_fields", ())
    )
    if len(_fields_are_plain) < _MOST_METHODS:
        _fields_are_plain[cls] = plain
    return plain


def _generic_visit(self: Any, node: ast.AST) -> ast.AST:
    """``NodeTransformer.generic_visit``: each child visited and replaced by the result
    (``None`` removes it, a list in a list is spliced in)."""
    visitor = self.__class__
    if visitor.visit is not _visit:  # a walker with a visit() of its own: the plain walk
        result: ast.AST = ast.NodeTransformer.generic_visit(self, node)
        return result
    methods = _methods
    cls = node.__class__
    plain = _fields_are_plain.get(cls)
    if plain is None:
        plain = _plain_fields(cls)
    state = node.__dict__ if plain else {}
    for field in cls._fields:
        old = state.get(field, _MISSING)
        if old is _MISSING:
            try:
                old = getattr(node, field)
            except AttributeError:
                continue
        if isinstance(old, list):
            new: list[Any] = []
            for item in old:
                if isinstance(item, ast.AST):
                    key = (visitor, item.__class__)
                    item = (methods.get(key) or _method(key))(self, item)
                    if item is None:
                        continue
                    if not isinstance(item, ast.AST):
                        new.extend(item)
                        continue
                new.append(item)
            old[:] = new
        elif isinstance(old, ast.AST):
            key = (visitor, old.__class__)
            replaced = (methods.get(key) or _method(key))(self, old)
            if replaced is None:
                delattr(node, field)
            else:
                setattr(node, field, replaced)
    return node


def _compiler_visit(self: Any, node: Any) -> Any:
    """``Compiler.visit``: the statements of ``node``'s ``visit_<class>``, each run of
    ``EmitText`` joined into one and each run of ``TokenRef`` cut to its last, as
    Chameleon's ``itertools.groupby`` does, without grouping the other statements."""
    if node is None:
        return ()
    from chameleon import compiler as _compiler

    compiler: Any = _compiler
    visitor = getattr(self, "visit_" + type(node).__name__)
    emit_text, token_ref = compiler.EmitText, compiler.TokenRef
    result: list[Any] = []
    run: list[Any] = []
    run_class: Any = None
    for item in visitor(node):
        cls = item.__class__
        if cls is run_class:
            run.append(item)
            continue
        if run_class is not None:
            _end_run(result, run_class, run, compiler)
            run_class = None
        if cls is emit_text or cls is token_ref:
            run_class = cls
            run = [item]
        else:
            result.append(item)
    if run_class is not None:
        _end_run(result, run_class, run, compiler)
    return result


def _end_run(result: list[Any], cls: Any, run: list[Any], compiler: Any) -> None:
    if cls is not compiler.EmitText:
        result.append(run[-1])
        return
    if len(run) == 1:
        only = run[0]
        if type(vars(only).get("s")) is str and len(vars(only)) == 1:
            # What joining its one text would make: an EmitText of the same str. Only
            # the code generator reads these nodes, and only their text.
            result.append(only)
            return
    result.append(compiler.EmitText(compiler.join(node.s for node in run)))


# (class, attribute, replacement): what install() sets; what was there is kept in
# _original to be put back by uninstall().
def _patches() -> list[tuple[Any, str, Any]]:
    from chameleon import astutil, codegen, tales
    from chameleon import compiler as _compiler
    from chameleon import template as chameleon_template

    compiler: Any = _compiler

    from . import _fastsnippets, _fastunparse

    walkers = [astutil.NodeTransformerBase, codegen.TemplateCodeGenerator]
    plain_snippet = codegen.template("pass", is_func=True).__code__
    snippet_functions = [
        (compiler, name, made)
        for name, value in sorted(vars(compiler).items())
        if (made := _fastsnippets.rebuilt(value, plain_snippet)) is not None
    ]
    patches: list[tuple[Any, str, Any]] = [
        (astutil.NameLookupRewriteVisitor, "__call__", _visitor_call),
        *((cls, "visit", _visit) for cls in walkers),
        *((cls, "generic_visit", _generic_visit) for cls in walkers),
        *((module, "template", _fastsnippets.template) for module in (codegen, compiler, tales)),
        *snippet_functions,
        (compiler.Compiler, "visit", _compiler_visit),
        (
            compiler.Compiler,
            "visit_CodeBlock",
            _noting_code_blocks(vars(compiler.Compiler)["visit_CodeBlock"]),
        ),
        (tales.PythonExpr, "parse", _parsing_once(vars(tales.PythonExpr)["parse"])),
        (
            chameleon_template.BaseTemplate,
            "_cook",
            _paced(vars(chameleon_template.BaseTemplate)["_cook"]),
        ),
    ]
    if getattr(codegen, "unparse", None) is ast.unparse:
        fast = _fastunparse.available() and compiler.ast is ast
        unparse = _fastunparse.unparse if fast else ast.unparse
        patches.append((codegen, "unparse", _rewriting(unparse)))
        if fast:
            patches.append((compiler, "ast", _ast_unlocated()))
    return patches


# Whether the template this thread compiles has a <?python ?> code block: set as
# Chameleon compiles one, read (and cleared) when its program is unparsed, and
# cleared as each compile starts (a compile that failed half-way leaves nothing).
_compiling = threading.local()


def _rewriting(unparse: Any) -> Any:
    """``unparse`` of a program rewritten by :mod:`._fastprogram` first."""
    from . import _fastprogram

    @functools.wraps(unparse)
    def _unparse(tree: Any) -> str:
        if isinstance(tree, ast.Module):
            code_blocks = getattr(_compiling, "code_blocks", False)
            _compiling.code_blocks = False
            text = getattr(_compiling, "text", None)
            _fastprogram.rewrite(tree, code_blocks=code_blocks, text=text)
        return str(unparse(tree))

    return _unparse


def _noting_code_blocks(visit: Any) -> Any:
    """``Compiler.visit_CodeBlock``, noting that the program has a code block."""

    @functools.wraps(visit)
    def visit_CodeBlock(self: Any, node: Any) -> Any:
        _compiling.code_blocks = True
        return visit(self, node)

    return visit_CodeBlock


def _parsing_once(parse: Any) -> Any:
    """``PythonExpr.parse``, each expression text parsed once a process."""
    from . import _fastsnippets

    @functools.wraps(parse)
    def _parse(self: Any, string: str) -> Any:
        return _fastsnippets.parse_expression(lambda text: parse(self, text), string)

    return _parse


def _paced(cook: Any) -> Any:
    """``BaseTemplate._cook`` with fewer garbage collections while it compiles, and
    the template's text noted for :func:`_rewriting`."""

    @functools.wraps(cook)
    def _cook(self: Any, body: Any, *args: Any, **kwargs: Any) -> Any:
        _compiling.code_blocks = False
        # The template's text, for the loop rewrite's check of the names it uses.
        _compiling.text = body if isinstance(body, str) else None
        try:
            with _gcpace.compiling():
                return cook(self, body, *args, **kwargs)
        finally:
            _compiling.text = None

    return _cook


def _unlocated(node: ast.AST) -> ast.AST:
    """In place of ``ast.fix_missing_locations`` for the compiler: see :func:`_ast_unlocated`."""
    return node


def _ast_unlocated() -> types.ModuleType:
    """The ``ast`` module as Chameleon's compiler sees it: all of it, except that
    ``fix_missing_locations`` does nothing. The compiler gives the tree it builds
    locations only for ``ast.unparse``, which writes none of them, and reads them
    only for type comments, which :func:`_fastunparse.unparse` reads without them."""
    module = types.ModuleType(ast.__name__, ast.__doc__)
    vars(module).update(vars(ast))
    module.fix_missing_locations = _unlocated  # type: ignore[attr-defined]
    return module


_original: dict[tuple[Any, str], Any] = {}
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
        from chameleon import astutil, codegen, compiler, tales
    except ImportError:
        return False
    parts = [
        getattr(astutil, "NameLookupRewriteVisitor", None),
        getattr(astutil, "NodeTransformerBase", None),
        getattr(codegen, "TemplateCodeGenerator", None),
    ]
    snippets = [getattr(module, "template", None) for module in (codegen, compiler, tales)]
    return (
        all(isinstance(cls, type) and issubclass(cls, ast.NodeTransformer) for cls in parts)
        and all(function is snippets[0] and callable(function) for function in snippets)
        and callable(getattr(getattr(compiler, "Compiler", None), "visit", None))
        and callable(vars(getattr(compiler, "Compiler", object)).get("visit_CodeBlock"))
        and callable(vars(getattr(tales, "PythonExpr", object)).get("parse"))
        and all(hasattr(compiler, name) for name in ("EmitText", "TokenRef", "join"))
    )


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
