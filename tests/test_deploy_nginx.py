"""The two-directory deployment, for real: Debian's nginx in front, gunicorn behind.

``install-static`` fills the static directory from a copy of ``examples/demo``;
``server-config nginx`` and ``server-config wsgi`` write the configuration and the
WSGI script; nginx (started here, on a free loopback port) serves the static files
and proxies the rest to gunicorn (two prefork workers). Every URL of the demo must
answer through nginx as it does under ``launch(static=True)``; static files must
never reach the application; no private file may be reachable, however spelled,
editor and backup copies of the sources included. Requests for any other host
name get 421 and never reach the application, and the forwarded headers the
application sees are nginx's own, never the client's.

nginx is installed with apt-get when missing (once per test session, as root);
where that is impossible the tests are skipped, saying why.
"""

from __future__ import annotations

import gzip
import http.client
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tincan_static import main_install_static

from tests._deploy import (
    EDITOR_COPIES,
    PLANTED,
    VENV_BIN,
    copy_demo,
    ensure_debian_package,
    fetch,
    free_port,
    plant_editor_copies,
    quote_url,
    routed_urls,
    same_page,
    server_config,
    source_marker,
    start_reference,
    stop,
    wait_for_port,
)

# Real web servers and gunicorn on loopback ports, installed with apt-get when missing.
pytestmark = pytest.mark.slow


FORWARDED_HEADERS = ("host", "x-forwarded-host", "x-forwarded-for", "x-forwarded-proto",
                     "x-forwarded-port", "x-forwarded-prefix", "forwarded")  # fmt: skip
ACCESS_LOG_FORMAT = "%(r)s %(s)s " + " ".join(f"{h}=[%({{{h}}}i)s]" for h in FORWARDED_HEADERS)


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    return ensure_debian_package("nginx", ("nginx-light", "nginx"))


@dataclass
class Deployment:
    urlroot: str
    webapp: Path
    static: Path
    nginx_port: int
    reference_port: int
    app_log: Path
    routes: dict[str, tuple[str, str]]


@pytest.fixture(scope="module", params=["/", "/site"], ids=["urlroot=/", "urlroot=/site"])
def deployment(
    request: pytest.FixtureRequest, nginx_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    urlroot: str = request.param
    base = tmp_path_factory.mktemp("deploy")
    webapp = copy_demo(base / "webapp")
    plant_editor_copies(webapp)
    static = base / "static"
    assert main_install_static(["-q", "--compress", str(webapp), str(static)]) == 0
    assert not any(static.rglob(f"*{PLANTED}*")), "install-static copied a backup"

    # The application: the generated WSGI script under gunicorn, two prefork workers.
    app_port = free_port()
    app_dir = base / "wsgi"
    app_dir.mkdir()
    (app_dir / "wsgi.py").write_text(
        server_config("wsgi", "--webapp", str(webapp), "--urlroot", urlroot)
    )
    app_log = base / "access.log"
    gunicorn_log = base / "gunicorn.log"
    gunicorn = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{app_port}",
         "--chdir", str(app_dir), "--access-logfile", str(app_log),
         "--access-logformat", ACCESS_LOG_FORMAT, "wsgi:application"],
        stdout=gunicorn_log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip

    # nginx: the generated server block inside a minimal main configuration.
    nginx_port = free_port()
    prefix = base / "nginx"
    (prefix / "logs").mkdir(parents=True)
    site = server_config(
        "nginx", "--urlroot", urlroot, "--static-dir", str(static), "--webapp", str(webapp),
        "--app-url", f"http://127.0.0.1:{app_port}", "--listen", f"127.0.0.1:{nginx_port}",
        "--server-name", "localhost", "--server-name", "127.0.0.1", "--gzip-static",
    )  # fmt: skip
    (prefix / "site.conf").write_text(site)
    (prefix / "nginx.conf").write_text(
        "user root;\nworker_processes 1;\npid nginx.pid;\nerror_log logs/error.log warn;\n"
        "events { worker_connections 64; }\n"
        "http {\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        "    access_log logs/access.log;\n"
        f"    client_body_temp_path {prefix}/tmp;\n    proxy_temp_path {prefix}/tmp;\n"
        "    include site.conf;\n}\n"
    )
    (prefix / "tmp").mkdir()
    check = subprocess.run(
        [nginx_binary, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr + "\n" + site
    nginx_log = base / "nginx.log"
    nginx = subprocess.Popen(
        [nginx_binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        stdout=nginx_log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip

    reference = start_reference(webapp, urlroot, base / "reference.log")
    try:
        wait_for_port(app_port, gunicorn, gunicorn_log)
        wait_for_port(nginx_port, nginx, nginx_log)
        yield Deployment(
            urlroot, webapp, static, nginx_port, reference.port, app_log, reference.routes
        )
    finally:
        reference.stop()
        stop(nginx)
        stop(gunicorn)


def test_every_url_answers_as_under_launch_static(deployment: Deployment) -> None:
    d = deployment
    mismatches = []
    urls = routed_urls(d.routes, d.urlroot)
    assert len(urls) > 5
    for url in urls:
        ref_status, ref_body, _ = fetch(d.reference_port, url)
        _again_status, again_body, _ = fetch(d.reference_port, url)
        status, body, headers = fetch(d.nginx_port, url)
        if status != ref_status:
            mismatches.append(f"{url}: status {status} through nginx, {ref_status} in TinCan")
        elif same_page(ref_body, again_body) and not same_page(body, ref_body):
            mismatches.append(f"{url}: body differs through nginx")
        assert headers.get("server") == "nginx"
    assert not mismatches, "\n".join(mismatches)


def test_static_files_are_served_by_nginx_not_the_application(deployment: Deployment) -> None:
    d = deployment
    statics = sorted(
        p.relative_to(d.static).as_posix()
        for p in d.static.rglob("*")
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".gz")
    )
    assert statics, "the demo has static files"
    prefix = d.urlroot.rstrip("/")
    for relpath in statics:
        status, body, _ = fetch(d.nginx_port, quote_url(f"{prefix}/{relpath}"))
        assert status == 200 and body == (d.webapp / relpath).read_bytes()
    page_status, _, _ = fetch(d.nginx_port, quote_url(f"{prefix}/index.pspx"))
    assert page_status == 200
    seen = wait_for_log_line(d.app_log, "/index.pspx")
    for relpath in statics:
        assert quote_url(f"{prefix}/{relpath}") not in seen, f"{relpath} reached the application"


def wait_for_log_line(log: Path, needle: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        if needle in text:
            return text
        time.sleep(0.05)
    raise AssertionError(f"{needle} never reached the application log")


def test_compressed_siblings_are_negotiated(deployment: Deployment) -> None:
    d = deployment
    gz = sorted(d.static.rglob("*.css.gz"))
    if not gz:
        pytest.skip("the demo has no stylesheet large enough to compress")
    original = gz[0].with_suffix("")
    url = quote_url(d.urlroot.rstrip("/") + "/" + original.relative_to(d.static).as_posix())
    status, body, headers = fetch(d.nginx_port, url, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("content-encoding") == "gzip"
    assert gzip.decompress(body) == original.read_bytes()
    status, body, headers = fetch(d.nginx_port, url)
    assert "content-encoding" not in headers and body == original.read_bytes()


def hostile_urls(d: Deployment) -> list[str]:
    prefix = d.urlroot.rstrip("/")
    private = [
        p.relative_to(d.webapp).as_posix()
        for p in d.webapp.rglob("*")
        if p.is_file() and not (d.static / p.relative_to(d.webapp)).exists()
    ]
    urls = [f"{prefix}/.tincan-static-manifest.json", "/.tincan-static-manifest.json"]
    for relpath in private:
        plain = quote_url(f"{prefix}/{relpath}")
        urls += [
            plain,
            plain.upper(),
            plain.replace("WEB-INF", "web-inf"),
            plain.replace("WEB-INF", "WEB%2DINF"),
            plain.replace(".", "%2e"),
            plain.replace("/", "%2f").replace("%2f", "/", 1),
            plain.replace("/", "//"),
            plain.replace("/", "/./"),
            plain + ".",
            plain + "%00",
            plain + "%00.css",
            plain.replace("/", "\\"),
            f"{prefix}/static/..%2f{quote_url(relpath)}",
            f"{prefix}/static/../{quote_url(relpath)}",
            f"{prefix}/static%2f..%2f{quote_url(relpath)}",
        ]
    return urls


def test_no_private_file_is_reachable(deployment: Deployment) -> None:
    d = deployment
    secrets = {
        p: source_marker(p)
        for p in d.webapp.rglob("*")
        if p.is_file() and p.suffix in (".py", ".pt", ".pspx") and len(source_marker(p)) >= 12
    }
    secrets |= {d.webapp / copy: f"# {PLANTED}".encode() for copy in EDITOR_COPIES}
    assert secrets
    leaks = []
    for url in hostile_urls(d):
        status, body, _ = fetch(d.nginx_port, url)
        for path, secret in secrets.items():
            if secret in body:
                leaks.append(f"{url} -> {status} shows {path.name}")
        if status == 200 and b"tincan-static-manifest" in body:
            leaks.append(f"{url} shows the install manifest")
    assert not leaks, "\n".join(leaks)


def test_private_names_are_refused_even_inside_the_static_directory(
    deployment: Deployment,
) -> None:
    """Defence in depth: a source file copied into the static directory by mistake
    is still never served."""
    d = deployment
    planted = {
        "WEB-INF/lib/planted.py": "planted secret one",
        "deep/web-inf/planted.txt": "planted secret two",
        "deep/__pycache__/planted.txt": "planted secret three",
        "planted.PY": "planted secret four",
        "planted.pt": "planted secret five",
        "planted.pyc": "planted secret six",
        ".planted": "planted secret seven",
        "deep/.git/config": "planted secret eight",
        "planted.Pspx": "planted secret nine",
        "index.py~": "planted secret ten",
        "page.pspx.bak": "planted secret eleven",
        "#index.py#": "planted secret twelve",
        "x.py.js": "planted secret thirteen",
        "style.css.orig": "planted secret fourteen",
        "WEB-INF.bak/config.txt": "planted secret fifteen",
        "deep/Web-Inf-old/x.txt": "planted secret sixteen",
        "about.pspx.SWP": "planted secret seventeen",
    }
    for relpath, text in planted.items():
        path = d.static / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    prefix = d.urlroot.rstrip("/")
    try:
        for relpath in planted:
            plain = quote_url(f"{prefix}/{relpath}")
            for url in (plain, plain.replace(".", "%2E")):
                status, body, _ = fetch(d.nginx_port, url)
                assert status == 404 and b"planted secret" not in body, url
    finally:
        for relpath in planted:
            (d.static / relpath).unlink()


def test_editor_and_backup_copies_are_404_in_every_spelling(deployment: Deployment) -> None:
    """Not installed, refused by name, and not found by the application either."""
    d = deployment
    prefix = d.urlroot.rstrip("/")
    for copy in EDITOR_COPIES:
        plain = quote_url(f"{prefix}/{copy}")
        for url in (plain, plain.upper(), plain.replace(".", "%2e"), plain.replace("/", "//")):
            status, body, _ = fetch(d.nginx_port, url)
            assert status == 404, (url, status)
            assert f"# {PLANTED}".encode() not in body, url


def fetch_as(
    port: int, host: str | None, path: str, headers: dict[str, str] | None = None
) -> tuple[int | None, bytes]:
    """GET with exactly the given Host header (None: no Host header at all, as HTTP/1.0
    allows); status None when nginx closed the connection without an answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            conn.putheader("Host", host)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    except (http.client.RemoteDisconnected, ConnectionResetError):
        return None, b""
    finally:
        conn.close()


def app_log_line(d: Deployment, path: str) -> str | None:
    """The application's access-log line for ``path`` (the last one), if it got there."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [line for line in d.app_log.read_text().splitlines() if f"GET {path} " in line]
        if lines:
            return lines[-1]
        time.sleep(0.05)
    return None


def test_unknown_host_names_get_421_and_never_reach_the_application(
    deployment: Deployment,
) -> None:
    d = deployment
    prefix = d.urlroot.rstrip("/")
    for number, host in enumerate(
        ["evil.example", f"evil.example:{d.nginx_port}", "localhost.evil.example", "", None]
    ):
        path = f"{prefix}/index.pspx?unknown-host={number}"
        status, body = fetch_as(d.nginx_port, host, path)
        # 400 is nginx's own answer to a missing or empty Host in HTTP/1.1.
        assert status == (421 if host else 400), (host, status)
        assert b"tincan" not in body.lower() and b"guestbook" not in body.lower(), host
    # Known names are served (the positive control), in any case and with a port.
    for number, host in enumerate(["localhost", f"LOCALHOST:{d.nginx_port}", "127.0.0.1"]):
        path = f"{prefix}/index.pspx?known-host={number}"
        status, _ = fetch_as(d.nginx_port, host, path)
        assert status == 200, host
        assert app_log_line(d, path) is not None
    assert "unknown-host" not in d.app_log.read_text()  # logged before the known ones, if at all


def test_the_application_hears_nginx_not_the_client_about_forwarding(
    deployment: Deployment,
) -> None:
    d = deployment
    path = d.urlroot.rstrip("/") + "/index.pspx?forged=1"
    forged = {
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-For": "203.0.113.66",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "6666",
        "X-Forwarded-Prefix": "/evil",
        "Forwarded": "for=203.0.113.66;host=evil.example;proto=https",
    }
    # The port part of Host is not checked by server_name: "localhost:@evil.example"
    # would make Bottle build http://localhost:@evil.example/... URLs.
    status, _ = fetch_as(d.nginx_port, "localhost:@evil.example", path, forged)
    assert status == 200
    line = app_log_line(d, path)
    assert line is not None
    seen = dict(re.findall(r"([a-z-]+)=\[([^\]]*)\]", line))
    own = f"localhost:{d.nginx_port}"
    assert seen == {
        "host": own,
        "x-forwarded-host": own,
        "x-forwarded-for": "127.0.0.1",
        "x-forwarded-proto": "http",
        "x-forwarded-port": str(d.nginx_port),
        "x-forwarded-prefix": "-",
        "forwarded": "-",
    }, line
    assert "evil" not in line and "203.0.113.66" not in line
