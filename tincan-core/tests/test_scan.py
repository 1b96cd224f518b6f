"""Walking the webapp tree: order, skipped names, symlinks, unreadable entries."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_core import FileKind, launch, scan_tree


def relpaths(root: Path, **kwargs: bool) -> list[str]:
    return [f.relpath for f in scan_tree(str(root), **kwargs).files]


@pytest.fixture
def restore_modes() -> Iterator[list[Path]]:
    """Paths whose permissions a test removed; restored so tmp_path can be cleaned."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        os.chmod(path, 0o755)


def test_walk_is_sorted_and_classified(make_webapp: Callable[..., Path]) -> None:
    root = make_webapp(
        {
            "b.pspx": "b",
            "a.txt": "a",
            "a/z.css": "z",
            "a/b.py": "",
            "A.txt": "A",
            "c/d/e/f.pt": "",
            "WEB-INF/lib/x.py": "",
        }
    )
    inventory = scan_tree(str(root))
    assert [(f.relpath, f.kind) for f in inventory.files] == [
        ("A.txt", FileKind.STATIC),
        ("a/b.py", FileKind.NEVER_SERVED),
        ("a/z.css", FileKind.STATIC),
        ("a.txt", FileKind.STATIC),
        ("b.pspx", FileKind.PAGE),
        ("c/d/e/f.pt", FileKind.NEVER_SERVED),
    ]
    assert inventory.warnings == []
    assert inventory.root == os.path.realpath(root)
    for f in inventory.files:
        assert f.path == os.path.join(os.path.realpath(root), f.relpath)


@settings(max_examples=20)
@given(
    st.lists(
        st.lists(
            st.sampled_from(["a", "B", "c.txt", "é", "Z.pspx", "x y"]), min_size=1, max_size=3
        ),
        min_size=1,
        max_size=8,
    )
)
def test_walk_order_is_deterministic(
    make_webapp: Callable[..., Path], layout: list[list[str]]
) -> None:
    files: dict[str, str | bytes | None] = {}
    for parts in layout:
        path = "/".join(parts) + ".f"
        if not any(
            p == path or p.startswith(path + "/") or path.startswith(p.rstrip(".f") + "/")
            for p in files
        ):
            files[path] = path
    root = make_webapp(files)
    found = relpaths(root)
    assert found == sorted(found, key=lambda p: p.split("/"))
    assert set(found) == set(files)


def test_dot_names_are_skipped(make_webapp: Callable[..., Path]) -> None:
    root = make_webapp(
        {
            ".env": "secret",
            ".git/config": "x",
            "a/.hidden/page.pspx": "x",
            "a/.x.css": "",
            "a/ok.css": "",
        }
    )
    assert relpaths(root) == ["a/ok.css"]


def test_web_inf_at_any_depth_and_case_is_skipped(make_webapp: Callable[..., Path]) -> None:
    root = make_webapp(
        {
            "WEB-INF/lib/h.py": "",
            "WEB-INF/tlib/l.pt": "",
            "a/WEB-INF/secret.txt": "",
            "a/b/web-inf/secret.pspx": "",
            "Web-Inf/x.css": "",
            "a/ok.txt": "",
        }
    )
    assert relpaths(root) == ["a/ok.txt"]
    private = relpaths(root, include_private=True)
    assert "a/WEB-INF/secret.txt" in private
    assert "WEB-INF/lib/h.py" in private
    assert {f.kind for f in scan_tree(str(root), include_private=True).files} == {
        FileKind.PRIVATE,
        FileKind.STATIC,
    }


def test_copies_of_web_inf_are_skipped_like_web_inf(make_webapp: Callable[..., Path]) -> None:
    root = make_webapp(
        {
            "WEB-INF.bak/lib/h.py": "",
            "WEB-INF.bak/secret.txt": "",
            "a/Web-Inf-old/secret.txt": "",
            "web-inf2/x.css": "",
            "WEB-INF.zip": "",
            "a/ok.txt": "",
        }
    )
    assert relpaths(root) == ["WEB-INF.zip", "a/ok.txt"]
    assert classify_of(root)["WEB-INF.zip"] is FileKind.PRIVATE
    private = relpaths(root, include_private=True)
    assert {"WEB-INF.bak/secret.txt", "a/Web-Inf-old/secret.txt", "web-inf2/x.css"} <= set(private)


def test_backup_and_editor_copies_are_never_served(make_webapp: Callable[..., Path]) -> None:
    copies = ["index.py~", "page.pspx.bak", "x.py.orig", "#index.py#", "about.pspx.swp",
              "stats.py.BAK", "a/style.css.orig", "a/x.py.js", "a/fix.rej"]  # fmt: skip
    root = make_webapp({**{name: "copy" for name in copies}, "a/style.css": "", "index.pspx": ""})
    kinds = classify_of(root)
    assert {name: kinds[name] for name in copies} == dict.fromkeys(copies, FileKind.NEVER_SERVED)
    assert kinds["a/style.css"] is FileKind.STATIC
    assert kinds["index.pspx"] is FileKind.PAGE


def classify_of(root: Path) -> dict[str, FileKind]:
    return {f.relpath: f.kind for f in scan_tree(str(root)).files}


def test_symlinks_inside_the_tree_are_followed(make_webapp: Callable[..., Path]) -> None:
    root = make_webapp({"real/a.css": "css", "real/p.pspx": "page", "data.txt": "d"})
    (root / "linked").symlink_to("real")
    (root / "alias.txt").symlink_to("data.txt")
    (root / "alias.pspx").symlink_to("real/p.pspx")
    inventory = scan_tree(str(root))
    by_path = {f.relpath: f for f in inventory.files}
    assert set(by_path) == {
        "alias.pspx",
        "alias.txt",
        "data.txt",
        "linked/a.css",
        "linked/p.pspx",
        "real/a.css",
        "real/p.pspx",
    }
    assert by_path["linked/a.css"].path == os.path.join(os.path.realpath(root), "real/a.css")
    assert by_path["alias.pspx"].kind is FileKind.PAGE
    assert inventory.warnings == []


def test_symlink_outside_the_tree_is_skipped_with_a_warning(
    make_webapp: Callable[..., Path], tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    root = make_webapp({"ok.txt": ""})
    (root / "out").symlink_to(outside)
    (root / "file.txt").symlink_to(outside / "secret.txt")
    (root / "rel.txt").symlink_to("../outside/secret.txt")
    inventory = scan_tree(str(root))
    assert [f.relpath for f in inventory.files] == ["ok.txt"]
    assert sorted(inventory.warnings) == [
        "file.txt: skipped, symlink leads outside the webapp",
        "out: skipped, symlink leads outside the webapp",
        "rel.txt: skipped, symlink leads outside the webapp",
    ]


def test_dangling_symlink_and_loops_are_warnings(make_webapp: Callable[..., Path]) -> None:
    root = make_webapp({"a/ok.txt": ""})
    (root / "dangling.txt").symlink_to("nowhere.txt")
    (root / "self.txt").symlink_to("self.txt")
    (root / "ping.txt").symlink_to("pong.txt")
    (root / "pong.txt").symlink_to("ping.txt")
    (root / "a" / "up").symlink_to("..")
    (root / "a" / "here").symlink_to(".")
    inventory = scan_tree(str(root))
    assert [f.relpath for f in inventory.files] == ["a/ok.txt"]
    assert sorted(inventory.warnings) == [
        "a/here: skipped, symlink loop",
        "a/up: skipped, symlink loop",
        "dangling.txt: skipped, dangling symlink",
        "ping.txt: skipped, symlink loop",
        "pong.txt: skipped, symlink loop",
        "self.txt: skipped, symlink loop",
    ]


def test_symlink_to_a_private_or_never_served_target_is_skipped(
    make_webapp: Callable[..., Path],
) -> None:
    root = make_webapp(
        {
            "WEB-INF/secret.txt": "secret",
            "WEB-INF/lib/helper.py": "",
            "code.py": "x = 1",
            "layout.pt": "<p/>",
            "page.pspx": "<p>source</p>",
            ".env": "KEY=1",
            "__pycache__/x.pyc": "",
            "index.py~": "x = 1",
            "WEB-INF.bak/secret.txt": "secret",
            "ok.txt": "",
        }
    )
    links = {
        "backup.txt": "index.py~",
        "old": "WEB-INF.bak",
        "secret.txt": "WEB-INF/secret.txt",
        "lib": "WEB-INF/lib",
        "code.txt": "code.py",
        "layout.html": "layout.pt",
        "page.txt": "page.pspx",
        "env.txt": ".env",
        "cache": "__pycache__",
        "bytecode.bin": "__pycache__/x.pyc",
    }
    for name, target in links.items():
        (root / name).symlink_to(target)
    inventory = scan_tree(str(root))
    assert [f.relpath for f in inventory.files] == [
        "__pycache__/x.pyc",
        "code.py",
        "index.py~",
        "layout.pt",
        "ok.txt",
        "page.pspx",
    ]
    assert sorted(inventory.warnings) == sorted(
        f"{name}: skipped, symlink leads to a private or never-served file" for name in links
    )


def test_unreadable_directory_is_a_warning(
    make_webapp: Callable[..., Path], restore_modes: list[Path]
) -> None:
    root = make_webapp({"locked/a.txt": "", "open/b.txt": ""})
    os.chmod(root / "locked", 0)
    restore_modes.append(root / "locked")
    if os.access(root / "locked", os.R_OK):
        pytest.skip("permissions are not enforced for this user (root)")
    inventory = scan_tree(str(root))
    assert [f.relpath for f in inventory.files] == ["open/b.txt"]
    assert len(inventory.warnings) == 1
    assert inventory.warnings[0].startswith("locked: skipped, cannot read: ")


def test_launch_logs_scan_warnings_and_still_serves(
    make_webapp: Callable[..., Path],
    new_logger: Callable[..., tuple[object, object]],
    tmp_path: Path,
) -> None:
    root = make_webapp({"index.pspx": "<p>home</p>"})
    (root / "gone.pspx").symlink_to("missing.pspx")
    (root / "out.txt").symlink_to(tmp_path)
    logger, capture = new_logger()
    app, errors = launch(root, logger=logger, static=True)  # type: ignore[arg-type]
    assert app is not None
    assert errors == 0
    warnings = [r.getMessage() for r in capture.records if r.levelname == "WARNING"]  # type: ignore[attr-defined]
    assert warnings == [
        "gone.pspx: skipped, dangling symlink",
        "out.txt: skipped, symlink leads outside the webapp",
    ]


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="the file system enforces UTF-8")
def test_names_that_are_not_utf8_are_skipped_with_a_printable_warning(
    make_webapp: Callable[..., Path],
) -> None:
    root = make_webapp({"ok.txt": "", "dir/x.txt": ""})
    for name in (b"bad\xff.txt", b"p\xfe.pspx", b"dir/\xe9t\xe9.txt"):
        with open(os.path.join(os.fsencode(root), name), "wb") as f:
            f.write(b"<p>x</p>")
    os.mkdir(os.path.join(os.fsencode(root), b"sub\xff"))
    inventory = scan_tree(str(root))
    assert [f.relpath for f in inventory.files] == ["dir/x.txt", "ok.txt"]
    assert sorted(inventory.warnings) == [
        "bad\\xff.txt: skipped, the name is not valid UTF-8",
        "dir/\\xe9t\\xe9.txt: skipped, the name is not valid UTF-8",
        "p\\xfe.pspx: skipped, the name is not valid UTF-8",
        "sub\\xff: skipped, the name is not valid UTF-8",
    ]
    for warning in inventory.warnings:
        warning.encode("utf-8")  # loggable by any handler
