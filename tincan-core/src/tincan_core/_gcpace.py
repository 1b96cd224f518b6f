"""Fewer garbage collections while templates compile.

Compiling a template makes and drops some hundred thousand syntax tree nodes.
Python's cyclic garbage collector runs a young-generation collection every 700
new container objects, so a compile triggers hundreds of collections, each
walking the young objects of the moment: about a sixth of a compile's time,
to find a few thousand objects in reference cycles. Nodes that are no longer
used are freed by reference counting all the same.

While any compile runs (:func:`compiling`, counted across threads), the
young-generation threshold is raised to :data:`YOUNG_THRESHOLD`; when the last
one ends it is set back to what it was. The collector still runs, only less
often, so memory held by cycles stays bounded; a threshold someone set higher
is left alone.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["YOUNG_THRESHOLD", "compiling"]

YOUNG_THRESHOLD = 50_000

_lock = threading.Lock()
_running = 0
_saved: tuple[int, ...] | None = None


@contextmanager
def compiling() -> Iterator[None]:
    """The young-generation threshold raised meanwhile (see the module's text)."""
    global _running, _saved
    with _lock:
        if _running == 0:
            before = gc.get_threshold()
            if before[0] and before[0] < YOUNG_THRESHOLD:
                _saved = before
                gc.set_threshold(YOUNG_THRESHOLD, *before[1:])
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _saved is not None:
                if gc.get_threshold()[0] == YOUNG_THRESHOLD:  # nobody changed it meanwhile
                    gc.set_threshold(*_saved)
                _saved = None
