"""The one classification of webapp files, shared by the route builder and the installer.

Every rule about what may be routed, served or installed lives here, so a file the
server would not serve can never be installed, and vice versa.
"""

from __future__ import annotations

import enum
import sys

__all__ = [
    "INDEX_NAMES",
    "PAGE_SUFFIX",
    "FileKind",
    "classify",
    "is_ignored_name",
    "is_private_dir_name",
]

PAGE_SUFFIX = ".pspx"
PRIVATE_DIR = "WEB-INF"
NEVER_SERVED_SUFFIXES = frozenset({".pspx", ".py", ".pyc", ".pyo", ".pt"})
NEVER_SERVED_DIRS = frozenset({"__pycache__"})
# Index candidates of a directory, in order of precedence.
INDEX_NAMES = ("index.pspx", "index.html", "index.htm")

# Page recognition follows the platform's file-name semantics; the never-served
# check is always case-insensitive (a served "X.PY" would leak source).
_PAGES_CASE_INSENSITIVE = sys.platform in ("darwin", "win32", "cygwin")


class FileKind(enum.Enum):
    """What a file of the webapp tree is."""

    PAGE = "page"  # a .pspx file: one dynamic route
    PRIVATE = "private"  # under a WEB-INF directory at any depth
    NEVER_SERVED = "never-served"  # source, macro, bytecode: never routed, served or installed
    IGNORED = "ignored"  # a dot name somewhere on the path
    STATIC = "static"  # everything else: served only when static serving is on


def is_ignored_name(name: str) -> bool:
    """Names starting with a dot are ignored everywhere."""
    return name.startswith(".")


def is_private_dir_name(name: str) -> bool:
    """``WEB-INF`` at any depth is private; the match ignores case, so no spelling leaks it."""
    return name.upper() == PRIVATE_DIR


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def classify(relpath: str) -> FileKind:
    """Classify a file by its ``/``-separated path relative to the webapp root.

    The check is purely on names; the caller is responsible for having found the
    file inside the tree (symlinks resolved, dot entries skipped).
    """
    parts = relpath.split("/")
    # Private first: everything below any WEB-INF is private, dot names included.
    for part in parts[:-1]:
        if is_private_dir_name(part):
            return FileKind.PRIVATE
    for part in parts:
        if is_ignored_name(part):
            return FileKind.IGNORED
    for part in parts[:-1]:
        if part.lower() in NEVER_SERVED_DIRS:
            return FileKind.NEVER_SERVED
    name = parts[-1]
    if name.endswith(PAGE_SUFFIX) or (
        _PAGES_CASE_INSENSITIVE and name.lower().endswith(PAGE_SUFFIX)
    ):
        return FileKind.PAGE
    if _suffix(name).lower() in NEVER_SERVED_SUFFIXES:
        return FileKind.NEVER_SERVED
    return FileKind.STATIC
