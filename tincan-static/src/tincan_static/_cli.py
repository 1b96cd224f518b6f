"""The commands: ``install-static`` (and ``tincan install-static``), ``tincan server-config``."""

from __future__ import annotations

import argparse
import sys

from ._install import install_static
from ._plan import InstallError
from ._progress import Progress
from ._quote import quote_path

__all__ = ["main_install_static"]


def parse_or_status(
    parser: argparse.ArgumentParser, argv: list[str] | None
) -> argparse.Namespace | int:
    """Parsed arguments, or the exit status argparse chose (0 for --help, 2 for usage errors)."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)


def _install_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Copy (or move) every static file of the webapp SOURCE into the directory "
            "TARGET (created if missing), keeping the layout, for a web server to serve. "
            "Pages, code-behind, macros, bytecode, dot files and WEB-INF are never installed."
        ),
    )
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "-m",
        "--move",
        action="store_true",
        help="move instead of copy: copy, verify, then delete the source file",
    )
    how.add_argument(
        "-n",
        "--no-preserve",
        action="store_true",
        help="do not keep mode and times (unchanged files are then found by content)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print every action without changing anything"
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="remove files an earlier install put in TARGET whose source is gone",
    )
    parser.add_argument(
        "--compress",
        action="store_true",
        help="also write .gz siblings of text assets when smaller (for gzip_static)",
    )
    talk = parser.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    talk.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also list unchanged files, and show progress when not on a terminal",
    )
    parser.add_argument("source", help="the webapp directory (it has a WEB-INF directory)")
    parser.add_argument("target", help="the directory the web server serves")
    return parser


def main_install_static(argv: list[str] | None = None, prog: str = "install-static") -> int:
    """Run ``install-static``; returns the exit status (0 ok, 1 failure, 2 usage)."""
    args = parse_or_status(_install_parser(prog), argv)
    if isinstance(args, int):
        return args
    out, err = sys.stdout, sys.stderr
    progress = Progress(err, verbose=args.verbose)

    def action(line: str) -> None:
        if not args.quiet:
            progress.clear()
            out.write(line + "\n")
            out.flush()

    def problem(line: str) -> None:
        if args.quiet and line.startswith("warning: "):
            return
        progress.clear()
        out.flush()
        err.write(f"{prog}: {line}\n")
        err.flush()

    try:
        report = install_static(
            args.source,
            args.target,
            move=args.move,
            preserve=not args.no_preserve,
            dry_run=args.dry_run,
            prune=args.prune,
            compress=args.compress,
            report=action,
            problems=problem,
            progress=progress.update,
        )
    except InstallError as exc:
        progress.clear()
        err.write(f"{prog}: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        progress.clear()
        err.write(
            f"{prog}: interrupted; every file is complete in the source, the target or both\n"
        )
        return 1
    progress.clear()
    if args.verbose:
        for relpath in report.unchanged:
            action(f"# unchanged {quote_path(relpath)}")
    if not args.quiet:
        out.write(report.summary() + "\n")
    if report.errors:
        err.write(f"{prog}: {len(report.errors)} error(s), see above\n")
        return 1
    return 0
