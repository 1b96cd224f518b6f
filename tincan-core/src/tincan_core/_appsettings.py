"""The ``[app]`` table of ``WEB-INF/tincan.toml``: the webapp's own settings.

TinCan does not know what these keys mean, so it cannot validate them at
launch; the webapp's code reads them, and a value it cannot use should still be
reported where it was written. :class:`AppSettings` is a read-only mapping of
the table that remembers the line of each key, with typed getters whose errors
are ``tincan.toml:line: app.key ...``::

    database = self.request.app.settings.app.path("database", default)
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any, overload

from ._errors import TinCanError

__all__ = ["AppSettings"]


class AppSettings(Mapping[str, Any]):
    """The values of the ``[app]`` table (read-only), each with the file and line it
    was written at; ``launch(app={...})`` gives values without a line."""

    __slots__ = ("_lines", "_values", "file")

    def __init__(
        self,
        values: Mapping[str, Any] | None = None,
        file: str | None = None,
        lines: Mapping[str, int] | None = None,
    ) -> None:
        self._values = dict(values or {})
        self.file = file
        self._lines = dict(lines or {})

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"AppSettings({self._values!r})"

    def line(self, key: str) -> int | None:
        """The line ``key`` is written at in the settings file, if it came from there."""
        return self._lines.get(key)

    def error(self, key: str, message: str) -> TinCanError:
        """A :class:`TinCanError` about ``key``, at its ``file:line`` when it has one:
        ``raise settings.app.error("port", "must be a number")``."""
        if key in self._lines:
            return TinCanError(f"app.{key} {message}", self.file, self._lines[key])
        return TinCanError(f"app.{key} {message}")

    @overload
    def text(self, key: str) -> str | None: ...
    @overload
    def text(self, key: str, default: str) -> str: ...

    def text(self, key: str, default: str | None = None) -> str | None:
        """The string ``key``, or ``default`` when it is not set. A value that is no
        string, or holds a line break or other control character, is an error."""
        if key not in self._values:
            return default
        value = self._values[key]
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, not {_toml_type(value)}")
        if any(unicodedata.category(c) == "Cc" and c != "\t" for c in value):
            raise self.error(key, "must not contain line breaks or other control characters")
        return value

    @overload
    def path(self, key: str) -> str | None: ...
    @overload
    def path(self, key: str, default: str) -> str: ...

    def path(self, key: str, default: str | None = None) -> str | None:
        """The file path ``key`` (``~`` expanded, normalised), or ``default``. It must be
        absolute: a relative one would depend on the server's working directory."""
        text = self.text(key)
        if text is None:
            return default
        if not text.strip():
            raise self.error(key, "must be a file path, not empty")
        expanded = os.path.expanduser(text)
        if not os.path.isabs(expanded):
            raise self.error(
                key, f"must be an absolute path (or start with ~), not {text!r}: a relative "
                "path would depend on the directory the server starts in",
            )  # fmt: skip
        return os.path.normpath(expanded)


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"
