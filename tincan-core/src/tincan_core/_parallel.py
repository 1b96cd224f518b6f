"""Running compile jobs in forked worker processes, robustly.

Chameleon compiles in pure Python, so only processes use more than one core.
Workers are forked, never spawned: a spawned worker re-imports the program's
main module, which in a WSGI script would launch the webapp again. Forking is
only done while the process has a single thread (forking a threaded process
can copy a lock that some other thread holds). A worker that dies costs
nothing but time: its jobs are handed back to the caller.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TypeVar

__all__ = ["available_cores", "default_jobs", "fork_is_safe", "run_in_workers"]

JOBS_VARIABLE = "TINCAN_JOBS"

Job = TypeVar("Job")
Result = TypeVar("Result")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    """``$TINCAN_JOBS`` if it is a positive integer, else every available core."""
    value = os.environ.get(JOBS_VARIABLE, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return available_cores()


def fork_is_safe() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def _run_chunk(func: Callable[[Job], Result], chunk: Sequence[Job]) -> list[Result]:
    return [func(job) for job in chunk]


def run_in_workers(
    func: Callable[[Job], Result],
    jobs: Sequence[Job],
    workers: int,
    on_result: Callable[[Job, Result], None],
) -> list[Job]:
    """Run ``func`` over ``jobs`` in up to ``workers`` forked processes.

    ``on_result`` is called in this process as each job finishes (in completion
    order). ``func`` should catch its own errors. Returns the jobs that got no
    result because a worker process died or could not be started; the caller
    runs those itself. Call only when :func:`fork_is_safe`.
    """
    import multiprocessing

    workers = max(1, min(workers, len(jobs)))
    # Small chunks keep every worker busy to the end and the progress fine-grained;
    # a chunk per job would spend more on messages than a short job takes.
    size = max(1, min(8, len(jobs) // (workers * 8)))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    left: list[Job] = []
    try:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    except (OSError, ValueError):
        return list(jobs)
    with pool:
        try:
            running: dict[Future[list[Result]], Sequence[Job]] = {
                pool.submit(_run_chunk, func, chunk): chunk for chunk in chunks
            }
        except Exception:  # no processes here (a daemonic process may not have children)
            pool.shutdown(wait=True, cancel_futures=True)
            return list(jobs)
        try:
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    chunk = running.pop(future)
                    try:
                        results = future.result()
                    except Exception:  # a dead worker, or a job that did not catch its error
                        left.extend(chunk)
                        continue
                    for job, result in zip(chunk, results, strict=True):
                        on_result(job, result)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return left
