r"""Warnings Python gives while a template compiles, named by the template's file and line.

Python warns about some code as it parses or compiles it: an invalid escape
sequence in a string (``'\d'``), ``is`` with a literal, a call of a number.
Chameleon parses a template's Python expressions without a file name and
compiles the program it generates under its module name, so such a warning
would name ``<unknown>:1`` or ``5cbf...py:212``, and a developer could not
tell which template it is about. Here:

* :class:`PythonExpr` is Chameleon's ``python:`` expression type, whose parse
  warnings name the template's file and the line of the text they quote. A
  text that does not parse warns nothing: Chameleon tries several ends for a
  ``${...}`` and keeps the one that parses.
* :func:`located` turns what a template's compile warned into
  ``file:line: Category: message`` texts. A warning about the generated
  program gets the line of the template position the program last noted
  (its ``__token``); one that names no file at all (a ``<?python ?>``
  block's), the line of the text it quotes if the template has it once, else
  the template's file alone. Warnings about other files are given back to
  Python's own handling.

A launch logs these texts, and a compile worker hands them back with the
programs it compiled. A template read from the compile cache is not compiled
again and does not warn again, like a module imported from its bytecode.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from chameleon import tales

__all__ = ["MAY_WARN", "PythonExpr", "located", "warning_text"]

# What Python's parser warns about: escape sequences, and a number literal run into
# a keyword (``1if``). Taken broadly: any backslash, any number-like word with letters.
# ("is" with a literal is warned when the program compiles, see located().)
MAY_WARN = re.compile(r"\\|\b\d\w*[A-Za-z]")
# The file names Python gives code compiled from a string without one.
_NAMELESS = frozenset({"", "<unknown>", "<string>"})
_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"")
_TOKEN_LINE = re.compile(r"^\s*__token = (\d+)$")


def warning_text(filename: str, line: int, category: type[Warning], message: str) -> str:
    """A warning as launches log it: ``file:line: Category: message`` (no line: 0)."""
    where = f"{filename}:{line}" if line > 0 else filename
    return f"{where}: {category.__name__}: {message}"


class PythonExpr(tales.PythonExpr):
    """Chameleon's ``python:`` expressions, whose warnings name the template."""

    def translate(self, expression: Any, target: Any) -> Any:
        translate: Any = super().translate
        if not MAY_WARN.search(expression):
            return translate(expression, target)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            statements = translate(expression, target)
        for found in caught:
            _warn_again(found, expression)
        return statements


def _warn_again(found: warnings.WarningMessage, expression: Any) -> None:
    filename = getattr(expression, "filename", "")
    if found.filename in _NAMELESS and filename:
        line = _line_of(expression, str(found.message))
        warnings.warn_explicit(found.message, found.category, filename, line)
    else:
        warnings.warn_explicit(
            found.message, found.category, found.filename, found.lineno, source=found.source
        )


def _line_of(expression: Any, message: str) -> int:
    """The template line of the first text the message quotes in ``expression`` (a
    Chameleon token), else of the expression's start; 0 if it has no position."""
    try:
        line, _ = expression.location
    except (AttributeError, TypeError):
        return 0
    if not line:
        return 0
    text = str(expression)
    for match in _QUOTED.finditer(message):
        index = text.find(match.group(1) or match.group(2))
        if index >= 0:
            return int(line + text.count("\n", 0, index))
    return int(line)


def located(
    caught: list[warnings.WarningMessage],
    *,
    filename: str,
    body: str,
    module: str,
    program: str | None,
) -> list[str]:
    """The texts of what a template's compile warned about it; the other warnings
    are warned again as they came.

    ``filename``: the template's file; ``body``: the text it compiled (its lines
    those of the file); ``module``: the name the program was compiled under;
    ``program``: the program's source, if it was generated.
    """
    texts: list[str] = []
    for found in caught:
        message = str(found.message)
        if found.filename == filename:
            texts.append(warning_text(filename, found.lineno, found.category, message))
        elif found.filename == module:
            line = _program_line(program, body, found.lineno)
            texts.append(warning_text(filename, line, found.category, message))
        elif found.filename in _NAMELESS:
            line = _unique_line(body, message)
            texts.append(warning_text(filename, line, found.category, message))
        else:
            warnings.warn_explicit(
                found.message, found.category, found.filename, found.lineno, source=found.source
            )
    return texts


def _unique_line(body: str, message: str) -> int:
    """The line of the text ``message`` quotes, if the template has it just once (a
    ``<?python ?>`` block's code, which Chameleon parses without a name); else 0."""
    for match in _QUOTED.finditer(message):
        quoted = match.group(1) or match.group(2)
        index = body.find(quoted)
        if index >= 0 and body.find(quoted, index + 1) < 0:
            return body.count("\n", 0, index) + 1
    return 0


def _program_line(program: str | None, body: str, lineno: int) -> int:
    """The template line of the position the program noted last before its line
    ``lineno`` (Chameleon sets ``__token`` before each expression it evaluates)."""
    if program is None:
        return 0
    lines = program.splitlines()
    for number in range(min(lineno, len(lines)) - 1, -1, -1):
        match = _TOKEN_LINE.match(lines[number])
        if match is not None:
            position = int(match.group(1))
            return body.count("\n", 0, position) + 1 if position <= len(body) else 0
    return 0
