"""The checker's template parser builds the tree Chameleon's ``ElementParser`` builds.

Compared on the committed conformance templates, on Chameleon's own test
templates (when they are in the test cache; ``test_chameleon_conformance.py``
fetches them) and on generated markup with unclosed, stray and namespaced tags.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chameleon.parser import ElementParser
from chameleon.tokenize import iter_xml
from chameleon.utils import decode_htmlentities
from chameleon.zpt.program import MacroProgram
from hypothesis import given
from hypothesis import strategies as st
from tincan_core._check_template import MacroLibrary, walk_page
from tincan_core._check_tree import Element, Node, Text, parse_template

DATA = Path(__file__).parent / "data" / "chameleon_conformance"
LANGUAGE = ("http://xml.zope.org/namespaces/tal", "http://xml.zope.org/namespaces/metal")


def chameleon_tree(source: str) -> list[Any]:
    parser = ElementParser(iter_xml(source, "t"), MacroProgram.DEFAULT_NAMESPACES, True)
    return [_theirs(kind, args) for kind, args in parser]


def _theirs(kind: str, args: Any) -> Any:
    if kind in ("element", "start_tag"):
        start = args[0]
        children = [] if kind == "start_tag" else [_theirs(k, a) for k, a in args[2]]
        attributes = []
        if len(start["ns_attrs"]) != len(start["attrs"]):
            return ("repeated attribute",)
        for (namespace, _), attr in zip(start["ns_attrs"], start["attrs"], strict=True):
            value = str(attr["value"])
            if namespace in LANGUAGE:
                value = decode_htmlentities(value)
            attributes.append((str(attr["name"]), value, namespace))
        return ("element", str(start["name"]), str(start["namespace"]), attributes, children)
    if kind == "processing_instruction":
        pi = args[0]
        if str(pi["name"]) != "python":  # the compiler outputs it as text
            return ("text", f"<?{pi['name']}{pi['text']}?>")
        return ("pi", str(pi["text"]))
    return ("text", str(args[0]))


def _ours(node: Node) -> Any:
    if isinstance(node, Element):
        attributes = [(a.name, a.value, a.namespace) for a in node.attributes]
        children = [_ours(c) for c in node.children]
        return ("element", node.tag, node.namespace, attributes, children)
    assert isinstance(node, Text)
    return ("pi", node.text) if node.kind in ("python",) else ("text", node.text)


def _unique_attribute_names(tree: list[Any]) -> bool:
    """ElementParser keys namespaced attributes by name, so a repeated one cannot be
    paired with its text; such templates are left out of the comparison."""
    for item in tree:
        if item[0] == "repeated attribute":
            return False
        if item[0] == "element" and not _unique_attribute_names(item[4]):
            return False
    return True


def same_tree(source: str) -> None:
    try:
        expected = chameleon_tree(source)
    except Exception:
        assert parse_template(source, "t", xml=True).error is not None
        return
    parsed = parse_template(source, "t", xml=True)
    assert parsed.error is None
    ours = [_ours(n) for n in parsed.nodes]
    if not _unique_attribute_names(expected):
        return
    # A non-python processing instruction is text to Chameleon's compiler.
    assert _normalise(ours) == _normalise(expected)


def _normalise(tree: list[Any]) -> list[Any]:
    out = []
    for item in tree:
        if item[0] == "element":
            out.append((*item[:4], _normalise(item[4])))
        elif item[0] == "pi":
            out.append(("pi", item[1].strip()))
        else:
            out.append(item)
    return out


def corpus() -> list[Path]:
    return sorted(p for p in DATA.iterdir() if p.suffix in (".pt", ".html"))


def _chameleons_own(inputs: Path) -> list[Path]:
    # Fetched by a fixture, not listed at collection: a fresh machine has them only
    # once the fixture fetched them.
    found = sorted(p for p in inputs.iterdir() if p.suffix in (".pt", ".html"))
    assert len(found) >= 100  # 108 in Chameleon 4.6
    return found


@pytest.mark.parametrize("path", corpus(), ids=lambda p: p.name)
def test_same_tree_as_chameleon(path: Path) -> None:
    try:
        source = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8 (decoding is tested elsewhere)")
    same_tree(source)


def test_same_tree_as_chameleon_for_chameleons_own_templates(chameleon_inputs: Path) -> None:
    for path in _chameleons_own(chameleon_inputs):
        try:
            source = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue  # decoding is tested elsewhere
        try:
            same_tree(source)
        except AssertionError as exc:
            raise AssertionError(f"{path.name}: {exc}") from exc


_tag = st.sampled_from(["p", "div", "meta", "br", "tal:block", "metal:x", "a:b", "P"])
_attr = st.sampled_from(
    [
        ' class="x"',
        " checked",
        " tal:content='a'",
        ' tal:define="a 1; b &amp;"',
        ' xmlns:a="urn:a"',
        ' metal:fill-slot="s"',
        " href=x",
        ' repeat="i items"',
    ]
)


@st.composite
def markup(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        choice = draw(st.integers(0, 6))
        tag = draw(_tag)
        attrs = "".join(draw(st.lists(_attr, max_size=3, unique=True)))
        if choice == 0:
            parts.append(draw(st.sampled_from(["text ${a}", "<!-- c -->", "<?python x=1 ?>"])))
        elif choice == 1:
            parts.append(f"<{tag}{attrs}>")  # never closed
        elif choice == 2:
            parts.append(f"<{tag}{attrs} />")
        elif choice == 3:
            parts.append(f"</{tag}>")  # stray end tag
        elif depth < 3:
            inner = draw(markup(depth + 1))
            parts.append(f"<{tag}{attrs}>{inner}</{tag}>")
    return "".join(parts)


@given(markup())
def test_generated_markup_parses_as_chameleon_does(source: str) -> None:
    same_tree(source)


def test_lines_and_macros() -> None:
    parsed = parse_template(
        "\n<div metal:define-macro='a-b'>\n<p metal:define-macro='c'/></div>", "t"
    )
    assert parsed.macro_names == ["a-b", "c"]
    assert set(parsed.macros) == {"a_b", "c"}
    assert parsed.line(parsed.macros["c"].pos) == 3


def _walks(path: Path) -> None:
    source = path.read_bytes().decode("utf-8", "replace")
    template = parse_template(source, str(path), xml=source.startswith("<?xml"))
    result = walk_page(template, set(), MacroLibrary({"lib": template}))
    for problem in result.names:
        assert 1 <= problem.line <= source.count("\n") + 1, path.name


@pytest.mark.parametrize("path", corpus(), ids=lambda p: p.name)
def test_the_checker_walks_every_template(path: Path) -> None:
    _walks(path)


def test_the_checker_walks_chameleons_own_templates(chameleon_inputs: Path) -> None:
    for path in _chameleons_own(chameleon_inputs):
        _walks(path)
