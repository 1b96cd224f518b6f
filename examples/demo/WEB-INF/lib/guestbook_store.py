"""The guestbook's memory: a bounded, thread-safe list of entries, kept per process.

Pages import this module from ``WEB-INF/lib`` (TinCan puts that directory on
``sys.path``). Every worker process has its own guestbook, which is fine for a
demo; a real site would keep entries in a database.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

NAME_LIMIT = 40
MESSAGE_LIMIT = 500


@dataclass(frozen=True)
class Entry:
    number: int
    name: str
    message: str
    signed: datetime

    @property
    def when(self) -> str:
        return self.signed.strftime("%d %b %Y, %H:%M UTC")


class Guestbook:
    """The newest ``capacity`` entries; older ones drop off the end."""

    def __init__(self, capacity: int) -> None:
        self._entries: deque[Entry] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._signed = 0

    def sign(self, name: str, message: str) -> Entry:
        with self._lock:
            self._signed += 1
            entry = Entry(self._signed, name, message, datetime.now(UTC))
            self._entries.append(entry)
            return entry

    def newest(self, limit: int | None = None) -> list[Entry]:
        with self._lock:
            entries = list(reversed(self._entries))
        return entries if limit is None else entries[:limit]

    def find(self, number: int) -> Entry | None:
        with self._lock:
            for entry in self._entries:
                if entry.number == number:
                    return entry
        return None

    @property
    def signed(self) -> int:
        """How many times the book was signed since the process started."""
        return self._signed


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


GUESTBOOK = Guestbook(capacity=100)
GUESTBOOK.sign("TinCan", "Welcome! Sign the guestbook and your note appears here.")
GUESTBOOK.sign("Ada", "Every page of this site is a file. Have a look at the source tree.")
