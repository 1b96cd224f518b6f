"""--move never loses a file: copy, verify, delete, and every failure midway leaves
each file complete in the source, the target or both."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_static import install_static, main_install_static

TREE: dict[str, bytes | str] = {
    "index.pspx": "<p>page</p>",
    "index.py": "code",
    "a.css": "a" * 3000,
    "b/c.js": "c" * 10,
    "b/d/e.png": b"\x89PNG" + bytes(range(256)) * 8,
    "b/d/f.txt": "f",
    "g.html": "<p>g</p>",
}
STATIC = ["a.css", "b/c.js", "b/d/e.png", "b/d/f.txt", "g.html"]


@contextmanager
def failing(
    name: str, nth: int, err: int, when: Callable[..., bool] = lambda *a: True, module: Any = os
) -> Iterator[list[int]]:
    """Make ``module.name`` raise ``OSError(err)`` on its ``nth`` call that ``when`` accepts."""
    real = getattr(module, name)
    calls = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if when(*args):
            calls[0] += 1
            if calls[0] == nth:
                filename = args[0] if args and isinstance(args[0], str) else None
                raise OSError(err, os.strerror(err), filename)
        return real(*args, **kwargs)

    setattr(module, name, wrapper)
    try:
        yield calls
    finally:
        setattr(module, name, real)


def contents(root: Path, relpaths: list[str]) -> dict[str, bytes]:
    return {rel: (root / rel).read_bytes() for rel in relpaths if (root / rel).is_file()}


def assert_nothing_lost(original: dict[str, bytes], source: Path, target: Path) -> None:
    for relpath, data in original.items():
        places = [root / relpath for root in (source, target)]
        intact = [p for p in places if p.is_file() and p.read_bytes() == data]
        assert intact, f"{relpath} was lost"
        for p in places:  # never a truncated or mixed copy under the final name
            assert not p.exists() or p.read_bytes() == data, f"{p} is corrupt"
    assert not [p for p in target.rglob(".tincan-tmp-*")], "temporary file left behind"


def test_move_moves_static_files_and_leaves_everything_else(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_webapp(TREE)
    original = contents(source, STATIC)
    target = tmp_path / "static"
    lines: list[str] = []
    report = install_static(source, target, move=True, report=lines.append)
    assert report.ok and sorted(report.moved) == STATIC
    assert f"mv '{source}/a.css' '{target}/a.css'" in lines
    assert contents(target, STATIC) == original
    assert not any((source / rel).exists() for rel in STATIC)
    assert (source / "index.pspx").exists() and (source / "index.py").exists()
    assert report.summary() == "5 moved, 0 copied, 0 unchanged, 0 removed"


def test_move_onto_an_identical_copy_still_verifies_and_moves(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_webapp(TREE)
    original = contents(source, STATIC)
    target = tmp_path / "static"
    install_static(source, target)
    report = install_static(source, target, move=True)
    assert sorted(report.moved) == STATIC
    assert contents(target, STATIC) == original
    assert not any((source / rel).exists() for rel in STATIC)


def test_move_with_symlinks_copies_links_and_moves_real_files(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_webapp({"real/a.css": "a", "z-alias": "->real", "b.css": "->real/a.css"})
    target = tmp_path / "static"
    report = install_static(source, target, move=True)
    assert report.ok, report.errors
    assert {p.relative_to(target).as_posix() for p in target.rglob("*.css")} == {
        "real/a.css",
        "z-alias/a.css",
        "b.css",
    }
    assert not (source / "real" / "a.css").exists()
    assert not os.path.lexists(source / "b.css")  # the link itself was moved


FAULTS = [
    pytest.param("write", 2, errno.ENOSPC, id="disk-full-while-writing"),
    pytest.param("write", 4, errno.EIO, id="io-error-while-writing"),
    pytest.param("fsync", 3, errno.EIO, id="fsync-fails"),
    pytest.param("replace", 2, errno.EACCES, id="rename-into-place-denied"),
    pytest.param("mkdir", 1, errno.EACCES, id="mkdir-denied"),
    pytest.param("unlink", 2, errno.EACCES, id="source-cannot-be-deleted"),
    pytest.param("read", 3, errno.EIO, id="read-error"),
    pytest.param("utime", 2, errno.EPERM, id="cannot-set-times"),
]


@pytest.mark.parametrize(("function", "nth", "err"), FAULTS)
def test_a_failing_move_loses_nothing_and_says_so(
    make_webapp: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    function: str,
    nth: int,
    err: int,
) -> None:
    source = make_webapp(TREE)
    original = contents(source, STATIC)
    target = tmp_path / "static"
    target.mkdir()
    with failing(function, nth, err) as calls:
        status = main_install_static(["--move", str(source), str(target)])
    assert calls[0] >= nth, "the fault was never injected"
    _, errors = capsys.readouterr()
    assert status == 1
    assert os.strerror(err) in errors
    assert "error(s)" in errors
    assert_nothing_lost(original, source, target)
    # What could not be moved is still in the source; a second run finishes the job.
    assert main_install_static(["--move", str(source), str(target)]) == 0
    assert contents(target, STATIC) == original
    assert not any((source / rel).exists() for rel in STATIC)


def test_target_not_writable_stops_at_once(
    make_webapp: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make_webapp(TREE)
    original = contents(source, STATIC)
    target = tmp_path / "static"
    target.mkdir()

    def in_target(path: Any, *args: Any) -> bool:
        return isinstance(path, str) and path.startswith(str(target))

    with failing("open", 1, errno.EACCES, when=in_target):
        status = main_install_static(["-m", str(source), str(target)])
    _, errors = capsys.readouterr()
    assert status == 1
    assert f"cannot move '{source}/a.css' to '{target}/a.css': Permission denied" in errors
    assert "the source is kept" in errors and "stopped after 0 of 5 files" in errors
    assert errors.count("cannot move") == 1
    assert contents(source, STATIC) == original


def test_source_vanishing_midway_is_reported(
    make_webapp: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make_webapp(TREE)
    target = tmp_path / "static"
    lines: list[str] = []

    def on_action(line: str) -> None:
        lines.append(line)
        if line.startswith("mv") and "a.css" in line:
            (source / "b" / "d" / "e.png").unlink()  # someone deletes a file meanwhile

    report = install_static(source, target, move=True, report=on_action)
    assert report.errors == [f"{source}/b/d/e.png: vanished during the install, nothing to move"]
    assert sorted(report.moved) == ["a.css", "b/c.js", "b/d/f.txt", "g.html"]


def test_source_changing_during_the_copy_is_kept(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_webapp(TREE)
    target = tmp_path / "static"
    real_read = os.read
    grown = []

    def read_then_grow(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        if not grown and data.startswith(b"aaa"):
            grown.append(True)
            with open(source / "a.css", "ab") as f:
                f.write(b"appended while copying")
        return data

    os.read = read_then_grow  # type: ignore[assignment]
    try:
        report = install_static(source, target, move=True)
    finally:
        os.read = real_read
    assert grown
    assert report.errors == [
        f"{source}/a.css: changed while being installed, not moved; the source is kept; run again"
    ]
    assert (source / "a.css").read_bytes().endswith(b"appended while copying")
    assert not (target / "a.css").exists()


def test_copystat_style_failure_in_plain_copy_loses_nothing(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_webapp(TREE)
    original = contents(source, STATIC)
    with failing("chmod", 1, errno.EPERM):
        report = install_static(source, tmp_path / "static")
    assert not report.ok
    assert contents(source, STATIC) == original
    assert shutil.which("true") is not None  # the environment is untouched after the patch


FUNCTIONS = [
    "write",
    "fsync",
    "replace",
    "unlink",
    "mkdir",
    "utime",
    "chmod",
    "open",
    "read",
    "lstat",
]
ERRNOS = [errno.ENOSPC, errno.EACCES, errno.EIO, errno.EPERM, errno.EROFS, errno.ENOENT]
names = st.text(alphabet="abcXYZ._- '", min_size=1, max_size=6).filter(
    lambda n: not n.startswith(".") and n not in ("..",)
)
suffixes = st.sampled_from([".css", ".js", ".png", ".txt", ".html", ".py", ".pspx", ""])
relpaths = st.lists(names, min_size=1, max_size=3).flatmap(
    lambda parts: suffixes.map(lambda sfx: "/".join(parts) + sfx)
)


@settings(max_examples=60)
@given(
    files=st.dictionaries(relpaths, st.binary(max_size=3000), min_size=1, max_size=8),
    function=st.sampled_from(FUNCTIONS),
    nth=st.integers(min_value=1, max_value=25),
    err=st.sampled_from(ERRNOS),
)
def test_property_a_move_never_loses_a_file(
    tmp_path_factory: pytest.TempPathFactory,
    files: dict[str, bytes],
    function: str,
    nth: int,
    err: int,
) -> None:
    base = tmp_path_factory.mktemp("move")
    source = base / "webapp"
    (source / "WEB-INF").mkdir(parents=True)
    written: dict[str, bytes] = {}
    for relpath, data in files.items():
        path = source / relpath
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue  # a name used both as file and directory: keep the first
        written[relpath] = data
    before = {rel: data for rel, data in written.items() if (source / rel).is_file()}
    target = base / "static"
    with failing(function, nth, err):
        try:
            report = install_static(source, target, move=True)
        except Exception:
            report = None  # refusing to start is fine; losing a file is not
    assert_nothing_lost(before, source, target)
    if report is not None and report.ok:
        for relpath in report.moved:
            assert not (source / relpath).exists()
