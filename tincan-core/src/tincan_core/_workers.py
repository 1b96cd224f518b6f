"""A bounded pool of worker threads, started as work arrives."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["WorkerPool"]

T = TypeVar("T")
_STOP = object()
_log = logging.getLogger("tincan_core.server")


class WorkerPool(Generic[T]):
    """Run ``handle(item)`` for each submitted item on at most ``limit`` daemon threads.

    A thread is started only when every running one is busy, so a server that
    sees one request at a time keeps one thread. Items wait in order when all
    ``limit`` threads are busy.
    """

    def __init__(self, limit: int, handle: Callable[[T], None], name: str) -> None:
        if limit < 1:
            raise ValueError("a worker pool needs at least one thread")
        self.limit = limit
        self._handle = handle
        self._name = name
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for an item
        self._threads: list[threading.Thread] = []

    @property
    def size(self) -> int:
        """How many threads have been started."""
        return len(self._threads)

    def has_spare(self) -> bool:
        """Whether a thread is free or could be started for the next item."""
        return self._queue.qsize() < self._idle + self.limit - len(self._threads)

    def submit(self, item: T) -> None:
        self._queue.put(item)
        with self._lock:
            # An idle thread that has not woken yet still counts: it takes this item.
            if self._queue.qsize() > self._idle and len(self._threads) < self.limit:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads) + 1}", daemon=True
                )
                self._threads.append(thread)
                thread.start()

    def stop(self) -> None:
        """Let every thread finish its current item and end."""
        with self._lock:
            count = len(self._threads)
            self._threads = []
        for _ in range(count):
            self._queue.put(_STOP)

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            item = self._queue.get()
            with self._lock:
                self._idle -= 1
            if item is _STOP:
                return
            try:
                self._handle(item)  # type: ignore[arg-type]
            except Exception:  # a worker outlives any one item
                _log.exception("a server worker failed")
