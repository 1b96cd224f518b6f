"""Request paths as an attacker writes them, and a way to send them unaltered."""

from __future__ import annotations

import string
import urllib.parse

import httpx

__all__ = ["disguises", "fetch", "raw_target", "url_path"]

# What a request path may carry literally; everything else is percent-encoded.
_PATH_SAFE = frozenset(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/\\%")


def url_path(relpath: str, urlroot: str = "/") -> str:
    """The URL path of a webapp file: urlroot plus the path, percent-encoded."""
    return urlroot.rstrip("/") + "/" + urllib.parse.quote(relpath.lstrip("/"), safe="/")


def raw_target(path: str) -> str:
    """``path`` as it goes on the wire: ASCII, with ``.``/``..`` segments kept.

    httpx removes literal dot segments before sending; written as ``%2e`` they
    survive, and the server decodes them back, so the app sees the path as given.
    Characters a request line cannot carry are percent-encoded (UTF-8); existing
    ``%XX`` escapes are left alone.
    """
    segments = []
    for segment in path.split("/"):
        if segment in (".", ".."):
            segments.append("%2e" * len(segment))
            continue
        out = []
        for char in segment:
            if char in _PATH_SAFE:
                out.append(char)
            else:
                out.append(urllib.parse.quote(char, safe=""))
        segments.append("".join(out))
    return "/".join(segments)


def fetch(client: httpx.Client, path: str, method: str = "GET") -> httpx.Response:
    """Send ``method path`` with the path exactly as given (see :func:`raw_target`)."""
    base = client.base_url.raw_path.decode("ascii").rstrip("/")
    url = client.base_url.copy_with(raw_path=(base + raw_target(path)).encode("ascii"))
    return client.request(method, url)


def _case_variants(text: str) -> list[str]:
    return [v for v in {text.upper(), text.lower(), text.swapcase(), text.title()} if v != text]


def disguises(relpath: str, urlroot: str = "/") -> list[str]:
    """Spellings of the URL of ``relpath`` that a careless server might map to the file.

    Case changes, encoded or doubled separators, backslashes, dot segments,
    encoded dots, NUL bytes, trailing dots, spaces and slashes, Windows stream
    names. The plain path comes first.
    """
    prefix = urlroot.rstrip("/")
    path = relpath.strip("/")
    parts = path.split("/")
    name = parts[-1]
    folder = "/".join(parts[:-1])
    stem, dot, ext = name.rpartition(".")
    bodies = [path]
    bodies += _case_variants(path)
    if folder:
        bodies += [_case_variants(folder)[0] + "/" + name]
        bodies += [path.replace("/", sep) for sep in ("%2f", "%2F", "\\", "%5c", "//", "/./")]
    if dot and stem:
        bodies += [
            f"{folder}/{stem}%2e{ext}".lstrip("/"),
            f"{folder}/{stem}.{ext.upper()}".lstrip("/"),
            f"{folder}/{stem}%00.{ext}".lstrip("/"),
        ]
    bodies += [
        "".join(f"%{b:02x}" for b in path.encode("utf-8")),
        f"./{path}",
        f"x/../{path}",
        f"%2e%2e/{path}",
        f"x/%2e%2e/{path}",
        f"x%2f..%2f{path}",
        f"x\\..\\{path}",
    ]
    suffixes = [".", "%2e", "/", "%20", "%00", "%00.html", "::$DATA", "~", ";x"]
    paths = [prefix + "/" + body for body in bodies]
    paths += [prefix + "/" + path + suffix for suffix in suffixes]
    paths += [prefix + "//" + path]
    return list(dict.fromkeys(paths))
