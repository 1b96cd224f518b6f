"""What a launch did, for tools and benchmarks: ``app.config["tincan.stats"]``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LaunchStats"]


@dataclass(frozen=True, slots=True)
class LaunchStats:
    """Counters of one launch.

    Templates are Chameleon programs: page bodies (or their ``#template``
    sources) and ``#load``ed macro files, each counted once. After
    ``compile_webapp`` a launch in a fresh process has ``templates_compiled ==
    code_behind_compiled == cache_writes == 0``.
    """

    pages: int  # .pspx files found
    templates_compiled: int  # by Chameleon, at this launch (in workers or in-process)
    templates_loaded: int  # found in the cache directory (each loaded at its first render)
    templates_reused: int  # still in memory from an earlier launch in this process
    cache_rejected: int  # stale or corrupt cache entries ignored (and rebuilt)
    cache_writes: int  # cache entries written
    code_behind_imported: int  # code-behind modules imported
    code_behind_compiled: int  # of those, compiled from source (no usable __pycache__)
    code_behind_reused: int  # compiled from source by an earlier launch in this process
    workers: int  # processes used for compiling templates (0: none)
    seconds: float  # wall time of the launch

    @property
    def templates_cached(self) -> int:
        """Templates that did not need compiling."""
        return self.templates_loaded + self.templates_reused
