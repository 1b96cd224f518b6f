"""Copies of webapp directories kept for the session: reset to the source before each use."""

from __future__ import annotations

import logging
import os
import py_compile
import stat
from pathlib import Path

import pytest
from tincan_testing._copies import CopyPool, SessionCopy
from tincan_testing.plugin import WebappFactory


def tree(root: Path) -> dict[str, str]:
    """Every file and link below ``root``: content or ``-> target``."""
    found = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(directory, name)
            relpath = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[relpath] = "-> " + os.readlink(path)
            elif path.is_file():
                found[relpath] = path.read_text()
    return found


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "WEB-INF" / "lib").mkdir(parents=True)
    (root / "WEB-INF" / ".tincan-cache").mkdir()
    (root / "WEB-INF" / ".tincan-cache" / "entry.bin").write_text("the source's own cache")
    (root / "index.pspx").write_text("<p>home</p>")
    (root / "docs").mkdir()
    (root / "docs" / "a.txt").write_text("a")
    (root / "WEB-INF" / "lib" / "helper.py").write_text("VALUE = 1\n")
    os.symlink("docs/a.txt", root / "link.txt")
    return root


def test_a_copy_is_the_source_with_files_on_top(source: Path, tmp_path: Path) -> None:
    copy = SessionCopy(source, tmp_path / "copy" / "site")
    root = copy.reset({"new/page.pspx": "<p>new</p>", "docs": None, "index.pspx": b"<p>2</p>"})
    assert tree(root) == {
        "WEB-INF/lib/helper.py": "VALUE = 1\n",
        "index.pspx": "<p>2</p>",
        "link.txt": "-> docs/a.txt",
        "new/page.pspx": "<p>new</p>",
    }
    # source files keep their times, as a copy made with shutil.copy2 would
    assert (root / "WEB-INF/lib/helper.py").stat().st_mtime_ns == (
        source / "WEB-INF/lib/helper.py"
    ).stat().st_mtime_ns


def test_a_reset_undoes_the_last_use(source: Path, tmp_path: Path) -> None:
    copy = SessionCopy(source, tmp_path / "copy" / "site")
    root = copy.reset({"extra.pspx": "<p>extra</p>", "docs/a.txt": None})
    expected = tree(copy.reset())
    # what a test might do to the copy while it has it
    (root / "index.pspx").write_text("<p>edited</p>")
    (root / "docs" / "a.txt").unlink()
    (root / "stray").mkdir()
    (root / "stray" / "x.txt").write_text("x")
    (root / "link.txt").unlink()
    os.symlink("elsewhere", root / "link.txt")
    (root / "WEB-INF" / "lib" / "helper.py").chmod(0o444)
    assert copy.reset() == root
    assert tree(root) == expected
    assert (root / "index.pspx").read_text() == "<p>home</p>"
    helper = "WEB-INF/lib/helper.py"
    assert stat.S_IMODE((root / helper).stat().st_mode) == stat.S_IMODE(
        (source / helper).stat().st_mode
    )


def test_a_reset_follows_changes_to_the_source(source: Path, tmp_path: Path) -> None:
    copy = SessionCopy(source, tmp_path / "copy" / "site")
    root = copy.reset()
    (source / "index.pspx").write_text("<p>changed at the source</p>")
    (source / "docs" / "b.txt").write_text("b")
    (source / "docs" / "a.txt").unlink()
    copy.reset()
    assert (root / "index.pspx").read_text() == "<p>changed at the source</p>"
    assert sorted(p.name for p in (root / "docs").iterdir()) == ["b.txt"]


def test_the_copy_keeps_its_caches_and_only_its_own(source: Path, tmp_path: Path) -> None:
    copy = SessionCopy(source, tmp_path / "copy" / "site")
    root = copy.reset()
    assert not (root / "WEB-INF" / ".tincan-cache" / "entry.bin").exists()
    own_cache = root / "WEB-INF" / ".tincan-cache" / "compiled.bin"
    own_cache.parent.mkdir()
    own_cache.write_text("compiled here")
    helper = root / "WEB-INF" / "lib" / "helper.py"
    bytecode = Path(py_compile.compile(str(helper)))
    stray = bytecode.parent / "notes.txt"
    stray.write_text("not bytecode")
    copy.reset()
    assert own_cache.read_text() == "compiled here"
    assert bytecode.exists()  # Python checks it against its source itself
    assert not stray.exists()


def test_bytecode_of_a_rewritten_module_is_removed(source: Path, tmp_path: Path) -> None:
    """Python would trust bytecode of a module rewritten in the same second at the same size."""
    copy = SessionCopy(source, tmp_path / "copy" / "site")
    root = copy.reset({"WEB-INF/lib/value.py": "V = 1\n"})
    module = root / "WEB-INF" / "lib" / "value.py"
    bytecode = Path(py_compile.compile(str(module)))
    copy.reset({"WEB-INF/lib/value.py": "V = 2\n"})
    assert not bytecode.exists()
    Path(py_compile.compile(str(module)))
    copy.reset()
    assert not module.exists() and not bytecode.exists()


def test_the_pool_shares_a_copy_only_for_the_same_unchanged_tree(
    source: Path, tmp_path: Path
) -> None:
    made = iter(range(10))
    pool = CopyPool(lambda: tmp_path / f"made-{next(made)}")
    first = pool.acquire(source, {"a.pspx": "<p>a</p>"})
    assert first.root.name == "site" and (first.root / "a.pspx").exists()
    other = pool.acquire(source, {"a.pspx": "<p>other</p>"})
    assert other is not first and (other.root / "a.pspx").read_text() == "<p>other</p>"
    same = pool.acquire(source, {"a.pspx": "<p>a</p>"})
    assert same is first and first.users == 2
    (first.root / "index.pspx").write_text("<p>changed by the test</p>")
    third = pool.acquire(source, {"a.pspx": "<p>a</p>"})
    assert third is not first and third is not other
    assert (third.root / "index.pspx").read_text() == "<p>home</p>"
    for copy in (first, first, other, third):
        pool.release(copy)
    again = pool.acquire(source)
    assert again is first and (first.root / "index.pspx").read_text() == "<p>home</p>"
    assert not (first.root / "a.pspx").exists()
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        pool.acquire(tmp_path / "nowhere")


def test_copies_are_reused_test_after_test(pytester: pytest.Pytester) -> None:
    site = pytester.path / "site"
    (site / "WEB-INF" / "lib").mkdir(parents=True)
    (site / "index.pspx").write_text("<p>${value}</p>")
    (site / "index.py").write_text(
        "from tincan import Page\nimport value\n\nclass Home(Page):\n"
        "    def handle(self):\n        self.value = value.VALUE\n"
    )
    (site / "WEB-INF" / "lib" / "value.py").write_text("VALUE = 'a'\n")
    (site / "gone.txt").write_text("left out once")
    record = pytester.path / "record.txt"
    pytester.makepyfile(
        f"""
        import os
        from pathlib import Path

        RECORD = Path({str(record)!r})
        SITE = {str(site)!r}

        def cache(root):
            folder = root / "WEB-INF" / ".tincan-cache"
            return sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir())

        def test_one(tincan_webapp):
            webapp = tincan_webapp({{"extra.pspx": "<p>extra</p>", "gone.txt": None}},
                                   copy_from=SITE, static=True)
            client = webapp.client()
            assert client.get("/").text == "<p>a</p>"
            assert client.get("/extra.pspx").status_code == 200
            assert client.get("/gone.txt").status_code == 404
            (webapp.root / "index.pspx").write_text("<p>edited by the test</p>")
            RECORD.write_text(repr((str(webapp.root), cache(webapp.root))))

        def test_two(tincan_webapp):
            webapp = tincan_webapp({{"WEB-INF/lib/value.py": "VALUE = 'b'\\n"}},
                                   copy_from=SITE, static=True)
            root, cached = eval(RECORD.read_text())
            assert str(webapp.root) == root
            assert cache(webapp.root) == cached  # nothing compiled again
            client = webapp.client()
            assert client.get("/").text == "<p>b</p>"
            assert client.get("/extra.pspx").status_code == 404
            assert client.get("/gone.txt").text == "left out once"

        def test_two_at_once(tincan_webapp):
            first = tincan_webapp(copy_from=SITE)
            second = tincan_webapp({{"index.pspx": "<p>second</p>"}}, copy_from=SITE)
            assert first.root != second.root
            assert first.client().get("/").text == "<p>a</p>"
            assert second.client().get("/").text == "<p>second</p>"

        def test_the_same_tree_twice(tincan_webapp):
            threaded = tincan_webapp(copy_from=SITE)
            single = tincan_webapp(copy_from=SITE, multithread=False)
            assert threaded.root == single.root  # one copy, compiled once
            assert threaded.app is not single.app
            assert single.client().get("/").text == threaded.client().get("/").text
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly").assert_outcomes(passed=4)


def test_log_level_debug_keeps_launch_tracebacks(tincan_webapp: WebappFactory) -> None:
    files = {
        "boom.pspx": "<p>x</p>",
        "boom.py": "raise RuntimeError('broken at import')\n",
        "fine.pspx": "<p>fine</p>",
    }
    quiet = tincan_webapp(files, allow_errors=True)
    verbose = tincan_webapp(files, allow_errors=True, log_level=logging.DEBUG)
    for webapp, traced in ((quiet, False), (verbose, True)):
        [record] = [r for r in webapp.records if r.levelno == logging.ERROR]
        message = record.getMessage()
        assert "boom.py:1: " in message and "RuntimeError: broken at import" in message
        assert (record.exc_info is not None) is traced
        assert webapp.client().get("/fine.pspx").status_code == 200


def test_log_level_as_a_marker_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import logging
        import pytest

        @pytest.mark.tincan({"boom.pspx": "<p>x</p>", "boom.py": "1 / 0\\n"},
                            allow_errors=True, log_level=logging.DEBUG)
        def test_debug(tincan_app):
            [record] = [r for r in tincan_app.records if r.levelno == logging.ERROR]
            assert isinstance(record.exc_info[1], ZeroDivisionError)
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
