"""The demo's guestbook in SQLite: a file outside the tree, named by the ``[app]``
``database`` setting, shared by every worker of a server (gunicorn with two workers
here), in WAL mode, with a default that works for a read-only tree and a copied one."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tincan_testing import Webapp

from tests._deploy import copy_demo, free_port, stop, wait_for_port
from tests._helpers import DEMO
from tests.conftest import DemoFactory


@pytest.fixture
def tincan_settings() -> dict[str, object]:
    """No database setting from tests/conftest.py: each test says which it wants."""
    return {}


@pytest.fixture(autouse=True)
def own_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temporary directory, as the demo's default sees it, moved into the
    test's own (no guestbook outlives the test)."""
    temp = tmp_path / "system-tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp


def tree_files(root: Path) -> dict[str, bytes]:
    """The webapp's own files (not the caches a launch may write)."""
    found = {}
    for path in root.rglob("*"):
        parts = path.relative_to(root).parts
        if path.is_file() and ".tincan-cache" not in parts and "__pycache__" not in parts:
            found["/".join(parts)] = path.read_bytes()
    return found


def sign(client: httpx.Client, name: str, message: str) -> int:
    response = client.post("/guestbook", data={"name": name, "message": message})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rpartition("/")[2])


def test_the_database_is_the_setting_and_in_wal_mode(demo: DemoFactory, tmp_path: Path) -> None:
    database = tmp_path / "elsewhere" / "book.sqlite"
    site = demo(settings={"app": {"database": str(database)}})
    number = sign(site.client(), "Wal", "written ahead")
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        rows = db.execute("SELECT name, message FROM entries WHERE number = ?", (number,))
        assert rows.fetchall() == [("Wal", "written ahead")]
    # a second launch of the webapp (another process, a restart) sees the entry
    again = demo(settings={"app": {"database": str(database)}})
    assert "written ahead" in again.client().get(f"/entry/{number}").text


def test_a_setting_in_tincan_toml_names_the_file(demo: DemoFactory, tmp_path: Path) -> None:
    database = tmp_path / "from-the-file.sqlite"
    settings = (DEMO / "WEB-INF" / "tincan.toml").read_text()
    settings += f'database = "{database}"\n'
    site = demo({"WEB-INF/tincan.toml": settings})
    assert site.app is not None and site.app.settings.app.path("database") == str(database)
    sign(site.client(), "Toml", "from the settings file")
    assert database.is_file()


def test_without_a_setting_the_database_is_outside_the_tree(
    demo: DemoFactory, own_tempdir: Path
) -> None:
    site = demo()
    before = tree_files(site.root)
    sign(site.client(), "Default", "kept in the temporary directory")
    assert tree_files(site.root) == before  # nothing written into the webapp
    (directory,) = own_tempdir.iterdir()
    assert directory.name.startswith("tincan-demo-")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700  # the user's own
    (database,) = directory.glob("guestbook-*.sqlite")
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM entries").fetchone() == (3,)


def test_copies_of_the_demo_have_guestbooks_of_their_own(
    tmp_path: Path, own_tempdir: Path
) -> None:
    first = copy_demo(tmp_path / "first", own_database=False)
    second = copy_demo(tmp_path / "second", own_database=False)
    client_first = launched(first).client()
    client_second = launched(second).client()
    sign(client_first, "First", "only in the first copy")
    assert "only in the first copy" in client_first.get("/entries").text
    assert "only in the first copy" not in client_second.get("/entries").text
    assert len(list(own_tempdir.glob("tincan-demo-*/guestbook-*.sqlite"))) == 2


_launched: list[Webapp] = []


def launched(root: Path) -> Webapp:
    webapp = Webapp(root, static=True)
    assert webapp.errors == 0, webapp.problems()
    _launched.append(webapp)
    return webapp


@pytest.fixture(autouse=True)
def close_launched() -> Iterator[None]:
    yield
    while _launched:
        _launched.pop().close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories anyway")
def test_a_read_only_tree_works(tmp_path: Path) -> None:
    root = copy_demo(tmp_path / "demo", own_database=False)
    modes = {}
    for path in [root, *root.rglob("*")]:
        modes[path] = path.stat().st_mode
        path.chmod(stat.S_IMODE(modes[path]) & ~0o222)
    try:
        client = launched(root).client()
        number = sign(client, "Read-only", "the tree cannot be written")
        assert "the tree cannot be written" in client.get(f"/entry/{number}").text
    finally:
        for path, mode in sorted(modes.items(), key=lambda item: len(item[0].parts)):
            path.chmod(stat.S_IMODE(mode))


# Run in a mount namespace of its own, where the copy of the demo is a read-only bind
# mount: the file system refuses every write, root's included, and the mount ends with
# the process.
READ_ONLY_CHILD = """
import errno, os, sys
import httpx, tincan

root = sys.argv[1]
app, errors = tincan.launch(root, static=True)
assert app is not None and errors == 0, errors
client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver")
signed = client.post("/guestbook", data={"name": "RO", "message": "on a read-only tree"})
assert signed.status_code == 303, signed.text
entry = client.get(signed.headers["location"])
assert "on a read-only tree" in entry.text and "Thank you, RO!" in entry.text, entry.text
try:
    open(os.path.join(root, "probe.txt"), "w")
except OSError as exc:
    assert exc.errno == errno.EROFS, exc
    print("read-only and signed")
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root")
def test_a_read_only_file_system_works(tmp_path: Path) -> None:
    root = copy_demo(tmp_path / "demo", own_database=False)
    (tmp_path / "child.py").write_text(READ_ONLY_CHILD)
    temp = tmp_path / "tmp"
    temp.mkdir()
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" "$3" "$1"'
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
         str(root), sys.executable, str(tmp_path / "child.py")],
        capture_output=True, text=True, timeout=120, env={**os.environ, "TMPDIR": str(temp)},
    )  # fmt: skip
    if result.returncode != 0 and "mount" in result.stderr and "Traceback" not in result.stderr:
        pytest.skip(f"no read-only bind mount here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "read-only and signed"
    assert list(temp.glob("tincan-demo-*/guestbook-*.sqlite"))  # outside the tree


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('database = "guestbook.sqlite"', "app.database must be an absolute path"),
        ("database = 42", "app.database must be a string, not a number"),
    ],
)
def test_a_bad_database_setting_names_the_file_and_line(
    demo: DemoFactory, line: str, message: str
) -> None:
    settings = (DEMO / "WEB-INF" / "tincan.toml").read_text() + line + "\n"
    where = settings.count("\n")
    site = demo({"WEB-INF/tincan.toml": settings})
    response = site.client().get("/")
    assert response.status_code == 500
    assert (
        "Something went wrong on our side" in response.text and "tincan.toml" not in response.text
    )
    logged = [r for r in site.records if r.exc_info and r.exc_info[1] is not None]
    assert logged, site.messages
    error = str(logged[-1].exc_info[1])  # type: ignore[index]
    assert error.startswith(f"{site.root}/WEB-INF/tincan.toml:{where}: {message}"), error


# -- two gunicorn workers, one guestbook -------------------------------------------------
# A WSGI module that says which worker answered, so the test can tell them apart.
WSGI = """
import os
import tincan

app, errors = tincan.launch(os.environ["DEMO_ROOT"], static=True)
assert app is not None and errors == 0, errors


def application(environ, start_response):
    def start(status, headers, exc_info=None):
        return start_response(status, [*headers, ("X-Worker", str(os.getpid()))], exc_info)

    return app(environ, start)
"""


def request(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheader("X-Worker", ""), response.read()
    finally:
        conn.close()


@pytest.mark.slow
def test_two_gunicorn_workers_share_the_guestbook(tmp_path: Path) -> None:
    root = copy_demo(tmp_path / "demo", own_database=False)
    database = tmp_path / "data" / "guestbook.sqlite"
    settings = (root / "WEB-INF" / "tincan.toml").read_text() + f'database = "{database}"\n'
    (root / "WEB-INF" / "tincan.toml").write_text(settings)
    (tmp_path / "wsgi_demo.py").write_text(WSGI)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "DEMO_ROOT": str(root), "TINCAN_SECRET_KEY": ""}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "--chdir", str(tmp_path), "wsgi_demo:application"],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    try:
        wait_for_port(port, process, log)
        seen_by = seen_entry_across_workers(port)
        assert seen_by is not None, log.read_text()
    finally:
        stop(process)


def seen_entry_across_workers(port: int) -> tuple[str, str] | None:
    """Sign through one worker and read the entries through the other: ``(writer, reader)``.

    A sync worker serves one connection at a time, so a GET whose head is still being
    sent keeps one worker busy while the POST goes to the other; then the GET ends.
    """
    for _ in range(20):
        reader = socket.create_connection(("127.0.0.1", port), timeout=30)
        try:
            reader.sendall(b"GET /api/entries HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            note = f"through one worker {uuid.uuid4().hex}"
            form = f"name=Gunicorn&message={note.replace(' ', '+')}".encode()
            status, writer, _ = request(port, "POST", "/guestbook", form)
            assert status == 303
            reader.sendall(b"Connection: close\r\n\r\n")
            answer = http.client.HTTPResponse(reader)
            answer.begin()
            body = answer.read()
            worker = answer.getheader("X-Worker", "")
        finally:
            reader.close()
        if worker == writer:
            continue  # the GET was accepted after the POST, by the same worker: again
        assert answer.status == 200
        messages = [entry["message"] for entry in json.loads(body)["entries"]]
        assert note in messages, (writer, worker, messages[:3])
        # and the other way round: the entry is there whoever answers
        status, _, listing = request(port, "GET", "/entries")
        assert status == 200 and note.encode() in listing
        return writer, worker
    return None
