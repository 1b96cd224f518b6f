"""File operations that never leave a half-written file under a final name.

A copy goes to a temporary dot-file beside its destination and is renamed over
it only when complete; a move deletes its source only after the copy has been
read back and matched, and only if the source is still the file that was copied.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import os
import secrets
import stat
from dataclasses import dataclass
from typing import IO

__all__ = [
    "Copied",
    "SourceChangedError",
    "copy_file",
    "digest_file",
    "gzip_file",
    "remove_source",
    "sync_directory",
]

_CHUNK = 1024 * 1024
TEMP_PREFIX = ".tincan-tmp-"


class SourceChangedError(OSError):
    """The source file changed (or was replaced) while it was being copied or moved."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EAGAIN, "changed while being installed", path)


@dataclass(frozen=True, slots=True)
class Copied:
    """What a copy read: the source's identity at the time, and the content hash."""

    size: int
    mtime_ns: int
    ino: int
    dev: int
    sha256: str


def _temp_path(directory: str) -> str:
    return os.path.join(directory, TEMP_PREFIX + secrets.token_hex(8))


def _discard(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def digest_file(path: str) -> tuple[int, str]:
    """Size and SHA-256 of the file at ``path``."""
    h = hashlib.sha256()
    size = 0
    fd = os.open(path, os.O_RDONLY)
    try:
        while chunk := os.read(fd, _CHUNK):
            h.update(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    return size, h.hexdigest()


def copy_file(source: str, dest: str, *, preserve: bool, durable: bool) -> Copied:
    """Copy ``source`` to ``dest`` through a temporary file renamed into place.

    ``preserve`` keeps the permission bits and times; otherwise the file gets the
    default mode (umask applies) and the current time. ``durable`` flushes the
    data to disk before the rename (a move deletes the source right after).
    """
    src_fd = os.open(source, os.O_RDONLY)
    try:
        before = os.fstat(src_fd)
        tmp = _temp_path(os.path.dirname(dest))
        dst_fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            try:
                h = hashlib.sha256()
                size = 0
                while chunk := os.read(src_fd, _CHUNK):
                    h.update(chunk)
                    size += len(chunk)
                    _write_all(dst_fd, chunk)
                if durable:
                    os.fsync(dst_fd)
            finally:
                os.close(dst_fd)
            after = os.fstat(src_fd)
            if size != before.st_size or after.st_mtime_ns != before.st_mtime_ns:
                raise SourceChangedError(source)
            if preserve:
                os.chmod(tmp, stat.S_IMODE(before.st_mode))
                os.utime(tmp, ns=(before.st_atime_ns, before.st_mtime_ns))
            os.replace(tmp, dest)
        except BaseException:
            _discard(tmp)
            raise
    finally:
        os.close(src_fd)
    return Copied(size, before.st_mtime_ns, before.st_ino, before.st_dev, h.hexdigest())


def sync_directory(path: str) -> None:
    """Make renames in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_source(entry: str, copied: Copied) -> None:
    """Delete the source ``entry`` of a verified move, unless it changed since the copy."""
    now = os.lstat(entry)
    if stat.S_ISLNK(now.st_mode):
        os.unlink(entry)  # a link: its target is moved under its own name
        return
    if (now.st_ino, now.st_dev, now.st_size, now.st_mtime_ns) != (
        copied.ino,
        copied.dev,
        copied.size,
        copied.mtime_ns,
    ):
        raise SourceChangedError(entry)
    os.unlink(entry)


class _CountingSink:
    """A write-only stream that only counts, to size a compression without writing it."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass


def _compress_into(source: str, sink: IO[bytes] | _CountingSink) -> None:
    # mtime=0 and no file name in the header: the same input always gives the same bytes.
    with (
        open(source, "rb") as f,
        gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=sink, mtime=0) as gz,
    ):
        while chunk := f.read(_CHUNK):
            gz.write(chunk)


def gzip_file(source: str, dest: str, *, dry_run: bool) -> int | None:
    """Write ``dest``, the deterministic gzip of ``source``, if it is smaller.

    Returns the compressed size, or ``None`` (nothing written) when compression
    does not pay. The ``.gz`` gets the source's modification time.
    """
    original = os.stat(source)
    if dry_run:
        counter = _CountingSink()
        _compress_into(source, counter)
        return counter.size if counter.size < original.st_size else None
    tmp = _temp_path(os.path.dirname(dest))
    try:
        with open(tmp, "xb") as out:
            _compress_into(source, out)
            size = out.tell()
        if size >= original.st_size:
            _discard(tmp)
            return None
        os.utime(tmp, ns=(original.st_atime_ns, original.st_mtime_ns))
        os.replace(tmp, dest)
    except BaseException:
        _discard(tmp)
        raise
    return size
