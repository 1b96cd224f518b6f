"""Pure parsing of a ``.pspx`` page: header directives and the template body.

Text in, :class:`ParsedPage` or :class:`TemplateHeaderError` out; no I/O, so the
grammar is tested with hypothesis without touching the disk.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass

from ._errors import TemplateHeaderError

__all__ = [
    "ALL_ERROR_CODES",
    "Directive",
    "LoadSpec",
    "ParsedHeader",
    "ParsedPage",
    "parse_header",
    "parse_page",
    "split_page",
]

ALL_ERROR_CODES = tuple(range(400, 600))

# RFC 9110 token characters: what an HTTP method name may be made of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_END = re.compile(r"#end(?:\s.*)?", re.DOTALL)
_DIRECTIVE = re.compile(r"#(\S*)(.*)", re.DOTALL)
_LIST_SEPARATOR = re.compile(r"[\s,]+")

# Directives that take a parameter, and the suffix it must have, if any.
_PATH_DIRECTIVES = {"python": ".py", "template": ".pspx", "forward": ".pspx"}
_REPEATABLE = frozenset({"load", "rem"})
_KNOWN = frozenset({"rem", "python", "template", "load", "forward", "errors", "hidden", "methods"})


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
    """The validated directives of a page header (paths still unresolved)."""

    python: str | None = None
    template: str | None = None
    forward: str | None = None
    loads: tuple[LoadSpec, ...] = ()
    errors: tuple[int, ...] | None = None  # None: not an error page
    hidden: bool = False
    methods: tuple[str, ...] = ("GET",)
    lines: tuple[tuple[str, int], ...] = ()  # (directive, line) for error messages


@dataclass(frozen=True, slots=True)
class ParsedPage:
    header: ParsedHeader
    body: str  # header lines blanked, so line numbers match the file


def split_page(text: str) -> tuple[list[tuple[int, str]], str]:
    """Split page text into its header lines and its body.

    Returns ``([(line_number, header_line), ...], body)``; every header line is
    replaced by an empty line in the body. A UTF-8 byte-order mark is dropped.
    Lines end at ``\n`` only (as Chameleon counts them), so line numbers of the
    body match the file whatever other control characters it contains.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    header: list[tuple[int, str]] = []
    pos = 0
    size = len(text)
    while pos < size and text[pos] == "#":
        newline = text.find("\n", pos)
        end = size if newline < 0 else newline
        line = text[pos:end]
        if line.endswith("\r"):
            line = line[:-1]
        header.append((len(header) + 1, line))
        pos = end if newline < 0 else end + 1
        if _END.fullmatch(line):
            break
    # One newline per header line that had one: the last line of a file may not.
    body = "\n" * text.count("\n", 0, pos) + text[pos:]
    return header, body


def _is_quoted(param: str) -> bool:
    return len(param) >= 2 and param[0] == param[-1] and param[0] in "'\""


def _unquote(param: str, file: str, line: int) -> str:
    """A parameter in matching quotes is a Python string literal; anything else is literal text.

    Parameters are paths, so a NUL character (which no file name can hold) is an error.
    """
    if "\0" in param:
        raise TemplateHeaderError("a path cannot contain a NUL character", file, line)
    if not _is_quoted(param):
        return param
    try:
        with warnings.catch_warnings():
            # An odd escape such as '\d' warns on stderr; a page must not make noise.
            warnings.simplefilter("ignore")
            value = ast.literal_eval(param)
    except Exception:
        raise TemplateHeaderError(f"malformed string literal {param}", file, line) from None
    if not isinstance(value, str):
        raise TemplateHeaderError(f"malformed string literal {param}", file, line)
    if "\0" in value:
        raise TemplateHeaderError("a path cannot contain a NUL character", file, line)
    return value


def _tlib_brackets(param: str, file: str, line: int) -> str:
    """Strip the ``<...>`` (meaning: look in WEB-INF/tlib) from a #load parameter."""
    if not param.endswith(">") or len(param) < 2:
        raise TemplateHeaderError("#load: unbalanced <...>", file, line)
    return param[1:-1].strip()


# Names that template expressions resolve to Chameleon's own render state, so a
# variable of that name could never be reached from a template.
_TEMPLATE_RESERVED = frozenset({"econtext", "rcontext", "attrs"})


def _parse_load(param: str, file: str, line: int) -> LoadSpec:
    """``[<][var=]file.pt[>]``; ``var=<file.pt>`` is accepted as well."""
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
        if not var.isidentifier():
            raise TemplateHeaderError(f"#load: invalid variable name {var!r}", file, line)
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


def _parse_errors(param: str, file: str, line: int) -> tuple[int, ...]:
    words = [w for w in _LIST_SEPARATOR.split(param) if w]
    if not words:
        return ALL_ERROR_CODES
    codes: list[int] = []
    for word in words:
        if not (word.isascii() and word.isdigit()) or not 400 <= int(word) <= 599:
            raise TemplateHeaderError(
                f"#errors: {word!r} is not an error code (an integer from 400 to 599)", file, line
            )
        if int(word) not in codes:
            codes.append(int(word))
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


def parse_directive(text: str, file: str, line: int) -> Directive:
    """Split one header line into directive name and parameter."""
    match = _DIRECTIVE.fullmatch(text)
    name, param = (match.group(1), match.group(2)) if match else ("", "")
    if not name:
        raise TemplateHeaderError("invalid directive (# must be followed by a name)", file, line)
    if name not in _KNOWN:
        raise TemplateHeaderError(f"unknown directive #{name}", file, line)
    return Directive(name=name, param=param.strip(), line=line)


def parse_header(lines: list[tuple[int, str]], file: str) -> ParsedHeader:
    """Validate header lines (as returned by :func:`split_page`)."""
    seen: dict[str, int] = {}
    values: dict[str, object] = {}
    loads: list[LoadSpec] = []
    for line, text in lines:
        if _END.fullmatch(text):
            break
        d = parse_directive(text, file, line)
        if d.name in seen and d.name not in _REPEATABLE:
            raise TemplateHeaderError(
                f"duplicate #{d.name} (first at line {seen[d.name]})", file, line
            )
        seen.setdefault(d.name, line)
        if d.name == "rem":
            continue
        if d.name == "hidden":
            if d.param:
                raise TemplateHeaderError("#hidden takes no parameter", file, line)
            values["hidden"] = True
        elif d.name == "errors":
            values["errors"] = _parse_errors(d.param, file, line)
        elif not d.param:
            raise TemplateHeaderError(f"#{d.name} needs a parameter", file, line)
        elif d.name == "load":
            loads.append(_parse_load(d.param, file, line))
        elif d.name == "methods":
            values["methods"] = _parse_methods(d.param, file, line)
        else:
            path = _unquote(d.param, file, line)
            suffix = _PATH_DIRECTIVES[d.name]
            if not path.endswith(suffix):
                raise TemplateHeaderError(
                    f"#{d.name}: {path!r} does not end in {suffix}", file, line
                )
            values[d.name] = path
    return ParsedHeader(
        python=values.get("python"),  # type: ignore[arg-type]
        template=values.get("template"),  # type: ignore[arg-type]
        forward=values.get("forward"),  # type: ignore[arg-type]
        loads=tuple(loads),
        errors=values.get("errors"),  # type: ignore[arg-type]
        hidden=bool(values.get("hidden", False)),
        methods=values.get("methods", ("GET",)),  # type: ignore[arg-type]
        lines=tuple(seen.items()),
    )


def parse_page(text: str, file: str) -> ParsedPage:
    """Parse a whole page: validated header plus body with header lines blanked."""
    header_lines, body = split_page(text)
    return ParsedPage(header=parse_header(header_lines, file), body=body)
