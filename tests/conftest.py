"""Fixtures of the end-to-end tests over ``examples/demo`` (helpers in ``_helpers.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import pytest
from tincan_testing import Webapp
from tincan_testing.plugin import WebappFactory

from tests._helpers import DEMO


class DemoFactory(Protocol):
    def __call__(
        self, files: Mapping[str, str | bytes | None] | None = None, **options: Any
    ) -> Webapp: ...


@pytest.fixture
def tincan_settings(tmp_path: Path) -> Mapping[str, Any]:
    """Every webapp a test launches keeps the demo's guestbook in a database of the
    test's own (the ``[app]`` setting), so no entry outlives its test."""
    return {"app": {"database": str(tmp_path / "guestbook.sqlite")}}


@pytest.fixture
def demo(tincan_webapp: WebappFactory) -> DemoFactory:
    """``demo(files=None, **options)``: ``examples/demo`` with ``files`` on top (``None``
    leaves a file out), launched with static files and any other ``tincan_webapp`` option."""

    def launch(files: Mapping[str, str | bytes | None] | None = None, **options: Any) -> Webapp:
        options.setdefault("static", True)
        # these tests look at the demo's 500 pages themselves: get them, not the exceptions
        options.setdefault("raise_server_exceptions", False)
        return tincan_webapp(files, copy_from=DEMO, **options)

    return launch
