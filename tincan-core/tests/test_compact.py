"""Compacted Chameleon programs behave exactly like the ones Chameleon compiled."""

from __future__ import annotations

import marshal
from types import CodeType
from typing import Any

import pytest
from chameleon import PageTemplate
from chameleon.exc import RenderError
from hypothesis import given, settings
from hypothesis import strategies as st
from tincan_core._compact import compact, line_of_each_instruction

MACROS = """\
<html metal:define-macro="page"><body>
<h1 metal:define-slot="title">default title</h1>
<div metal:define-slot="content">default content</div>
</body></html>
"""

TEMPLATES = {
    "repeat-define-condition": """\
<table><tr tal:repeat="row rows" class="${repeat.row.index}">
  <td tal:define="double python: row * 2" tal:content="double">x</td>
  <td tal:condition="row > 1">big</td><td tal:attributes="title str(row)">${row}</td>
</tr></table>
""",
    "macro-slots": """\
<html metal:use-macro="lib.macros['page']">
<h1 metal:fill-slot="title">Title ${name}</h1>
<div metal:fill-slot="content"><p tal:repeat="row rows">${row}-${name}</p></div>
</html>
""",
    "switch-omit-replace": """\
<div tal:switch="name"><p tal:case="'ann'">hi ann</p><p tal:case="default">who?</p></div>
<span tal:omit-tag="">plain ${name}</span><b tal:replace="structure markup">x</b>
<i tal:on-error="string:failed" tal:content="python: 1 / zero">x</i>
""",
    "define-macro-inside": """\
<div metal:define-macro="box"><em>${name}</em></div>
<section metal:use-macro="template.macros['box']"></section>
<p tal:define="global g python: len(rows)">${g}</p>
""",
    "nested-closures": """\
<ul><li tal:repeat="row rows"><ol><li tal:repeat="inner python: range(row)"
   tal:content="python: [x * inner for x in (row,)][0]">n</li></ol></li></ul>
""",
}

VARIABLES: dict[str, Any] = {
    "rows": [1, 2, 3],
    "name": "ann",
    "markup": "<u>m</u>",
    "zero": 0,
}


class _Loader:
    """Compiles through ``compact`` (or not) and remembers the code."""

    def __init__(self, compacted: bool) -> None:
        self.compacted = compacted
        self.codes: list[CodeType] = []

    def get(self, name: str) -> None:
        return None

    def build(self, source: str, name: str) -> dict[str, Any]:
        code = compile(source, name, "exec")
        if self.compacted:
            code = compact(code)
        self.codes.append(code)
        program: dict[str, Any] = {}
        exec(code, program)
        return program


def _template(body: str, compacted: bool, name: str = "page") -> tuple[PageTemplate, _Loader]:
    loader = _Loader(compacted)
    options: dict[str, Any] = {"filename": f"/webapp/{name}.pspx", "loader": loader}
    return PageTemplate(body, **options), loader


def _render(body: str, compacted: bool, **variables: Any) -> str:
    lib, _ = _template(MACROS, compacted, "lib")
    template, _ = _template(body, compacted)
    return str(template.render(lib=lib, **{**VARIABLES, **variables}))


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_compacted_programs_render_the_same(name: str) -> None:
    assert _render(TEMPLATES[name], True) == _render(TEMPLATES[name], False)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_compacted_programs_are_smaller_and_keep_their_lines(name: str) -> None:
    _, plain = _template(TEMPLATES[name], False)
    _, small = _template(TEMPLATES[name], True)
    (before,), (after,) = plain.codes, small.codes
    assert len(marshal.dumps(after)) < len(marshal.dumps(before))

    def lines(code: CodeType) -> list[Any]:
        nested = [lines(c) for c in code.co_consts if isinstance(c, CodeType)]
        return [line_of_each_instruction(code), nested]

    assert lines(after) == lines(before)


def test_generated_names_are_shared_between_templates() -> None:
    _, first = _template(TEMPLATES["repeat-define-condition"], True, "a")
    _, second = _template(TEMPLATES["repeat-define-condition"].replace("big", "large"), True, "b")

    def names(code: CodeType) -> set[str]:
        found = set(code.co_varnames) | set(code.co_names)
        for const in code.co_consts:
            if isinstance(const, CodeType):
                found |= names(const)
        return found

    assert names(first.codes[0]) == names(second.codes[0])
    assert not any(name[-9:].isdigit() for name in names(first.codes[0]))


def _strings(code: CodeType) -> list[str]:
    found = []
    for const in code.co_consts:
        if isinstance(const, CodeType):
            found += _strings(const)
        elif isinstance(const, str):
            found.append(const)
    return found


def test_loaded_programs_share_their_markup() -> None:
    # As the template cache stores and loads them: marshalled, then loaded apart.
    _, first = _template(TEMPLATES["repeat-define-condition"], True, "a")
    _, second = _template(TEMPLATES["repeat-define-condition"] + "<p>more</p>", True, "b")
    one, other = (marshal.loads(marshal.dumps(loader.codes[0])) for loader in (first, second))
    shared = {id(s) for s in _strings(one)} & {id(s) for s in _strings(other)}
    markup = [s for s in _strings(one) if "<td" in s]
    assert markup and all(id(s) in shared for s in markup)


def test_render_errors_still_point_into_the_template() -> None:
    body = "<p>\n<span>${rows[10]}</span>\n</p>\n"
    for compacted in (False, True):
        template, _ = _template(body, compacted)
        with pytest.raises(RenderError) as caught:
            template.render(**VARIABLES)
        assert "rows[10]" in str(caught.value) and "line 2" in str(caught.value)


def test_a_name_clash_leaves_the_names_alone() -> None:
    source = (
        "__content_123456789 = 1\n__content_1 = 2\nresult = __content_123456789 + __content_1\n"
    )
    code = compact(compile(source, "clash", "exec"))
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    assert namespace["result"] == 3 and "__content_123456789" in code.co_names


@settings(max_examples=30)
@given(st.lists(st.sampled_from(sorted(TEMPLATES)), min_size=1, max_size=3), st.text(max_size=8))
def test_any_mix_of_constructs_renders_the_same(names: list[str], name: str) -> None:
    body = "".join(
        TEMPLATES[n] for n in names if n not in ("macro-slots", "define-macro-inside")
    ) or "<p>${name}</p>"
    assert _render(body, True, name=name) == _render(body, False, name=name)
