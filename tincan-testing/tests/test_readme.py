"""Every example of the README runs as written, and passes ``mypy --strict``, as does the
test file ``tincan new`` writes."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import tincan_cli
from mypy import api

README = Path(__file__).parents[1] / "README.md"
STARTER_TESTS = Path(tincan_cli.__file__).parent / "_starter" / "tests" / "test_site.py"

# The webapp the README's examples call ../webapp (described in the README).
SAMPLE_WEBAPP = {
    "index.pspx": "<h1>Hello, ${name}!</h1>\n",
    "index.py": (
        "from tincan import Page\n\n"
        "class Home(Page):\n"
        "    def handle(self) -> None:\n"
        "        self.name = self.request.query.get('name', 'world')\n"
    ),
    "guestbook.pspx": textwrap.dedent("""\
        #methods GET POST
        <h1>Guestbook</h1>
        <ul><li tal:repeat="entry entries">${entry}</li></ul>
        <p tal:condition="problems">Please fill in: ${', '.join(problems)}</p>
        <form id="sign" method="post" action="guestbook.pspx">
          <input name="name"><textarea name="message"></textarea>
          <button name="go" value="sign">Sign</button>
        </form>
        """),
    "guestbook.py": textwrap.dedent("""\
        from tincan import Page, redirect


        class Guestbook(Page):
            def handle(self) -> None:
                self.entries: list[str] = []
                self.problems: list[str] = []
                if self.request.method != "POST":
                    return
                name = self.request.forms.getunicode("name", "").strip()
                message = self.request.forms.getunicode("message", "").strip()
                self.problems = [f for f, v in (("name", name), ("message", message)) if not v]
                if not self.problems:
                    self.response.set_cookie("name", name)
                    redirect("thanks.pspx")
        """),
    "thanks.pspx": "<p>Thank you, ${page.request.get_cookie('name', 'stranger')}!</p>\n",
    "style.css": "h1 { color: teal }\n",
    "errors/404.pspx": "#errors 404\n<p>No such page.</p>\n",
}

# Exercises the README's conftest.py (tincan_app_dir) without a marker.
USES_THE_CONFTEST = """
import httpx


def test_the_conftest_chooses_the_webapp(tincan_client: httpx.Client) -> None:
    assert tincan_client.get("/").text == "<h1>Hello, world!</h1>\\n"
"""


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def lay_out(root: Path) -> tuple[list[Path], int]:
    """The sample webapp, and each README example as a module of ``tests/``; returns the
    modules and the number of tests they hold."""
    for relpath, text in SAMPLE_WEBAPP.items():
        path = root / "webapp" / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "webapp" / "WEB-INF").mkdir()
    tests = root / "tests"
    tests.mkdir()
    modules = []
    count = 0
    for number, block in enumerate(python_blocks()):
        name = "conftest.py" if block.startswith("# conftest.py") else f"test_example{number}.py"
        module = tests / name
        assert not module.exists(), "the README has two conftest.py examples"
        module.write_text(block, encoding="utf-8")
        modules.append(module)
        count += len(re.findall(r"^def test_", block, re.MULTILINE))
    (tests / "test_conftest_example.py").write_text(USES_THE_CONFTEST, encoding="utf-8")
    return modules, count + 1


def test_the_readme_has_the_examples_it_promises() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 10
    assert sum(block.startswith("# conftest.py") for block in blocks) == 1


def test_every_readme_example_passes(pytester: pytest.Pytester) -> None:
    _, count = lay_out(pytester.path)
    result = pytester.runpytest("-p", "no:cacheprovider", "tests")
    result.assert_outcomes(passed=count)


@pytest.mark.slow  # mypy takes several seconds
def test_every_readme_example_and_the_starter_tests_pass_mypy_strict(tmp_path: Path) -> None:
    modules, _ = lay_out(tmp_path)
    starter = tmp_path / "starter" / "test_site.py"
    starter.parent.mkdir()
    starter.write_text(STARTER_TESTS.read_text(encoding="utf-8"), encoding="utf-8")
    # as in a user's project: no configuration but --strict
    (tmp_path / "mypy.ini").write_text("[mypy]\n")
    out, err, status = api.run([
        "--strict", "--config-file", str(tmp_path / "mypy.ini"),
        "--cache-dir", str(tmp_path / ".mypy_cache"), "--no-error-summary",
        *(str(m) for m in modules), str(starter),
    ])
    assert (status, out, err) == (0, "", "")
