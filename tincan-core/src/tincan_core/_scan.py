"""Walk a webapp tree into an inventory of pages and static files.

The walk is sorted (launch is deterministic), skips dot names, never leaves the
tree through a symlink, and turns loops, dangling links and unreadable entries
into logged warnings instead of aborting.
"""

from __future__ import annotations

import logging
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


def _leads_to_hidden(root: str, path: str, is_dir: bool) -> bool:
    """Whether a symlink's target is something the webapp must never expose."""
    if path == root:
        return True  # a link to the root itself is a loop
    target = os.path.relpath(path, root).replace(os.sep, "/")
    kind = classify(target + "/_" if is_dir else target)
    return kind in (FileKind.PRIVATE, FileKind.NEVER_SERVED, FileKind.IGNORED)


def scan_tree(fsroot: str, *, include_private: bool = False) -> Inventory:
    """Scan ``fsroot``. Private (``WEB-INF``) subtrees are skipped unless asked for.

    Warnings are collected in ``Inventory.warnings`` for the caller to log.
    """
    root = os.path.realpath(fsroot)
    inventory = Inventory(root=root)
    active: set[str] = set()  # real paths of the directories being walked (loop guard)

    def walk(real_dir: str, rel_dir: str) -> None:
        active.add(real_dir)
        try:
            with os.scandir(real_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            inventory.warnings.append(f"{rel_dir or '.'}: skipped, cannot read: {exc.strerror}")
            active.discard(real_dir)
            return
        for entry in entries:
            name = entry.name
            if is_ignored_name(name):
                continue
            relpath = f"{rel_dir}/{name}" if rel_dir else name
            path = entry.path
            try:
                if entry.is_symlink():
                    path = os.path.realpath(entry.path)
                    if not _inside(root, path):
                        inventory.warnings.append(f"{relpath}: skipped, symlink leads outside the webapp")
                        continue
                    if not os.path.exists(path):
                        inventory.warnings.append(f"{relpath}: skipped, dangling symlink")
                        continue
                is_dir = entry.is_dir()
                if entry.is_symlink() and _leads_to_hidden(root, path, is_dir):
                    inventory.warnings.append(
                        f"{relpath}: skipped, symlink leads to a private or never-served file"
                    )
                    continue
            except OSError as exc:
                inventory.warnings.append(f"{relpath}: skipped, {exc.strerror or exc}")
                continue
            if is_dir:
                if is_private_dir_name(name) and not include_private:
                    continue
                if path in active:
                    inventory.warnings.append(f"{relpath}: skipped, symlink loop")
                    continue
                walk(path, relpath)
            elif entry.is_file() or os.path.isfile(path):
                inventory.files.append(WebappFile(relpath, path, classify(relpath)))
        active.discard(real_dir)

    walk(root, "")
    return inventory
