"""The benchmark command runs and prints every in-process figure (values are not checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
TINY = ["--quick", "--only", "page,small,static,flask", "--rounds", "2", "--batch-seconds", "0.01"]
FIGURES = {
    "page": "page with #load layout + code-behind",
    "small": "small page, no code-behind",
    "static": "static file",
    "flask": "layout page vs Flask + Jinja2",
}
HTTP_FIGURES = {
    "http-waitress": "page over HTTP, waitress",
    "http-gunicorn": "page over HTTP, gunicorn sync x2",
    "http-gunicorn-flask": "page over HTTP, gunicorn, vs Flask + Jinja2",
    "http-builtin": "page over HTTP, builtin server vs waitress",
    "http-gunicorn-ceiling": "prebuilt bytes over HTTP, gunicorn, vs Flask",
}


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUN), *args],
        capture_output=True, text=True, timeout=600, check=False,
    )


def test_quick_run_prints_every_in_process_figure() -> None:
    done = run_bench(*TINY)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for label in FIGURES.values():
        matching = [line for line in lines if line.startswith(label)]
        assert len(matching) == 1, f"no line for {label!r} in:\n{done.stdout}"
        assert matching[0].rstrip().endswith(("met", "NOT MET")), matching[0]
    assert "launch" not in done.stdout  # --only is honoured


def test_json_output_has_a_ratio_per_figure() -> None:
    done = run_bench(*TINY, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    figures = {f["name"]: f for f in report["figures"]}
    assert set(figures) == set(FIGURES)
    for figure in figures.values():
        assert figure["ratio"] > 0
        assert len(figure["data"]["ours"]) == len(figure["data"]["reference"]) == 2
        assert isinstance(figure["met"], bool)


@pytest.mark.slow
def test_http_figures_run_every_server() -> None:
    # Real servers (waitress, gunicorn with 2 workers, the builtin one) on loopback.
    done = run_bench("--only", "http", "--rounds", "1", "--http-requests", "20", "--json")
    assert done.returncode == 0, done.stderr
    figures = {f["name"]: f for f in json.loads(done.stdout)["figures"]}
    assert set(figures) == set(HTTP_FIGURES)
    for name, figure in figures.items():
        assert figure["label"].startswith(HTTP_FIGURES[name])
        assert figure["ratio"] > 0
    assert figures["http-builtin"]["informational"] is True
    assert figures["http-gunicorn-ceiling"]["informational"] is True


@pytest.mark.slow
def test_serve_figure_times_a_real_dev_server() -> None:
    done = run_bench("--only", "serve", "--quick", "--pages", "20", "--json")
    assert done.returncode == 0, done.stderr
    (figure,) = json.loads(done.stdout)["figures"]
    assert figure["name"] == "serve"
    assert len(figure["data"]["seconds"]) == 1
    assert figure["data"]["seconds"][0] > 0


@pytest.mark.parametrize("args", [["--only", "nonsense"], ["--rounds", "0"], ["--frobnicate"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    done = run_bench(*args)
    assert done.returncode == 2
    assert "usage:" in done.stderr
    assert "Traceback" not in done.stderr
