"""Fixtures of the end-to-end tests over ``examples/demo`` (helpers in ``_helpers.py``)."""

from __future__ import annotations

import pytest

from tests._helpers import DEMO, DemoCopy, Launched, copy_demo, launch


@pytest.fixture(scope="session")
def demo_site() -> Launched:
    """``examples/demo`` as shipped, launched with static files."""
    return launch(DEMO)


@pytest.fixture(scope="session")
def demo_copy(tmp_path_factory: pytest.TempPathFactory) -> DemoCopy:
    """A copy of the demo for tests that add or remove files for one launch."""
    copy = DemoCopy(copy_demo(tmp_path_factory.mktemp("demo") / "demo"))
    launch(copy.root)  # warms the template cache of the copy
    return copy
