"""Server errors raised in the test that made the request, not only logged.

TinCan answers a crash in a page (its code-behind, its template, its error
page) with a 500 and logs the exception. Under the plugin each request carries
a list in its WSGI environ; the webapp's log handler files every error logged
while serving it there (:func:`collect`), and the client raises the first one
once the request is done (:func:`raise_failures`): the exception itself, with
a note naming the webapp file and line it came from and the request.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import bottle
import tincan_core

__all__ = [
    "FAILURES_KEY",
    "ServerError",
    "ServerFailure",
    "collect",
    "failures_of",
    "origin",
    "raise_failures",
    "raised_here",
    "shown",
    "webapp_roots",
]

FAILURES_KEY = "tincan_testing.failures"
_BOTTLE_EXC_INFO = "bottle.exc_info"  # where Bottle leaves an exception its catch-all caught
_OPT_OUT = "pass raise_server_exceptions=False to get the 500 response instead"


_FRAMEWORK_DIRS = tuple(
    os.path.dirname(os.path.abspath(getattr(module, "__file__", "") or "")) + os.sep
    for module in (bottle, tincan_core)
)


class ServerError(Exception):
    """An error the app logged while serving a request, without an exception to re-raise
    (a forward loop, a static file that could not be read)."""


@dataclass(frozen=True)
class ServerFailure:
    """One error logged while serving a request."""

    method: str
    path: str
    message: str  # the log line, file paths as in the webapp's source
    exception: BaseException | None


def shown(text: str, roots: Sequence[tuple[str, str]]) -> str:
    for root, shown in roots:
        text = text.replace(root, shown)
    return text


def collect(record: logging.LogRecord, roots: Sequence[tuple[str, str]]) -> bool:
    """File ``record`` under the request being served on this thread, if that request
    raises its server errors; ``True`` if it was filed."""
    if record.levelno < logging.ERROR:
        return False
    try:
        environ = bottle.request.environ
    except (RuntimeError, KeyError):  # no request bound to this thread
        return False
    failures: list[ServerFailure] | None = environ.get(FAILURES_KEY)
    if failures is None:
        return False
    exception = record.exc_info[1] if record.exc_info else None
    failures.append(ServerFailure(
        environ.get("REQUEST_METHOD", "GET"),
        environ.get("tincan_testing.path", environ.get("PATH_INFO", "/")),
        shown(record.getMessage(), roots),
        exception,
    ))
    return True


def failures_of(environ: dict[str, Any], roots: Sequence[tuple[str, str]]) -> list[ServerFailure]:
    """What went wrong serving the request of ``environ``: the errors the app logged,
    and an exception that Bottle's catch-all caught (a plain Bottle route that failed)."""
    failures: list[ServerFailure] = list(environ.get(FAILURES_KEY) or ())
    exc_info = environ.get(_BOTTLE_EXC_INFO)
    if exc_info and not any(f.exception is exc_info[1] for f in failures):
        exception = exc_info[1]
        failures.append(ServerFailure(
            environ.get("REQUEST_METHOD", "GET"),
            environ.get("tincan_testing.path", environ.get("PATH_INFO", "/")),
            shown(f"{type(exception).__name__}: {exception}", roots),
            exception,
        ))
    return failures


def _chameleon_formatter(exception: BaseException) -> Any:
    """The formatter of a Chameleon render error: Chameleon gives each such exception a
    class of its own whose ``__str__`` lists where in which templates it happened."""
    formatter = type(exception).__dict__.get("__str__")
    return formatter if isinstance(getattr(formatter, "_errors", None), list) else None


def _template_places(exception: BaseException) -> list[tuple[str, int]]:
    """(template file, line) of a render error, innermost first."""
    formatter = _chameleon_formatter(exception)
    if formatter is None:
        return []
    places = []
    for entry in formatter._errors:
        try:
            _, line, _, filename, _ = entry
        except (TypeError, ValueError):
            continue
        if isinstance(filename, str) and isinstance(line, int):
            places.append((filename, line))
    return places


def _notes_stay_out_of_the_message(exception: BaseException) -> None:
    """Chameleon's message of a render error is the last line Python would print for it,
    which once notes are added is the last note; have it computed without them."""
    formatter = _chameleon_formatter(exception)
    if formatter is None:
        return

    def message(self: BaseException) -> str:
        notes = self.__dict__.pop("__notes__", None)
        try:
            return str(formatter())
        finally:
            if notes is not None:
                self.__notes__ = notes

    type(exception).__str__ = message  # type: ignore[method-assign]


def origin(exception: BaseException, roots: Sequence[tuple[str, str]]) -> str | None:
    """``file:line`` in the webapp where ``exception`` came from: the template line of a
    render error, else the innermost frame in a webapp file (code-behind, WEB-INF/lib)."""
    prefixes = tuple(root for root, _ in roots)
    places = _template_places(exception)
    for filename, line in places:
        if filename.startswith(prefixes):
            return f"{shown(filename, roots)}:{line}"
    inner: str | None = None
    tb = exception.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(prefixes):
            inner = f"{shown(filename, roots)}:{tb.tb_lineno}"
        tb = tb.tb_next
    if inner is None and places:
        return f"{places[0][0]}:{places[0][1]}"
    return inner


def _without_framework_frames(tb: TracebackType | None) -> TracebackType | None:
    """The traceback from the first frame outside TinCan and Bottle: where the page begins."""
    start = tb
    while start is not None and start.tb_frame.f_code.co_filename.startswith(_FRAMEWORK_DIRS):
        start = start.tb_next
    return start if start is not None else tb


def _note(failure: ServerFailure, roots: Sequence[tuple[str, str]]) -> str:
    where = origin(failure.exception, roots) if failure.exception is not None else None
    served = f"{failure.method} {failure.path}"
    return f"{where}: raised while serving {served}" if where else f"raised while serving {served}"


def raise_failures(failures: Sequence[ServerFailure], roots: Sequence[tuple[str, str]]) -> None:
    """Raise the first failure in the caller (the test): its exception, with a note
    saying where it came from; the other failures of the request are noted too."""
    __tracebackhide__ = True
    if not failures:
        return
    first = failures[0]
    later = [f"then: {f.message}" for f in failures[1:]]
    exception = first.exception
    if exception is None:
        error = ServerError(f"{first.method} {first.path}: {first.message}")
        for line in [*later, _OPT_OUT]:
            error.add_note(line)
        raise error
    notes = getattr(exception, "__notes__", [])
    if _OPT_OUT not in notes:
        lines = [_note(first, roots), *later, _OPT_OUT]
        if _chameleon_formatter(exception) is not None:
            # Chameleon re-raised the original (the context) as this one, which shows it all
            exception.__suppress_context__ = True
        _notes_stay_out_of_the_message(exception)
        for line in lines:
            exception.add_note(line)
    raise exception.with_traceback(_without_framework_frames(exception.__traceback__))


def raised_here(exception: BaseException) -> str | None:
    """For an exception :func:`raise_failures` raised: its first line and where it came
    from (``"NameError: x (site/a.pspx:1)"``); ``None`` for any other exception."""
    notes = getattr(exception, "__notes__", None) or []
    if _OPT_OUT not in notes:
        return None
    try:
        lines = str(exception).strip().splitlines()
    except Exception:
        lines = []
    text = f"{type(exception).__name__}: {lines[0]}" if lines else type(exception).__name__
    where = notes[0].partition(": raised while serving")[0] if notes else ""
    if where and not where.startswith("raised while serving"):
        text += f" ({where})"
    return text


def webapp_roots(root: Path, source: Path | None) -> list[tuple[str, str]]:
    """How file names of a launched tree are shown: under ``source`` when it is a copy."""
    shown = str(source) + os.sep if source is not None else str(root) + os.sep
    return [(str(path) + os.sep, shown) for path in dict.fromkeys((root, root.resolve()))]
