"""Differential testing against the 2019 original, ``TinCanFramework==0.1.1``.

The original imports as ``tincan``, like our facade, so it gets a venv of its
own (built once, cached outside the checkout in ``~/.cache/tincan-tests``) and
each implementation runs in a child process of its own (``_original_child.py``,
the same script on both sides). A tree is written once and copied for each side
(the original writes ``name.pyc`` and ``WEB-INF/lib`` into it), with the same
modification times, so ``Last-Modified`` agrees.

The same request goes to both sides; :func:`compare` checks status, headers and
body after :data:`KNOWN_DIFFERENCES`, the one table of differences that a
**Fixed** or **0.2** item of SPEC.md explains, has normalised them.
"""

from __future__ import annotations

import base64
import hashlib
import html
import importlib.metadata
import json
import os
import re
import select
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest

ORIGINAL = "TinCanFramework==0.1.1"
CHILD = Path(__file__).with_name("_original_child.py")
REPO = Path(__file__).resolve().parents[1]
# Both sides run the same Bottle and Chameleon, so every difference is TinCan's own.
SHARED_DEPENDENCIES = ("bottle", "chameleon")
# pip's words for "the index is not reachable" (offline, DNS, proxy, firewall).
_UNREACHABLE = (
    "NewConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "No matching distribution found",
    "Could not find a version that satisfies",
)
_ANSWER_TIMEOUT = 120.0


class HarnessError(Exception):
    """The test machinery failed (not a difference between the implementations): never
    an expected failure of an ``xfail(raises=AssertionError)`` case."""


def _clean_env() -> dict[str, str]:
    """The environment for the original's interpreter: nothing of ours on its path."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    return env


# -- the original's venv -----------------------------------------------------------------
def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tincan-tests"


def _requirements() -> list[str]:
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in SHARED_DEPENDENCIES]
    return [ORIGINAL, *pins]


def original_venv() -> Path:
    """The venv with the original installed: reused when present and valid, else built.

    Skips the calling test when the package index cannot be reached."""
    requirements = _requirements()
    key = hashlib.sha256(json.dumps([sys.version, *requirements]).encode()).hexdigest()[:16]
    venv = _cache_root() / f"original-{key}"
    python = venv / "bin" / "python"
    marker = venv / "installed.json"
    if marker.is_file() and python.is_file() and _imports_original(python):
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    building = venv.with_name(venv.name + f".building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, env=_clean_env())
    pip = subprocess.run(
        [
            str(building / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *requirements,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=_clean_env(),
    )
    if pip.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        output = pip.stdout + pip.stderr
        if any(word in output for word in _UNREACHABLE):
            tail = " ".join(output.strip().splitlines()[-2:])
            pytest.skip(f"the package index cannot be reached to install {ORIGINAL}: {tail}")
        raise HarnessError(f"pip install {' '.join(requirements)} failed:\n{output}")
    (building / "installed.json").write_text(json.dumps(requirements))
    try:
        building.rename(venv)
    except OSError:  # another run finished first: use its venv
        shutil.rmtree(building, ignore_errors=True)
    # A venv's scripts name their own path: python itself is all we run, by full path.
    if not _imports_original(python):
        raise HarnessError(f"{venv}: {ORIGINAL} was installed but does not import")
    return venv


def _imports_original(python: Path) -> bool:
    check = "import tincan, chameleon; assert not hasattr(tincan, '__version__')"
    try:
        done = subprocess.run(
            [str(python), "-c", check], capture_output=True, timeout=60, env=_clean_env()
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


# -- one side: a child process answering commands ------------------------------------------
@dataclass(frozen=True)
class Reply:
    """One response, as the WSGI app produced it."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    log: tuple[tuple[str, str], ...] = ()
    wsgi_errors: str = ""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def without(self, *names: str) -> Reply:
        drop = {n.lower() for n in names}
        return replace(self, headers=tuple(h for h in self.headers if h[0].lower() not in drop))

    def with_body(self, body: bytes) -> Reply:
        headers = tuple(
            (k, str(len(body))) if k.lower() == "content-length" else (k, v)
            for k, v in self.headers
        )
        return replace(self, body=body, headers=headers)


@dataclass(frozen=True)
class Launched:
    """What ``launch()`` gave one side."""

    app: bool
    errors: int | None
    crash: str | None
    log: tuple[tuple[str, str], ...]

    @property
    def problems(self) -> list[str]:
        lines = [message for level, message in self.log if level in ("ERROR", "CRITICAL")]
        return lines + ([self.crash] if self.crash else [])


class Side:
    """A child process running ``_original_child.py`` under one implementation."""

    def __init__(self, name: str, python: Path, log_dir: Path) -> None:
        self.name = name
        self.python = python
        self.log_path = log_dir / f"{name}-child.log"
        self._process: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        # Ours runs with the test run's path; nothing of ours may shadow the original.
        env = _clean_env() if self.name == "original" else dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # both sides write bytecode as users' do
        env["TINCAN_JOBS"] = "1"  # tiny trees: forking compile workers costs more than it saves
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [str(self.python), "-X", "utf8", str(CHILD)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd="/",
                env=env,
            )
        return self._process

    def ask(self, command: Mapping[str, Any]) -> dict[str, Any]:
        process = self._process if self._process and self._process.poll() is None else None
        process = process or self._start()
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(command).encode() + b"\n")
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], _ANSWER_TIMEOUT)
        line = process.stdout.readline() if ready else b""
        if not line:
            self.close()
            raise HarnessError(
                f"{self.name}: no answer to {command.get('op')} "
                f"{command.get('target', command.get('root', ''))!r}; "
                f"child log:\n{self.log_tail()}"
            )
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise HarnessError(f"{self.name}: {command.get('op')} failed:\n{answer['error']}")
        return answer

    def log_tail(self, size: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def launch(self, root: Path, **options: Any) -> Launched:
        answer = self.ask({"op": "launch", "root": str(root), **options})
        return Launched(
            app=answer["app"],
            errors=answer["errors"],
            crash=answer["crash"],
            log=tuple((level, msg) for level, msg in answer["log"]),
        )

    def request(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> Reply:
        answer = self.ask(
            {
                "op": "request",
                "method": method,
                "target": target,
                "headers": [list(h) for h in headers],
                "body": base64.b64encode(body).decode("ascii"),
            }
        )
        code, _, reason = answer["status"].partition(" ")
        return Reply(
            status=int(code),
            reason=reason,
            headers=tuple((k, v) for k, v in answer["headers"]),
            body=base64.b64decode(answer["body"]),
            log=tuple((level, msg) for level, msg in answer["log"]),
            wsgi_errors=answer["wsgi_errors"],
        )

    def eval(self, code: str) -> Any:
        return self.ask({"op": "eval", "code": code})["result"]

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


@dataclass(frozen=True)
class Sides:
    original: Side
    ours: Side

    def close(self) -> None:
        self.original.close()
        self.ours.close()


def session_sides(request: pytest.FixtureRequest) -> Sides:
    """Both child processes, started once per test session (the test modules' session
    fixtures share them through the config stash)."""
    stash = request.config.stash
    found = stash.get(_SIDES_KEY, None)
    if found is not None:
        return found
    skipped = stash.get(_SKIP_KEY, None)
    if skipped is not None:  # one attempt to reach the index per session
        pytest.skip(skipped)
    try:
        venv = original_venv()
    except pytest.skip.Exception as exc:
        stash[_SKIP_KEY] = str(exc.msg)
        raise
    log_dir = request.getfixturevalue("tmp_path_factory").mktemp("difftest-logs")
    sides = Sides(
        original=Side("original", venv / "bin" / "python", log_dir),
        ours=Side("ours", Path(sys.executable), log_dir),
    )
    stash[_SIDES_KEY] = sides
    request.config.add_cleanup(sides.close)
    return sides


_SIDES_KEY = pytest.StashKey[Sides]()
_SKIP_KEY = pytest.StashKey[str]()


# -- a tree launched on both sides -------------------------------------------------------
@dataclass(frozen=True)
class Exchange:
    """The same request, answered by both sides."""

    method: str
    target: str
    original: Reply
    ours: Reply


@dataclass
class Webapps:
    """One tree, launched by both implementations (each in its own copy)."""

    sides: Sides
    ctx: Context
    original_root: Path
    ours_root: Path
    original: Launched
    ours: Launched
    used: Counter[str] = field(default_factory=Counter)  # known differences applied

    def send(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> Exchange:
        """The same request to both sides (to the original at its own URL for it)."""
        return Exchange(
            method,
            target,
            self.sides.original.request(
                method, original_target(self.ctx, method, target), headers, body
            ),
            self.sides.ours.request(method, target, headers, body),
        )

    def differences(self, ex: Exchange) -> list[str]:
        return differences(self.ctx, ex, self.used)

    def mismatches(self, requests: Iterable[str | Request]) -> list[str]:
        """A report line block for every request whose answers differ."""
        found = []
        for request in requests:
            spec = Request.parse(request) if isinstance(request, str) else request
            ex = self.send(spec.method, spec.target, spec.headers, spec.body)
            problems = self.differences(ex)
            if problems:
                found.append(report(ex, problems))
        return found

    def assert_same(self, *requests: str | Request) -> None:
        found = self.mismatches(requests)
        assert not found, "\n".join(found)

    def assert_launched_alike(self) -> None:
        """Both launched an app, with the same number of errors and no crash."""
        o, u = self.original, self.ours
        assert o.crash is None, f"the original crashed:\n{o.crash}"
        assert u.crash is None, f"ours crashed:\n{u.crash}"
        assert (o.app, o.errors) == (u.app, u.errors), (
            f"launch: original app={o.app} errors={o.errors} {o.problems}, "
            f"ours app={u.app} errors={u.errors} {u.problems}"
        )

    def assert_clean_launch(self) -> None:
        self.assert_launched_alike()
        assert self.original.errors == 0, self.original.problems


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @classmethod
    def parse(cls, text: str) -> Request:
        """``"POST /a.pspx"`` or just ``"/a.pspx"`` (a GET)."""
        method, _, target = text.rpartition(" ")
        return cls(method or "GET", target)


def write_tree(
    root: Path, files: Mapping[str, str | bytes | None], *, encoding: str = "utf-8"
) -> Path:
    """Lay out ``files`` under ``root``, with a ``WEB-INF`` directory: text in
    ``encoding``, except ``.py`` files, which are UTF-8 as Python reads them by
    default; ``None`` is an empty directory."""
    (root / "WEB-INF").mkdir(parents=True)
    for relpath, content in files.items():
        path = root / relpath
        assert root in path.parents, relpath
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8" if relpath.endswith(".py") else encoding)
        path.write_bytes(content)
    return root


def launch_both(
    sides: Sides,
    base: Path,
    files: Mapping[str, str | bytes | None],
    *,
    encoding: str = "utf-8",
    setup: str | None = None,
    cwd: str | None = None,
    forwards: Mapping[str, str] | None = None,
    **options: Any,
) -> Webapps:
    """Write ``files`` under ``base`` (text in ``encoding``) and launch a copy on each side.

    ``setup`` is Python run in each child after a successful launch, with ``app`` and
    ``tincan`` in scope (e.g. to add a Bottle route); ``cwd`` is the working directory
    of both children, relative to the tree (default: the tree). ``forwards`` tells the
    comparator which pages call ``request.app.forward()`` to which page."""
    source = write_tree(base / "tree", files, encoding=encoding)
    roots = {}
    for name in ("original", "ours"):
        roots[name] = base / name
        shutil.copytree(source, roots[name], symlinks=True)  # copy2 keeps mtimes
    launched = {}
    for name, side in (("original", sides.original), ("ours", sides.ours)):
        root = roots[name]
        launched[name] = side.launch(
            root,
            encoding=encoding,
            setup=setup,
            cwd=str(root / cwd) if cwd else None,
            **options,
        )
    ctx = Context(
        files=dict(files),
        urlroot=options.get("urlroot", "/"),
        static=options.get("static", False),
        encoding=encoding,
        forwards=dict(forwards or {}),
    )
    return Webapps(
        sides, ctx, roots["original"], roots["ours"], launched["original"], launched["ours"]
    )


# -- comparing ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    """What the comparator may know about a tree: its files and launch options."""

    files: Mapping[str, str | bytes | None]
    urlroot: str = "/"
    static: bool = False
    encoding: str = "utf-8"
    # forwarder page (webapp-relative) -> page it forwards to with request.app.forward()
    forwards: Mapping[str, str] = field(default_factory=dict)

    def page_text(self, relpath: str) -> str:
        content = self.files.get(relpath)
        if isinstance(content, bytes):
            return content.decode(self.encoding, "replace")
        return content or ""

    def directives(self, relpath: str) -> set[str]:
        """The directive names in the header of the page at ``relpath``."""
        found = set()
        for line in self.page_text(relpath).splitlines():
            if not line.startswith("#"):
                break
            name = line.split()[0] if line.split() else "#"
            found.add(name)
            if name == "#end":
                break
        return found

    def has_route(self, relpath: str) -> bool:
        """Is ``relpath`` a file that gets a route of its own?"""
        if relpath not in self.files:
            return False
        if relpath.endswith(".pspx"):
            return not self.directives(relpath) & {"#hidden", "#errors"}
        return self.static

    def error_pages(self) -> dict[str, list[int]]:
        """Error page -> the codes it lists (``[]`` for a catch-all)."""
        pages: dict[str, list[int]] = {}
        for relpath in self.files:
            if not relpath.endswith(".pspx"):
                continue
            for line in self.page_text(relpath).splitlines():
                words = line.split()
                if not line.startswith("#") or not words or words[0] == "#end":
                    break
                if words[0] == "#errors":
                    pages[relpath] = [int(w) for w in words[1:] if w.isdigit()]
        return pages

    def error_codes(self) -> set[int]:
        """Codes some error page of the tree answers (400-599 for a catch-all)."""
        codes: set[int] = set()
        for listed in self.error_pages().values():
            codes.update(listed or range(400, 600))
        return codes

    def contested_codes(self) -> set[int]:
        """Codes both a catch-all and a page naming them claim."""
        pages = self.error_pages()
        if not any(not listed for listed in pages.values()):
            return set()
        return {code for listed in pages.values() for code in listed}

    def relpath_of(self, target: str) -> str | None:
        """The webapp-relative path a request target names (below urlroot), or None."""
        path = unquote(target.partition("?")[0])
        prefix = self.urlroot.rstrip("/") + "/"
        if not path.startswith(prefix) and path + "/" != prefix:
            return None
        return path[len(prefix) :]


def _default_error_page(reply: Reply) -> bool:
    """Is ``reply`` a plain page for its status: the status line and markup, nothing else?"""
    text = reply.body.decode("utf-8", "replace")
    words = html.unescape(re.sub(r"<[^>]*>", " ", text)).split()
    status = f"{reply.status} {reply.reason}".split()
    if not words or len(words) % len(status):
        return False
    return words == status * (len(words) // len(status))


_BOTTLE_ERROR_PAGE = re.compile(
    r'\s*<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2\.0//EN">\s*<html>\s*<head>\s*'
    r"<title>Error: (\d{3}) [^<]*</title>.*Sorry, the requested URL <tt>.*</tt>",
    re.DOTALL,
)


def _bottle_error_page(reply: Reply) -> bool:
    match = _BOTTLE_ERROR_PAGE.match(reply.body.decode("utf-8", "replace"))
    return match is not None and int(match.group(1)) == reply.status


def _normalise_default_error_page(ctx: Context, ex: Exchange) -> Exchange | None:
    o, u = ex.original, ex.ours
    if o.status != u.status or o.status < 400 or o.status in ctx.error_codes():
        return None
    if ex.method == "HEAD" and not o.body and not u.body:
        return replace(ex, original=o.without("Content-Length"), ours=u.without("Content-Length"))
    if _bottle_error_page(o) and _default_error_page(u):
        marker = f"(plain {o.status} page)".encode()
        return replace(ex, original=o.with_body(marker), ours=u.with_body(marker))
    return None


def _normalise_static_content_encoding(ctx: Context, ex: Exchange) -> Exchange | None:
    o, u = ex.original, ex.ours
    value = o.header("Content-Encoding")
    if value is None or u.header("Content-Encoding") is not None:
        return None
    if value != ctx.encoding or not (o.header("Content-Type") or "").startswith("text/"):
        return None
    return replace(ex, original=o.without("Content-Encoding"))


def _ours_only(*names: str) -> Callable[[Context, Exchange], Exchange | None]:
    def normalise(ctx: Context, ex: Exchange) -> Exchange | None:
        extra = [n for n in names if ex.ours.header(n) is not None]
        extra = [n for n in extra if ex.original.header(n) is None]
        return replace(ex, ours=ex.ours.without(*extra)) if extra else None

    return normalise


def _normalise_directory_redirect(ctx: Context, ex: Exchange) -> Exchange | None:
    o, u = ex.original, ex.ours
    if o.status not in (200, 405) or u.status not in (301, 308):
        return None
    path, _, query = ex.target.partition("?")
    location = u.header("Location") or ""
    wanted = path + "/" + ("?" + query if query else "")
    if location != wanted and not location.endswith("//127.0.0.1" + wanted):
        return None
    if u.status != (301 if ex.method in ("GET", "HEAD") else 308):
        return None
    marker = b"(directory: answered at its slash form)"
    return replace(ex, original=Reply(200, "OK", (), marker), ours=Reply(200, "OK", (), marker))


def _private_segment(segment: str) -> bool:
    return segment.upper().startswith("WEB-INF")


def _normalise_deep_web_inf(ctx: Context, ex: Exchange) -> Exchange | None:
    relpath = ctx.relpath_of(ex.target)
    if relpath is None or not any(_private_segment(s) for s in relpath.split("/")):
        return None
    if ex.ours.status != 404 or not (
        _default_error_page(ex.ours) or (404 in ctx.error_codes()) or ex.method == "HEAD"
    ):
        return None
    marker = b"(private: WEB-INF at any depth, any case)"
    return replace(
        ex, original=Reply(404, "Not Found", (), marker), ours=Reply(404, "Not Found", (), marker)
    )


def _rewrite_urlroot_slash(ctx: Context, method: str, target: str) -> str:
    root = ctx.urlroot
    if root == "/" or not root.endswith("/"):
        return target
    prefix = root.rstrip("/") + "/"
    return root + "/" + target[len(prefix) :] if target.startswith(prefix) else target


def _normalise_urlroot_slash(ctx: Context, ex: Exchange) -> Exchange | None:
    root = ctx.urlroot
    if root == "/" or not root.endswith("/"):
        return None
    if ex.method == "HEAD" and not ex.original.body:  # the length of the longer paths
        return replace(
            ex,
            original=ex.original.without("Content-Length"),
            ours=ex.ours.without("Content-Length"),
        )
    doubled, single = (root + "/").encode(), root.encode()
    if doubled not in ex.original.body:
        return None
    return replace(ex, original=ex.original.with_body(ex.original.body.replace(doubled, single)))


_INDEX_ORDER = ("index.pspx", "index.html", "index.htm")


def _rewrite_index_choice(ctx: Context, method: str, target: str) -> str:
    relpath = ctx.relpath_of(target)
    if relpath is None:
        return target
    directory = relpath if not relpath or relpath.endswith("/") else relpath + "/"
    candidates = [n for n in _INDEX_ORDER if ctx.has_route(directory + n)]
    if len(candidates) < 2:
        return target
    _, sep, query = target.partition("?")
    prefix = ctx.urlroot.rstrip("/") + "/"
    return prefix + quote(directory + candidates[0]) + sep + query


def _normalise_index_choice(ctx: Context, ex: Exchange) -> Exchange | None:
    """The original was asked by the file's name: its pages saw that as request.path."""
    asked = original_target(ctx, ex.method, ex.target)
    if _rewrite_index_choice(ctx, ex.method, ex.target) == ex.target:
        return None
    theirs = unquote(asked.partition("?")[0]).encode()
    ours = unquote(ex.target.partition("?")[0]).encode()
    body = ex.original.body
    return replace(ex, original=ex.original.with_body(body.replace(theirs, ours)))


def _normalise_contested_error_page(ctx: Context, ex: Exchange) -> Exchange | None:
    o, u = ex.original, ex.ours
    if o.status != u.status or o.status not in ctx.contested_codes():
        return None
    if ex.method != "HEAD" and not (o.body and u.body):
        return None
    marker = f"(the error page for {o.status})".encode()
    return replace(ex, original=o.with_body(marker), ours=u.with_body(marker))


def _normalise_quoted_forward(ctx: Context, ex: Exchange) -> Exchange | None:
    relpath = ctx.relpath_of(ex.target)
    goal = ctx.forwards.get(relpath or "")
    if goal is None or quote(goal) == goal or ex.original.status != 404:
        return None
    if ex.ours.status != 200:
        return None
    marker = b"(programmatic forward to a name that needs percent-encoding)"
    return replace(ex, original=Reply(200, "OK", (), marker), ours=Reply(200, "OK", (), marker))


def _allow_methods(value: str | None) -> set[str] | None:
    if value is None:
        return None
    methods = {m.strip().upper() for m in value.split(",") if m.strip()}
    if "GET" in methods:
        methods.add("HEAD")
    return methods


def _normalise_allow(ctx: Context, ex: Exchange) -> Exchange | None:
    o, u = ex.original.header("Allow"), ex.ours.header("Allow")
    if o is None or u is None or o == u or _allow_methods(o) != _allow_methods(u):
        return None
    return replace(ex, original=ex.original.without("Allow"), ours=ex.ours.without("Allow"))


@dataclass(frozen=True)
class KnownDifference:
    """A difference from the original that SPEC.md explains, and how the comparator
    allows for it: ``rewrite`` changes the target sent to the original, ``normalise``
    returns the exchange with the difference taken out (``None``: does not apply)."""

    name: str
    basis: str
    reason: str
    normalise: Callable[[Context, Exchange], Exchange | None] | None = None
    rewrite: Callable[[Context, str, str], str] | None = None


KNOWN_DIFFERENCES: tuple[KnownDifference, ...] = (
    KnownDifference(
        "static Content-Encoding",
        "SPEC §7 Fixed",
        "the original sent the charset as 'Content-Encoding: utf-8' on text files, which "
        "tells clients the body is compressed; ours sends no Content-Encoding",
        normalise=_normalise_static_content_encoding,
    ),
    KnownDifference(
        "plain default error page",
        "SPEC §6 Fixed (and issue 8 item 4: the 404 body stays free of repr(path))",
        "codes without an error page: the original sent Bottle's page with repr(url) and "
        "the error body (repr(path) for a 404); ours sends only the status line",
        normalise=_normalise_default_error_page,
    ),
    KnownDifference(
        "validators and ranges",
        "SPEC §7 ('beyond the original: ETag/If-None-Match, Range')",
        "ours adds ETag and Accept-Ranges to static files",
        normalise=_ours_only("ETag", "Accept-Ranges"),
    ),
    KnownDifference(
        "security headers",
        "SPEC §11 0.2",
        "ours adds nosniff, Referrer-Policy, frame options and an opener policy to responses",
        normalise=_ours_only(
            "X-Content-Type-Options",
            "Referrer-Policy",
            "X-Frame-Options",
            "Cross-Origin-Opener-Policy",
        ),
    ),
    KnownDifference(
        "directory redirect",
        "SPEC §2 0.2",
        "a directory URL without its slash redirects to the slash form (301 GET/HEAD, 308 "
        "otherwise); the original answered both forms (the slash form is compared too)",
        normalise=_normalise_directory_redirect,
    ),
    KnownDifference(
        "WEB-INF at any depth",
        "SPEC §1 Fixed, and 0.2 (any case, any name starting with WEB-INF)",
        "the original served and routed a WEB-INF below the top level, and a top-level one "
        "spelt in another case; ours keeps them private (404)",
        normalise=_normalise_deep_web_inf,
    ),
    KnownDifference(
        "index choice",
        "SPEC §2 Fixed",
        "a directory with several index candidates: the original's listing order chose (and "
        "'dir' and 'dir/' could differ, or be a 404); ours takes index.pspx over index.html "
        "over index.htm: the original is asked for that file by its full name (which its "
        "pages see as request.path)",
        rewrite=_rewrite_index_choice,
        normalise=_normalise_index_choice,
    ),
    KnownDifference(
        "urlroot with a trailing slash",
        "SPEC §2 Fixed",
        "with urlroot '/app/' the original routed '/app//page.pspx' (and showed that path to "
        "pages); ours normalises to '/app/page.pspx': the original is asked at its own URL "
        "(HEAD: without Content-Length; the top URL without its slash is not compared)",
        normalise=_normalise_urlroot_slash,
        rewrite=_rewrite_urlroot_slash,
    ),
    KnownDifference(
        "explicit error codes over a catch-all",
        "SPEC §1 (sorted walk: the original's listing order decided conflicts); "
        "tincan-core README 'Explicit #errors codes win over catch-all pages'",
        "a code named by one error page and claimed by a catch-all one: the original used "
        "whichever it registered last, by listing order; ours the page naming it. Compared "
        "loosely: same status and headers, each side rendered an error page",
        normalise=_normalise_contested_error_page,
    ),
    KnownDifference(
        "programmatic forward to an encoded name",
        "SPEC §5.2 Fixed",
        "the original's forward() put the percent-encoded path where Bottle matches decoded "
        "ones: targets with spaces or non-ASCII characters were a 404",
        normalise=_normalise_quoted_forward,
    ),
    KnownDifference(
        "Allow lists HEAD",
        "not a Fixed item, decided: every GET page accepts HEAD (SPEC §3.2), and RFC 9110 "
        "§10.2.1 has Allow list the methods a resource supports",
        "a 405's Allow header: the original sent Bottle's 'GET,POST'; ours 'GET, HEAD, POST' "
        "(same methods once HEAD is implied by GET); "
        "test_found_allow_header_of_405_names_the_same_methods_plus_head checks it",
        normalise=_normalise_allow,
    ),
)


def original_target(ctx: Context, method: str, target: str) -> str:
    """Where to ask the original for what ``target`` asks of ours (rewrites in table order:
    the index choice names ours' URL, the urlroot respelling comes last)."""
    for known in KNOWN_DIFFERENCES:
        if known.rewrite is not None:
            target = known.rewrite(ctx, method, target)
    return target


def _header_map(reply: Reply) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in reply.headers:
        found.setdefault(name.lower(), []).append(value)
    return {name: sorted(values) for name, values in found.items()}


def differences(ctx: Context, ex: Exchange, used: Counter[str] | None = None) -> list[str]:
    """What still differs between the two replies once the known differences are out."""
    for known in KNOWN_DIFFERENCES:
        if known.normalise is None:
            continue
        normalised = known.normalise(ctx, ex)
        if normalised is not None:
            ex = normalised
            if used is not None:
                used[known.name] += 1
    o, u = ex.original, ex.ours
    found = []
    if (o.status, o.reason) != (u.status, u.reason):
        found.append(f"status: original {o.status} {o.reason}, ours {u.status} {u.reason}")
    oh, uh = _header_map(o), _header_map(u)
    for name in sorted(set(oh) | set(uh)):
        if oh.get(name) != uh.get(name):
            found.append(f"header {name}: original {oh.get(name)}, ours {uh.get(name)}")
    if o.body != u.body:
        found.append(f"body: original {o.body[:400]!r}, ours {u.body[:400]!r}")
    return found


def report(ex: Exchange, found: Iterable[str]) -> str:
    lines = [f"{ex.method} {ex.target}:", *(f"  {line}" for line in found)]
    for side, reply in (("original", ex.original), ("ours", ex.ours)):
        logged = [f"{level}: {msg}" for level, msg in reply.log]
        if logged:
            lines.append(f"  {side} logged: " + " | ".join(logged)[:1500])
    return "\n".join(lines)
