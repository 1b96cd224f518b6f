"""A webapp full of things no request may reach, and the checks that prove it.

Everything here is a plain function or dataclass (no pytest fixtures), so the
tree builder, the request helpers, the hypothesis strategies and the property
checks can move into ``tincan-testing`` unchanged.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import py_compile
import socket
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote_to_bytes

import httpx
from hypothesis import settings
from hypothesis import strategies as st
from tincan_testing import strategies as tincan_strategies

TRACEBACK = "Traceback (most recent call last)"
# How Python spells objects, classes and modules it has no better text for.
PYTHON_REPRS = (" object at 0x", "<class '", "<module '", "<function ", "<bound method ")
SERVER_NAME = "testserver"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# --------------------------------------------------------------------------------------
# The webapp
# --------------------------------------------------------------------------------------
@dataclass
class SecureTree:
    """A webapp on disk and what it is allowed to show.

    ``secrets`` maps every file no request may ever see (webapp-relative) to the
    marker string inside it; ``static`` maps each servable static file to its exact
    content; ``pages`` maps each routed page to a text its rendering contains;
    ``indexes`` maps a directory (``""`` for the top) to the file answering it.
    """

    root: Path
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    static: dict[str, bytes] = field(default_factory=dict, repr=False)
    pages: dict[str, str] = field(default_factory=dict, repr=False)
    indexes: dict[str, str] = field(default_factory=dict, repr=False)
    outside: list[Path] = field(default_factory=list, repr=False)  # more paths never to show

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"SecureTree({str(self.root)!r})")  # keeps failure reports readable

    @property
    def markers(self) -> list[str]:
        return sorted(set(self.secrets.values()))

    @property
    def names(self) -> list[str]:
        """Every file name the tree has, public and secret, for building hostile URLs."""
        return sorted({*self.secrets, *self.static, *self.pages})

    def forbidden(self) -> list[str]:
        """Strings that must never appear in any response: markers, paths, tracebacks,
        Python reprs (no page of these trees renders an object)."""
        return [*forbidden_strings(self.markers, [self.root, *self.outside]), *PYTHON_REPRS]

    def public_routes(self, urlroot: str) -> dict[str, tuple[str, bytes | str]]:
        """URL path -> ("static", exact bytes) or ("page", text the body contains)."""
        prefix = urlroot.rstrip("/")
        routes: dict[str, tuple[str, bytes | str]] = {}
        for relpath, content in self.static.items():
            routes[f"{prefix}/{relpath}"] = ("static", content)
        for relpath, text in self.pages.items():
            routes[f"{prefix}/{relpath}"] = ("page", text)
        for directory, relpath in self.indexes.items():
            target = routes[f"{prefix}/{relpath}"]
            base = f"{prefix}/{directory}" if directory else prefix
            routes[f"{base}/"] = target  # the directory without its slash redirects here
        return routes


def marker(name: str) -> str:
    """A string that exists only inside the file ``name`` of one test tree."""
    return f"SECRET-{name.replace('/', '_')}-{uuid.uuid4().hex}"


def forbidden_strings(markers: Iterable[str], paths: Iterable[Path]) -> list[str]:
    """Markers, every spelling of the file-system paths, and traceback headers."""
    found = [*markers, TRACEBACK]
    for path in paths:
        for variant in {str(path), os.path.realpath(path)}:
            found += [variant, repr(variant), repr(Path(variant))]
    return found


def _write(root: Path, relpath: str, content: str | bytes) -> None:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)


def build_secure_tree(root: Path) -> SecureTree:
    """Write a webapp with pages, code-behind, macros, bytecode, private and dot files,
    upper-case source suffixes and static files. Every source or private file holds a
    unique marker where rendering never shows it (Chameleon ``<!--! -->`` comments,
    ``#rem`` header lines, unexported module constants)."""
    tree = SecureTree(root=root)

    def secret(relpath: str, template: str) -> None:
        token = marker(relpath)
        tree.secrets[relpath] = token
        _write(root, relpath, template.replace("@SECRET@", token))

    def public(relpath: str, content: bytes) -> None:
        tree.static[relpath] = content
        _write(root, relpath, content)

    # Private: WEB-INF at the top and deeper, in any case, and what lives in it.
    secret("WEB-INF/config.txt", "password = @SECRET@\n")
    secret("WEB-INF/lib/securehelper.py", 'TOKEN = "@SECRET@"\n\ndef shout(text):\n'
           "    return text.upper()\n")
    secret("WEB-INF/tlib/layout.pt", '<html metal:define-macro="page"><!--! @SECRET@ -->'
           '<body metal:define-slot="body"/></html>\n')
    secret("WEB-INF/shared.pspx", "#rem @SECRET@\n<p>shared</p>\n")
    secret("sub/WEB-INF/nested.txt", "@SECRET@\n")
    secret("sub/Web-Inf/mixed.txt", "@SECRET@\n")
    # Ignored: dot names anywhere.
    secret(".env", "KEY=@SECRET@\n")
    secret(".git/config", "[core]\n# @SECRET@\n")
    secret("sub/.hidden.txt", "@SECRET@\n")
    secret("sub/.cache/data.txt", "@SECRET@\n")
    # Never served, whatever the case of the suffix.
    secret("X.PY", 'VALUE = "@SECRET@"\n')
    secret("Y.PSPX", "#rem @SECRET@\n<p>upper page</p>\n")
    secret("z.Pt", "<div><!--! @SECRET@ --></div>\n")
    secret("w.PYC", "@SECRET@\n")
    secret("sub/menu.pt", '<ul metal:define-macro="menu"><!--! @SECRET@ --><li>menu</li></ul>\n')
    secret("__pycache__/stray.txt", "@SECRET@\n")
    # Editor, patch and backup copies of sources (SPEC §1, 0.2): never served either.
    secret("index.py~", 'VALUE = "@SECRET@"\n')
    secret("sub/page.pspx.bak", "#rem @SECRET@\n<p>old page</p>\n")
    secret("x.py.orig", 'VALUE = "@SECRET@"\n')
    secret("#index.py#", 'VALUE = "@SECRET@"\n')
    secret("#index.pspx#", "#rem @SECRET@\n<p>autosave</p>\n")
    secret("about.pspx.swp", "#rem @SECRET@\n")
    secret("stats.py.BAK", 'VALUE = "@SECRET@"\n')
    secret("jquery.py.js", "// @SECRET@\n")
    secret("style.css.orig", "/* @SECRET@ */\n")
    secret("fix.rej", "@SECRET@\n")
    secret("WEB-INF.bak/lib/oldhelper.py", 'TOKEN = "@SECRET@"\n')
    secret("sub/Web-Inf-old/notes.txt", "@SECRET@\n")
    secret("WEB-INF.zip", "@SECRET@\n")
    # Pages and their code-behind: the sources are secret, the renderings public.
    secret("index.pspx", "#rem @SECRET@\n#load <layout.pt>\n"
           '<html metal:use-macro="layout.macros.page"><body metal:fill-slot="body">'
           "<!--! @SECRET@ --><p>${greeting}</p></body></html>\n")
    secret("index.py", 'import securehelper\nfrom tincan import Page\n\n_KEY = "@SECRET@"\n\n'
           "class IndexPage(Page):\n    def handle(self):\n"
           '        self.greeting = securehelper.shout("public-page-index")\n')
    tree.pages["index.pspx"] = "PUBLIC-PAGE-INDEX"
    tree.indexes[""] = "index.pspx"
    secret("sub/page.pspx", "#rem @SECRET@\n#load menu.pt\n<div><!--! @SECRET@ -->"
           '<p>${label}</p><ul metal:use-macro="menu.macros.menu"/></div>\n')
    secret("sub/page.py", 'from tincan import Page\n\nSECRET = "@SECRET@"\n\n'
           'class SubPage(Page):\n    label = "PUBLIC-PAGE-SUB"\n')
    tree.pages["sub/page.pspx"] = "PUBLIC-PAGE-SUB"
    secret("forwarded.pspx", "#rem @SECRET@\n#forward sub/page.pspx\n")
    tree.pages["forwarded.pspx"] = "PUBLIC-PAGE-SUB"
    secret("hidden.pspx", "#rem @SECRET@\n#hidden\n<p>hidden page</p>\n")
    secret("error.pspx", "#rem @SECRET@\n#errors\n<!--! @SECRET@ -->"
           "<p>PUBLIC-ERROR ${error.status_line} ${error.body}</p>\n")
    # Static content, including names that look like rule syntax or need quoting.
    public("style.css", b"body { color: #123456 }\n")
    public("robots.txt", b"PUBLIC-ROBOTS\n")
    public("README.TXT", b"PUBLIC-README\n")
    public("read me.txt", b"PUBLIC-SPACE\n")
    public("caf\u00e9.txt", "PUBLIC-CAF\u00c9\n".encode())
    public("sub/data.txt", b"PUBLIC-DATA\n")
    public("sub/index.html", b"<p>PUBLIC-SUB-INDEX</p>\n")
    public("sub/<name>.txt", b"PUBLIC-RULE-SYNTAX\n")
    public("img/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    tree.indexes["sub"] = "sub/index.html"

    compile_bytecode(tree)
    return tree


def compile_bytecode(tree: SecureTree) -> None:
    """Write ``__pycache__`` bytecode for every ``.py`` of the tree; each ``.pyc``
    carries its source's marker (a string constant), so it is a secret too."""
    for relpath, token in list(tree.secrets.items()):
        if not relpath.endswith(".py"):
            continue
        cfile = py_compile.compile(str(tree.root / relpath), doraise=True)
        tree.secrets[Path(cfile).relative_to(tree.root).as_posix()] = token


class RecordingHandler(logging.Handler):
    """Keeps every record a logger emits, for assertions on what a launch reported."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == level]


@contextlib.contextmanager
def recording(name: str) -> Iterator[tuple[logging.Logger, RecordingHandler]]:
    """A logger for ``launch(logger=...)`` and the handler that records what it logs."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    handler = RecordingHandler()
    logger.addHandler(handler)
    try:
        yield logger, handler
    finally:
        logger.removeHandler(handler)


def forget_webapp(root: Path) -> None:
    """Undo what launching ``root`` added to the interpreter (``WEB-INF/lib`` on
    ``sys.path``, code-behind modules), so many throwaway trees don't pile up."""
    prefix = os.path.realpath(root)
    sys.path[:] = [p for p in sys.path if not os.path.realpath(p).startswith(prefix)]
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None) or ""
        if origin and os.path.realpath(origin).startswith(prefix):
            del sys.modules[name]


# --------------------------------------------------------------------------------------
# Sending requests
# --------------------------------------------------------------------------------------
@dataclass
class Reply:
    """One response, and the path the application saw after its own decoding."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    seen_path: str | None


class PathRecorder:
    """WSGI middleware remembering the ``PATH_INFO`` the application ended up with.

    Bottle replaces ``PATH_INFO`` with its UTF-8 decoding in the environ it is
    given, so after the call the recorder holds the path that was routed.
    """

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.seen: str | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            return self.app(environ, start_response)
        finally:
            self.seen = environ.get("PATH_INFO")


def latin1_path_shim(app: WsgiApp) -> WsgiApp:
    """Make httpx's WSGI transport pass ``PATH_INFO`` the way WSGI servers do.

    httpx puts the percent-decoded path in as a Unicode string; PEP 3333 servers
    pass the raw bytes decoded as latin-1, and Bottle relies on that.
    """

    def shimmed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ["PATH_INFO"] = environ["PATH_INFO"].encode("utf-8", "surrogatepass").decode(
            "latin-1"
        )
        return app(environ, start_response)

    return shimmed


def httpx_client(app: WsgiApp) -> tuple[httpx.Client, PathRecorder]:
    recorder = PathRecorder(app)
    transport = httpx.WSGITransport(app=latin1_path_shim(recorder))
    client = httpx.Client(transport=transport, base_url=f"http://{SERVER_NAME}")
    return client, recorder


def _httpx_safe(path: str) -> str:
    """Percent-encode the characters httpx refuses to put in a URL (controls)."""
    return "".join(quote(c, safe="") if ord(c) < 0x20 or ord(c) == 0x7F else c for c in path)


def send_httpx(
    client: httpx.Client, recorder: PathRecorder, method: str, path: str,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """Send ``path`` as a client would: httpx parses and normalises the URL.

    A path must start with ``/`` here; otherwise the URL parser would read the
    start of it as part of the host name.
    """
    if not path.startswith("/"):
        path = "/" + path
    recorder.seen = None
    response = client.request(method, f"http://{SERVER_NAME}" + _httpx_safe(path),
                              headers=dict(headers or {}))
    return Reply(response.status_code, list(response.headers.multi_items()), response.content,
                 recorder.seen)


def wsgi_path_info(raw_path: str) -> str:
    """``PATH_INFO`` as a server derives it from the request target: percent-decoded
    bytes as latin-1, with no normalisation at all (dot segments reach the app)."""
    return unquote_to_bytes(raw_path.encode("utf-8", "surrogatepass")).decode("latin-1")


def send_raw(
    app: WsgiApp, method: str, path_info: str, headers: Mapping[str, str] | None = None,
    query: str = "",
) -> Reply:
    """Call the application with a hand-built environ, so paths no client would
    send (NUL, ``..``, raw ``\\``, invalid UTF-8) still reach it."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": SERVER_NAME,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": "0",
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
    captured: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]],
                       exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"], captured["headers"] = status, response_headers
        return lambda _: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return Reply(int(captured["status"].split()[0]), list(captured["headers"]), body,
                 environ.get("PATH_INFO"))


def request_target(path: str) -> bytes:
    """``path`` as the request-target of a raw HTTP request: UTF-8, with whitespace
    and control characters percent-encoded so the request line stays one line."""
    return "".join(
        quote(c, safe="") if ord(c) <= 0x20 or ord(c) == 0x7F else c for c in path
    ).encode("utf-8", "surrogatepass")


def send_wire(address: tuple[str, int], request: bytes, timeout: float = 30.0) -> Reply | None:
    """Send raw bytes to a live server and read the answer until it closes the
    connection. ``None`` when the server closed without an HTTP response."""
    with socket.create_connection(address, timeout=timeout) as sock:
        try:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer (and close) before reading everything
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        return None
    headers = [tuple(line.split(":", 1)) for line in lines[1:] if ":" in line]
    return Reply(int(parts[1]), [(k.strip(), v.strip()) for k, v in headers], body, None)


# --------------------------------------------------------------------------------------
# Property checks
# --------------------------------------------------------------------------------------
def assert_no_server_error(reply: Reply, what: str) -> None:
    assert reply.status < 500, f"{what}: {reply.status} {reply.body[:300]!r}"


def assert_no_leak(reply: Reply, forbidden: Iterable[str], what: str) -> None:
    """No marker, file-system path, path repr or traceback in the body or headers."""
    texts = [reply.body.decode("latin-1")]
    texts += [f"{name}: {value}" for name, value in reply.headers]
    # Bodies may spell non-ASCII characters as UTF-8; check that reading too.
    texts.append(reply.body.decode("utf-8", "replace"))
    for text in texts:
        for needle in forbidden:
            assert needle not in text, f"{what}: response contains {needle!r}"


def assert_ok_only_when_public(
    reply: Reply, method: str, routes: Mapping[str, tuple[str, bytes | str]], what: str,
) -> None:
    """A 200 only for GET/HEAD of a routed page or static file, with that file's
    content (static) or rendering (page); HEAD bodies are empty."""
    if reply.status != 200:
        return
    assert method.upper() in ("GET", "HEAD"), f"{what}: 200 for method {method}"
    seen = reply.seen_path or "/"  # an empty PATH_INFO is the application's root
    assert seen in routes, f"{what}: 200 for unrouted path {seen!r}"
    kind, expected = routes[seen]
    if method == "HEAD":
        assert reply.body == b"", f"{what}: HEAD with a body"
    elif method.upper() == "HEAD" and not reply.body:
        pass  # "HEAd" is routed like HEAD but is not HEAD: with or without a body
    elif kind == "static":
        assert reply.body == expected, f"{what}: wrong content for {seen!r}"
    else:
        assert isinstance(expected, str)
        assert expected in reply.body.decode("utf-8"), f"{what}: wrong page"


def check_reply(
    reply: Reply, method: str, tree: SecureTree, urlroot: str, what: str
) -> None:
    """Every security property of one response."""
    assert_no_server_error(reply, what)
    assert_no_leak(reply, tree.forbidden(), what)
    assert_ok_only_when_public(reply, method, tree.public_routes(urlroot), what)


# --------------------------------------------------------------------------------------
# Hostile URLs
# --------------------------------------------------------------------------------------
DOT_SEGMENTS = (
    ".", "..", "...", "%2e", "%2e%2e", "%2E%2e", "%2e%2E", "%2E%2E", ".%2e", "%2e.",
    "%252e%252e", "%c0%ae%c0%ae", "%e0%80%ae%e0%80%ae", "..;", ".. ", "..%00",
)
SEPARATORS = (
    "/", "/", "/", "//", "///", "%2f", "%2F", "\\", "%5c", "%5C", "/./", "%252f", "%c0%af",
    "\\\\", "/;/",
)
LEADS = ("/", "//", "/%2f", "/./", "/../", "\\", "/%5c", "/%2e%2e/")
SUFFIXES = (
    "", "", "", ".", "..", " ", "%20", "%00", "\x00", "%00.txt", ";", ";x=1", "%3b", "::$DATA",
    "/", "%2f", "~", ".bak", "%0a", "%0d%0a", "%3f", "%23", "\\", ". . .", "%ff", "%c0",
)
LOOKALIKES = {
    ".": ("\u2024", "\uff0e", "\u3002", "\u00b7"),
    "/": ("\u2215", "\uff0f", "\u2044"),
    "-": ("\u2010", "\u2011", "\u2212"),
    "a": ("\u0430",), "e": ("\u0435",), "o": ("\u043e",), "p": ("\u0440",),
    "y": ("\u0443",), "x": ("\u0445",), "i": ("\u0456", "\u0131"), "s": ("\u017f",),
    "I": ("\u0130", "\u0406"), "E": ("\u0415",), "B": ("\u0412",), "N": ("\u039d",),
    "F": ("\u03dc",), "k": ("\u212a",),
}


def case_variants(text: str) -> st.SearchStrategy[str]:
    letters = [i for i, c in enumerate(text) if c.lower() != c.upper()]

    def flip(flags: list[bool]) -> str:
        chars = list(text)
        for i, flag in zip(letters, flags, strict=False):
            if flag:
                chars[i] = chars[i].swapcase()
        return "".join(chars)

    return st.lists(st.booleans(), min_size=len(letters), max_size=len(letters)).map(flip)


def percent_variants(text: str) -> st.SearchStrategy[str]:
    """``text`` with some characters percent-encoded (either hex case), some twice."""

    def encode(flags: list[int]) -> str:
        out = []
        for char, flag in zip(text, flags, strict=True):
            if flag == 0:
                out.append(char)
                continue
            encoded = "".join(f"%{b:02X}" for b in char.encode("utf-8"))
            if flag == 2:
                encoded = encoded.lower()
            elif flag == 3:
                encoded = encoded.replace("%", "%25")
            out.append(encoded)
        return "".join(out)

    size = len(text)
    return st.lists(st.integers(0, 3), min_size=size, max_size=size).map(encode)


def lookalike_variants(text: str) -> st.SearchStrategy[str]:
    spots = [i for i, c in enumerate(text) if c in LOOKALIKES]
    if not spots:
        return st.just(text)

    def swap(choices: list[int]) -> str:
        chars = list(text)
        for i, choice in zip(spots, choices, strict=True):
            if choice:
                options = LOOKALIKES[chars[i]]
                chars[i] = options[(choice - 1) % len(options)]
        return "".join(chars)

    return st.lists(st.integers(0, 3), min_size=len(spots), max_size=len(spots)).map(swap)


def name_variants(name: str) -> st.SearchStrategy[str]:
    """A real name as written, or spelt in a way that might fool a naive check."""
    return st.one_of(
        st.just(name),
        st.just(name),
        st.just(name),
        case_variants(name),
        percent_variants(name),
        lookalike_variants(name),
        st.tuples(case_variants(name), st.sampled_from(SUFFIXES)).map("".join),
    )


def spellings(relpath: str, urlroot: str = "/") -> list[str]:
    """A fixed list of tricky spellings of one real file's URL, to try them all."""
    prefix = urlroot.rstrip("/")
    directory, _, name = relpath.rpartition("/")
    base = f"{prefix}/{directory}/" if directory else f"{prefix}/"
    encoded = "".join(f"%{b:02x}" for b in relpath.encode("utf-8"))
    found = [
        f"{prefix}/{relpath}",
        f"{prefix}/{relpath.upper()}",
        f"{prefix}/{relpath.lower()}",
        f"{prefix}/{relpath.swapcase()}",
        f"{prefix}/{encoded}",
        f"{prefix}/{encoded.upper()}",
        f"{prefix}/{relpath.replace('/', '%2f')}",
        f"{prefix}/{relpath.replace('/', chr(92))}",
        f"{prefix}/{relpath.replace('/', '//')}",
        f"{prefix}//{relpath}",
        f"{prefix}/./{relpath}",
        f"{prefix}/%2e/{relpath}",
        f"{prefix}/sub/../{relpath}",
        f"{prefix}/sub/%2e%2e/{relpath}",
        f"{prefix}/sub/%2E%2e/{relpath}",
        f"{prefix}/sub%2f..%2f{relpath}",
        f"{prefix}/sub%5c..%5c{relpath}",
        f"{prefix}/../{relpath}",
        f"{prefix}/%2e%2e/{relpath}",
        f"{base}{name.replace('.', '%2e')}",
        f"{base}{name.replace('.', chr(0x2024))}",
        f"{base}{name.replace('.', chr(0xFF0E))}",
        f"{base}{name.replace('.', '%c0%ae')}",
    ]
    found += [f"{prefix}/{relpath}{suffix}" for suffix in SUFFIXES if suffix]
    return found


def hostile_segments(names: list[str]) -> st.SearchStrategy[str]:
    parts = sorted({p for name in names for p in name.split("/")})
    return st.one_of(
        st.sampled_from(names).flatmap(name_variants),
        st.sampled_from(parts).flatmap(name_variants),
        st.sampled_from(DOT_SEGMENTS),
        st.integers(100, 4000).map(lambda n: "A" * n),
        st.integers(2, 60).map(lambda n: "../" * n),
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
    )


@st.composite
def hostile_paths(draw: st.DrawFn, names: list[str], urlroot: str = "/") -> str:
    """Request paths mixing the tree's real names with every trick in the book.

    Half are one real name under the right prefix, spelt some other way
    (case, encoding, look-alikes, a suffix); the rest combine several segments.
    """
    prefix = urlroot.rstrip("/")
    if draw(st.booleans()):
        name = draw(st.sampled_from(names).flatmap(name_variants))
        return f"{prefix}/{name}"
    if prefix:
        start = draw(st.sampled_from(
            [prefix, prefix, prefix.upper(), prefix + "/..", prefix + "%2f", "", prefix + "/."]
        ))
    else:
        start = ""
    count = draw(st.integers(1, 5))
    segments = [draw(hostile_segments(names)) for _ in range(count)]
    path = draw(st.sampled_from(LEADS)) + segments[0]
    for segment in segments[1:]:
        path += draw(st.sampled_from(SEPARATORS)) + segment
    return start + path + draw(st.sampled_from(SUFFIXES))


def any_hostile_path(names: list[str], urlroot: str = "/") -> st.SearchStrategy[str]:
    """This module's hostile paths, and tincan-testing's (aimed at the same names)."""
    return st.one_of(
        hostile_paths(names, urlroot),
        tincan_strategies.hostile_paths(names, urlroot=urlroot),
    )


def scaled_examples(count: int) -> int:
    """``count`` examples under the default profile (100), proportionally more or
    fewer under another one, so a thorough run is thorough here too."""
    return max(1, count * settings().max_examples // 100)


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT")


def methods() -> st.SearchStrategy[str]:
    """Standard methods, odd-case spellings and arbitrary HTTP tokens, plus
    tincan-testing's method names."""
    return st.one_of(
        st.sampled_from(HTTP_METHODS),
        st.sampled_from(HTTP_METHODS).flatmap(case_variants),
        st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,24}", fullmatch=True),
        tincan_strategies.http_methods(),
    )
