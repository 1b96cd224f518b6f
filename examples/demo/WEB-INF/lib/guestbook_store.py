"""The guestbook's entries, in SQLite: one database file shared by every worker.

Pages import this module from ``WEB-INF/lib`` (TinCan puts that directory on
``sys.path``) and call :func:`guestbook_for` with their app. The
database file is a setting, ``database`` in the ``[app]`` table of
``WEB-INF/tincan.toml``; it belongs outside the webapp's tree, where nothing
serves it and where a read-only tree does not matter. Without the setting the
demo uses a file in the system's temporary directory, one per webapp
directory, so a copy of the demo gets a guestbook of its own.

The database is in WAL mode: readers never wait for the writer, and every
worker process (gunicorn's, say) sees an entry the moment another one wrote it.
Each call opens its own connection, so nothing is shared between threads or
across a fork.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

NAME_LIMIT = 40
MESSAGE_LIMIT = 500
_LARGEST_ID = 2**63 - 1  # SQLite's INTEGER; a larger number is no entry (and no error)

_SCHEMA = """
CREATE TABLE entries (
    number  INTEGER PRIMARY KEY AUTOINCREMENT,
    name    TEXT NOT NULL,
    message TEXT NOT NULL,
    signed  TEXT NOT NULL  -- ISO 8601, UTC
)
"""
# Written once, when the database is created: what a new guestbook shows.
_WELCOME = [
    ("TinCan", "Welcome! Sign the guestbook and your note appears here."),
    ("Ada", "Every page of this site is a file. Have a look at the source tree."),
]


@dataclass(frozen=True)
class Entry:
    number: int
    name: str
    message: str
    signed: datetime

    @property
    def when(self) -> str:
        return self.signed.strftime("%d %b %Y, %H:%M UTC")

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "message": self.message,
            "signed": self.signed.isoformat(),
        }


class Guestbook:
    """The entries in the SQLite database at ``path`` (created on first use)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._ready = False
        self._lock = threading.Lock()

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self._create()
                    self._ready = True
        # isolation_level=None: no implicit transactions; writes say BEGIN themselves.
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            yield db

    def _create(self) -> None:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")  # kept in the file: set once is enough
            # IMMEDIATE takes the write lock first, so two workers starting together
            # cannot both create the table.
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("PRAGMA user_version").fetchone()[0] == 0:
                    db.execute(_SCHEMA)
                    for name, message in _WELCOME:
                        _insert(db, name, message)
                    db.execute("PRAGMA user_version = 1")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def sign(self, name: str, message: str) -> Entry:
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                entry = _insert(db, name, message)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return entry

    def newest(self, limit: int | None = None) -> list[Entry]:
        with self._connection() as db:
            rows = db.execute(
                "SELECT number, name, message, signed FROM entries ORDER BY number DESC LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [_entry(row) for row in rows]

    def find(self, number: int) -> Entry | None:
        if not 0 < number <= _LARGEST_ID:
            return None
        with self._connection() as db:
            row = db.execute(
                "SELECT number, name, message, signed FROM entries WHERE number = ?", (number,)
            ).fetchone()
        return None if row is None else _entry(row)

    def count(self) -> int:
        with self._connection() as db:
            return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])


def _insert(db: sqlite3.Connection, name: str, message: str) -> Entry:
    signed = datetime.now(UTC)
    cursor = db.execute(
        "INSERT INTO entries (name, message, signed) VALUES (?, ?, ?)",
        (name, message, signed.isoformat()),
    )
    assert cursor.lastrowid is not None
    return Entry(cursor.lastrowid, name, message, signed)


def _entry(row: tuple[Any, ...]) -> Entry:
    number, name, message, signed = row
    return Entry(number, name, message, datetime.fromisoformat(signed))


def check_entry(name: str, message: str) -> dict[str, str]:
    """Problems with a submitted entry, by form field; empty when it is fine."""
    problems = {}
    if not name:
        problems["name"] = "Please tell us your name."
    elif len(name) > NAME_LIMIT:
        problems["name"] = f"Names are limited to {NAME_LIMIT} characters."
    if not message:
        problems["message"] = "An empty message is a little shy."
    elif len(message) > MESSAGE_LIMIT:
        problems["message"] = f"Messages are limited to {MESSAGE_LIMIT} characters."
    return problems


# -- which database ------------------------------------------------------------------------
_books: dict[str, Guestbook] = {}
_books_lock = threading.Lock()


def default_database(fsroot: str) -> str:
    """Where the guestbook of the webapp at ``fsroot`` lives without a setting: in a
    directory of this user's in the temporary directory, one file per webapp tree."""
    tree = hashlib.sha256(os.path.realpath(fsroot).encode("utf-8", "surrogateescape"))
    user = os.getuid() if hasattr(os, "getuid") else os.getlogin()
    directory = os.path.join(tempfile.gettempdir(), f"tincan-demo-{user}")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    # The temporary directory is shared: use the directory only if it is ours and
    # nobody else may write into it (another user could have made it first).
    info = os.lstat(directory)
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
        raise RuntimeError(
            f"{directory} belongs to someone else or is writable by others: set "
            "'database' in the [app] table of WEB-INF/tincan.toml"
        )
    return os.path.join(directory, f"guestbook-{tree.hexdigest()[:16]}.sqlite")


def guestbook_for(app: Any) -> Guestbook:
    """The guestbook of the webapp ``app`` (a page's ``self.request.app``).

    A ``database`` setting that is no absolute path is an error naming
    ``tincan.toml`` and its line.
    """
    path = app.settings.app.path("database")
    if path is None:
        path = default_database(app.config["tincan.fsroot"])
    with _books_lock:
        book = _books.get(path)
        if book is None:
            book = _books[path] = Guestbook(path)
    return book
