"""The template variables a code-behind class exports, as far as its source tells.

The class itself is the one the launch imported, so its class attributes and
properties are read from it (``dir()``, with the default ``export()``'s own rule).
What its methods assign to ``self`` is read from the source of each class in its
MRO, with ``ast``. Where that is no proof, the answer is ``None`` with the reason:
a custom ``export()``, ``__getattr__``, attributes set through ``setattr`` with a
computed name or ``self.__dict__``, ``self`` handed to other code (which may set
attributes on it), or a class whose source cannot be read.
"""

from __future__ import annotations

import ast
import inspect
import os
import sys
from dataclasses import dataclass
from functools import lru_cache

from ._check_template import PYTHON_BUILTINS
from ._pages import BasePage, _class_export_names

__all__ = ["PageNames", "page_names"]

# Builtins that may take the page object without setting anything on it.
_HARMLESS_CALLS = PYTHON_BUILTINS - {"setattr", "vars", "delattr", "exec", "eval"}


@dataclass(frozen=True, slots=True)
class PageNames:
    class_name: str
    names: frozenset[str] | None  # None: cannot be told (see reason)
    reason: str = ""
    methods: frozenset[str] = frozenset()  # public callables: page.x(), not x
    hidden: frozenset[str] = frozenset()  # attributes the class keeps from templates
    module_globals: frozenset[str] = frozenset()  # not variables either


@lru_cache(maxsize=256)
def _module_tree(path: str, mtime_ns: int) -> ast.Module | None:
    try:
        with open(path, "rb") as f:
            return ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return None


def _class_node(klass: type) -> ast.ClassDef | str:
    """The ``ClassDef`` of ``klass`` in its module's source, or why there is none."""
    module = sys.modules.get(klass.__module__)
    path = getattr(module, "__file__", None)
    if not path or not path.endswith(".py") or "<locals>" in klass.__qualname__:
        return f"the source of {klass.__qualname__} cannot be read"
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return f"{path} cannot be read"
    tree = _module_tree(path, mtime)
    if tree is None:
        return f"{path} cannot be parsed"
    body: list[ast.stmt] = tree.body
    node: ast.ClassDef | None = None
    for part in klass.__qualname__.split("."):
        node = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == part), None)
        if node is None:
            return f"class {klass.__qualname__} is not defined plainly in {path}"
        body = node.body
    assert node is not None
    return node


def _self_name(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Name) and decorator.id == "staticmethod":
            return None
    args = [*function.args.posonlyargs, *function.args.args]
    return args[0].arg if args else None


def _assigned(
    function: ast.FunctionDef | ast.AsyncFunctionDef, classes: frozenset[str]
) -> set[str] | str:
    """Attributes a method assigns on its first argument, or why that is unknowable.

    ``classes``: the names of the classes of the MRO; ``Base.__init__(self, ...)``
    runs code whose assignments are read anyway.
    """
    me = _self_name(function)
    if me is None:
        return set()
    found: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id != me:
                continue
            if node.attr in ("__dict__", "__setattr__"):
                return f"{function.name}() uses {me}.{node.attr}"
            if isinstance(node.ctx, ast.Store):
                found.add(node.attr)
        elif isinstance(node, ast.Call):
            args = [*node.args, *(k.value for k in node.keywords)]
            if not any(isinstance(a, ast.Name) and a.id == me for a in args):
                continue
            callee = node.func.id if isinstance(node.func, ast.Name) else None
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id in classes
            ):
                continue
            if callee == "setattr" and len(node.args) >= 2:
                name = node.args[1]
                if isinstance(name, ast.Constant) and isinstance(name.value, str):
                    found.add(name.value)
                    continue
                return f"{function.name}() calls setattr() with a computed name"
            if callee not in _HARMLESS_CALLS:
                called = ast.unparse(node.func)
                return f"{function.name}() passes {me} to {called}(), which may set attributes"
    return found


@lru_cache(maxsize=1024)
def _instance_names(klass: type, classes: frozenset[str]) -> frozenset[str] | str:
    node = _class_node(klass)
    if isinstance(node, str):
        return node
    found: set[str] = set()
    for item in ast.walk(node):
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = _assigned(item, classes)
            if isinstance(names, str):
                return f"{klass.__qualname__}.{names}"
            found |= names
    return frozenset(found)


def _defined_by(cls: type, name: str) -> type | None:
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass
    return None


def page_names(cls: type[BasePage]) -> PageNames:
    """The variables an instance of ``cls`` exports to its template (``page`` too)."""
    hidden = frozenset(getattr(cls, "_hidden_names", frozenset()))
    module = sys.modules.get(cls.__module__)
    module_globals = (
        frozenset(name for name in vars(module) if not name.startswith("_"))
        if module is not None
        else frozenset()
    )
    methods = frozenset(
        name
        for name in dir(cls)
        if not name.startswith("_")
        and not isinstance(inspect.getattr_static(cls, name), property)
        and callable(getattr(cls, name, None))
    )
    base = PageNames(cls.__qualname__, None, "", methods, hidden, module_globals)

    def unknown(reason: str) -> PageNames:
        return PageNames(cls.__qualname__, None, reason, methods, hidden, module_globals)

    owner = _defined_by(cls, "export")
    if owner is not BasePage:
        name = owner.__qualname__ if owner is not None else cls.__qualname__
        return unknown(f"{name} defines its own export()")
    for special in ("__getattr__", "__getattribute__"):
        owner = _defined_by(cls, special)
        if owner is not None and owner is not object:
            return unknown(f"{owner.__qualname__} defines {special}()")
    names = {"page", *_class_export_names(cls)}
    classes = frozenset(klass.__name__ for klass in cls.__mro__)
    for klass in cls.__mro__:
        if klass is object or klass is BasePage:
            continue
        instance = _instance_names(klass, classes)
        if isinstance(instance, str):
            return unknown(instance)
        names |= {n for n in instance if not n.startswith("_") and n not in hidden}
    return PageNames(
        base.class_name, frozenset(names), "", methods - names, hidden, module_globals
    )
