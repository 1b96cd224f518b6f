"""The faster compile makes the program plain Chameleon makes, and only where it was checked.

The conformance corpus (``test_chameleon_conformance.py``) proves the renders
the same, with it and without it; here the generated Python source itself is
compared, and the copy it makes of expression trees is compared with
``copy.deepcopy``'s, shape and sharing included.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chameleon import PageTemplate, astutil
from hypothesis import given
from hypothesis import strategies as st
from tincan_core import _fastcompile

CORPUS = Path(__file__).parent / "data" / "chameleon_conformance"
_GENERATED = re.compile(r"(_\w*?_)(\d{9,})")
_ADDRESS = re.compile(r" at (0x)?[0-9a-f]{6,}>")  # reprs in Chameleon's comments


@pytest.fixture
def restored() -> Iterator[None]:
    """Whatever a test does to the installation, the next one finds it as it was."""
    was = _fastcompile.installed()
    yield
    _fastcompile.uninstall()
    if was:
        _fastcompile.install()


def _renumbered(source: str) -> str:
    """Chameleon names temporaries after id()s of its objects (and its comments show
    addresses): number them in order of appearance, drop the addresses."""
    numbers: dict[str, str] = {}
    source = _ADDRESS.sub(" at ...>", source)
    return _GENERATED.sub(
        lambda m: m.group(1) + numbers.setdefault(m.group(2), str(len(numbers))), source
    )


def _generated(body: str) -> str:
    try:
        template = PageTemplate(body, keep_source=True)
        template.cook_check()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return _renumbered(template.source)


# Expressions of every kind in one page, as the benchmark pages use them.
EXPRESSIONS = """\
<html metal:use-macro="layout.macros['page']">
  <main metal:fill-slot="content" tal:define="rows python: [(i, 'item %d' % i) for i in range(3)]">
    <tr tal:repeat="r rows" class="row-${repeat.r.index}"><td>${r[1]}</td>
      <td tal:content="r[0]" tal:condition="r[0] > 1">0</td>
      <td tal:attributes="title string:t-${r[0]}; class python: 'odd' if r[0] % 2 else None"
          tal:on-error="string:error">${structure: r[1].upper()}</td></tr>
    <p i18n:translate="">Hello <b i18n:name="who" tal:replace="nothing | default">x</b></p>
  </main>
</html>
"""


def _bodies() -> list[str]:
    texts = [EXPRESSIONS]
    for path in sorted(CORPUS.glob("*.pt")):
        try:
            texts.append(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError:
            continue
    return texts


def test_the_generated_source_is_plain_chameleons(restored: None) -> None:
    if not _fastcompile.install():
        pytest.skip("the faster compile is off for this Chameleon")
    bodies = _bodies()
    assert len(bodies) >= 20
    fast = [_generated(body) for body in bodies]
    _fastcompile.uninstall()
    plain = [_generated(body) for body in bodies]
    assert fast == plain
    assert sum(1 for source in plain if "def render" in source) >= 15


def test_other_chameleon_versions_compile_as_plain_chameleon(
    restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = astutil.NameLookupRewriteVisitor.__call__
    _fastcompile.uninstall()
    plain = astutil.NameLookupRewriteVisitor.__call__
    assert plain is not own or not _fastcompile.CHECKED_VERSIONS
    monkeypatch.setattr(_fastcompile, "_chameleon_version", lambda: "999.0")
    assert _fastcompile.install() is False
    assert not _fastcompile.installed()
    assert astutil.NameLookupRewriteVisitor.__call__ is plain


def test_it_can_be_turned_off(restored: None, monkeypatch: pytest.MonkeyPatch) -> None:
    _fastcompile.uninstall()
    monkeypatch.setenv("TINCAN_CHAMELEON_SPEEDUP", "0")
    assert _fastcompile.install() is False
    monkeypatch.setenv("TINCAN_CHAMELEON_SPEEDUP", "1")
    assert _fastcompile.install() is _fastcompile._applicable()


# -- the copy ----------------------------------------------------------------------------


class Marker:
    """Not a syntax tree: deepcopy copies it through its reduction."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Marker) and other.n == self.n

    def __hash__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"Marker({self.n})"


def _leaf() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(ast.Name, st.sampled_from(["a", "b", "econtext"]), st.just(ast.Load())),
        st.builds(ast.Constant, st.one_of(st.integers(), st.text(max_size=5), st.none())),
        st.builds(astutil.Symbol, st.sampled_from([len, int, Marker(1), "x"])),
        st.builds(astutil.Builtin, st.sampled_from(["str", "None"])),
    )


def _tree() -> st.SearchStrategy[Any]:
    return st.recursive(
        _leaf(),
        lambda inner: st.one_of(
            st.builds(ast.BinOp, inner, st.just(ast.Add()), inner),
            st.builds(ast.List, st.lists(inner, max_size=3), st.just(ast.Load())),
            st.builds(
                lambda f, a: ast.Call(func=f, args=a, keywords=[]),
                inner,
                st.lists(inner, max_size=3),
            ),
            st.builds(astutil.Static, inner, st.sampled_from([None, "name"])),
        ),
        max_leaves=12,
    )


def _share(tree: Any, data: st.DataObject) -> Any:
    """Make some subtrees appear twice, as Chameleon's cached expressions do."""
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.AST)]
    for node in nodes:
        for field in getattr(node, "_fields", ()):
            value = getattr(node, field, None)
            if isinstance(value, list) and value and data.draw(st.booleans()):
                value.append(value[0])
    return tree


def _shape(tree: Any) -> list[Any]:
    """The tree's nodes in order, each as its type and the index of its first visit."""
    seen: dict[int, int] = {}
    out: list[Any] = []

    def walk(value: Any) -> None:
        if isinstance(value, list):
            out.append(("list", seen.setdefault(id(value), len(seen))))
            for item in value:
                walk(item)
        elif isinstance(value, ast.AST):
            first = id(value) not in seen
            out.append((type(value).__name__, seen.setdefault(id(value), len(seen))))
            if first:
                for name, item in sorted(vars(value).items()):
                    out.append(name)
                    walk(item)
        else:
            out.append(("value", type(value).__name__, repr(value)))

    walk(tree)
    return out


def _nodes(tree: Any) -> set[int]:
    """The ids of the nodes and lists a tree holds (class attributes are not its own)."""
    found: set[int] = set()
    todo = [tree]
    while todo:
        value = todo.pop()
        if isinstance(value, (list, ast.AST)) and id(value) not in found:
            found.add(id(value))
            todo.extend(value if isinstance(value, list) else vars(value).values())
    return found


@given(st.data())
def test_the_copy_is_deepcopys(data: st.DataObject) -> None:
    tree = _share(data.draw(_tree()), data)
    made = _fastcompile.clone(tree)
    reference = copy.deepcopy(tree)
    assert _shape(made) == _shape(reference) == _shape(tree)
    assert not _nodes(tree) & _nodes(made)  # nothing shared with the input


def test_the_copy_copies_other_objects_as_deepcopy_does() -> None:
    marker = Marker(7)
    tree = ast.Expr(
        ast.List([astutil.Symbol(marker), astutil.Symbol(len), astutil.Symbol(marker)])
    )
    made = _fastcompile.clone(tree)
    first, second, third = made.value.elts
    assert first.value == marker and first.value is not marker  # copied, as deepcopy copies it
    assert first.value is third.value  # once
    assert second.value is len  # functions are kept
