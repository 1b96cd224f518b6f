"""The fixtures as a user meets them: test files run by pytest, judged by their outcome."""

from __future__ import annotations

import re
import socket
import textwrap
from pathlib import Path

import pytest

HOME_PAGE = {
    "index.pspx": "#rem the home page\n<h1>${title}</h1>",
    "index.py": "from tincan import Page\n\nclass Home(Page):\n    title = 'Welcome'\n",
    "style.css": "h1 { color: teal }\n",
}


def write_webapp(directory: Path, files: dict[str, str]) -> Path:
    for relpath, text in files.items():
        path = directory / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (directory / "WEB-INF").mkdir(exist_ok=True)
    return directory


def test_the_readme_first_test_passes_as_written(pytester: pytest.Pytester) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    first = re.search(r"## Your first test\n\n```python\n(.*?)```", readme, re.DOTALL)
    assert first is not None
    assert len(first.group(1).splitlines()) < 20
    pytester.makepyfile(first.group(1))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_users_first_test_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from tincan_testing import trace

        def test_home(tincan_webapp):
            webapp = tincan_webapp({
                "index.pspx": "<h1>${title}</h1>",
                "index.py": "from tincan import Page\\nclass Home(Page):\\n    title = 'Hi'\\n",
            })
            response = webapp.client().get("/")
            assert response.status_code == 200
            assert response.text == "<h1>Hi</h1>"
            visit = trace(response)[-1]
            assert visit.page == "index.pspx"
            assert visit.page_class.__name__ == "Home"
            assert visit.variables["title"] == "Hi"
            assert webapp.last_page.page == "index.pspx"
            assert webapp.client().base_url == "http://testserver"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_marker_selects_the_webapp_for_client_and_live_server(pytester: pytest.Pytester) -> None:
    write_webapp(pytester.path / "site", HOME_PAGE)
    pytester.makepyfile(
        """
        import httpx
        import pytest
        from tincan_testing import trace

        pytestmark = pytest.mark.tincan(webapp="site", static=True)

        def test_client(tincan_client):
            assert tincan_client.get("/").text == "<h1>Welcome</h1>"
            assert tincan_client.get("/style.css").status_code == 200

        @pytest.mark.tincan(static=False)
        def test_closest_marker_wins(tincan_client):
            assert tincan_client.get("/style.css").status_code == 404

        @pytest.mark.tincan(urlroot="/app")
        def test_urlroot(tincan_client, tincan_app):
            assert tincan_client.get("/app/").text == "<h1>Welcome</h1>"
            assert tincan_app.url("index.pspx") == "/app/index.pspx"

        def test_live_server(tincan_live_server):
            assert tincan_live_server.url.startswith("http://127.0.0.1:")
            response = httpx.get(tincan_live_server.url + "/index.pspx")
            assert response.text == "<h1>Welcome</h1>"
            assert trace(response)[-1].variables["title"] == "Welcome"

        def test_client_and_server_share_the_app(tincan_client, tincan_live_server, tincan_app):
            tincan_client.get("/")
            assert tincan_app.last_page.page == "index.pspx"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=5)


def test_tincan_app_dir_can_be_overridden(pytester: pytest.Pytester) -> None:
    site = write_webapp(pytester.path / "site", HOME_PAGE)
    pytester.makeconftest(
        f"""
        import pytest

        @pytest.fixture
        def tincan_app_dir():
            return {str(site)!r}
        """
    )
    pytester.makepyfile(
        """
        def test_home(tincan_client):
            assert tincan_client.get("/").text == "<h1>Welcome</h1>"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_without_a_webapp_the_test_says_how_to_choose_one(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_nothing_chosen(tincan_client):
            pass

        @pytest.mark.tincan(webapp="x", statik=True)
        def test_typo(tincan_client):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        ["*no webapp selected: mark the test with @pytest.mark.tincan(webapp=*",
         "*unknown option 'statik'*"]
    )


def test_a_broken_webapp_fails_with_file_and_line(pytester: pytest.Pytester) -> None:
    broken = write_webapp(pytester.path / "broken", {
        "index.pspx": "#rem fine\n#bogus directive\n<p>x</p>\n",
        "other.pspx": "<p>\n${1 +}</p>\n",
        "ok.pspx": "<p>fine</p>\n",
    })
    pytester.makepyfile(
        f"""
        def test_dict(tincan_webapp):
            tincan_webapp({{"page.pspx": "#forward nowhere.pspx\\n"}})

        def test_copy(tincan_webapp):
            tincan_webapp(copy_from={str(broken)!r})
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*TinCan webapp * launched with 1 error(s):",
        "*page.pspx:1: #forward target 'nowhere.pspx' does not exist",
        "*launched with 2 error(s):",
        f"*{broken}/index.pspx:2: unknown directive #bogus",
        f"*{broken}/other.pspx:2: template error: invalid syntax*",
    ])
    # a user's mistake is reported, not a traceback through the plugin
    assert "plugin.py" not in result.stdout.str()
    assert "Traceback" not in result.stdout.str()


def test_allow_errors_lets_the_test_inspect_them(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_errors(tincan_webapp):
            webapp = tincan_webapp(
                {"bad.pspx": "#methods\\n", "good.pspx": "<p>ok</p>"}, allow_errors=True
            )
            assert webapp.errors == 1
            assert any("bad.pspx:1: #methods needs a parameter" in m for m in webapp.messages)
            assert webapp.client().get("/good.pspx").status_code == 200
            assert webapp.client().get("/bad.pspx").status_code == 404

        def test_no_webapp_at_all(tincan_webapp):
            webapp = tincan_webapp(urlroot="relative", allow_errors=True)
            assert webapp.app is None and webapp.errors == 1
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_servers_and_temporary_directories_are_cleaned_up(pytester: pytest.Pytester) -> None:
    record = pytester.path / "record.txt"
    pytester.makepyfile(
        f"""
        def test_serve(tincan_webapp, tmp_path):
            webapp = tincan_webapp({{"index.pspx": "<p>hi</p>"}})
            server = webapp.live()  # never stopped by the test itself
            assert webapp.root.parent == tmp_path
            with open({str(record)!r}, "w") as f:
                f.write(f"{{server.port}}\\n{{webapp.root}}\\n")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-o", "tmp_path_retention_policy=failed")
    result.assert_outcomes(passed=1)
    port, root = record.read_text().split()
    assert not Path(root).exists()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", int(port))):
        pass


def test_the_live_server_fixture_stops_its_server(pytester: pytest.Pytester) -> None:
    write_webapp(pytester.path / "site", HOME_PAGE)
    record = pytester.path / "port.txt"
    pytester.makepyfile(
        f"""
        import httpx, pytest

        @pytest.mark.tincan(webapp="site")
        def test_serve(tincan_live_server):
            assert httpx.get(tincan_live_server.url + "/").status_code == 200
            with open({str(record)!r}, "w") as f:
                f.write(str(tincan_live_server.port))
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    port = int(record.read_text())
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass


def test_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.tincan(webapp=None, *static=False*"])


def test_launch_messages_show_with_a_failing_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            def test_fails_later(tincan_webapp):
                webapp = tincan_webapp({
                    "boom.pspx": "<p>x</p>",
                    "boom.py": "from tincan import Page\\nclass Boom(Page):\\n"
                               "    def handle(self):\\n        raise ValueError('kaput')\\n",
                })
                assert webapp.client().get("/boom.pspx").status_code == 200
            """
        )
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    # what the app logged while serving is in pytest's captured log section
    result.stdout.fnmatch_lines(["*Captured log call*", "*boom.pspx: error serving /boom.pspx*"])


def test_marked_tests_share_a_copy_but_not_state(pytester: pytest.Pytester) -> None:
    write_webapp(pytester.path / "site", {
        "count.pspx": "<p>${count}</p>",
        "count.py": (
            "from tincan import Page\nfrom counter import hit\n\n"
            "class Count(Page):\n    def handle(self):\n        self.count = hit()\n"
        ),
        "WEB-INF/lib/counter.py": "hits = 0\n\ndef hit():\n    global hits\n    hits += 1\n"
                                  "    return hits\n",
    })
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.tincan(webapp="site")
        roots = set()

        @pytest.mark.parametrize("run", [1, 2, 3])
        def test_count(tincan_client, tincan_app, run):
            roots.add(tincan_app.root)
            assert tincan_client.get("/count.pspx").text == "<p>1</p>"
            assert tincan_client.get("/count.pspx").text == "<p>2</p>"
            assert len(roots) == 1
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
