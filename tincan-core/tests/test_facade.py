"""The ``tincan`` facade is the API code-behind files and deployments import.

It ships with tincan-core, so these tests run wherever tincan-core is installed.
"""

from __future__ import annotations

import tincan
import tincan_core

SPEC_NAMES = {
    "launch",
    "TinCan",
    "BasePage",
    "Page",
    "ErrorPage",
    "TinCanException",
    "TinCanError",
    "TemplateHeaderError",
    "ENCODING",
    "chameleon_template",
    "chameleon_view",
}


def test_every_public_name_of_the_spec_is_exported() -> None:
    assert set(tincan.__all__) >= SPEC_NAMES
    for name in SPEC_NAMES:
        assert getattr(tincan, name) is getattr(tincan_core, name)


def test_code_behind_classes_are_the_core_classes() -> None:
    # Code-behind does `from tincan import Page`; class discovery in core relies on it.
    assert tincan.Page is tincan_core.Page
    assert issubclass(tincan.Page, tincan.BasePage)
    assert issubclass(tincan.ErrorPage, tincan.BasePage)
    assert not issubclass(tincan.ErrorPage, tincan.Page)


def test_exception_hierarchy() -> None:
    assert issubclass(tincan.TinCanError, tincan.TinCanException)
    assert issubclass(tincan.TemplateHeaderError, tincan.TinCanError)
    error = tincan.TemplateHeaderError("unknown directive #foo", "site/a.pspx", 3)
    assert str(error) == "site/a.pspx:3: unknown directive #foo"


def test_default_encoding_is_utf8() -> None:
    assert tincan.ENCODING == "utf-8"


def test_facade_version_is_the_core_version() -> None:
    assert tincan.__version__ == tincan_core.__version__


def test_tincan_core_exports_every_name_it_lists() -> None:
    assert set(tincan_core.__all__) >= SPEC_NAMES
    for name in tincan_core.__all__:
        assert hasattr(tincan_core, name), name
