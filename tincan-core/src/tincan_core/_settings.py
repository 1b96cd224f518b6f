"""The webapp's settings: ``WEB-INF/tincan.toml``, read and validated into :class:`Settings`.

The file is the counterpart of a JSP webapp's ``WEB-INF/web.xml``. It is read
with :mod:`tomllib` once per launch; every problem (a syntax error, an unknown
key, a value of the wrong type) is a :class:`TinCanError` with ``file:line``,
and the setting concerned keeps its default. ``launch()`` keywords override
the file (:func:`merge_overrides`). Everything else takes the frozen result.

Layout of the file (every key optional)::

    clean_urls = true                  # /a/b/name answers a/b/name.pspx too
    redirect_to_clean_urls = false     # .pspx URLs redirect (301/308) to the clean form
    trusted_origins = ["https://admin.example.com"]
    trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]
    max_body_size = 10485760           # bytes
    static_cache_control = "public, max-age=3600"

    [security_headers]                 # header = value; "" drops a default
    X-Frame-Options = "SAMEORIGIN"

    [session]
    key_file = "WEB-INF/secret.key"    # webapp-relative, under WEB-INF
    max_age = 1209600                  # seconds
    cookie_name = "tincan-session"

    [app]                              # the webapp's own values (AppSettings)
    database = "/var/lib/guestbook/entries.sqlite"

The ``[app]`` table is the webapp's: any keys, any TOML values. It must be a
table; its values are checked by the code that reads them, through
:class:`AppSettings`' getters, whose errors name this file and the key's line.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ._appsettings import AppSettings
from ._errors import TinCanError

__all__ = [
    "DEFAULT_SECURITY_HEADERS",
    "SETTINGS_FILE",
    "AppSettings",
    "Settings",
    "load_settings",
    "merge_overrides",
    "parse_settings",
]

SETTINGS_FILE = "WEB-INF/tincan.toml"

# Sent with every response unless the webapp's settings or the response itself
# set the header (the values Django sends by default, plus a same-origin opener).
DEFAULT_SECURITY_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
)

_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_ORIGIN = re.compile(r"(?:https?)://[^/?#\s@]+", re.IGNORECASE)


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective settings of one webapp (defaults, then the file, then keywords)."""

    clean_urls: bool = False
    redirect_to_clean_urls: bool = False
    trusted_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    max_body_size: int = 10 * 1024 * 1024
    static_cache_control: str | None = None
    security_headers: Mapping[str, str] = field(default_factory=lambda: DEFAULT_SECURITY_HEADERS)
    session_key_file: str | None = None
    session_max_age: int = 14 * 24 * 3600
    session_cookie_name: str = "tincan-session"
    app: AppSettings = field(default_factory=AppSettings)

    def response_headers(self) -> tuple[tuple[str, str], ...]:
        """The security headers every response gets, dropped ones left out."""
        return tuple((name, value) for name, value in self.security_headers.items() if value)

    def describe(self) -> list[tuple[str, str]]:
        """``(key, value)`` lines for ``tincan routes``: every setting, in file syntax."""
        lines = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            key = _FILE_KEY.get(f.name, f.name)
            if isinstance(value, Mapping):
                if not value:
                    lines.append((key, "{}"))
                for name, item in value.items():
                    lines.append((f"{key}.{name}", _toml_value(item)))
            else:
                lines.append((key, _toml_value(value)))
        return lines


def _toml_value(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


# -- validation of single values ---------------------------------------------------------
Check = Callable[[Any], Any]  # returns the value to keep, or raises ValueError(message)


class _EntryError(ValueError):
    """A bad entry of a table setting: the error points at the entry's own line."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError("must be a whole number of bytes, more than 0")
    return value


def _seconds(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError("must be a whole number of seconds, more than 0")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    # Values end up in headers and paths: no line breaks, NUL or other control characters.
    if any(unicodedata.category(c) == "Cc" and c != "\t" for c in value):
        raise ValueError("must not contain line breaks or other control characters")
    return value


def _cookie_name(value: Any) -> str:
    name = _text(value)
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise ValueError("must be a cookie name (letters, digits and - _ . only)")
    return name


def _string_list(item: Check) -> Check:
    def check(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise ValueError("must be a list of strings")
        return tuple(item(v) for v in value)

    return check


def _origin(value: Any) -> str:
    text = _text(value)
    origin = text[:-1] if text.endswith("/") else text
    if not _ORIGIN.fullmatch(origin):
        raise ValueError(
            f"{text!r} is not an origin (scheme and host, like 'https://example.com')"
        )
    return origin.lower()


def _proxy(value: Any) -> str:
    text = _text(value)
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address or network") from None
    return text


def _key_file(value: Any) -> str:
    text = _text(value)
    parts = [p for p in text.replace("\\", "/").split("/") if p not in ("", ".")]
    if text.startswith("/") or ".." in parts or not parts or parts[0].upper() != "WEB-INF":
        raise ValueError("must be a path inside WEB-INF, relative to the webapp (never served)")
    return "/".join(parts)


def _headers(value: Any) -> Mapping[str, str]:
    if not isinstance(value, dict):
        raise ValueError("must be a table of header names and values")
    headers = dict(DEFAULT_SECURITY_HEADERS)
    canonical = {name.lower(): name for name in headers}
    name: str
    for name, item in value.items():
        if not _HEADER_NAME.fullmatch(name):
            raise _EntryError(name, f"{name!r} is not a header name")
        try:
            text = "" if item is False else _text(item)
        except ValueError as exc:
            raise _EntryError(name, f"{name} {exc}") from None
        headers[canonical.get(name.lower(), name)] = text
    return _frozen(headers)


def _app_table(value: Any) -> AppSettings:
    if not isinstance(value, dict):
        raise ValueError("must be a table")
    return AppSettings(value)


# (table, key) in the file -> (field of Settings, check). Table "" is the top level.
_SCHEMA: dict[tuple[str, str], tuple[str, Check]] = {
    ("", "clean_urls"): ("clean_urls", _bool),
    ("", "redirect_to_clean_urls"): ("redirect_to_clean_urls", _bool),
    ("", "trusted_origins"): ("trusted_origins", _string_list(_origin)),
    ("", "trusted_proxies"): ("trusted_proxies", _string_list(_proxy)),
    ("", "max_body_size"): ("max_body_size", _size),
    ("", "static_cache_control"): ("static_cache_control", _text),
    ("", "security_headers"): ("security_headers", _headers),
    ("session", "key_file"): ("session_key_file", _key_file),
    ("session", "max_age"): ("session_max_age", _seconds),
    ("session", "cookie_name"): ("session_cookie_name", _cookie_name),
    ("", "app"): ("app", _app_table),
}
_TABLES = frozenset({"session"})  # tables whose keys are settings of their own
_FIELDS = {name: check for name, check in _SCHEMA.values()}
_FILE_KEY: dict[str, str] = {
    name: (f"{t}.{k}" if t else k) for (t, k), (name, _) in _SCHEMA.items()
}


# -- locating keys: tomllib gives values, not positions ----------------------------------
_TABLE_LINE = re.compile(r"\s*\[\s*([A-Za-z0-9_\-\"'. ]+?)\s*\]")
_KEY_LINE = re.compile(r"\s*([A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')\s*[.=]")


def _key_lines(text: str) -> dict[tuple[str, str], int]:
    """Line of each ``(table, key)`` written in the file (first occurrence)."""
    found: dict[tuple[str, str], int] = {}
    table = ""
    # TOML lines end at \n (a \x85 or \u2028 inside a string is no line break).
    for number, line in enumerate(text.split("\n"), 1):
        header = _TABLE_LINE.match(line)
        if header and not line.lstrip().startswith("[["):
            table = header.group(1).strip().strip("\"'")
            found.setdefault(("", table), number)
            continue
        key = _KEY_LINE.match(line)
        if key:
            found.setdefault((table, key.group(1).strip("\"'")), number)
    return found


_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


def parse_settings(text: str, file: str) -> tuple[Settings, list[TinCanError]]:
    """Validate the text of a settings file (pure: no I/O).

    Returns the settings, defaults in place of every bad value, and the problems
    found, each naming ``file`` and the line.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        if match:
            line: int | None = int(match.group(1))
        elif "end of document" in message:
            line = text.count("\n") + (0 if text.endswith("\n") else 1)
        else:
            line = None
        message = _TOML_POSITION.sub("", message).replace("(at end of document)", "").strip()
        return Settings(), [TinCanError(f"not valid TOML: {message}", file, line)]
    lines = _key_lines(text)
    values: dict[str, Any] = {}
    problems: list[TinCanError] = []

    def check(table: str, key: str, value: Any) -> None:
        where = lines.get((table, key))
        entry = _SCHEMA.get((table, key))
        dotted = f"{table}.{key}" if table else key
        if entry is None:
            problems.append(TinCanError(_unknown(dotted), file, where))
            return
        name, validate = entry
        try:
            values[name] = validate(value)
        except _EntryError as exc:
            line = lines.get((dotted, exc.key), where)
            problems.append(TinCanError(f"{dotted}: {exc}", file, line))
        except ValueError as exc:
            problems.append(TinCanError(f"{dotted} {exc}", file, where))

    for key, value in data.items():
        if key in _TABLES:
            if not isinstance(value, dict):
                problems.append(TinCanError(f"{key} must be a table", file, lines.get(("", key))))
                continue
            for sub, item in value.items():
                check(key, sub, item)
        else:
            check("", key, value)
    if "app" in values:  # where each of its keys is written, for the webapp's own errors
        app_lines = {key: line for (table, key), line in lines.items() if table == "app"}
        values["app"] = AppSettings(values["app"], file, app_lines)
    return Settings(**values), problems


def _unknown(dotted: str) -> str:
    known = sorted(_FILE_KEY.values())
    close = difflib.get_close_matches(dotted, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown setting {dotted!r}{hint}"


def load_settings(root: str) -> tuple[Settings, list[TinCanError]]:
    """The settings of the webapp at ``root``; defaults when it has no settings file."""
    path = os.path.join(root, *SETTINGS_FILE.split("/"))
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return Settings(), []
    except OSError as exc:
        return Settings(), [TinCanError(f"cannot read: {exc.strerror or exc}", path)]
    try:
        text = data.decode("utf-8")  # TOML is UTF-8 by definition
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Settings(), [TinCanError("not valid TOML: the file is not UTF-8", path, line)]
    return parse_settings(text, path)


def merge_overrides(settings: Settings, overrides: Mapping[str, Any]) -> Settings:
    """``settings`` with ``launch()`` keywords applied (keyword names are field names).

    A keyword of the wrong type is the caller's programming error: ``TypeError``.
    Lists may be any sequence, tables any mapping.
    """
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        validate = _FIELDS.get(name)
        if validate is None:
            raise TypeError(f"launch() got an unexpected keyword argument {name!r}")
        if isinstance(value, tuple | frozenset | set):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        if value is None and name in ("static_cache_control", "session_key_file"):
            changes[name] = None
            continue
        try:
            changes[name] = validate(value)
        except ValueError as exc:
            raise TypeError(f"launch() argument {name!r} {exc}") from None
    return dataclasses.replace(settings, **changes)


def setting_names() -> tuple[str, ...]:
    """The ``launch()`` keyword of every setting."""
    return tuple(_FIELDS)
