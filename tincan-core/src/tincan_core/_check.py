"""``check_webapp``: the mistakes a launch accepts and a request would show.

Everything ``compile_webapp`` reports, plus what no launch looks at:

========================  ========  ==============================================
code                      severity  what
========================  ========  ==============================================
``launch-error``          error     what ``tincan compile`` (and a launch) reports
``launch-warning``        warning   what a launch logs as a warning (ignored header
                                    lines, skipped files, Python warnings about
                                    code-behind and template expressions)
``missing-macro``         error     ``metal:use-macro`` names a macro (or a
                                    ``load:`` file) that does not exist
``undefined-name``        warning   a template reads a name nothing defines
``unknown-slot``          warning   ``metal:fill-slot`` names no slot of the macro
``unknown-method``        warning   a ``#methods`` word that is no standard method
``broken-link``           warning   a literal internal link that matches no route
                                    and no static file
``url-for``               error     a literal ``url_for(...)`` call that would raise:
                                    unknown page, missing or refused parameter
``not-checked``           info      a page whose names cannot be checked, and why
``no-pages``              info      a directory with no pages below it
``no-error-page``         info      codes TinCan answers itself that no error page
                                    covers, in a webapp that has error pages
========================  ========  ==============================================

Standard methods are RFC 9110's (GET HEAD POST PUT DELETE CONNECT OPTIONS
TRACE), PATCH (RFC 5789) and Bottle's ``ANY``.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable

from ._check_analysis import check_app
from ._check_report import CheckReport, Finding, sorted_findings
from ._codebehind import warning_text
from ._compile import CompileReport, compile_webapp
from ._launch import _unusable_tree, launch
from ._paths import normalize_urlroot

__all__ = ["check_app", "check_webapp", "located", "python_warnings"]


def located(text: str, severity: str, code: str) -> Finding:
    """A ``file:line: message`` text (as launches log them) as a finding."""
    start = 0
    while True:
        colon = text.find(":", start)
        if colon < 0:
            return Finding(severity, None, None, code, text)
        candidate = text[:colon]
        if os.path.isabs(candidate) and os.path.lexists(candidate):
            rest = text[colon + 1 :]
            number, sep, message = rest.partition(": ")
            if sep and number.isdigit():
                return Finding(severity, candidate, int(number), code, message)
            return Finding(severity, candidate, None, code, rest.strip())
        start = colon + 1


def python_warnings(paths: list[str]) -> list[str]:
    """What Python warns compiling these files (``file:line: Category: message``),
    without writing bytecode or running them. Files that cannot be read or do not
    compile are skipped: the launch reports those as errors."""
    found: list[str] = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                source = f.read()
        except OSError:
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                compile(source, path, "exec", dont_inherit=True)
            except (SyntaxError, ValueError):
                continue
        found += [warning_text(w) for w in caught]
    return found


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.WARNING:
            self.warnings.append(record.getMessage())


def check_webapp(
    fsroot: str | os.PathLike[str],
    urlroot: str = "/",
    *,
    encoding: str = "utf-8",
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    compile_report: CompileReport | None = None,
    absolute_links: bool = True,
) -> CheckReport:
    """Compile the webapp at ``fsroot`` as ``compile_webapp`` does, launch it under
    ``urlroot`` with static files, and check it (see the module's table).

    ``compile_report``: the caller compiled it already. ``absolute_links=False``:
    the urlroot the site is served under is not known, so links starting with
    ``/`` are not judged.
    """
    root = os.path.abspath(os.fspath(fsroot))
    report = CheckReport(root, urlroot)
    try:
        normalize_urlroot(urlroot)
    except Exception as exc:
        report.findings.append(Finding("error", None, None, "launch-error", str(exc)))
        return report
    problem = _unusable_tree(root, encoding)
    if problem is not None:
        report.findings.append(located(problem, "error", "launch-error"))
        return report
    if compile_report is None:
        compile_report = compile_webapp(root, encoding=encoding, jobs=jobs, progress=progress)
    report.pages = compile_report.pages
    findings = [located(e, "error", "launch-error") for e in compile_report.errors]

    collector = _Collector()
    logger = logging.Logger("tincan.check", logging.WARNING)
    logger.addHandler(collector)
    logger.propagate = False
    app, _ = launch(root, urlroot, logger=logger, encoding=encoding, static=True)
    # Python warns about a module when it compiles it, which the launch did not do
    # if its bytecode was current: they are found here, the same on every run, and
    # any the launch repeats are said once.
    launch_warnings = dict.fromkeys(
        [*python_warnings(compile_report.python_files), *collector.warnings]
    )
    findings += [located(w, "warning", "launch-warning") for w in launch_warnings]
    if app is not None:
        findings += check_app(app, absolute_links=absolute_links)
    report.findings = sorted_findings(findings)
    return report
