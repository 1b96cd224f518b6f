"""Hypothesis strategies for TinCan webapps: plain functions, import what you need.

    from hypothesis import given
    from tincan_testing.strategies import hostile_paths, webapp_trees

Paths are request targets as they go on the wire (``/a/b%20c.pspx``); send
them with :func:`tincan_testing.checks.fetch`, which keeps dot segments that
httpx would otherwise remove.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from hypothesis import strategies as st
from tincan_core import FileKind, classify

__all__ = [
    "header_lines",
    "hostile_paths",
    "http_methods",
    "page_names",
    "url_paths",
    "webapp_trees",
]

_URL_SAFE = string.ascii_letters + string.digits + "-._~"
# File-name characters worth testing: Bottle's rule syntax (<x>, :x), spaces, non-ASCII.
_NAME_CHARS = string.ascii_letters + string.digits + " -_~()<>:!,+=@é"
_WORD_CHARS = string.ascii_letters + string.digits
# Header text: anything but line breaks (str.splitlines() breaks on more than "\n").
_LINE_TEXT = st.text(
    st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters="\x85"
    ),
    max_size=30,
)

STANDARD_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")


def http_methods(*, extensions: bool = True) -> st.SearchStrategy[str]:
    """HTTP method names: the standard ones, and (``extensions=True``) other valid tokens."""
    standard = st.sampled_from(STANDARD_METHODS)
    if not extensions:
        return standard
    return st.one_of(standard, st.from_regex(r"[A-Z][A-Z0-9_-]{0,11}", fullmatch=True))


def url_paths(*, max_segments: int = 5) -> st.SearchStrategy[str]:
    """Ordinary URL paths: ``/`` plus unreserved-character segments, maybe a trailing ``/``."""
    segment = st.text(_URL_SAFE, min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))

    def join(segments: list[str], trailing: bool) -> str:
        return "/" + "/".join(segments) + ("/" if trailing and segments else "")

    return st.builds(join, st.lists(segment, max_size=max_segments), st.booleans())


def page_names() -> st.SearchStrategy[str]:
    """File names of pages (``*.pspx``) with characters that stress routing: spaces,
    ``<x>``, ``:x``, parentheses, non-ASCII."""
    stem = st.text(_NAME_CHARS, min_size=1, max_size=16)
    return st.builds(lambda s: s + ".pspx", stem)


# -- header lines ----------------------------------------------------------------------
def _path(suffix: str) -> st.SearchStrategy[str]:
    plain = st.text(_WORD_CHARS + "_-/", min_size=1, max_size=12).map(
        lambda s: s.strip("/") or "x"
    )
    return st.one_of(
        plain.map(lambda s: s + suffix),
        plain.map(lambda s: "/" + s + suffix),
        plain.map(lambda s: repr(f"{s} with space{suffix}")),
    )


_VALID_LINES = st.one_of(
    st.builds(lambda t: ("#rem " + t).rstrip(), _LINE_TEXT),
    _path(".py").map("#python {}".format),
    _path(".pspx").map("#template {}".format),
    _path(".pspx").map("#forward {}".format),
    st.one_of(
        _path(".pt"),
        _path(".pt").map(lambda p: f"<{p.strip(chr(39))}>"),
        st.builds(lambda v, p: f"{v}={p}", st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True),
                  _path(".pt")),
    ).map("#load {}".format),
    st.lists(st.integers(400, 599), max_size=3).map(
        lambda codes: " ".join(["#errors", *map(str, codes)])
    ),
    st.sampled_from(["#hidden", "#hidden # a comment", "#errors +404 0500", "#errors '404'"]),
    st.lists(http_methods(), min_size=1, max_size=3).map(lambda ms: "#methods " + ", ".join(ms)),
    st.sampled_from(["#end", "#end of header", "#end\t"]),
)

_INVALID_LINES = st.one_of(
    st.sampled_from(["#", "# comment", "#\trem", "#REM x", "#Python x.py", "#endx", "#include a"]),
    st.from_regex(r"#[a-z]{2,8}", fullmatch=True).filter(
        lambda s: s[1:] not in {"rem", "python", "template", "load", "forward", "errors",
                                "hidden", "methods", "end"}
    ),
    st.sampled_from(["#python", "#template", "#forward", "#load", "#methods", "#methods ,"]),
    _path(".txt").map("#python {}".format),
    _path(".html").map("#template {}".format),
    _path(".py").map("#forward {}".format),
    _path(".html").map("#load {}".format),
    st.sampled_from(["#errors 99", "#errors 600", "#errors 404 abc", "#errors 4o4"]),
    st.sampled_from(["#methods ''", "#methods G(T", "#methods GET @", "#methods GET\\"]),
    st.sampled_from(["#load =x.pt", "#load <x.pt", "#load x.pt>", "#load v=x.html", "#load <>"]),
    # malformed string literals
    st.sampled_from(
        ["#python 'a' + 'b.py'", "#template \"x\\N{nope}.pspx\"", "#forward 'a\\x.pspx'"]
    ),
)


def header_lines(valid: bool | None = None) -> st.SearchStrategy[str]:
    """Single page-header lines: valid directives (``valid=True``), lines the parser
    must reject (``valid=False``), or both (``None``). Each line is judged alone."""
    if valid is True:
        return _VALID_LINES
    if valid is False:
        return _INVALID_LINES
    return st.one_of(_VALID_LINES, _INVALID_LINES)


# -- hostile paths ---------------------------------------------------------------------
DEFAULT_TARGETS = (
    "index.pspx",
    "index.py",
    "WEB-INF/web.xml",
    "WEB-INF/lib/settings.py",
    "WEB-INF/tlib/layout.pt",
    "__pycache__/index.cpython-311.pyc",
    "sub/WEB-INF/private.txt",
    ".htaccess",
    ".git/config",
    "../../etc/passwd",
)
_SEPARATORS = ("/", "/", "/", "//", "%2f", "%2F", "\\", "%5c", "/./", "/%2e/", "/x/../",
               "/x/%2e%2e/", "/%2e%2e/x/")
_PREFIXES = ("", "", "./", "../", "%2e%2e/", "../../", "..%2f", "..\\", "x/../", ".%2e/")
_SUFFIXES = ("", "", "", ".", "..", "%2e", "/", "%20", " ", "%00", "%00.html", "::$DATA",
             "~", ";", ";x=1", "%3fx", ".bak", "%c0%ae", "%ff")


def _encode_some(text: str, picks: list[bool], upper_hex: bool) -> str:
    out = []
    for char, pick in zip(text, picks + [False] * len(text), strict=False):
        if pick and char.isascii():
            code = f"{ord(char):02X}" if upper_hex else f"{ord(char):02x}"
            out.append("%" + code)
        else:
            out.append(char)
    return "".join(out)


@st.composite
def _hostile_path(draw: st.DrawFn, targets: Sequence[str], urlroot: str) -> str:
    target = draw(st.sampled_from(targets))
    segments = []
    for segment in target.split("/"):
        case = draw(st.sampled_from(["keep", "keep", "upper", "lower", "swap", "mixed"]))
        if case == "upper":
            segment = segment.upper()
        elif case == "lower":
            segment = segment.lower()
        elif case == "swap":
            segment = segment.swapcase()
        elif case == "mixed":
            size = len(segment)
            flips = draw(st.lists(st.booleans(), min_size=size, max_size=size))
            pairs = zip(segment, flips, strict=True)
            segment = "".join(c.swapcase() if f else c for c, f in pairs)
        if draw(st.booleans()):
            picks = draw(st.lists(st.booleans(), max_size=len(segment)))
            segment = _encode_some(segment, picks, draw(st.booleans()))
        if draw(st.integers(0, 9)) == 0:
            segment = segment + "%00" if draw(st.booleans()) else "%00" + segment
        segments.append(segment)
    if draw(st.integers(0, 7)) == 0:  # an over-long name, longer than any file system allows
        length = draw(st.integers(256, 4100))
        at = draw(st.integers(0, len(segments)))
        segments.insert(at, (segments[-1] or "a") * (length // max(1, len(segments[-1])) + 1))
    body = segments[0]
    for segment in segments[1:]:
        body += draw(st.sampled_from(_SEPARATORS)) + segment
    body = draw(st.sampled_from(_PREFIXES)) + body + draw(st.sampled_from(_SUFFIXES))
    return urlroot.rstrip("/") + "/" + body


def hostile_paths(
    targets: Sequence[str] | None = None, *, urlroot: str = "/"
) -> st.SearchStrategy[str]:
    """Request paths aimed at ``targets`` (webapp-relative file paths; default: typical
    source, private and dot files) in disguise: dot segments, ``%2e%2e``, ``%2f``,
    backslashes, NUL bytes, case variants, doubled slashes, trailing dots and junk,
    over-long names, invalid UTF-8."""
    chosen = tuple(targets) if targets else DEFAULT_TARGETS
    return _hostile_path(chosen, urlroot)


# -- whole webapps ---------------------------------------------------------------------
_LAYOUT = (
    '<html metal:define-macro="page"><head><title>tree</title></head>'
    '<body><div metal:define-slot="content">no content</div></body></html>\n'
)
_SHARED_VIEW = (
    "#rem a view several pages render with #template\n"
    "<p>shared view: ${page.request.path}</p>\n"
)
_SHARED_CONTROLLER = (
    "from tincan import Page\n\n\nclass SharedController(Page):\n"
    "    label = 'shared controller'\n"
)
_ERROR_CODES = (400, 403, 404, 405, 410, 418, 500, 503)
_KINDS = ("plain", "code", "hidden", "forward", "template", "controller", "layout", "error")


def _dir_names() -> st.SearchStrategy[str]:
    return st.text(string.ascii_lowercase + string.digits + "-_ ", min_size=1, max_size=8).filter(
        lambda s: s.strip() == s and classify(s + "/x") is FileKind.STATIC
    )


def _relative(from_page: str, to_page: str) -> str:
    """``to_page`` as written in ``from_page``'s header: relative to its directory."""
    here = from_page.split("/")[:-1]
    there = to_page.split("/")
    common = 0
    while common < min(len(here), len(there) - 1) and here[common] == there[common]:
        common += 1
    return "/".join([".."] * (len(here) - common) + there[common:])


def _codebehind(class_name: str, base: str, value: str) -> str:
    return (
        f"from tincan import {base}\n\n\nclass {class_name}({base}):\n"
        f"    greeting = {value!r}\n\n"
        "    def handle(self):\n"
        "        self.handled = True\n"
    )


@st.composite
def _webapp_tree(draw: st.DrawFn, max_pages: int, max_static: int) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {
        "WEB-INF/tlib/layout.pt": _LAYOUT,
        "WEB-INF/views/shared.pspx": _SHARED_VIEW,
        "WEB-INF/controllers/shared.py": _SHARED_CONTROLLER,
        "WEB-INF/secret.txt": "private: never served\n",
    }
    taken = {name.lower() for name in files}
    taken.add("web-inf")

    def claim(relpath: str) -> bool:
        """Reserve a name, ignoring case (a page reserves its code-behind name too)."""
        keys = {relpath.lower()}
        if relpath.endswith(".pspx"):
            keys.add(relpath[: -len(".pspx")].lower() + ".py")
        if keys & taken:
            return False
        taken.update(keys)
        return True

    dirs = [""]
    for name in draw(st.lists(_dir_names(), max_size=3)):
        parent = draw(st.sampled_from(dirs))
        path = f"{parent}/{name}".lstrip("/")
        if claim(path):
            dirs.append(path)

    words = st.text(_WORD_CHARS + " ", min_size=1, max_size=12).map(str.strip).filter(bool)
    normal_pages: list[str] = []
    free_codes = list(_ERROR_CODES)
    catch_all = False
    for number in range(draw(st.integers(1, max_pages))):
        directory = draw(st.sampled_from(dirs))
        name = "index.pspx" if draw(st.integers(0, 4)) == 0 else draw(page_names())
        relpath = f"{directory}/{name}".lstrip("/")
        if not claim(relpath):
            continue
        kind = draw(st.sampled_from(_KINDS))
        if kind == "forward" and not normal_pages:
            kind = "plain"
        if kind == "error" and not free_codes and catch_all:
            kind = "plain"
        header = [f"#rem {draw(words)}" for _ in range(draw(st.integers(0, 2)))]
        text = draw(words)
        body = f"<p>{text}</p>\n"
        if kind == "code":
            value = draw(st.text(st.characters(codec="utf-8"), max_size=20))
            files[relpath[: -len(".pspx")] + ".py"] = _codebehind(f"Page{number}", "Page", value)
            body = f"<p>${{greeting}} {text}</p>\n"
        elif kind == "hidden":
            header.append("#hidden")
        elif kind == "forward":
            target = draw(st.sampled_from(normal_pages))
            written = "/" + target if draw(st.booleans()) else _relative(relpath, target)
            header.append(f"#forward {written!r}")
        elif kind == "template":
            header.append("#template /WEB-INF/views/shared.pspx")
        elif kind == "controller":
            header.append("#python '/WEB-INF/controllers/shared.py'")
            body = f"<p>${{label}}: {text}</p>\n"
        elif kind == "layout":
            header.append("#load <layout.pt>")
            body = (
                '<html metal:use-macro="layout.macros[\'page\']">'
                f'<p metal:fill-slot="content">{text}</p></html>\n'
            )
        elif kind == "error":
            if free_codes and (catch_all or draw(st.booleans())):
                codes = draw(st.lists(st.sampled_from(free_codes), min_size=1, max_size=2,
                                      unique=True))
                free_codes = [c for c in free_codes if c not in codes]
                header.append("#errors " + " ".join(map(str, codes)))
            else:
                catch_all = True
                header.append("#errors")
            body = f"<h1>${{error.status_line}}</h1><p>{text}</p>\n"
            if draw(st.booleans()):
                files[relpath[: -len(".pspx")] + ".py"] = _codebehind(
                    f"ErrorPage{number}", "ErrorPage", text
                )
                body = "<h1>${error.status_line}</h1><p>${greeting}</p>\n"
        if kind not in ("forward", "error") and draw(st.integers(0, 3)) == 0:
            header.append("#methods GET POST")
        if kind not in ("forward", "error"):
            normal_pages.append(relpath)
        if draw(st.integers(0, 5)) == 0:
            header.append("#end")
            body = "# a body line that looks like a directive\n" + body
        files[relpath] = "\n".join([*header, body])

    extensions = ("", ".txt", ".css", ".html", ".js", ".json", ".png", ".svg")
    for _ in range(draw(st.integers(0, max_static))):
        directory = draw(st.sampled_from(dirs))
        if draw(st.integers(0, 4)) == 0:
            name = "index.html"
        else:
            name = draw(st.text(_WORD_CHARS + "-_ ", min_size=1, max_size=10)).strip() or "file"
            name += draw(st.sampled_from(extensions))
        relpath = f"{directory}/{name}".lstrip("/")
        if classify(relpath) is not FileKind.STATIC or not claim(relpath):
            continue
        if relpath.endswith(".png"):
            files[relpath] = draw(st.binary(min_size=1, max_size=64))
        else:
            files[relpath] = f"static {draw(words)}\n"
    if draw(st.booleans()):  # private and ignored files: present, never served
        private_dir = draw(st.sampled_from(dirs))
        spelling = draw(st.sampled_from(["WEB-INF", "web-inf", "Web-Inf"]))
        if private_dir and claim(f"{private_dir}/{spelling}"):
            files[f"{private_dir}/{spelling}/hidden.txt"] = "private below the top level\n"
        dotfile = f"{draw(st.sampled_from(dirs))}/.secret".lstrip("/")
        if claim(dotfile):
            files[dotfile] = "dot file, ignored\n"
    return files


def webapp_trees(*, max_pages: int = 6, max_static: int = 3) -> st.SearchStrategy[
    dict[str, str | bytes]
]:
    """Random valid webapps as ``{relative path: content}``, ready for ``tincan_webapp``.

    Pages (names from :func:`page_names`, some ``index.pspx``) in a few
    directories: plain, with code-behind, ``#hidden``, ``#forward`` (relative or
    absolute, to earlier pages), ``#template`` and ``#python`` into ``WEB-INF``,
    ``#load <layout.pt>``, ``#methods``, ``#end``; error pages for distinct codes
    and at most one catch-all; static files (some ``index.html``); private files
    in ``WEB-INF`` at any depth and spelling, and dot files. Every tree launches
    with no errors, with or without static serving, and renders every page.
    """
    return _webapp_tree(max_pages, max_static)

