"""Keep a copied webapp's ``WEB-INF/lib`` modules its own, whatever ``sys.path`` holds.

A test session often has the source webapp's ``WEB-INF/lib`` on ``sys.path``
(pytest's ``pythonpath`` setting), so that tests can import its modules. A
copy launched from that source appends its own ``WEB-INF/lib`` to the path,
behind the source's: its code-behind would import the source's modules, whose
state outlives the test and which a test's overlay of the file cannot change.

While a copy is launched, :class:`LibShadow` takes the source's library
directory off ``sys.path`` and its modules out of ``sys.modules``; afterwards
it puts both back where they were.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["LibShadow"]


def _real(entry: str) -> str:
    return os.path.realpath(entry) if entry else ""


class LibShadow:
    """The source's ``WEB-INF/lib`` hidden from imports until :meth:`restore`."""

    def __init__(self, source: Path) -> None:
        lib = os.path.realpath(source / "WEB-INF" / "lib")
        self.paths: list[tuple[int, str]] = [
            (index, entry) for index, entry in enumerate(sys.path) if _real(entry) == lib
        ]
        for index, _ in reversed(self.paths):
            del sys.path[index]
        self.modules: dict[str, ModuleType] = {}
        if not self.paths:
            return
        # module file names start with the path entry they were found under
        prefixes = tuple({lib + os.sep, *(os.path.abspath(e) + os.sep for _, e in self.paths)})
        for name, module in list(sys.modules.items()):
            filename = getattr(module, "__file__", None)
            if isinstance(filename, str) and filename.startswith(prefixes):
                self.modules[name] = sys.modules.pop(name)

    def restore(self) -> None:
        """Put the directory back at its place on ``sys.path``, and its modules back
        (the copy's modules of the same names have been dropped by then)."""
        for index, entry in self.paths:
            sys.path.insert(min(index, len(sys.path)), entry)
        for name, module in self.modules.items():
            sys.modules.setdefault(name, module)
        self.paths, self.modules = [], {}
