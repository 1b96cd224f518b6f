"""What ``tincan serve`` sets up for its servers: waitress's limits, the open-file limit."""

from __future__ import annotations

import subprocess
import sys

import pytest
from tincan_cli._servers import WAITRESS_LIMITS, waitress_options


def test_waitress_gets_limits_that_hold_under_slow_clients() -> None:
    options = waitress_options(None)
    # waitress's own connection_limit of 100 lets 100 slow clients shut everyone out.
    assert options["connection_limit"] >= 200
    assert options["channel_timeout"] <= 60
    assert options["cleanup_interval"] <= options["channel_timeout"]
    assert options["max_request_header_size"] == 32 * 1024
    assert options["asyncore_use_poll"] is True  # select() stops at descriptor 1024
    assert (options["threads"], options["ident"]) == (4, "tincan")
    assert waitress_options(7)["threads"] == 7


def test_every_waitress_option_is_one_waitress_knows() -> None:
    adjustments = pytest.importorskip("waitress.adjustments")
    known = {name for name, _ in adjustments.Adjustments._params}
    assert set(waitress_options(None)) <= known
    adjustments.Adjustments(**waitress_options(None))  # and each value is valid


def test_the_connection_limit_stays_below_the_open_file_limit() -> None:
    pytest.importorskip("resource")
    code = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))\n"
        "from tincan_cli._servers import waitress_options\n"
        "print(waitress_options(None)['connection_limit'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(done.stdout) == 256 - 64
    assert WAITRESS_LIMITS["connection_limit"] > 256 - 64


def test_serving_raises_the_soft_open_file_limit_to_the_hard_one() -> None:
    resource = pytest.importorskip("resource")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY or hard < 512:
        pytest.skip(f"needs a finite hard open-file limit of at least 512, not {hard}")
    code = (
        "import resource\n"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, (256, {hard}))\n"
        "from tincan_cli._servers import raise_open_file_limit\n"
        "print(raise_open_file_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [str(hard), str(hard)]
