"""The Webapp a factory call returns: files on disk, launch options, clean-up."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from tincan_testing.plugin import WebappFactory


def test_files_are_written_with_the_webapp_encoding(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp({"café.pspx": "<p>Grüße</p>", "logo.bin": b"\x00\xff"},
                           encoding="latin-1", static=True)
    assert (webapp.root / "café.pspx").read_bytes() == "<p>Grüße</p>".encode("latin-1")
    assert (webapp.root / "WEB-INF").is_dir()
    client = webapp.client()
    assert client.get(webapp.url("café.pspx")).text == "<p>Grüße</p>"
    assert client.get("/logo.bin").content == b"\x00\xff"


def test_launch_options_reach_launch(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp({"a.pspx": "<p>a</p>", "s.txt": "s"}, urlroot="/x/", multithread=False)
    assert webapp.app is not None
    assert webapp.app.config["tincan.urlroot"] == "/x"
    client = webapp.client()
    assert client.get("/x/a.pspx").status_code == 200
    assert client.get("/x/s.txt").status_code == 404  # static serving is off by default
    assert webapp.url("a b.pspx") == "/x/a%20b.pspx"


def test_copy_from_keeps_the_source_and_files_go_on_top(
    tincan_webapp: WebappFactory, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    (source / "WEB-INF" / ".tincan-cache").mkdir(parents=True)
    (source / "WEB-INF" / ".tincan-cache" / "stale.bin").write_bytes(b"x")
    (source / "a.pspx").write_text("<p>original</p>")
    (source / "b.pspx").write_text("<p>b</p>")
    outside = tmp_path / "outside.txt"
    outside.write_text("outside the tree")
    os.symlink(outside, source / "link.txt")

    webapp = tincan_webapp({"a.pspx": "<p>changed</p>"}, copy_from=source, static=True)
    client = webapp.client()
    assert client.get("/a.pspx").text == "<p>changed</p>"
    assert client.get("/b.pspx").text == "<p>b</p>"
    assert (source / "a.pspx").read_text() == "<p>original</p>"
    assert (webapp.root / "link.txt").is_symlink()  # still a link out of the tree: not served
    assert client.get("/link.txt").status_code == 404
    assert not (webapp.root / "WEB-INF" / ".tincan-cache" / "stale.bin").exists()
    assert webapp.source == source.resolve()


def test_close_undoes_what_the_launch_changed(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp({
        "a.pspx": "<p>${value}</p>",
        "a.py": "from tincan import Page\nfrom helper_mod_x1 import VALUE\n\n"
                "class A(Page):\n    value = VALUE\n",
        "WEB-INF/lib/helper_mod_x1.py": "VALUE = 42\n",
    })
    lib = os.path.realpath(webapp.root / "WEB-INF" / "lib")
    assert lib in sys.path and "helper_mod_x1" in sys.modules
    client = webapp.client()
    assert client.get("/a.pspx").text == "<p>42</p>"
    with webapp.live() as server:
        port = server.port
    server = webapp.live()
    webapp.close()
    assert lib not in sys.path and "helper_mod_x1" not in sys.modules
    assert not server.running and port != 0
    assert client.is_closed


def test_bad_file_names_are_refused(tincan_webapp: WebappFactory) -> None:
    for name in ("/etc/passwd", "../up.pspx", "a/./b.pspx", "a//b.pspx"):
        with pytest.raises(ValueError, match="relative paths"):
            tincan_webapp({name: "x"})


def test_a_launch_that_cannot_start_is_reported(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp(urlroot="no-slash", allow_errors=True)
    assert webapp.app is None and webapp.errors == 1
    assert webapp.problems() == ["urlroot 'no-slash' must start with '/'"]
    with pytest.raises(RuntimeError, match="did not launch"):
        webapp.client()
