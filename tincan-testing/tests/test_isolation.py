"""Each test gets the webapp's own WEB-INF/lib modules, also with that directory on pythonpath;
the live server goes where the marker says."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

COUNTER_SITE = {
    "count.pspx": "<p>${count} ${label}</p>",
    "count.py": (
        "from tincan import Page\nimport counter\n\n"
        "class Count(Page):\n"
        "    def handle(self):\n"
        "        self.count = counter.hit()\n"
        "        self.label = counter.LABEL\n"
    ),
    "WEB-INF/lib/counter.py": (
        "LABEL = 'source'\nhits = 0\n\n"
        "def hit():\n    global hits\n    hits += 1\n    return hits\n"
    ),
}


def write_site(directory: Path) -> None:
    for relpath, text in COUNTER_SITE.items():
        path = directory / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_lib_on_pythonpath_neither_leaks_state_nor_hides_overlays(
    pytester: pytest.Pytester,
) -> None:
    write_site(pytester.path / "site")
    pytester.makeini("[pytest]\npythonpath = site/WEB-INF/lib\n")
    pytester.makepyfile(
        """
        import sys
        import pytest
        import counter  # the test module's own import, from the source tree

        pytestmark = pytest.mark.tincan("site")

        @pytest.mark.parametrize("run", [1, 2])
        def test_fresh_state(tincan_client, run):
            assert tincan_client.get("/count.pspx").text == "<p>1 source</p>"
            assert tincan_client.get("/count.pspx").text == "<p>2 source</p>"

        def test_overlay_of_a_lib_module(tincan_webapp):
            webapp = tincan_webapp(
                {"WEB-INF/lib/counter.py": "LABEL = 'overlay'\\ndef hit():\\n    return 7\\n"},
                copy_from="site",
            )
            assert webapp.client().get("/count.pspx").text == "<p>7 overlay</p>"

        def test_the_tests_own_import_is_untouched():
            assert counter.LABEL == "source" and counter.hits == 0
            assert sys.modules["counter"] is counter
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_the_live_server_takes_the_host_and_port_of_the_marker(
    pytester: pytest.Pytester,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.tincan({{"index.pspx": "<p>here</p>"}}, live_host="127.0.0.1",
                            live_port={port})
        def test_served_there(tincan_live_server):
            assert tincan_live_server.url == "http://127.0.0.1:{port}"
            assert tincan_live_server.client().get("/").text == "<p>here</p>"

        def test_webapp_live_takes_them_too(tincan_webapp):
            with tincan_webapp({{"index.pspx": "<p>x</p>"}}).live(port={port}) as server:
                assert server.port == {port}
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_a_port_in_use_says_how_to_choose_another(pytester: pytest.Pytester) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        pytester.makepyfile(
            f"""
            import pytest

            @pytest.mark.tincan({{"index.pspx": "<p>x</p>"}}, live_port={port})
            def test_busy(tincan_live_server):
                pass
            """
        )
        result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        f"*cannot serve the webapp on 127.0.0.1:{port}: *"
        "(choose another with @pytest.mark.tincan(live_host=..., live_port=...))*",
    ])
