"""``tincan serve`` for development: the developer error pages, starting with broken
pages, on-demand compiles, and the session key of a webapp that has none."""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tincan_cli._serve import ServeOptions, compiles_on_demand, debug_page_on
from tincan_cli._servers import is_loopback

POLL_BOUND = 60.0  # seconds; generous, never asserted as a duration

RUNTIME_ERROR = {
    "index.pspx": "<p>home</p>\n",
    "fails.pspx": "<p>${page.ratio}</p>\n",
    "fails.py": (
        "from tincan import Page\n\n\nclass Fails(Page):\n"
        "    def handle(self):\n        self.ratio = 1 / 0\n"
    ),
}
BROKEN = {
    "index.pspx": "<p>home</p>\n",
    "header.pspx": "#rem fine\n#bogus directive\n<p>never</p>\n",
    "template.pspx": "<p>one</p>\n<p>two</p>\n<p tal:content='page.x' tal:wrong='1'>three</p>\n",
    "WEB-INF/lib/devmode_helper.py": "VALUE = 1\nraise RuntimeError('helper is broken')\n",
    "codebehind.py": "from tincan import Page\nimport devmode_helper\n",
    "codebehind.pspx": "<p>${page}</p>\n",
}
COUNTER = {
    "index.pspx": "<p>visits ${page.visits}</p>\n",
    "index.py": (
        "from tincan import Page\n\n\nclass Counter(Page):\n    def handle(self):\n"
        "        self.session['visits'] = self.session.get('visits', 0) + 1\n"
        "        self.visits = self.session['visits']\n"
    ),
}


def poll(condition: Callable[[], bool], what: str, server: Any) -> None:
    deadline = time.monotonic() + POLL_BOUND
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen\nstderr:\n{server.stderr}")
        time.sleep(0.1)


# -- which mode: decided by the bind address and the options -----------------------------------
@given(st.ip_addresses())
def test_loopback_addresses_are_recognised(address: Any) -> None:
    expected = address.is_loopback or (
        isinstance(address, ipaddress.IPv6Address)
        and address.ipv4_mapped is not None
        and address.ipv4_mapped.is_loopback
    )
    assert is_loopback(str(address)) is expected
    if isinstance(address, ipaddress.IPv6Address):
        assert is_loopback(f"[{address}]") is expected


@given(st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){0,3}", fullmatch=True))
def test_host_names_other_than_localhost_are_not_loopback(name: str) -> None:
    # Never resolved: a name could point anywhere.
    assert is_loopback(name) is (name == "localhost" or name.endswith(".localhost"))
    assert is_loopback(name + ".localhost") is True


@pytest.mark.parametrize(
    ("bind", "flag", "shown"),
    [
        ("localhost", None, True),
        ("127.0.0.1", None, True),
        ("::1", None, True),
        ("0.0.0.0", None, False),
        ("", None, False),
        ("192.168.1.20", None, False),
        ("example.org", None, False),
        ("0.0.0.0", True, True),
        ("localhost", False, False),
    ],
)
def test_debug_page_default_follows_the_bind_address(
    bind: str, flag: bool | None, shown: bool
) -> None:
    assert debug_page_on(ServeOptions(bind=bind, debug_page=flag)) is shown


@pytest.mark.parametrize("server", ["waitress", "gunicorn"])
def test_production_servers_on_loopback_show_no_developer_page(server: str) -> None:
    # 127.0.0.1 behind nginx is the deployment the READMEs describe: every visitor's
    # request comes from loopback there.
    assert not debug_page_on(ServeOptions(bind="127.0.0.1", debug_page=None, server=server))
    assert not compiles_on_demand(ServeOptions(bind="127.0.0.1", debug_page=None, server=server))
    assert debug_page_on(ServeOptions(bind="127.0.0.1", debug_page=True, server=server))


def test_on_demand_compile_is_for_development_only() -> None:
    assert compiles_on_demand(ServeOptions(debug_page=None))  # tincan serve on localhost
    assert compiles_on_demand(ServeOptions(bind="0.0.0.0", debug_page=None, reload=True))
    assert not compiles_on_demand(ServeOptions(bind="0.0.0.0", debug_page=None))
    assert not compiles_on_demand(ServeOptions())  # the compatible launch command
    assert not compiles_on_demand(ServeOptions(debug_page=True, compile=True))
    assert not compiles_on_demand(ServeOptions(debug_page=True, server="gunicorn"))


# -- real servers ------------------------------------------------------------------------------
@pytest.mark.slow
def test_runtime_500_shows_the_developer_page_on_loopback(
    start_server: Any, tincan_cmd: Any, make_webapp: Any
) -> None:
    root = make_webapp(RUNTIME_ERROR)
    server = start_server(tincan_cmd("serve", str(root)))
    page = server.get("/fails.pspx")
    assert page.status_code == 500
    assert "ZeroDivisionError" in page.text
    assert "fails.py:6" in page.text
    assert "self.ratio = 1 / 0" in page.text  # the source of the failing line
    server.stop()

    plain = start_server(tincan_cmd("serve", "--no-debug-page", str(root)))
    page = plain.get("/fails.pspx")
    assert page.status_code == 500
    assert "ZeroDivisionError" not in page.text and str(root) not in page.text
    plain.stop()


@pytest.mark.slow
def test_launch_command_never_shows_the_developer_page(
    start_server: Any, launch_script: Path, make_webapp: Any
) -> None:
    root = make_webapp(RUNTIME_ERROR)
    server = start_server([str(launch_script), str(root)])
    page = server.get("/fails.pspx")
    assert page.status_code == 500
    assert "ZeroDivisionError" not in page.text and str(root) not in page.text
    server.stop()


@pytest.mark.slow
def test_serve_starts_with_broken_pages_and_shows_their_errors(
    start_server: Any, tincan_cmd: Any, make_webapp: Any
) -> None:
    root = make_webapp(BROKEN)
    server = start_server(tincan_cmd("serve", str(root)))
    assert server.get("/").text.strip() == "<p>home</p>"

    header = server.get("/header.pspx")
    assert header.status_code == 500
    assert f"{root / 'header.pspx'}:2" in header.text
    assert "unknown directive #bogus" in header.text
    assert "#rem fine" in header.text  # the lines around it

    template = server.get("/template.pspx")
    assert template.status_code == 500
    assert f"{root / 'template.pspx'}:3" in template.text
    assert re.search(r'class="line hit">3 +&lt;p tal:content', template.text)

    # An exception raised while importing a WEB-INF/lib module: the module's own line too.
    codebehind = server.get("/codebehind.pspx")
    assert codebehind.status_code == 500
    assert f"{root / 'codebehind.py'}:2" in codebehind.text
    assert f"{root / 'WEB-INF/lib/devmode_helper.py'}:2" in codebehind.text
    assert "helper is broken" in codebehind.text

    poll(lambda: "all 4 page(s) compiled" in server.stderr, "background compile", server)
    finished = server.stop()
    assert finished.returncode == 0
    assert "1 error(s) detected, serving the other pages (they show their errors)" in (
        finished.stderr
    )
    for line in (
        f"{root / 'header.pspx'}:2: unknown directive #bogus",
        f"{root / 'template.pspx'}:3: template error",
        f"{root / 'codebehind.py'}:2: code-behind failed to load: RuntimeError",
    ):
        assert finished.stderr.count(line) == 1, line
    assert "Traceback" not in finished.stderr


@pytest.mark.slow
def test_a_webapp_without_a_session_key_gets_one_per_process(
    start_server: Any, tincan_cmd: Any, make_webapp: Any
) -> None:
    root = make_webapp(COUNTER)
    server = start_server(tincan_cmd("serve", str(root)))
    first = server.get("/")
    assert first.text.strip() == "<p>visits 1</p>"
    cookie = first.headers["set-cookie"].split(";", 1)[0]
    again = httpx.get(server.url + "/", headers={"Cookie": cookie}, timeout=10)
    assert again.text.strip() == "<p>visits 2</p>"
    finished = server.stop()
    assert finished.stderr.count("warning: no session key configured") == 1

    # Another process, another key: the old cookie is an empty session there.
    other = start_server(tincan_cmd("serve", str(root)))
    assert (
        httpx.get(other.url + "/", headers={"Cookie": cookie}, timeout=10).text.strip()
        == "<p>visits 1</p>"
    )
    other.stop()


@pytest.mark.slow
def test_a_configured_key_is_used_and_no_warning_printed(
    start_server: Any, tincan_cmd: Any, make_webapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINCAN_SECRET_KEY", "a-key-that-is-long-enough-0123456789")
    root = make_webapp(COUNTER)
    servers = [start_server(tincan_cmd("serve", str(root))) for _ in range(2)]
    cookie = servers[0].get("/").headers["set-cookie"].split(";", 1)[0]
    # The same key in both processes: one reads the other's session.
    assert (
        httpx.get(servers[1].url + "/", headers={"Cookie": cookie}, timeout=10).text.strip()
        == "<p>visits 2</p>"
    )
    for server in servers:
        assert "no session key configured" not in server.stop().stderr


def test_the_random_key_is_set_while_serving_and_taken_back(
    make_webapp: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tincan_cli._serve import session_secret

    monkeypatch.delenv("TINCAN_SECRET_KEY", raising=False)
    root = make_webapp(COUNTER)
    with session_secret(str(root)):
        key = os.environ["TINCAN_SECRET_KEY"]
        assert len(key) >= 32
    assert "TINCAN_SECRET_KEY" not in os.environ  # the caller's environment as it was
    assert "no session key configured" in capsys.readouterr().err
    monkeypatch.setenv("TINCAN_SECRET_KEY", "a-key-that-is-long-enough-0123456789")
    with session_secret(str(root)):
        assert os.environ["TINCAN_SECRET_KEY"] == "a-key-that-is-long-enough-0123456789"
    assert os.environ["TINCAN_SECRET_KEY"] == "a-key-that-is-long-enough-0123456789"
    assert "no session key configured" not in capsys.readouterr().err


@pytest.mark.slow
def test_concurrent_first_requests_over_http_compile_a_page_once(
    start_server: Any, tincan_cmd: Any, make_webapp: Any, tmp_path: Path
) -> None:
    log = tmp_path / "imports.log"
    slow = (
        "import time\nfrom tincan import Page\n"
        f"with open({str(log)!r}, 'a') as f:\n    f.write('imported\\n')\n"
        "time.sleep(1)\n\n\nclass Slow(Page):\n    word = 'ready'\n"
    )
    root = make_webapp({"index.pspx": "<p>home</p>\n", "slow.pspx": "<p>${word}</p>\n",
                        "slow.py": slow})  # fmt: skip
    server = start_server(tincan_cmd("serve", str(root)))
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: server.get("/slow.pspx"), range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert {a.text.strip() for a in answers} == {"<p>ready</p>"}
    assert log.read_text() == "imported\n"
    assert server.stop(signal.SIGINT).returncode == 0


@pytest.mark.slow
def test_waitress_serves_on_demand_too(
    start_server: Any, tincan_cmd: Any, make_webapp: Any
) -> None:
    pytest.importorskip("waitress")
    root = make_webapp(BROKEN)
    server = start_server(tincan_cmd("serve", "--server", "waitress", "--reload", str(root)))
    assert server.get("/").text.strip() == "<p>home</p>"
    page = server.get("/template.pspx")
    assert page.status_code == 500
    assert f"{root / 'template.pspx'}:3" in page.text
    assert server.stop().returncode == 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        found.extend(int(child) for child in text.split())
    return found


needs_children = pytest.mark.skipif(
    not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
    reason="needs Linux's /proc/PID/task/TID/children",
)


def _compiling(start_server: Any, tincan_cmd: Any, make_webapp: Any) -> tuple[Any, list[int]]:
    """A development server in the middle of its background compile, and its workers."""
    rows = "".join(f"<tr><td>${{page.request.path}}</td><td>{n}</td></tr>\n" for n in range(60))
    pages = {f"p{n}.pspx": f"<table>\n{rows}</table>\n" for n in range(80)}
    root = make_webapp({"index.pspx": "<p>home</p>\n", **pages})
    server = start_server(tincan_cmd("serve", str(root)))
    assert server.get("/p7.pspx").status_code == 200
    workers = _children(server.process.pid)
    assert workers, "the background compile had no worker processes"
    return server, workers


def _wait_gone(workers: list[int], what: str) -> None:
    deadline = time.monotonic() + POLL_BOUND
    while any(_alive(pid) for pid in workers):
        if time.monotonic() > deadline:
            pytest.fail(f"worker processes {workers} outlived {what}")
        time.sleep(0.1)


@pytest.mark.slow
@needs_children
def test_stopping_during_the_background_compile_ends_its_workers(
    start_server: Any, tincan_cmd: Any, make_webapp: Any
) -> None:
    server, workers = _compiling(start_server, tincan_cmd, make_webapp)
    finished = server.stop(signal.SIGINT)
    assert finished.returncode == 0
    assert "Traceback" not in finished.stderr
    _wait_gone(workers, "the server")


@pytest.mark.slow
@needs_children
def test_a_killed_server_leaves_no_compile_workers_behind(
    start_server: Any, tincan_cmd: Any, make_webapp: Any
) -> None:
    # SIGKILL (or the OOM killer) gives the server no chance to stop its workers.
    server, workers = _compiling(start_server, tincan_cmd, make_webapp)
    server.process.kill()
    server.process.wait()
    _wait_gone(workers, "the killed server")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its new parent to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.slow
def test_the_random_session_key_survives_a_reload(
    start_server: Any, tincan_cmd: Any, make_webapp: Any
) -> None:
    root = make_webapp(COUNTER)
    server = start_server(tincan_cmd("serve", "--reload", str(root)))
    cookie = server.get("/").headers["set-cookie"].split(";", 1)[0]
    (root / "index.pspx").write_text("<p>visits now ${page.visits}</p>\n")
    poll(lambda: "visits now" in server.get("/").text, "reload", server)
    again = httpx.get(server.url + "/", headers={"Cookie": cookie}, timeout=10)
    assert again.text.strip() == "<p>visits now 2</p>"
    assert server.stop().stderr.count("warning: no session key configured") == 1
