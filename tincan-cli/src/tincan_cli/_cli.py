"""The ``tincan`` command: parser, dispatch, and the handling of errors and exit codes."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from ._errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from ._forward import FORWARDED, forward
from ._options import (
    FORMATTER,
    ArgumentParser,
    add_debug_option,
    add_encoding_option,
    add_jobs_option,
    add_serve_options,
    add_webapp_arguments,
    positive_int,
)
from ._servers import SERVERS
from ._version import version_text

__all__ = ["main", "run_command"]

DESCRIPTION = """\
TinCan: a directory tree of .pspx pages is a web application.
Run 'tincan COMMAND --help' for the options of a command."""


EXIT_STATUS = """

exit status: 0 when stopped with Ctrl-C or SIGTERM (or --compile found no errors), 1 on \
launch errors and other failures, 2 on bad usage."""


def examples(*commands: str) -> str:
    """An epilog listing example command lines (kept as written by the help formatter)."""
    return "examples:\n" + "\n".join(f"  {command}" for command in commands)


def _add_serve_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "serve",
        help="launch a webapp and serve it",
        description="Launch the webapp in DIR and serve it over HTTP. Routes are logged to "
        "stderr as they are created.\n\n"
        "For development (--reload, or the developer error page on, as it is by default for "
        "the builtin server on a loopback address) the server starts at once: pages are "
        "compiled when first requested and meanwhile in the background, on every core, into "
        "the compile cache. "
        "A page that does not compile is printed as file:line: message and its routes "
        "answer with its errors; every other page is served. Otherwise (and with gunicorn) "
        "the whole webapp is compiled first and launch errors stop the command unless "
        "--force is given.\n\n"
        "Without $TINCAN_SECRET_KEY or a session key file, the development server signs "
        "sessions with a random key of the process (a warning says so).",
        formatter_class=FORMATTER,
        epilog=examples(
            "tincan serve --static mysite",
            "tincan serve -b 0.0.0.0 -p 8000 mysite /shop",
            "tincan serve --reload --static mysite",
            "tincan serve --server gunicorn --workers 4 -b 127.0.0.1 mysite",
        )
        + EXIT_STATUS,
    )
    add_webapp_arguments(parser, dir_name="DIR")
    add_serve_options(parser)
    parser.add_argument(
        "-r",
        "--reload",
        action="store_true",
        help="watch the webapp and re-launch it when a page, code-behind, macro file, "
        "WEB-INF file or (with --static) static file changes; the pages an edit breaks "
        "answer with their errors until it is fixed, every other page is the new version",
    )
    parser.add_argument(
        "--debug-page",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show the developer error page for 500s (exception, frames, source lines, the "
        "request with secrets masked) and the launch errors of broken pages; never for a "
        "production server (default: on for the builtin server or --reload when --bind is a "
        "loopback address, such as localhost or 127.0.0.1; off otherwise, and for waitress "
        "and gunicorn, which serve from loopback behind a proxy)",
    )
    parser.add_argument(
        "--server",
        choices=SERVERS,
        default="builtin",
        help="WSGI server: builtin (threaded, for development), waitress (threaded, "
        "production-grade, any platform) or gunicorn (prefork workers, Unix) "
        "(default: builtin)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="gunicorn worker processes (default: the number of CPUs, at least 2)",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="threads per process for waitress (default 4) or gunicorn (default 1: "
        "single-threaded sync workers)",
    )


def _add_compile_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "compile",
        help="compile every page and code-behind into the caches",
        description="Compile every page template, #load'ed macro file and code-behind of "
        "the webapp in DIR into the caches, so later launches compile nothing and write "
        "nothing into the tree. Errors are listed as file:line: message; exit 1 if any.",
        formatter_class=FORMATTER,
        epilog=examples("tincan compile mysite", "tincan compile -q -j 2 mysite"),
    )
    parser.add_argument(
        "fsroot", metavar="DIR", nargs="?", default=".",
        help="the webapp directory (default: the current directory)",
    )  # fmt: skip
    add_encoding_option(parser)
    add_jobs_option(parser)
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress line and no summary, only errors"
    )
    add_debug_option(parser, subcommand=True)


def _add_check_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "check",
        help="find mistakes a launch accepts and a request would show",
        description="Compile the webapp in DIR as 'tincan compile' does, launch it, and "
        "check what no launch looks at: template names nothing defines, metal:use-macro "
        "naming no macro, fill-slots naming no slot, #methods words that are no standard "
        "method, and literal internal links (href, src, action) that no route or static "
        "file answers. Findings are printed as file:line: severity: message [code].",
        formatter_class=FORMATTER,
        epilog=examples(
            "tincan check mysite",
            "tincan check --strict mysite /shop",
            "tincan check --json mysite > findings.json",
        )
        + "\n\nexit status: 0 when no errors were found (with --strict: no errors and no "
        "warnings), 1 otherwise, 2 on bad usage.",
    )
    add_webapp_arguments(parser, dir_name="DIR")
    add_encoding_option(parser)
    add_jobs_option(parser)
    parser.add_argument(
        "--strict", action="store_true", help="fail (exit 1) on warnings too, not only errors"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document (schema 1: the findings with severity, file, line, "
        "code, message and suggestion, and their counts) instead of text",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also print the notes (pages whose names cannot be checked, directories "
        "without pages, codes without an error page)",
    )
    add_debug_option(parser, subcommand=True)


def _add_routes_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "routes",
        help="list every route a launch builds",
        description="Launch the webapp in DIR (without serving it) and list every route with "
        "its methods, page file, code-behind class, forward target and error codes, plus "
        "hidden pages and error pages. Exit 1, with the errors on stderr, if the launch "
        "has errors.",
        formatter_class=FORMATTER,
        epilog=examples("tincan routes --static mysite", "tincan routes --json mysite /shop"),
    )
    add_webapp_arguments(parser, dir_name="DIR")
    parser.add_argument("-s", "--static", action="store_true", help="include static file routes")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_encoding_option(parser)
    add_debug_option(parser, subcommand=True)


def _add_new_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "new",
        help="create a starter project: a webapp with its tests, README and wsgi.py",
        description="Create a starter project in DIR: the webapp in DIR/webapp (a layout "
        "in WEB-INF/tlib, a helper module in WEB-INF/lib, an index page with code-behind, a "
        "page without, an error page, a stylesheet, its settings and session key), and "
        "beside it pyproject.toml, README.md, .gitignore, wsgi.py and tests/. DIR must not "
        "exist or be empty.",
        formatter_class=FORMATTER,
        epilog=examples("tincan new mysite", "cd mysite && tincan serve --static --reload webapp"),
    )
    parser.add_argument("fsroot", metavar="DIR", help="directory to create the project in")
    add_debug_option(parser, subcommand=True)


def _add_forwarded_parsers(commands: Any) -> None:
    # Listed for 'tincan --help'; the arguments are parsed by tincan-static itself.
    commands.add_parser(
        "install-static",
        help="copy or move a webapp's static files to a directory",
        add_help=False,
    )
    commands.add_parser(
        "server-config", help="print a web server configuration for a webapp", add_help=False
    )


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="tincan",
        description=DESCRIPTION,
        formatter_class=FORMATTER,
    )
    parser.add_argument("--version", action="version", version=version_text())
    add_debug_option(parser)
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", title="commands", parser_class=ArgumentParser
    )
    commands.required = True
    _add_serve_parser(commands)
    _add_compile_parser(commands)
    _add_check_parser(commands)
    _add_routes_parser(commands)
    _add_new_parser(commands)
    _add_forwarded_parsers(commands)
    return parser


def _dispatch(namespace: argparse.Namespace) -> int:
    command = namespace.command
    if command == "serve":
        from ._serve import ServeOptions, serve

        return serve(ServeOptions.from_namespace(namespace))
    if command == "compile":
        from ._compile import compile_command

        return compile_command(
            namespace.fsroot,
            namespace.encoding,
            namespace.jobs,
            quiet=namespace.quiet,
            debug=namespace.debug,
        )
    if command == "check":
        from ._check import check_command

        return check_command(
            namespace.fsroot,
            namespace.urlroot,
            namespace.encoding,
            namespace.jobs,
            strict=namespace.strict,
            as_json=namespace.json,
            verbose=namespace.verbose,
        )
    if command == "routes":
        from ._routes import routes_command

        return routes_command(
            namespace.fsroot,
            namespace.urlroot,
            static=namespace.static,
            as_json=namespace.json,
            encoding=namespace.encoding,
            debug=namespace.debug,
        )
    if command == "new":
        from ._new import new_command

        return new_command(namespace.fsroot)
    raise AssertionError(f"unhandled command {command!r}")


def run_command(prog: str, debug: bool, command: Callable[[], int]) -> int:
    """Run a command; turn user errors into one line, anything else into a short report."""
    try:
        return command()
    except CommandError as exc:
        print(f"{prog}: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        # The reader went away (``tincan routes | head``): not worth a message.
        _silence_stdout()
        return EXIT_FAILURE
    except Exception as exc:
        if debug:
            traceback.print_exc()
        else:
            print(
                f"{prog}: unexpected error: {type(exc).__name__}: {exc} "
                "(run with --debug for the traceback)",
                file=sys.stderr,
            )
        return EXIT_FAILURE


def _silence_stdout() -> None:
    """Point stdout at /dev/null so flushing it at exit raises no second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (captured output)


def _split_forwarded(argv: Sequence[str]) -> tuple[str, bool, list[str]] | None:
    """``(command, debug, rest)`` if ``argv`` runs a command parsed by tincan-static."""
    debug = False
    for index, arg in enumerate(argv):
        if arg in ("-d", "--debug"):
            debug = True
            continue
        if arg in FORWARDED:
            return arg, debug, list(argv[index + 1 :])
        return None
    return None


def parse_or_exit_code(
    parser: argparse.ArgumentParser, argv: Sequence[str]
) -> argparse.Namespace | int:
    """Parse ``argv``; an exit code instead for ``--help``, ``--version`` and usage errors."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tincan`` with ``argv`` (default: the command line); the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    forwarded = _split_forwarded(args)
    if forwarded is not None:
        command, debug, rest = forwarded
        return run_command(f"tincan {command}", debug, lambda: forward(command, rest))
    parsed = parse_or_exit_code(build_parser(), args)
    if isinstance(parsed, int):
        return parsed
    namespace = parsed
    prog = f"tincan {namespace.command}"
    return run_command(prog, namespace.debug, lambda: _dispatch(namespace))
