"""Log output of the commands: one readable line per record, on stderr."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["command_logger", "plain_logger"]


class _PlainFormatter(logging.Formatter):
    """``message`` for INFO and below, ``warning: message`` / ``error: message`` above."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.ERROR:
            return "error: " + text
        if record.levelno >= logging.WARNING:
            return "warning: " + text
        return text


def plain_logger(name: str, level: int, handler: logging.Handler) -> logging.Logger:
    """A logger outside the global hierarchy: nothing propagates to the root logger.

    The commands run in-process in tests and from other programs, so they never
    touch the global logging configuration.
    """
    logger = logging.Logger(name, level)
    logger.addHandler(handler)
    logger.propagate = False
    return logger


@contextmanager
def command_logger(name: str, *, debug: bool) -> Iterator[logging.Logger]:
    """A logger writing to the current ``sys.stderr`` at INFO (DEBUG with ``debug``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PlainFormatter("%(message)s"))
    logger = plain_logger(name, logging.DEBUG if debug else logging.INFO, handler)
    try:
        yield logger
    finally:
        handler.flush()
        logger.removeHandler(handler)
