"""Errors that end a command with a message for the user and an exit code scripts can trust."""

from __future__ import annotations

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "CommandError", "UsageError"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """A user's mistake or an environment problem: one line on stderr, no traceback."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(CommandError):
    """The command line itself is wrong (exit code 2, like argparse)."""

    exit_code = EXIT_USAGE
