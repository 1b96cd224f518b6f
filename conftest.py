"""Suite-wide settings: hypothesis profiles sized for the 2-core CI machines, and the
demo databases a session leaves in the temporary directory removed."""

import contextlib
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# The demo keeps a webapp's guestbook, when no database is set, in a per-user directory
# of the shared temporary directory. Tests set one where they can; servers that run as
# another user (www-data under Apache) and tests of that default cannot. What a test
# session adds there is removed when it ends; what was there before is left alone.
_DEMO_DATABASES = "tincan-demo-*"


def _demo_databases() -> set[Path]:
    temporary = Path(tempfile.gettempdir())
    return {*temporary.glob(_DEMO_DATABASES), *temporary.glob(f"{_DEMO_DATABASES}/guestbook-*")}


_before_session: set[Path] = set()


def pytest_sessionstart(session: pytest.Session) -> None:
    _before_session.update(_demo_databases())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Files first, then the directories made for them, if nothing else is in them.
    for path in sorted(_demo_databases() - _before_session, key=lambda p: -len(p.parts)):
        with contextlib.suppress(OSError):
            path.rmdir() if path.is_dir() else path.unlink()
