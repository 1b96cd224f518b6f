"""Ready-made checks for a TinCan webapp, one line each in a user's test.

Each check raises ``AssertionError`` listing every problem it found, not just
the first. Paths are request targets as they go on the wire; they are sent
with :func:`fetch`, which keeps dot segments intact.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from pathlib import Path

import httpx
from tincan_core import FileKind, classify

from ._failures import raised_here
from ._paths import disguises, fetch, url_path
from ._webapp import Webapp

__all__ = [
    "assert_head_matches_get",
    "assert_hidden_like_missing",
    "assert_no_server_errors",
    "assert_no_source_reachable",
    "check_webapp",
    "disguises",
    "fetch",
]

_MAX_LISTED = 20  # problems shown in one assertion message
_SUCCESS = range(200, 300)


def _fail(title: str, problems: Sequence[str]) -> None:
    if problems:
        shown = [f"  {p}" for p in problems[:_MAX_LISTED]]
        if len(problems) > _MAX_LISTED:
            shown.append(f"  ... and {len(problems) - _MAX_LISTED} more")
        raise AssertionError("\n".join([f"{title}: {len(problems)} problem(s)", *shown]))


def _tree_files(root: Path) -> list[tuple[str, Path]]:
    """Every regular file under ``root`` (dot names and ``WEB-INF`` included), not
    following symlinked directories."""
    found = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(directory, name)
            if path.is_file():
                found.append((path.relative_to(root).as_posix(), path))
    return found


def _secret(relpath: str, path: Path) -> bytes | None:
    """What must not appear in a response for this file (None: nothing to protect)."""
    kind = classify(relpath)
    if kind is FileKind.STATIC or "__pycache__" in relpath.split("/"):
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if kind is FileKind.PAGE:
        # a page's route shows its body; its source shows only through the header
        first = data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip(b"\r")
        return first if first.startswith(b"#") and len(first) > 1 else None
    data = data.strip()
    return data if len(data) >= 8 else None


def _source_leaks(
    client: httpx.Client, root: Path, urlroot: str
) -> tuple[list[str], int]:
    problems: list[str] = []
    requests = 0
    for relpath, path in _tree_files(root):
        secret = _secret(relpath, path)
        if secret is None:
            continue
        leaks = []
        for target in disguises(relpath, urlroot):
            response = fetch(client, target)
            requests += 1
            if response.status_code in _SUCCESS and secret in response.content:
                leaks.append(f"GET {target} -> {response.status_code}")
        if leaks:
            more = f" (and {len(leaks) - 1} other spellings)" if len(leaks) > 1 else ""
            problems.append(f"{relpath} shown by {leaks[0]}{more}")
    return problems, requests


def assert_no_source_reachable(
    client: httpx.Client, root: str | os.PathLike[str], *, urlroot: str = "/"
) -> None:
    """No request for any spelling of a source, private or dot file of the webapp at
    ``root`` gets that file's content (page headers, code-behind, macros, ``WEB-INF``)."""
    problems, _ = _source_leaks(client, Path(root), urlroot)
    _fail("source or private files reachable", problems)


def _server_errors(
    client: httpx.Client, paths: Iterable[str], methods: Sequence[str]
) -> tuple[list[str], int]:
    problems: list[str] = []
    requests = 0
    for path in paths:
        for method in methods:
            requests += 1
            try:
                response = fetch(client, path, method)
            except Exception as exc:
                what = raised_here(exc)
                if what is None:
                    raise
                problems.append(f"{method} {path} -> {what}")
                continue
            if response.status_code >= 500:
                problems.append(f"{method} {path} -> {response.status_code}")
    return problems, requests


def assert_no_server_errors(
    client: httpx.Client, paths: Iterable[str], *, methods: Sequence[str] = ("GET", "HEAD")
) -> None:
    """No request for any of ``paths`` (with any of ``methods``) gets a 5xx status.

    With a client that raises server exceptions (``webapp.client()``), each
    problem names the exception and the webapp file and line it came from.
    """
    problems, _ = _server_errors(client, paths, methods)
    _fail("server errors", problems)


def _head_problems(client: httpx.Client, path: str) -> list[str]:
    get = fetch(client, path, "GET")
    head = fetch(client, path, "HEAD")
    problems = []
    if head.status_code != get.status_code:
        problems.append(f"{path}: HEAD {head.status_code}, GET {get.status_code}")
    if head.content:
        problems.append(f"{path}: HEAD sent a body of {len(head.content)} bytes")
    for name in ("content-type", "content-length"):
        if name in head.headers and head.headers[name] != get.headers.get(name):
            problems.append(
                f"{path}: {name} {head.headers[name]!r} on HEAD, {get.headers.get(name)!r} on GET"
            )
    return problems


def assert_head_matches_get(client: httpx.Client, path: str) -> None:
    """HEAD answers ``path`` like GET: same status, same content type and length, no body."""
    _fail("HEAD differs from GET", _head_problems(client, path))


def _comparable(response: httpx.Response, path: str) -> tuple[int, str, set[str], bytes]:
    spellings = {path, urllib.parse.unquote(path), urllib.parse.quote(urllib.parse.unquote(path))}
    body = response.content
    for spelling in sorted(spellings, key=len, reverse=True):
        for form in {spelling, spelling.replace("&", "&amp;")}:
            body = body.replace(form.encode("utf-8"), b"<path>")
    names = {n.lower() for n in response.headers} - {"date", "content-length"}
    return response.status_code, response.headers.get("content-type", ""), names, body


def _hidden_problems(client: httpx.Client, hidden_path: str, missing_path: str) -> list[str]:
    hidden = _comparable(fetch(client, hidden_path), hidden_path)
    missing = _comparable(fetch(client, missing_path), missing_path)
    problems = []
    if hidden[0] != 404 or missing[0] != 404:
        problems.append(
            f"{hidden_path} -> {hidden[0]}, {missing_path} -> {missing[0]}; both must be 404"
        )
    labels = ("status", "content type", "header names", "body")
    for label, a, b in zip(labels[1:], hidden[1:], missing[1:], strict=True):
        if a != b:
            problems.append(f"{hidden_path} and {missing_path}: different {label}")
    return problems


def assert_hidden_like_missing(client: httpx.Client, hidden_path: str, missing_path: str) -> None:
    """A hidden page (or private file) answers exactly like a path that does not exist:
    404, same headers, same body but for the path itself. No existence oracle."""
    _fail("hidden differs from missing", _hidden_problems(client, hidden_path, missing_path))


_GENERIC_PATHS = ("/", "/WEB-INF", "/WEB-INF/", "/web-inf/", "/%2e%2e/", "/..%2f..%2fetc/passwd",
                  "/\\", "//", "/%00", "/no-such-page.pspx", "/.hidden")


def check_webapp(
    webapp: Webapp,
    *,
    allow_server_errors: Iterable[str] = (),
    methods: Sequence[str] = ("GET", "HEAD", "POST"),
) -> int:
    """Every check over paths generated from the webapp's own tree and routes.

    * no source or private file reachable, under any disguise of its name;
    * no 5xx for any route, any disguised file path, or a few classic attacks
      (``allow_server_errors``: URL paths expected to fail, in any spelling, e.g.
      a page that demonstrates the 500 error page);
    * HEAD agrees with GET on every GET route;
    * every hidden page answers like a missing page.

    Returns the number of requests made.
    """
    if webapp.app is None:
        raise AssertionError(f"the webapp at {webapp.root} did not launch: {webapp.problems()}")
    client = webapp.client(raise_server_exceptions=False)
    prefix = webapp.urlroot.rstrip("/")
    routes = [info for info in webapp.app.route_info if info.path]
    problems, requests = _source_leaks(client, webapp.root, webapp.urlroot)

    allowed = {urllib.parse.unquote(p) for p in allow_server_errors}
    paths = [urllib.parse.quote(info.path, safe="/") for info in routes]
    for relpath, _ in _tree_files(webapp.root):
        paths += disguises(relpath, webapp.urlroot)
    paths += [prefix + p for p in _GENERIC_PATHS]
    paths = [p for p in dict.fromkeys(paths) if urllib.parse.unquote(p) not in allowed]
    errors, count = _server_errors(webapp.client(), paths, methods)
    requests += count
    problems += [f"server error: {e}" for e in errors]

    for info in routes:
        if "GET" in info.methods:
            path = urllib.parse.quote(info.path, safe="/")
            if info.path not in allowed:
                problems += _head_problems(client, path)
                requests += 2
    for info in webapp.app.route_info:
        if info.kind == "hidden":
            hidden = url_path(info.file, webapp.urlroot)
            missing = re.sub(r"[^/]*$", "no-such-page-f3a9.pspx", hidden)
            problems += _hidden_problems(client, hidden, missing)
            requests += 2
    _fail(f"check_webapp({webapp.root})", problems)
    return requests

