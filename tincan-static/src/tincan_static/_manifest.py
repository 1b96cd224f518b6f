"""The record an install keeps in its target: which files (and directories) it put there.

``--prune`` may only ever delete what this record says the installer wrote, and
only while the file still holds what was written.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MANIFEST_NAME",
    "FileRecord",
    "Manifest",
    "ManifestError",
    "load_manifest",
    "save_manifest",
]

MANIFEST_NAME = ".tincan-static-manifest.json"
_FORMAT = "tincan-static-manifest"
_VERSION = 1


class ManifestError(Exception):
    """The manifest exists but cannot be read or understood."""


@dataclass(frozen=True, slots=True)
class FileRecord:
    size: int
    mtime_ns: int
    sha256: str
    derived_from: str = ""  # for a .gz sibling: the relpath it compresses


@dataclass(slots=True)
class Manifest:
    files: dict[str, FileRecord] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)  # directories the installer created


def _record(relpath: str, raw: Any) -> FileRecord:
    if not isinstance(raw, dict):
        raise ManifestError(f"entry {relpath!r} is not an object")
    try:
        return FileRecord(
            size=int(raw["size"]),
            mtime_ns=int(raw["mtime_ns"]),
            sha256=str(raw["sha256"]),
            derived_from=str(raw.get("derived_from", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"entry {relpath!r} is incomplete") from exc


def load_manifest(target: str) -> Manifest:
    """The manifest of ``target``; an empty one when there is none yet."""
    path = os.path.join(target, MANIFEST_NAME)
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            data = json.load(f)
    except FileNotFoundError:
        return Manifest()
    except (OSError, ValueError) as exc:
        raise ManifestError(str(exc)) from exc
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise ManifestError("not a tincan-static manifest")
    if data.get("version") != _VERSION:
        raise ManifestError(f"unsupported manifest version {data.get('version')!r}")
    files = data.get("files", {})
    dirs = data.get("dirs", [])
    if not isinstance(files, dict) or not isinstance(dirs, list):
        raise ManifestError("malformed manifest")
    return Manifest(
        files={str(rel): _record(str(rel), raw) for rel, raw in files.items()},
        dirs={str(d) for d in dirs},
    )


def save_manifest(target: str, manifest: Manifest) -> None:
    """Write the manifest atomically (a reader never sees half of it)."""
    data = {
        "format": _FORMAT,
        "version": _VERSION,
        "files": {
            rel: {
                "size": rec.size,
                "mtime_ns": rec.mtime_ns,
                "sha256": rec.sha256,
                **({"derived_from": rec.derived_from} if rec.derived_from else {}),
            }
            for rel, rec in sorted(manifest.files.items())
        },
        "dirs": sorted(manifest.dirs),
    }
    text = json.dumps(data, indent=1, ensure_ascii=True) + "\n"
    path = os.path.join(target, MANIFEST_NAME)
    tmp = os.path.join(target, f".tincan-tmp-{secrets.token_hex(8)}")
    try:
        with open(tmp, "w", encoding="ascii") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
