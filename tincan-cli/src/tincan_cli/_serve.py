"""``tincan serve`` and ``launch``: launch a webapp, report, and serve it."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import tincan_core
from tincan_core import (
    SECRET_ENV,
    OnDemandLaunch,
    check_app,
    launch_on_demand,
    session_key_configured,
)

from ._check import BackgroundCheck, LateNote, warnings_note
from ._errors import EXIT_FAILURE, EXIT_OK, CommandError, UsageError
from ._options import check_encoding, check_webapp
from ._output import command_logger, plain_logger
from ._reload import Reloader, SwappableApp, snapshot
from ._servers import ServerSettings, is_loopback, run_server

__all__ = [
    "SECRET_ENV",
    "ServeOptions",
    "compiles_on_demand",
    "debug_page_on",
    "serve",
    "server_settings",
    "write_compile_caches",
]

NO_SECRET_WARNING = (
    "warning: no session key configured (neither $TINCAN_SECRET_KEY nor key_file in "
    "WEB-INF/tincan.toml): sessions are signed with a random key of this process and "
    "end when it stops"
)


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
    # The developer error page: True/False as asked; None (tincan serve without
    # --debug-page/--no-debug-page) decides by the bind address. The compatible
    # launch command has no such option: False.
    debug_page: bool | None = False

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


def debug_page_on(options: ServeOptions) -> bool:
    """Whether 500s and broken pages show the developer error pages: as asked, else
    for development, which is TinCan's own server (or ``--reload``) listening on a
    loopback address only.

    waitress and gunicorn on 127.0.0.1 are how a site is served behind nginx or
    Apache, where every visitor's request arrives from loopback: the page is off
    there unless ``--debug-page`` asks for it.
    """
    if options.debug_page is not None:
        return options.debug_page
    return is_loopback(options.bind) and (options.server == "builtin" or options.reload)


def compiles_on_demand(options: ServeOptions) -> bool:
    """Whether pages compile when first requested (and in the background), so the
    server starts at once and broken pages answer with their errors.

    That is development: ``--reload``, or the developer error page on. Otherwise
    (and always with gunicorn, whose workers fork after the launch, and for
    ``--compile``) the launch is complete before serving, and errors stop it.
    """
    if options.compile or options.server == "gunicorn":
        return False
    return options.reload or debug_page_on(options)


@contextlib.contextmanager
def session_secret(root: str) -> Iterator[None]:
    """A random session key for this process while it serves, if the webapp has none.

    Taken back afterwards, so that a program running serve() in-process keeps its
    environment.
    """
    if session_key_configured(root):
        yield
        return
    _stderr(NO_SECRET_WARNING)
    os.environ[SECRET_ENV] = secrets.token_urlsafe(48)
    try:
        yield
    finally:
        os.environ.pop(SECRET_ENV, None)


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
    debug_page = debug_page_on(options)
    with command_logger("tincan", debug=options.debug) as log:

        def launch(logger: logging.Logger) -> tuple[Any, int]:
            return tincan_core.launch(
                root,
                options.urlroot,
                not settings.single_threaded,
                logger=logger,
                encoding=options.encoding,
                static=options.static,
                debug=debug_page,
            )

        if options.compile:
            write_compile_caches(root, options.encoding)
            compiled, errors = launch(log)
            if report_errors(errors, force=False):
                note = warnings_note(check_app(compiled)) if compiled is not None else ""
                _stderr("0 error(s) detected" + (f", {note}" if note else ""))
                return EXIT_OK
            return EXIT_FAILURE

        if not compiles_on_demand(options):
            # Serving for real: sessions need the webapp's own key (a random one would
            # sign out every visitor at each restart, and differ between workers).
            return _serve_launched(options, settings, root, log, launch)
        with session_secret(root):
            return _serve_on_demand(options, settings, root, log, debug_page)


def _serve_launched(
    options: ServeOptions,
    settings: ServerSettings,
    root: str,
    log: logging.Logger,
    launch: Callable[[logging.Logger], tuple[Any, int]],
) -> int:
    """Serve a complete launch: errors stop it before serving, unless --force."""
    app, errors = launch(log)
    if not report_errors(errors, force=options.force):
        return EXIT_FAILURE
    if app is None:
        raise CommandError(f"{root}: nothing to serve, the webapp did not launch")

    # gunicorn forks its workers after the announcement: no thread may run then.
    checked = BackgroundCheck(app, background=options.server != "gunicorn")

    def announce(url: str) -> None:
        note = checked.note()
        print(
            f"Serving {root} on {url} (press Ctrl-C to stop)" + (f"; {note}" if note else ""),
            flush=True,
        )

    return run_server(app, settings, announce, log)


class _CompiledSummary(LateNote):
    """What the background compile found, for the announcement or a line of its own.

    A small webapp is compiled before the server announces itself: the check's
    note is then part of the "Serving" line, as with a complete launch. Otherwise
    it is printed when the compile is done.
    """

    def compiled(self, done: OnDemandLaunch) -> None:
        found = done.errors - done.launch_errors
        text = f"all {done.pages} page(s) compiled"
        if found:
            text += f", {found} more error(s) detected"
        note = ""
        if done.app is not None:
            with contextlib.suppress(Exception):  # a check that fails must not disturb serving
                note = warnings_note(check_app(done.app))
        _stderr(text)
        self.deliver(note)

    def note(self, wait: float = 0.3) -> str:
        """The check's note if the compile is done within ``wait`` seconds, else ``""``."""
        return self.claim(wait)


def _serve_on_demand(
    options: ServeOptions,
    settings: ServerSettings,
    root: str,
    log: logging.Logger,
    debug_page: bool,
) -> int:
    """Serve at once, compiling pages as they are requested and in the background.

    Broken pages answer with their errors (the launch-error page when the debug
    page is on, a plain 500 otherwise); every error is printed when it is found.
    With --reload each change is a new on-demand launch, swapped in whole.
    """

    def launch(logger: logging.Logger) -> OnDemandLaunch:
        return launch_on_demand(
            root,
            options.urlroot,
            logger=logger,
            encoding=options.encoding,
            static=options.static,
            debug=debug_page,
        )

    initial = snapshot(root, static=options.static) if options.reload else {}
    first = launch(log)
    if first.app is None:
        _stderr("1 error(s) detected, aborting")
        raise CommandError(f"{root}: nothing to serve, the webapp did not launch")
    if first.errors:
        shown = "they show their errors" if debug_page else "they answer 500"
        _stderr(f"{first.errors} error(s) detected, serving the other pages ({shown})")

    summary = _CompiledSummary()

    current = [first]
    wsgi_app: Any = first.app
    reloader = None
    if options.reload:
        wsgi_app = SwappableApp(first.app)
        # Re-launches only print problems (and routes with --debug), not every route again.
        level = logging.DEBUG if options.debug else logging.WARNING
        quiet = plain_logger("tincan.reload", level, log.handlers[0])

        def relaunch() -> tuple[Any, int]:
            current[0].stop()
            again = launch(quiet)
            if again.app is not None:
                again.start()  # forking is not safe any more: one background thread
                current[0] = again
            return again.app, again.errors

        reloader = Reloader(
            wsgi_app,
            root,
            relaunch,
            static=options.static,
            initial=initial,
            report=_stderr,
            keep_broken=True,  # broken pages show their errors; the others are new
        )
    # Workers fork here, before the server and the reloader start their threads.
    first.start(on_done=summary.compiled)
    if reloader is not None:
        reloader.start()

    def announce(url: str) -> None:
        note = summary.note()
        print(
            f"Serving {root} on {url} (press Ctrl-C to stop); "
            + (note or f"{first.pages} page(s) compile on demand"),
            flush=True,
        )

    try:
        return run_server(wsgi_app, settings, announce, log)
    finally:
        if reloader is not None:
            reloader.stop()
        current[0].stop()
