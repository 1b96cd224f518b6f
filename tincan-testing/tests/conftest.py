"""The plugin is tested as users meet it: through pytest runs of their test files."""

import os

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]

# The repository's hypothesis profiles, here too so that these tests behave the same
# in an unpacked sdist: no deadline (test machines are busy); the property tests share
# function-scoped fixtures (tmp_path, factories) between examples on purpose.
settings.register_profile(
    "default",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config: pytest.Config) -> None:
    # The repository registers this marker in its pyproject.toml; an unpacked sdist
    # has only this file.
    config.addinivalue_line("markers", "slow: real servers, browsers or wheel builds")
