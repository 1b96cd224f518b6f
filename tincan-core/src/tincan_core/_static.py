"""Serving one static file: content type, validators, conditional and range requests.

Everything that can be decided at launch (content type, the file's real path,
``Cache-Control``) is; a request costs one ``stat``, and for small files one read.
Errors say nothing of the file system: the body an error page sees is
:data:`~tincan_core._app.NO_DETAILS`, the path goes to the log only.
"""

from __future__ import annotations

import email.utils
import mimetypes
import os
import posixpath
import re
import stat
from collections.abc import Iterator
from typing import IO

import bottle

from ._app import NO_DETAILS
from ._conditional import PROCEED, evaluate

__all__ = ["StaticFile", "content_type_for"]

# Files up to this size are read whole; larger ones are streamed in chunks.
_SMALL_FILE = 256 * 1024
_CHUNK = 64 * 1024
_BYTE_RANGE = re.compile(r"([0-9]*)-([0-9]*)")
# A request with none of these (and GET) takes the fast path.
_CONDITIONAL = frozenset(
    {
        "HTTP_IF_MATCH",
        "HTTP_IF_NONE_MATCH",
        "HTTP_IF_MODIFIED_SINCE",
        "HTTP_IF_UNMODIFIED_SINCE",
        "HTTP_RANGE",
    }
)

_OCTETS = "application/octet-stream"
_GZIP = "application/gzip"
# A compressed file is sent as it is, without Content-Encoding: its type is the
# compressed format's, never the inner file's (a browser would show "x.css.gz" as
# garbled CSS). Fixed here because mimetypes varies with the system's mime.types.
_COMPRESSED = {
    ".gz": _GZIP,
    ".tgz": _GZIP,
    ".br": _OCTETS,
    ".bz2": _OCTETS,
    ".xz": _OCTETS,
    ".zst": _OCTETS,
}


def content_type_for(name: str, encoding: str) -> str:
    """The ``Content-Type`` of a static file named ``name``; text types get ``encoding``."""
    compressed = _COMPRESSED.get(posixpath.splitext(name)[1].lower())
    if compressed is not None:
        return compressed
    mimetype, coding = mimetypes.guess_type(name, strict=False)
    if coding is not None:  # another compression mimetypes knows (".svgz", ".Z", ".tbz2")
        return _GZIP if coding == "gzip" else _OCTETS
    if mimetype is None:
        return _OCTETS
    if mimetype.startswith("text/"):
        return f"{mimetype}; charset={encoding}"
    return mimetype


def _parse_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """One ``bytes=`` range as ``(start, end_inclusive)``; ``None`` to ignore the
    header (malformed or several ranges: serve the whole file); ``False`` when
    unsatisfiable (416)."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    # ASCII digits only: int() alone would also take "+1", " 1" and "1_0".
    match = _BYTE_RANGE.fullmatch(spec.strip())
    if match is None or match.group() == "-":
        return None
    first, last = match.groups()
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length <= 0:
            return False
        return (max(0, size - length), size - 1) if size else False
    start = int(first)
    end = int(last) if last else None
    # An open range ("500-") starting past the end is unsatisfiable, not malformed.
    if end is not None and end < start:
        return None
    if start >= size:
        return False
    return start, size - 1 if end is None else min(end, size - 1)


def _stream(f: IO[bytes], remaining: int) -> Iterator[bytes]:
    try:
        while remaining > 0:
            chunk = f.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        f.close()


class StaticFile:
    """The callback of one static route."""

    __slots__ = ("_validators", "cache_control", "content_type", "logger", "path")

    def __init__(
        self,
        path: str,
        content_type: str,
        logger: object = None,
        cache_control: str | None = None,
    ) -> None:
        self.path = path
        self.content_type = content_type
        self.logger = logger
        self.cache_control = cache_control or None
        # (st_mtime_ns, size, ETag, Last-Modified, mtime in seconds) of the last stat,
        # one tuple so that concurrent requests never see a torn update.
        self._validators: tuple[int, int, str, str, int] = (-1, -1, "", "", -1)

    def __call__(self) -> bottle.HTTPResponse | bytes:
        try:
            st = os.stat(self.path)
        except OSError as exc:
            raise self._http_error(exc) from None
        if not stat.S_ISREG(st.st_mode):
            # A directory or a FIFO where the file was: a broken deployment, logged, and
            # never opened (opening a FIFO would hang the worker).
            self._log("not a regular file any more")
            raise bottle.HTTPError(500, NO_DETAILS)
        size = st.st_size
        validators = self._validators
        if validators[0] != st.st_mtime_ns or validators[1] != size:
            mtime = int(st.st_mtime)
            validators = self._validators = (
                st.st_mtime_ns,
                size,
                f'"{st.st_mtime_ns:x}-{size:x}"',
                email.utils.formatdate(mtime, usegmt=True),
                mtime,
            )
        etag, last_modified, mtime = validators[2], validators[3], validators[4]
        environ = bottle.request.environ
        method = environ["REQUEST_METHOD"]
        if 0 < size <= _SMALL_FILE and method == "GET" and environ.keys().isdisjoint(_CONDITIONAL):
            return self._send_whole(size, etag, last_modified)
        outcome = evaluate(environ, etag, mtime)
        if outcome == 412:
            raise bottle.HTTPError(412, NO_DETAILS)
        headers = {
            "Content-Type": self.content_type,
            "Last-Modified": last_modified,
            "ETag": etag,
            "Accept-Ranges": "bytes",
        }
        if self.cache_control is not None:
            headers["Cache-Control"] = self.cache_control
        if outcome != PROCEED:  # 304
            return bottle.HTTPResponse(status=outcome, headers=headers)
        start, end = 0, size - 1
        status = 200
        # Ranges are defined for GET only (RFC 9110 §14.2): a HEAD answers what a
        # plain GET would, headers and all.
        range_header = environ.get("HTTP_RANGE") if method == "GET" else None
        if range_header and _if_range_holds(environ.get("HTTP_IF_RANGE"), etag, last_modified):
            parsed = _parse_range(range_header, size)
            if parsed is False:
                # Only range headers: the error page's body is not the file's type.
                raise bottle.HTTPError(
                    416, NO_DETAILS, Content_Range=f"bytes */{size}", Accept_Ranges="bytes"
                )
            if isinstance(parsed, tuple):
                start, end = parsed
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = end - start + 1
        headers["Content-Length"] = str(length)
        if method == "HEAD" or length <= 0:
            return bottle.HTTPResponse(b"", status=status, headers=headers)
        try:
            f = open(self.path, "rb")  # noqa: SIM115 - closed by _stream or below
        except OSError as exc:
            raise self._http_error(exc) from None
        if length <= _SMALL_FILE:
            with f:
                try:
                    if start:
                        f.seek(start)
                    data = f.read(length)
                except OSError as exc:
                    raise self._http_error(exc) from None
            # The file may have shrunk since the stat: never promise more than is sent.
            if len(data) < length:
                headers["Content-Length"] = str(len(data))
                if status == 206 and data:
                    headers["Content-Range"] = f"bytes {start}-{start + len(data) - 1}/{size}"
            body: bytes | Iterator[bytes] = data
        else:
            f.seek(start)
            body = _stream(f, length)
        return bottle.HTTPResponse(body, status=status, headers=headers)

    def _send_whole(self, size: int, etag: str, last_modified: str) -> bytes:
        """The common case, a plain GET of a small file, at the least cost.

        The response ends up exactly as returning ``HTTPResponse(data, **headers)``
        leaves it (``HTTPResponse.apply`` replaces status, headers, cookies and
        body), without building that object and copying it twice.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise self._http_error(exc) from None
        try:
            data = os.read(fd, size)
            while len(data) < size:  # a short read is allowed; EOF is a shrunk file
                more = os.read(fd, size - len(data))
                if not more:
                    break
                data += more
        except OSError as exc:  # e.g. replaced by a directory since the stat
            raise self._http_error(exc) from None
        finally:
            os.close(fd)
        response = bottle.response
        response.status = 200
        # Header names as Bottle normalises them (str.title(): "Etag"), one list each.
        headers = response._headers = {
            "Content-Type": [self.content_type],
            "Last-Modified": [last_modified],
            "Etag": [etag],
            "Accept-Ranges": ["bytes"],
            "Content-Length": [str(len(data))],
        }
        if self.cache_control is not None:
            headers["Cache-Control"] = [self.cache_control]
        response._cookies = None
        response.body = data
        return data

    def _http_error(self, exc: OSError) -> bottle.HTTPError:
        """The error for a file that cannot be stat'ed, opened or read: vanished 404,
        permission denied 403, anything else logged and 500. None of them tells the
        client more than the status."""
        if isinstance(exc, FileNotFoundError | NotADirectoryError):
            return bottle.HTTPError(404, NO_DETAILS)
        if isinstance(exc, PermissionError):
            return bottle.HTTPError(403, NO_DETAILS)
        self._log(exc)
        return bottle.HTTPError(500, NO_DETAILS)

    def _log(self, problem: OSError | str) -> None:
        logger = self.logger
        if logger is not None:
            logger.error("%s: cannot serve: %s", self.path, problem)  # type: ignore[attr-defined]


def _if_range_holds(if_range: str | None, etag: str, last_modified: str) -> bool:
    if if_range is None:
        return True
    if if_range.startswith(('"', "W/")):
        return if_range == etag
    return if_range == last_modified
