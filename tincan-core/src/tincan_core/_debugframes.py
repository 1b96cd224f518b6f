"""Where an exception happened, as the developer error page shows it.

Python frames are named by their file and line. A frame of a compiled template
has no file of its own; Chameleon's program for it holds the template's file
(``__filename``), a table of its expressions with their positions (``__tokens``)
and, in each of its functions, the expression being evaluated (``__token``).
Reading those from the traceback gives the line of each template the failure
passed through, innermost last: a page's fill-slot, the layout's macro around
it, the page's ``use-macro``. Chameleon's own error record names only the
outermost of them (the ``use-macro`` line of the page), which is not where a
typo in the slot is.
"""

from __future__ import annotations

import dataclasses
import linecache
import os
import re
import traceback
from dataclasses import dataclass
from types import TracebackType

from chameleon.compiler import mangle

__all__ = [
    "Frame",
    "SourceLine",
    "failure_frames",
    "kind_of",
    "point_at_template_line",
    "primary_frame",
]

_CONTEXT = 3


@dataclass(frozen=True, slots=True)
class SourceLine:
    number: int
    text: str
    hit: bool


@dataclass(frozen=True, slots=True)
class Frame:
    """One step of a failure: a Python function or a template expression."""

    kind: str  # "template", "code-behind", "WEB-INF/lib" or "library"
    path: str  # the file as the system names it
    display: str  # inside the webapp: relative to it; otherwise the path
    line: int
    function: str  # Python: the function; template: the expression
    context: tuple[SourceLine, ...]
    repeats: int = 1  # the same call in a row (a recursion) is one frame

    @classmethod
    def at(cls, kind: str, path: str, line: int, function: str, fsroot: str) -> Frame:
        return cls(kind, path, _display(path, fsroot), line, function, _context(path, line))

    @property
    def in_webapp(self) -> bool:
        return self.kind != "library"


def _context(filename: str, line: int) -> tuple[SourceLine, ...]:
    linecache.checkcache(filename)  # the file may have been edited since (--reload)
    rows = []
    for number in range(max(1, line - _CONTEXT), line + _CONTEXT + 1):
        text = linecache.getline(filename, number)
        if not text and number > line:
            break
        rows.append(SourceLine(number, text.rstrip("\r\n"), number == line))
    return tuple(rows)


def _inside(path: str, directory: str) -> bool:
    return path.startswith(os.path.join(directory, ""))


def kind_of(filename: str, fsroot: str) -> str:
    """``code-behind`` for Python files of the webapp, ``WEB-INF/lib`` for its
    modules, ``library`` for everything else (TinCan, Bottle, the standard library)."""
    path = os.path.realpath(filename)
    root = os.path.realpath(fsroot)
    if _inside(path, os.path.join(root, "WEB-INF", "lib")):
        return "WEB-INF/lib"
    if _inside(path, root):
        return "code-behind"
    return "library"


def _display(path: str, fsroot: str) -> str:
    real, root = os.path.realpath(path), os.path.realpath(fsroot)
    if _inside(real, root):
        return os.path.relpath(real, root).replace(os.sep, "/")
    return path


def _template_position(frame: object) -> tuple[str, int, str] | None:
    """``(file, line, expression)`` of a frame of a compiled Chameleon program."""
    found = _template_token(frame)
    return None if found is None else (found[0], found[1], found[3])


def _template_token(frame: object) -> tuple[str, int, int, str] | None:
    """``(file, line, column, expression)`` of a frame of a compiled Chameleon program."""
    f_globals = getattr(frame, "f_globals", {})
    tokens = f_globals.get("__tokens")
    filename = f_globals.get("__filename")
    if not isinstance(tokens, dict) or not isinstance(filename, str):
        return None
    token = getattr(frame, "f_locals", {}).get("__token")
    entry = tokens.get(token) if token is not None else None
    if not entry or len(entry) < 3 or not isinstance(entry[1], int):
        return None  # a function between expressions (a macro calling a slot)
    return filename, entry[1], int(entry[2]), str(entry[0])


def point_at_template_line(exc: BaseException) -> None:
    """Make a render error's own text (what the log shows) name the innermost
    template position first: the page's line inside a ``fill-slot``, not only
    the ``use-macro`` line Chameleon recorded; and log one traceback, not the
    same one twice. Other exceptions are left alone."""
    errors = getattr(getattr(exc, "__str__", None), "_errors", None)
    if not isinstance(errors, list):
        return
    recorded = {(entry[3], entry[1]) for entry in errors if len(entry) == 5}
    missing = []
    walked = list(traceback.walk_tb(exc.__traceback__))
    for index, (frame, _) in enumerate(walked):
        if index + 1 < len(walked) and walked[index + 1][0].f_code.co_name.startswith("__fill_"):
            continue  # a macro calling a slot: its last expression is not where it is
        token = _template_token(frame)
        if token is not None and (token[0], token[1]) not in recorded:
            filename, line, column, expression = token
            missing.append((expression, line, column, filename, exc))
            recorded.add((filename, line))
    errors[:0] = missing[::-1]  # innermost first, as Chameleon lists them
    # Chameleon raises its annotated copy while handling the original: the log
    # would print the same frames twice, joined by "During handling".
    context = exc.__context__
    copy = isinstance(context, BaseException) and isinstance(exc, type(context))
    if copy and exc.__cause__ is None and context is not None and context.args == exc.args:
        exc.__suppress_context__ = True


_DEFINE_SLOT = re.compile(r"""metal:define-slot\s*=\s*["']([^"']+)["']""")


def _slot_line(filename: str, fill_function: str) -> tuple[int, str] | None:
    """The line of ``filename`` defining the slot that ``fill_function`` (Chameleon's
    ``__fill_<mangled name>``) fills, and the slot's name."""
    wanted = fill_function[len("__fill_") :]
    linecache.checkcache(filename)
    for number, text in enumerate(linecache.getlines(filename), start=1):
        for name in _DEFINE_SLOT.findall(text):
            if mangle(name) == wanted:
                return number, name
    return None


def failure_frames(tb: TracebackType | None, fsroot: str) -> list[Frame]:
    """The frames of ``tb``, outermost first, each at its own file and line."""
    frames: list[Frame] = []
    walked = list(traceback.walk_tb(tb))
    for index, (frame, lineno) in enumerate(walked):
        position = _template_position(frame)
        inner = walked[index + 1][0].f_code.co_name if index + 1 < len(walked) else ""
        if inner.startswith("__fill_") and "__tokens" in frame.f_globals:
            # A macro calling a page's slot: the last expression it evaluated is no
            # clue (defining a slot evaluates none); the slot's definition is.
            filename = frame.f_globals.get("__filename")
            slot = _slot_line(filename, inner) if isinstance(filename, str) else None
            if slot is not None:
                position = (str(filename), slot[0], f"define-slot {slot[1]}")
        if position is not None:
            path, line, expression = position
            kind, function = "template", expression
        elif os.path.isfile(frame.f_code.co_filename):
            path, line, function = frame.f_code.co_filename, lineno, frame.f_code.co_name
            kind = kind_of(path, fsroot)
        else:
            continue  # generated code with no source to show
        item = Frame.at(kind, path, line, function, fsroot)
        if _same(frames, item):
            frames[-1] = dataclasses.replace(frames[-1], repeats=frames[-1].repeats + 1)
            continue
        frames.append(item)
    return frames


def _same(frames: list[Frame], item: Frame) -> bool:
    if not frames:
        return False
    last = frames[-1]
    return (last.path, last.line, last.function) == (item.path, item.line, item.function)


def primary_frame(frames: list[Frame]) -> Frame | None:
    """Where the webapp failed: its innermost frame (template, code-behind or
    WEB-INF/lib), or the innermost frame at all when none is the webapp's."""
    for frame in reversed(frames):
        if frame.in_webapp:
            return frame
    return frames[-1] if frames else None
