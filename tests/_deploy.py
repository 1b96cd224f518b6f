"""What the deployment tests (nginx, Apache) share: ports, processes, the reference
server, and comparing what a deployed server answers with what TinCan answers."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tincan_static import main_server_config

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo"
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None and process.returncode != 0:
            raise AssertionError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """End a server: ``sig``, then a kill if it has not exited within ``timeout`` s."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_config(*args: str) -> str:
    """``tincan server-config ...`` output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main_server_config(list(args))
    assert status == 0
    return out.getvalue()


def copy_demo(dest: Path, *, own_database: bool = True) -> Path:
    """A private copy of the demo (its caches are written by launches).

    Its guestbook database is a file beside the copy, so tests leave nothing in the
    shared temporary directory; ``own_database=False`` keeps the demo's default (a
    file per user there), for servers that run as another user than the tests.
    """
    shutil.copytree(DEMO, dest, ignore=shutil.ignore_patterns(".tincan-cache", "__pycache__"))
    if not own_database:
        return dest
    settings = dest / "WEB-INF" / "tincan.toml"
    text = settings.read_text(encoding="utf-8")
    database = dest.parent / f"{dest.name}-guestbook.sqlite"
    line = f"database = {json.dumps(str(database))}"
    if "\n# database = " in text:
        settings.write_text(
            re.sub(r"\n# database = [^\n]*", lambda _: "\n" + line, text, count=1),
            encoding="utf-8",
        )
    return dest


# The reference: the tree under launch(static=True) in a process of its own, so its
# per-process state starts fresh like the deployed workers' (and never touches this one).
_REFERENCE = """
import json, sys
import tincan
from tincan_core import make_server
app, errors = tincan.launch(sys.argv[1], sys.argv[2], static=True)
server = make_server(app, "127.0.0.1", 0)
routes = [[info.path, info.kind, info.file] for info in app.route_info]
print(json.dumps({"port": server.server_address[1], "routes": routes}), flush=True)
server.serve_forever()
"""


@dataclass
class Reference:
    process: subprocess.Popen[bytes]
    port: int
    routes: dict[str, tuple[str, str]]  # URL path -> (kind, file)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def start_reference(webapp: Path, urlroot: str, log: Path) -> Reference:
    process = subprocess.Popen(
        [sys.executable, "-c", _REFERENCE, str(webapp), urlroot],
        stdout=subprocess.PIPE, stderr=log.open("wb"),
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait()
        raise AssertionError(f"the reference server did not start:\n{log.read_text()}")
    info = json.loads(line)
    routes = {path: (kind, file) for path, kind, file in info["routes"]}
    return Reference(process, int(info["port"]), routes)


def fetch(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    """GET ``path`` exactly as written (no client-side normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def quote_url(path: str) -> str:
    return quote(path, safe="/?=&")


def routed_urls(routes: dict[str, tuple[str, str]], urlroot: str) -> list[str]:
    """Every URL launch(static=True) routes, plus a few it does not, quoted."""
    urls = {path for path, (kind, _) in routes.items() if kind in ("page", "index", "static")}
    prefix = urlroot.rstrip("/")
    urls |= {f"{prefix}/no-such-page.pspx", f"{prefix}/no/such/file.css", f"{prefix}/static/"}
    return sorted(quote_url(url) for url in urls)


def source_marker(path: Path) -> bytes:
    """Bytes that appear in a response only if the file's source is shown: a page's
    first header line (its body is meant to be rendered), else the file's start."""
    data = path.read_bytes().strip()
    if path.suffix == ".pspx":
        first = data.splitlines()[0] if data else b""
        return first if first.startswith(b"#") else b""
    return data[:60]


# Per-process data (the demo's guestbook is seeded when a process starts) differs
# between the reference and each deployed worker only in its timestamps.
_TIMESTAMPS = re.compile(
    rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d)?|\d\d \w{3} \d{4}, \d\d:\d\d UTC"
)


def same_page(a: bytes, b: bytes) -> bool:
    return _TIMESTAMPS.sub(b"<time>", a) == _TIMESTAMPS.sub(b"<time>", b)


# Editor, patch and backup copies a deployment must never show (SPEC §1): planted in
# the webapp before install-static, each beside the source it copies.
PLANTED = "planted-copy"
EDITOR_COPIES = {
    "index.py~": "index.py",
    "guestbook.pspx.bak": "guestbook.pspx",
    "entry.py.orig": "entry.py",
    "#index.py#": "index.py",
    "about/index.pspx.swp": "about/index.pspx",
    "theme.py.BAK": "theme.py",
    "entries.py.js": "entries.py",
    "crash.py.rej": "crash.py",
    "WEB-INF.bak/lib/planted-copy.py": "index.py",
    "Web-Inf-old/planted-copy.txt": "index.py",
    "WEB-INF.zip": "index.py",
}


def plant_editor_copies(webapp: Path) -> None:
    """Write every copy of ``EDITOR_COPIES`` into a copy of the demo; each ends with a
    ``# planted-copy`` line that appears nowhere else."""
    for copy, source in EDITOR_COPIES.items():
        path = webapp / copy
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((webapp / source).read_bytes() + f"\n# {PLANTED}\n".encode())


def ensure_debian_package(binary: str, packages: tuple[str, ...]) -> str:
    """The path of ``binary``, installing the first installable of ``packages`` with
    apt-get if needed (as root); the calling test is skipped, saying why, where that
    is impossible."""
    import pytest

    found = shutil.which(binary, path=SBIN_PATH)
    if found:
        return found
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip(f"{binary} is not installed and the tests do not run as root to install it")
    if not shutil.which("apt-get"):
        pytest.skip(f"{binary} is not installed and there is no apt-get to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update = subprocess.run(
        ["apt-get", "update", "-q"], env=env, capture_output=True, text=True, timeout=600
    )
    if update.returncode != 0:
        pytest.skip(f"apt-get update failed, cannot install {binary}: {update.stderr[-500:]}")
    failures = []
    for package in packages:
        result = subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", package],
            env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        if result.returncode == 0:
            break
        failures.append(f"{package}: {result.stderr.strip()[-300:]}")
    found = shutil.which(binary, path=SBIN_PATH)
    if not found:
        pytest.skip(f"could not install {binary} with apt-get: {'; '.join(failures)}")
    return found


def start_nginx(binary: str, prefix: Path, site: str) -> subprocess.Popen[bytes]:
    """nginx in the foreground with ``site`` (a generated server block) inside a minimal
    main configuration under ``prefix``; checked with ``nginx -t`` first."""
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    (prefix / "tmp").mkdir(exist_ok=True)
    (prefix / "site.conf").write_text(site)
    (prefix / "nginx.conf").write_text(
        "user root;\nworker_processes 1;\npid nginx.pid;\nerror_log logs/error.log warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        "    access_log logs/access.log;\n"
        f"    client_body_temp_path {prefix}/tmp;\n    proxy_temp_path {prefix}/tmp;\n"
        "    include site.conf;\n}\n"
    )
    config = ["-p", str(prefix), "-c", str(prefix / "nginx.conf")]
    check = subprocess.run([binary, "-t", *config], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr + "\n" + site
    log = prefix / "nginx.log"
    return subprocess.Popen(
        [binary, *config, "-g", "daemon off;"], stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
