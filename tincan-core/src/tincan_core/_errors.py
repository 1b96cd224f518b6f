"""Exceptions that carry what a user needs to fix a webapp: the file, the line, the message."""

from __future__ import annotations

__all__ = ["TemplateHeaderError", "TinCanError", "TinCanException"]


class TinCanException(Exception):
    """Base of every exception TinCan raises on purpose."""


class TinCanError(TinCanException):
    """A problem with a webapp, optionally located in a file (and a line of it).

    ``str(error)`` is the one-line form used in logs: ``file:line: message``.
    """

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


class TemplateHeaderError(TinCanError):
    """A malformed ``#`` directive in the header of a ``.pspx`` page."""
