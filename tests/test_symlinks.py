"""Symlinks never lead a request outside the tree or to anything private.

Links outside the tree, dangling links, loops and links onto private or source
files are skipped with a warning naming the link; the launch still succeeds
with no errors, and links that stay inside the tree on public files still work.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import tincan
import tincan_core
from hypothesis import given, settings
from hypothesis import strategies as st

from tests._secure_tree import (
    PathRecorder,
    SecureTree,
    check_reply,
    forget_webapp,
    hostile_paths,
    httpx_client,
    marker,
    recording,
    scaled_examples,
    send_httpx,
    send_raw,
    spellings,
    wsgi_path_info,
)

# Each link that must be skipped, its target, and the URL paths it could be asked for.
BAD_LINKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "file_out.txt": ("../outside/secret.txt", ("file_out.txt",)),
    "abs_out.txt": ("@ABS@/outside/secret.txt", ("abs_out.txt",)),
    "dir_out": ("../outside/dir", ("dir_out/inner.txt", "dir_out/", "dir_out")),
    "dangling.txt": ("nowhere.txt", ("dangling.txt",)),
    "self_loop": ("self_loop", ("self_loop", "self_loop/x")),
    "sub/up": ("..", ("sub/up/pub/a.txt", "sub/up/code.py", "sub/up/sub/data.txt")),
    "sub/deeper/back": ("..", ("sub/deeper/back/data.txt", "sub/deeper/back/deeper/d.txt")),
    "ok.txt": ("code.py", ("ok.txt",)),
    "page_source.txt": ("page.pspx", ("page_source.txt",)),
    "private_link": ("WEB-INF", ("private_link/private.txt", "private_link/lib/helper.py")),
    "private_lib": ("WEB-INF/lib", ("private_lib/helper.py",)),
    "nested_private": ("sub/WEB-INF", ("nested_private/nested.txt",)),
    "dot_link.txt": (".env", ("dot_link.txt",)),
    "cache_link": ("__pycache__", ("cache_link/stray.txt",)),
}
# What the warning about a link says, where the reason is unambiguous.
REASONS = {
    "file_out.txt": "outside", "abs_out.txt": "outside", "dir_out": "outside",
    "dangling.txt": "dangling", "self_loop": "loop", "sub/up": "loop", "sub/deeper/back": "loop",
}
# Links that stay inside the tree on public files: served like the files themselves.
GOOD_LINKS = {"alias": "pub", "alias.txt": "pub/a.txt", "sub/sibling.txt": "../pub/a.txt"}


@dataclass
class LinkedSite:
    tree: SecureTree
    app: tincan.TinCan = field(repr=False)
    client: httpx.Client = field(repr=False)
    recorder: PathRecorder = field(repr=False)
    warnings: list[str] = field(repr=False)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text("LinkedSite()")


def _build(base: Path) -> SecureTree:
    root = base / "webapp"
    tree = SecureTree(root=root, outside=[base / "outside"])

    def write(path: Path, relpath: str, secret: bool, text: str = "@TEXT@\n") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        content = marker(relpath) if secret else f"PUBLIC-{relpath}"
        path.write_text(text.replace("@TEXT@", content), encoding="utf-8")
        if secret:
            tree.secrets[relpath] = content
        else:
            tree.static[relpath] = path.read_bytes()

    write(base / "outside" / "secret.txt", "outside/secret.txt", secret=True)
    write(base / "outside" / "dir" / "inner.txt", "outside/dir/inner.txt", secret=True)
    for relpath in ("WEB-INF/private.txt", "WEB-INF/lib/helper.py", "sub/WEB-INF/nested.txt",
                    ".env", "code.py", "__pycache__/stray.txt"):
        write(root / relpath, relpath, secret=True)
    for relpath in ("pub/a.txt", "sub/data.txt", "sub/deeper/d.txt"):
        write(root / relpath, relpath, secret=False)
    write(root / "page.pspx", "page.pspx", secret=True, text="#rem @TEXT@\n<p>PUBLIC-PAGE</p>\n")
    tree.pages["page.pspx"] = "PUBLIC-PAGE"

    for link, (target, _) in BAD_LINKS.items():
        os.symlink(target.replace("@ABS@", str(base)), root / link)
    for link, target in GOOD_LINKS.items():
        os.symlink(target, root / link)
    tree.static["alias/a.txt"] = tree.static["alias.txt"] = tree.static["pub/a.txt"]
    tree.static["sub/sibling.txt"] = tree.static["pub/a.txt"]
    return tree


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LinkedSite]:
    tree = _build(tmp_path_factory.mktemp("links"))
    with recording("test.symlinks") as (logger, log):
        app, errors = tincan.launch(tree.root, static=True, logger=logger)
    assert app is not None
    assert errors == 0, log.messages(logging.ERROR)
    assert log.messages(logging.ERROR) == []
    client, recorder = httpx_client(app)
    with client:
        yield LinkedSite(tree, app, client, recorder, log.messages(logging.WARNING))
    forget_webapp(tree.root)


def test_each_bad_link_is_warned_about_by_name(linked: LinkedSite) -> None:
    for link in BAD_LINKS:
        named = [w for w in linked.warnings if w.startswith(f"{link}:")]
        assert len(named) == 1, (link, linked.warnings)
        assert REASONS.get(link, "") in named[0]
    assert len(linked.warnings) == len(BAD_LINKS), linked.warnings


def test_no_warning_names_a_good_link(linked: LinkedSite) -> None:
    for link in GOOD_LINKS:
        assert not [w for w in linked.warnings if w.startswith(f"{link}:")]


def test_inventory_stays_inside_and_public(linked: LinkedSite) -> None:
    root = os.path.realpath(linked.tree.root)
    inventory = tincan_core.scan_tree(str(linked.tree.root))
    relpaths = {f.relpath for f in inventory.files}
    for f in inventory.files:
        assert f.path.startswith(root + os.sep), f
    for link in BAD_LINKS:
        assert not [r for r in relpaths if r == link or r.startswith(link + "/")], link
    for link in GOOD_LINKS:
        assert link in relpaths or f"{link}/a.txt" in relpaths


def test_good_links_are_served(linked: LinkedSite) -> None:
    for path in ("/alias/a.txt", "/alias.txt", "/sub/sibling.txt", "/pub/a.txt"):
        reply = send_httpx(linked.client, linked.recorder, "GET", path)
        assert reply.status == 200, path
        check_reply(reply, "GET", linked.tree, "/", path)


def test_bad_links_lead_nowhere(linked: LinkedSite) -> None:
    for link, (_, paths) in BAD_LINKS.items():
        for relpath in paths:
            for path in spellings(relpath):
                for method in ("GET", "HEAD"):
                    raw = send_raw(linked.app, method, wsgi_path_info(path))
                    if path == f"/{relpath}":
                        assert raw.status == 404, (link, path, raw.status)
                    check_reply(raw, method, linked.tree, "/", f"raw {method} {path!r}")
                    reply = send_httpx(linked.client, linked.recorder, method, path)
                    check_reply(reply, method, linked.tree, "/", f"httpx {method} {path!r}")


@settings(max_examples=scaled_examples(100))
@given(data=st.data())
def test_hostile_urls_over_links(linked: LinkedSite, data: st.DataObject) -> None:
    names = sorted({*linked.tree.static, *linked.tree.pages,
                    *(p for _, paths in BAD_LINKS.values() for p in paths)})
    path = data.draw(hostile_paths(names), label="path")
    check_reply(send_raw(linked.app, "GET", wsgi_path_info(path)), "GET", linked.tree, "/",
                f"raw {path!r}")
    check_reply(send_httpx(linked.client, linked.recorder, "GET", path), "GET", linked.tree,
                "/", f"httpx {path!r}")
