"""``tincan check``: what ``tincan compile`` reports, and the mistakes only a request
would show (``tincan_core.check_webapp`` finds them; this module prints them)."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterable

from tincan_core import CheckReport, Finding, TinCan, check_app, check_webapp

from ._compile import ProgressLine
from ._errors import EXIT_FAILURE, EXIT_OK
from ._options import check_encoding, stderr_is_terminal
from ._options import check_webapp as webapp_directory

__all__ = ["BackgroundCheck", "LateNote", "check_command", "check_summary", "warnings_note"]


def _count(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def check_summary(report: CheckReport, *, verbose: bool, strict: bool) -> str:
    """``12 pages checked: 0 errors, 2 warnings, 3 notes`` and what the notes need."""
    notes = report.count("info")
    text = (
        f"{_count(report.pages, 'page')} checked: {_count(report.errors, 'error')}, "
        f"{_count(report.warnings, 'warning')}, {_count(notes, 'note')}"
    )
    if notes and not verbose:
        text += " (--verbose shows the notes)"
    if report.warnings and not report.errors and not strict:
        text += " (--strict makes warnings fail)"
    return text


def warnings_note(findings: Iterable[Finding]) -> str:
    """What ``tincan compile`` and ``tincan serve`` add to their summary line: the
    check's warnings, and its errors beyond the launch's (a missing macro); ``""``
    when there are none."""
    errors = warnings = 0
    for finding in findings:
        if finding.severity == "error" and finding.code != "launch-error":
            errors += 1
        elif finding.severity == "warning":
            warnings += 1
    parts = [f"{errors} check error(s)"] if errors else []
    if warnings:
        parts.append(f"{warnings} check warning(s)")
    return ", ".join(parts) + " (tincan check shows them)" if parts else ""


def check_command(
    fsroot: str,
    urlroot: str,
    encoding: str,
    jobs: int | None,
    *,
    strict: bool,
    as_json: bool,
    verbose: bool,
) -> int:
    check_encoding(encoding)
    root = webapp_directory(fsroot)
    progress = ProgressLine(sys.stderr) if stderr_is_terminal() and not as_json else None
    try:
        report = check_webapp(root, urlroot, encoding=encoding, jobs=jobs, progress=progress)
    finally:
        if progress is not None:
            progress.clear()
    if as_json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        for finding in report.findings:
            if verbose or finding.severity != "info":
                print(finding)
        print(check_summary(report, verbose=verbose, strict=strict))
    return EXIT_FAILURE if report.failed(strict=strict) else EXIT_OK


class LateNote:
    """A note that is ready some time after serving starts.

    :meth:`claim` gives it if it is ready within ``wait`` seconds; otherwise it is
    printed on its own line when :meth:`deliver` brings it."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._note = ""
        self._claimed = False

    @property
    def delivered(self) -> bool:
        return self._done.is_set()

    def deliver(self, note: str) -> None:
        with self._lock:
            self._note = note
            late = self._claimed
        self._done.set()
        if late and note:
            print(note, flush=True)

    def claim(self, wait: float = 0.3) -> str:
        """The note now (``""`` when there is nothing to say or it comes later)."""
        self._done.wait(wait)
        with self._lock:
            self._claimed = True
            return self._note


class BackgroundCheck(LateNote):
    """``check_app`` on a launched app in a thread, so serving starts at once.

    :meth:`note` gives the summary note if the check is done within ``wait``
    seconds; otherwise the note is printed on its own line when it is. With
    ``background=False`` (a server that forks workers: no thread may be running
    then) the check runs in :meth:`note` itself.
    """

    def __init__(self, app: TinCan, *, background: bool = True) -> None:
        super().__init__()
        self._app = app
        self._background = background
        if background:
            threading.Thread(target=self._run, name="tincan-check", daemon=True).start()

    def _run(self) -> None:
        try:
            note = warnings_note(check_app(self._app))
        except Exception:  # a check that fails must never disturb serving
            note = ""
        self.deliver(note)

    def note(self, wait: float = 0.3) -> str:
        """The note now (``""`` when there is nothing to say or it comes later)."""
        if not self._background and not self.delivered:
            self._run()
        return self.claim(wait)
