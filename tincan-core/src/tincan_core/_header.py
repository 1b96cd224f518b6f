"""Pure parsing of a ``.pspx`` page: header directives and the template body.

Text in, :class:`ParsedPage` or :class:`TemplateHeaderError` out; no I/O, so the
grammar is tested with hypothesis without touching the disk.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass

from ._errors import TemplateHeaderError, TinCanError
from ._patterns import parse_pattern

__all__ = [
    "ALL_ERROR_CODES",
    "Directive",
    "LoadSpec",
    "ParsedHeader",
    "ParsedPage",
    "parse_header",
    "parse_page",
    "split_page",
    "universal_newlines",
]

ALL_ERROR_CODES = tuple(range(400, 600))

# RFC 9110 token characters: what an HTTP method name may be made of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# The header ends early at "#end" alone or followed by ASCII whitespace (the
# original's test, with string.whitespace); parse_header also stops at a line
# whose first word is "#end", which str.split() finds after any whitespace.
_END = re.compile(r"#end(?:[ \t\n\r\x0b\x0c].*)?", re.DOTALL)
_DIRECTIVE = re.compile(r"#(\S*)(.*)", re.DOTALL)
_LIST_SEPARATOR = re.compile(r"[\s,]+")

# Directives that take a parameter, and the suffix it must have, if any.
_PATH_DIRECTIVES = {"python": ".py", "template": ".pspx", "forward": ".pspx"}
_REPEATABLE = frozenset({"load", "rem", "path"})
_FLAGS = frozenset({"hidden", "allow-cross-origin"})  # no parameter
_KNOWN = frozenset(
    {"rem", "python", "template", "load", "forward", "errors", "hidden", "methods", "path"}
    | _FLAGS
)
# Names url_for() takes for itself, so no #path placeholder may use them.
_RESERVED_PARAMS = frozenset({"_query"})


@dataclass(frozen=True, slots=True)
class Directive:
    """One header line: ``#name parameter`` at ``line`` (1-based)."""

    name: str
    param: str
    line: int


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """A ``#load``: macro file ``path`` exposed as template variable ``var``."""

    var: str
    path: str
    tlib: bool  # True for <name.pt>: look in WEB-INF/tlib
    line: int


@dataclass(frozen=True, slots=True)
class ParsedHeader:
    """The validated directives of a page header (paths still unresolved).

    ``warnings`` are ``file:line: message`` texts about header lines that were
    accepted but ignored (a flag's parameter, directives a ``#forward`` page does
    not use); parsing logs nothing, the launch logs them.
    """

    python: str | None = None
    template: str | None = None
    forward: str | None = None
    loads: tuple[LoadSpec, ...] = ()
    errors: tuple[int, ...] | None = None  # None: not an error page
    hidden: bool = False
    methods: tuple[str, ...] = ("GET",)
    lines: tuple[tuple[str, int], ...] = ()  # (directive, line) for error messages
    warnings: tuple[str, ...] = ()
    paths: tuple[tuple[str, int], ...] = ()  # (#path pattern as written, line), in order
    allow_cross_origin: bool = False


@dataclass(frozen=True, slots=True)
class ParsedPage:
    header: ParsedHeader
    body: str  # header lines blanked, so line numbers match the file
    header_lines: int = 0  # how many: the body's first lines (each now "\n")


# Line ends as Python's universal newlines see them (the original read pages in
# text mode): "\r\n", then a lone "\r", become "\n". Nothing else ends a line.
_NEWLINES = re.compile(r"\r\n?")


def universal_newlines(text: str) -> str:
    """``text`` with ``\r\n`` and lone ``\r`` line ends turned into ``\n``."""
    return _NEWLINES.sub("\n", text) if "\r" in text else text


def split_page(text: str) -> tuple[list[tuple[int, str]], str]:
    """Split page text into its header lines and its body.

    Returns ``([(line_number, header_line), ...], body)``; every header line is
    replaced by an empty line in the body. A UTF-8 byte-order mark is dropped and
    line ends are universal newlines (``\r\n``, ``\r`` and ``\n`` each end a line
    and become ``\n``), as when the original read a page in text mode. No other
    character ends a line, so line numbers of the body match the file as Chameleon
    counts them, whatever other control characters it contains.
    """
    text = universal_newlines(text.removeprefix("\ufeff"))
    header: list[tuple[int, str]] = []
    pos = 0
    size = len(text)
    while pos < size and text[pos] == "#":
        newline = text.find("\n", pos)
        end = size if newline < 0 else newline
        line = text[pos:end]
        header.append((len(header) + 1, line))
        pos = end if newline < 0 else end + 1
        if _END.fullmatch(line):
            break
    # One newline per header line that had one: the last line of a file may not.
    body = "\n" * text.count("\n", 0, pos) + text[pos:]
    return header, body


def _is_quoted(param: str) -> bool:
    # As the original tested it: starts and ends with the same quote. A lone quote
    # character qualifies too, and is then a malformed literal.
    return param[:1] in ("'", '"') and param.endswith(param[0])


def _literal(param: str, file: str, line: int) -> str:
    """A parameter in matching quotes is a Python string literal; anything else is literal text."""
    if not _is_quoted(param):
        return param
    if "\0" in param:  # Python's compiler refuses it, with a less helpful message
        raise TemplateHeaderError("a parameter cannot contain a NUL character", file, line)
    try:
        with warnings.catch_warnings():
            # An odd escape such as '\d' warns on stderr; a page must not make noise.
            warnings.simplefilter("ignore")
            value = ast.literal_eval(param)
    except Exception:
        raise TemplateHeaderError(f"malformed string literal {param}", file, line) from None
    if not isinstance(value, str):
        raise TemplateHeaderError(f"malformed string literal {param}", file, line)
    return value


def _no_nul(path: str, file: str, line: int) -> str:
    # Parameters are paths, and no file name can hold a NUL character.
    if "\0" in path:
        raise TemplateHeaderError("a path cannot contain a NUL character", file, line)
    return path


def _unquote(param: str, file: str, line: int) -> str:
    """A path parameter: unquoted if it is a string literal, never holding a NUL."""
    return _no_nul(_literal(param, file, line), file, line)


def _tlib_brackets(param: str, file: str, line: int) -> str:
    """Strip the ``<...>`` (meaning: look in WEB-INF/tlib) from a #load parameter."""
    if not param.endswith(">") or len(param) < 2:
        raise TemplateHeaderError("#load: unbalanced <...>", file, line)
    return param[1:-1].strip()


# Names that template expressions resolve to Chameleon's own render state, so a
# variable of that name could never be reached from a template.
_TEMPLATE_RESERVED = frozenset({"econtext", "rcontext", "attrs"})


def _parse_load(param: str, file: str, line: int) -> LoadSpec:
    """``[<][var=]file.pt[>]`` (already unquoted if it was quoted as a whole).

    Beyond the original: ``var=<file.pt>``, spaces around ``=`` and inside
    ``<...>``, and a quoted file name inside (``<'my layout.pt'>``, ``v='a=b.pt'``).
    """
    tlib = param.startswith("<")
    if tlib:
        param = _tlib_brackets(param, file, line)
    var = None
    if "=" in param and not _is_quoted(param):
        var, _, param = param.partition("=")
        var = var.strip()
        param = param.strip()
        if not var:
            raise TemplateHeaderError("#load: empty variable name", file, line)
        if not tlib and param.startswith("<"):
            tlib = True
            param = _tlib_brackets(param, file, line)
    if not tlib and param.endswith(">") and not _is_quoted(param):
        raise TemplateHeaderError("#load: unbalanced <...>", file, line)
    path = _unquote(param, file, line)
    if not path:
        raise TemplateHeaderError("#load: empty file name", file, line)
    if not path.endswith(".pt"):
        raise TemplateHeaderError(f"#load: {path!r} does not end in .pt", file, line)
    if var is None:
        base = path.rsplit("/", 1)[-1]
        var = base[: -len(".pt")]
        if not var:
            raise TemplateHeaderError("#load: empty variable name", file, line)
    if var in _TEMPLATE_RESERVED:
        raise TemplateHeaderError(
            f"#load: {var!r} is a name templates cannot see (Chameleon uses it); "
            f"choose another with #load name={path}",
            file,
            line,
        )
    return LoadSpec(var=var, path=path, tlib=tlib, line=line)


def _error_code(word: str) -> int | None:
    # int() as the original used it: '+404', '0404', '4_04' and non-ASCII decimal
    # digits are all 404.
    try:
        code = int(word)
    except ValueError:
        return None
    return code if 400 <= code <= 599 else None


def _parse_errors(param: str, file: str, line: int) -> tuple[int, ...]:
    words = [w for w in _LIST_SEPARATOR.split(param) if w]
    if not words:
        return ALL_ERROR_CODES
    codes: list[int] = []
    for word in words:
        code = _error_code(word)
        if code is None:
            raise TemplateHeaderError(
                f"#errors: {word!r} is not an error code (an integer from 400 to 599)", file, line
            )
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def _parse_methods(param: str, file: str, line: int) -> tuple[str, ...]:
    words = [w for w in _LIST_SEPARATOR.split(param) if w]
    if not words:
        raise TemplateHeaderError("#methods: no methods listed", file, line)
    methods: list[str] = []
    for word in words:
        if not _TOKEN.fullmatch(word):
            raise TemplateHeaderError(f"#methods: {word!r} is not an HTTP method", file, line)
        if word.upper() not in methods:
            methods.append(word.upper())
    return tuple(methods)


def _parse_url_pattern(param: str, file: str, line: int) -> str:
    """A ``#path`` pattern, checked as the router will compile it (against any base)."""
    try:
        pattern = parse_pattern("", param)
    except TinCanError as exc:
        raise TemplateHeaderError(exc.message, file, line) from None
    reserved = sorted(pattern.names & _RESERVED_PARAMS)
    if reserved:
        raise TemplateHeaderError(
            f"#path: <{reserved[0]}> is a name url_for() keeps for itself", file, line
        )
    return pattern.pattern


def _parse_path(name: str, param: str, file: str, line: int) -> str:
    path = _no_nul(param, file, line)
    suffix = _PATH_DIRECTIVES[name]
    if not path.endswith(suffix):
        raise TemplateHeaderError(f"#{name}: {path!r} does not end in {suffix}", file, line)
    return path


def parse_directive(text: str, file: str, line: int) -> Directive:
    """Split one header line into directive name and parameter (surrounding whitespace
    removed, quotes kept). ``#end`` is returned as a directive named ``end``."""
    match = _DIRECTIVE.fullmatch(text)
    name, param = (match.group(1), match.group(2)) if match else ("", "")
    if not name:
        raise TemplateHeaderError("invalid directive (# must be followed by a name)", file, line)
    if name not in _KNOWN and name != "end":
        raise TemplateHeaderError(f"unknown directive #{name}", file, line)
    return Directive(name=name, param=param.strip(), line=line)


# Directives whose values a kind of page never uses (SPEC 5.1): a #forward page takes
# body, code-behind, #loads and #methods from its target (its own route keeps its
# #path and #allow-cross-origin); error and hidden pages have no route of their own.
_UNUSED_ON = (
    ("forward", ("python", "template", "load", "methods"), "a #forward page"),
    ("errors", ("methods", "path", "allow-cross-origin"), "an error page"),
    ("hidden", ("path", "allow-cross-origin"), "a #hidden page"),
)


def _unused_directives(names: set[str]) -> dict[str, str]:
    """Directives whose values this page never uses, each with the reason."""
    unused: dict[str, str] = {}
    for kind, directives, why in _UNUSED_ON:
        if kind in names:
            for name in directives:
                unused.setdefault(name, why)
    return unused


def parse_header(lines: list[tuple[int, str]], file: str) -> ParsedHeader:
    """Validate header lines (as returned by :func:`split_page`).

    Like the original, in two steps. The lines' syntax first, for every page:
    unknown and duplicate directives, missing parameters and malformed string
    literals are errors; a parameter in matching quotes is unquoted here, for
    every directive. Then each value is interpreted; where the page does not
    use a directive (``#template``, ``#python``, ``#load``, ``#methods`` of a
    ``#forward`` page, whose target provides them; ``#methods`` of an error
    page) it is ignored, with a warning, even when its value is invalid.
    """
    seen: dict[str, int] = {}
    found: list[Directive] = []
    notes: list[tuple[int, str]] = []  # (line, message)
    for line, text in lines:
        d = parse_directive(text, file, line)
        if d.name == "end":
            break
        if d.name in seen and d.name not in _REPEATABLE:
            raise TemplateHeaderError(
                f"duplicate #{d.name} (first at line {seen[d.name]})", file, line
            )
        seen.setdefault(d.name, line)
        if d.name == "rem":
            continue
        if d.name in _FLAGS:
            if d.param:
                notes.append((line, f"#{d.name} takes no parameter; {d.param!r} ignored"))
            found.append(d)
            continue
        if not d.param and d.name != "errors":
            raise TemplateHeaderError(f"#{d.name} needs a parameter", file, line)
        found.append(Directive(d.name, _literal(d.param, file, line), line))

    unused = _unused_directives({d.name for d in found})
    values: dict[str, object] = {}
    loads: list[LoadSpec] = []
    paths: list[tuple[str, int]] = []
    for d in found:
        try:
            value = _interpret(d, file)
        except TemplateHeaderError as exc:
            if d.name not in unused:
                raise
            notes.append((d.line, f"#{d.name} is ignored on {unused[d.name]}: {exc.message}"))
            continue
        if d.name in unused:
            notes.append((d.line, f"#{d.name} is ignored on {unused[d.name]}"))
        elif d.name == "path":
            paths.append((str(value), d.line))
        elif isinstance(value, LoadSpec):
            named = value.var != value.path.rsplit("/", 1)[-1][: -len(".pt")]
            if named and not value.var.isidentifier():
                # The original accepted any name; templates just cannot reach it.
                notes.append((d.line, f"#load: {value.var!r} is not a name templates can use"))
            loads.append(value)
        else:
            values[d.name] = value
    return ParsedHeader(
        python=values.get("python"),  # type: ignore[arg-type]
        template=values.get("template"),  # type: ignore[arg-type]
        forward=values.get("forward"),  # type: ignore[arg-type]
        loads=tuple(loads),
        errors=values.get("errors"),  # type: ignore[arg-type]
        hidden=bool(values.get("hidden", False)),
        methods=values.get("methods", ("GET",)),  # type: ignore[arg-type]
        lines=tuple(seen.items()),
        warnings=tuple(f"{file}:{line}: {message}" for line, message in sorted(notes)),
        paths=tuple(paths),
        allow_cross_origin=bool(values.get("allow-cross-origin", False)),
    )


def _interpret(d: Directive, file: str) -> object:
    """The value of one directive whose parameter is already unquoted."""
    if d.name in _FLAGS:
        return True
    if d.name == "path":
        return _parse_url_pattern(d.param, file, d.line)
    if d.name == "errors":
        return _parse_errors(d.param, file, d.line)
    if d.name == "methods":
        return _parse_methods(d.param, file, d.line)
    if d.name == "load":
        return _parse_load(d.param, file, d.line)
    return _parse_path(d.name, d.param, file, d.line)


def parse_page(text: str, file: str) -> ParsedPage:
    """Parse a whole page: validated header plus body with header lines blanked."""
    header_lines, body = split_page(text)
    header = parse_header(header_lines, file)
    return ParsedPage(header=header, body=body, header_lines=len(header_lines))
