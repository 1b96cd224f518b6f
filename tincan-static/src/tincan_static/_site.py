"""What a web-server configuration needs to know about a deployment, and the WSGI script.

The directory URLs whose index is a page come from the webapp itself, through
tincan-core's scan, classification and header parser, so the web server sends
exactly those to the application and serves every other directory index itself.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from tincan_core import INDEX_NAMES, FileKind, TinCanError, parse_page, scan_tree

from ._rules import server_rules

__all__ = ["Site", "SiteError", "page_index_dirs", "pcre_escape", "wsgi_script"]

DEFAULT_STATIC_DIR = "/var/www/tincan-static"
# Host names (wildcards "*.example.org" and ".example.org" included), IPv4 and [IPv6]
# literals: nothing a configuration file would read as syntax.
_SERVER_NAME = re.compile(r"[A-Za-z0-9*.\-_]+|\[[0-9A-Fa-f:.]+\]")
_LISTEN_JUNK = re.compile(r"[\s;{}\"'#$\\]")
DEFAULT_APP_URL = "http://127.0.0.1:8000"
# Internal URL prefix under which Apache's mod_wsgi runs the application; it is a dot
# name, so no request from outside can reach it directly.
WSGI_MOUNT = "/.tincan-wsgi"


class SiteError(ValueError):
    """An option value that cannot produce a working configuration."""


@dataclass(frozen=True, slots=True)
class Site:
    """One deployment: where things are and which URLs belong to the application."""

    urlroot: str = "/"
    static_dir: str = DEFAULT_STATIC_DIR
    app_url: str = DEFAULT_APP_URL
    server_name: str = ""
    listen: str = "80"
    page_dirs: tuple[str, ...] | None = None  # None: not known, use the generic rule
    webapp: str = ""
    encoding: str = "utf-8"
    gzip_static: bool = False
    processes: int = 2
    python_home: str = ""  # mod_wsgi: the virtual environment TinCan is installed in
    python_path: str = ""  # mod_wsgi: extra import directory (e.g. a site-packages)

    def __post_init__(self) -> None:
        if not self.urlroot.startswith("/"):
            raise SiteError(f"urlroot {self.urlroot!r} must start with '/'")
        if any(ch in self.urlroot for ch in "\"'\\ {};$\n\r\t#"):
            raise SiteError(f"urlroot {self.urlroot!r} has characters a URL prefix cannot have")
        if server_rules().refuses_prefix(self.prefix):
            raise SiteError(
                f"urlroot {self.urlroot!r} is a name TinCan never serves (WEB-INF, a dot name)"
            )
        for name in self.server_names:
            if not _SERVER_NAME.fullmatch(name) or not any(ch.isalnum() for ch in name):
                raise SiteError(f"--server-name {name!r} is not a host name")
        if not self.listen or _LISTEN_JUNK.search(self.listen):
            raise SiteError(f"--listen {self.listen!r} must be PORT or ADDRESS:PORT")
        parts = urlsplit(self.app_url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.path not in ("", "/")
        ):
            raise SiteError(f"--app-url {self.app_url!r} must look like http://HOST:PORT")
        for name, value in (
            ("static directory", self.static_dir),
            ("webapp", self.webapp),
            ("python home", self.python_home),
            ("python path", self.python_path),
        ):
            if value and not os.path.isabs(value):
                raise SiteError(f"the {name} must be an absolute path, not {value!r}")
            if any(ch in value for ch in '"\\\n\r'):
                raise SiteError(f"the {name} path {value!r} cannot be written into a config file")

    @property
    def prefix(self) -> str:
        """The urlroot without its trailing slash (``""`` for ``/``)."""
        return self.urlroot.rstrip("/")

    @property
    def server_names(self) -> tuple[str, ...]:
        """The host names the site answers (``server_name`` may list several)."""
        return tuple(self.server_name.replace(",", " ").split())

    @property
    def port(self) -> str:
        """The port of ``listen`` (``80`` for ``80``, ``8080`` for ``127.0.0.1:8080``)."""
        return self.listen.rpartition(":")[2] or "80"

    @property
    def app_origin(self) -> str:
        return self.app_url.rstrip("/")

    def origin_comment(self) -> str:
        return self.app_origin

    def page_dir_urls(self) -> list[str]:
        """Exact URLs answered by an index page (``dir/`` and ``dir``), when known."""
        urls: list[str] = []
        for reldir in self.page_dirs or ():
            base = f"{self.prefix}/{reldir}" if reldir else self.prefix
            urls.append(base + "/")
            if base:
                urls.append(base)
        return urls


def page_index_dirs(webapp: str, encoding: str = "utf-8") -> tuple[str, ...]:
    """Webapp-relative directories (``""`` = the top) whose index is a page.

    Follows launch's rules: ``index.pspx`` wins over ``index.html`` and
    ``index.htm``, but a hidden page or an error page is no index. A page whose
    header does not parse gets no route at launch, so it is no index either.
    """
    inventory = scan_tree(webapp)
    candidates: dict[str, list[tuple[int, str, FileKind, str]]] = {}
    for f in inventory.files:
        directory, _, name = f.relpath.rpartition("/")
        if name in INDEX_NAMES and f.kind in (FileKind.PAGE, FileKind.STATIC):
            candidates.setdefault(directory, []).append(
                (INDEX_NAMES.index(name), f.relpath, f.kind, f.path)
            )
    result = []
    for directory, found in sorted(candidates.items()):
        for _, relpath, kind, path in sorted(found):
            if kind is FileKind.STATIC:
                break
            if _routable_page(path, relpath, encoding):
                result.append(directory)
                break
    return tuple(result)


def _routable_page(path: str, relpath: str, encoding: str) -> bool:
    try:
        with open(path, encoding=encoding) as f:
            header = parse_page(f.read(), relpath).header
    except (OSError, UnicodeDecodeError, TinCanError):
        return False
    return not header.hidden and header.errors is None


_PCRE_SPECIAL = re.compile(r"([^A-Za-z0-9_/-])")


def pcre_escape(text: str) -> str:
    """``text`` as a literal inside a PCRE pattern (nginx and Apache both use PCRE)."""
    return _PCRE_SPECIAL.sub(r"\\\1", text)


def wsgi_script(site: Site) -> str:
    """The WSGI entry point for gunicorn, waitress or mod_wsgi (SPEC's deployment example)."""
    webapp = site.webapp or "/var/www/webapp"
    bind = urlsplit(site.app_url).netloc
    return f'''\
"""WSGI entry point of the TinCan webapp {webapp}.

gunicorn:  gunicorn --workers 4 --bind {bind} --chdir DIR_OF_THIS_FILE wsgi:application
waitress:  waitress-serve --listen={bind} wsgi:application
mod_wsgi:  WSGIScriptAlias {WSGI_MOUNT} /path/to/this/file
           (see: tincan server-config apache --single-directory)
"""

import logging
import sys

import tincan

logging.basicConfig(stream=sys.stderr, level=logging.INFO)
logger = logging.getLogger("webapp")

# One launched app serves single-threaded workers (gunicorn's sync workers,
# mod_wsgi with threads=1) and threaded ones (gunicorn --threads, waitress) alike.
_app, errors = tincan.launch(
    fsroot={webapp!r},
    urlroot={site.urlroot!r},
    logger=logger,
    encoding={site.encoding!r},
)
if _app is None:
    raise RuntimeError("the webapp could not be launched, see the log")
if errors:
    logger.warning("%d page(s) have errors and no route, see above", errors)


def application(environ, start_response):
    # mod_wsgi runs the app under an internal prefix; the public URL does not have it.
    if environ.get("SCRIPT_NAME") == {WSGI_MOUNT!r}:
        environ["SCRIPT_NAME"] = ""
    return _app(environ, start_response)
'''
