"""Helpers for tincan-core's own tests: throwaway webapps, clients, captured logs.

Webapps are written into ``tmp_path``; requests go in-process through httpx's
WSGI transport (with PATH_INFO re-encoded the way real WSGI servers pass it) or,
where the wire matters, through a real server on 127.0.0.1.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import logging
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import chameleon
import httpx
import pytest
import tincan_core
from chameleon import PageTemplate
from hypothesis import HealthCheck, settings

# The repository's hypothesis profiles, here too so that these tests behave the same
# in an unpacked sdist: no deadline (test machines are busy); the property tests share
# function-scoped fixtures (tmp_path, factories) between examples on purpose.
settings.register_profile(
    "default",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config: pytest.Config) -> None:
    # The repository registers this marker in its pyproject.toml; an unpacked sdist
    # has only this file.
    config.addinivalue_line("markers", "slow: real servers, browsers or wheel builds")


Files = dict[str, "str | bytes | None"]


def write_webapp(root: Path, files: Files, *, web_inf: bool = True) -> Path:
    """Write ``files`` (relative path -> text, bytes, or None for a directory) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    if web_inf:
        (root / "WEB-INF").mkdir(exist_ok=True)
    for relpath, content in files.items():
        path = root / relpath
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return root


class _Pep3333Paths:
    """httpx's WSGI transport passes PATH_INFO as decoded text; real servers pass the
    raw bytes as latin-1 (PEP 3333), which is what Bottle expects."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ["PATH_INFO"] = environ["PATH_INFO"].encode("utf-8").decode("latin-1")
        return self.app(environ, start_response)


def wsgi_client(app: Any, **kwargs: Any) -> httpx.Client:
    transport = httpx.WSGITransport(app=_Pep3333Paths(app))
    return httpx.Client(transport=transport, base_url="http://testserver", **kwargs)


class LogCapture(logging.Handler):
    """A handler that keeps every record, for asserting on what a launch logged."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.DEBUG) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]

    def errors(self) -> list[str]:
        return self.messages(logging.ERROR)

    def clear(self) -> None:
        self.records.clear()


_logger_ids = itertools.count()


def capturing_logger(level: int = logging.INFO) -> tuple[logging.Logger, LogCapture]:
    logger = logging.getLogger(f"tincan-core-tests.{next(_logger_ids)}")
    logger.setLevel(level)
    logger.propagate = False
    capture = LogCapture()
    logger.addHandler(capture)
    return logger, capture


class Launched:
    """A launched webapp: the app, its error count, its log, and a client."""

    def __init__(self, root: Path, app: tincan_core.TinCan | None, errors: int, log: LogCapture):
        self.root = root
        self.app = app
        self.errors = errors
        self.log = log
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            assert self.app is not None, self.log.errors()
            self._client = wsgi_client(self.app)
        return self._client

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, path, **kwargs)

    def routes(self) -> set[str]:
        assert self.app is not None
        return set(self.app.router.literal)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


@pytest.fixture
def make_webapp(tmp_path: Path) -> Callable[..., Path]:
    """``make_webapp(files)`` writes a fresh webapp (with WEB-INF) and returns its root."""
    counter = itertools.count()

    def make(files: Files | None = None, *, web_inf: bool = True) -> Path:
        return write_webapp(tmp_path / f"webapp{next(counter)}", files or {}, web_inf=web_inf)

    return make


@pytest.fixture
def launch_webapp(make_webapp: Callable[..., Path]) -> Iterator[Callable[..., Launched]]:
    """``launch_webapp(files, **launch_options)``: write, launch, and wrap a webapp."""
    launched: list[Launched] = []

    def run(files: Files | None = None, *, level: int = logging.INFO, **options: Any) -> Launched:
        root = make_webapp(files)
        logger, capture = capturing_logger(level)
        app, errors = tincan_core.launch(root, logger=logger, **options)
        result = Launched(root, app, errors, capture)
        launched.append(result)
        return result

    yield run
    for result in launched:
        result.close()


@pytest.fixture(scope="session")
def make_client() -> Callable[[Any], httpx.Client]:
    """``make_client(app)``: an in-process httpx client (the caller closes it); usable
    from fixtures of any scope."""
    return wsgi_client


@pytest.fixture
def client_for() -> Iterator[Callable[[Any], httpx.Client]]:
    """``client_for(app)``: an in-process httpx client for a WSGI app."""
    clients: list[httpx.Client] = []

    def make(app: Any) -> httpx.Client:
        client = wsgi_client(app)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def new_logger() -> Callable[..., tuple[logging.Logger, LogCapture]]:
    """``new_logger(level)``: a private logger and the handler capturing its records."""
    return capturing_logger


@pytest.fixture
def serve_app() -> Iterator[Callable[[Any], str]]:
    """``serve_app(app)``: serve on a free 127.0.0.1 port; returns the base URL."""
    servers: list[tincan_core.ThreadedWSGIServer] = []

    def serve(app: Any) -> str:
        server = tincan_core.make_server(app, "127.0.0.1", 0)
        servers.append(server)
        tincan_core.serve_in_thread(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


# -- the Python program Chameleon makes of a template, for comparing two compiles -------------
# Chameleon names temporaries after id()s of its objects and its comments show
# addresses: the names of each prefix are numbered in order of appearance and the
# addresses dropped. Numbering by prefix and id, not by id alone: an address Python
# reuses for a new object may be met under two prefixes in one run and not in
# another, and names of different prefixes differ whatever their numbers.

_GENERATED_NAME = re.compile(r"(_\w*?_)(\d{9,})")
# The streams of an i18n:translate block are named after the id() of its translation
# context, an object dropped when the block ends: a later block may get its address,
# and so the same names, in one run and not in another (plain Chameleon alike).
# Those names are compared without the id.
_TRANSLATION_STREAM = re.compile(r"(__(?:stream|append)_)\d{9,}(_\w+)")
_ADDRESS = re.compile(r" at (0x)?[0-9a-f]{6,}>")  # reprs in Chameleon's comments


def _renumbered(source: str) -> str:
    """``source`` with its id()-based names numbered and its addresses dropped."""
    numbers: dict[tuple[str, str], str] = {}
    source = _TRANSLATION_STREAM.sub(r"\1T\2", _ADDRESS.sub(" at ...>", source))
    return _GENERATED_NAME.sub(
        lambda m: m.group(1) + numbers.setdefault(m.groups(), str(len(numbers))), source
    )


def _program_source(body: str) -> str:
    """The program Chameleon (as installed now) makes of ``body``, renumbered; or the
    error it reports, as ``Kind: message``."""
    try:
        template = PageTemplate(body, keep_source=True)
        template.cook_check()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return _renumbered(str(template.source))


@pytest.fixture(scope="session")
def program_source() -> Callable[[str], str]:
    """The program Chameleon (as installed when called) makes of a template body,
    renumbered; or the error it reports, as ``Kind: message``."""
    return _program_source


_OBJECT_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def _outcome(render: Callable[..., str], **variables: Any) -> tuple[str, str]:
    """The text a render gives, or the kind and message of its error."""
    try:
        return "text", render(**variables)
    except Exception as exc:
        return type(exc).__name__, _OBJECT_ADDRESS.sub(" at ...>", str(exc))


@pytest.fixture(scope="session")
def same_as_chameleon(
    plain_and_fast: Callable[[str], tuple[PageTemplate, PageTemplate]],
) -> Callable[..., PageTemplate]:
    """``check(body, **variables)``: the template ``body`` renders the same text (or
    the same error) compiled fast, through Chameleon's render and TinCan's, as
    compiled by plain Chameleon; the fast template, to read its program."""
    from tincan_core._render import fast_render

    def check(body: str, **variables: Any) -> PageTemplate:
        plain, fast = plain_and_fast(body)
        expected = _outcome(plain.render, **variables)
        assert _outcome(fast.render, **variables) == expected
        assert _outcome(fast_render(fast.render), **variables) == expected
        return fast

    return check


@pytest.fixture(scope="session")
def plain_and_fast() -> Callable[[str], tuple[PageTemplate, PageTemplate]]:
    """``(plain, fast)`` of a template text: compiled as plain Chameleon does, and with
    TinCan's faster compile (its programs' sources kept, for tests that read them)."""
    from tincan_core import _fastcompile

    def compiled(body: str) -> tuple[PageTemplate, PageTemplate]:
        with _fastcompile.disabled():
            plain = PageTemplate(body, keep_source=True)
            plain.cook_check()
        fast = PageTemplate(body, keep_source=True)
        fast.cook_check()
        return plain, fast

    return compiled


# -- Chameleon's own test templates ----------------------------------------------------


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tincan-tests"


@pytest.fixture(scope="session")
def chameleon_inputs() -> Path:
    """Chameleon's ``tests/inputs`` for the installed version, fetched once if need be
    (the tests that need it are skipped when the package index cannot be reached)."""
    installed = Path(chameleon.__file__).parent / "tests" / "inputs"
    if installed.is_dir():
        return installed
    version = importlib.metadata.version("chameleon")
    target = _cache_home() / f"chameleon-{version}-inputs"
    if target.is_dir():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
            "--disable-pip-version-check", "--quiet", f"chameleon=={version}", "-d", tmp,
        ]  # fmt: skip
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"cannot fetch Chameleon {version}'s source distribution: {exc}")
        archives = list(Path(tmp).glob("*.tar.gz"))
        if result.returncode != 0 or not archives:
            reason = (result.stderr.strip().splitlines() or ["no sdist"])[-1]
            pytest.skip(f"package index unreachable for Chameleon {version}'s sdist: {reason}")
        staging = Path(tmp) / "inputs"
        staging.mkdir()
        with tarfile.open(archives[0]) as archive:
            for member in archive.getmembers():
                parts = member.name.split("/")
                if member.isfile() and parts[-2:-1] == ["inputs"] and "tests" in parts:
                    extracted = archive.extractfile(member)
                    assert extracted is not None
                    (staging / parts[-1]).write_bytes(extracted.read())
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, target)  # whole or not at all
    return target
