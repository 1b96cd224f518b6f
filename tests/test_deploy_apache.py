"""The generated Apache configurations, checked by Apache itself.

Both variants pass ``apache2ctl -t``; the two-directory one also runs for real
(Apache with mod_proxy in front of gunicorn) and must answer every URL of the
demo as ``launch(static=True)`` does, without ever showing a private file.

Apache and mod_wsgi are installed with apt-get when missing (once per test
session, as root); where that is impossible the tests are skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from tincan_static import main_install_static

from tests._deploy import (
    EDITOR_COPIES,
    PLANTED,
    SBIN_PATH,
    VENV_BIN,
    copy_demo,
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

MODULES = Path("/usr/lib/apache2/modules")
NEEDED_MODULES = ["mpm_event", "authz_core", "alias", "dir", "mime", "rewrite", "proxy",
                  "proxy_http", "wsgi"]  # fmt: skip


def ensure_apache() -> str:
    """``apache2ctl``, with mod_wsgi, installing Debian's packages when missing."""
    found = shutil.which("apache2ctl", path=SBIN_PATH)
    if found and (MODULES / "mod_wsgi.so").exists():
        return found
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("Apache is not installed and the tests do not run as root to install it")
    if not shutil.which("apt-get"):
        pytest.skip("Apache is not installed and there is no apt-get to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update = subprocess.run(
        ["apt-get", "update", "-q"], env=env, capture_output=True, text=True, timeout=600
    )
    if update.returncode != 0:
        pytest.skip(f"apt-get update failed, cannot install Apache: {update.stderr[-500:]}")
    result = subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "apache2",
         "libapache2-mod-wsgi-py3"],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    found = shutil.which("apache2ctl", path=SBIN_PATH)
    if result.returncode != 0 or not found:
        pytest.skip(f"could not install Apache with apt-get: {result.stderr.strip()[-500:]}")
    return found


@pytest.fixture(scope="session")
def apache2ctl() -> str:
    return ensure_apache()


def main_config(base: Path, site: Path) -> Path:
    """A complete Apache configuration around one generated site file."""
    lines = [f"LoadModule {name}_module {MODULES}/mod_{name}.so" for name in NEEDED_MODULES]
    lines += [
        f"DefaultRuntimeDir {base}/run",
        f"PidFile {base}/apache.pid",
        f"Mutex file:{base}/run default",
        f"ErrorLog {base}/error.log",
        "LogLevel warn",
        "User www-data",
        "Group www-data",
        "ServerName localhost",
        "TypesConfig /etc/mime.types",
        f"Include {site}",
    ]
    (base / "run").mkdir(exist_ok=True)
    conf = base / "apache2.conf"
    conf.write_text("\n".join(lines) + "\n")
    return conf


def config_test(apache2ctl: str, conf: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APACHE_ARGUMENTS": f"-f {conf}"}
    return subprocess.run([apache2ctl, "-t"], env=env, capture_output=True, text=True)


def readable_tempdir() -> Path:
    """A temporary directory Apache's www-data workers can read (pytest's are private)."""
    path = Path(tempfile.mkdtemp(prefix="tincan-apache-"))
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("urlroot", ["/", "/site"])
def test_both_variants_pass_apache2ctl(apache2ctl: str, urlroot: str) -> None:
    base = readable_tempdir()
    try:
        webapp = copy_demo(base / "webapp")
        for name, args in {
            "two-directory": ["--static-dir", str(base / "static"), "--webapp", str(webapp)],
            "single-directory": ["--single-directory", "--webapp", str(webapp)],
        }.items():
            site = base / f"{name}.conf"
            site.write_text(server_config("apache", "--urlroot", urlroot, "--listen",
                                          f"127.0.0.1:{free_port()}", *args))  # fmt: skip
            result = config_test(apache2ctl, main_config(base, site))
            assert result.returncode == 0, f"{name}:\n{result.stderr}\n{site.read_text()}"
            assert "Syntax OK" in result.stdout + result.stderr
    finally:
        shutil.rmtree(base)


def test_a_broken_config_is_caught(apache2ctl: str) -> None:
    """The check above can fail: Apache rejects a damaged generated file."""
    base = readable_tempdir()
    try:
        site = base / "site.conf"
        text = server_config("apache", "--static-dir", str(base), "--listen", "127.0.0.1:8081")
        site.write_text(text.replace("RewriteRule", "RewriteRuel", 1))
        assert config_test(apache2ctl, main_config(base, site)).returncode != 0
    finally:
        shutil.rmtree(base)


@dataclass
class Running:
    urlroot: str
    webapp: Path
    apache_port: int
    reference_port: int
    routes: dict[str, tuple[str, str]]


@pytest.fixture(scope="module", params=["/", "/site"], ids=["urlroot=/", "urlroot=/site"])
def apache_two_directories(apache2ctl: str, request: pytest.FixtureRequest) -> Iterator[Running]:
    urlroot: str = request.param
    base = readable_tempdir()
    # www-data's workers and the tests' reference each keep their own guestbook.
    webapp = copy_demo(base / "webapp", own_database=False)
    plant_editor_copies(webapp)
    static = base / "static"
    assert main_install_static(["-q", str(webapp), str(static)]) == 0
    assert not any(static.rglob(f"*{PLANTED}*")), "install-static copied a backup"
    app_port, apache_port = free_port(), free_port()
    (base / "wsgi").mkdir()
    (base / "wsgi" / "wsgi.py").write_text(
        server_config("wsgi", "--webapp", str(webapp), "--urlroot", urlroot)
    )
    log = base / "gunicorn.log"
    gunicorn = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{app_port}",
         "--chdir", str(base / "wsgi"), "wsgi:application"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    site = base / "site.conf"
    site.write_text(server_config(
        "apache", "--urlroot", urlroot, "--static-dir", str(static), "--webapp", str(webapp),
        "--app-url", f"http://127.0.0.1:{app_port}", "--listen", f"127.0.0.1:{apache_port}",
    ))  # fmt: skip
    conf = main_config(base, site)
    apache_log = base / "error.log"
    apache_log.touch()
    apache = subprocess.Popen(
        [shutil.which("apache2", path=SBIN_PATH) or "apache2", "-f", str(conf), "-DFOREGROUND"],
        stdout=(base / "apache.out").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    reference = start_reference(webapp, urlroot, base / "reference.log")
    try:
        wait_for_port(app_port, gunicorn, log)
        wait_for_port(apache_port, apache, base / "apache.out")
        yield Running(urlroot, webapp, apache_port, reference.port, reference.routes)
    finally:
        reference.stop()
        stop(apache)
        stop(gunicorn)
        shutil.rmtree(base, ignore_errors=True)


def test_apache_answers_every_url_as_launch_static(apache_two_directories: Running) -> None:
    r = apache_two_directories
    mismatches = []
    for url in routed_urls(r.routes, r.urlroot):
        ref_status, ref_body, _ = fetch(r.reference_port, url)
        status, body, _ = fetch(r.apache_port, url)
        if status != ref_status:
            mismatches.append(f"{url}: {status} through Apache, {ref_status} in TinCan")
        elif not same_page(body, ref_body):
            mismatches.append(f"{url}: body differs through Apache")
    assert not mismatches, "\n".join(mismatches)


def test_apache_never_shows_a_private_file(apache_two_directories: Running) -> None:
    r = apache_two_directories
    sources = [
        p for p in r.webapp.rglob("*") if p.is_file() and p.suffix in (".py", ".pt", ".pspx")
    ]
    leaks = []
    for path in sources:
        secret = source_marker(path)
        if len(secret) < 12:
            continue
        plain = quote(r.urlroot.rstrip("/") + "/" + path.relative_to(r.webapp).as_posix())
        variants = [plain, plain.upper(), plain.replace(".", "%2e"), plain.replace("/", "//")]
        variants += [plain + ".", "/static/..%2f" + plain[1:], plain.replace("WEB-INF", "web-inf")]
        for url in variants:
            status, body, _ = fetch(r.apache_port, url)
            if secret in body:
                leaks.append(f"{url} -> {status}")
    assert not leaks, "\n".join(leaks)


def assert_copies_refused(r: Running) -> None:
    """Editor and backup copies of the sources: 403 or 404 in every spelling, never shown."""
    prefix = r.urlroot.rstrip("/")
    for copy in EDITOR_COPIES:
        plain = quote_url(f"{prefix}/{copy}")
        for url in (plain, plain.upper(), plain.replace(".", "%2e"), plain.replace("/", "//")):
            status, body, _ = fetch(r.apache_port, url)
            assert status in (403, 404), (url, status)
            assert f"# {PLANTED}".encode() not in body, url


def test_apache_refuses_editor_and_backup_copies(apache_two_directories: Running) -> None:
    assert_copies_refused(apache_two_directories)


def system_python_matches() -> bool:
    """mod_wsgi embeds Debian's Python; it can import our packages only if it is
    the same minor version as the interpreter running the tests."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return bool(list(Path("/usr/lib").glob(f"*/libpython{version}.so*")))


@pytest.fixture(scope="module")
def apache_single_directory(apache2ctl: str) -> Iterator[Running]:
    if not system_python_matches():
        pytest.skip("mod_wsgi's Python is not the version running the tests")
    urlroot = "/"
    base = readable_tempdir()
    # www-data's workers and the tests' reference each keep their own guestbook.
    webapp = copy_demo(base / "webapp", own_database=False)
    plant_editor_copies(webapp)
    # The reference launch also compiles the pages: the server only reads the cache.
    reference = start_reference(webapp, urlroot, base / "reference.log")
    (base / "webapp-wsgi").mkdir()
    (base / "webapp-wsgi" / "app.wsgi").write_text(server_config("wsgi", "--webapp", str(webapp)))
    port = free_port()
    site = base / "site.conf"
    site_packages = sysconfig.get_paths()["purelib"]
    site.write_text(server_config(
        "apache", "--single-directory", "--webapp", str(webapp), "--urlroot", urlroot,
        "--listen", f"127.0.0.1:{port}", "--python-path", site_packages,
    ))  # fmt: skip
    conf = main_config(base, site)
    subprocess.run(["chmod", "-R", "a+rX", str(base)], check=True)
    out = base / "apache.out"
    apache = subprocess.Popen(
        [shutil.which("apache2", path=SBIN_PATH) or "apache2", "-f", str(conf), "-DFOREGROUND"],
        stdout=out.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(port, apache, out)
        yield Running(urlroot, webapp, port, reference.port, reference.routes)
    finally:
        reference.stop()
        stop(apache)
        shutil.rmtree(base, ignore_errors=True)


def test_mod_wsgi_single_directory_answers_as_launch_static(
    apache_single_directory: Running,
) -> None:
    r = apache_single_directory
    urls = {path for path, (kind, _) in r.routes.items() if kind in ("page", "index", "static")}
    urls |= {"/no-such-page.pspx"}
    mismatches = []
    for url in sorted(urls):
        quoted = quote_url(url)
        ref_status, ref_body, _ = fetch(r.reference_port, quoted)
        status, body, _ = fetch(r.apache_port, quoted)
        kind, file = r.routes.get(url, ("", ""))
        if kind == "index" and not url.endswith("/") and file.endswith((".html", ".htm")):
            assert status == 301  # Apache adds the slash to a static directory (DirectorySlash)
            continue
        if status != ref_status or not same_page(body, ref_body):
            mismatches.append(f"{url}: {status} through Apache, {ref_status} in TinCan")
    assert not mismatches, "\n".join(mismatches)


def test_mod_wsgi_single_directory_never_shows_a_private_file(
    apache_single_directory: Running,
) -> None:
    r = apache_single_directory
    leaks = []
    for path in r.webapp.rglob("*"):
        if not path.is_file() or path.suffix not in (".py", ".pt", ".pspx", ".bin"):
            continue
        secret = source_marker(path)
        if len(secret) < 12:
            continue
        plain = quote("/" + path.relative_to(r.webapp).as_posix())
        variants = [plain, plain.upper(), plain.replace(".", "%2e"), plain.replace("/", "//")]
        variants += [plain + ".", plain.replace("WEB-INF", "web-inf"), plain + "%00"]
        for url in variants:
            status, body, _ = fetch(r.apache_port, url)
            if secret in body:
                leaks.append(f"{url} -> {status}")
    assert not leaks, "\n".join(leaks)


def test_mod_wsgi_single_directory_refuses_editor_and_backup_copies(
    apache_single_directory: Running,
) -> None:
    """Here the copies are in the very tree Apache serves from."""
    assert_copies_refused(apache_single_directory)
