"""Issue 8: generated webapps on the common ground answer as the original did.

Trees come from tincan-testing's ``webapp_trees`` (directives, code-behind,
``#forward``, ``#template``/``#python`` into WEB-INF, layouts, error pages,
static files, private and dot files), plus pages whose code-behind aborts,
redirects, raises, sets headers and cookies, echoes the query and the form, and
forwards with ``request.app.forward()``; they launch under several urlroots and
encodings, with and without static files. Every tree goes to both
implementations with the same requests; everything must agree except what
``tests/_original.py``'s ``KNOWN_DIFFERENCES`` table explains.

Outside the common ground, left out here: page names with Bottle's rule syntax
(``<x>``, ``:x``; SPEC §2 Fixed: the original made them wildcards that caught
other URLs or crashed with a 500), so such names are respelt; non-ASCII page
text in a non-UTF-8 launch encoding (SPEC §3 Fixed: the original always read
pages as UTF-8); ``#forward`` loops and other launch errors (the named cases
cover what launches differently).
"""

from __future__ import annotations

import ast
import email.utils
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_core import FileKind, classify
from tincan_testing.strategies import webapp_trees

from tests._original import Request, Sides, launch_both, session_sides

pytestmark = pytest.mark.slow

Files = dict[str, "str | bytes | None"]

_RESPELL = str.maketrans({"<": "(", ">": ")", ":": "!"})
# Page text must be ASCII in a non-UTF-8 launch encoding, #forward lines included.
_RESPELL_ASCII = str.maketrans({"<": "(", ">": ")", ":": "!", "é": "e"})
_ENCODINGS = ("utf-8", "latin-1", "cp1252")
_URLROOTS = ("/", "/app", "/app/", "/a/b")
# Text each encoding can carry, for static files and macro files.
_NON_ASCII = "café, naïve, déjà vu"


@pytest.fixture(scope="session")
def sides(request: pytest.FixtureRequest) -> Sides:
    return session_sides(request)


# -- trees -------------------------------------------------------------------------------
def _header(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
        if line.split()[0] == "#end":
            break
    return lines


def _directives(text: str) -> set[str]:
    return {line.split()[0] for line in _header(text)}


def _respell(files: Mapping[str, str | bytes | None], ascii_only: bool) -> Files | None:
    """``files`` with Bottle's rule syntax (and, if ``ascii_only``, non-ASCII letters)
    taken out of every name and ``#forward`` line, or ``None`` if two names then collide."""
    table = _RESPELL_ASCII if ascii_only else _RESPELL
    out: Files = {}
    for relpath, content in files.items():
        new = relpath.translate(table)
        if isinstance(content, str) and relpath.endswith(".pspx"):
            lines = content.split("\n")
            for number, line in enumerate(lines):
                if line.startswith("#forward "):
                    target = ast.literal_eval(line[len("#forward ") :])
                    lines[number] = f"#forward {target.translate(table)!r}"
            content = "\n".join(lines)
        key = new.lower()
        if any(k.lower() == key for k in out):
            return None
        out[new] = content
    return out


def _page_kind(text: str) -> str:
    found = _directives(text)
    if "#errors" in found:
        return "error"
    if "#hidden" in found:
        return "hidden"
    return "page"


def _routed_pages(files: Mapping[str, str | bytes | None]) -> list[str]:
    return [
        relpath
        for relpath, content in files.items()
        if relpath.endswith(".pspx")
        and isinstance(content, str)
        and classify(relpath) is FileKind.PAGE
        and _page_kind(content) == "page"
    ]


_BEHAVIOURS = {
    "abort": (
        "import bottle\nfrom tincan import Page\n\n\nclass Abort(Page):\n"
        "    def handle(self):\n        bottle.abort({code}, 'stopped: {code}')\n"
    ),
    "crash": (
        "from tincan import Page\n\n\nclass Crash(Page):\n"
        "    def handle(self):\n        raise RuntimeError('page code failed')\n"
    ),
    "redirect": (
        "import bottle\nfrom tincan import Page\n\n\nclass Redirect(Page):\n"
        "    def handle(self):\n        bottle.redirect({target!r}, {code})\n"
    ),
    "headers": (
        "from tincan import Page\n\n\nclass Headers(Page):\n"
        "    def handle(self):\n"
        "        self.response.status = {code}\n"
        "        self.response.set_header('X-Page', 'headers')\n"
        "        self.response.set_cookie('visited', 'yes', path='/')\n"
    ),
    "echo": (
        "from tincan import Page\n\n\nclass Echo(Page):\n"
        "    def handle(self):\n"
        "        self.q = self.request.query.get('q', '')\n"
        "        self.f = self.request.forms.get('f', '')\n"
        "        self.m = self.request.method\n"
    ),
    "forward": (
        "from tincan import Page\n\n\nclass Forward(Page):\n"
        "    def handle(self):\n        self.request.app.forward({target!r})\n"
    ),
}
_BEHAVIOUR_BODIES = {
    "echo": "#methods GET POST\n<p>${m} q=${q} f=${f}</p>\n",
}


@dataclass
class Corpus:
    files: Files
    urlroot: str
    static: bool
    encoding: str
    multithread: bool
    forwards: dict[str, str]


def _relative(from_page: str, to_page: str) -> str:
    here = from_page.split("/")[:-1]
    there = to_page.split("/")
    common = 0
    while common < min(len(here), len(there) - 1) and here[common] == there[common]:
        common += 1
    return "/".join([".."] * (len(here) - common) + there[common:])


@st.composite
def corpora(draw: st.DrawFn) -> Corpus:
    encoding = draw(st.sampled_from(_ENCODINGS))
    tree = dict(draw(webapp_trees(max_pages=6, max_static=3)))
    files = _respell(tree, ascii_only=encoding != "utf-8")
    if files is None:
        files = {"index.pspx": "<p>respelling made two names collide</p>\n"}
    urlroot = draw(st.sampled_from(_URLROOTS))
    forwards: dict[str, str] = {}
    pages = _routed_pages(files)
    for number in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(sorted(_BEHAVIOURS)))
        name = f"behaviour-{number}-{kind}.pspx"
        code = draw(st.sampled_from([403, 404, 410, 418, 500, 503]))
        target = ""
        if kind == "redirect":
            code = draw(st.sampled_from([301, 302, 303, 307, 308]))
            target = quote(draw(st.sampled_from(pages))) if pages else "elsewhere.pspx"
        elif kind == "headers":
            code = draw(st.sampled_from([200, 201, 202, 203]))
        elif kind == "forward":
            if not pages:
                continue
            goal = draw(st.sampled_from(pages))
            target = _relative(name, goal)
            forwards[name] = goal
        files[name] = _BEHAVIOUR_BODIES.get(kind, "<p>behaviour page</p>\n")
        files[name[: -len(".pspx")] + ".py"] = _BEHAVIOURS[kind].format(code=code, target=target)
    if draw(st.booleans()):  # text beyond ASCII in the launch encoding
        files["WEB-INF/tlib/words.pt"] = f'<span metal:define-macro="words">{_NON_ASCII}</span>\n'
        files["words.pspx"] = (
            "#load <words.pt>\n<p metal:use-macro=\"words.macros['words']\">x</p>\n"
        )
        files["notes/words.txt"] = _NON_ASCII + "\n"
    return Corpus(
        files=files,
        urlroot=urlroot,
        static=draw(st.booleans()),
        encoding=encoding,
        multithread=draw(st.booleans()),
        forwards=forwards,
    )


# -- requests ----------------------------------------------------------------------------
_FORM = (("Content-Type", "application/x-www-form-urlencoded"),)


def _requests(corpus: Corpus, last_modified: str | None) -> Iterator[Request]:
    prefix = corpus.urlroot.rstrip("/")

    def url(relpath: str) -> str:
        return prefix + "/" + quote(relpath)

    for relpath, content in sorted(corpus.files.items()):
        if content is None:
            continue
        target = url(relpath)
        yield Request("GET", target)
        yield Request("HEAD", target)
        if relpath.endswith(".pspx"):
            yield Request("POST", target, _FORM, b"f=posted+value")
            yield Request("GET", target + "?q=a+query&x=%C3%A9")
        name = relpath.rsplit("/", 1)[-1]
        if name in ("index.pspx", "index.html", "index.htm"):
            directory = relpath[: -len(name)]
            yield Request("GET", url(directory))
            bare = url(directory).rstrip("/")
            # "/" has no slash-less form; for urlroot "/app/" the original had no "/app"
            if bare and not (bare == prefix and corpus.urlroot.endswith("/")):
                yield Request("GET", bare)
                yield Request("POST", bare, _FORM, b"f=1")
                yield Request("POST", url(directory), _FORM, b"f=1")
    for missing in ("no-such-page.pspx", "no/such/dir/", "WEB-INF/", "WEB-INF/tlib/layout.pt"):
        yield Request("GET", url(missing))
    if last_modified is not None:
        for relpath, content in corpus.files.items():
            if classify(relpath) is FileKind.STATIC and content is not None:
                yield Request("GET", url(relpath), (("If-Modified-Since", last_modified),))
                break


def _static_mtime(corpus: Corpus, root: Path) -> str | None:
    for relpath, content in corpus.files.items():
        if classify(relpath) is FileKind.STATIC and content is not None:
            mtime = (root / relpath).stat().st_mtime
            return email.utils.formatdate(mtime + 1, usegmt=True)
    return None


# -- the property ------------------------------------------------------------------------
# Half the profile's examples: each one launches two webapps (50 by default, 500 with
# HYPOTHESIS_PROFILE=thorough).
_EXAMPLES = max(10, settings().max_examples // 2)


@settings(max_examples=_EXAMPLES)
@given(corpus=corpora())
def test_generated_webapps_answer_as_the_original_did(
    sides: Sides, tmp_path_factory: pytest.TempPathFactory, corpus: Corpus
) -> None:
    base = tmp_path_factory.mktemp("corpus")
    try:
        webapps = launch_both(
            sides,
            base,
            corpus.files,
            encoding=corpus.encoding,
            forwards=corpus.forwards,
            urlroot=corpus.urlroot,
            static=corpus.static,
            multithread=corpus.multithread,
        )
        webapps.assert_launched_alike()
        requests = list(_requests(corpus, _static_mtime(corpus, webapps.ours_root)))
        found = webapps.mismatches(requests)
        assert not found, f"{len(found)} of {len(requests)} requests differ:\n" + "\n".join(found)
    finally:
        shutil.rmtree(base, ignore_errors=True)
