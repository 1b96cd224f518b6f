"""What Python warns while a template compiles names the template's file and line.

Launches log it whether the template compiled in this process or in a worker;
``tincan check`` finds it on every run, ``compile_webapp`` reports it when it
compiles the template.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tincan_core
from hypothesis import given
from hypothesis import strategies as st
from tincan_core import check_webapp, compile_webapp, launch, launch_on_demand
from tincan_core._check_expr import expression_names

# Python 3.11 warns of an invalid escape with a DeprecationWarning, 3.12+ a SyntaxWarning.
_ESCAPE = re.compile(r"^(?P<file>.+):(?P<line>\d+): \w+Warning: invalid escape sequence '\\q'$")
_IS_LITERAL = re.compile(r'^(?P<file>.+):(?P<line>\d+): SyntaxWarning: "is" with a literal')

# Line 4 has the escape in the middle of a tal:content spread over two lines, line
# 6 a comparison Python warns about only when it compiles the program; the
# ${...} on line 2 makes Chameleon try a candidate that does not parse first.
PAGE = (
    "<p>one</p>\n"
    "<p>${'ok'} and ${len('x')}</p>\n"
    '<i tal:content="python: (\n'
    "    '\\q' + 'x')\">w</i>\n"
    '<b tal:define="v python: 1">\n'
    "  ${v is 'a'}</b>\n"
)


def _warnings(log: Any) -> list[str]:
    return sorted(r.getMessage() for r in log.records if r.levelno == logging.WARNING)


def _where(pattern: re.Pattern[str], texts: list[str]) -> list[tuple[str, int]]:
    found = [pattern.match(text) for text in texts]
    return sorted((m["file"], int(m["line"])) for m in found if m is not None)


def _fresh(make_webapp: Callable[..., Path], pages: int, marker: str) -> Path:
    # A text of its own per test: no program compiled before in this process is reused.
    files = {f"p{n}.pspx": PAGE + f"<!-- {marker} {n} -->\n" for n in range(pages)}
    return make_webapp(files)


@pytest.mark.parametrize("pages", [1, 8])  # 8: compiled in forked worker processes
def test_a_launch_logs_template_warnings_with_file_and_line(
    make_webapp: Callable[..., Path],
    new_logger: Callable[..., Any],
    capfd: pytest.CaptureFixture[str],
    pages: int,
) -> None:
    root = _fresh(make_webapp, pages, f"launch-{pages}")
    logger, capture = new_logger()
    app, errors = launch(root, logger=logger)
    assert app is not None and errors == 0
    warned = _warnings(capture)
    files = [str(root / f"p{n}.pspx") for n in range(pages)]
    assert _where(_ESCAPE, warned) == [(file, 4) for file in files]
    assert _where(_IS_LITERAL, warned) == [(file, 6) for file in files]
    assert len(warned) == 2 * pages  # nothing else, nothing twice
    assert capfd.readouterr() == ("", "")
    if pages > 1 and (os.cpu_count() or 1) > 1:
        assert app.config["tincan.stats"].workers == 2
    # From the cache the templates compile no more, and warn no more.
    tincan_core._cache.shared_programs.clear()
    logger, capture = new_logger()
    again, errors = launch(root, logger=logger)
    assert again is not None and errors == 0
    assert _warnings(capture) == []


def test_a_code_blocks_warning_is_logged_at_its_line(
    make_webapp: Callable[..., Path], new_logger: Callable[..., Any]
) -> None:
    block = '<p>a</p>\n<?python\nx = "\\q" + "launch-code-block"\n?>\n<p>${x}</p>\n'
    # The same block twice: Chameleon compiles it as a snippet, parsed again for each.
    root = make_webapp({"code.pspx": block, "again.pspx": block})
    logger, capture = new_logger()
    app, errors = launch(root, logger=logger)
    assert app is not None and errors == 0
    both = [(str(root / "again.pspx"), 3), (str(root / "code.pspx"), 3)]
    assert _where(_ESCAPE, _warnings(capture)) == both
    findings = [f for f in check_webapp(root).findings if f.code == "launch-warning"]
    assert sorted((f.file, f.line) for f in findings) == both


def test_check_finds_template_warnings_on_every_run(make_webapp: Callable[..., Path]) -> None:
    root = _fresh(make_webapp, 2, "check")
    for _ in range(2):  # the second run finds the templates compiled already
        findings = [f for f in check_webapp(root).findings if f.code == "launch-warning"]
        lines = sorted((f.file, f.line, f.message.split(":")[0]) for f in findings)
        assert [(file, line) for file, line, _ in lines] == sorted(
            (str(root / f"p{n}.pspx"), line) for n in range(2) for line in (4, 6)
        )
        assert all(f.severity == "warning" for f in findings)
        assert {category for _, _, category in lines} <= {"SyntaxWarning", "DeprecationWarning"}


@pytest.mark.parametrize("jobs", [1, 2])
def test_compile_webapp_reports_template_warnings_once(
    make_webapp: Callable[..., Path], jobs: int
) -> None:
    root = _fresh(make_webapp, 3, f"compile-{jobs}")
    report = compile_webapp(root, jobs=jobs)
    assert report.errors == []
    files = [str(root / f"p{n}.pspx") for n in range(3)]
    assert _where(_ESCAPE, report.warnings) == [(file, 4) for file in files]
    assert _where(_IS_LITERAL, report.warnings) == [(file, 6) for file in files]
    assert compile_webapp(root, jobs=jobs).warnings == []  # compiled: nothing warns again


def test_the_dev_servers_background_compile_logs_template_warnings(
    make_webapp: Callable[..., Path], new_logger: Callable[..., Any]
) -> None:
    root = _fresh(make_webapp, 8, "on-demand")
    logger, capture = new_logger()
    started = launch_on_demand(root, logger=logger)
    assert started.app is not None
    started.start(jobs=2)
    assert started.wait(120) and started.complete
    warned = _warnings(capture)
    files = [str(root / f"p{n}.pspx") for n in range(8)]
    assert _where(_ESCAPE, warned) == [(file, 4) for file in files]
    assert _where(_IS_LITERAL, warned) == [(file, 6) for file in files]


@given(
    before=st.text(alphabet=" \n", max_size=6),
    between=st.text(alphabet=" \n", max_size=6),
    name=st.sampled_from(["x", "word", "a1"]),
)
def test_the_check_places_an_escape_warning_at_its_text(
    before: str, between: str, name: str
) -> None:
    expression = f"{before}({name} +{between}'\\q')"
    names = expression_names(expression, 7)
    assert [w.offset for w in names.warned] == [7 + expression.index("\\q")]
    assert all(w.text.endswith("invalid escape sequence '\\q'") for w in names.warned)
    assert [use.name for use in names.reads] == [name]


@given(st.sampled_from(["x + 1", "'a' + b", "f(1, 2)", "[i for i in y]"]))
def test_an_expression_python_does_not_warn_about_keeps_no_warning(expression: str) -> None:
    assert expression_names(expression).warned == ()
