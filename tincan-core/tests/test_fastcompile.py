"""The faster compile makes the program plain Chameleon makes, and only where it was checked.

(Less the interpolation test of :mod:`tincan_core._fastprogram`, which changes the
program on purpose; ``test_fastprogram.py`` compares the program it makes.)

The conformance corpus (``test_chameleon_conformance.py``) proves the renders
the same, with it and without it; here the generated Python source itself is
compared, and the copy it makes of expression trees is compared with
``copy.deepcopy``'s, shape and sharing included.
"""

from __future__ import annotations

import ast
import copy
import gc
import textwrap
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from chameleon import PageTemplate, astutil, codegen, compiler
from chameleon.tokenize import Token
from hypothesis import assume, given
from hypothesis import strategies as st
from tincan_core import _fastcompile, _fastprogram, _fastsnippets, _fastunparse, _gcpace

with _fastcompile.disabled():
    PLAIN_TEMPLATE = codegen.template
    PLAIN_SNIPPET_FUNCTIONS = {
        name: value
        for name, value in vars(compiler).items()
        if _fastsnippets.rebuilt(value, codegen.template("pass", is_func=True).__code__)
    }
    PLAIN_COMPILER_VISIT = compiler.Compiler.visit

CORPUS = Path(__file__).parent / "data" / "chameleon_conformance"


@pytest.fixture
def restored() -> Iterator[None]:
    """Whatever a test does to the installation, the next one finds it as it was."""
    was = _fastcompile.installed()
    yield
    _fastcompile.uninstall()
    if was:
        _fastcompile.install()


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


def _fast_and_plain(program_source: Callable[[str], str]) -> tuple[list[str], list[str]]:
    """The programs of every body, compiled fast (as installed now), then plain."""
    if not _fastcompile.install():
        pytest.skip("the faster compile is off for this Chameleon")
    bodies = _bodies()
    assert len(bodies) >= 20
    fast = [program_source(body) for body in bodies]
    _fastcompile.uninstall()
    return fast, [program_source(body) for body in bodies]


def test_the_generated_source_is_plain_chameleons(
    restored: None, program_source: Callable[[str], str]
) -> None:
    with _fastprogram.unrewritten():  # its own test: the next one
        fast, plain = _fast_and_plain(program_source)
    assert fast == plain
    assert sum(1 for source in plain if "def render" in source) >= 15


def test_the_program_rewrites_are_all_that_the_generated_program_adds(
    restored: None, program_source: Callable[[str], str]
) -> None:
    fast, plain = _fast_and_plain(program_source)
    rewritten = changed = 0
    for ours, theirs in zip(fast, plain, strict=True):
        if "def render" not in theirs:
            assert ours == theirs  # an error, reported the same
            continue
        tree = ast.parse(theirs)  # comments are not part of the tree
        before = ast.dump(tree)
        rewritten += _fastprogram.rewrite(tree)
        assert ast.dump(ast.parse(ours)) == ast.dump(tree)
        changed += ast.dump(tree) != before
    assert rewritten >= 10  # interpolations in loops
    assert changed >= 15  # and texts joined


def test_other_chameleon_versions_compile_as_plain_chameleon(
    restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINCAN_CHAMELEON_SPEEDUP", "1")
    if not _fastcompile.install():
        pytest.skip("the faster compile is off for this Chameleon")
    own = astutil.NameLookupRewriteVisitor.__call__
    _fastcompile.uninstall()
    plain = astutil.NameLookupRewriteVisitor.__call__
    assert plain is not own
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
        st.builds(
            lambda text, pos, source: astutil.TokenRef(Token(text, pos, source, "t.pt")),
            st.text(max_size=4),
            st.integers(0, 99),
            st.one_of(st.none(), st.text(max_size=6)),
        ),
        st.builds(  # one token in two places
            lambda text: ast.List(
                [astutil.TokenRef(token := Token(text, 3, "src")), astutil.TokenRef(token)],
                ast.Load(),
            ),
            st.text(max_size=4),
        ),
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
        elif isinstance(value, Token):  # a str with slots: its position, once
            slots = (value.pos, value.source, value.filename)
            out.append(("token", str(value), slots, seen.setdefault(id(value), len(seen))))
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


def _partial(cls: type, names: tuple[str, ...]) -> Any:
    """A node of ``cls`` with only the fields ``names`` set, as a visitor may leave one."""
    node = cls.__new__(cls)
    for name in names:
        setattr(node, name, ast.Name("x", ast.Load()))
    return node


@pytest.mark.parametrize(
    ("cls", "names"),
    [
        (ast.Assign, ("targets", "value")),  # complete
        (ast.Assign, ("targets",)),  # the first field only
        (ast.Assign, ("value",)),  # not the first field
        (ast.Call, ()),  # nothing set
        (ast.BinOp, ("left", "op", "right")),
        (ast.Load, ()),  # no fields at all
    ],
)
def test_the_copy_of_a_node_is_made_as_deepcopy_makes_it(
    cls: type, names: tuple[str, ...]
) -> None:
    """The fields set, the defaults filled in and the warnings given are deepcopy's, on
    every Python (from 3.13 on, a node is called with its reduction's arguments)."""
    with warnings.catch_warnings(record=True) as made_warnings:
        warnings.simplefilter("always")
        made = _fastcompile.clone(_partial(cls, names))
    with warnings.catch_warnings(record=True) as reference_warnings:
        warnings.simplefilter("always")
        reference = copy.deepcopy(_partial(cls, names))
    assert _shape(made) == _shape(reference)
    assert [str(w.message) for w in made_warnings] == [str(w.message) for w in reference_warnings]


def test_copying_a_complete_tree_warns_of_nothing() -> None:
    tree = ast.parse("x = f(a, *b, key=c)\nif x:\n    y = [x + 1 for x in z]\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        made = _fastcompile.clone(tree)
    assert ast.dump(made) == ast.dump(tree)


# -- snippets ----------------------------------------------------------------------------

_PLACEHOLDERS = ["TARGET", "VALUE", "FUNC", "NAME"]
_OTHER_NAMES = ["x", "len", "str", "None", "getname", "econtext", "__append"]


def _snippet_names() -> st.SearchStrategy[str]:
    return st.sampled_from(_PLACEHOLDERS + _OTHER_NAMES)


@st.composite
def _snippet_source(draw: st.DrawFn) -> str:
    """Python source in the style of Chameleon's snippets, placeholders included."""
    name = _snippet_names()

    def expression() -> str:
        kind = draw(
            st.sampled_from(
                ["name", "call", "binop", "compare", "subscript", "const", "dict", "list"]
            )
        )
        if kind == "dict":
            return f"{{{draw(name)}: 1, **{draw(name)}}}"
        if kind == "list":
            return f"[{draw(name)}, 1, *{draw(name)}]"
        if kind == "name":
            return draw(name)
        if kind == "call":
            return f"{draw(name)}({draw(name)}, key={draw(name)})"
        if kind == "binop":
            return f"{draw(name)} {draw(st.sampled_from(['+', '%', 'and', 'or']))} {draw(name)}"
        if kind == "compare":
            return f"not {draw(name)} is {draw(name)}"
        if kind == "subscript":
            return f"{draw(name)}[{draw(name)}].attr"
        return draw(st.sampled_from(["'text'", "1", "(1, 'a')", "[]"]))

    def statement(depth: int) -> list[str]:
        kind = draw(
            st.sampled_from(["assign", "expr", "if", "def", "try", "for"][: 2 + 4 * depth])
        )
        inner = (lambda: ["    " + line for line in statement(depth - 1)]) if depth else None
        if kind == "assign":
            return [f"{draw(name)} = {expression()}"]
        if kind == "expr":
            return [expression()]
        assert inner is not None
        if kind == "if":
            return [f"if {expression()}:", *inner(), "else:", *inner()]
        if kind == "def":
            return [
                f"def {draw(name)}(a, b={draw(name)}):",
                *inner(),
                f"    return {expression()}",
            ]
        if kind == "try":
            return ["try:", *inner(), "except Exception:", "    raise"]
        return [f"for {draw(name)} in {expression()}:", *inner()]

    lines = [line for _ in range(draw(st.integers(1, 3))) for line in statement(1)]
    indent = draw(st.sampled_from(["", "    "]))  # snippets are dedented
    return "\n" + "\n".join(indent + line for line in lines)


class _Thing:
    """An object a snippet refers to by ``Symbol`` (imported by the program)."""


def _symbol_value() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(["x", "__value", "econtext", _Thing, int, len, _Thing()]),
        st.builds(lambda: astutil.load("loaded")),
        st.builds(lambda: ast.Constant(1)),
        st.builds(lambda: astutil.Builtin("str")),
        st.builds(lambda: [ast.Expr(ast.Constant("spliced"))]),
        st.just(None),
    )


def _expanded(function: Any, source: str, mode: str, symbols: dict[str, Any]) -> Any:
    try:
        return function(source, mode=mode, **symbols)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def _described(tree: Any) -> Any:
    """Everything unparse and later steps read: classes, fields, locations, symbols."""
    if isinstance(tree, str):
        return tree
    return _shape(tree)


@given(
    _snippet_source(),
    st.dictionaries(st.sampled_from(_PLACEHOLDERS), _symbol_value(), max_size=4),
)
def test_a_snippet_expands_as_chameleons(source: str, symbols: dict[str, Any]) -> None:
    for mode in ("exec", "eval") if "\n" not in source.strip() else ("exec",):
        for _ in range(2):  # parsed, then from the parsed snippet
            fast = _expanded(_fastsnippets.template, source, mode, dict(symbols))
            plain = _expanded(PLAIN_TEMPLATE, source, mode, dict(symbols))
            assert _described(fast) == _described(plain)
            if not isinstance(plain, str):  # the given nodes are put in, not copies of them
                given = _nodes(list(symbols.values()))
                assert _nodes(fast) & given == _nodes(plain) & given


def test_the_snippet_functions_chameleon_made_at_import_are_remade(restored: None) -> None:
    if not _fastcompile.install():
        pytest.skip("the faster compile is off for this Chameleon")
    assert len(PLAIN_SNIPPET_FUNCTIONS) >= 5  # emit_bool, emit_convert, emit_translate...
    for name, plain in PLAIN_SNIPPET_FUNCTIONS.items():
        fast = getattr(compiler, name)
        assert fast is not plain
        args = plain.__closure__[plain.__code__.co_freevars.index("args")].cell_contents
        nodes = tuple(
            f"f{i}" if arg == "func" else astutil.load(f"a{i}") for i, arg in enumerate(args)
        )
        assert _shape(fast(*nodes)) == _shape(plain(*nodes))
        assert _shape(fast(nodes[0])) == _shape(plain(nodes[0]))  # defaults fill the rest
    _fastcompile.uninstall()
    assert all(getattr(compiler, n) is f for n, f in PLAIN_SNIPPET_FUNCTIONS.items())


def test_uninstalling_puts_every_part_of_chameleon_back(restored: None) -> None:
    _fastcompile.uninstall()
    before = {(owner, name): vars(owner).get(name) for owner, name, _ in _fastcompile._patches()}
    if not _fastcompile.install():
        pytest.skip("the faster compile is off for this Chameleon")
    assert compiler.template is _fastsnippets.template
    _fastcompile.uninstall()
    after = {(owner, name): vars(owner).get(name) for (owner, name) in before}
    assert after == before
    assert compiler.ast is ast


# -- the compiler's statement lists --------------------------------------------------------


class _Other(ast.AST):
    """A statement that is neither text nor a token reference."""


_ITEMS = st.lists(st.sampled_from(["text", "Text", "token", "other"]), max_size=12)


class _Yielding:
    """Stands for a Chameleon node whose visit yields ``items``."""

    def __init__(self, items: list[str]) -> None:
        self.items = items


class _FakeCompiler:
    def visit__Yielding(self, node: _Yielding) -> Iterator[Any]:
        for number, item in enumerate(node.items):
            if item in ("text", "Text"):
                yield compiler.EmitText(item)
            elif item == "token":
                yield astutil.TokenRef(f"token {number}")
            else:
                yield _Other()


@given(_ITEMS)
def test_the_compiler_joins_text_and_tokens_as_chameleon_does(items: list[str]) -> None:
    node = _Yielding(items)
    plain = PLAIN_COMPILER_VISIT(_FakeCompiler(), node)
    fast = _fastcompile._compiler_visit(_FakeCompiler(), node)

    def described(nodes: list[Any]) -> list[Any]:
        return [(type(n).__name__, vars(n).get("s"), vars(n).get("token")) for n in nodes]

    assert described(fast) == described(plain)
    assert PLAIN_COMPILER_VISIT(_FakeCompiler(), None) == _fastcompile._compiler_visit(
        _FakeCompiler(), None
    )


# -- unparsing ---------------------------------------------------------------------------


def _stdlib_sources() -> list[Path]:
    lib = Path(ast.__file__).parent
    return sorted(lib.glob("*.py"))[::4]  # a quarter of the standard library's modules


@pytest.mark.skipif(not _fastunparse.available(), reason="not checked on this Python")
def test_unparsing_writes_what_ast_unparse_writes() -> None:
    paths = _stdlib_sources()
    assert len(paths) >= 40
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), type_comments=True)
        assert _fastunparse.unparse(tree) == ast.unparse(tree), path


@pytest.mark.skipif(not _fastunparse.available(), reason="not checked on this Python")
def test_a_tree_without_locations_unparses_as_with_them() -> None:
    source = (
        "def f(a, b=1):  # type: (int, int) -> int\n    x = [a, b]  # type: list\n    return x\n"
    )
    tree = ast.parse(source, type_comments=True)
    expected = ast.unparse(tree)
    for node in ast.walk(tree):
        for name in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if name in vars(node):
                delattr(node, name)
    assert _fastunparse.unparse(tree) == expected
    with pytest.raises(AttributeError):
        ast.unparse(tree)  # what the faster compile's unlocated trees need it for


@pytest.mark.skipif(not _fastunparse.available(), reason="not checked on this Python")
@given(st.data())
def test_unparsing_generated_snippets_writes_what_ast_unparse_writes(data: st.DataObject) -> None:
    try:
        tree = ast.parse(textwrap.dedent(data.draw(_snippet_source())))
    except SyntaxError:
        assume(False)
    assert _fastunparse.unparse(tree) == ast.unparse(tree)


# -- garbage collection while compiling ----------------------------------------------------


@pytest.fixture
def thresholds() -> Iterator[tuple[int, ...]]:
    was = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*was)


def test_compiling_collects_garbage_less_often_and_then_as_before(
    thresholds: tuple[int, ...],
) -> None:
    with _gcpace.compiling():
        assert gc.get_threshold() == (_gcpace.YOUNG_THRESHOLD, 10, 10)
        with _gcpace.compiling():  # nested, or another thread's compile
            pass
        assert gc.get_threshold()[0] == _gcpace.YOUNG_THRESHOLD
    assert gc.get_threshold() == thresholds


def test_compiles_in_threads_keep_it_raised_until_the_last_ends(
    thresholds: tuple[int, ...],
) -> None:
    started, release = threading.Barrier(3), threading.Event()
    seen: list[int] = []

    def compile_something() -> None:
        with _gcpace.compiling():
            started.wait()
            release.wait()
            seen.append(gc.get_threshold()[0])

    workers = [threading.Thread(target=compile_something) for _ in range(2)]
    for worker in workers:
        worker.start()
    started.wait()
    assert gc.get_threshold()[0] == _gcpace.YOUNG_THRESHOLD
    release.set()
    for worker in workers:
        worker.join()
    assert seen == [_gcpace.YOUNG_THRESHOLD] * 2
    assert gc.get_threshold() == thresholds


def test_a_threshold_set_by_the_application_is_respected(thresholds: tuple[int, ...]) -> None:
    gc.set_threshold(100_000, 10, 10)
    with _gcpace.compiling():
        assert gc.get_threshold()[0] == 100_000
    gc.set_threshold(700, 10, 10)
    with _gcpace.compiling():
        gc.set_threshold(900, 5, 5)  # changed meanwhile: left as set
    assert gc.get_threshold() == (900, 5, 5)


def test_a_template_compiles_with_fewer_collections(
    restored: None, thresholds: tuple[int, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chameleon import template as chameleon_template

    if not _fastcompile.install():
        pytest.skip("the faster compile is off for this Chameleon")
    seen: list[int] = []
    plain_compile = chameleon_template.BaseTemplate._compile

    def recording(self: Any, *args: Any) -> Any:
        seen.append(gc.get_threshold()[0])
        return plain_compile(self, *args)

    monkeypatch.setattr(chameleon_template.BaseTemplate, "_compile", recording)
    PageTemplate("<p>${x}</p>").cook_check()
    with _fastcompile.disabled():
        PageTemplate("<p>${y}</p>").cook_check()
    assert seen == [_gcpace.YOUNG_THRESHOLD, 700]
    assert gc.get_threshold() == thresholds


# -- the tree walkers ----------------------------------------------------------------------


class _PlainRewriter(ast.NodeTransformer):
    """Replaces, removes and splices names, recording the order it meets them."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def visit_Name(self, node: ast.Name) -> Any:
        self.seen.append(node.id)
        if node.id == "a":
            return ast.Subscript(astutil.load("econtext"), ast.Constant("a"), ast.Load())
        if node.id == "b":
            return None
        if node.id == "econtext":
            return [ast.Constant(1), ast.Constant(2)]
        return node

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        self.seen.append("+")
        return self.generic_visit(node)


class _FastRewriter(_PlainRewriter):
    visit = _fastcompile._visit
    generic_visit = _fastcompile._generic_visit


@given(st.data())
def test_the_walkers_walk_as_node_transformer_does(data: st.DataObject) -> None:
    tree = _share(data.draw(_tree()), data)
    wrapped = ast.Expr(ast.List([tree, ast.Name("b", ast.Load())], ast.Load()))
    plain, fast = _PlainRewriter(), _FastRewriter()
    expected = _shape(plain.visit(copy.deepcopy(wrapped)))
    assert _shape(fast.visit(copy.deepcopy(wrapped))) == expected
    assert fast.seen == plain.seen


# -- template expressions ------------------------------------------------------------------


def _plain_expression(text: str) -> Any:
    try:
        return _shape(ast.parse(text, mode="eval").body)
    except SyntaxError as exc:
        return f"SyntaxError: {exc}"


def _cached_expression(text: str) -> Any:
    try:
        return _shape(
            _fastsnippets.parse_expression(lambda t: ast.parse(t, mode="eval").body, text)
        )
    except SyntaxError as exc:
        return f"SyntaxError: {exc}"


@given(
    st.one_of(
        st.sampled_from(["page.rows[i % len(page.rows)]", "r[2] > 3", "a and not b", "{**x}"]),
        st.text(alphabet="ab1+-*[](){}:., ", max_size=12),
    )
)
def test_an_expression_parsed_once_is_a_fresh_parse_each_time(text: str) -> None:
    expected = _plain_expression(text)
    first, second = _cached_expression(text), _cached_expression(text)
    assert first == second == expected


def test_each_use_of_a_parsed_expression_is_its_own_tree() -> None:
    parse = lambda text: ast.parse(text, mode="eval").body  # noqa: E731
    one = _fastsnippets.parse_expression(parse, "f(x).y")
    two = _fastsnippets.parse_expression(parse, "f(x).y")
    assert ast.dump(one) == ast.dump(two)
    nodes = [n for n in ast.walk(one) if not isinstance(n, ast.expr_context)]
    assert not {id(n) for n in nodes} & {id(n) for n in ast.walk(two)}


@pytest.mark.parametrize("expression", ["'\\d0'", "1if True else 2"])
def test_an_expression_the_parser_warns_about_warns_at_every_compile(
    restored: None, expression: str
) -> None:
    def warned() -> list[Any]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            PageTemplate(f"<p>${{{expression}}}</p>").cook_check()
        return [(w.category, str(w.message)) for w in caught]

    with _fastcompile.disabled():
        plain = warned()
    assert plain  # a DeprecationWarning or a SyntaxWarning, as this Python says
    if not _fastcompile.install():
        pytest.skip("the faster compile is off for this Chameleon")
    assert warned() == warned() == plain


def test_chameleons_snippets_parse_without_warnings(
    restored: None, program_source: Callable[[str], str]
) -> None:
    """Snippets are parsed once a process however they parse: Chameleon's own texts,
    none of which the parser warns about (else plain Chameleon would warn at every
    compile, and the faster one once)."""
    if not _fastcompile.install():
        pytest.skip("the faster compile is off for this Chameleon")
    for body in _bodies():
        program_source(body)
    assert len(_fastsnippets._parsed) >= 30
    for source, mode in list(_fastsnippets._parsed):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            codegen.parse(textwrap.dedent(source), mode=mode)
