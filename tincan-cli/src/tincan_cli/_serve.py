"""``tincan serve`` and ``launch``: launch a webapp, report, and serve it."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

import tincan_core
from tincan_core import check_app

from ._check import BackgroundCheck, warnings_note
from ._errors import EXIT_FAILURE, EXIT_OK, CommandError, UsageError
from ._options import check_encoding, check_webapp
from ._output import command_logger, plain_logger
from ._reload import Reloader, SwappableApp, snapshot
from ._servers import ServerSettings, run_server

__all__ = ["ServeOptions", "serve", "server_settings", "write_compile_caches"]


@dataclass(frozen=True, slots=True)
class ServeOptions:
    fsroot: str = "."
    urlroot: str = "/"
    bind: str = "localhost"
    port: int = 8080
    static: bool = False
    compile: bool = False
    debug: bool = False
    encoding: str = "utf-8"
    force: bool = False
    reload: bool = False
    server: str = "builtin"
    workers: int | None = None
    threads: int | None = None

    @classmethod
    def from_namespace(cls, namespace: Any) -> ServeOptions:
        values = vars(namespace)
        return cls(**{name: values[name] for name in cls.__slots__ if name in values})


def write_compile_caches(fsroot: str, encoding: str) -> None:
    """Compile every template and code-behind into the caches, using every core.

    The launch that follows reads them back and reports every error, so the
    compiler's own report is not repeated.
    """
    tincan_core.compile_webapp(fsroot, encoding=encoding)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def server_settings(options: ServeOptions) -> ServerSettings:
    """The server part of ``options``, checked for combinations that cannot work."""
    settings = ServerSettings(
        options.server,
        options.bind,
        options.port,
        options.urlroot,
        options.workers,
        options.threads,
        options.debug,
    )
    settings.validate()
    if options.reload and options.server == "gunicorn":
        # Each worker process holds its own copy of the app: a swap in one reaches no other.
        raise UsageError("--reload works with the builtin and waitress servers, not gunicorn")
    return settings


def report_errors(errors: int, *, force: bool) -> bool:
    """Print the launch verdict; whether to go on serving."""
    if not errors:
        return True
    _stderr(f"{errors} error(s) detected, " + ("continuing" if force else "aborting"))
    return force


def serve(options: ServeOptions) -> int:
    """Run ``serve``/``launch`` with ``options``; the exit code."""
    settings = server_settings(options)
    check_encoding(options.encoding)
    root = check_webapp(options.fsroot)
    with command_logger("tincan", debug=options.debug) as log:

        def launch(logger: logging.Logger) -> tuple[Any, int]:
            return tincan_core.launch(
                root,
                options.urlroot,
                not settings.single_threaded,
                logger=logger,
                encoding=options.encoding,
                static=options.static,
            )

        if options.compile:
            write_compile_caches(root, options.encoding)
            compiled, errors = launch(log)
            if report_errors(errors, force=False):
                note = warnings_note(check_app(compiled)) if compiled is not None else ""
                _stderr("0 error(s) detected" + (f", {note}" if note else ""))
                return EXIT_OK
            return EXIT_FAILURE

        initial = snapshot(root, static=options.static) if options.reload else {}
        app, errors = launch(log)
        if not report_errors(errors, force=options.force):
            return EXIT_FAILURE
        if app is None:
            raise CommandError(f"{root}: nothing to serve, the webapp did not launch")

        wsgi_app: Any = app
        reloader = None
        if options.reload:
            wsgi_app = SwappableApp(app)
            # Re-launches only print problems (and routes with --debug), not every route again.
            level = logging.DEBUG if options.debug else logging.WARNING
            quiet = plain_logger("tincan.reload", level, log.handlers[0])
            reloader = Reloader(
                wsgi_app,
                root,
                lambda: launch(quiet),
                static=options.static,
                initial=initial,
                report=_stderr,
                keep_broken=options.force,
            )
            reloader.start()

        # gunicorn forks its workers after the announcement: no thread may run then.
        checked = BackgroundCheck(app, background=options.server != "gunicorn")

        def announce(url: str) -> None:
            note = checked.note()
            print(
                f"Serving {root} on {url} (press Ctrl-C to stop)" + (f"; {note}" if note else ""),
                flush=True,
            )

        try:
            return run_server(wsgi_app, settings, announce, log)
        finally:
            if reloader is not None:
                reloader.stop()
