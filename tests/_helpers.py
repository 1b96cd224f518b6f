"""Shared pieces of the end-to-end tests over ``examples/demo``.

Requests go in-process through httpx's WSGI transport. Tests that need a
changed demo work on one copy of it per test session and add (or move aside)
files for a single launch; the copy keeps its compiled-template cache, so those
launches stay fast.
"""

from __future__ import annotations

import itertools
import logging
import shutil
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import tincan

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"

# Every URL of the demo: the status it answers with and a text only that answer holds.
DEMO_URLS: list[tuple[str, int, str]] = [
    ("/", 200, "Welcome to the TinCan guestbook"),
    ("/index.pspx", 200, "Welcome to the TinCan guestbook"),
    ("/home.pspx", 200, "Welcome to the TinCan guestbook"),
    ("/start.pspx", 200, "Welcome to the TinCan guestbook"),
    ("/guestbook.pspx", 200, "<h1>Sign the guestbook</h1>"),
    ("/entries.pspx", 200, '<article class="entry">'),
    ("/entries-table.pspx", 200, '<table class="entries">'),
    ("/entry.pspx?n=999999", 404, "There is no entry #999999."),
    ("/about/", 200, "<h1>About this site</h1>"),
    ("/about", 200, "<h1>About this site</h1>"),
    ("/about/index.pspx", 200, "<h1>About this site</h1>"),
    ("/about/Über uns.pspx", 200, "<h1>Über diese Seite</h1>"),
    ("/about/deutsch.pspx", 200, "<h1>Über diese Seite</h1>"),
    ("/about/?lang=de", 200, "<h1>Über diese Seite</h1>"),
    ("/theme.pspx", 200, "--accent: #0f766e"),
    ("/crash.pspx", 500, "<h1>Something went wrong on our side</h1>"),
    ("/no-such-page.pspx", 404, "There is no page at <code>/no-such-page.pspx</code>"),
    ("/static/style.css", 200, "font-family: system-ui"),
    ("/docs/", 200, "<h1>How this site is built</h1>"),
    ("/docs", 200, "<h1>How this site is built</h1>"),
    ("/docs/index.html", 200, "<h1>How this site is built</h1>"),
]


class _Pep3333Paths:
    """httpx's WSGI transport puts the decoded path into ``PATH_INFO``; real servers
    pass the raw bytes as latin-1 (PEP 3333), which is what Bottle decodes."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ["PATH_INFO"] = environ["PATH_INFO"].encode("utf-8").decode("latin-1")
        return self.app(environ, start_response)


def client_for(app: Any) -> httpx.Client:
    transport = httpx.WSGITransport(app=_Pep3333Paths(app))
    return httpx.Client(transport=transport, base_url="http://testserver")


class LogList(logging.Handler):
    """Keeps the messages a launch (and the requests after it) logged."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def at(self, level: int) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == level]

    @property
    def errors(self) -> list[str]:
        return self.at(logging.ERROR)


_logger_ids = itertools.count()


def fresh_logger(level: int = logging.INFO) -> tuple[logging.Logger, LogList]:
    """A logger of its own (nothing propagates to the test run's output)."""
    logger = logging.getLogger(f"tests.demo.{next(_logger_ids)}")
    logger.setLevel(level)
    logger.propagate = False
    handler = LogList()
    logger.addHandler(handler)
    return logger, handler


@dataclass
class Launched:
    app: tincan.TinCan
    errors: int
    log: LogList
    client: httpx.Client

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(url, **kwargs)


def launch(root: Path, urlroot: str = "/", **kwargs: Any) -> Launched:
    logger, log = fresh_logger()
    app, errors = tincan.launch(root, urlroot, logger=logger, static=True, **kwargs)
    assert app is not None, log.errors
    return Launched(app, errors, log, client_for(app))


def copy_demo(target: Path) -> Path:
    shutil.copytree(
        DEMO, target, ignore=shutil.ignore_patterns("__pycache__", ".tincan-cache"), symlinks=True
    )
    return target


class DemoCopy:
    """A copy of the demo that a test changes for one launch and gets back unchanged."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._aside = root.parent / (root.name + "-aside")

    @contextmanager
    def variant(
        self, files: Mapping[str, str | bytes] | None = None, remove: Iterable[str] = ()
    ) -> Iterator[Path]:
        """Add ``files`` (path -> content) and move ``remove`` aside until the block ends.

        Added names must be new: use names no other test uses (``zz-<case>...``),
        so a stale ``__pycache__`` entry can never stand in for a changed file.
        """
        files = dict(files or {})
        moved: list[str] = []
        created_dirs: list[Path] = []
        try:
            for relpath in remove:
                destination = self._aside / relpath
                destination.parent.mkdir(parents=True, exist_ok=True)
                (self.root / relpath).rename(destination)
                moved.append(relpath)
            for relpath, content in files.items():
                path = self.root / relpath
                assert not path.exists(), f"{relpath} is already in the demo"
                for parent in reversed(path.relative_to(self.root).parents[:-1]):
                    directory = self.root / parent
                    if not directory.exists():
                        directory.mkdir()
                        created_dirs.append(directory)
                data = content.encode("utf-8") if isinstance(content, str) else content
                path.write_bytes(data)
            yield self.root
        finally:
            for relpath in files:
                path = self.root / relpath
                path.unlink(missing_ok=True)
                if path.suffix == ".py":
                    for cached in (path.parent / "__pycache__").glob(path.stem + ".*"):
                        cached.unlink()
            for directory in reversed(created_dirs):
                shutil.rmtree(directory)
            for relpath in moved:
                (self._aside / relpath).rename(self.root / relpath)

    @contextmanager
    def launched(
        self,
        files: Mapping[str, str | bytes] | None = None,
        remove: Iterable[str] = (),
        urlroot: str = "/",
    ) -> Iterator[Launched]:
        with self.variant(files, remove) as root:
            yield launch(root, urlroot)
