"""Serving one static file: content type, validators, conditional and range requests.

Everything that can be decided at launch (content type, the file's real path) is;
a request costs one ``stat``, and for small files one read.
"""

from __future__ import annotations

import email.utils
import mimetypes
import os
import re
from collections.abc import Iterator
from typing import IO

import bottle

__all__ = ["StaticFile", "content_type_for"]

# Files up to this size are read whole; larger ones are streamed in chunks.
_SMALL_FILE = 256 * 1024
_CHUNK = 64 * 1024
_BYTE_RANGE = re.compile(r"([0-9]*)-([0-9]*)")


def content_type_for(name: str, encoding: str) -> str:
    mimetype, _ = mimetypes.guess_type(name, strict=False)
    if mimetype is None:
        return "application/octet-stream"
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

    __slots__ = ("_validators", "content_type", "logger", "path")

    def __init__(self, path: str, content_type: str, logger: object = None) -> None:
        self.path = path
        self.content_type = content_type
        self.logger = logger
        # (st_mtime_ns, size, ETag, Last-Modified, mtime in seconds) of the last stat,
        # one tuple so that concurrent requests never see a torn update.
        self._validators: tuple[int, int, str, str, int] = (-1, -1, "", "", -1)

    def __call__(self) -> bottle.HTTPResponse | bytes:
        try:
            st = os.stat(self.path)
        except OSError as exc:
            raise self._http_error(exc) from None
        size = st.st_size
        validators = self._validators
        if validators[0] != st.st_mtime_ns or validators[1] != size:
            mtime = int(st.st_mtime)
            validators = self._validators = (
                st.st_mtime_ns, size, f'"{st.st_mtime_ns:x}-{size:x}"',
                email.utils.formatdate(mtime, usegmt=True), mtime,
            )
        etag, last_modified, mtime = validators[2], validators[3], validators[4]
        environ = bottle.request.environ
        if (
            0 < size <= _SMALL_FILE
            and environ["REQUEST_METHOD"] != "HEAD"
            and environ.get("HTTP_IF_NONE_MATCH") is None
            and not environ.get("HTTP_IF_MODIFIED_SINCE")
            and not environ.get("HTTP_RANGE")
        ):
            return self._send_whole(size, etag, last_modified)
        headers = {
            "Content-Type": self.content_type,
            "Last-Modified": last_modified,
            "ETag": etag,
            "Accept-Ranges": "bytes",
        }
        if self._not_modified(environ, etag, mtime):
            return bottle.HTTPResponse(status=304, **headers)
        start, end = 0, size - 1
        status = 200
        range_header = environ.get("HTTP_RANGE")
        if range_header and _if_range_holds(environ.get("HTTP_IF_RANGE"), etag, last_modified):
            parsed = _parse_range(range_header, size)
            if parsed is False:
                # Only range headers: the error page's body is not the file's type.
                raise bottle.HTTPError(
                    416, Content_Range=f"bytes */{size}", Accept_Ranges="bytes"
                )
            if isinstance(parsed, tuple):
                start, end = parsed
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = end - start + 1
        headers["Content-Length"] = str(length)
        if environ["REQUEST_METHOD"] == "HEAD" or length <= 0:
            return bottle.HTTPResponse(b"", status=status, **headers)
        try:
            f = open(self.path, "rb")  # noqa: SIM115 - closed by _stream or below
        except OSError as exc:
            raise self._http_error(exc) from None
        if length <= _SMALL_FILE:
            with f:
                if start:
                    f.seek(start)
                data = f.read(length)
            # The file may have shrunk since the stat: never promise more than is sent.
            if len(data) < length:
                headers["Content-Length"] = str(len(data))
                if status == 206 and data:
                    headers["Content-Range"] = f"bytes {start}-{start + len(data) - 1}/{size}"
            body: bytes | Iterator[bytes] = data
        else:
            f.seek(start)
            body = _stream(f, length)
        return bottle.HTTPResponse(body, status=status, **headers)

    @staticmethod
    def _not_modified(environ: dict[str, str], etag: str, mtime: int) -> bool:
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None:
            tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
            return "*" in tags or etag in tags
        since = environ.get("HTTP_IF_MODIFIED_SINCE")
        if since:
            parsed = email.utils.parsedate_tz(since.split(";")[0].strip())
            if parsed is not None:
                try:
                    return email.utils.mktime_tz(parsed) >= mtime
                except (ValueError, OverflowError):
                    pass  # a date no calendar holds (year 10000): ignored, as invalid ones are
        return False

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
            self._log(exc)
            raise bottle.HTTPError(500) from None
        finally:
            os.close(fd)
        response = bottle.response
        response.status = 200
        # Header names as Bottle normalises them (str.title(): "Etag"), one list each.
        response._headers = {
            "Content-Type": [self.content_type],
            "Last-Modified": [last_modified],
            "Etag": [etag],
            "Accept-Ranges": ["bytes"],
            "Content-Length": [str(len(data))],
        }
        response._cookies = None
        response.body = data
        return data

    def _http_error(self, exc: OSError) -> bottle.HTTPError:
        """The error for a file that cannot be stat'ed or opened: vanished 404,
        permission denied 403, anything else logged and 500."""
        if isinstance(exc, FileNotFoundError):
            return bottle.HTTPError(404)
        if isinstance(exc, PermissionError):
            return bottle.HTTPError(403)
        self._log(exc)
        return bottle.HTTPError(500)

    def _log(self, exc: OSError) -> None:
        logger = self.logger
        if logger is not None:
            logger.error("%s: cannot serve: %s", self.path, exc)  # type: ignore[attr-defined]


def _if_range_holds(if_range: str | None, etag: str, last_modified: str) -> bool:
    if if_range is None:
        return True
    if if_range.startswith(('"', "W/")):
        return if_range == etag
    return if_range == last_modified
