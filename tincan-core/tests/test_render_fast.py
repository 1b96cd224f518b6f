"""The fast render of a launched template is plain Chameleon's render, minus per-call work.

``FastScope`` must answer every lookup as :class:`chameleon.utils.Scope` does
(property tests over nested scopes); ``fast_render`` must render what
``template.render`` renders and fail as it fails (the same exception class and
Chameleon's message naming the template position); it is used only on the
Chameleon versions it was written for. The conformance corpus
(``test_chameleon_conformance.py``) renders every page through it as well.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from typing import Any

import pytest
from chameleon import PageTemplate
from chameleon.utils import Scope
from hypothesis import given
from hypothesis import strategies as st
from tincan_core import _render
from tincan_core._render import FastScope, fast_render, supported_version

names = st.text(alphabet=string.ascii_lowercase[:6], min_size=1, max_size=2)
scopes = st.dictionaries(names, st.integers(), max_size=8)


def _lookup(scope: Scope, how: str, key: str) -> tuple[str, Any]:
    try:
        if how == "get_name":
            return "value", scope.get_name(key)
        if how == "get":
            return "value", scope.get(key, "default")
        if how == "getitem":
            return "value", scope[key]
        return "value", key in scope
    except Exception as exc:  # the kind of failure is part of the behaviour
        return type(exc).__name__, exc.args


@given(
    root=scopes,
    layers=st.lists(
        st.tuples(scopes, st.dictionaries(names, st.integers(), max_size=3)), max_size=3
    ),
    keys=st.lists(names, min_size=1, max_size=10),
)
def test_fast_scopes_answer_as_chameleon_scopes(
    root: dict[str, int], layers: list[tuple[dict[str, int], dict[str, int]]], keys: list[str]
) -> None:
    plain: Scope = Scope(root)
    fast: Scope = FastScope(root)
    for local, globals_ in layers:
        plain, fast = plain.copy(), fast.copy()
        for key, value in local.items():
            plain[key] = fast[key] = value
        for key, value in globals_.items():  # visible to scopes copied before, too
            plain.set_global(key, value)
            fast.set_global(key, value)
    assert isinstance(fast, FastScope)
    for key in keys:
        for how in ("get_name", "get", "getitem", "contains"):
            assert _lookup(fast, how, key) == _lookup(plain, how, key), (how, key)
    assert sorted(fast) == sorted(plain)


LAYOUT = PageTemplate(
    '<html metal:define-macro="page"><title>${title}</title>'
    '<body metal:define-slot="body">default</body></html>'
)
TEMPLATES = {
    "plain": "<p>Hello</p>",
    "names": "<p tal:repeat='n items' class='${repeat.n.odd and \"odd\" or \"even\"}'>${n}</p>",
    "defaults": "<p>${missing | 'fallback'} ${exists: missing} ${python: 1 + 1}</p>",
    "bytes": "<p>${raw}</p>",
    "markup": "<p>${structure: html}</p><p>${html}</p>",
    "macro": "<html metal:use-macro='layout.macros[\"page\"]'>"
    "<body metal:fill-slot='body'>${title} <i tal:repeat='n items'>${n}</i></body></html>",
    "define": "<div tal:define='x 3; global y 4'><b>${x}</b></div><i>${y}</i>",
    "i18n": "<p i18n:translate=''>Hello</p><p>${message}</p>",
    "target": "<p>${target_language}</p>",
    "on-error": "<p tal:on-error='string:oops'>${1 / 0}</p>",
}
VARIABLES: dict[str, Any] = {
    "items": [1, 2, 3],
    "raw": "caf\u00e9".encode(),
    "html": "<b>bold</b>",
    "layout": LAYOUT,
    "title": "T",
    "message": 42,
}


def _outcome(render: Callable[..., str], **variables: Any) -> tuple[str, str]:
    try:
        return "ok", render(**variables)
    except Exception as exc:
        # Objects made per render (the repeat dict) are at another address each time.
        return type(exc).__name__, re.sub(r" at 0x[0-9a-f]+", " at <address>", str(exc))


@pytest.mark.parametrize("name", sorted(TEMPLATES))
@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"target_language": "de"},
        {"translate": lambda msgid, **kw: f"<{msgid}>"},
        {"encoding": "latin-1"},
    ],
    ids=["plain", "target_language", "translate", "encoding"],
)
def test_fast_render_renders_as_chameleon(name: str, extra: dict[str, Any]) -> None:
    template = PageTemplate(TEMPLATES[name])
    fast = fast_render(template.render)
    assert fast is not template.render
    assert _outcome(fast, **VARIABLES, **extra) == _outcome(template.render, **VARIABLES, **extra)


@pytest.mark.parametrize(
    "body",
    ["<p>${undefined_name}</p>", "<p>${items.nope}</p>", "<p tal:repeat='n 5'>x</p>",
     "<html metal:use-macro='layout.macros[\"other\"]'></html>"],
)  # fmt: skip
def test_fast_render_fails_as_chameleon_fails(body: str) -> None:
    template = PageTemplate(body)
    fast = _outcome(fast_render(template.render), **VARIABLES)
    plain = _outcome(template.render, **VARIABLES)
    assert fast[0] != "ok"
    assert fast == plain
    assert "Expression:" in fast[1]  # Chameleon's position report is kept


def test_a_name_error_stays_a_name_error() -> None:
    template = PageTemplate("<p>${title}</p>")
    with pytest.raises(NameError, match="title"):
        fast_render(template.render)()


def test_other_versions_keep_chameleons_render(monkeypatch: pytest.MonkeyPatch) -> None:
    assert supported_version("4.6.0")
    assert supported_version("4.6.3")
    assert not supported_version("4.7.0")
    assert not supported_version("4.5.0")
    assert not supported_version("5.0")
    assert not supported_version("not-a-version")
    monkeypatch.setattr(_render, "_ENABLED", False)
    template = PageTemplate("<p>x</p>")
    assert fast_render(template.render) == template.render


def test_templates_that_render_otherwise_keep_their_render() -> None:
    class Reloading(PageTemplate):
        def render(self, encoding: str | None = None, **kw: Any) -> str:
            return "mine"

    template = Reloading("<p>x</p>")
    assert fast_render(template.render) == template.render

    def traced(**kw: Any) -> str:  # what a test tool wraps render in
        return "traced"

    assert fast_render(traced) is traced
