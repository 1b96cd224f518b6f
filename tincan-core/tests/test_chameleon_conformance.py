"""TinCan pages render as plain Chameleon renders the same template, byte for byte.

Every template of a corpus is served in four forms: as a page without a header,
as a page with header lines above it, through ``#template`` from a view with a
header of its own, and as a ``#load``ed macro file rendered whole. Each form is
requested (without and with a ``target_language``) after a cold launch and
again after a launch from the template cache, and compared with plain
Chameleon: ``PageTemplate`` for page bodies (what the original handed them to),
``PageTemplateFile`` for macro files (what the original read them with). A
template Chameleon refuses to compile is a page that does not launch (404 and a
logged error); one that fails to render is a 500.

Two corpora: a representative set committed in ``data/chameleon_conformance``
(always run), and Chameleon's own test templates, taken from the installed
Chameleon's source distribution (fetched with pip into a cache directory; the
test is skipped, saying why, when the package index cannot be reached).

Anything that differs fails, except the differences listed in
``EXPECTED_DIFFERENCES``, each handled explicitly below.

Both corpora run twice: with TinCan's faster compile (``_fastcompile``, which
reaches into Chameleon's internals for the Chameleon versions it was checked
against) and with it turned off, so that TinCan compiles as plain Chameleon
does. The plain Chameleon that every render is compared with never uses it.
"""

from __future__ import annotations

import codecs
import importlib.metadata
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import tincan_core
from chameleon import PageTemplate, PageTemplateFile
from tincan_core import _cache, _fastcompile, _fastprogram
from tincan_core._header import universal_newlines

DATA = Path(__file__).parent / "data" / "chameleon_conformance"

# Where TinCan differs from plain Chameleon on purpose. Each is applied below,
# where the expected output is made; nothing else may differ.
EXPECTED_DIFFERENCES = {
    "leading newlines": "TinCan strips leading newlines from a rendered page (SPEC 2); "
    "the expected output is Chameleon's with its leading CR/LF characters removed.",
    "page decoding": "Pages are decoded with the launch encoding (UTF-8 here), a UTF-8 "
    "byte-order mark dropped, as the original read them; a page that is not UTF-8 "
    "does not launch. Macro files are decoded as Chameleon decodes files.",
    "page line ends": "Pages are read with universal newlines, as the original read "
    "them in text mode: the expected output is Chameleon's for the text with \\r\\n "
    "and \\r turned into \\n (macro files keep their bytes).",
    "positions count the header": "Line numbers a template prints (tal:on-error's "
    "error.lineno) count the page file's lines, header included, so that they match "
    "the file: for the templates in LINE_NUMBERS_IN_OUTPUT the expected output is "
    "Chameleon's for the body with one blank line per header line (none of them is XML).",
}
LINE_NUMBERS_IN_OUTPUT = frozenset({"on-error-line.pt", "020-on-error.pt"})

VALUES_MODULE = '''\
"""Template variables of the conformance pages (those of Chameleon's own tests)."""


class Literal:
    def __init__(self, s):
        self.s = s

    def __html__(self):
        return self.s

    def __str__(self):
        raise RuntimeError("%r is a literal." % self.s)


class Message:
    def __str__(self):
        return "message"


def values(language):
    return {
        "literal": Literal("<div>Hello world!</div>"),
        "content": "<div>Hello world!</div>",
        "message": Message(),
        "target_language": language,
    }
'''

CODE_BEHIND = """\
from tincan_core import Page
import conformance_values


class Conformance(Page):
    def __init__(self, request, response):
        super().__init__(request, response)
        language = request.query.get("lang") or None
        for name, value in conformance_values.values(language).items():
            setattr(self, name, value)
"""

MACRO_PAGE = (
    "${structure: m(literal=literal, content=content, message=message, "
    "target_language=target_language)}"
)
LANGUAGES = (None, "de")


@dataclass(frozen=True)
class Case:
    name: str  # the template's file name in its corpus
    data: bytes
    key: str  # its name in the webapp


@dataclass(frozen=True)
class Outcome:
    status: int  # 200, 404 (did not launch), 500 (render failed)
    body: bytes | None  # the body of a 200

    @staticmethod
    def of(response: httpx.Response) -> Outcome:
        return Outcome(response.status_code, response.content if response.is_success else None)


# -- the webapp ------------------------------------------------------------------------------

FORMS = {"page": 0, "header": 2, "template": 1, "macro": 0}  # form -> header lines


def _split_bom(data: bytes) -> tuple[bytes, bytes]:
    if data.startswith(codecs.BOM_UTF8):
        return codecs.BOM_UTF8, data[len(codecs.BOM_UTF8) :]
    return b"", data


def macro_name(case: Case) -> str:
    # Names as in the corpus, so that load: expressions find their files.
    return case.name if case.name.endswith(".pt") else case.name + ".pt"


def write_webapp(root: Path, cases: list[Case]) -> None:
    for directory in (
        "WEB-INF/lib",
        "WEB-INF/tlib",
        "WEB-INF/views",
        "page",
        "header",
        "template",
        "macro",
    ):
        (root / directory).mkdir(parents=True, exist_ok=True)
    (root / "WEB-INF/lib/conformance_values.py").write_text(VALUES_MODULE)
    (root / "WEB-INF/conformance.py").write_text(CODE_BEHIND)
    python = b"#python /WEB-INF/conformance.py\n"
    for case in cases:
        bom, rest = _split_bom(case.data)  # a byte-order mark stays at the start of the file
        (root / "page" / f"{case.key}.pspx").write_bytes(case.data)
        (root / "page" / f"{case.key}.py").write_text(
            CODE_BEHIND.replace("class Conformance", "class PageCode")
        )
        (root / "header" / f"{case.key}.pspx").write_bytes(
            bom + python + b"#rem a second header line\n" + rest
        )
        (root / "WEB-INF/views" / f"{case.key}.pspx").write_bytes(bom + b"#rem a view\n" + rest)
        (root / "template" / f"{case.key}.pspx").write_bytes(
            f"#template /WEB-INF/views/{case.key}.pspx\n".encode() + python
        )
        (root / "WEB-INF/tlib" / macro_name(case)).write_bytes(case.data)
        (root / "macro" / f"{case.key}.pspx").write_bytes(
            f"#load m=<{macro_name(case)}>\n".encode() + python + MACRO_PAGE.encode()
        )


# -- plain Chameleon ------------------------------------------------------------------------


def _values(language: str | None) -> dict[str, Any]:
    import conformance_values  # WEB-INF/lib, on sys.path once the webapp launched

    variables: dict[str, Any] = conformance_values.values(language)
    variables["page"] = None  # TinCan's own variable; no corpus template uses it
    return variables


# Plain templates, compiled once per text (or file) for all forms, languages and runs.
_plain_templates: dict[tuple[str, str], Any] = {}


def _plain(key: tuple[str, str], make: Callable[[], Any], language: str | None) -> Outcome:
    with _fastcompile.disabled():  # the reference is always Chameleon's own compile
        template = _plain_templates.get(key)
        if template is None:
            try:
                template = make()
                template.cook_check()
            except Exception as exc:
                template = exc
            _plain_templates[key] = template
        if isinstance(template, Exception):
            return Outcome(404, None)
        try:
            rendered = str(template.render(**_values(language)))
        except Exception:
            return Outcome(500, None)
    return Outcome(200, rendered.lstrip("\r\n").encode("utf-8"))  # "leading newlines"


def page_text(case: Case, header_lines: int) -> str | None:
    """The text plain Chameleon gets for a page form (None: the page cannot be decoded)."""
    try:
        text = case.data.removeprefix(codecs.BOM_UTF8).decode("utf-8")  # "page decoding"
    except UnicodeDecodeError:
        return None
    text = universal_newlines(text)  # "page line ends"
    if case.name in LINE_NUMBERS_IN_OUTPUT:  # "positions count the header"
        assert not text.startswith("<?xml"), "blank lines would change the mode"
        text = "\n" * header_lines + text
    return text


def expected(case: Case, form: str, root: Path, language: str | None) -> Outcome:
    if form == "macro":
        tlib = root / "WEB-INF" / "tlib"
        path = str(tlib / macro_name(case))
        # As the original made it: the launch encoding for bytes and as the default.
        options: dict[str, Any] = {
            "encoding": "utf-8",
            "default_encoding": "utf-8",
            "search_path": [str(tlib)],
        }
        return _plain(("file", path), lambda: PageTemplateFile(path, **options), language)
    text = page_text(case, FORMS[form])
    if text is None:
        return Outcome(404, None)
    return _plain(("text", text), lambda: PageTemplate(text), language)


# -- running a corpus -----------------------------------------------------------------------


def _launch(root: Path) -> tuple[Any, tincan_core.LaunchStats]:
    _cache.shared_programs.clear()  # as a fresh process would
    logger = logging.getLogger(f"conformance.{root.name}")
    logger.disabled = True
    app, _ = tincan_core.launch(root, logger=logger)
    stats = app.config["tincan.stats"]
    assert isinstance(stats, tincan_core.LaunchStats)
    return app, stats


def differences(app: Any, root: Path, cases: list[Case]) -> list[str]:
    found = []
    transport = httpx.WSGITransport(app=app)
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        for case in cases:
            for language in LANGUAGES:
                query = f"?lang={language}" if language else ""
                for form in FORMS:
                    got = Outcome.of(client.get(f"/{form}/{case.key}.pspx{query}"))
                    want = expected(case, form, root, language)
                    if got != want:
                        found.append(
                            f"{case.name} as {form}, target_language={language}: "
                            f"got {got.status} {got.body!r}, Chameleon {want.status} {want.body!r}"
                        )
    return found


def check_corpus(root: Path, cases: list[Case]) -> int:
    """Cold, then from the cache: no difference either time. Returns the renders compared."""
    write_webapp(root, cases)
    app, cold = _launch(root)
    assert differences(app, root, cases) == []
    assert cold.templates_compiled > 0
    app, cached = _launch(root)
    assert differences(app, root, cases) == []
    assert cached.templates_compiled == 0 and cached.cache_writes == 0
    assert cached.templates_loaded == cold.templates_compiled
    return len(cases) * len(LANGUAGES) * len(FORMS)


def committed_cases() -> list[Case]:
    paths = sorted(p for p in DATA.iterdir() if p.suffix == ".pt")
    return [Case(p.name, p.read_bytes(), f"t{i:03d}") for i, p in enumerate(paths)]


@pytest.fixture(params=["faster compile", "plain compile"])
def compile_mode(request: pytest.FixtureRequest) -> Iterator[str]:
    """TinCan compiling with its faster compile, then without it."""
    if request.param == "plain compile":
        with _fastcompile.disabled():
            yield request.param
        return
    if not _fastcompile.install():
        version = importlib.metadata.version("chameleon")
        pytest.skip(
            f"the faster compile is off for Chameleon {version} (or by TINCAN_CHAMELEON_SPEEDUP)"
        )
    yield request.param


def test_committed_templates_render_as_plain_chameleon(tmp_path: Path, compile_mode: str) -> None:
    cases = committed_cases()
    assert len(cases) >= 20
    assert check_corpus(tmp_path / "webapp", cases) == len(cases) * 8


# -- Chameleon's own test templates ---------------------------------------------------------


@pytest.fixture(scope="module")
def chameleon_corpus(chameleon_inputs: Path) -> Iterator[list[Case]]:
    inputs = chameleon_inputs
    paths = sorted(p for p in inputs.iterdir() if p.is_file())
    yield [Case(p.name, p.read_bytes(), f"c{i:03d}") for i, p in enumerate(paths)]


@pytest.mark.slow
def test_chameleons_own_templates_render_as_plain_chameleon(
    tmp_path: Path, chameleon_corpus: list[Case], compile_mode: str
) -> None:
    assert len(chameleon_corpus) >= 200  # 230 inputs in Chameleon 4.6
    check_corpus(tmp_path / "webapp", chameleon_corpus)


def test_chameleons_own_templates_compile_to_plain_chameleons_program(
    chameleon_corpus: list[Case], program_source: Callable[[str], str]
) -> None:
    """Not only the same renders: the faster compile writes the same program."""
    bodies = []
    for case in chameleon_corpus:
        try:
            case.data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        bodies.append(case.data)
    with _fastcompile.disabled():
        plain = [program_source(body.decode("utf-8")) for body in bodies]
    if not _fastcompile.install():
        pytest.skip("the faster compile is off (this Chameleon, or TINCAN_CHAMELEON_SPEEDUP)")
    with _fastprogram.unrewritten():  # it changes the program on purpose: test_fastprogram.py
        fast = [program_source(body.decode("utf-8")) for body in bodies]
    assert sum(1 for source in plain if "def render" in source) >= 150
    assert [i for i, (a, b) in enumerate(zip(fast, plain, strict=True)) if a != b] == []


# -- item by item ---------------------------------------------------------------------------

XML_BODY = '<?xml version="1.0"?>\n<doc><input checked="${True}"/></doc>\n'


@pytest.mark.parametrize("header", ["#rem one line\n", "#rem\n#rem two\n#end\n", ""])
def test_xml_declaration_below_a_header_keeps_xml_mode(
    launch_webapp: Callable[..., Any], header: str
) -> None:
    webapp = launch_webapp({"x.pspx": header + XML_BODY})
    expected = str(PageTemplate(XML_BODY).render())
    assert 'checked="True"' in expected  # XML mode: no boolean attributes
    assert webapp.get("/x.pspx").text == expected


def test_a_blank_line_before_the_declaration_is_html_as_in_plain_chameleon(
    launch_webapp: Callable[..., Any],
) -> None:
    body = "\n" + XML_BODY
    webapp = launch_webapp({"x.pspx": "#rem header\n" + body})
    assert 'checked="checked"' in str(PageTemplate(body).render())
    assert webapp.get("/x.pspx").text == str(PageTemplate(body).render()).lstrip("\n")


@pytest.mark.parametrize(
    "meta",
    [
        '<meta http-equiv="Content-Type" content="text/xml; charset=utf-8" />',
        '<META HTTP-EQUIV="content-type" CONTENT="text/xml; charset=utf-8">',
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />',
        "<p>no meta tag</p>",
    ],
    ids=["xml", "xml-upper-case", "html", "none"],
)
def test_a_meta_content_type_decides_the_mode_as_in_plain_chameleon(
    launch_webapp: Callable[..., Any], meta: str
) -> None:
    body = meta + '\n<input checked="${True}" />'
    webapp = launch_webapp({"x.pspx": "#rem header\n" + body})
    assert webapp.get("/x.pspx").text == str(PageTemplate(body).render())


def test_template_errors_below_a_header_keep_their_file_lines(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {"x.pspx": "#rem a\n#rem b\n" + '<?xml version="1.0"?>\n<doc>\n</p></doc>\n'}
    )
    assert webapp.errors == 1
    assert webapp.log.errors()[0].startswith(f"{webapp.root / 'x.pspx'}:5: template error")


MACRO_USE = "#load <m.pt>\n<div metal:use-macro=\"m.macros['m']\" />"


@pytest.mark.parametrize(
    ("macro", "encoding", "expected"),
    [
        (
            '<?xml version="1.0" encoding="iso-8859-1"?>\n'
            '<p metal:define-macro="m">caf\xe9</p>'.encode("latin-1"),
            "utf-8",
            "<p>café</p>",
        ),
        (
            b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2" />'
            b'<p metal:define-macro="m">\xb1</p>',
            "utf-8",
            "<p>ą</p>",
        ),
        (
            codecs.BOM_UTF8 + '<p metal:define-macro="m">é</p>'.encode(),
            "latin-1",
            "<p>é</p>",
        ),
        ('<p metal:define-macro="m">ü</p>'.encode("utf-16"), "utf-8", "<p>ü</p>"),
        ('<p metal:define-macro="m">ü</p>'.encode("latin-1"), "latin-1", "<p>ü</p>"),
    ],
    ids=["xml-declaration", "meta-charset", "utf-8-bom", "utf-16-bom", "launch-encoding"],
)
def test_macro_files_declaring_their_charset(
    launch_webapp: Callable[..., Any], macro: bytes, encoding: str, expected: str
) -> None:
    webapp = launch_webapp(
        {"WEB-INF/tlib/m.pt": macro, "p.pspx": MACRO_USE.encode(encoding)}, encoding=encoding
    )
    assert webapp.errors == 0, webapp.log.errors()
    assert webapp.get("/p.pspx").text == expected


@pytest.mark.parametrize(
    ("macro", "where", "message"),
    [
        (b"<p>\n<p>\n\xff</p>", 3, "cannot decode as utf-8: invalid start byte"),
        (
            b'<?xml version="1.0" encoding="nope"?>\n<p/>',
            1,
            "declared encoding 'nope' is an unknown encoding",
        ),
        (b'<p/>\n<?xml encoding="base64"?>\n', 1, None),  # not at the start: not a declaration
        (
            b'<?xml version="1.0"\n encoding="base64"?>\n<p/>',
            2,
            "declared encoding 'base64' is not a text encoding",
        ),
    ],
    ids=["undecodable", "unknown", "not-a-declaration", "not-text"],
)
def test_macro_file_decoding_errors_name_file_and_line(
    launch_webapp: Callable[..., Any], macro: bytes, where: int, message: str | None
) -> None:
    webapp = launch_webapp({"WEB-INF/tlib/m.pt": macro, "p.pspx": "#load <m.pt>\n<p>x</p>"})
    if message is None:
        assert webapp.errors == 0
        return
    macro_file = webapp.root / "WEB-INF" / "tlib" / "m.pt"
    assert webapp.log.errors() == [
        f"{webapp.root / 'p.pspx'}:1: #load: {macro_file}:{where}: {message}"
    ]


def test_macro_files_rendered_whole_decode_bytes_with_the_launch_encoding(
    launch_webapp: Callable[..., Any],
) -> None:
    # As the original's PageTemplateFile(encoding=...): only where the macro file
    # itself renders; a use-macro runs in the page's render, with the page's rules.
    webapp = launch_webapp(
        {
            "WEB-INF/tlib/m.pt": "<p>${b'caf\\xe9'}</p>",
            "p.pspx": "#load <m.pt>\n${structure: m()}",
        },
        encoding="latin-1",
    )
    assert webapp.get("/p.pspx").text == "<p>café</p>"


def test_load_expressions_in_macro_files_find_files_beside_them(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "WEB-INF/tlib/m.pt": (
                "<div metal:define-macro='m'><i metal:use-macro=\"load: parts/box.pt\" /></div>"
            ),
            "WEB-INF/tlib/parts/box.pt": "<b>box ${word}</b>",
            "p.pspx": "#load <m.pt>\n<div metal:use-macro=\"m.macros['m']\" />",
            "p.py": "from tincan_core import Page\n\nclass P(Page):\n    word = 'w'\n",
        }
    )
    assert webapp.errors == 0, webapp.log.errors()
    assert webapp.get("/p.pspx").text == "<div><b>box w</b></div>"
