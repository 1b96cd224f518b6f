"""``launch()``: scan, parse, compile and build a webapp into a :class:`TinCan` app."""

from __future__ import annotations

import codecs
import contextlib
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from ._app import TinCan
from ._build import Builder
from ._errors import TinCanError
from ._paths import normalize_urlroot
from ._session import SECRET_ENV, session_config
from ._settings import Settings, load_settings, merge_overrides

__all__ = ["ENCODING", "Prepared", "launch", "prepare_launch", "session_key_configured"]

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


@dataclass(slots=True)
class Prepared:
    """A launch up to its pages: the empty app, and the settings problems found so far."""

    app: TinCan
    root: str
    prefix: str
    log: logging.Logger
    encoding: str
    problems: list[TinCanError] = field(default_factory=list)

    def report_problems(self, builder: Builder) -> None:
        # A bad setting keeps its default and a bad key file leaves sessions off (pages
        # that use theirs answer 500); every page still launches.
        for problem in self.problems:
            builder.error(problem)


def prepare_launch(
    fsroot: str | os.PathLike[str] | None,
    urlroot: str,
    logger: logging.Logger | None,
    encoding: str,
    settings: dict[str, Any],
) -> Prepared | None:
    """What every launch does before its pages; ``None`` (logged) for an unusable tree."""
    merge_overrides(Settings(), settings)  # a caller's mistake fails before anything else
    log = logger if logger is not None else _silent_logger()
    # Absolute from here on: file names in errors, templates and code-behind must
    # not depend on the working directory, which a server may change after launch.
    root = os.path.abspath(os.fspath(fsroot) if fsroot is not None else os.getcwd())
    try:
        prefix = normalize_urlroot(urlroot)
    except TinCanError as exc:
        log.error("%s", exc)
        return None
    problem = _unusable_tree(root, encoding)
    if problem is not None:
        log.error("%s", problem)
        return None
    _add_lib_path(root)

    from_file, problems = load_settings(root)
    effective = merge_overrides(from_file, settings)
    sessions = None
    try:
        sessions = session_config(effective, root)
    except TinCanError as exc:
        problems = [*problems, exc]
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
    return Prepared(app, root, prefix, log, encoding, list(problems))


def session_key_configured(fsroot: str | os.PathLike[str]) -> bool:
    """Whether the webapp at ``fsroot`` has its session keys configured: in
    ``$TINCAN_SECRET_KEY``, or as a key file named in ``WEB-INF/tincan.toml``
    (readable or not: a bad key file is the launch's error to report)."""
    if os.environ.get(SECRET_ENV, "").strip():
        return True
    settings, _ = load_settings(os.path.abspath(os.fspath(fsroot)))
    return settings.session_key_file is not None


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
    prepared = prepare_launch(fsroot, urlroot, logger, encoding, settings)
    if prepared is None:
        return None, 1
    app = prepared.app
    builder = Builder(
        app, prepared.root, prepared.prefix, prepared.encoding, prepared.log, static=static
    )
    prepared.report_problems(builder)
    errors = builder.build()
    if debug:  # decided here: the production 500 path is untouched
        from ._debugpage import install_debug_page

        install_debug_page(app, prepared.root)
    return app, errors
