"""Smaller compiled templates: the same program, less memory per template.

A Chameleon program for a page of some size is a few hundred kilobytes of code
objects, and a webapp keeps one per template for as long as it runs. Two parts
of that are pure overhead, and :func:`compact` removes them:

* Chameleon names its temporaries after the ``id()`` of compiler objects
  (``__content_139639377644784``), so every template carries hundreds of
  names of its own. Renumbered in order of appearance (``__content_7``), the
  same names recur in every template and Python shares them.
* Python records line *and column* ranges for each instruction. Columns of
  generated code help nobody (tracebacks of a render point into the template
  through Chameleon's own token table); lines are kept, as ``python -X
  no_debug_ranges`` would store them, each run of instructions on one line in
  as few entries as the table allows (Python's own table has one an instruction).
* Text constants (the markup between expressions) are interned, so that
  marshal marks them and loading a program shares the ones that other loaded
  programs hold: pages of one site repeat much of their markup.

Whenever anything is not as expected, the code is returned unchanged.
"""

from __future__ import annotations

import re
import sys
from types import CodeType
from typing import Any

__all__ = ["compact", "line_of_each_instruction"]

# A generated name: a prefix of Chameleon's and an id() of at least 9 digits.
_GENERATED = re.compile(r"(_\w*?_)(\d{9,})")
# Python 3.11's location table: entry codes for "no columns" and "no location".
_NO_COLUMNS = 13
_NO_LOCATION = 15


def _signed_varint(value: int) -> bytes:
    value = (-value << 1) | 1 if value < 0 else value << 1
    out = bytearray()
    while value >= 0x40:
        out.append(0x40 | (value & 0x3F))
        value >>= 6
    out.append(value)
    return bytes(out)


def _lines_only(code: CodeType) -> bytes:
    """``code``'s location table with the line of every instruction and no columns."""
    runs: list[list[Any]] = []  # [start, end, line] of consecutive instructions
    for start, end, line in code.co_lines():
        if runs and runs[-1][1] == start and runs[-1][2] == line:
            runs[-1][1] = end
        else:
            runs.append([start, end, line])
    table = bytearray()
    previous = code.co_firstlineno
    for start, end, line in runs:
        units = (end - start) // 2
        while units > 0:
            length = min(8, units)
            units -= length
            if line is None:
                table.append(0x80 | (_NO_LOCATION << 3) | (length - 1))
            else:
                table.append(0x80 | (_NO_COLUMNS << 3) | (length - 1))
                table += _signed_varint(line - previous)
                previous = line
    return bytes(table)


def _all_codes(code: CodeType) -> list[CodeType]:
    found = [code]
    for const in code.co_consts:
        if isinstance(const, CodeType):
            found.extend(_all_codes(const))
    return found


def _renaming(codes: list[CodeType]) -> dict[str, str]:
    """New names for the generated ones; empty if a new name could clash."""
    names: set[str] = set()
    for code in codes:
        names.update(code.co_names, code.co_varnames, code.co_cellvars, code.co_freevars)
    renamed: dict[str, str] = {}
    counters: dict[str, int] = {}
    for code in codes:  # a stable order: code objects, then names, as compiled
        for name in (*code.co_varnames, *code.co_cellvars, *code.co_freevars, *code.co_names):
            match = _GENERATED.fullmatch(name)
            if match is None or name in renamed:
                continue
            prefix = match.group(1)
            counters[prefix] = counters.get(prefix, 0) + 1
            renamed[name] = f"{prefix}{counters[prefix]}"
    if names.intersection(renamed.values()):
        return {}
    return renamed


def _interned(value: Any) -> Any:
    """A constant with its strings interned (also inside tuples), else as it is."""
    if type(value) is str:
        return sys.intern(value)
    if type(value) is tuple:
        return tuple(_interned(item) for item in value)
    return value


def _rebuild(code: CodeType, renamed: dict[str, str], compact_lines: bool) -> CodeType:
    consts = tuple(
        _rebuild(c, renamed, compact_lines) if isinstance(c, CodeType) else _interned(c)
        for c in code.co_consts
    )

    def new(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(renamed.get(n, n) for n in names)

    changes: dict[str, Any] = {
        "co_consts": consts,
        "co_names": new(code.co_names),
        "co_varnames": new(code.co_varnames),
        "co_cellvars": new(code.co_cellvars),
        "co_freevars": new(code.co_freevars),
    }
    if compact_lines:
        changes["co_linetable"] = _lines_only(code)
    return code.replace(**changes)


def line_of_each_instruction(code: CodeType) -> list[int | None]:
    """The line of every instruction of ``code`` (not of the code objects it holds)."""
    lines: list[int | None] = []
    for start, end, line in code.co_lines():
        lines.extend([line] * ((end - start) // 2))
    return lines


def _same_lines(a: CodeType, b: CodeType) -> bool:
    return line_of_each_instruction(a) == line_of_each_instruction(b) and all(
        _same_lines(x, y)
        for x, y in zip(a.co_consts, b.co_consts, strict=True)
        if isinstance(x, CodeType) and isinstance(y, CodeType)
    )


def compact(code: CodeType) -> CodeType:
    """``code`` (a compiled Chameleon module) renamed and with line-only locations."""
    # The location table format is that of CPython 3.11 to 3.13.
    compact_lines = sys.implementation.name == "cpython" and (3, 11) <= sys.version_info < (3, 14)
    try:
        renamed = _renaming(_all_codes(code))
        result = _rebuild(code, renamed, compact_lines)
        if compact_lines and not _same_lines(code, result):
            return code
    except (ValueError, TypeError):
        return code
    return result
