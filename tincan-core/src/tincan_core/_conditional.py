"""Conditional requests (RFC 9110 §13) for a resource with an ETag and a modification time.

:func:`evaluate` follows the order of §13.2.2: ``If-Match``, else
``If-Unmodified-Since`` (a failure is 412); then ``If-None-Match``, else
``If-Modified-Since`` (a match is 304 for GET and HEAD). ``If-Range`` is the
range code's business (step 5), evaluated only when the preconditions hold.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["PROCEED", "evaluate", "http_date", "parse_entity_tags"]

PROCEED = 200  # every precondition holds: perform the request

# One member of an entity-tag list (RFC 9110 §8.8.3) or "*", then a comma or the
# end. Empty members (", ,") are allowed by the list syntax (§5.6.1).
_MEMBER = re.compile(r'[ \t]*(?:((?:W/)?"[^"\x00-\x20\x7f]*"|\*)[ \t]*)?(?:,|\Z)')


def parse_entity_tags(value: str) -> list[str] | None:
    """The entity-tags of an ``If-Match``/``If-None-Match`` value, ``W/`` kept; ``None``
    when the value is not an entity-tag list."""
    tags: list[str] = []
    position, end = 0, len(value)
    while position < end:
        match = _MEMBER.match(value, position)
        if match is None:
            return None
        if match.group(1) is not None:
            tags.append(match.group(1))
        position = match.end()
    return tags


def http_date(value: str | None) -> int | None:
    """An HTTP-date as a POSIX timestamp; ``None`` for no value or an invalid one."""
    if not value:
        return None
    # "; length=..." is what old browsers appended to If-Modified-Since.
    parsed = email.utils.parsedate_tz(value.split(";", 1)[0].strip())
    if parsed is None:
        return None
    try:
        return email.utils.mktime_tz(parsed)
    except (ValueError, OverflowError):
        return None  # a date no calendar holds (year 10000): invalid, so ignored


def _strong_match(value: str, etag: str) -> bool:
    """``If-Match``: strong comparison (§8.8.3.2), a weak tag never matches; a value
    that is no entity-tag list cannot be shown to hold, so it fails."""
    tags = parse_entity_tags(value)
    if tags is None:
        return False
    return "*" in tags or etag in tags


def _weak_match(value: str, etag: str) -> bool:
    """``If-None-Match``: weak comparison; an unreadable value matches nothing (the
    client gets the full response, never a wrong 304)."""
    tags = parse_entity_tags(value)
    if tags is None:
        return False
    return "*" in tags or etag in [t.removeprefix("W/") for t in tags]


def evaluate(environ: Mapping[str, Any], etag: str, mtime: int) -> int:
    """200 (:data:`PROCEED`), 304 or 412 for a GET or HEAD of an existing resource.

    ``etag`` is strong; ``mtime`` the modification time in whole seconds, as the
    ``Last-Modified`` header shows it.
    """
    if_match = environ.get("HTTP_IF_MATCH")
    if if_match is not None:
        if not _strong_match(if_match, etag):
            return 412
    else:
        unmodified_since = http_date(environ.get("HTTP_IF_UNMODIFIED_SINCE"))
        if unmodified_since is not None and mtime > unmodified_since:
            return 412
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        if _weak_match(if_none_match, etag):
            return 304
    else:
        modified_since = http_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
        if modified_since is not None and mtime <= modified_since:
            return 304
    return PROCEED
