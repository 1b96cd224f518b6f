"""``tincan compile``: fill the compile caches so later launches compile nothing."""

from __future__ import annotations

import sys
from typing import TextIO

from tincan_core import CompileReport, check_webapp, compile_webapp

from ._errors import EXIT_FAILURE, EXIT_OK
from ._options import check_encoding, stderr_is_terminal
from ._options import check_webapp as webapp_directory
from ._output import command_logger

__all__ = ["ProgressLine", "compile_command", "summary_line"]


class ProgressLine:
    """``compiling 12/40`` rewritten in place on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.width = 0

    def __call__(self, done: int, total: int) -> None:
        text = f"compiling {done}/{total}"
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def clear(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def summary_line(report: CompileReport, check_note: str = "") -> str:
    line = (
        f"{_plural(report.pages, 'page')}: {report.templates_compiled} template(s) compiled, "
        f"{report.templates_cached} cached, {report.code_behind} code-behind module(s), "
        f"{len(report.errors)} error(s)"
    )
    return f"{line}, {check_note}" if check_note else line


def compile_command(
    fsroot: str, encoding: str, jobs: int | None, *, quiet: bool, debug: bool
) -> int:
    check_encoding(encoding)
    root = webapp_directory(fsroot)
    progress = ProgressLine(sys.stderr) if stderr_is_terminal() and not quiet else None
    with command_logger("tincan", debug=debug) as log:
        try:
            report = compile_webapp(
                root,
                encoding=encoding,
                jobs=jobs,
                progress=progress,
                logger=log if debug else None,
            )
        finally:
            if progress is not None:
                progress.clear()
    if not debug:  # with --debug the logger has shown them already, with tracebacks
        for error in report.errors:
            print(error, file=sys.stderr)
    if not quiet:
        from ._check import warnings_note

        # What 'tincan check' would warn about too; compile knows no urlroot.
        checked = check_webapp(
            root, encoding=encoding, compile_report=report, absolute_links=False
        )
        print(summary_line(report, warnings_note(checked.findings)))
    return EXIT_FAILURE if report.errors else EXIT_OK
