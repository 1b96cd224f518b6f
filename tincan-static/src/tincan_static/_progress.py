"""Progress for long installs: a self-erasing status line on a terminal, sparse lines elsewhere."""

from __future__ import annotations

from typing import TextIO

__all__ = ["Progress"]

# Below this many files an install is over before a progress line would help.
LARGE_TREE = 500


class Progress:
    """Shows ``done/total`` on ``stream``.

    On a terminal the line is redrawn in place and erased before any other
    output (``clear``); elsewhere, only when ``verbose``, a line per tenth.
    """

    def __init__(self, stream: TextIO, *, verbose: bool, tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.verbose = verbose
        self.shown = False
        self.last_tenth = 0

    def update(self, done: int, total: int) -> None:
        if total < LARGE_TREE:
            return
        if self.tty:
            self.stream.write(f"\r\x1b[Kinstalling: {done}/{total} files ({done * 100 // total}%)")
            self.stream.flush()
            self.shown = done < total
            if not self.shown:
                self.stream.write("\r\x1b[K")
        elif self.verbose:
            tenth = done * 10 // total
            if tenth > self.last_tenth:
                self.last_tenth = tenth
                self.stream.write(f"installing: {done}/{total} files\n")

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.shown = False
