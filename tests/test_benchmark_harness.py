"""The harness benchmark runs and prints its figure (the value is not checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


@pytest.mark.slow
def test_the_harness_figure_is_printed() -> None:
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--only", "harness", "--harness-pages", "3"],
        capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines()
             if line.startswith("first test of a session, 3-page app (ms)")]
    assert len(lines) == 1, done.stdout
    assert lines[0].rstrip().endswith(("met", "NOT MET"))
    assert "empty cache" in lines[0]
