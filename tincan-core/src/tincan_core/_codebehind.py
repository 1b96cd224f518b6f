"""Loading code-behind modules and finding the page class in them."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from types import ModuleType

from ._errors import TinCanError
from ._pages import BasePage

__all__ = ["CodeBehindLoader", "find_page_class"]


def _error_line(exc: BaseException, path: str) -> int | None:
    """The line of ``path`` where an import-time exception happened, if any."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return exc.lineno
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == path:
            line = lineno
    return line


class CodeBehindLoader:
    """Imports each code-behind file once per launch.

    Modules get a name derived from their path, are registered in ``sys.modules``
    (dataclasses and pickling need that) and leave bytecode where Python puts it:
    ``__pycache__``, with Python's own staleness checks. A read-only tree is fine;
    Python then compiles in memory.
    """

    def __init__(self) -> None:
        self._modules: dict[str, ModuleType | TinCanError] = {}

    def load(self, path: str, display_name: str) -> ModuleType:
        cached = self._modules.get(path)
        if cached is None:
            cached = self._import(path, display_name)
            self._modules[path] = cached
        if isinstance(cached, TinCanError):
            raise cached
        return cached

    def _import(self, path: str, display_name: str) -> ModuleType | TinCanError:
        name = "tincan_codebehind_" + hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            return TinCanError("cannot load code-behind", display_name)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            error = TinCanError(
                f"code-behind failed to load: {type(exc).__name__}: {exc}",
                display_name,
                _error_line(exc, path),
            )
            error.__cause__ = exc
            return error
        return module


def find_page_class(module: ModuleType, base: type[BasePage], display_name: str) -> type[BasePage]:
    """The deepest subclass of ``base`` among the module's attributes."""
    found: dict[type[BasePage], int] = {}
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, base):
            found[value] = value.__mro__.index(base)
    if not found:
        raise TinCanError(f"no subclass of {base.__name__} found", display_name)
    depth = max(found.values())
    deepest = sorted(cls.__name__ for cls, d in found.items() if d == depth)
    if len(deepest) > 1:
        raise TinCanError(
            f"ambiguous {base.__name__} classes: {', '.join(deepest)}", display_name
        )
    return next(cls for cls, d in found.items() if d == depth)
