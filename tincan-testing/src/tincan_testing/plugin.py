"""The pytest plugin: fixtures for launching TinCan webapps and talking to them.

Active whenever ``tincan-testing`` is installed (entry point ``pytest11``).
Every name starts with ``tincan_`` so it cannot clash with other plugins.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from ._cachedir import CopySlots
from ._copies import CopyPool, SessionCopy, WebappFiles
from ._failures import ServerFailure, origin
from ._webapp import LiveServer, Webapp, no_collection, write_webapp

__all__ = [
    "WebappFactory",
    "tincan_app",
    "tincan_app_dir",
    "tincan_client",
    "tincan_live_server",
    "tincan_settings",
    "tincan_webapp",
]

_MARKER_OPTIONS = frozenset({
    "webapp", "static", "urlroot", "encoding", "multithread", "allow_errors", "log_level",
    "raise_server_exceptions", "live_host", "live_port", "settings",
})


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tincan", "TinCan webapps (tincan-testing)")
    group.addoption(
        "--tincan-routes", action="store_true", default=False,
        help="show each webapp's launch log, its routes included, with failing tests "
        "(by default only warnings and errors are shown)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "tincan(webapp=None, *, static=False, urlroot='/', encoding='utf-8', multithread=True, "
        "allow_errors=False, log_level=logging.INFO, raise_server_exceptions=True, "
        "live_host='127.0.0.1', live_port=0, settings=None): the webapp behind tincan_app, "
        "tincan_client and tincan_live_server: a directory (relative to the test file) "
        "or a dict of files",
    )


class WebappFactory(Protocol):
    """The ``tincan_webapp`` fixture: lay out a webapp in a temporary directory and launch it."""

    def __call__(
        self,
        files: WebappFiles | None = None,
        *,
        copy_from: str | os.PathLike[str] | None = None,
        urlroot: str = "/",
        static: bool = False,
        encoding: str = "utf-8",
        multithread: bool = True,
        allow_errors: bool = False,
        log_level: int = logging.INFO,
        raise_server_exceptions: bool = True,
        live_host: str = "127.0.0.1",
        live_port: int = 0,
        settings: Mapping[str, Any] | None = None,
    ) -> Webapp: ...


def _launch_failure(webapp: Webapp) -> str:
    problems = webapp.problems()
    where = webapp.source or webapp.root
    if webapp.app is None:
        head = f"TinCan webapp {where} could not be launched:"
    else:
        head = f"TinCan webapp {where} launched with {webapp.errors} error(s):"
    lines = [head, *(f"  {line}" for line in problems)]
    lines.append(f"(launched from {webapp.root}; pass allow_errors=True to inspect the errors)")
    return "\n".join(lines)


def _launch(
    root: Path,
    source: Path | None,
    *,
    urlroot: str = "/",
    static: bool = False,
    encoding: str = "utf-8",
    multithread: bool = True,
    allow_errors: bool = False,
    log_level: int = logging.INFO,
    raise_server_exceptions: bool = True,
    live_host: str = "127.0.0.1",
    live_port: int = 0,
    shown_log_level: int = logging.WARNING,
    settings: Mapping[str, Any] | None = None,
) -> Webapp:
    webapp = Webapp(
        root, urlroot=urlroot, static=static, encoding=encoding, multithread=multithread,
        source=source, log_level=log_level, raise_server_exceptions=raise_server_exceptions,
        live_host=live_host, live_port=live_port, shown_log_level=shown_log_level,
        settings=settings,
    )
    if not allow_errors and (webapp.app is None or webapp.errors):
        webapp.close()
        pytest.fail(_launch_failure(webapp), pytrace=False)
    return webapp


@pytest.fixture(scope="session")
def _tincan_copies(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CopyPool]:
    """The session's copies of webapp directories: launching the same copy again
    reuses its compiled templates (the cache is keyed by file path).

    With pytest's cache available they live in its directory and serve the
    next session too; otherwise in the session's temporary directory.
    """
    cache = getattr(request.config, "cache", None)
    slots = None
    if cache is not None:
        try:
            slots = CopySlots(cache.mkdir("tincan"))
        except OSError:
            slots = None
    pool = CopyPool(
        lambda: tmp_path_factory.mktemp("tincan-copy"),
        slots.claim if slots is not None else None,
    )
    try:
        yield pool
    finally:
        pool.save()
        if slots is not None:
            slots.release()


def _unraised_report(failures: list[tuple[Webapp, ServerFailure]]) -> str:
    lines = [f"{len(failures)} request(s) to a live server failed with a server error "
             "that no client of the test raised:"]
    for webapp, failure in failures:
        exception = failure.exception
        if exception is None:
            lines.append(f"  {failure.method} {failure.path}: {failure.message}")
            continue
        where = origin(exception, webapp._tracing.roots) or failure.message
        text = str(exception).strip().splitlines()
        lines.append(f"  {failure.method} {failure.path}: {where}: {type(exception).__name__}"
                     + (f": {text[0]}" if text else ""))
    lines.append("(pass raise_server_exceptions=False to expect them, or request through "
                 "server.client() to get the traceback in the test)")
    return "\n".join(lines)


@pytest.fixture
def tincan_settings() -> Mapping[str, Any]:
    """Settings for every webapp a test launches: ``launch()`` keywords, as the keys of
    ``WEB-INF/tincan.toml`` (``clean_urls=True``, ``app={"database": ...}``). Empty;
    override it (in a test module or ``conftest.py``) to give tests, say, a database
    of their own: ``return {"app": {"database": str(tmp_path / "db.sqlite")}}``.
    A launch's own ``settings=`` is laid over these, key by key."""
    return {}


@pytest.fixture
def tincan_webapp(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _tincan_copies: CopyPool,
    tincan_settings: Mapping[str, Any],
) -> Iterator[WebappFactory]:
    """Factory: ``tincan_webapp(files, *, copy_from, urlroot, static, encoding, multithread,
    allow_errors, log_level, settings) -> Webapp``.

    Writes ``files`` (``{"index.pspx": "...", ...}``; ``None`` leaves a file or
    directory of ``copy_from`` out) into a new directory under the test's
    ``tmp_path``, or on top of a copy of ``copy_from`` kept for the session, adds
    ``WEB-INF`` if missing, and launches it. A launch that finds errors fails the
    test with every problem it logged, unless ``allow_errors=True``. Clients and
    live servers are closed after the test.
    """
    made: list[Webapp] = []
    held: list[SessionCopy] = []
    numbers = itertools.count()
    shown = logging.INFO if request.config.getoption("--tincan-routes", False) else logging.WARNING

    def factory(
        files: WebappFiles | None = None,
        *,
        copy_from: str | os.PathLike[str] | None = None,
        encoding: str = "utf-8",
        settings: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Webapp:
        settings = {**tincan_settings, **(settings or {})}
        if copy_from is None:
            source = None
            root = next(p for n in numbers if not (p := tmp_path / f"tincan-webapp-{n}").exists())
            write_webapp(root, files, encoding=encoding)
        else:
            source = Path(copy_from).resolve()
            try:
                with no_collection():
                    copy = _tincan_copies.acquire(source, files, encoding=encoding)
            except FileNotFoundError as exc:
                pytest.fail(f"TinCan webapp: {exc} (a marker's webapp is relative to the "
                            "test file)", pytrace=False)
            held.append(copy)
            root = copy.root
        webapp = _launch(
            root, source, encoding=encoding, shown_log_level=shown, settings=settings, **options
        )
        made.append(webapp)
        return webapp

    try:
        yield factory
    finally:
        for webapp in made:
            webapp.close()
        for copy in held:
            _tincan_copies.release(copy)
    unraised = [(webapp, f) for webapp in made for f in webapp.unraised_failures()]
    if unraised:
        pytest.fail(_unraised_report(unraised), pytrace=False)


@pytest.fixture
def tincan_app_dir() -> str | os.PathLike[str]:
    """The webapp directory for ``tincan_app`` when no ``tincan`` marker names one.

    Override it (e.g. in ``conftest.py``) to give a whole directory of tests one webapp.
    """
    pytest.fail(
        "no webapp selected: mark the test with @pytest.mark.tincan(webapp='path/to/webapp') "
        "or override the tincan_app_dir fixture",
        pytrace=False,
    )


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for mark in request.node.iter_markers("tincan"):  # closest first: it wins
        if len(mark.args) > 1:
            pytest.fail("@pytest.mark.tincan takes at most one positional argument (webapp)")
        if mark.args:
            options.setdefault("webapp", mark.args[0])
        for name, value in mark.kwargs.items():
            if name not in _MARKER_OPTIONS:
                known = ", ".join(sorted(_MARKER_OPTIONS))
                pytest.fail(f"@pytest.mark.tincan: unknown option {name!r} (known: {known})",
                            pytrace=False)
            options.setdefault(name, value)
    return options


@pytest.fixture
def tincan_app(request: pytest.FixtureRequest, tincan_webapp: WebappFactory) -> Webapp:
    """The webapp selected by ``@pytest.mark.tincan(...)`` or ``tincan_app_dir``, freshly
    launched for this test.

    A directory goes into a copy kept for the session, brought back to the
    source's state before each test and launched again: a new app, new
    code-behind and ``WEB-INF/lib`` modules, warm template cache. Use
    ``tincan_webapp(copy_from=..., files=...)`` for a changed tree.
    """
    options = _marker_options(request)
    selected = options.pop("webapp", None)
    if selected is None:
        selected = request.getfixturevalue("tincan_app_dir")
        base = Path.cwd()
    else:
        base = request.path.parent
    if isinstance(selected, Mapping):
        return tincan_webapp(selected, **options)
    return tincan_webapp(copy_from=base / Path(selected), **options)


@pytest.fixture
def tincan_client(tincan_app: Webapp) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` on the selected webapp, in-process, ``base_url="http://testserver"``."""
    with tincan_app.client() as client:
        yield client


@pytest.fixture
def tincan_live_server(tincan_app: Webapp) -> Iterator[LiveServer]:
    """The selected webapp on a threaded server at 127.0.0.1 and a free port (``.url``)."""
    with tincan_app.live() as server:
        yield server
