"""The README's tutorial, its "Translating pages" example and its WSGI example work
as written, with non-ASCII input.

Every fenced block of the tutorial is accounted for: a block under a bold
``hello/...`` path is that file (``(add at the end)`` appends to it), and every
line of a ``sh`` block is run as written in the tutorial's directory (``tincan``
is this environment's command, ``python3`` this Python), except the ``tincan
serve`` lines that serve until stopped: those are run with a port of their own
by the slow test at the end. A block of any other kind fails the test, so a
new step gets a test by being written.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import tincan
from tincan_testing.plugin import WebappFactory

from tests._deploy import free_port, stop, wait_for_port

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text(encoding="utf-8")
TUTORIAL = TEXT[TEXT.index("## A tutorial") : TEXT.index("\n## Pages")]
TRANSLATING = TEXT[TEXT.index("## Translating pages") : TEXT.index("\n## Python API")]

FENCE = re.compile(r"^```([a-z]*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
FILE_LINE = re.compile(r"\*\*(hello/[^*]+)\*\*( \(add at the end\))?\n$")
SERVING = re.compile(r"^tincan serve (--static )?hello$")  # serves until stopped


@dataclass
class Block:
    kind: str  # "file", "append", "sh" or "other"
    language: str
    text: str
    path: str = ""


def blocks(section: str) -> list[Block]:
    found = []
    for match in FENCE.finditer(section):
        before = section[: match.start()].rsplit("\n\n", 1)[-1]
        named = FILE_LINE.search(before)
        language, text = match.group(1), match.group(2)
        if named:
            kind = "append" if named.group(2) else "file"
            found.append(Block(kind, language, text, named.group(1)))
        else:
            found.append(Block("sh" if language == "sh" else "other", language, text))
    return found


def commands(block: Block) -> list[str]:
    lines = []
    for line in block.text.splitlines():
        command = line.split(" #", 1)[0].strip() if not line.startswith("#") else ""
        if command:
            lines.append(command)
    return lines


def run_as_written(
    command: str, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    words = shlex.split(command.split(">", 1)[0])
    if words[0] == "tincan":
        words = [sys.executable, "-m", "tincan_cli", *words[1:]]
    elif words[0] == "python3":
        words = [sys.executable, *words[1:]]
    done = subprocess.run(words, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    if ">" in command:  # the one redirection the tutorial uses: into a file
        target = command.split(">", 1)[1].strip()
        (cwd / target).write_text(done.stdout, encoding="utf-8")
    return done


@pytest.fixture
def tincan_settings() -> Mapping[str, Any]:
    """The tutorial's own settings: its [app] database, not the suite's per-test one."""
    return {}


@dataclass
class Tutorial:
    root: Path  # the directory the tutorial's commands run in
    webapp: Path  # root / "hello"
    env: dict[str, str]
    serving: list[str]  # the "tincan serve" lines, for the slow test
    outputs: dict[str, str]


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> Tutorial:
    root = tmp_path_factory.mktemp("tutorial")
    home = tmp_path_factory.mktemp("home")  # step 9's database is under ~
    env = {**os.environ, "HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("TINCAN_SECRET_KEY", None)
    serving: list[str] = []
    outputs: dict[str, str] = {}
    for block in blocks(TUTORIAL) + blocks(TRANSLATING):
        if block.kind in ("file", "append"):
            path = root / block.path
            path.parent.mkdir(parents=True, exist_ok=True)
            mode = "a" if block.kind == "append" else "w"
            with path.open(mode, encoding="utf-8") as f:
                f.write(block.text)
        elif block.kind == "sh":
            for command in commands(block):
                if SERVING.match(command):
                    serving.append(command)
                else:
                    outputs[command] = run_as_written(command, root, env).stdout
        else:
            pytest.fail(f"a tutorial block this test does not know:\n{block.text}")
    assert serving == ["tincan serve hello", "tincan serve --static hello"]
    return Tutorial(root, root / "hello", env, serving, outputs)


def test_every_file_of_the_tutorial_is_written(tutorial: Tutorial) -> None:
    written = {
        path.relative_to(tutorial.root).as_posix()
        for path in tutorial.webapp.rglob("*")
        if path.is_file() and ".tincan-cache" not in path.parts and "__pycache__" not in path.parts
    }
    assert written == {
        "hello/index.pspx", "hello/index.py", "hello/WEB-INF/tlib/layout.pt",
        "hello/errors/404.pspx", "hello/style.css", "hello/WEB-INF/tincan.toml",
        "hello/WEB-INF/secret.key", "hello/entry.pspx", "hello/sign.pspx", "hello/sign.py",
        "hello/api/time.pspx", "hello/api/time.py", "hello/visits.pspx", "hello/visits.py",
        "hello/greet.pspx", "hello/greet.py",
    }  # fmt: skip
    settings = (tutorial.webapp / "WEB-INF" / "tincan.toml").read_text(encoding="utf-8")
    assert "clean_urls = true" in settings and "[app]" in settings  # step 9 appended


def test_the_tutorials_commands_report_no_problem(tutorial: Tutorial) -> None:
    routes = tutorial.outputs["tincan routes hello"]
    assert "/entry/<id:int>" in routes and "/sign" in routes
    check = tutorial.outputs["tincan check --strict hello"]
    assert " 0 errors, 0 warnings" in check
    # The finished tree, translated page included, checks clean too.
    final = run_as_written("tincan check --strict hello", tutorial.root, tutorial.env).stdout
    assert final.startswith("7 pages checked: 0 errors, 0 warnings"), final


def test_the_tutorial_webapp_works_with_non_ascii_input(
    tincan_webapp: WebappFactory, tutorial: Tutorial, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", tutorial.env["HOME"])
    monkeypatch.delenv("TINCAN_SECRET_KEY", raising=False)
    webapp = tincan_webapp(copy_from=tutorial.webapp, static=True)
    assert webapp.errors == 0 and webapp.problems() == []
    client = webapp.client()
    # Step 2: the name is decoded, and escaped.
    page = client.get("/", params={"name": "Jürgen"})
    assert page.status_code == 200
    assert "<h1>Hello, Jürgen!</h1>" in page.text
    assert "<h1>Hello, &lt;Zoë&gt;!</h1>" in client.get("/?name=<Zoë>").text
    assert re.search(r"It is \d\d:\d\d on the server", page.text)
    assert "<footer>Made with TinCan</footer>" in page.text  # step 3's layout
    assert "Hello, world!" in client.get("/index.pspx").text
    # Step 4: the error page, for a path that is not ASCII either.
    missing = client.get("/nichts-für-dich.pspx")
    assert missing.status_code == 404
    assert "Nothing lives at <code>/nichts-für-dich.pspx</code>." in missing.text
    # Step 5.
    assert client.get("/style.css").headers["content-type"] == "text/css; charset=utf-8"
    # Step 6: clean URLs, #path and url_for.
    entry = client.get("/entry/41")
    assert "<h1>Entry 41</h1>" in entry.text
    assert '<a href="/entry/42">next</a>' in entry.text
    assert '<a href="/?from=entry">home</a>' in entry.text
    assert "<h1>Entry 41</h1>" in client.get("/entry.pspx/41").text
    assert client.get("/entry/abc").status_code == 404
    # Step 7: Post/Redirect/Get with a session and a flash message.
    signed = client.post("/sign", data={"name": "Zoë Ångström"}, follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"].endswith("/sign")
    after = client.get("/sign")
    assert '<p class="success">Thanks for signing, Zoë Ångström!</p>' in after.text
    assert 'value="Zoë Ångström"' in after.text
    assert "Thanks for signing" not in client.get("/sign").text  # shown once
    # Step 8: JSON.
    data = client.get("/api/time")
    assert data.headers["content-type"].startswith("application/json")
    assert json.loads(data.text)["home"] == "/"
    # Step 9: the database named in [app], under the (test's) home directory.
    first = client.get("/visits").text
    count = int(re.search(r"visited (\d+) times", first).group(1))  # type: ignore[union-attr]
    assert f"visited {count + 1} times" in client.get("/visits").text
    assert (Path(tutorial.env["HOME"]) / "hello-data" / "visits.sqlite").is_file()
    # Translating pages.
    german = client.get("/greet.pspx", params={"lang": "de"}).text
    assert '<html lang="de">' in german
    assert "<h1>Schönen guten Morgen</h1>" in german
    assert "<p>Sie haben <b>3</b> neue Nachrichten.</p>" in german
    english = client.get("/greet.pspx", params={"lang": "ü"}).text
    assert "<h1>Good morning</h1>" in english and "You have <b>3</b> new messages." in english


def test_the_wsgi_example_runs_unchanged_but_for_the_path(
    tincan_webapp: WebappFactory, tutorial: Tutorial
) -> None:
    example = (
        "import logging, tincan\n"
        'logger = logging.getLogger("webapp")\n'
        'application, errors = tincan.launch(fsroot="/var/www/html/ti", logger=logger)\n'
    )
    assert f"```python\n{example}```" in TEXT
    # run on a copy the plugin owns: it drops the modules the example's launch imports
    root = tincan_webapp(copy_from=tutorial.webapp).root
    namespace: dict[str, object] = {}
    exec(example.replace("/var/www/html/ti", str(root)), namespace)
    assert namespace["errors"] == 0
    application = namespace["application"]
    assert isinstance(application, tincan.TinCan)
    transport = httpx.WSGITransport(app=application)
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        response = client.get("/", params={"name": "Jürgen"})
    assert response.status_code == 200
    assert "<h1>Hello, Jürgen!</h1>" in response.text


@pytest.mark.slow
def test_the_tutorials_serve_commands_serve_it(tutorial: Tutorial, tmp_path: Path) -> None:
    """``tincan serve [--static] hello`` as written, on a free port of 127.0.0.1."""
    for command in tutorial.serving:
        port = free_port()
        words = shlex.split(command)[2:-1]
        argv = [sys.executable, "-m", "tincan_cli", "serve", *words, "-b", "127.0.0.1",
                "-p", str(port), "hello"]  # fmt: skip
        log = tmp_path / f"serve-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv, cwd=tutorial.root, env=tutorial.env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            wait_for_port(port, process, log)
            base = f"http://127.0.0.1:{port}"
            page = httpx.get(f"{base}/", params={"name": "Jürgen"}, timeout=30)
            assert "<h1>Hello, Jürgen!</h1>" in page.text
            style = httpx.get(f"{base}/style.css", timeout=30).status_code
            assert style == (200 if "--static" in words else 404)
        finally:
            stop(process, signal.SIGINT, 30)
        assert "Traceback" not in log.read_text(errors="replace")
