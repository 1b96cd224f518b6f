"""The README's tutorial and WSGI example work as written."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
import tincan
from tincan_testing.plugin import WebappFactory

README = Path(__file__).resolve().parents[1] / "README.md"

# A tutorial file is a bold path line followed by a fenced block; the last version counts.
TUTORIAL_FILE = re.compile(
    r"^\*\*(hello/[^*]+)\*\*\n```[a-z]*\n(.*?)^```", re.MULTILINE | re.DOTALL
)


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tutorial")
    (root / "hello" / "WEB-INF").mkdir(parents=True)  # step 1: mkdir -p hello/WEB-INF
    files = dict(TUTORIAL_FILE.findall(README.read_text(encoding="utf-8")))
    assert set(files) == {
        "hello/index.pspx",
        "hello/index.py",
        "hello/WEB-INF/tlib/layout.pt",
        "hello/errors/404.pspx",
        "hello/style.css",
        "hello/WEB-INF/tincan.toml",
        "hello/entry.pspx",
    }
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "hello"


def test_the_tutorial_webapp_works(tincan_webapp: WebappFactory, tutorial: Path) -> None:
    webapp = tincan_webapp(copy_from=tutorial, static=True)
    assert webapp.errors == 0 and webapp.problems() == []
    client = webapp.client()
    page = client.get("/?name=<Ada>")
    assert page.status_code == 200
    assert "<h1>Hello, &lt;Ada&gt;!</h1>" in page.text
    assert "<footer>Made with TinCan</footer>" in page.text
    assert re.search(r"It is \d\d:\d\d on the server", page.text)
    assert "Hello, world!" in client.get("/index.pspx").text
    missing = client.get("/nothing-here.pspx")
    assert missing.status_code == 404
    assert "Nothing lives at <code>/nothing-here.pspx</code>." in missing.text
    assert client.get("/style.css").headers["content-type"] == "text/css; charset=utf-8"
    # Step 6: clean URLs, #path and url_for.
    entry = client.get("/entry/41")
    assert "<h1>Entry 41</h1>" in entry.text
    assert '<a href="/entry/42">next</a>' in entry.text
    assert '<a href="/?from=entry">home</a>' in entry.text
    assert "<h1>Entry 41</h1>" in client.get("/entry.pspx/41").text
    assert client.get("/entry/abc").status_code == 404


def test_the_wsgi_example_runs_unchanged_but_for_the_path(
    tincan_webapp: WebappFactory, tutorial: Path
) -> None:
    text = README.read_text(encoding="utf-8")
    example = (
        "import logging, tincan\n"
        'logger = logging.getLogger("webapp")\n'
        'application, errors = tincan.launch(fsroot="/var/www/html/ti", logger=logger,\n'
        "                                    multithread=False)\n"
    )
    assert f"```python\n{example}```" in text
    # run on a copy the plugin owns: it drops the modules the example's launch imports
    root = tincan_webapp(copy_from=tutorial).root
    namespace: dict[str, object] = {}
    exec(example.replace("/var/www/html/ti", str(root)), namespace)
    assert namespace["errors"] == 0
    application = namespace["application"]
    assert isinstance(application, tincan.TinCan)
    transport = httpx.WSGITransport(app=application)
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        response = client.get("/")
    assert response.status_code == 200
    assert "<h1>Hello, world!</h1>" in response.text
