"""Which names a template reads that nothing defines, following Chameleon's scoping.

Pure: parsed templates and the names a page provides in, findings out. The walk
visits what a render would, in the order Chameleon evaluates an element's
attributes (``chameleon.zpt.program.MacroProgram.visit_element``):
``tal:define`` (each clause seeing the ones before), ``tal:case``,
``tal:condition``, ``tal:repeat``, ``tal:switch``, then content, replace,
attributes and children. ``global`` defines stay visible for the rest of the
document. A ``metal:use-macro`` renders the macro with a copy of the caller's
variables; each ``metal:fill-slot`` renders where the macro's ``define-slot``
is, seeing the macro's variables there; whatever else the using element holds
is never rendered. Names inside a macro file are checked at each use, against
the variables of the page that uses it.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from chameleon import tal as _tal
from chameleon.compiler import COMPILER_INTERNALS_OR_DISALLOWED, Compiler

from ._check_expr import expression_names, interpolations, parse_warned
from ._check_tree import (
    I18N_NS,
    META_NS,
    METAL_NS,
    TAL_NS,
    Element,
    Node,
    ParsedTemplate,
    parse_template,
)
from ._check_tree import macro_key as _macro_key
from ._templates import _MacroTemplate, _PageTemplate, _template_builtins

__all__ = [
    "CHAMELEON_NAMES",
    "PYTHON_BUILTINS",
    "LinkUse",
    "MacroLibrary",
    "NameProblem",
    "TemplateProblem",
    "WalkResult",
    "undefined_names",
    "walk_page",
]

PYTHON_BUILTINS = frozenset(dir(builtins))
# Every name a template can read without anyone defining it (checked against real
# renders in the tests): Chameleon's compiler internals and defaults (econtext,
# rcontext, translate, decode, on_error_handler), the template builtins of TinCan's
# template classes (template, macros, nothing), what PageTemplate.render() adds
# (repeat, target_language) and the per-element aliases (attrs, default).
CHAMELEON_NAMES = frozenset(
    {
        *COMPILER_INTERNALS_OR_DISALLOWED,
        *Compiler.defaults,
        *_template_builtins(_PageTemplate),
        *_template_builtins(_MacroTemplate),
        "repeat",
        "target_language",
        "attrs",
        "default",
    }
)
# Chameleon's own parsers of tal:define, tal:repeat, tal:content and tal:attributes
# clauses (untyped there).
_parse_defines: Callable[[str], list[tuple[str, list[str], str]]] = _tal.parse_defines
_parse_substitution: Callable[[str], tuple[str, str]] = _tal.parse_substitution
_parse_attributes: Callable[[str], list[tuple[str | None, str]]] = _tal.parse_attributes
_ALWAYS = PYTHON_BUILTINS | CHAMELEON_NAMES
_PUBLIC_BUILTINS = frozenset(n for n in PYTHON_BUILTINS if not n.startswith("_"))
_MAX_DEPTH = 12  # macros using macros: deeper than any real layout, short of a loop
_LINK_ATTRIBUTES = frozenset({"href", "src", "action"})


@dataclass(frozen=True, slots=True)
class NameProblem:
    file: str
    line: int
    name: str
    suggestion: str | None
    # (file, line) of the page's metal:use-macro when the name is read inside the macro
    used_by: tuple[str, int] | None


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """A ``metal:use-macro`` or ``fill-slot`` that names nothing (``code``:
    missing-macro or unknown-slot), or what Python warns parsing an expression
    (launch-warning)."""

    file: str
    line: int
    code: str
    message: str
    suggestion: str | None


@dataclass(frozen=True, slots=True)
class LinkUse:
    """A literal ``href``/``src``/``action`` the page renders."""

    file: str
    line: int
    url: str


@dataclass(slots=True)
class WalkResult:
    names: list[NameProblem] = field(default_factory=list)
    problems: list[TemplateProblem] = field(default_factory=list)
    links: list[LinkUse] = field(default_factory=list)
    has_base: bool = False  # a <base href>: relative links cannot be judged


@dataclass(slots=True)
class MacroLibrary:
    """The templates a page can reach by name: its ``#load`` variables, and files
    that a macro file's ``load:`` expressions name (``load`` finds them)."""

    loads: Mapping[str, ParsedTemplate] = field(default_factory=dict)
    load: Callable[[ParsedTemplate, str], ParsedTemplate | None] = lambda _t, _p: None


class _Scope:
    """A chain of name sets: a child sees its parents'."""

    __slots__ = ("names", "parent")

    def __init__(self, names: Iterable[str], parent: _Scope | None = None) -> None:
        self.names = frozenset(names)
        self.parent = parent

    def __contains__(self, name: object) -> bool:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.names:
                return True
            scope = scope.parent
        return False

    def child(self, names: Iterable[str]) -> _Scope:
        names = frozenset(names)
        return self if not names else _Scope(names, self)

    def redefines(self, name: str) -> bool:
        """Whether a scope below the outermost one (the page's variables) binds ``name``."""
        scope: _Scope | None = self
        while scope is not None and scope.parent is not None:
            if name in scope.names:
                return True
            scope = scope.parent
        return False

    def all_names(self) -> set[str]:
        found: set[str] = set()
        scope: _Scope | None = self
        while scope is not None:
            found |= scope.names
            scope = scope.parent
        return found


@dataclass(frozen=True, slots=True)
class _Fill:
    element: Element
    context: _Context


@dataclass(frozen=True, slots=True)
class _Context:
    """Where the walk is: the file, whether its names are checked, and the slots
    filled by the caller of the macro being rendered."""

    template: ParsedTemplate
    check: bool
    used_by: tuple[str, int] | None = None
    fills: Mapping[str, _Fill] = field(default_factory=dict)
    depth: int = 0


def _suggest(name: str, candidates: Iterable[str]) -> str | None:
    names = sorted(set(candidates) - {name})
    own = [n for n in names if n not in _ALWAYS]
    for pool in (own, [n for n in names if n in PYTHON_BUILTINS]):
        close = difflib.get_close_matches(name, pool, n=1, cutoff=0.75)
        if close:
            return close[0]
    return None


class _Walker:
    def __init__(self, library: MacroLibrary, result: WalkResult) -> None:
        self.library = library
        self.result = result
        self.globals: set[str] = set()
        self.consumed: set[int] = set()  # id() of fill-slot elements that rendered
        self.incomplete = False  # a macro could not be followed: slots unknown

    # -- expressions -------------------------------------------------------------------
    def read(self, text: str, pos: int, scope: _Scope, ctx: _Context) -> list[str]:
        """Check one expression at ``pos``; the names it stores."""
        names = expression_names(text)
        for warned in names.warned:
            at = pos + warned.offset if warned.offset is not None else pos
            line = ctx.template.line(at)
            file = ctx.template.filename
            problem = TemplateProblem(file, line, "launch-warning", warned.text, None)
            self.result.problems.append(problem)
        if ctx.check and names.valid:
            for use in names.reads:
                if use.name in _ALWAYS or use.name in scope or use.name in self.globals:
                    continue
                at = pos + use.offset if use.offset is not None else pos
                known = scope.all_names() | self.globals | _PUBLIC_BUILTINS
                suggestion = _suggest(use.name, known)
                self.result.names.append(
                    NameProblem(
                        ctx.template.filename,
                        ctx.template.line(at),
                        use.name,
                        suggestion,
                        ctx.used_by,
                    )
                )
        self.globals.update(names.stores)
        return list(names.stores)

    def code_block(self, code: str, pos: int, ctx: _Context) -> set[str]:
        """Names a ``<?python ?>`` block at ``pos`` defines (it runs in the template's
        variables); what Python warns about it is a problem at its line."""
        try:
            tree, found = parse_warned(textwrap.dedent(code.strip("\n")), "exec", code)
        except (SyntaxError, ValueError):
            return set()
        for index, text in found:
            line = ctx.template.line(pos + (index or 0))
            problem = TemplateProblem(ctx.template.filename, line, "launch-warning", text, None)
            self.result.problems.append(problem)
        return _defined_names(tree)

    def interpolate(self, text: str, pos: int, scope: _Scope, ctx: _Context) -> None:
        if "${" not in text:
            return
        for expression, offset in interpolations(text, decode=True):
            self.read(expression, pos + offset, scope, ctx)

    # -- nodes -------------------------------------------------------------------------
    def nodes(
        self, nodes: Iterable[Node], scope: _Scope, ctx: _Context, interpolation: bool
    ) -> None:
        for node in nodes:
            if isinstance(node, Element):
                self.element(node, scope, ctx, interpolation)
            elif node.kind == "python":
                self.globals.update(self.code_block(node.text, node.pos, ctx))
            elif interpolation and _interpolated(node.kind, node.text):
                self.interpolate(node.text, node.pos, scope, ctx)

    def element(self, el: Element, scope: _Scope, ctx: _Context, interpolation: bool) -> None:
        repeated, before = self._element(el, scope, ctx, interpolation)
        # After the loop Chameleon restores what its variables were before: a global
        # define of the same name inside the loop is gone again.
        self.globals -= {name for name in repeated if name not in before}

    def _element(
        self, el: Element, scope: _Scope, ctx: _Context, interpolation: bool
    ) -> tuple[list[str], set[str]]:
        """Walk one element; the names its ``tal:repeat`` bound, and the global names
        there were before the loop."""

        def clause(namespace: str, name: str) -> tuple[str, int] | None:
            attribute = el.attr(namespace, name)
            return None if attribute is None else (attribute.value, attribute.pos)

        slot = clause(METAL_NS, "define-slot")
        if slot is not None and macro_slot(slot[0]) in ctx.fills:
            fill = ctx.fills[macro_slot(slot[0])]
            if fill.element is not el:
                self.consumed.add(id(fill.element))
                # The caller's element replaces this one, seeing the macro's variables.
                self.element(fill.element, scope, fill.context, interpolation=True)
                return [], set()
        on_error = clause(TAL_NS, "on-error")
        caller = ctx
        if on_error is not None:
            # A failure anywhere inside shows the on-error content instead: nothing
            # in the element can end the render with an undefined name.
            ctx = replace(ctx, check=False)
        define = clause(TAL_NS, "define")
        if define is not None:
            scope = self.defines(define, scope, ctx)
        for name in ("case", "condition"):
            found = clause(TAL_NS, name)
            if found is not None:
                self.read(*found, scope, ctx)
        repeat = clause(TAL_NS, "repeat")
        names: list[str] = []
        before = set(self.globals) if repeat is not None else set()
        if repeat is not None:
            try:
                ((_, names, expression),) = _parse_defines(repeat[0])
            except Exception:  # Chameleon refuses it: a launch error
                names, expression = [], ""
            if expression:
                self.read(expression, repeat[1] + max(repeat[0].rfind(expression), 0), scope, ctx)
            scope = scope.child(names)
        for namespace, name in ((TAL_NS, "switch"), (I18N_NS, "target")):
            found = clause(namespace, name)
            if found is not None:
                self.read(*found, scope, ctx)
        if on_error is not None:
            self.substitution(on_error, scope.child(["error"]), caller)
        setting = clause(META_NS, "interpolation")
        if setting is not None and setting[0] in ("false", "off", "true", "on"):
            interpolation = setting[0] in ("true", "on")

        use = clause(METAL_NS, "use-macro") or clause(METAL_NS, "extend-macro")
        if use is not None:
            self.use_macro(el, use, scope, ctx, interpolation)
            return list(names), before
        self.attributes(el, scope, ctx, interpolation)
        for name in ("content", "replace"):
            found = clause(TAL_NS, name)
            if found is not None:
                self.substitution(found, scope, ctx)
        omit = clause(TAL_NS, "omit-tag")
        if omit is not None and omit[0].strip():
            self.read(*omit, scope, ctx)
        self.nodes(el.children, scope, ctx, interpolation)
        return list(names), before

    def defines(self, define: tuple[str, int], scope: _Scope, ctx: _Context) -> _Scope:
        text, pos = define
        try:
            parts = _parse_defines(text)
        except Exception:
            return scope
        at = 0
        for context, names, expression in parts:
            found = text.find(expression, at)
            at = found if found >= 0 else at
            self.read(expression, pos + at, scope, ctx)
            at += len(expression)
            scope = scope.child(names)
            if context == "global":
                self.globals.update(names)
        return scope

    def substitution(self, found: tuple[str, int], scope: _Scope, ctx: _Context) -> None:
        text, pos = found
        try:
            _, expression = _parse_substitution(text)
        except Exception:
            return
        self.read(expression, pos + max(text.rfind(expression), 0), scope, ctx)

    def attributes(self, el: Element, scope: _Scope, ctx: _Context, interpolation: bool) -> None:
        dynamic: set[str] = set()
        attributes = el.attr(TAL_NS, "attributes")
        if attributes is not None:
            try:
                parsed = _parse_attributes(attributes.value)
            except Exception:
                parsed = []
            at = 0
            for name, expression in parsed:
                if name:
                    dynamic.add(str(name).lower())
                found = attributes.value.find(expression, at)
                at = found if found >= 0 else at
                self.read(expression, attributes.pos + at, scope, ctx)
        if el.tag.lower() == "base" and any(
            a.name.lower() == "href" for a in el.plain_attributes()
        ):
            self.result.has_base = True
        for attribute in el.plain_attributes():
            lowered = attribute.name.lower()
            if lowered in dynamic:
                continue  # tal:attributes replaces it: its own text is never interpolated
            if interpolation and "${" in attribute.value:
                self.interpolate(attribute.value, attribute.pos, scope, ctx)
            elif lowered in _LINK_ATTRIBUTES and "$" not in attribute.value:
                self.result.links.append(
                    LinkUse(
                        ctx.template.filename, ctx.template.line(attribute.pos), attribute.value
                    )
                )

    # -- macros ------------------------------------------------------------------------
    def use_macro(
        self,
        el: Element,
        use: tuple[str, int],
        scope: _Scope,
        ctx: _Context,
        interpolation: bool,
    ) -> None:
        self.read(*use, scope, ctx)
        scope = scope.child(["macroname"])
        fills = _fills(el)
        target = self.resolve(use, scope, ctx)
        if target is None or ctx.depth >= _MAX_DEPTH:
            self.incomplete = True
            # The macro is unknown: its variables too. Fills are walked for their
            # links and macros only.
            for fill in fills.values():
                self.element(fill, scope, replace(ctx, check=False), interpolation)
            return
        template, macro = target
        where = (ctx.template.filename, ctx.template.line(use[1]))
        own = {name: _Fill(f, ctx) for name, f in fills.items()}
        extend = el.attr(METAL_NS, "use-macro") is None
        inner = _Context(
            template,
            check=ctx.check,
            used_by=ctx.used_by or where,
            # Slots travel with the variables: a slot the caller's caller filled
            # reaches this macro too (extend-macro: the caller's fills win).
            fills={**own, **ctx.fills} if extend else {**ctx.fills, **own},
            depth=ctx.depth + 1,
        )
        incomplete, self.incomplete = self.incomplete, False
        if macro is None:
            self.nodes(template.nodes, scope, inner, True)
        else:
            self.element(macro, scope, inner, True)
        if not self.incomplete and macro is not None:
            self.unknown_slots(fills, macro, template, ctx)
        self.incomplete = self.incomplete or incomplete

    def unknown_slots(
        self,
        fills: Mapping[str, Element],
        macro: Element,
        template: ParsedTemplate,
        ctx: _Context,
    ) -> None:
        slots = _slot_names(macro)
        for name, fill in fills.items():
            if id(fill) in self.consumed:
                continue
            attribute = fill.attr(METAL_NS, "fill-slot")
            assert attribute is not None
            listed = ", ".join(sorted(slots)) or "none"
            self.result.problems.append(
                TemplateProblem(
                    ctx.template.filename,
                    ctx.template.line(attribute.pos),
                    "unknown-slot",
                    f"metal:fill-slot {attribute.value!r}: the macro at "
                    f"{template.name}:{template.line(macro.pos)} has no such slot "
                    f"(its slots: {listed}); this element is never shown",
                    _suggest(name, slots),
                )
            )

    def resolve(
        self, use: tuple[str, int], scope: _Scope, ctx: _Context
    ) -> tuple[ParsedTemplate, Element | None] | None:
        """The template and macro a use-macro expression names, when it can be told
        without running anything; a missing macro or file is reported."""
        text, pos = use
        names = expression_names(text)
        template = ctx.template
        if names.load is not None:
            if "$" in names.load:
                return None
            loaded = self.library.load(template, names.load)
            if loaded is None:
                self.problem(ctx, pos, f"metal:use-macro: load: {names.load!r}: no such file")
                return None
            return None if loaded.error else (loaded, None)
        reference = _macro_reference(text)
        if reference is None:
            return None
        variable, macro = reference
        if variable in ("template", "macros") and variable not in scope:
            source: ParsedTemplate | None = template
            described = "this file"
        elif variable in self.library.loads and not scope.redefines(variable):
            source = self.library.loads[variable]
            described = f"{source.name} (#load {variable})"
        else:
            return None
        if source is None or source.error:
            return None
        element = source.macros.get(_macro_key(macro))
        if element is None:
            defined = ", ".join(source.macro_names) or "none"
            self.problem(
                ctx,
                pos,
                f"metal:use-macro: {described} defines no macro {macro!r} (it defines: {defined})",
                _suggest(macro, source.macro_names),
            )
            return None
        return source, element

    def problem(
        self, ctx: _Context, pos: int, message: str, suggestion: str | None = None
    ) -> None:
        self.result.problems.append(
            TemplateProblem(
                ctx.template.filename,
                ctx.template.line(pos),
                "missing-macro",
                message,
                suggestion,
            )
        )


def _interpolated(kind: str, text: str) -> bool:
    """Whether Chameleon interpolates ``${...}`` in this character data: text and
    CDATA, and comments except ``<!--!`` (dropped) and ``<!--?`` (kept as is)."""
    if kind == "comment":
        return not text.startswith(("<!--!", "<!--?"))
    return kind in ("text", "cdata")


def macro_slot(name: str) -> str:
    return _macro_key(name.strip())


def _slot_names(macro: Element) -> set[str]:
    found: set[str] = set()
    for node in _descendants(macro):
        slot = node.attr(METAL_NS, "define-slot")
        if slot is not None:
            found.add(slot.value.strip())
    return found


def _descendants(el: Element) -> Iterable[Element]:
    yield el
    for child in el.children:
        if isinstance(child, Element):
            yield from _descendants(child)


def _fills(el: Element) -> dict[str, Element]:
    """The ``fill-slot`` elements of a using element: anywhere inside it, except
    inside another using element (those fill that one's macro)."""
    found: dict[str, Element] = {}

    def visit(children: Iterable[Node]) -> None:
        for child in children:
            if not isinstance(child, Element):
                continue
            fill = child.attr(METAL_NS, "fill-slot")
            if fill is not None and fill.value.strip():
                found.setdefault(macro_slot(fill.value), child)
            if child.attr(METAL_NS, "use-macro") or child.attr(METAL_NS, "extend-macro"):
                continue
            visit(child.children)

    visit(el.children)
    return found


def _macro_reference(text: str) -> tuple[str, str] | None:
    """``(variable, macro)`` of ``var.macros['name']``, ``var.macros.name`` or
    ``var['name']``; ``macros['name']`` gives ``('macros', name)``."""
    if "|" in text:
        return None
    try:
        tree = ast.parse(text.strip().removeprefix("python:").strip(), mode="eval").body
    except SyntaxError:
        return None
    name: str | None = None
    holder: ast.expr | None = None
    if isinstance(tree, ast.Subscript) and isinstance(tree.slice, ast.Constant):
        if isinstance(tree.slice.value, str):
            name, holder = tree.slice.value, tree.value
    elif (
        isinstance(tree, ast.Attribute)
        and isinstance(tree.value, ast.Attribute)
        and tree.value.attr == "macros"
    ):
        name, holder = tree.attr, tree.value
    if name is None or holder is None:
        return None
    if isinstance(holder, ast.Attribute) and holder.attr == "macros":
        holder = holder.value
        if isinstance(holder, ast.Name):
            return holder.id, name
        return None
    if isinstance(holder, ast.Name):
        return holder.id, name
    return None


def _defined_names(tree: ast.AST) -> set[str]:
    """Names a ``<?python ?>`` block's code defines."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update((a.asname or a.name).split(".")[0] for a in node.names)
    return found


def walk_page(
    template: ParsedTemplate,
    defined: Iterable[str] | None,
    library: MacroLibrary,
) -> WalkResult:
    """Walk what rendering ``template`` renders. ``defined``: the variables the page
    passes (``None``: unknown, so names are not checked; macros and links are)."""
    result = WalkResult()
    if template.error:
        return result
    walker = _Walker(library, result)
    scope = _Scope(defined or ())
    walker.nodes(template.nodes, scope, _Context(template, check=defined is not None), True)
    return result


def undefined_names(
    template_text: str,
    defined_names: Iterable[str],
    *,
    loads: Mapping[str, str] | None = None,
    filename: str = "<template>",
    xml: bool = False,
) -> list[NameProblem]:
    """The names ``template_text`` reads that neither ``defined_names`` nor the
    template itself nor Chameleon defines. ``loads``: macro files by variable name
    (``#load`` variables), as text."""
    library = MacroLibrary(
        {var: parse_template(text, f"{var}.pt") for var, text in (loads or {}).items()}
    )
    defined = {*defined_names, *library.loads}
    template = parse_template(template_text, filename, xml=xml)
    return walk_page(template, defined, library).names
