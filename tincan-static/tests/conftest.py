"""Fixtures for tincan-static's tests: webapp trees built from a dict of files."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

TreeFactory = Callable[..., Path]


def write_tree(root: Path, files: Mapping[str, bytes | str], *, webapp: bool = True) -> Path:
    """Create ``root`` with ``files`` (relpath -> content); a value starting with ``->``
    makes a symlink to the rest of the string instead."""
    root.mkdir(parents=True, exist_ok=True)
    if webapp:
        (root / "WEB-INF").mkdir(exist_ok=True)
    for relpath, content in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str) and content.startswith("->"):
            os.symlink(content[2:], path)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    return root


@pytest.fixture
def make_webapp(tmp_path: Path) -> TreeFactory:
    """``make_webapp({relpath: content}, name="webapp")`` -> the webapp's root."""

    def factory(files: Mapping[str, bytes | str], name: str = "webapp") -> Path:
        return write_tree(tmp_path / name, files)

    return factory


def _snapshot(root: Path) -> dict[str, tuple[str, bytes | str, int, int]]:
    """Every entry below ``root``: kind, content (or link target), mode and mtime."""
    result: dict[str, tuple[str, bytes | str, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if os.path.islink(path):
                result[rel] = ("link", os.readlink(path), st.st_mode, st.st_mtime_ns)
            elif os.path.isdir(path):
                result[rel] = ("dir", b"", st.st_mode, st.st_mtime_ns)
            else:
                result[rel] = ("file", Path(path).read_bytes(), st.st_mode, st.st_mtime_ns)
    return result


def _installed_files(target: Path) -> dict[str, bytes]:
    """Relpath -> content of every regular file in ``target`` except the manifest."""
    files = {}
    for path in target.rglob("*"):
        if path.is_file() and path.name != ".tincan-static-manifest.json":
            files[path.relative_to(target).as_posix()] = path.read_bytes()
    return files


Snapshot = Callable[[Path], dict[str, tuple[str, bytes | str, int, int]]]


@pytest.fixture
def snapshot() -> Snapshot:
    """``snapshot(root)``: every entry below ``root`` with kind, content, mode and mtime."""
    return _snapshot


@pytest.fixture
def installed() -> Callable[[Path], dict[str, bytes]]:
    """``installed(target)``: relpath -> content of the installed files (no manifest)."""
    return _installed_files
