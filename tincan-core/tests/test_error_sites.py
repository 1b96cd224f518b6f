"""Errors name the place they happened: a WEB-INF/lib module's own line, at import
time (a launch error of the page that imports it) and at request time (the log)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

SHOW = "<p>shown</p>\n"


def test_an_import_error_in_a_lib_module_names_the_modules_line(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp({
        "WEB-INF/lib/sites_broken_runtime.py": "X = 1\n\nY = {}['missing']\n",
        "WEB-INF/lib/sites_broken_syntax.py": "def f(:\n    pass\n",
        "a.pspx": SHOW,
        "a.py": "from tincan import Page\n\nimport sites_broken_runtime\n",
        "b.pspx": SHOW,
        "b.py": "from tincan import Page\nimport sites_broken_syntax\n",
    })  # fmt: skip
    lib = webapp.root / "WEB-INF" / "lib"
    errors = sorted(webapp.log.errors())
    assert errors[0].startswith(f"{webapp.root / 'a.py'}:3: code-behind failed to load: KeyError")
    assert errors[0].endswith(f"(at {lib / 'sites_broken_runtime.py'}:3)")
    assert errors[1].startswith(f"{webapp.root / 'b.py'}:2: code-behind failed to load: Syntax")
    assert f"(at {lib / 'sites_broken_syntax.py'}:1)" in errors[1]


def test_an_error_in_the_code_behind_itself_names_only_its_line(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp({"p.pspx": SHOW, "p.py": "from tincan import Page\n\n1 / 0\n"})
    message = "code-behind failed to load: ZeroDivisionError: division by zero"
    assert webapp.log.errors() == [f"{webapp.root / 'p.py'}:3: {message}"]


def test_a_runtime_error_in_a_lib_module_is_logged_with_the_modules_line(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp({
        "WEB-INF/lib/sites_money.py": "def share(total, people):\n    return total // people\n",
        "split.pspx": "<p>${page.each}</p>\n",
        "split.py": (
            "from sites_money import share\nfrom tincan import Page\n\n\n"
            "class Split(Page):\n    def handle(self):\n        self.each = share(10, 0)\n"
        ),
    })  # fmt: skip
    assert webapp.get("/split.pspx").status_code == 500
    [record] = [r for r in webapp.log.records if r.levelno >= logging.ERROR]
    assert record.exc_info is not None
    logged = logging.Formatter().format(record)
    lib = webapp.root / "WEB-INF" / "lib" / "sites_money.py"
    assert f'File "{lib}", line 2, in share' in logged
    assert "ZeroDivisionError" in logged


def test_a_template_error_is_logged_at_the_pages_line_inside_a_layout(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp({
        "WEB-INF/tlib/layout.pt": (
            '<html metal:define-macro="page"><body>\n'
            '<main metal:define-slot="content"></main>\n</body></html>\n'
        ),
        "typo.pspx": (
            "#load <layout.pt>\n<html metal:use-macro=\"layout.macros['page']\">\n"
            '<main metal:fill-slot="content">\n<p>${titel}</p>\n</main></html>\n'
        ),
    })  # fmt: skip
    assert webapp.get("/typo.pspx").status_code == 500
    [record] = [r for r in webapp.log.records if r.levelno >= logging.ERROR]
    logged = logging.Formatter().format(record)
    described = logged[logged.rindex("NameError: titel") :]
    first = described.index(" - Location:")
    # The first position the log names is the page's own line of the typo ...
    assert described[first:].startswith(" - Location:   (line 4: col 5)"), described
    assert "<p>${titel}</p>" in described
    # ... and the use-macro line Chameleon recorded comes after it.
    assert described.index("(line 2: col 23)") > first
    assert logged.count("Traceback (most recent call last)") == 1  # not twice, chained
