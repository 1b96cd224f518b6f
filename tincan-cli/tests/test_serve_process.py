"""``tincan serve`` and ``launch`` as real processes on 127.0.0.1, queried with httpx."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def assert_clean_exit(finished: Any) -> None:
    assert finished.returncode == 0, finished.stderr
    assert "Traceback" not in finished.stderr
    assert "Traceback" not in finished.stdout


def test_tincan_serve_serves_pages_and_stops_on_sigint(
    start_server: Any, tincan_cmd: Any, basic_webapp: Path
) -> None:
    server = start_server(tincan_cmd("serve", str(basic_webapp)))
    home = server.get("/")
    assert home.status_code == 200
    assert home.text.strip() == "<p>home alpha</p>"
    assert server.get("/about.pspx").text.strip() == "<p>about</p>"
    assert server.get("/style.css").status_code == 404  # static files need --static
    finished = server.stop(signal.SIGINT)
    assert_clean_exit(finished)
    assert f"Serving {basic_webapp} on http://127.0.0.1:{server.port}/" in finished.stdout
    assert "route GET /index.pspx -> index.pspx" in finished.stderr
    assert '"GET /about.pspx HTTP/1.1" 200' in finished.stderr


def test_launch_script_with_static_and_urlroot_stops_on_sigterm(
    start_server: Any, launch_script: Path, basic_webapp: Path
) -> None:
    server = start_server([str(launch_script), "-s", str(basic_webapp), "/app"])
    assert server.get("/app/").text.strip() == "<p>home alpha</p>"
    css = server.get("/app/style.css")
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert server.get("/index.pspx").status_code == 404
    finished = server.stop(signal.SIGTERM)
    assert_clean_exit(finished)
    assert f"on http://127.0.0.1:{server.port}/app/" in finished.stdout


def test_force_serves_what_launched(
    start_server: Any, launch_script: Path, broken_webapp: Path
) -> None:
    server = start_server([str(launch_script), "-f", str(broken_webapp)])
    assert server.get("/").status_code == 200
    assert server.get("/broken.pspx").status_code == 404
    finished = server.stop()
    assert_clean_exit(finished)
    assert f"{broken_webapp / 'broken.pspx'}:1: unknown directive #bogus" in finished.stderr
    assert "1 error(s) detected, continuing" in finished.stderr


def test_errors_abort_before_serving(
    run_tincan: Any, launch_script: Path, broken_webapp: Path
) -> None:
    # Without the developer error page (not loopback, or --no-debug-page) and without
    # --reload, the launch is complete and its errors stop it.
    done = run_tincan("serve", "--no-debug-page", str(broken_webapp))
    assert done.returncode == 1
    assert done.stderr.rstrip().endswith("1 error(s) detected, aborting")
    assert "Serving" not in done.stdout
    compiled = subprocess.run(
        [str(launch_script), "-c", str(broken_webapp)], capture_output=True, text=True, timeout=120
    )
    assert compiled.returncode == 1
    assert "broken.pspx:1: unknown directive #bogus" in compiled.stderr
    assert "1 error(s) detected, aborting" in compiled.stderr
    assert "Traceback" not in compiled.stderr


def test_bad_usage_exits_2_with_one_line(launch_script: Path) -> None:
    done = subprocess.run(
        [str(launch_script), "--port", "eighty"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr == (
        "launch: error: argument -p/--port: invalid port 'eighty': not a number "
        "(see 'launch --help')\n"
    )


def test_port_in_use_is_one_line_exit_1(run_tincan: Any, basic_webapp: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run_tincan("serve", "-b", "127.0.0.1", "-p", str(port), str(basic_webapp))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"tincan serve: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert "Traceback" not in done.stderr


def test_port_zero_picks_a_free_port_and_prints_it(tmp_path: Path, basic_webapp: Path) -> None:
    out = tmp_path / "out.txt"
    with out.open("wb") as stdout:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tincan_cli",
                "serve",
                "-b",
                "127.0.0.1",
                "-p",
                "0",
                str(basic_webapp),
            ],
            stdout=stdout,
            stderr=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 60
        match = None
        while match is None and time.monotonic() < deadline and process.poll() is None:
            match = re.search(r"on (http://127\.0\.0\.1:(\d+)/)", out.read_text())
            time.sleep(0.05)
        assert match is not None, out.read_text()
        assert int(match.group(2)) > 0
        assert httpx.get(match.group(1), timeout=10).text.strip() == "<p>home alpha</p>"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_waitress(start_server: Any, tincan_cmd: Any, basic_webapp: Path) -> None:
    pytest.importorskip("waitress")
    server = start_server(
        tincan_cmd("serve", "--server", "waitress", "--threads", "2", str(basic_webapp))
    )
    assert server.get("/").text.strip() == "<p>home alpha</p>"
    assert server.get("/").headers["server"] == "tincan"
    assert_clean_exit(server.stop(signal.SIGINT))


def test_gunicorn_prefork_workers(start_server: Any, tincan_cmd: Any, basic_webapp: Path) -> None:
    pytest.importorskip("gunicorn")
    server = start_server(
        tincan_cmd("serve", "--server", "gunicorn", "--workers", "2", str(basic_webapp))
    )
    for _ in range(4):
        assert server.get("/").text.strip() == "<p>home alpha</p>"
    finished = server.stop(signal.SIGTERM)
    assert_clean_exit(finished)
    assert "Booting worker" in finished.stderr


@pytest.mark.skipif(not DEMO.is_dir(), reason="examples/demo is not there")
def test_serves_the_demo(start_server: Any, tincan_cmd: Any, tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo, ignore=shutil.ignore_patterns(".tincan-cache", "__pycache__"))
    server = start_server(tincan_cmd("serve", "--static", str(demo)))
    assert server.get("/").status_code == 200
    assert server.get("/static/style.css").status_code == 200
    assert server.get("/index.py").status_code == 404
    assert server.get("/no/such/page").status_code == 404
    assert_clean_exit(server.stop(signal.SIGINT))
