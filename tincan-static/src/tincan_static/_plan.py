"""What an install will do, decided before anything is touched.

The set of files comes from tincan-core's scan and classification (exactly the
files ``launch(static=True)`` serves); this module only maps them to the target
and refuses source/target combinations that make no sense.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from tincan_core import FileKind, scan_tree

__all__ = [
    "FileJob",
    "InstallError",
    "NotAWebappError",
    "check_locations",
    "find_conflicts",
    "plan_jobs",
]


class InstallError(Exception):
    """The install cannot start or cannot go on; the message says why, for the user."""

    exit_code = 1


class NotAWebappError(InstallError):
    """The source is not a webapp directory (a usage mistake: exit status 2)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class FileJob:
    relpath: str  # "/"-separated, relative to the webapp root
    source: str  # the entry under the source directory, as the user named it
    real: str  # the file actually read (symlinks resolved)
    dest: str  # where it goes under the target
    direct: bool  # the entry is the file itself, not reached through a symlinked directory
    entry_is_link: bool  # the entry itself is a symlink to a file elsewhere in the tree


def _inside(parent: str, child: str) -> bool:
    return child.startswith(parent.rstrip(os.sep) + os.sep)


def check_locations(source: str, target: str) -> None:
    """Refuse a source that is not a webapp and targets that overlap it."""
    if not os.path.isdir(source):
        raise NotAWebappError(f"{source}: not a directory")
    if not os.path.isdir(os.path.join(source, "WEB-INF")):
        raise NotAWebappError(f"{source}: not a webapp (no WEB-INF directory)")
    if os.path.lexists(target) and not os.path.isdir(target):
        raise InstallError(f"{target}: exists and is not a directory")
    real_source = os.path.realpath(source)
    real_target = os.path.realpath(target)
    if real_source == real_target:
        raise InstallError(f"{target}: is the webapp directory itself")
    if _inside(real_source, real_target):
        raise InstallError(
            f"{target}: is inside the webapp {source}; it would be served as part of it"
        )
    if _inside(real_target, real_source):
        raise InstallError(f"{source}: the webapp is inside the target {target}")


def plan_jobs(source: str, target: str) -> tuple[list[FileJob], list[str]]:
    """The static files of the webapp at ``source`` and where each goes; plus scan warnings."""
    inventory = scan_tree(source)
    root = inventory.root
    jobs = []
    for f in inventory.of_kind(FileKind.STATIC):
        parts = f.relpath.split("/")
        entry = os.path.join(source, *parts)
        literal = os.path.join(root, *parts)
        direct = f.path == literal
        jobs.append(
            FileJob(
                relpath=f.relpath,
                source=entry,
                real=f.path,
                dest=os.path.join(target, *parts),
                direct=direct,
                entry_is_link=not direct and os.path.islink(literal),
            )
        )
    return jobs, list(inventory.warnings)


def find_conflicts(target: str, jobs: list[FileJob]) -> list[str]:
    """Paths in the target of the wrong kind: a non-directory where a directory must
    go (a symlink counts: writing through it would leave the target), or a directory
    where a file must go."""
    kinds: dict[str, int | None] = {}

    def mode(path: str) -> int | None:
        if path not in kinds:
            try:
                kinds[path] = os.lstat(path).st_mode
            except FileNotFoundError:
                kinds[path] = None
        return kinds[path]

    problems: list[str] = []
    reported: set[str] = set()
    for job in jobs:
        parts = job.relpath.split("/")
        path = target
        blocked = False
        for part in parts[:-1]:
            path = os.path.join(path, part)
            m = mode(path)
            if m is None:
                break
            if not stat.S_ISDIR(m):
                if path not in reported:
                    kind = "a symlink" if stat.S_ISLNK(m) else "not a directory"
                    problems.append(
                        f"{path}: is {kind}, but {job.relpath} must be installed below it"
                    )
                    reported.add(path)
                blocked = True
                break
        if blocked:
            continue
        m = mode(job.dest)
        if m is not None and stat.S_ISDIR(m):
            problems.append(
                f"{job.dest}: is a directory, but the file {job.relpath} must be installed there"
            )
    return problems
