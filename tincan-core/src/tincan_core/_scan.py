"""Walk a webapp tree into an inventory of pages and static files.

The walk is sorted (launch is deterministic), skips dot names, never leaves the
tree through a symlink, and turns loops, dangling links and unreadable entries
into logged warnings instead of aborting.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field

from ._classify import FileKind, classify, is_ignored_name, is_private_dir_name

__all__ = ["Inventory", "WebappFile", "scan_tree"]


@dataclass(frozen=True, slots=True)
class WebappFile:
    relpath: str  # "/"-separated, relative to fsroot, as named in the tree
    path: str  # the real path on disk (symlinks resolved)
    kind: FileKind


@dataclass(slots=True)
class Inventory:
    """Every file found, in sorted order, with its classification."""

    root: str
    files: list[WebappFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def of_kind(self, kind: FileKind) -> list[WebappFile]:
        return [f for f in self.files if f.kind is kind]


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


_HIDDEN_KINDS = (FileKind.PRIVATE, FileKind.NEVER_SERVED, FileKind.IGNORED)


def _leads_to_hidden(root: str, link_relpath: str, path: str, is_dir: bool) -> bool:
    """Whether a symlink's target is something the webapp must never expose.

    The target counts by its own name: a link ``notes.txt`` to ``page.pspx`` or to
    ``WEB-INF/secret.txt`` would otherwise serve source or private data as static
    content. A link to a page is fine only where the link is a page itself.
    """
    target = os.path.relpath(path, root).replace(os.sep, "/")
    if is_dir:
        return classify(target + "/_") in _HIDDEN_KINDS
    kind = classify(target)
    if kind is FileKind.PAGE:
        return classify(link_relpath) is not FileKind.PAGE
    return kind in _HIDDEN_KINDS


def _is_utf8(name: str) -> bool:
    """Whether a file name decoded from bytes was valid UTF-8 (no surrogate escapes).

    Bottle decodes request paths as UTF-8, so no request can ever reach any other name.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(relpath: str) -> str:
    """The name with its undecodable bytes as ``\\xNN``: safe for any log handler."""
    return os.fsencode(relpath).decode("utf-8", "backslashreplace")


def _broken_link_reason(path: str) -> str:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
    return "dangling symlink"


def scan_tree(fsroot: str, *, include_private: bool = False) -> Inventory:
    """Scan ``fsroot``. Private subtrees (a directory whose name starts with ``WEB-INF``
    in any case, at any depth) are skipped unless asked for.

    Warnings are collected in ``Inventory.warnings`` for the caller to log.
    """
    root = os.path.realpath(fsroot)
    inventory = Inventory(root=root)
    active: set[str] = set()  # real paths of the directories being walked (loop guard)

    def warn(relpath: str, reason: str) -> None:
        inventory.warnings.append(f"{relpath}: skipped, {reason}")

    def walk(real_dir: str, rel_dir: str) -> None:
        active.add(real_dir)
        try:
            with os.scandir(real_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            warn(rel_dir or ".", f"cannot read: {exc.strerror or exc}")
            active.discard(real_dir)
            return
        for entry in entries:
            name = entry.name
            if is_ignored_name(name):
                continue
            relpath = f"{rel_dir}/{name}" if rel_dir else name
            if not _is_utf8(name):
                warn(_printable(relpath), "the name is not valid UTF-8")
                continue
            path = entry.path
            try:
                is_link = entry.is_symlink()
                if is_link:
                    if not os.path.exists(entry.path):
                        warn(relpath, _broken_link_reason(entry.path))
                        continue
                    path = os.path.realpath(entry.path)
                    if not _inside(root, path):
                        warn(relpath, "symlink leads outside the webapp")
                        continue
                is_dir = entry.is_dir()
                if is_dir and (path in active or path == root):
                    warn(relpath, "symlink loop")
                    continue
                if is_link and _leads_to_hidden(root, relpath, path, is_dir):
                    warn(relpath, "symlink leads to a private or never-served file")
                    continue
            except OSError as exc:
                warn(relpath, exc.strerror or str(exc))
                continue
            if is_dir:
                if is_private_dir_name(name) and not include_private:
                    continue
                walk(path, relpath)
            elif entry.is_file() or os.path.isfile(path):
                inventory.files.append(WebappFile(relpath, path, classify(relpath)))
        active.discard(real_dir)

    walk(root, "")
    return inventory
