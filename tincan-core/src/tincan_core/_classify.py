"""The one classification of webapp files, shared by the route builder, the installer
and the generated web-server configurations.

The rules are data: :data:`NAME_RULES`, an ordered list of regular expressions over
a file's ``/``-separated path. :func:`classify` applies them in order, and
tincan-static writes the very same patterns into its nginx and Apache
configurations, so a file the server would not serve can never be installed or
served by a web server, and vice versa.

The patterns use only syntax that Python's ``re`` and PCRE (nginx, Apache) read
the same way, and they are matched with ASCII case folding, as PCRE does without
its UTF mode.
"""

from __future__ import annotations

import enum
import re
import sys
from dataclasses import dataclass, field

__all__ = [
    "BACKUP_SUFFIXES",
    "INDEX_NAMES",
    "NAME_RULES",
    "NEVER_SERVED_DIRS",
    "NEVER_SERVED_SUFFIXES",
    "PAGE_SUFFIX",
    "PRIVATE_DIR",
    "SOURCE_SUFFIXES",
    "FileKind",
    "NameRule",
    "classify",
    "is_ignored_name",
    "is_private_dir_name",
]

PAGE_SUFFIX = ".pspx"
# Any name that starts with this, in any case, is private: WEB-INF.bak/, Web-Inf-old/,
# and WEB-INF.zip too, since a URL does not say whether it names a file or a directory.
PRIVATE_DIR = "WEB-INF"
# Sources: never served when they appear anywhere among a name's suffixes
# (index.py~, page.pspx.bak, x.py.js), in any case.
SOURCE_SUFFIXES = (".pspx", ".py", ".pyc", ".pyo", ".pyw", ".pyi", ".pyx", ".pt")
# Backup and editor copies, judged the same way (style.css.orig, notes.bak.txt).
BACKUP_SUFFIXES = (".bak", ".orig", ".rej", ".swp", ".swo")
NEVER_SERVED_SUFFIXES = frozenset(SOURCE_SUFFIXES + BACKUP_SUFFIXES)
NEVER_SERVED_DIRS = frozenset({"__pycache__"})
# Index candidates of a directory, in order of precedence.
INDEX_NAMES = ("index.pspx", "index.html", "index.htm")

# Page recognition follows the platform's file-name semantics; the never-served
# check is always case-insensitive (a served "X.PY" would leak source).
_PAGES_CASE_INSENSITIVE = sys.platform in ("darwin", "win32", "cygwin")


class FileKind(enum.Enum):
    """What a file of the webapp tree is."""

    PAGE = "page"  # a .pspx file: one dynamic route
    PRIVATE = "private"  # a name starting with WEB-INF (any case) on its path, at any depth
    NEVER_SERVED = "never-served"  # source, macro, bytecode, backup and editor copies
    IGNORED = "ignored"  # a dot name somewhere on the path
    STATIC = "static"  # everything else: served only when static serving is on


@dataclass(frozen=True, slots=True)
class NameRule:
    """One rule of the classification.

    A path (webapp-relative, or a URL path: the patterns anchor at ``/``) for
    which ``pattern`` finds a match (``re.search``) is of ``kind``, unless an
    earlier rule of :data:`NAME_RULES` matched first; a path no rule matches is
    static. ``ignore_case`` folds ASCII letters only. ``directories``: the rule
    also matches directory names on the path (otherwise only the last name).
    """

    kind: FileKind
    pattern: str
    ignore_case: bool
    directories: bool
    what: str  # for people: a comment line in generated configurations
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        flags = re.ASCII | (re.IGNORECASE if self.ignore_case else 0)
        object.__setattr__(self, "regex", re.compile(self.pattern, flags))


def _suffix_words(suffixes: frozenset[str]) -> str:
    words = sorted(s.removeprefix(".") for s in suffixes)
    # Plain words only: they go into PCRE patterns unescaped.
    assert all(w.isascii() and w.isalnum() for w in words), words
    return "|".join(words)


def _name_rules(pages_ignore_case: bool) -> tuple[NameRule, ...]:
    suffixes = _suffix_words(NEVER_SERVED_SUFFIXES)
    (cache_dir,) = NEVER_SERVED_DIRS
    rule = NameRule
    return (
        # Private first: everything below any WEB-INF is private, dot names included.
        rule(FileKind.PRIVATE, rf"(^|/){PRIVATE_DIR}", ignore_case=True, directories=True,
             what=f"private: any name starting with {PRIVATE_DIR}, at any depth"),
        rule(FileKind.IGNORED, r"(^|/)\.", ignore_case=False, directories=True,
             what="dot names, at any depth"),
        rule(FileKind.NEVER_SERVED, rf"(^|/){cache_dir}(/|$)", ignore_case=True,
             directories=True, what=f"bytecode: {cache_dir} directories"),
        # Pages before the never-served names: x.pspx is a page, x.pspx.bak is not.
        rule(FileKind.PAGE, rf"\.{PAGE_SUFFIX[1:]}$", ignore_case=pages_ignore_case,
             directories=False, what=f"pages: names ending in {PAGE_SUFFIX}"),
        # A suffix anywhere among the last name's suffixes ([^/]: not in a directory
        # name), a trailing "~", or "#name#".
        rule(FileKind.NEVER_SERVED, rf"(\.({suffixes})(\.[^/]*)?|~|(^|/)#[^/]*#)$",
             ignore_case=True, directories=False,
             what="sources, backup and editor copies: x.py, x.pspx.bak, x.py.js, x~, #x#"),
    )  # fmt: skip


NAME_RULES = _name_rules(_PAGES_CASE_INSENSITIVE)
_PRIVATE_RULE = NAME_RULES[0]


def is_ignored_name(name: str) -> bool:
    """Names starting with a dot are ignored everywhere."""
    return name.startswith(".")


def is_private_dir_name(name: str) -> bool:
    """A directory whose name starts with ``WEB-INF`` in any case is private, at any depth."""
    return _PRIVATE_RULE.regex.search(name) is not None


def classify(relpath: str) -> FileKind:
    """Classify a file by its ``/``-separated path relative to the webapp root.

    The check is purely on names; the caller is responsible for having found the
    file inside the tree (symlinks resolved, dot entries skipped).
    """
    for rule in NAME_RULES:
        if rule.regex.search(relpath):
            return rule.kind
    return FileKind.STATIC
