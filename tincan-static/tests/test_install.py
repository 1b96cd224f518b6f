"""install_static: which files, the action lines, idempotence, dry runs, pruning, compression."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from tincan_static import MANIFEST_NAME, InstallError, NotAWebappError, install_static

MIXED_TREE: dict[str, bytes | str] = {
    "index.pspx": "<p>home</p>",
    "index.py": "from tincan import Page\n",
    "style.css": "body { color: red }\n",
    "img/logo.png": b"\x89PNG\r\n\x1a\nfake",
    "img/LOGO.PY": "print('source')\n",
    "img/x.Pspx": "<p>not a page on Linux, never installed</p>",
    "lib/macros.pt": "<metal:m/>",
    "lib/cached.pyc": b"\x00\x01",
    "lib/__pycache__/mod.cpython-311.pyc": b"\x00",
    "lib/__pycache__/notes.txt": "bytecode directory: never installed",
    "sub/WEB-INF/secret.txt": "nested private directory",
    "sub/web-inf/other.txt": "private in any case",
    "sub/page.html": "<p>static page</p>",
    ".env": "SECRET=1",
    "sub/.hidden/file.css": "ignored",
    "WEB-INF/lib/store.py": "private",
    "odd name's [x] <y>.txt": "odd",
}
STATIC = {"style.css", "img/logo.png", "sub/page.html", "odd name's [x] <y>.txt"}


def run(source: Path, target: Path, **options: object) -> tuple[list[str], list[str], object]:
    lines: list[str] = []
    problems: list[str] = []
    report = install_static(
        source, target, report=lines.append, problems=problems.append, **options
    )  # type: ignore[arg-type]
    return lines, problems, report


def test_installs_exactly_the_static_files(
    make_webapp: Callable[..., Path], tmp_path: Path, installed: Callable[[Path], dict[str, bytes]]
) -> None:
    source = make_webapp(MIXED_TREE)
    target = tmp_path / "static"
    _, _, report = run(source, target)
    files = installed(target)
    assert set(files) == STATIC
    for relpath in STATIC:
        assert files[relpath] == (source / relpath).read_bytes()
    assert report.ok  # type: ignore[attr-defined]
    assert (target / MANIFEST_NAME).is_file()


def test_keeps_mode_and_times_unless_told_not_to(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_webapp({"a.css": "a", "b.js": "b"})
    os.chmod(source / "a.css", 0o640)
    os.utime(source / "a.css", ns=(1_000_000_000_000_000_000, 1_000_000_000_123_456_789))
    run(source, tmp_path / "kept")
    st = os.stat(tmp_path / "kept" / "a.css")
    assert st.st_mtime_ns == 1_000_000_000_123_456_789
    assert st.st_mode & 0o777 == 0o640
    run(source, tmp_path / "fresh", preserve=False)
    st = os.stat(tmp_path / "fresh" / "a.css")
    assert st.st_mtime_ns != 1_000_000_000_123_456_789
    assert st.st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_action_lines_quote_every_path(make_webapp: Callable[..., Path], tmp_path: Path) -> None:
    source = make_webapp({"it's/a b.css": "x"})
    target = tmp_path / "out dir"
    lines, _, report = run(source, target)
    assert lines == [
        f"mkdir '{target}'",
        f"mkdir '{target}/it'\"'\"'s'",
        f"cp '{source}/it'\"'\"'s/a b.css' '{target}/it'\"'\"'s/a b.css'",
    ]
    assert report.summary() == "1 copied, 0 unchanged, 0 removed"  # type: ignore[attr-defined]


def test_second_run_copies_only_what_changed(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_webapp({"a.css": "a", "d/b.js": "b", "d/c.txt": "c"})
    target = tmp_path / "static"
    run(source, target)
    lines, _, report = run(source, target)
    assert lines == []
    assert report.summary() == "0 copied, 3 unchanged, 0 removed"  # type: ignore[attr-defined]
    (source / "d" / "b.js").write_text("changed")
    lines, _, report = run(source, target)
    assert lines == [f"cp '{source}/d/b.js' '{target}/d/b.js'"]
    assert report.summary() == "1 copied, 2 unchanged, 0 removed"  # type: ignore[attr-defined]
    assert (target / "d" / "b.js").read_text() == "changed"


def test_without_preserve_unchanged_means_same_content(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_webapp({"a.css": "aaaa", "b.css": "bbbb"})
    target = tmp_path / "static"
    run(source, target, preserve=False)
    lines, _, _ = run(source, target, preserve=False)
    assert lines == []
    stamp = os.stat(source / "a.css").st_mtime_ns
    (source / "a.css").write_text("AAAA")  # same size
    os.utime(source / "a.css", ns=(stamp, stamp))
    lines, _, _ = run(source, target, preserve=False)
    assert lines == [f"cp '{source}/a.css' '{target}/a.css'"]
    assert (target / "a.css").read_text() == "AAAA"


def test_dry_run_prints_everything_and_changes_nothing(
    make_webapp: Callable[..., Path], tmp_path: Path, snapshot: Callable[[Path], object]
) -> None:
    source = make_webapp({**MIXED_TREE, "big.css": "p { margin: 0 }\n" * 200, "gone.txt": "x"})
    target = tmp_path / "static"
    run(source, target, compress=True)
    (source / "gone.txt").unlink()
    (source / "new" / "deep").mkdir(parents=True)
    (source / "new" / "deep" / "n.js").write_text("var n = 1;\n" * 100)
    (source / "style.css").write_text("changed\n")
    before = (snapshot(source), snapshot(target))
    dry_lines, _, dry = run(source, target, dry_run=True, prune=True, compress=True)
    assert (snapshot(source), snapshot(target)) == before
    assert dry.dry_run and "dry run" in dry.summary()  # type: ignore[attr-defined]
    real_lines, _, real = run(source, target, prune=True, compress=True)
    assert dry_lines == real_lines
    assert real.summary() == dry.summary().replace(" (dry run: nothing was changed)", "")  # type: ignore[attr-defined]
    assert f"rm '{target}/gone.txt'" in real_lines
    assert f"gzip '{target}/new/deep/n.js.gz'" in real_lines


def test_dry_run_into_a_missing_target_creates_nothing(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_webapp({"a/b.css": "x"})
    lines, _, _ = run(source, tmp_path / "new" / "static", dry_run=True)
    assert lines[:3] == [
        f"mkdir '{tmp_path}/new'",
        f"mkdir '{tmp_path}/new/static'",
        f"mkdir '{tmp_path}/new/static/a'",
    ]
    assert not (tmp_path / "new").exists()


def test_prune_removes_only_what_an_install_put_there(
    make_webapp: Callable[..., Path], tmp_path: Path, installed: Callable[[Path], dict[str, bytes]]
) -> None:
    source = make_webapp(
        {"keep.css": "k", "old/gone.css": "g", "old/edited.css": "e", "x/y/z.js": "z"}
    )
    target = tmp_path / "static"
    (target / "x").mkdir(parents=True)  # existed before any install: never removed
    (target / "mine.txt").write_text("put here by hand")
    run(source, target)
    for name in ("old/gone.css", "old/edited.css", "x/y/z.js"):
        (source / name).unlink()
    (target / "old" / "edited.css").write_text("edited on the server")
    (target / "old" / "extra.txt").write_text("added by hand")
    lines, _, report = run(source, target)  # no --prune: nothing removed
    assert lines == [] and (target / "old" / "gone.css").exists()
    lines, problems, report = run(source, target, prune=True)
    assert lines == [
        f"rm '{target}/old/gone.css'",
        f"rm '{target}/x/y/z.js'",
        f"rmdir '{target}/x/y'",
    ]
    assert any("edited.css: kept, it changed since it was installed" in p for p in problems)
    assert installed(target) == {
        "keep.css": b"k",
        "mine.txt": b"put here by hand",
        "old/edited.css": b"edited on the server",
        "old/extra.txt": b"added by hand",
    }
    assert (target / "x").is_dir()
    assert report.summary() == "0 copied, 1 unchanged, 2 removed"  # type: ignore[attr-defined]


def test_prune_after_an_unpruned_run_still_knows_the_stale_files(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_webapp({"a.css": "a", "b.css": "b"})
    target = tmp_path / "static"
    run(source, target)
    (source / "b.css").unlink()
    run(source, target)
    run(source, target)
    lines, _, _ = run(source, target, prune=True)
    assert lines == [f"rm '{target}/b.css'"]


def test_prune_refuses_an_unreadable_manifest(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_webapp({"a.css": "a"})
    target = tmp_path / "static"
    run(source, target)
    (target / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(InstallError, match="cannot prune"):
        run(source, target, prune=True)
    _, problems, report = run(source, target)
    assert any("manifest unreadable" in p for p in problems) and report.ok  # type: ignore[attr-defined]


def test_compress_writes_deterministic_smaller_siblings(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    css = "body { margin: 0; padding: 0 }\n" * 100
    source = make_webapp(
        {"big.css": css, "tiny.js": "x", "pic.png": b"\x00" * 5000, "d/p.SVG": css}
    )
    target = tmp_path / "static"
    lines, _, report = run(source, target, compress=True)
    assert f"gzip '{target}/big.css.gz'" in lines and f"gzip '{target}/d/p.SVG.gz'" in lines
    assert not (target / "tiny.js.gz").exists()  # would be larger than the file
    assert not (target / "pic.png.gz").exists()  # not a text asset
    data = (target / "big.css.gz").read_bytes()
    assert gzip.decompress(data) == css.encode()
    assert data[4:8] == b"\x00\x00\x00\x00"  # no timestamp in the header
    assert os.stat(target / "big.css.gz").st_mtime_ns == os.stat(target / "big.css").st_mtime_ns
    again = tmp_path / "again"
    run(source, again, compress=True)
    assert (again / "big.css.gz").read_bytes() == data
    lines, _, _ = run(source, target, compress=True)
    assert lines == []
    assert report.compressed == ["big.css.gz", "d/p.SVG.gz"]  # type: ignore[attr-defined]
    assert report.summary() == "4 copied, 0 unchanged, 0 removed, 2 compressed"  # type: ignore[attr-defined]


def test_a_changed_file_never_keeps_a_stale_gz(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_webapp({"big.css": "a { b: c }\n" * 100})
    target = tmp_path / "static"
    run(source, target, compress=True)
    (source / "big.css").write_text("a { b: d }\n" * 100)
    lines, _, _ = run(source, target, compress=True)
    assert (
        gzip.decompress((target / "big.css.gz").read_bytes()) == (source / "big.css").read_bytes()
    )
    (source / "big.css").write_text("a { b: e }\n" * 100)
    lines, _, _ = run(source, target)  # not compressing now: the old .gz must go
    assert lines == [f"cp '{source}/big.css' '{target}/big.css'", f"rm '{target}/big.css.gz'"]
    assert not (target / "big.css.gz").exists()


def test_compress_never_overwrites_a_file_it_did_not_write(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    css = "a { b: c }\n" * 100
    source = make_webapp({"own.css": css, "own.css.gz": b"shipped by the webapp", "x.css": css})
    target = tmp_path / "static"
    target.mkdir()
    (target / "x.css.gz").write_bytes(b"put here by hand")
    _, problems, _ = run(source, target, compress=True)
    assert (target / "own.css.gz").read_bytes() == b"shipped by the webapp"
    assert (target / "x.css.gz").read_bytes() == b"put here by hand"
    assert any("x.css.gz: not written" in p for p in problems)


def test_pruning_a_file_takes_its_gz_along(
    make_webapp: Callable[..., Path], tmp_path: Path, installed: Callable[[Path], dict[str, bytes]]
) -> None:
    source = make_webapp({"big.css": "a { b: c }\n" * 100})
    target = tmp_path / "static"
    run(source, target, compress=True)
    (source / "big.css").unlink()
    lines, _, _ = run(source, target, prune=True)
    assert sorted(lines) == [f"rm '{target}/big.css'", f"rm '{target}/big.css.gz'"]
    assert installed(target) == {}


def test_refuses_a_source_that_is_not_a_webapp(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotAWebappError, match="no WEB-INF"):
        install_static(tmp_path / "plain", tmp_path / "out")
    with pytest.raises(NotAWebappError, match="not a directory"):
        install_static(tmp_path / "missing", tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("webapp/static", "inside the webapp"),
        ("webapp", "the webapp directory itself"),
        (".", "the webapp is inside the target"),
        ("file.txt", "not a directory"),
    ],
)
def test_refuses_overlapping_or_wrong_targets(
    make_webapp: Callable[..., Path],
    tmp_path: Path,
    target: str,
    message: str,
    snapshot: Callable[[Path], object],
) -> None:
    source = make_webapp({"a.css": "a"})
    (tmp_path / "file.txt").write_text("a file")
    before = snapshot(tmp_path)
    with pytest.raises(InstallError, match=message) as info:
        install_static(source, tmp_path / target)
    assert info.value.exit_code == 1
    assert snapshot(tmp_path) == before


def test_refuses_a_target_reached_through_a_symlink_into_the_source(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_webapp({"a.css": "a", "sub/b.css": "b"})
    os.symlink(source / "sub", tmp_path / "sneaky")
    with pytest.raises(InstallError, match="inside the webapp"):
        install_static(source, tmp_path / "sneaky")


def test_wrong_kinds_in_the_target_stop_before_any_change(
    make_webapp: Callable[..., Path], tmp_path: Path, snapshot: Callable[[Path], object]
) -> None:
    source = make_webapp({"a.css": "a", "css/site.css": "s", "img/logo.png": "l", "z.js": "z"})
    target = tmp_path / "static"
    target.mkdir()
    (target / "css").write_text("a file where a directory must go")
    (target / "a.css").mkdir()
    os.symlink(tmp_path, target / "img")
    before = snapshot(tmp_path)
    with pytest.raises(InstallError) as info:
        install_static(source, target)
    message = str(info.value)
    assert f"{target}/css: is not a directory" in message
    assert f"{target}/a.css: is a directory" in message
    assert f"{target}/img: is a symlink" in message
    assert snapshot(tmp_path) == before


def test_symlinks_are_followed_inside_the_tree_only(
    make_webapp: Callable[..., Path], tmp_path: Path, installed: Callable[[Path], dict[str, bytes]]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.css").write_text("outside")
    source = make_webapp(
        {
            "real/a.css": "a",
            "alias": "->real",
            "one.css": "->real/a.css",
            "escape.css": f"->{outside}/secret.css",
            "escape-dir": f"->{outside}",
            "src.css": "->index.py",
            "index.py": "code",
        }
    )
    _, problems, _ = run(source, tmp_path / "static")
    files = installed(tmp_path / "static")
    assert files == {"real/a.css": b"a", "alias/a.css": b"a", "one.css": b"a"}
    assert not any(os.path.islink(p) for p in (tmp_path / "static").rglob("*"))
    assert any("escape.css: skipped, symlink leads outside" in p for p in problems)
