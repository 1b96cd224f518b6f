"""``tincan serve --reload``: watch the webapp tree, re-launch on change, swap the app.

The server always calls a :class:`SwappableApp`; a new launch replaces the app it
points to in one reference assignment, so requests already running finish on the
old app and later ones get the new one. A launch with errors leaves the last
good app in place unless ``keep_broken``: ``tincan serve`` re-launches on demand
(``tincan_core.launch_on_demand``), where a broken page answers with its errors,
so it always installs the new launch.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from tincan_core import FileKind, scan_tree

__all__ = ["POLL_INTERVAL", "Reloader", "Snapshot", "SwappableApp", "drop_lib_modules", "snapshot"]

POLL_INTERVAL = 0.5  # seconds between two looks at the tree

Snapshot = dict[str, tuple[int, int]]  # relpath -> (mtime_ns, size)
Relaunch = Callable[[], tuple[Any, int]]  # (app or None, errors)


class SwappableApp:
    """A WSGI app that forwards to whichever app was installed last."""

    def __init__(self, app: Any) -> None:
        self.current = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.current(environ, start_response)


def _is_bytecode(relpath: str) -> bool:
    return "__pycache__" in relpath.split("/") or relpath.endswith((".pyc", ".pyo"))


def snapshot(fsroot: str, *, static: bool) -> Snapshot:
    """Modification time and size of every file a launch reads.

    Pages, code-behind, macro files and everything under ``WEB-INF`` (``lib``,
    ``tlib``); static files only when they are served. Bytecode and the compile
    cache are left out: writing them is a consequence of a launch, not a change.
    """
    state: Snapshot = {}
    for entry in scan_tree(fsroot, include_private=True).files:
        if entry.kind is FileKind.STATIC and not static:
            continue
        if _is_bytecode(entry.relpath):
            continue
        try:
            st = os.stat(entry.path)
        except OSError:
            continue  # vanished between the walk and now: the next look sees it
        state[entry.relpath] = (st.st_mtime_ns, st.st_size)
    return state


def changed_files(before: Snapshot, after: Snapshot) -> list[str]:
    names = set(before) | set(after)
    return sorted(name for name in names if before.get(name) != after.get(name))


def drop_lib_modules(fsroot: str) -> list[str]:
    """Forget the modules imported from ``WEB-INF/lib`` so the next launch re-imports them."""
    lib = os.path.realpath(os.path.join(fsroot, "WEB-INF", "lib")) + os.sep
    dropped = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and os.path.realpath(file).startswith(lib):
            del sys.modules[name]
            dropped.append(name)
    importlib.invalidate_caches()
    return dropped


def _forget_bytecode(fsroot: str, relpaths: Iterable[str]) -> None:
    """Remove the cached bytecode of changed sources.

    Python decides staleness by the source's mtime in whole seconds and its
    size; two edits of the same size within a second would otherwise load the
    old bytecode.
    """
    for relpath in relpaths:
        if not relpath.endswith(".py"):
            continue
        with contextlib.suppress(OSError, ValueError):
            os.remove(importlib.util.cache_from_source(os.path.join(fsroot, relpath)))


class Reloader:
    """A daemon thread that polls the tree and re-launches the webapp when it changes."""

    def __init__(
        self,
        target: SwappableApp,
        fsroot: str,
        relaunch: Relaunch,
        *,
        static: bool,
        initial: Snapshot,
        report: Callable[[str], None],
        keep_broken: bool = False,
        interval: float = POLL_INTERVAL,
    ) -> None:
        self.target = target
        self.fsroot = fsroot
        self.relaunch = relaunch
        self.static = static
        self.state = initial
        self.report = report
        self.keep_broken = keep_broken  # install a launch with errors too (its pages show them)
        self.interval = interval
        self.reloads = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="tincan-reload", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # the watcher must outlive any surprise
                self.report(f"reload failed: {type(exc).__name__}: {exc}")

    def check(self) -> bool:
        """Look at the tree once; re-launch if it changed. Whether it changed."""
        current = snapshot(self.fsroot, static=self.static)
        changed = changed_files(self.state, current)
        if not changed:
            return False
        # Taken before the launch, so an edit made during it triggers another one.
        self.state = current
        shown = ", ".join(changed[:3])
        if len(changed) > 3:
            shown += f" and {len(changed) - 3} more"
        self.report(f"changed: {shown}; reloading")
        _forget_bytecode(self.fsroot, changed)
        drop_lib_modules(self.fsroot)
        app, errors = self.relaunch()
        self.reloads += 1
        if app is None or (errors and not self.keep_broken):
            self.report(f"{errors} error(s) detected, still serving the previous version")
            return True
        self.target.current = app
        suffix = f" with {errors} error(s)" if errors else ""
        routes = sum(1 for info in app.route_info if info.path)
        self.report(f"reloaded{suffix}: {routes} route(s)")
        return True
