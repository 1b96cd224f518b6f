"""The commands: ``install-static`` (and ``tincan install-static``), ``tincan server-config``."""

from __future__ import annotations

import argparse
import codecs
import os
import sys

from ._apache import apache_config
from ._install import install_static
from ._nginx import nginx_config
from ._plan import InstallError
from ._progress import Progress
from ._quote import quote_path
from ._site import (
    DEFAULT_APP_URL,
    DEFAULT_STATIC_DIR,
    Site,
    SiteError,
    page_index_dirs,
    wsgi_script,
)

__all__ = ["main_install_static", "main_server_config"]


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


def _server_config_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Print a web-server configuration for a TinCan webapp. nginx and apache: the "
            "two-directory deployment (static files from the install-static directory, "
            "pages proxied to the WSGI server); apache --single-directory: mod_wsgi serving "
            "the webapp tree itself. wsgi: the WSGI script for gunicorn, waitress or mod_wsgi."
        ),
    )
    parser.add_argument("server", choices=["nginx", "apache", "wsgi"])
    parser.add_argument("--urlroot", default="/", help="URL prefix of the webapp (default /)")
    parser.add_argument(
        "--static-dir",
        default=DEFAULT_STATIC_DIR,
        metavar="DIR",
        help=f"the install-static target directory (default {DEFAULT_STATIC_DIR})",
    )
    parser.add_argument(
        "--app-url",
        default=DEFAULT_APP_URL,
        metavar="URL",
        help=f"where the WSGI server listens (default {DEFAULT_APP_URL})",
    )
    parser.add_argument(
        "--server-name",
        action="append",
        default=[],
        metavar="NAME",
        help=(
            "a host name of the site (repeatable, or several separated by spaces); nginx "
            "answers any other Host with 421 (default: localhost)"
        ),
    )
    parser.add_argument("--listen", default="80", metavar="PORT", help="port (or ADDR:PORT)")
    parser.add_argument(
        "--webapp",
        metavar="DIR",
        help="the webapp directory: its index pages decide which directory URLs are pages",
    )
    parser.add_argument(
        "--single-directory",
        action="store_true",
        help="apache only: mod_wsgi and the webapp tree, no separate static directory",
    )
    parser.add_argument(
        "--gzip-static",
        action="store_true",
        help="serve the .gz files written by install-static --compress (nginx)",
    )
    parser.add_argument("--encoding", default="utf-8", help="text encoding of the webapp")
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        metavar="N",
        help="mod_wsgi daemon processes (--single-directory; default 2)",
    )
    parser.add_argument(
        "--python-home",
        default="",
        metavar="DIR",
        help="mod_wsgi (--single-directory): the virtual environment TinCan is installed in",
    )
    parser.add_argument(
        "--python-path",
        default="",
        metavar="DIR",
        help="mod_wsgi (--single-directory): an extra import directory",
    )
    return parser


def main_server_config(argv: list[str] | None = None, prog: str = "tincan server-config") -> int:
    """Run ``server-config``; returns the exit status (0 ok, 1 failure, 2 usage)."""
    parser = _server_config_parser(prog)
    args = parse_or_status(parser, argv)
    if isinstance(args, int):
        return args

    def usage(message: str) -> int:
        parser.print_usage(sys.stderr)
        sys.stderr.write(f"{prog}: error: {message}\n")
        return 2

    if args.single_directory and args.server != "apache":
        return usage("--single-directory is an Apache (mod_wsgi) layout")
    webapp = os.path.abspath(args.webapp) if args.webapp else ""
    if (args.single_directory or args.server == "wsgi") and not webapp:
        return usage(f"{args.server} needs --webapp DIR")
    if args.processes < 1:
        return usage("--processes must be at least 1")
    try:
        codecs.lookup(args.encoding)
    except LookupError:
        return usage(f"unknown encoding {args.encoding!r}")
    if webapp and not os.path.isdir(os.path.join(webapp, "WEB-INF")):
        sys.stderr.write(f"{prog}: {args.webapp}: not a webapp (no WEB-INF directory)\n")
        return 2
    try:
        site = Site(
            urlroot=args.urlroot,
            static_dir=os.path.abspath(args.static_dir),
            app_url=args.app_url,
            server_name=" ".join(args.server_name),
            listen=args.listen,
            page_dirs=page_index_dirs(webapp, args.encoding) if webapp else None,
            webapp=webapp,
            encoding=args.encoding,
            gzip_static=args.gzip_static,
            processes=args.processes,
            python_home=os.path.abspath(args.python_home) if args.python_home else "",
            python_path=os.path.abspath(args.python_path) if args.python_path else "",
        )
    except SiteError as exc:
        return usage(str(exc))
    if args.server == "nginx":
        text = nginx_config(site)
    elif args.server == "apache":
        text = apache_config(site, single_directory=args.single_directory)
    else:
        text = wsgi_script(site)
    sys.stdout.write(text)
    return 0
