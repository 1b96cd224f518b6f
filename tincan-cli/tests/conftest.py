"""Fixtures of tincan-cli's tests: webapp trees on disk and commands run as real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, settings

# The repository's hypothesis profiles, here too so that these tests behave the same
# in an unpacked sdist: no deadline (test machines are busy); the property tests share
# function-scoped fixtures (tmp_path, factories) between examples on purpose.
settings.register_profile(
    "default",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config: pytest.Config) -> None:
    # The repository registers this marker in its pyproject.toml; an unpacked sdist
    # has only this file.
    config.addinivalue_line("markers", "slow: real servers, browsers or wheel builds")


WebappFactory = Callable[..., Path]

BIN_DIR = Path(sys.executable).parent
STARTUP_BOUND = 60.0  # seconds; generous, the machine may be busy


def write_files(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for relpath, content in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def make_webapp(tmp_path: Path) -> WebappFactory:
    """``make_webapp(files, name="site", webapp=True)``: a tree under ``tmp_path``."""

    def factory(
        files: Mapping[str, str | bytes], name: str = "site", *, webapp: bool = True
    ) -> Path:
        root = tmp_path / name
        root.mkdir(parents=True)
        if webapp:
            (root / "WEB-INF").mkdir()
        return write_files(root, files)

    return factory


BASIC_FILES = {
    "index.pspx": "#rem the home page\n<p>home ${word}</p>\n",
    "index.py": "from tincan import Page\n\n\nclass Home(Page):\n    word = 'alpha'\n",
    "about.pspx": "<p>about</p>\n",
    "style.css": "body { color: black }\n",
}
BROKEN_PAGE = "#bogus directive\n<p>never</p>\n"


@pytest.fixture
def basic_webapp(make_webapp: WebappFactory) -> Path:
    """A small valid webapp: an index page with code-behind, a plain page, a stylesheet."""
    return make_webapp(BASIC_FILES)


@pytest.fixture
def broken_webapp(make_webapp: WebappFactory) -> Path:
    """The basic webapp plus one page with a header error (``broken.pspx:1``)."""
    return make_webapp({**BASIC_FILES, "broken.pspx": BROKEN_PAGE})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str


class ServerProcess:
    """A command that serves on 127.0.0.1:``port``, with its output in files."""

    def __init__(self, argv: list[str], port: int, workdir: Path, cwd: Path | None = None) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._out = workdir / f"stdout-{port}.txt"
        self._err = workdir / f"stderr-{port}.txt"
        with self._out.open("wb") as out, self._err.open("wb") as err:
            self.process = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd)

    @property
    def stdout(self) -> str:
        return self._out.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self._err.read_text(encoding="utf-8", errors="replace")

    def wait_until_serving(self) -> None:
        """Poll until the port answers; fail with the output if the process ends first."""
        deadline = time.monotonic() + STARTUP_BOUND
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"server exited with {self.process.returncode}\n"
                    f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
                )
            try:
                httpx.get(self.url + "/", timeout=5)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail(f"server did not answer within {STARTUP_BOUND} s\nstderr:\n{self.stderr}")

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10)

    def stop(self, sig: int = signal.SIGINT) -> Finished:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=STARTUP_BOUND)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"server did not stop on signal {sig}\nstderr:\n{self.stderr}")
        return Finished(code, self.stdout, self.stderr)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """``start_server(argv_before_port, port=None)``: run ``argv + ["-p", port]`` until
    the port answers. Processes still running at the end of the test are killed."""
    started: list[ServerProcess] = []

    def start(argv: list[str], *, port: int | None = None, wait: bool = True) -> ServerProcess:
        chosen = port or free_port()
        server = ServerProcess([*argv, "-b", "127.0.0.1", "-p", str(chosen)], chosen, tmp_path)
        started.append(server)
        if wait:
            server.wait_until_serving()
        return server

    yield start
    for server in started:
        server.kill()


def tincan_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "tincan_cli", *args]


@pytest.fixture
def tincan_cmd() -> Callable[..., list[str]]:
    """``tincan_cmd("serve", ...)``: the argv running ``python -m tincan_cli ...``."""
    return tincan_argv


@pytest.fixture
def launch_script() -> Path:
    """The installed ``launch`` console script."""
    script = BIN_DIR / ("launch.exe" if os.name == "nt" else "launch")
    if not script.exists():
        pytest.skip(f"the launch script is not installed in {BIN_DIR}")
    return script


@pytest.fixture
def run_tincan() -> Callable[..., Finished]:
    """``run_tincan(*args)``: ``python -m tincan_cli args`` to completion."""

    def run(*args: str, cwd: Path | None = None, timeout: float = 120) -> Finished:
        done = subprocess.run(
            tincan_argv(*args), capture_output=True, text=True, cwd=cwd, timeout=timeout
        )
        return Finished(done.returncode, done.stdout, done.stderr)

    return run
