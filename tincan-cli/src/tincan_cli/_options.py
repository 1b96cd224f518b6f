"""argparse pieces shared by ``tincan`` and the compatible ``launch`` command."""

from __future__ import annotations

import argparse
import codecs
import os
import sys
from typing import NoReturn

from ._errors import EXIT_USAGE, CommandError

__all__ = [
    "FORMATTER",
    "ArgumentParser",
    "add_debug_option",
    "add_encoding_option",
    "add_jobs_option",
    "add_serve_options",
    "add_webapp_arguments",
    "check_encoding",
    "check_webapp",
    "port_number",
    "positive_int",
    "stderr_is_terminal",
    "urlroot_path",
]


class ArgumentParser(argparse.ArgumentParser):
    """argparse with a one-line usage error: ``prog: error: message (see 'prog --help')``."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps each paragraph of a description on its own; indented lines (examples) stay."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        blocks = []
        for block in text.split("\n\n"):
            if any(line.startswith(" ") for line in block.splitlines()):
                blocks.append("\n".join(indent + line for line in block.splitlines()))
            else:
                blocks.append(super()._fill_text(block, width, indent))
        return "\n\n".join(blocks)


FORMATTER = _HelpFormatter


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: not a number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port}: must be 0-65535")
    return port


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def urlroot_path(text: str) -> str:
    if not text.startswith("/"):
        raise argparse.ArgumentTypeError(f"urlroot must start with '/', not {text!r}")
    return text


def add_debug_option(parser: argparse.ArgumentParser, *, subcommand: bool = False) -> None:
    parser.add_argument(
        "-d",
        "--debug",
        action="store_true",
        # On a subcommand, leave the value of a "tincan -d ..." alone when not given.
        default=argparse.SUPPRESS if subcommand else False,
        help="log at DEBUG level: tracebacks for launch errors and unexpected failures",
    )


def add_webapp_arguments(parser: argparse.ArgumentParser, *, dir_name: str = "directory") -> None:
    parser.add_argument(
        "fsroot",
        metavar=dir_name,
        nargs="?",
        default=".",
        help="the webapp directory, the one holding WEB-INF (default: the current directory)",
    )
    parser.add_argument(
        "urlroot",
        nargs="?",
        default="/",
        type=urlroot_path,
        help="URL prefix of every route, starting with '/' (default: /)",
    )


def add_encoding_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-e",
        "--encoding",
        default="utf-8",
        metavar="ENC",
        help="text encoding of the webapp's pages and macro files (default: utf-8)",
    )


def add_jobs_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-j",
        "--jobs",
        type=positive_int,
        metavar="N",
        help="parallel compile processes (default: every core)",
    )


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    """The options of SPEC's ``launch`` command, shared by ``tincan serve``."""
    parser.add_argument(
        "-b",
        "--bind",
        default="localhost",
        metavar="ADDR",
        help="interface (host name or IP address) to listen on (default: localhost; "
        "0.0.0.0 for every IPv4 interface)",
    )
    parser.add_argument(
        "-p",
        "--port",
        default=8080,
        type=port_number,
        help="TCP port to listen on (default: 8080; 0 picks a free port)",
    )
    parser.add_argument(
        "-s",
        "--static",
        action="store_true",
        help="also serve the webapp's static files (CSS, images, ...); "
        "without it only .pspx pages are served",
    )
    parser.add_argument(
        "-c",
        "--compile",
        action="store_true",
        help="launch fully, compiling every page and writing the compile caches, "
        "report every error, then exit without serving",
    )
    add_debug_option(parser, subcommand=True)
    add_encoding_option(parser)
    parser.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="serve even when the launch found errors (the broken pages get no route)",
    )


def check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise CommandError(f"unknown encoding {encoding!r}") from None


def check_webapp(fsroot: str) -> str:
    """The absolute path of a launchable webapp directory, or a clear error."""
    if not os.path.exists(fsroot):
        raise CommandError(f"{fsroot}: no such directory")
    if not os.path.isdir(fsroot):
        raise CommandError(f"{fsroot}: not a directory")
    if not os.path.isdir(os.path.join(fsroot, "WEB-INF")):
        inner = os.path.join(fsroot, "webapp")  # a project made by `tincan new`
        hint = f"; {inner} is one" if os.path.isdir(os.path.join(inner, "WEB-INF")) else ""
        raise CommandError(f"{fsroot}: not a webapp (no WEB-INF directory){hint}")
    return os.path.abspath(fsroot)


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
