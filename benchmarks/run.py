"""Measure TinCan against hand-written Bottle references and print the ratios.

    ./dev bench                      every figure (several minutes)
    ./dev bench --quick              fewer rounds, a 100-page tree: a smoke test
    ./dev bench --only page,static   some figures only (page small static flask launch serve
                                     http harness)
    ./dev bench --json               machine-readable output

Figures and references are described in benchmarks/README.md. Nothing here
asserts on time: targets are printed as met or not met, and the exit status is
0 unless something failed to run (1) or the usage was wrong (2).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from typing import Any

import bottle
import chameleon  # noqa: F401 - imported for its version below
import tincan_core
from _apps import (
    CSS,
    CSS_PATH,
    HELLO_PATH,
    ORDERS_PATH,
    ORDERS_QUERY,
    reference_app,
    write_webapp,
)
from _devserver import serve_figure
from _flask import flask_app, same_rows
from _harness import harness_figure
from _http import http_figures
from _launching import ChildFailed, launch_figures
from _report import Figure, format_json, format_table, ratio_figure
from _timing import CLOCKS, call, compare, make_environ

GROUPS = ("page", "small", "static", "flask", "harness", "serve", "launch", "http")

# name: (label, path, query, target ratio)
_IN_PROCESS = {
    "page": ("page with #load layout + code-behind (req/s)", ORDERS_PATH, ORDERS_QUERY, 1.10),
    "small": ("small page, no code-behind (req/s)", HELLO_PATH, "", 1.30),
    "static": ("static file (req/s)", CSS_PATH, "", 3.0),
    "flask": ("layout page vs Flask + Jinja2 (req/s)", ORDERS_PATH, ORDERS_QUERY, 2.0),
}

_PAGE_FAST_REFERENCE = "the same, reference by TinCan's faster compile (req/s)"


class BenchmarkError(Exception):
    """Something that makes a figure meaningless (a launch error, different output)."""


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    return {
        "rounds": args.rounds or (5 if quick else 15),
        "batch_seconds": args.batch_seconds or (0.1 if quick else 0.3),
        "pages": args.pages or (100 if quick else 500),
        "launch_rounds": args.launch_rounds or 1,
        "compiled_launches": 2 if quick else 3,
        "http_requests": args.http_requests or (200 if quick else 1000),
        "harness_pages": args.harness_pages or 65,
        "harness_sessions": 2 if quick else 5,
        "serve_rounds": 1 if quick else 3,
        "clock": args.clock,
    }


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _launch_webapp(root: str) -> bottle.Bottle:
    if not os.path.isdir(root):
        write_webapp(root)
    app, errors = tincan_core.launch(root, static=True)
    if app is None or errors:
        raise BenchmarkError(f"launching the benchmark webapp found {errors} error(s)")
    return app


def _check_same_output(ours: Any, reference: Any, path: str, query: str) -> None:
    environ = make_environ(path, query)
    mine, theirs = call(ours, environ), call(reference, environ)
    if not (mine.status.startswith("200") and theirs.status.startswith("200")):
        raise BenchmarkError(f"{path}: TinCan answered {mine.status}, reference {theirs.status}")
    if mine.body != theirs.body:
        raise BenchmarkError(f"{path}: TinCan and the reference send different bodies")
    if path == CSS_PATH and mine.body != CSS.encode("utf-8"):
        raise BenchmarkError(f"{path}: the static body is not the file's content")


def _check_same_rows(ours: Any, flask: Any) -> None:
    environ = make_environ(ORDERS_PATH, ORDERS_QUERY)
    mine, theirs = call(ours, environ), call(flask, environ)
    if not theirs.status.startswith("200") or not same_rows(mine.body, theirs.body):
        raise BenchmarkError(f"{ORDERS_PATH}: TinCan and the Flask app show different orders")


def in_process_figures(names: list[str], root: str, settings: dict[str, Any]) -> list[Figure]:
    ours = _launch_webapp(root)
    figures = []
    for name in names:
        label, path, query, target = _IN_PROCESS[name]
        if name == "flask":
            reference = flask_app(root)
            _check_same_rows(ours, reference)
        else:
            reference = reference_app(root)
            _check_same_output(ours, reference, path, query)
        _progress(f"measuring {name}: {label}")
        comparison = compare(
            ours,
            reference,
            make_environ(path, query),
            rounds=settings["rounds"],
            batch_seconds=settings["batch_seconds"],
            clock=settings["clock"],
        )
        note = f"in-process WSGI calls, {settings['clock']} time"
        figures.append(ratio_figure(name, label, comparison, target, note))
        if name == "page":
            # The same, against the reference with TinCan's rewritten programs: what
            # the page gains besides them.
            _progress(f"measuring {name}: {_PAGE_FAST_REFERENCE}")
            comparison = compare(
                ours,
                reference_app(root, fast_compile=True),
                make_environ(path, query),
                rounds=settings["rounds"],
                batch_seconds=settings["batch_seconds"],
                clock=settings["clock"],
            )
            figures.append(ratio_figure(name, _PAGE_FAST_REFERENCE, comparison, target, note))
    return figures


def _context() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "bottle": bottle.__version__,
        "chameleon": _version("Chameleon"),
        "tincan_core": tincan_core.__version__,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def cpu_probe_ms() -> float:
    """CPU milliseconds of a fixed pure-Python loop: how fast this machine runs now
    (printed at the start, before the launch figure and at the end; a machine that
    slows down under sustained load shows it here)."""
    started = time.process_time()
    total = 0
    for n in range(2_000_000):
        total += n
    return round(1000 * (time.process_time() - started), 1)


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


def _parse_only(values: list[str] | None) -> list[str]:
    if not values:
        return list(GROUPS)
    chosen = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if name not in GROUPS:
                raise argparse.ArgumentTypeError(
                    f"unknown figure {name!r} (choose from {', '.join(GROUPS)})"
                )
            if name not in chosen:
                chosen.append(name)
    return [g for g in GROUPS if g in chosen]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Measure TinCan against hand-written Bottle references (ratios, same run).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer rounds and a 100-page tree (a smoke test, noisier figures)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"measure only these figures, comma-separated: {', '.join(GROUPS)}",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--rounds",
        type=int,
        metavar="N",
        help="alternating rounds per ratio figure (default 15, quick 5)",
    )
    parser.add_argument(
        "--batch-seconds",
        type=float,
        metavar="S",
        help="approximate length of one timed batch (default 0.3, quick 0.1)",
    )
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="what a round is timed by: CPU time (default; this thread's "
        "in-process, the server's over HTTP; robust on a shared machine) or "
        "elapsed wall time",
    )
    parser.add_argument(
        "--pages", type=int, metavar="N", help="pages in the launch tree (default 500, quick 100)"
    )
    parser.add_argument(
        "--launch-rounds",
        type=int,
        metavar="N",
        help="cold launches, each followed by compile + launches (default 1)",
    )
    parser.add_argument(
        "--http-requests",
        type=int,
        metavar="N",
        help="requests per round over HTTP (default 1000, quick 200)",
    )
    parser.add_argument(
        "--harness-pages",
        type=int,
        metavar="N",
        help="pages of the app whose first test the harness figure times (default 65)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        groups = _parse_only(args.only)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    for option in ("rounds", "pages", "launch_rounds", "http_requests", "harness_pages"):
        if getattr(args, option) is not None and getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1")
    if args.batch_seconds is not None and args.batch_seconds <= 0:
        parser.error("--batch-seconds must be positive")
    settings = _settings(args)
    context = _context() | {"settings": settings}
    figures: list[Figure] = []
    probes = {"start": cpu_probe_ms()}
    try:
        with tempfile.TemporaryDirectory(prefix="tincan-bench-") as workdir:
            webapp = os.path.join(workdir, "webapp")
            in_process = [g for g in groups if g in _IN_PROCESS]
            if in_process:
                figures += in_process_figures(in_process, webapp, settings)
            # The short absolute figures run before the long ones: a minute of full
            # load can leave a machine slower for a while (see benchmarks/README.md).
            if "harness" in groups:
                _progress(
                    f"measuring harness: first test of a {settings['harness_pages']}-page "
                    "app, fresh pytest sessions"
                )
                figures.append(
                    harness_figure(
                        workdir,
                        settings["harness_pages"],
                        settings["harness_sessions"],
                        settings["clock"],
                    )
                )
            if "serve" in groups:
                _progress(
                    f"measuring serve: tincan serve on an uncompiled {settings['pages']}-"
                    "page tree, fresh processes"
                )
                figures.append(serve_figure(workdir, settings["pages"], settings["serve_rounds"]))
            if "launch" in groups:
                probes["before launch"] = cpu_probe_ms()
                _progress(f"measuring launch: {settings['pages']}-page tree, fresh processes")
                figures += launch_figures(
                    workdir,
                    settings["pages"],
                    settings["launch_rounds"],
                    settings["compiled_launches"],
                )
            if "http" in groups:
                _progress("measuring http: waitress, gunicorn, the builtin server, loopback")
                _launch_webapp(webapp)  # writes it if needed, and checks it launches cleanly
                figures += http_figures(
                    webapp,
                    f"{ORDERS_PATH}?{ORDERS_QUERY}",
                    settings["rounds"],
                    settings["http_requests"],
                    settings["clock"],
                )
    except (BenchmarkError, ChildFailed, RuntimeError, OSError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    context["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    probes["end"] = cpu_probe_ms()
    context["cpu_probe_ms"] = probes
    if args.json:
        print(format_json(figures, context))
    else:
        print(", ".join(f"{k} {v}" for k, v in context.items() if k != "settings"))
        print(format_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
