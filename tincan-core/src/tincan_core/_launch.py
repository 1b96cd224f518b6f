"""``launch()``: scan, parse, compile and build a webapp into a :class:`TinCan` app."""

from __future__ import annotations

import codecs
import contextlib
import logging
import os
import sys
from typing import Any

from ._app import TinCan
from ._build import Builder
from ._errors import TinCanError
from ._paths import normalize_urlroot
from ._session import session_config
from ._settings import Settings, load_settings, merge_overrides

__all__ = ["ENCODING", "launch"]

ENCODING = "utf-8"


def _silent_logger() -> logging.Logger:
    """A logger that never writes anything, anywhere (WSGI forbids stray output)."""
    logger = logging.Logger("tincan.silent")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    logger.disabled = True
    return logger


def _unusable_tree(root: str, encoding: str) -> str | None:
    """Why the tree at ``root`` cannot be launched at all, or ``None``."""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        return f"unknown encoding {encoding!r}"
    if not getattr(info, "_is_text_encoding", True):  # e.g. base64, rot13: bytes<->bytes
        return f"{encoding!r} is not a text encoding"
    if not os.path.isdir(root):
        return f"{root}: not a directory"
    if not os.path.isdir(os.path.join(root, "WEB-INF")):
        return f"{root}: no WEB-INF directory, not a webapp"
    return None


def _add_lib_path(fsroot: str) -> None:
    lib = os.path.join(fsroot, "WEB-INF", "lib")
    with contextlib.suppress(OSError):  # a read-only tree still launches
        os.makedirs(lib, exist_ok=True)
    real = os.path.realpath(lib)
    if os.path.isdir(real) and real not in sys.path:
        sys.path.append(real)


def launch(
    fsroot: str | os.PathLike[str] | None = None,
    urlroot: str = "/",
    multithread: bool = True,
    *,
    logger: logging.Logger | None = None,
    encoding: str = ENCODING,
    static: bool = False,
    debug: bool = False,
    **settings: Any,
) -> tuple[TinCan | None, int]:
    """Build the WSGI application of the webapp at ``fsroot`` (default: the current directory).

    Returns ``(app, errors)``: every problem found is logged (one line each, with
    the traceback when ``logger`` is at DEBUG) and costs the page concerned its
    route; every other page still launches. A tree that cannot be used at all
    (missing, no ``WEB-INF``, relative ``urlroot``) gives ``(None, 1)``.

    Without a ``logger`` TinCan is completely silent. ``multithread`` is accepted
    for compatibility (``False`` for single-threaded, e.g. prefork, servers): what
    pages share (compiled templates, macro files, code-behind classes) is immutable
    once launched and every request gets its own page instance, so one app is
    correct under both kinds of server and the flag changes nothing.
    ``static=True`` also routes the webapp's static files. ``debug=True`` answers
    500s with the developer error page (exception, frames, request); never in production.

    Further keywords are settings (``clean_urls=True``, ``trusted_origins=[...]``,
    ``max_body_size=...``; the keys of ``WEB-INF/tincan.toml``, with ``session_``
    before the keys of its ``[session]`` table); they override the file. An
    unknown keyword, or a setting of the wrong type, is a ``TypeError``.
    """
    merge_overrides(Settings(), settings)  # a caller's mistake fails before anything else
    log = logger if logger is not None else _silent_logger()
    # Absolute from here on: file names in errors, templates and code-behind must
    # not depend on the working directory, which a server may change after launch.
    root = os.path.abspath(os.fspath(fsroot) if fsroot is not None else os.getcwd())
    try:
        prefix = normalize_urlroot(urlroot)
    except TinCanError as exc:
        log.error("%s", exc)
        return None, 1
    problem = _unusable_tree(root, encoding)
    if problem is not None:
        log.error("%s", problem)
        return None, 1
    _add_lib_path(root)

    from_file, settings_errors = load_settings(root)
    effective = merge_overrides(from_file, settings)
    sessions, sessions_error = None, None
    try:
        sessions = session_config(effective, root)
    except TinCanError as exc:
        sessions_error = exc
    app = TinCan(logger=log, settings=effective, sessions=sessions)
    app.config.update(
        {
            "tincan.fsroot": root,
            "tincan.urlroot": prefix or "/",  # as the original: no trailing slash
            "tincan.logger": log,
            "tincan.encoding": encoding,
            "tincan.settings": effective,
        }
    )
    builder = Builder(app, root, prefix, encoding, log, static=static)
    # A bad setting keeps its default and a bad key file leaves sessions off (pages
    # that use theirs answer 500); every page still launches.
    for settings_error in settings_errors:
        builder.error(settings_error)
    if sessions_error is not None:
        builder.error(sessions_error)
    errors = builder.build()
    if debug:  # decided here: the production 500 path is untouched
        from ._debugpage import install_debug_page

        install_debug_page(app, root)
    return app, errors
