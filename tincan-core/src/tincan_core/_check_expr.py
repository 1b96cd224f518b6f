"""The names a Chameleon (TALES) expression reads, as Chameleon itself would compile it.

Pure: text in, names out. The expression types are those of TinCan's page
templates, which are Chameleon's: ``python:`` (the default), ``string:``,
``not:``, ``exists:``, ``structure:``, ``import:``, and ``load:`` in macro files.
The rules follow Chameleon's own code (``chameleon.tales``):

* ``a | b | c``: every ``|`` not escaped with a backslash separates
  alternatives; a failing alternative (``NameError`` among others) falls through
  to the next, so only the last one can fail with an undefined name. An
  alternative with a type prefix takes the whole rest of the expression.
* ``exists:`` catches ``NameError``: nothing it reads can be undefined.
* Python: names bound inside comprehensions and lambdas are not free; ``x := ...``
  stores ``x`` in the template's variables; names starting with ``__`` are
  Chameleon internals.
* ``string:`` interpolates ``${expression}`` and ``$name``; ``$$`` is a dollar.

What Python warns as it parses the Python of an expression (an invalid escape
sequence) is kept too, placed at the text the warning quotes: a launch logs the
same warning when it compiles the template, a check finds it on every run.
"""

from __future__ import annotations

import ast
import contextlib
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from chameleon.utils import decode_htmlentities

__all__ = [
    "ExprNames",
    "NameUse",
    "Warned",
    "expression_names",
    "interpolations",
    "parse_warned",
    "python_parses",
]

# chameleon.tales: the prefix of a typed expression, and the pipe between alternatives.
_PREFIX = re.compile(r"^\s*([a-z][a-z0-9\-_]*):")
_PIPE = re.compile(r"(?<!\\)\|")
_CONTINUATION = re.compile(r"\\\s*$", re.MULTILINE)
# chameleon.compiler.Interpolator, for text (braces required) and string: (optional).
_BRACES = re.compile(r"\$({(?P<expression>.*)})", re.DOTALL)
_BRACES_OPTIONAL = re.compile(
    r"\$({(?P<expression>.*)}|(?P<variable>[A-Za-z][A-Za-z0-9_]*))", re.DOTALL
)
_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"")
_KNOWN_TYPES = frozenset({"python", "string", "not", "exists", "import", "structure", "load"})


@dataclass(frozen=True, slots=True)
class NameUse:
    """A name an expression reads; ``offset`` into the expression text, ``None``
    when it cannot be placed more exactly than the expression's start."""

    name: str
    offset: int | None


@dataclass(frozen=True, slots=True)
class Warned:
    """What Python warned parsing part of an expression: ``Category: message``, and
    the offset of the text it is about (``None``: the expression's start)."""

    offset: int | None
    text: str


@dataclass(frozen=True, slots=True)
class ExprNames:
    """What an expression does with names."""

    reads: tuple[NameUse, ...] = ()  # free names that must exist
    stores: tuple[str, ...] = ()  # names it assigns (x := ...)
    valid: bool = True  # False: Chameleon would refuse it (the launch reports that)
    load: str | None = None  # the path of a load: expression
    warned: tuple[Warned, ...] = ()  # what Python warned parsing it


def _python_source(expression: str) -> tuple[str, int, bool]:
    """The text Chameleon hands to Python's parser, the offset of its first
    character in ``expression``, and whether offsets still match the input."""
    stripped = expression.strip()
    lead = len(expression) - len(expression.lstrip())
    source = _CONTINUATION.sub("\n", stripped)
    exact = source == stripped
    return source.replace("\n", " "), lead, exact


def python_parses(expression: str) -> bool:
    """Whether Chameleon's Python expression parser accepts ``expression``."""
    source, _, _ = _python_source(expression)
    try:
        compile(source, "", "eval", ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError):
        return False
    return True


class _FreeNames(ast.NodeVisitor):
    """Free names of a Python expression, in source order."""

    def __init__(self) -> None:
        self.reads: list[tuple[str, int]] = []
        self.stores: list[str] = []
        self.bound: list[set[str]] = []

    def _is_bound(self, name: str) -> bool:
        return any(name in scope for scope in self.bound)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            if not self._is_bound(node.id):
                self.reads.append((node.id, node.col_offset))
        elif not self.bound:
            self.stores.append(node.id)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name) and not self.bound:
            self.stores.append(node.target.id)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        args = node.args
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self.visit(default)
        names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        names.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
        self.bound.append(names)
        self.visit(node.body)
        self.bound.pop()

    def _comprehension(self, node: ast.AST, parts: list[ast.AST]) -> None:
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        # The first iterable is evaluated outside the comprehension's scope.
        self.visit(generators[0].iter)
        names: set[str] = set()
        for generator in generators:
            names.update(n.id for n in ast.walk(generator.target) if isinstance(n, ast.Name))
        self.bound.append(names)
        for index, generator in enumerate(generators):
            if index:
                self.visit(generator.iter)
            for condition in generator.ifs:
                self.visit(condition)
        for part in parts:
            self.visit(part)
        self.bound.pop()

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self._comprehension(node, [node.elt])

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self._comprehension(node, [node.elt])

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])


def _char_offset(source: str, byte_offset: int) -> int:
    """ast's column (UTF-8 bytes) as a character offset into ``source``."""
    return len(source.encode("utf-8")[:byte_offset].decode("utf-8", "ignore"))


def _python(expression: str, base: int) -> ExprNames:
    source, lead, exact = _python_source(expression)
    try:
        tree, found = parse_warned(source, "eval")
    except (SyntaxError, ValueError):
        return ExprNames(valid=False)
    warned = tuple(
        Warned(base + lead + (index if exact and index is not None else 0), text)
        for index, text in found
    )
    visitor = _FreeNames()
    visitor.visit(tree)
    reads = tuple(
        NameUse(name, base + lead + _char_offset(source, column) if exact else None)
        for name, column in visitor.reads
        if not name.startswith("__")
    )
    return ExprNames(reads, tuple(visitor.stores), warned=warned)


def parse_warned(
    source: str, mode: str, within: str | None = None
) -> tuple[ast.AST, list[tuple[int | None, str]]]:
    """``source`` parsed (``SyntaxError`` raised as ``compile`` raises it), and what
    Python warns parsing and compiling it: ``(index, "Category: message")``, the
    index in ``within`` (default: ``source``) of the first text the message quotes
    (``None``: not found)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tree = compile(source, "", mode, ast.PyCF_ONLY_AST)
        # What Python warns only compiling it ("is" with a literal); what does not
        # compile the launch reports, as its program does not.
        if isinstance(tree, (ast.Expression, ast.Module)):
            with contextlib.suppress(SyntaxError, ValueError):
                compile(tree, "", mode)
    found: list[tuple[int | None, str]] = []
    for w in caught:
        message = str(w.message)
        index = None
        for match in _QUOTED.finditer(message):
            at = (source if within is None else within).find(match.group(1) or match.group(2))
            if at >= 0:
                index = at
                break
        found.append((index, f"{w.category.__name__}: {message}"))
    return tree, found


def _merge(parts: list[ExprNames], load: str | None = None) -> ExprNames:
    return ExprNames(
        tuple(use for part in parts for use in part.reads),
        tuple(name for part in parts for name in part.stores),
        all(part.valid for part in parts),
        load,
        tuple(warned for part in parts for warned in part.warned),
    )


def _guarded(names: ExprNames) -> ExprNames:
    """An alternative that may fail: its reads cannot be undefined-name errors."""
    return ExprNames((), names.stores, names.valid, names.load, names.warned)


def _tales(expression: str, base: int) -> ExprNames:
    """``python`` with pipes: ``TalesExpr.__call__``'s loop."""
    alternatives: list[ExprNames] = []
    remaining, at = expression, base
    while remaining:
        if _PREFIX.match(remaining) is not None:
            alternatives.append(_typed(remaining, at))
            break
        match = _PIPE.search(remaining)
        if match is None:
            part, rest, next_at = remaining, "", at + len(remaining)
        else:
            part, rest, next_at = (
                remaining[: match.start()],
                remaining[match.end() :],
                (at + match.end()),
            )
        if "\\|" in part:
            alternatives.append(_drop_offsets(_python(part.replace("\\|", "|"), at)))
        else:
            alternatives.append(_python(part, at))
        remaining, at = rest, next_at
    if not alternatives:
        return ExprNames(valid=False)
    guarded = [_guarded(a) for a in alternatives[:-1]]
    return _merge([*guarded, alternatives[-1]], alternatives[-1].load)


def _drop_offsets(names: ExprNames) -> ExprNames:
    reads = tuple(NameUse(use.name, None) for use in names.reads)
    warned = tuple(Warned(None, w.text) for w in names.warned)
    return ExprNames(reads, names.stores, names.valid, names.load, warned)


def interpolations(
    text: str, *, braces_required: bool = True, decode: bool = False
) -> Iterator[tuple[str, int]]:
    """``(expression, offset)`` of each ``${...}`` (and ``$name`` unless braces are
    required) in ``text``, as Chameleon's ``Interpolator`` finds them: the longest
    candidate that parses wins; an odd run of ``$`` before one escapes it. With
    ``decode``, HTML entities in an expression are decoded first, as Chameleon
    does for text and attribute values."""
    regex = _BRACES if braces_required else _BRACES_OPTIONAL
    pos = 0
    while pos < len(text):
        match = regex.search(text, pos)
        if match is None:
            return
        start = match.start()
        dollars = 0
        while start - dollars - 1 >= pos and text[start - dollars - 1] == "$":
            dollars += 1
        if dollars % 2:
            pos = start + 1
            continue
        end = match.end()
        found: tuple[str, int] | None = None
        while True:
            candidate = text[start:end]
            inner = regex.fullmatch(candidate) or regex.match(candidate)
            if inner is None:
                break
            expression = inner.group("expression")
            if expression is None:  # $name
                variable = inner.group("variable") or ""
                found = (variable, start + 1)
                end = start + 1 + len(variable)
                break
            if decode:
                expression = decode_htmlentities(expression)
            if not expression:
                found = ("", start + 2)  # "${}" is text to Chameleon
                end = start + inner.end()
                break
            if _typed_or_python_valid(expression):
                found = (expression, start + 2)
                end = start + inner.end()
                break
            # As Chameleon: try again up to the previous closing brace.
            shorter = text.rfind("}", start, end - 1)
            if shorter < 0:
                break
            end = shorter + 1
        if found is None:
            # Chameleon raises here; the launch reports the template as broken.
            return
        if found[0]:
            yield found
        pos = end


def _typed_or_python_valid(expression: str) -> bool:
    return expression_names(expression).valid


def _string(expression: str, base: int) -> ExprNames:
    parts = [
        expression_names(inner, base + offset)
        for inner, offset in interpolations(expression, braces_required=False)
    ]
    return _merge(parts)


def _typed(expression: str, base: int) -> ExprNames:
    match = _PREFIX.match(expression)
    assert match is not None
    kind = match.group(1)
    rest, at = expression[match.end() :], base + match.end()
    if kind not in _KNOWN_TYPES:
        return ExprNames(valid=False)
    if kind == "python":
        return _tales(rest, at)
    if kind in ("not", "structure"):
        return expression_names(rest, at)
    if kind == "exists":
        return _guarded(expression_names(rest, at))
    if kind == "string":
        return _string(rest, at)
    if kind == "load":
        return ExprNames(load=rest.strip())
    return ExprNames()  # import: a dotted name, resolved as a module path


def expression_names(expression: str, base: int = 0) -> ExprNames:
    """The names ``expression`` reads (offsets from ``base``) and stores."""
    names = _names(str(expression))
    if not base:
        return names
    reads = tuple(
        NameUse(use.name, None if use.offset is None else base + use.offset) for use in names.reads
    )
    warned = tuple(
        Warned(None if w.offset is None else base + w.offset, w.text) for w in names.warned
    )
    return ExprNames(reads, names.stores, names.valid, names.load, warned)


@lru_cache(maxsize=4096)
def _names(expression: str) -> ExprNames:
    # Pages of one site repeat their expressions: each is parsed once.
    if _PREFIX.match(expression) is not None:
        return _typed(expression, 0)
    return _tales(expression, 0)
