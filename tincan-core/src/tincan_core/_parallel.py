"""Running compile jobs in forked worker processes, robustly.

Chameleon compiles in pure Python, so only processes use more than one core.
Workers are forked, never spawned: a spawned worker re-imports the program's
main module, which in a WSGI script would launch the webapp again. Forking is
only done while the process has a single thread (forking a threaded process
can copy a lock that some other thread holds). A worker that dies costs
nothing but time: its jobs are handed back to the caller.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TypeVar

__all__ = [
    "WorkerPool",
    "WorkerPoolUnavailable",
    "available_cores",
    "default_jobs",
    "fork_is_safe",
    "run_in_workers",
]

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


def _ready() -> None:
    """The first job of a pool: submitting it forks every worker."""


_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_MANAGER_JOIN_SECONDS = 5.0


def _end_with_parent(parent: int) -> None:
    """Have the kernel end this worker when its parent dies (Linux), so a server
    killed mid-compile (SIGKILL, the OOM killer) leaves no workers behind."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError, TypeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before that took effect
        os._exit(1)


def _start_worker(parent: int, background: bool) -> None:
    _end_with_parent(parent)
    if background:
        # A background worker must not slow down the requests of the server it works for.
        with contextlib.suppress(OSError, AttributeError):
            os.nice(5)


class WorkerPoolUnavailable(Exception):
    """No worker processes could be started here (none allowed, or out of resources)."""


class WorkerPool:
    """Forked worker processes, started when the pool is made, given jobs later.

    Make it only when :func:`fork_is_safe`: every worker is forked in the
    constructor, so :meth:`run` may then be called from any thread (a server's
    background compile starts its workers before the server starts its threads).
    ``background=True`` lowers the workers' CPU priority.
    """

    def __init__(self, workers: int, *, background: bool = False) -> None:
        import multiprocessing

        self.workers = max(1, workers)
        try:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_start_worker,
                initargs=(os.getpid(), background),
            )
        except (OSError, ValueError) as exc:
            raise WorkerPoolUnavailable(str(exc)) from exc
        try:
            # concurrent.futures forks all of a fork pool's workers at the first submit.
            self._pool.submit(_ready)
        except Exception as exc:  # no processes here (a daemonic process may not have children)
            self._pool.shutdown(wait=True, cancel_futures=True)
            raise WorkerPoolUnavailable(str(exc)) from exc

    def run(
        self,
        func: Callable[[Job], Result],
        jobs: Sequence[Job],
        on_result: Callable[[Job, Result], None],
        stop: threading.Event | None = None,
    ) -> list[Job]:
        """Run ``func`` over ``jobs``; ``on_result`` is called in this thread as each
        job finishes (in completion order). Returns the jobs that got no result: a
        worker died, or ``stop`` was set (then the jobs not started are dropped)."""
        if not jobs:
            return []
        # Small chunks keep every worker busy to the end and the progress fine-grained;
        # a chunk per job would spend more on messages than a short job takes.
        size = max(1, min(8, len(jobs) // (self.workers * 8)))
        chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
        left: list[Job] = []
        try:
            running: dict[Future[list[Result]], Sequence[Job]] = {
                self._pool.submit(_run_chunk, func, chunk): chunk for chunk in chunks
            }
        except Exception:  # the pool broke (a worker died before any job was given)
            return list(jobs)
        while running:
            if stop is not None and stop.is_set():
                for future, chunk in running.items():
                    future.cancel()
                    left.extend(chunk)
                return left
            done, _ = wait(running, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in done:
                chunk = running.pop(future)
                try:
                    results = future.result()
                except Exception:  # a dead worker, or a job that did not catch its error
                    left.extend(chunk)
                    continue
                for job, result in zip(chunk, results, strict=True):
                    on_result(job, result)
        return left

    def close(self, *, terminate: bool = False) -> None:
        """Shut the pool down: wait for the jobs running, or end the workers at once.

        Either way the pool's manager thread has finished when this returns (or
        after a few seconds at most, if a worker will not end): a thread still
        closing its pipes while the interpreter exits makes concurrent.futures'
        exit hook write to a closed pipe and print a traceback (Python 3.11)."""
        if terminate:
            processes = list((getattr(self._pool, "_processes", None) or {}).values())
            manager = getattr(self._pool, "_executor_manager_thread", None)
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                with contextlib.suppress(Exception):
                    process.terminate()
            if isinstance(manager, threading.Thread) and manager is not threading.current_thread():
                manager.join(timeout=_MANAGER_JOIN_SECONDS)
            return
        self._pool.shutdown(wait=True, cancel_futures=True)


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
    if not jobs:
        return []
    try:
        pool = WorkerPool(min(workers, len(jobs)))
    except WorkerPoolUnavailable:
        return list(jobs)
    try:
        return pool.run(func, jobs, on_result)
    finally:
        pool.close()
