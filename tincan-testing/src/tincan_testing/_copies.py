"""Copies of webapp directories that last the whole test session, and beyond.

TinCan keys compiled templates by file path, so a fresh copy for every test
would compile every template of the tree again (about a second for a small
site). A :class:`SessionCopy` stays at one path instead; before each use it is
brought back to the source plus the test's files, rewriting only what differs.
Its compiled-template cache and bytecode stay, so a launch compiles only the
templates that changed.

In pytest's cache directory (see ``_cachedir``) a copy also outlives the
session: it keeps its path, and a manifest of what it wrote, so the next
session's first launch loads compiled templates instead of compiling them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tincan_core import CACHE_DIRNAME

__all__ = ["CopyPool", "SessionCopy", "WebappFiles", "checked_relpath", "wanted_tree"]

WebappFiles = Mapping[str, str | bytes | None]

_BYTECODE_DIR = "__pycache__"
# What the launch itself writes into a tree: the copy keeps its own.
_OWN_CACHE = CACHE_DIRNAME


def checked_relpath(relpath: str) -> str:
    parts = relpath.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"webapp file names are relative paths without . or ..: {relpath!r}")
    return relpath


@dataclass(frozen=True)
class _Wanted:
    """What one path of the copy should be."""

    kind: str  # "dir", "link" or "file"
    origin: object = None  # link target; for a file, what its content comes from
    source: Path | None = None  # a source file to copy (with its times and mode)
    data: bytes | None = None  # or the bytes to write


def _stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    # ctime cannot be set back, so any change a test makes to a file shows here
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _source_tree(source: Path) -> dict[str, _Wanted]:
    wanted: dict[str, _Wanted] = {}

    def walk(directory: str, prefix: str) -> None:
        with os.scandir(directory) as entries:
            for entry in entries:
                relpath = prefix + entry.name
                if entry.is_symlink():
                    wanted[relpath] = _Wanted("link", os.readlink(entry.path))
                elif entry.is_dir():
                    if entry.name == _OWN_CACHE:
                        continue  # keyed by the source's paths: no use to the copy
                    wanted[relpath] = _Wanted("dir")
                    walk(entry.path, relpath + "/")
                else:
                    st = entry.stat(follow_symlinks=False)
                    origin = ("source", entry.path, *_stat_key(st))
                    wanted[relpath] = _Wanted("file", origin, source=Path(entry.path))

    walk(str(source), "")
    return wanted


def _drop(wanted: dict[str, _Wanted], relpath: str) -> None:
    below = relpath + "/"
    for key in [k for k in wanted if k == relpath or k.startswith(below)]:
        del wanted[key]


def wanted_tree(source: Path, files: WebappFiles | None, encoding: str) -> dict[str, _Wanted]:
    """What a copy of ``source`` with ``files`` on top holds, path by path."""
    if not source.is_dir():
        raise FileNotFoundError(f"copy_from: {source} is not a directory")
    wanted = _source_tree(source)
    for relpath, content in (files or {}).items():
        checked_relpath(relpath)
        if content is None:
            _drop(wanted, relpath)
            continue
        parts = relpath.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if wanted.get(parent, _Wanted("file")).kind != "dir":
                _drop(wanted, parent)
                wanted[parent] = _Wanted("dir")
        data = content.encode(encoding) if isinstance(content, str) else bytes(content)
        _drop(wanted, relpath)
        wanted[relpath] = _Wanted("file", ("data", hashlib.sha256(data).hexdigest()), data=data)
    wanted.setdefault("WEB-INF", _Wanted("dir"))
    return wanted


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "link"
    return "dir" if stat.S_ISDIR(mode) else "file"


def _present(root: Path) -> dict[str, os.stat_result]:
    """Everything in the copy but its template cache, not following links."""
    found: dict[str, os.stat_result] = {}

    def walk(directory: str, prefix: str) -> None:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name == _OWN_CACHE and entry.is_dir(follow_symlinks=False):
                    continue
                relpath = prefix + entry.name
                found[relpath] = entry.stat(follow_symlinks=False)
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, relpath + "/")

    walk(str(root), "")
    return found


def _is_own_bytecode(relpath: str, mode: int, wanted: Mapping[str, _Wanted]) -> bool:
    """Bytecode Python wrote for the copy, beside a directory that stays: kept, since
    Python checks it against its source (modification time and size)."""
    parts = relpath.split("/")
    if stat.S_ISDIR(mode) and parts[-1] == _BYTECODE_DIR:
        holder = parts[:-1]
    elif stat.S_ISREG(mode) and len(parts) > 1 and parts[-2] == _BYTECODE_DIR:
        if not parts[-1].endswith(".pyc"):
            return False
        holder = parts[:-2]
    else:
        return False
    return not holder or getattr(wanted.get("/".join(holder)), "kind", None) == "dir"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _forget_bytecode(root: Path, relpath: str) -> None:
    """Remove the bytecode of a module whose source is rewritten or removed.

    Python trusts bytecode whose recorded source mtime (whole seconds) and size
    match: a module rewritten within the same second at the same size would
    otherwise run as its previous version.
    """
    directory, _, name = relpath.rpartition("/")
    cache = root / directory / _BYTECODE_DIR
    stem = name[: -len(".py")] + "."
    try:
        names = os.listdir(cache)
    except OSError:
        return
    for cached in names:
        if cached.startswith(stem) and cached.endswith(".pyc"):
            (cache / cached).unlink(missing_ok=True)


_MANIFEST_FORMAT = "tincan-testing-copy-1"


class SessionCopy:
    """One copy of ``source`` at ``root``, reset to the source (plus files) before each use.

    With a ``manifest`` file, what the copy wrote is read from it and saved to
    it by :meth:`save`, so that a later session trusts the files still as they
    were written (same inode, size, modification and change times) and rewrites
    only the others.
    """

    def __init__(self, source: Path, root: Path, manifest: Path | None = None) -> None:
        self.source = source
        self.root = root
        self.manifest = manifest
        self.users = 0
        self.wanted: dict[str, _Wanted] | None = None  # what the last reset made it
        self._written: dict[str, tuple[object, tuple[int, int, int, int]]] = {}
        if manifest is not None:
            self._written = self._load(manifest)

    def _load(self, manifest: Path) -> dict[str, tuple[object, tuple[int, int, int, int]]]:
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            if data.get("format") != _MANIFEST_FORMAT or data.get("source") != str(self.source):
                return {}
            # JSON gives lists back for the tuples (of strings and numbers) saved
            return {
                relpath: (tuple(origin), tuple(key))
                for relpath, (origin, key) in data["written"].items()
            }
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return {}  # no manifest, or not one we can trust: the copy is rewritten

    def save(self) -> None:
        """Record what the copy holds for the next session (if it has a manifest)."""
        if self.manifest is None:
            return
        data = {"format": _MANIFEST_FORMAT, "source": str(self.source), "written": self._written}
        temporary = self.manifest.with_name(self.manifest.name + ".tmp")
        try:
            temporary.write_text(json.dumps(data), encoding="utf-8")
            os.replace(temporary, self.manifest)
        except OSError:
            pass  # the next session rewrites the copy, nothing worse

    def reset(self, files: WebappFiles | None = None, *, encoding: str = "utf-8") -> Path:
        """Make the copy the source with ``files`` on top (``None``: leave that path out)."""
        return self.apply(wanted_tree(self.source, files, encoding))

    def _changes(self, wanted: Mapping[str, _Wanted]) -> tuple[list[str], set[str]]:
        """What to remove, and what to create or rewrite, to make the copy ``wanted``."""
        present = _present(self.root) if self.root.is_dir() else {}
        stale = [
            relpath for relpath, st in present.items()
            if (relpath not in wanted and not _is_own_bytecode(relpath, st.st_mode, wanted))
            or (relpath in wanted and wanted[relpath].kind != _kind(st.st_mode))
        ]
        todo = set()
        for relpath, want in wanted.items():
            st = present.get(relpath)
            if st is None or want.kind != _kind(st.st_mode):
                todo.add(relpath)
            elif want.kind == "link":
                if os.readlink(self.root / relpath) != want.origin:
                    todo.add(relpath)
            elif want.kind == "file" and self._written.get(relpath) != (
                want.origin, _stat_key(st)
            ):
                todo.add(relpath)
        return stale, todo

    def is_current(self, wanted: Mapping[str, _Wanted]) -> bool:
        """Whether the copy is ``wanted`` as it stands (nothing changed it since)."""
        stale, todo = self._changes(wanted)
        return not stale and not todo

    def apply(self, wanted: dict[str, _Wanted]) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        stale, todo = self._changes(wanted)
        for relpath in stale + sorted(todo):
            if relpath.endswith(".py"):
                _forget_bytecode(self.root, relpath)
        for relpath in sorted(stale, reverse=True):  # children before their directories
            self._written.pop(relpath, None)
            _remove(self.root / relpath)
        for relpath in sorted(todo):  # directories before what they hold
            want, path = wanted[relpath], self.root / relpath
            if want.kind == "dir":
                path.mkdir(exist_ok=True)
                continue
            path.unlink(missing_ok=True)
            if want.kind == "link":
                os.symlink(str(want.origin), path)
            elif want.source is not None:
                shutil.copy2(want.source, path, follow_symlinks=False)
                self._written[relpath] = (want.origin, _stat_key(path.lstat()))
            else:
                assert want.data is not None
                path.write_bytes(want.data)
                self._written[relpath] = (want.origin, _stat_key(path.lstat()))
        self.wanted = wanted
        return self.root


class CopyPool:
    """The session's copies, by source directory.

    A copy in use serves another request only for the very same tree, and only
    while nothing has changed it: two launches of one tree in a test share it.
    ``make_directory`` gives a new directory for a copy; ``make_slot``, when
    given, a directory kept between sessions for a copy of that source (or
    ``None`` when there is none to be had).
    """

    def __init__(
        self,
        make_directory: Callable[[], Path],
        make_slot: Callable[[Path], Path | None] | None = None,
    ) -> None:
        self._make_directory = make_directory
        self._make_slot = make_slot
        self._copies: dict[Path, list[SessionCopy]] = {}

    def _new_copy(self, source: Path) -> SessionCopy:
        name = source.name or "webapp"
        slot = self._make_slot(source) if self._make_slot is not None else None
        if slot is None:
            return SessionCopy(source, self._make_directory() / name)
        return SessionCopy(source, slot / name, manifest=slot / "manifest.json")

    def save(self) -> None:
        """Record every copy's state for the next session (end of the session)."""
        for copies in self._copies.values():
            for copy in copies:
                copy.save()

    def acquire(
        self, source: Path, files: WebappFiles | None = None, *, encoding: str = "utf-8"
    ) -> SessionCopy:
        """A copy of ``source`` with ``files`` on top, ready to launch."""
        wanted = wanted_tree(source, files, encoding)
        copies = self._copies.setdefault(source, [])
        for copy in copies:
            if copy.users and copy.wanted == wanted and copy.is_current(wanted):
                copy.users += 1
                return copy
        for copy in copies:
            if not copy.users:
                break
        else:
            copy = self._new_copy(source)
            copies.append(copy)
        copy.users = 1
        copy.apply(wanted)
        return copy

    @staticmethod
    def release(copy: SessionCopy) -> None:
        copy.users -= 1
