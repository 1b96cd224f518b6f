"""The command names of TinCan 0.1: ``launch`` and ``install-static``, options unchanged."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ._cli import EXIT_STATUS, examples, parse_or_exit_code, run_command
from ._forward import forward
from ._options import FORMATTER, ArgumentParser, add_serve_options, add_webapp_arguments

__all__ = ["install_static_main", "launch_main"]


def build_launch_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="launch",
        description="Launch the webapp in DIRECTORY and serve it with the built-in "
        "multithreaded server. Routes are logged to stderr as they are created; launch "
        "errors stop the command unless --force is given. 'tincan serve' serves the same "
        "way on a production address; on localhost it is a development server (pages "
        "compiled on demand, the developer error page), which launch never is.",
        formatter_class=FORMATTER,
        epilog=examples(
            "launch -s mysite", "launch -b 0.0.0.0 -p 8000 mysite /shop", "launch -c mysite"
        )
        + EXIT_STATUS,
    )
    add_webapp_arguments(parser)
    add_serve_options(parser)
    parser.set_defaults(debug=False)
    return parser


def launch_main(argv: Sequence[str] | None = None) -> int:
    """``launch [options] [directory [urlroot]]``; the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    parsed = parse_or_exit_code(build_launch_parser(), args)
    if isinstance(parsed, int):
        return parsed
    from ._serve import ServeOptions, serve

    options = ServeOptions.from_namespace(parsed)
    return run_command("launch", options.debug, lambda: serve(options))


def install_static_main(argv: Sequence[str] | None = None) -> int:
    """``install-static [-m/--move | -n/--no-preserve] source target``; the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "-d" in args or "--debug" in args
    return run_command(
        "install-static", debug, lambda: forward("install-static", args, "install-static")
    )
