"""The template cache: changes are picked up, bad entries are never served, programs
are loaded at their first render, and the parallel cold compile copes with broken
templates, dead workers and threads."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tincan_core
from tincan_core import _cache, _fastcompile, _parallel, _templates
from tincan_core._cache import CodeCache
from tincan_core._templates import CACHE_DIRNAME

LAYOUT = (
    '<html metal:define-macro="page"><body>'
    '<div metal:define-slot="content"></div><p>layout v1</p></body></html>\n'
)


def site(pages: int = 3) -> dict[str, str | bytes | None]:
    files: dict[str, str | bytes | None] = {
        "WEB-INF/tlib/layout.pt": LAYOUT,
        "WEB-INF/views/shared.pspx": "#rem a view\n<p>shared v1 ${page.n}</p>\n",
        "shared.pspx": "#template /WEB-INF/views/shared.pspx\n",
        "shared.py": "from tincan_core import Page\n\nclass P(Page):\n    n = 7\n",
    }
    for n in range(pages):
        files[f"p{n}.pspx"] = (
            "#load <layout.pt>\n<html metal:use-macro=\"layout.macros['page']\">"
            f'<div metal:fill-slot="content">page {n} v1 ${{page.n}}</div></html>\n'
        )
        files[f"p{n}.py"] = f"from tincan_core import Page\n\nclass P{n}(Page):\n    n = {n}\n"
    return files


def get(app: Any, path: str) -> httpx.Response:
    transport = httpx.WSGITransport(app=app)
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        return client.get(path)


def fresh_launch(root: Path, **options: Any) -> tuple[Any, tincan_core.LaunchStats]:
    """Launch as a new process would: nothing compiled in memory."""
    _cache.shared_programs.clear()
    app, errors = tincan_core.launch(root, **options)
    assert errors == 0
    stats = app.config["tincan.stats"]
    assert isinstance(stats, tincan_core.LaunchStats)
    return app, stats


def entries(root: Path) -> list[Path]:
    return sorted((root / "WEB-INF" / CACHE_DIRNAME).glob("*.bin"))


def check_v1(app: Any, pages: int = 3) -> None:
    for n in range(pages):
        text = get(app, f"/p{n}.pspx").text
        assert f"page {n} v1 {n}" in text and "layout v1" in text
    assert "shared v1 7" in get(app, "/shared.pspx").text


# -- invalidation by edits ------------------------------------------------------------------


@pytest.mark.parametrize("in_memory", [False, True], ids=["fresh-process", "same-process"])
def test_every_kind_of_source_edit_is_picked_up(
    make_webapp: Callable[..., Path], in_memory: bool
) -> None:
    root = make_webapp(site())
    app, stats = fresh_launch(root)
    assert stats.templates_compiled == 5  # p0-p2, the shared view, the layout
    check_v1(app)

    def relaunch() -> tuple[Any, tincan_core.LaunchStats]:
        if not in_memory:
            return fresh_launch(root)
        app, errors = tincan_core.launch(root)
        assert errors == 0
        return app, app.config["tincan.stats"]

    (root / "WEB-INF/views/shared.pspx").write_text("<p>shared v2 ${page.n}</p>\n")
    app, stats = relaunch()
    assert "shared v2 7" in get(app, "/shared.pspx").text
    assert stats.templates_compiled == 1

    (root / "WEB-INF/tlib/layout.pt").write_text(LAYOUT.replace("layout v1", "layout v2"))
    app, stats = relaunch()
    assert "layout v2" in get(app, "/p1.pspx").text
    assert stats.templates_compiled == 1

    (root / "p2.pspx").write_text((root / "p2.pspx").read_text().replace("v1", "v2"))
    (root / "p2.py").write_text("from tincan_core import Page\n\nclass P(Page):\n    n = 222\n")
    app, stats = relaunch()
    assert "page 2 v2 222" in get(app, "/p2.pspx").text
    assert stats.templates_compiled == 1
    assert "page 0 v1 0" in get(app, "/p0.pspx").text


# -- bad entries are ignored and rebuilt -----------------------------------------------------


def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x55])


def _flip_header_byte(data: bytes) -> bytes:
    return bytes([data[0] ^ 0x01]) + data[1:]


@pytest.mark.parametrize(
    "damage",
    [_truncate, _flip_last_byte, _flip_header_byte, lambda data: b"", lambda data: data + b"x"],
    ids=["truncated", "payload-bit", "header-bit", "empty", "trailing-garbage"],
)
def test_corrupt_entries_are_rebuilt_not_served(
    make_webapp: Callable[..., Path], damage: Callable[[bytes], bytes]
) -> None:
    root = make_webapp(site())
    fresh_launch(root)
    files = entries(root)
    assert len(files) == 5
    for path in files:
        path.write_bytes(damage(path.read_bytes()))
    app, stats = fresh_launch(root)
    check_v1(app)
    assert stats.templates_compiled == 5 and stats.templates_loaded == 0
    assert stats.cache_rejected == 5 and stats.cache_writes == 5
    app, stats = fresh_launch(root)  # the rewritten entries are good again
    assert stats.templates_loaded == 5 and stats.templates_compiled == 0
    check_v1(app)


def test_an_entry_in_the_wrong_file_is_never_served(make_webapp: Callable[..., Path]) -> None:
    root = make_webapp(site())
    fresh_launch(root)
    files = entries(root)
    contents = [path.read_bytes() for path in files]
    for path, data in zip(files, contents[1:] + contents[:1], strict=True):
        path.write_bytes(data)  # every entry now holds another template's program
    app, stats = fresh_launch(root)
    check_v1(app)
    assert stats.templates_loaded == 0 and stats.cache_rejected == 5


def test_a_read_only_cache_entry_that_is_bad_still_renders_right(
    make_webapp: Callable[..., Path],
) -> None:
    root = make_webapp(site(1))
    fresh_launch(root)
    for path in entries(root):
        path.write_bytes(_truncate(path.read_bytes()))
        path.chmod(0o444)
    app, stats = fresh_launch(root)
    check_v1(app, 1)
    assert stats.templates_loaded == 0


@pytest.mark.parametrize("change", ["tincan", "chameleon", "python", "speed-up"])
def test_another_version_does_not_use_the_entries(
    make_webapp: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    if change == "speed-up" and not _fastcompile.installed():
        pytest.skip("the faster compile is off for this Chameleon")
    root = make_webapp(site())
    fresh_launch(root)
    with monkeypatch.context() as patch, contextlib.ExitStack() as stack:
        patch.setattr(_cache, "_tags", {})
        if change == "tincan":
            patch.setattr(_cache, "__version__", "99.0")
        elif change == "chameleon":
            patch.setattr(_cache, "_chameleon_version", lambda: "99.0")
        elif change == "python":
            patch.setattr(importlib.util, "MAGIC_NUMBER", b"\x00\x00\r\n")
        else:  # programs without the interpolation test (TINCAN_CHAMELEON_SPEEDUP=0)
            stack.enter_context(_fastcompile.disabled())
        app, stats = fresh_launch(root)
        assert stats.templates_compiled == 5 and stats.templates_loaded == 0
        check_v1(app)
    # Each version has its own entries; the original ones are still valid.
    app, stats = fresh_launch(root)
    assert stats.templates_compiled == 0 and stats.templates_loaded == 5
    assert len(entries(root)) == 10
    tincan_core.compile_webapp(root)
    assert len(entries(root)) == 5  # compiling drops what this version does not use


# -- the process-wide memory level ----------------------------------------------------------


def test_memory_keeps_only_what_the_latest_launch_used(make_webapp: Callable[..., Path]) -> None:
    root = make_webapp(site())
    fresh_launch(root)
    moved = (root / "p1.pspx").read_text()
    (root / "p1.pspx").unlink()
    app, errors = tincan_core.launch(root)
    assert errors == 0 and app.config["tincan.stats"].templates_reused == 4
    (root / "p1.pspx").write_text(moved)
    app, errors = tincan_core.launch(root)
    assert errors == 0
    stats = app.config["tincan.stats"]
    assert stats.templates_reused == 4 and stats.templates_loaded == 1  # dropped from memory
    check_v1(app)


# -- parallel cold compiles -----------------------------------------------------------------


def test_a_broken_template_among_many_costs_only_its_page(
    make_webapp: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, new_logger: Any
) -> None:
    files = site(8)
    files["p4.pspx"] = "<p>\n<p tal:content='python: 1 +'>x</p>\n"
    root = make_webapp(files)
    monkeypatch.setenv("TINCAN_JOBS", "2")
    logger, capture = new_logger()
    _cache.shared_programs.clear()
    app, errors = tincan_core.launch(root, logger=logger)
    assert errors == 1
    assert capture.errors() == [f"{root / 'p4.pspx'}:2: template error: invalid syntax: '1 +'"]
    stats = app.config["tincan.stats"]
    if _parallel.fork_is_safe():
        assert stats.workers == 2
    assert stats.templates_compiled == 10  # 8 pages, view, layout: each once, the broken too
    assert get(app, "/p4.pspx").status_code == 404
    assert "page 7 v1 7" in get(app, "/p7.pspx").text


@pytest.mark.parametrize("value", ["1", "0", "-3", "lots", ""])
def test_tincan_jobs_variable(
    make_webapp: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    root = make_webapp(site(6))
    monkeypatch.setenv("TINCAN_JOBS", value)
    app, stats = fresh_launch(root)
    if value == "1":
        assert stats.workers == 0
    check_v1(app, 6)


def test_no_fork_while_other_threads_run(make_webapp: Callable[..., Path]) -> None:
    root = make_webapp(site(6))
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        app, stats = fresh_launch(root)
    finally:
        release.set()
        thread.join()
    assert stats.workers == 0 and stats.templates_compiled == 8
    check_v1(app, 6)


def die_on_three(job: int) -> int:
    if job == 3:
        os._exit(1)  # a worker crashing hard (out of memory, a signal)
    return job * 10


def test_jobs_of_a_dead_worker_are_handed_back() -> None:
    if not _parallel.fork_is_safe():
        pytest.skip("other threads are running")
    results: dict[int, int] = {}
    left = _parallel.run_in_workers(
        die_on_three, list(range(8)), 2, lambda job, result: results.__setitem__(job, result)
    )
    assert 3 in left
    assert sorted([*results, *left]) == list(range(8))
    assert all(results[job] == job * 10 for job in results)


def _run_in_daemon(queue: Any) -> None:
    results: list[int] = []
    left = _parallel.run_in_workers(
        die_on_three, [1, 2, 4, 5], 2, lambda job, result: results.append(result)
    )
    queue.put((sorted(results), left))


def test_a_process_that_may_not_fork_workers_gets_its_jobs_back() -> None:
    import multiprocessing

    if not _parallel.fork_is_safe():
        pytest.skip("other threads are running")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_run_in_daemon, args=(queue,), daemon=True)
    process.start()
    results, left = queue.get(timeout=60)
    process.join(timeout=60)
    assert results == [] and left == [1, 2, 4, 5]


_STOPPED_MID_RUN = """
import threading, time
from tincan_core import _parallel

def slow(job):
    time.sleep(0.2)
    return job

pool = _parallel.WorkerPool(2, background=True)
stop = threading.Event()
running = threading.Thread(
    target=pool.run, args=(slow, list(range(40)), lambda job, result: None, stop), daemon=True
)
running.start()
time.sleep(0.5)
stop.set()
pool.close(terminate=True)
print(sum(type(thread).__name__ == "_ExecutorManagerThread" for thread in threading.enumerate()))
"""


def test_a_pool_ended_mid_run_leaves_no_thread_for_the_exit_to_trip_on() -> None:
    # A server stopped during its background compile ends its pool and exits at once;
    # the pool's manager thread must be gone by then, or the exit prints a traceback.
    finished = subprocess.run(
        [sys.executable, "-c", _STOPPED_MID_RUN], capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "0"
    assert "Traceback" not in finished.stderr


# -- the key: what a compiled program depends on ----------------------------------------------


def cache_files(root: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in entries(root)}


def move_tree(root: Path, destination: Path, how: str) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    if how == "cp -a":
        subprocess.run(["cp", "-a", str(root), str(destination)], check=True)
    else:
        root.rename(destination)


@pytest.mark.parametrize("how", ["cp -a", "rename"])
def test_a_moved_or_copied_tree_compiles_nothing_and_writes_nothing(
    make_webapp: Callable[..., Path], tmp_path: Path, how: str
) -> None:
    root = make_webapp(site())
    fresh_launch(root)
    before = cache_files(root)
    moved = tmp_path / "srv" / "deployed"
    move_tree(root, moved, how)
    app, stats = fresh_launch(moved)
    assert stats.templates_compiled == 0 and stats.cache_writes == 0
    assert stats.templates_loaded == 5 and stats.cache_rejected == 0
    check_v1(app)
    assert cache_files(moved) == before  # no stale entries beside the old ones


def test_errors_after_a_move_name_the_files_where_they_are_now(
    make_webapp: Callable[..., Path], tmp_path: Path, new_logger: Any
) -> None:
    files = site(1)
    files["render.pspx"] = "<p>\n${python: 1 / 0}</p>\n"
    files["broken.pspx"] = "<p>\n<p tal:content='python: 1 +'>x</p>\n"
    root = make_webapp(files)
    _cache.shared_programs.clear()
    tincan_core.launch(root)
    moved = tmp_path / "elsewhere"
    move_tree(root, moved, "rename")
    _cache.shared_programs.clear()
    logger, capture = new_logger()
    app, errors = tincan_core.launch(moved, logger=logger)
    stats = app.config["tincan.stats"]
    assert errors == 1 and stats.templates_compiled == 0 and stats.cache_writes == 0
    assert capture.errors() == [
        f"{moved / 'broken.pspx'}:2: template error: invalid syntax: '1 +'"
    ]
    capture.clear()
    assert get(app, "/render.pspx").status_code == 500
    (record,) = [r for r in capture.records if r.exc_info]
    assert record.exc_info is not None
    rendered = str(record.exc_info[1])
    # Chameleon shows the end of a long file name, and the line read from the file:
    # the old one is gone, so the line is only there if the real file is named.
    assert "/elsewhere/render.pspx" in rendered and root.name not in rendered
    assert "Source:     ${python: 1 / 0}</p>" in rendered


def test_installing_an_unrelated_package_keeps_the_cache(
    make_webapp: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import chameleon.template

    root = make_webapp(site())
    fresh_launch(root)
    # Chameleon's own digest covers the version of every installed distribution.
    monkeypatch.setattr(chameleon.template, "_pkg_digest", None)
    monkeypatch.setattr(
        chameleon.template, "get_package_versions", lambda: [("newly-installed", "1.0")]
    )
    app, stats = fresh_launch(root)
    assert stats.templates_compiled == 0 and stats.templates_loaded == 5
    check_v1(app)


XML_PAGE = '<?xml version="1.0"?>\n<doc><input checked="${True}"/></doc>\n'


@pytest.mark.parametrize("in_memory", [False, True], ids=["fresh-process", "same-process"])
def test_the_header_line_count_is_part_of_the_key(
    make_webapp: Callable[..., Path], in_memory: bool
) -> None:
    from tincan_core._header import parse_page

    two_header_lines = "#rem one\n#rem two\n" + XML_PAGE
    one_and_a_blank = "#rem one\n\n" + XML_PAGE  # the same body: "\n\n<?xml ..."
    assert parse_page(two_header_lines, "a").body == parse_page(one_and_a_blank, "b").body
    root = make_webapp({"x.pspx": two_header_lines})
    app, _ = fresh_launch(root)
    assert 'checked="True"' in get(app, "/x.pspx").text  # XML, as plain Chameleon
    (root / "x.pspx").write_text(one_and_a_blank)
    if in_memory:
        app, errors = tincan_core.launch(root)
        assert errors == 0
    else:
        app, _ = fresh_launch(root)
    assert app.config["tincan.stats"].templates_compiled == 1
    assert 'checked="checked"' in get(app, "/x.pspx").text  # "\n<?xml": HTML in Chameleon


# -- broken templates are compiled once -----------------------------------------------------


def broken_site() -> dict[str, str | bytes | None]:
    files = site(2)
    for n in range(6):
        files[f"bad{n}.pspx"] = f"<p>\n<p tal:content='python: {n} +'>x</p>\n"
    files["WEB-INF/views/broken.pspx"] = "#rem a broken view\n<p>\n</div>\n"
    for n in range(3):
        files[f"uses{n}.pspx"] = "#template /WEB-INF/views/broken.pspx\n"
    return files


def count_in_process_compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """File names of the templates this process compiles (workers' do not come back)."""
    from tincan_core import _templates

    compiled: list[str] = []
    original = _templates.make_template

    def counting(source: _templates.TemplateSource, loader: Any, **options: Any) -> Any:
        if loader.__class__.__name__ != "_Capture":  # not inside a worker
            compiled.append(os.path.basename(source.filename))
        return original(source, loader, **options)

    monkeypatch.setattr(_templates, "make_template", counting)
    return compiled


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_broken_templates_are_compiled_once(
    make_webapp: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    new_logger: Any,
    jobs: str,
) -> None:
    root = make_webapp(broken_site())
    monkeypatch.setenv("TINCAN_JOBS", jobs)
    compiled = count_in_process_compiles(monkeypatch)
    logger, capture = new_logger()
    _cache.shared_programs.clear()
    app, errors = tincan_core.launch(root, logger=logger)
    assert errors == 6 + 3
    first_errors = capture.errors()
    assert f"{root / 'bad3.pspx'}:2: template error: invalid syntax: '3 +'" in first_errors
    view = root / "WEB-INF" / "views" / "broken.pspx"
    assert f"{view}:3: template error: Unexpected end tag.: '</div>' (used by uses1.pspx)" in (
        first_errors
    )
    stats = app.config["tincan.stats"]
    assert stats.templates_compiled == 2 + 1 + 1 + 6 + 1  # pages, shared, layout, bad, view
    if stats.workers:
        assert [name for name in compiled if name.startswith(("bad", "broken"))] == []
    else:
        assert sorted(n for n in compiled if n.startswith(("bad", "broken"))) == sorted(
            [f"bad{n}.pspx" for n in range(6)] + ["broken.pspx"]
        )
    # The failures are in the cache directory too: a new process compiles none of them.
    compiled.clear()
    _cache.shared_programs.clear()
    logger, capture = new_logger()
    app, errors = tincan_core.launch(root, logger=logger)
    stats = app.config["tincan.stats"]
    assert errors == 9 and sorted(capture.errors()) == sorted(first_errors)
    assert stats.templates_compiled == 0 and stats.cache_writes == 0
    assert [name for name in compiled if name.startswith(("bad", "broken"))] == []
    assert get(app, "/bad0.pspx").status_code == 404
    check_v1(app, 2)


def test_a_failure_that_may_pass_is_not_kept(
    make_webapp: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tincan_core import _templates

    root = make_webapp(site(1))
    original = _templates.make_template

    def out_of_memory(source: _templates.TemplateSource, loader: Any, **options: Any) -> Any:
        if source.filename.endswith("p0.pspx"):
            raise MemoryError
        return original(source, loader, **options)

    monkeypatch.setattr(_templates, "make_template", out_of_memory)
    _cache.shared_programs.clear()
    app, errors = tincan_core.launch(root)
    assert errors == 1
    monkeypatch.setattr(_templates, "make_template", original)
    app, errors = tincan_core.launch(root)  # same process: retried, not remembered
    # p0 and its layout, which the failed page never reached.
    assert errors == 0 and app.config["tincan.stats"].templates_compiled == 2
    check_v1(app, 1)


# -- a launch from the cache loads each program at its first render ---------------------------
# The launch still reads and verifies every entry (so a damaged one is rebuilt then,
# and a template that failed is reported then); what waits for the first request is
# unmarshalling the program and setting it up. A page is loaded once, however many
# requests arrive first at the same time; an entry that checks out but does not load
# is compiled at that render, not served; compile_webapp loads every entry, so what it
# leaves behind is known to load.


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many compiled programs this process loaded from the cache directory."""
    loaded: list[int] = []
    original = CodeCache._execute

    def counting(data: bytes) -> Any:
        program = original(data)
        if program is not None:
            loaded.append(1)
        return program

    monkeypatch.setattr(CodeCache, "_execute", staticmethod(counting))
    yield loaded


def test_each_program_is_loaded_at_its_first_render(
    make_webapp: Callable[..., Path], loads: list[int]
) -> None:
    root = make_webapp(site())
    fresh_launch(root)  # compiles and writes the cache
    loads.clear()
    app, stats = fresh_launch(root)
    assert stats.templates_loaded == 5 and stats.templates_compiled == 0
    assert stats.cache_rejected == 0 and stats.cache_writes == 0
    assert len(loads) == 0  # nothing loaded yet
    assert "page 0 v1 0" in get(app, "/p0.pspx").text
    assert len(loads) == 2  # the page and its #load'ed layout
    assert "page 1 v1 1" in get(app, "/p1.pspx").text
    assert len(loads) == 3  # the layout is loaded once
    check_v1(app)
    assert len(loads) == 5


def test_a_relaunch_in_the_same_process_reuses_what_was_loaded(
    make_webapp: Callable[..., Path], loads: list[int]
) -> None:
    root = make_webapp(site())
    fresh_launch(root)
    app, _ = fresh_launch(root)
    check_v1(app)
    loads.clear()
    app, errors = tincan_core.launch(root)  # a reloading server, nothing changed
    assert errors == 0 and app.config["tincan.stats"].templates_reused == 5
    check_v1(app)
    assert len(loads) == 0


def test_concurrent_first_requests_load_a_page_once(
    make_webapp: Callable[..., Path], loads: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_webapp(site(1))
    fresh_launch(root)
    app, _ = fresh_launch(root)
    cooked: list[str] = []
    original = _templates._PageTemplate.cook
    start = threading.Barrier(8)

    def slow_cook(self: Any, body: str) -> None:
        cooked.append(str(self.filename))
        original(self, body)

    monkeypatch.setattr(_templates._PageTemplate, "cook", slow_cook)
    bodies: list[str] = []

    def request() -> None:
        start.wait()
        bodies.append(get(app, "/p0.pspx").text)

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(bodies) == 8 and all("page 0 v1 0" in body for body in bodies)
    assert sorted(cooked) == sorted({str(root / "p0.pspx"), str(root / "WEB-INF/tlib/layout.pt")})


def _replace_payload(path: Path, payload: bytes) -> None:
    """Give a cache entry another payload, with a length and checksum that check out."""
    data = path.read_bytes()
    tag = _cache.cache_tag()
    key_length = int.from_bytes(data[len(tag) : len(tag) + 4], "big")
    header = data[: len(tag) + 4 + key_length]
    path.write_bytes(
        header + zlib.crc32(payload).to_bytes(4, "big") + len(payload).to_bytes(8, "big") + payload
    )


def _unloadable_entries(make_webapp: Callable[..., Path]) -> Path:
    """A webapp whose every cache entry checks out (header, length, checksum) but holds
    no program."""
    root = make_webapp(site())
    fresh_launch(root)
    for path in entries(root):
        _replace_payload(path, b"P" + b"not a marshalled program")
    return root


def test_an_entry_that_checks_out_but_does_not_load_is_compiled_not_served(
    make_webapp: Callable[..., Path], loads: list[int]
) -> None:
    root = _unloadable_entries(make_webapp)
    app, stats = fresh_launch(root)
    assert stats.templates_loaded == 5 and stats.templates_compiled == 0  # as far as it knows
    check_v1(app)  # each compiled at its first render, and written back
    assert len(loads) == 0
    app, stats = fresh_launch(root)
    check_v1(app)
    assert len(loads) == 5  # the rewritten entries load


def test_compile_webapp_loads_every_entry(
    make_webapp: Callable[..., Path], loads: list[int]
) -> None:
    root = _unloadable_entries(make_webapp)
    _cache.shared_programs.clear()
    report = tincan_core.compile_webapp(root, jobs=1)
    assert report.errors == [] and report.templates_compiled == 5
    loads.clear()
    app, stats = fresh_launch(root)
    assert stats.templates_compiled == 0
    check_v1(app)
    assert len(loads) == 5


def test_template_errors_are_reported_at_launch_from_the_cache(
    make_webapp: Callable[..., Path], loads: list[int], new_logger: Any
) -> None:
    files = site()
    files["bad.pspx"] = "<p>\n<p tal:content='python: 1 +'>x</p>\n"
    root = make_webapp(files)
    _cache.shared_programs.clear()
    tincan_core.launch(root)
    loads.clear()
    _cache.shared_programs.clear()
    logger, capture = new_logger()
    app, errors = tincan_core.launch(root, logger=logger)
    assert errors == 1
    assert f"{root / 'bad.pspx'}:2: template error: invalid syntax: '1 +'" in capture.errors()
    assert len(loads) == 0 and app.config["tincan.stats"].templates_compiled == 0
    assert get(app, "/bad.pspx").status_code == 404
    check_v1(app)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_process_forked_during_a_first_render_renders_too(
    make_webapp: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_webapp(site(1))
    fresh_launch(root)
    app, _ = fresh_launch(root)
    cooking, forked = threading.Event(), threading.Event()
    original = _templates._PageTemplate.cook

    def slow_cook(self: Any, body: str) -> None:
        cooking.set()
        forked.wait(10)  # the fork happens while this thread cooks
        original(self, body)

    monkeypatch.setattr(_templates._PageTemplate, "cook", slow_cook)
    thread = threading.Thread(target=get, args=(app, "/p0.pspx"))
    thread.start()
    assert cooking.wait(10)
    pid = os.fork()
    if pid == 0:  # the child: its first render must not wait for the parent's thread
        try:
            signal.alarm(10)
            monkeypatch.setattr(_templates._PageTemplate, "cook", original)
            os._exit(0 if "page 0 v1 0" in get(app, "/p0.pspx").text else 1)
        finally:
            os._exit(2)
    forked.set()
    thread.join()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
