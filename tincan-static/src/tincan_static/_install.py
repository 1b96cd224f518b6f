"""``install_static``: copy or move a webapp's static files into a web server's directory."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable

from ._fileops import (
    Copied,
    SourceChangedError,
    copy_file,
    digest_file,
    gzip_file,
    remove_source,
    sync_directory,
)
from ._manifest import FileRecord, Manifest, ManifestError, load_manifest, save_manifest
from ._plan import FileJob, InstallError, check_locations, find_conflicts, plan_jobs
from ._quote import quote_path
from ._report import InstallReport

__all__ = ["COMPRESSIBLE_SUFFIXES", "InstallReport", "install_static"]

# Text assets worth a pre-compressed sibling for nginx gzip_static / Apache negotiation.
COMPRESSIBLE_SUFFIXES = frozenset(
    {".css", ".js", ".mjs", ".html", ".htm", ".svg", ".json", ".txt", ".xml", ".map"}
)
# Errors on the target side after which going on would only repeat the failure.
_FATAL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})

Callback = Callable[[str], None]


class _Stop(Exception):
    """A target-side failure after which no further file is attempted."""


class _Run:
    """The state of one install; every change to the disk goes through here."""

    def __init__(
        self,
        report: InstallReport,
        jobs: list[FileJob],
        old: Manifest,
        *,
        preserve: bool,
        compress: bool,
        on_action: Callback | None,
        on_problem: Callback | None,
    ) -> None:
        self.report = report
        self.jobs = jobs
        self.old = old
        self.new = Manifest(dirs=set(old.dirs))
        self.preserve = preserve
        self.compress = compress
        self.on_action = on_action
        self.on_problem = on_problem
        self.dry_run = report.dry_run
        self.target = report.target
        self.relpaths = {job.relpath for job in jobs}
        self.existing_dirs: set[str] = set()
        self.gone: set[str] = set()  # paths removed (or, in a dry run, that would be)

    # -- output ------------------------------------------------------------------------
    def action(self, verb: str, *paths: str) -> None:
        if self.on_action is not None:
            self.on_action(" ".join([verb, *map(quote_path, paths)]))

    def warn(self, message: str) -> None:
        self.report.warnings.append(message)
        if self.on_problem is not None:
            self.on_problem(f"warning: {message}")

    def error(self, message: str) -> None:
        self.report.errors.append(message)
        if self.on_problem is not None:
            self.on_problem(message)

    # -- directories -------------------------------------------------------------------
    def ensure_target(self) -> None:
        missing = []
        path = self.target
        while path and not os.path.isdir(path):
            missing.append(path)
            parent = os.path.dirname(path.rstrip(os.sep))
            if parent == path:
                break
            path = parent
        for path in reversed(missing):
            self.action("mkdir", path)
            if not self.dry_run:
                os.mkdir(path)

    def ensure_dir(self, reldir: str) -> None:
        if not reldir or reldir in self.existing_dirs:
            return
        parent = reldir.rpartition("/")[0]
        self.ensure_dir(parent)
        path = os.path.join(self.target, *reldir.split("/"))
        if not os.path.isdir(path):
            self.action("mkdir", path)
            if not self.dry_run:
                os.mkdir(path)
            self.report.created_dirs.append(reldir)
            self.new.dirs.add(reldir)
        self.existing_dirs.add(reldir)

    # -- files -------------------------------------------------------------------------
    def unchanged(self, job: FileJob) -> FileRecord | None:
        """The record of ``job.dest`` if it already holds the source's content."""
        try:
            dest = os.lstat(job.dest)
            source = os.stat(job.real)
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(dest.st_mode) or dest.st_size != source.st_size:
            return None
        old = self.old.files.get(job.relpath)
        known = old is not None and (old.size, old.mtime_ns) == (dest.st_size, dest.st_mtime_ns)
        if self.preserve:
            if dest.st_mtime_ns != source.st_mtime_ns:
                return None
            if known and old is not None:
                return old
            return FileRecord(dest.st_size, dest.st_mtime_ns, digest_file(job.dest)[1])
        dest_hash = old.sha256 if known and old is not None else digest_file(job.dest)[1]
        if digest_file(job.real)[1] != dest_hash:
            return None
        return FileRecord(dest.st_size, dest.st_mtime_ns, dest_hash)

    def record_copy(self, job: FileJob, copied: Copied) -> None:
        mtime = os.lstat(job.dest).st_mtime_ns
        self.new.files[job.relpath] = FileRecord(copied.size, mtime, copied.sha256)

    def install(self, job: FileJob, *, move: bool) -> None:
        self.ensure_dir(job.relpath.rpartition("/")[0])
        record = self.unchanged(job)
        # A file reached through a symlinked directory is also in the tree under its
        # real name, where it is moved; here it is only copied.
        move = move and (job.direct or job.entry_is_link)
        if record is not None and not move:
            self.report.unchanged.append(job.relpath)
            self.new.files[job.relpath] = record
            self.after_install(job, changed=False)
            return
        self.action("mv" if move else "cp", job.source, job.dest)
        if self.dry_run:
            (self.report.moved if move else self.report.copied).append(job.relpath)
            self.after_install(job, changed=record is None)
            return
        copied = copy_file(job.real, job.dest, preserve=self.preserve, durable=move)
        self.record_copy(job, copied)
        if move:
            sync_directory(os.path.dirname(job.dest))
            if digest_file(job.dest) != (copied.size, copied.sha256):
                os.unlink(job.dest)
                del self.new.files[job.relpath]
                raise OSError(errno.EIO, "the copy does not match the source", job.dest)
            try:
                remove_source(job.source, copied)
            except OSError as exc:
                self.report.copied.append(job.relpath)
                why = (
                    "it changed since it was copied"
                    if isinstance(exc, SourceChangedError)
                    else exc.strerror
                )
                self.error(
                    f"{quote_path(job.source)}: copied but not deleted ({why}); the source is kept"
                )
            else:
                self.report.moved.append(job.relpath)
        else:
            self.report.copied.append(job.relpath)
        self.after_install(job, changed=True)

    def after_install(self, job: FileJob, *, changed: bool) -> None:
        """Keep the ``.gz`` sibling of an installed file current (or remove a stale one)."""
        gz_rel = job.relpath + ".gz"
        if gz_rel in self.relpaths:
            return  # the webapp ships its own; it is installed like any file
        gz_path = job.dest + ".gz"
        old = self.old.files.get(gz_rel)
        ours = old is not None and old.derived_from == job.relpath
        present = os.path.lexists(gz_path)
        wanted = (
            self.compress and os.path.splitext(job.relpath)[1].lower() in COMPRESSIBLE_SUFFIXES
        )
        if wanted and present and not ours:
            self.warn(f"{gz_path}: not written, the file exists and was not installed here")
            return
        if wanted and (changed or not present or not ours):
            source = job.real if self.dry_run else job.dest
            size = gzip_file(source, gz_path, dry_run=self.dry_run)
            if size is not None:
                self.action("gzip", gz_path)
                self.report.compressed.append(gz_rel)
                if not self.dry_run:
                    written = os.lstat(gz_path)
                    self.new.files[gz_rel] = FileRecord(
                        size, written.st_mtime_ns, digest_file(gz_path)[1], job.relpath
                    )
                return
            changed = True  # an older, larger-than-needed .gz of ours is stale now
        if ours and old is not None and present:
            if changed:
                self.remove(gz_rel, gz_path, old)
            else:
                self.new.files[gz_rel] = old

    def remove(self, relpath: str, path: str, record: FileRecord) -> None:
        """Delete a file this installer wrote, if it still holds what was written."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if (
            not stat.S_ISREG(st.st_mode)
            or st.st_size != record.size
            or (st.st_mtime_ns != record.mtime_ns and digest_file(path)[1] != record.sha256)
        ):
            self.warn(f"{path}: kept, it changed since it was installed")
            self.new.files[relpath] = record
            return
        self.action("rm", path)
        if not self.dry_run:
            os.unlink(path)
        self.gone.add(path)
        self.report.removed.append(relpath)

    def prune(self) -> None:
        stale = sorted(set(self.old.files) - set(self.new.files) - self.relpaths)
        for relpath in stale:
            self.remove(
                relpath, os.path.join(self.target, *relpath.split("/")), self.old.files[relpath]
            )
        needed: set[str] = set()
        for relpath in [*self.new.files, *self.relpaths]:
            parts = relpath.split("/")[:-1]
            needed.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        for reldir in sorted(self.new.dirs - needed, reverse=True):
            path = os.path.join(self.target, *reldir.split("/"))
            try:
                entries = os.listdir(path)
            except OSError:
                continue
            if all(os.path.join(path, name) in self.gone for name in entries):
                self.action("rmdir", path)
                if not self.dry_run:
                    os.rmdir(path)
                self.gone.add(path)
                self.new.dirs.discard(reldir)

    def finish_manifest(self) -> Manifest:
        """Older records stay while their file does, so a later ``--prune`` can still act."""
        for relpath, record in self.old.files.items():
            path = os.path.join(self.target, *relpath.split("/"))
            if relpath not in self.new.files and path not in self.gone and os.path.lexists(path):
                self.new.files[relpath] = record
        self.new.dirs = {
            d for d in self.new.dirs if os.path.isdir(os.path.join(self.target, *d.split("/")))
        }
        return self.new


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc)


def install_static(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    move: bool = False,
    preserve: bool = True,
    dry_run: bool = False,
    prune: bool = False,
    compress: bool = False,
    report: Callback | None = None,
    problems: Callback | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> InstallReport:
    """Install the static files of the webapp at ``source`` into the directory ``target``.

    Exactly the files ``launch(static=True)`` serves are installed, keeping their
    relative layout. ``report`` receives each action line (``mkdir '...'``,
    ``cp '...' '...'``, ``mv '...' '...'``, ``gzip '...'``, ``rm '...'``,
    ``rmdir '...'``); ``problems`` each warning and error; ``progress`` is called
    with ``(done, total)`` after each file.

    Raises :class:`InstallError` (or :class:`NotAWebappError`) when nothing can be
    done; failures on single files are in the returned report's ``errors``.
    """
    if move and not preserve:
        raise ValueError("a move always keeps mode and times (move=True needs preserve=True)")
    source_path, target_path = os.fspath(source), os.fspath(target)
    check_locations(source_path, target_path)
    jobs, scan_warnings = plan_jobs(source_path, target_path)
    conflicts = find_conflicts(target_path, jobs)
    if conflicts:
        more = f" (and {len(conflicts) - 10} more)" if len(conflicts) > 10 else ""
        raise InstallError(
            "wrong kind of path in the target:\n  " + "\n  ".join(conflicts[:10]) + more
        )
    manifest_problem = ""
    try:
        old = load_manifest(target_path) if os.path.isdir(target_path) else Manifest()
    except ManifestError as exc:
        if prune:
            raise InstallError(
                f"{target_path}: cannot prune, the install manifest is unreadable: {exc}"
            ) from None
        old = Manifest()
        manifest_problem = (
            f"{target_path}: install manifest unreadable ({exc}), starting a new one"
        )
    result = InstallReport(source_path, target_path, move=move, dry_run=dry_run)
    run = _Run(
        result,
        jobs,
        old,
        preserve=preserve,
        compress=compress,
        on_action=report,
        on_problem=problems,
    )
    for warning in scan_warnings:
        run.warn(warning)
    if manifest_problem:
        run.warn(manifest_problem)
    try:
        run.ensure_target()
    except OSError as exc:
        raise InstallError(
            f"{target_path}: cannot create the target directory: {_describe(exc)}"
        ) from None
    # Files reached through a symlink are copied before the real files are moved away.
    ordered = sorted(jobs, key=lambda j: (j.direct, j.relpath)) if move else jobs
    total = len(ordered)
    try:
        for done, job in enumerate(ordered, 1):
            _install_one(run, job, move=move)
            if progress is not None:
                progress(done, total)
        if prune:
            run.prune()
    except _Stop:
        pass
    if not dry_run:
        try:
            save_manifest(target_path, run.finish_manifest())
        except OSError as exc:
            run.error(f"{target_path}: cannot write the install manifest: {_describe(exc)}")
    return result


def _install_one(run: _Run, job: FileJob, *, move: bool) -> None:
    try:
        run.install(job, move=move)
    except OSError as exc:
        verb = "move" if move else "copy"
        kept = "; the source is kept" if move else ""
        if isinstance(exc, SourceChangedError):
            run.error(f"{job.source}: changed while being installed, not {verb}d{kept}; run again")
        elif exc.filename in (job.real, job.source) and isinstance(exc, FileNotFoundError):
            run.error(f"{job.source}: vanished during the install, nothing to {verb}")
        elif exc.filename in (job.real, job.source):
            run.error(f"{quote_path(job.source)}: cannot read: {_describe(exc)}")
        else:
            paths = f"{quote_path(job.source)} to {quote_path(job.dest)}"
            run.error(f"cannot {verb} {paths}: {_describe(exc)}{kept}")
            if exc.errno in _FATAL_ERRNOS or exc.errno in (errno.EACCES, errno.EPERM):
                done = len(run.report.copied) + len(run.report.moved) + len(run.report.unchanged)
                run.error(
                    f"stopped after {done} of {len(run.jobs)} files; the rest was not installed"
                )
                raise _Stop from None
