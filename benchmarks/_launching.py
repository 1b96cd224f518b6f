"""Launch figures of the generated tree: cold, after ``compile_webapp``, peak memory.

Every launch runs in a fresh interpreter (``_child.py``) against its own copy of
the tree, so nothing one launch compiled or imported helps the next.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from typing import Any

from _report import Figure

__all__ = ["launch_figures"]

_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_child.py")
# The 2019 original: ~230 s for 500 pages, almost all of it Chameleon compiling.
_ORIGINAL_SECONDS_PER_PAGE = 230 / 500
_COLD_TARGET_PER_PAGE = 40 / 500
_COMPILED_TARGET = 50.0
_MEMORY_TARGET_MB = 100


class ChildFailed(Exception):
    pass


def run_child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, _CHILD, *args], capture_output=True, text=True, check=False
    )
    last = done.stdout.strip().rsplit("\n", 1)[-1] if done.stdout.strip() else ""
    if done.returncode != 0 or not last.startswith("{"):
        detail = (done.stderr.strip() or done.stdout.strip())[-2000:]
        raise ChildFailed(f"{' '.join(args[:1])} child exited {done.returncode}: {detail}")
    return json.loads(last)  # type: ignore[no-any-return]


def _snapshot(root: str) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` (dot names and caches included) with size and mtime."""
    files = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            files[os.path.relpath(path, root)] = (st.st_size, st.st_mtime_ns)
    return files


def _fresh_copy(template: str, root: str) -> str:
    if os.path.exists(root):
        shutil.rmtree(root)
    shutil.copytree(template, root, symlinks=True)
    return root


def launch_figures(workdir: str, pages: int, rounds: int, compiled_launches: int) -> list[Figure]:
    try:
        from tree import make_tree
    except ImportError as exc:
        why = f"benchmarks/tree.py is not usable: {exc}"
        return [_unmeasured(name, label, why) for name, label in _LABELS]
    template = os.path.join(workdir, "tree-template")
    make_tree(template, pages=pages)

    cold: list[dict[str, Any]] = []
    compiled: list[dict[str, Any]] = []
    compiles: list[dict[str, Any]] = []
    written: list[int] = []
    for _ in range(rounds):
        root = _fresh_copy(template, os.path.join(workdir, "tree"))
        cold.append(run_child("launch", root))
        root = _fresh_copy(template, os.path.join(workdir, "tree"))
        compiles.append(run_child("compile", root))
        for _ in range(compiled_launches):
            before = _snapshot(root)
            compiled.append(run_child("launch", root))
            after = _snapshot(root)
            written.append(sum(1 for k, v in after.items() if before.get(k) != v)
                           + sum(1 for k in before if k not in after))
    shutil.rmtree(os.path.join(workdir, "tree"), ignore_errors=True)

    errors = max(r["errors"] for r in cold + compiled + compiles)
    if errors:
        raise ChildFailed(f"the generated tree has {errors} error(s): launch or compile failed")
    cold_seconds = [r["launch_seconds"] for r in cold]
    cold_median = statistics.median(cold_seconds)
    original = _ORIGINAL_SECONDS_PER_PAGE * pages
    cold_target = _COLD_TARGET_PER_PAGE * pages
    figures = [
        Figure(
            "launch", f"cold launch, {pages} pages (s)", f"{cold_median:.1f} s",
            f"~{original:.0f} s (2019)", f"<= {cold_target:.3g} s", cold_median <= cold_target,
            ratio=cold_median / original,
            note="; ".join(filter(None, [
                _spread_note(cold_seconds, "s", "cold launches"),
                f"CPU time {statistics.median(r['launch_cpu_seconds'] for r in cold):.0f} s, "
                f"{1000 * statistics.median(r['launch_cpu_seconds'] for r in cold) / pages:.0f}"
                f" ms a page (launching process and its compile workers, {os.cpu_count()} cores)",
            ])),
            data={"cold": cold, "pages": pages, "cpus": os.cpu_count()},
        )
    ]
    compiled_seconds = [r["launch_seconds"] for r in compiled]
    compiled_median = statistics.median(compiled_seconds)
    speedups = [cold_median / s for s in compiled_seconds]
    compile_seconds = [r["compile_seconds"] for r in compiles]
    compiled_templates = max((r["stats"] or {}).get("templates_compiled", 0) for r in compiled)
    figures.append(Figure(
        "launch", "launch after compile_webapp (s)", f"{compiled_median:.2f} s",
        f"{cold_median:.1f} s cold", f">= {_COMPILED_TARGET:.0f}x",
        cold_median / compiled_median >= _COMPILED_TARGET,
        ratio=cold_median / compiled_median, ratio_low=min(speedups), ratio_high=max(speedups),
        note=f"compile_webapp took {statistics.median(compile_seconds):.1f} s "
        f"({statistics.median(r['compile_cpu_seconds'] for r in compiles):.0f} s CPU); "
        f"the launches after it compiled {compiled_templates} template(s) and wrote "
        f"{max(written)} file(s)",
        data={"compiled": compiled, "compiles": compiles, "files_written": written},
    ))
    peaks = [r["peak_rss_bytes"] / 2**20 for r in compiled]
    launch_peaks = [r.get("launch_peak_rss_bytes", 0) / 2**20 for r in compiled]
    cold_peaks = [r["peak_rss_bytes"] / 2**20 for r in cold]
    serving = [r.get("serve_every_page_seconds", 0.0) for r in compiled]
    figures.append(Figure(
        "launch", "peak RSS after launch (compiled tree)", f"{max(peaks):.0f} MB", "-",
        f"<= {_MEMORY_TARGET_MB} MB", max(peaks) <= _MEMORY_TARGET_MB,
        note=f"taken after every page was served once ({statistics.median(serving):.2f} s; "
        "programs are loaded at a page's first render); right after the launch "
        f"{max(launch_peaks):.0f} MB; cold launch and serving: {max(cold_peaks):.0f} MB "
        "(its compile workers not counted)",
        data={"peak_mb": peaks, "launch_peak_mb": launch_peaks, "cold_peak_mb": cold_peaks,
              "serve_every_page_seconds": serving},
    ))
    return figures


_LABELS = [
    ("launch", "cold launch (s)"),
    ("launch", "launch after compile_webapp (s)"),
    ("launch", "peak RSS after launch (compiled tree)"),
]


def _unmeasured(name: str, label: str, why: str) -> Figure:
    return Figure(name, label, "-", "-", "-", None, note=why)


def _spread_note(values: list[float], unit: str, what: str) -> str:
    if len(values) < 2:
        return ""
    return f"{len(values)} {what}: {min(values):.1f}-{max(values):.1f} {unit}"
