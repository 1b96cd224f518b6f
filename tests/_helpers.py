"""Shared pieces of the end-to-end tests over ``examples/demo``.

The tests use tincan-testing's fixtures: ``tincan_client``/``tincan_app`` for
the demo as shipped, the ``demo`` fixture (``conftest.py``) for a copy with
files added or left out. Every test gets a freshly launched app; the plugin
drops the demo's ``WEB-INF/lib`` modules and ``sys.path`` entry afterwards.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

from tincan_testing import Webapp

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"

# Every URL of the demo: the status it answers with and a text only that answer holds
# (a directory without its slash redirects to it, with an empty body).
DEMO_URLS: list[tuple[str, int, str]] = [
    ("/", 200, "Welcome to the TinCan guestbook"),
    ("/index.pspx", 200, "Welcome to the TinCan guestbook"),
    ("/home.pspx", 200, "Welcome to the TinCan guestbook"),
    ("/start.pspx", 200, "Welcome to the TinCan guestbook"),
    ("/guestbook.pspx", 200, "<h1>Sign the guestbook</h1>"),
    ("/entries.pspx", 200, '<article class="entry">'),
    ("/entries-table.pspx", 200, '<table class="entries">'),
    ("/entry/999999", 404, "There is no entry #999999."),
    ("/entry/1", 200, "<h1>Entry #1</h1>"),
    ("/entry.pspx/1", 200, "<h1>Entry #1</h1>"),
    ("/entry.pspx?n=1", 301, ""),
    ("/guestbook", 200, "<h1>Sign the guestbook</h1>"),
    ("/entries", 200, '<article class="entry">'),
    ("/api/entries", 200, '"entries": [{"number": 2,'),
    ("/about/", 200, "<h1>About this site</h1>"),
    ("/about", 301, ""),
    ("/about/index.pspx", 200, "<h1>About this site</h1>"),
    ("/about/Über uns.pspx", 200, "<h1>Über diese Seite</h1>"),
    ("/about/deutsch.pspx", 200, "<h1>Über diese Seite</h1>"),
    ("/about/?lang=de", 200, "<h1>Über diese Seite</h1>"),
    ("/theme.pspx", 200, "--accent: #0f766e"),
    ("/crash.pspx", 500, "<h1>Something went wrong on our side</h1>"),
    ("/no-such-page.pspx", 404, "There is no page at <code>/no-such-page.pspx</code>"),
    ("/static/style.css", 200, "font-family: system-ui"),
    ("/docs/", 200, "<h1>How this site is built</h1>"),
    ("/docs", 301, ""),
    ("/docs/index.html", 200, "<h1>How this site is built</h1>"),
]


def logged(webapp: Webapp, level: int = logging.ERROR) -> list[str]:
    """What the webapp logged at exactly ``level``, as logged (paths under its own root)."""
    return [record.getMessage() for record in webapp.records if record.levelno == level]


class LogList(logging.Handler):
    """Keeps the messages a plain ``tincan.launch()`` logged."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def errors(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == logging.ERROR]


_logger_ids = itertools.count()


def fresh_logger(level: int = logging.INFO) -> tuple[logging.Logger, LogList]:
    """A logger of its own (nothing propagates to the test run's output), for tests of
    ``tincan.launch()`` itself."""
    logger = logging.getLogger(f"tests.demo.{next(_logger_ids)}")
    logger.setLevel(level)
    logger.propagate = False
    handler = LogList()
    logger.addHandler(handler)
    return logger, handler
