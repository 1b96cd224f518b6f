"""A page template as an element tree, parsed by Chameleon's own grammar.

Chameleon's tokenizer and tag expressions, and the rules of its ``ElementParser``
(what ``PageTemplate`` uses), turn the text into elements with namespaced
attributes and source offsets, so the checker sees exactly the elements,
``tal:``/``metal:`` attributes and text Chameleon compiles. A test compares the
two parsers. Pure: text in, tree out.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from chameleon import namespaces as _namespaces
from chameleon import parser as _parser
from chameleon import tokenize as _tokenize
from chameleon.namespaces import I18N_NS, META_NS, METAL_NS, TAL_NS
from chameleon.utils import decode_htmlentities
from chameleon.zpt.program import MacroProgram

__all__ = [
    "I18N_NS",
    "METAL_NS",
    "META_NS",
    "TAL_NS",
    "Attribute",
    "Element",
    "Node",
    "ParsedTemplate",
    "Text",
    "macro_key",
    "parse_template",
]

# Chameleon's tokenizer and tag grammar (chameleon.tokenize, chameleon.parser), used
# directly: its ElementParser builds a token object for every substring, which
# costs more than the whole check of a page.
_TOKEN: re.Pattern[str] = _tokenize.re_xml_spe
_TAG: re.Pattern[str] = _parser.match_tag_prefix_and_name
_ATTRIBUTE: re.Pattern[str] = _parser.match_single_attribute
_PI: re.Pattern[str] = _parser.match_processing_instruction
_identify: Callable[[str], str] = _parser.identify
_DEFAULT_NAMESPACES: dict[str | None, str] = {
    k: v for k, v in MacroProgram.DEFAULT_NAMESPACES.items()
}
_XML_NS: str = _namespaces.XML_NS
_LANGUAGE_NS = frozenset({TAL_NS, METAL_NS, I18N_NS, META_NS})
_MANGLE = re.compile(r"[^\w_]")


def macro_key(name: str) -> str:
    """The name Chameleon stores a macro under (``macros[name]`` finds it by this)."""
    return _MANGLE.sub("_", name).replace("\n", "").replace("-", "_")


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str  # as written, with its prefix
    value: str  # as written (entities of tal:/metal: values decoded, as Chameleon does)
    pos: int  # offset of the value in the source
    namespace: str


@dataclass(frozen=True, slots=True)
class Text:
    """Character data. ``kind``: text, comment, cdata, python (a ``<?python ?>``
    block) or other (declarations; never interpolated)."""

    text: str
    pos: int
    kind: str


@dataclass(frozen=True, slots=True)
class Element:
    tag: str
    namespace: str
    attributes: tuple[Attribute, ...]
    children: tuple[Node, ...]
    pos: int
    # (namespace, local name) -> the last attribute written so, as Chameleon keeps them
    by_name: dict[tuple[str, str], Attribute] = field(default_factory=dict, compare=False)

    def attr(self, namespace: str, name: str) -> Attribute | None:
        """The language attribute ``name`` of ``namespace`` (the last one written)."""
        return self.by_name.get((namespace, name))

    def plain_attributes(self) -> list[Attribute]:
        """Attributes that are output (not ``tal:``, ``metal:``, ``i18n:``, ``meta:``)."""
        return [a for a in self.attributes if a.namespace not in _LANGUAGE_NS]


Node = Element | Text


@dataclass(slots=True)
class ParsedTemplate:
    """A template file parsed once: its nodes, macros, and line lookup."""

    filename: str  # as findings name it
    source: str
    label: str = ""  # as messages name it (the webapp-relative path); "": filename
    nodes: tuple[Node, ...] = ()
    macros: dict[str, Element] = field(default_factory=dict)  # by macro_key()
    macro_names: list[str] = field(default_factory=list)  # as written, in order
    error: str | None = None  # Chameleon cannot parse it (the launch says why)
    _newlines: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.label or self.filename

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self._newlines, pos - 1) + 1


def _local(name: str) -> str:
    return name.split(":", 1)[1] if ":" in name else name


class _Start:
    """An open tag on the parser's queue (``element`` once its end tag is seen)."""

    __slots__ = ("element", "name")

    def __init__(self, name: str, element: Element) -> None:
        self.name = name
        self.element = element


def _tag(
    text: str, pos: int, namespaces: dict[str | None, str]
) -> tuple[str, str, list[tuple[str, str, int]]]:
    """``chameleon.parser.parse_tag``: the tag's name, namespace and attributes
    ``(name, value, value offset)``; ``namespaces`` takes its ``xmlns`` attributes."""
    match = _TAG.match(text)
    if match is None:
        raise ValueError(f"not a tag: {text[:40]!r}")
    name = match.group("name")
    attributes: list[tuple[str, str, int]] = []
    for attr in _ATTRIBUTE.finditer(text, match.end()):
        value, at = attr.group("value"), attr.start("value")
        if value is None:
            value, at = attr.group("alt_value"), attr.start("alt_value")
        if value is None:
            value, at = "", attr.start("name")
        attributes.append((attr.group("name"), value, pos + at))
    for attr_name, value, _ in attributes:
        if attr_name == "xmlns":
            namespaces[None] = value
        elif attr_name.startswith("xmlns:"):
            namespaces[attr_name[6:]] = value
    prefix = name.split(":", 1)[0] if ":" in name else None
    return name, namespaces.get(prefix, _XML_NS), attributes


def _element(text: str, pos: int, namespaces: dict[str | None, str]) -> tuple[str, Element]:
    name, namespace, raw = _tag(text, pos, namespaces)
    attributes = []
    for attr_name, value, at in raw:
        if ":" in attr_name:
            prefix = attr_name.split(":", 1)[0]
            if prefix not in namespaces:  # Chameleon's restricted namespaces
                raise KeyError(f"Undefined namespace prefix: {prefix}.")
            attr_namespace = namespaces[prefix]
        else:
            attr_namespace = namespace
        if attr_namespace in (TAL_NS, METAL_NS):
            value = decode_htmlentities(value)
        attributes.append(Attribute(attr_name, value, at, attr_namespace))
    by_name = {(a.namespace, _local(a.name)): a for a in attributes}
    return name, Element(name, namespace, tuple(attributes), (), pos, by_name)


def _parse(source: str) -> tuple[Node, ...]:
    """``chameleon.parser.ElementParser`` over Chameleon's tokens, with its rules:
    an end tag closes the nearest open tag of its name, and tags never closed
    (HTML void elements) stay childless, followed by what came after them."""
    queue: list[Node | _Start] = []
    opened: list[tuple[str, int]] = []
    namespaces: list[dict[str | None, str]] = [dict(_DEFAULT_NAMESPACES)]
    for match in _TOKEN.finditer(source):
        token, pos = match.group(), match.start()
        kind = _identify(token)
        if kind == "start_tag":
            scope = dict(namespaces[-1])
            namespaces.append(scope)
            name, element = _element(token, pos, scope)
            opened.append((name, len(queue)))
            queue.append(_Start(name, element))
        elif kind == "end_tag":
            if not namespaces:
                raise ValueError("Unexpected end tag.")
            scope = namespaces.pop()
            name, _, _ = _tag(token, pos, scope)
            while opened:
                open_name, at = opened.pop()
                if open_name == name:
                    start = queue[at]
                    assert isinstance(start, _Start)
                    children = tuple(_closed(n) for n in queue[at + 1 :])
                    del queue[at:]
                    queue.append(replace(start.element, children=children))
                    break
            else:
                raise ValueError("Unexpected end tag.")
        elif kind in ("empty_tag", "xml_declaration"):
            queue.append(_element(token, pos, dict(namespaces[-1]))[1])
        elif kind == "processing_instruction":
            pi = _PI.match(token)
            if pi is None:
                queue.append(Text(token, pos, "other"))
            elif pi.group("name") == "python":
                queue.append(Text(pi.group("text"), pos + pi.start("text"), "python"))
            else:  # Chameleon outputs it as text, interpolated
                queue.append(Text(pi.group(), pos, "text"))
        elif kind in ("text", "comment", "cdata"):
            queue.append(Text(token, pos, kind))
        else:
            queue.append(Text(token, pos, "other"))
    return tuple(_closed(n) for n in queue)


def _closed(node: Node | _Start) -> Node:
    return node.element if isinstance(node, _Start) else node


def _collect_macros(nodes: tuple[Node, ...], template: ParsedTemplate) -> None:
    for node in nodes:
        if not isinstance(node, Element):
            continue
        define = node.attr(METAL_NS, "define-macro")
        if define is not None:
            key = macro_key(define.value)
            if key not in template.macros:
                template.macros[key] = node
                template.macro_names.append(define.value)
        _collect_macros(node.children, template)


def parse_template(
    source: str, filename: str, *, xml: bool = False, label: str = ""
) -> ParsedTemplate:
    """Parse ``source`` as Chameleon does (HTML mode unless ``xml``).

    A template Chameleon cannot parse gives a ``ParsedTemplate`` with ``error`` set
    and no nodes: the launch reports it, the checker has nothing to say about it.
    """
    if not xml:  # Chameleon's HTML mode: every line end becomes "\n" (line counts stay)
        source = source.replace("\r\n", "\n").replace("\r", "\n")
    template = ParsedTemplate(filename, source, label)
    template._newlines = [i for i, c in enumerate(source) if c == "\n"]
    try:
        nodes = _parse(source)
    except Exception as exc:  # ParseError, KeyError (unknown prefix), ...: Chameleon's too
        template.error = f"{type(exc).__name__}: {exc}"
        return template
    template.nodes = nodes
    _collect_macros(nodes, template)
    return template
