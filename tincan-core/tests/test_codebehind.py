"""Code-behind: finding the class, import errors, fresh instances, what export() exposes."""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

import bottle
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tincan_core import BasePage, ErrorPage, Page, TinCanError
from tincan_core._codebehind import class_depth, find_page_class


@pytest.fixture(autouse=True)
def clean_sys_path() -> Iterator[None]:
    saved = list(sys.path)
    modules = set(sys.modules)
    yield
    sys.path[:] = saved
    for name in set(sys.modules) - modules:
        if name.startswith("cb_test_"):
            del sys.modules[name]


SHOW = "<p tal:content='page.__class__.__name__'>x</p>"


def first_error(webapp: Any) -> str:
    errors = webapp.log.errors()
    assert len(errors) == 1, errors
    return str(errors[0])


# -- class discovery ---------------------------------------------------------------------
def test_deepest_subclass_wins(launch_webapp: Callable[..., Any]) -> None:
    code = (
        "from tincan import Page\n"
        "class Base(Page):\n    pass\n"
        "class Middle(Base):\n    pass\n"
        "class Deepest(Middle):\n    pass\n"
        "class Other(Page):\n    pass\n"
    )
    webapp = launch_webapp({"p.pspx": SHOW, "p.py": code})
    assert webapp.errors == 0
    assert webapp.get("/p.pspx").text == "<p>Deepest</p>"


def test_class_imported_from_web_inf_lib_counts(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "WEB-INF/lib/cb_test_shared.py": "from tincan import Page\n"
            "class Shared(Page):\n    title = 'shared'\n",
            "a.pspx": "<p tal:content='title'/>",
            "a.py": "from cb_test_shared import Shared\n",
            "b.pspx": "<p tal:content='title'/>",
            "b.py": "from cb_test_shared import Shared\nclass B(Shared):\n    title = 'b'\n",
        }
    )
    assert webapp.errors == 0
    assert webapp.get("/a.pspx").text == "<p>shared</p>"
    assert webapp.get("/b.pspx").text == "<p>b</p>"


def test_ambiguous_classes_are_an_error_naming_them(launch_webapp: Callable[..., Any]) -> None:
    code = "from tincan import Page\nclass Zeta(Page):\n    pass\nclass Alpha(Page):\n    pass\n"
    webapp = launch_webapp({"p.pspx": SHOW, "p.py": code, "ok.pspx": "<p>ok</p>"})
    assert webapp.errors == 1
    assert first_error(webapp) == (
        f"{webapp.root / 'p.py'}: ambiguous Page classes: Alpha, Zeta (all at depth 1 from Page)"
    )
    assert webapp.get("/p.pspx").status_code == 404
    assert webapp.get("/ok.pspx").text == "<p>ok</p>"


@pytest.mark.parametrize(
    "code",
    [
        "X = 1\n",
        "from tincan import ErrorPage\nclass E(ErrorPage):\n    pass\n",
        "class Page:\n    pass\n",
    ],
)
def test_no_page_class_is_an_error(launch_webapp: Callable[..., Any], code: str) -> None:
    webapp = launch_webapp({"p.pspx": SHOW, "p.py": code})
    assert webapp.errors == 1
    assert first_error(webapp) == (
        f"{webapp.root / 'p.py'}: no Page class found (define a subclass of Page, or import it)"
    )


def test_error_page_needs_an_error_page_class(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "404.pspx": "#errors 404\n<p>nf</p>",
            "404.py": "from tincan import Page\nclass P(Page):\n    pass\n",
        }
    )
    assert first_error(webapp) == (
        f"{webapp.root / '404.py'}: no ErrorPage class found"
        " (define a subclass of ErrorPage, or import it)"
    )


def test_page_without_code_behind_gets_plain_page(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"p.pspx": SHOW, "e.pspx": "#errors 404\n" + SHOW})
    assert webapp.get("/p.pspx").text == "<p>Page</p>"
    assert webapp.get("/nowhere").text == "<p>ErrorPage</p>"


def test_syntax_error_names_file_and_line(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"p.pspx": SHOW, "p.py": "from tincan import Page\n\nclass P(Page)\n"})
    error = first_error(webapp)
    assert error.startswith(f"{webapp.root / 'p.py'}:3: code-behind failed to load: SyntaxError")


def test_exception_at_import_names_file_and_line(launch_webapp: Callable[..., Any]) -> None:
    code = "from tincan import Page\n\n\ndef f():\n    return 1 / 0\n\nX = f()\n"
    webapp = launch_webapp({"p.pspx": SHOW, "p.py": code})
    error = first_error(webapp)
    assert error == (
        f"{webapp.root / 'p.py'}:5: "
        "code-behind failed to load: ZeroDivisionError: division by zero"
    )


def test_error_inside_a_lib_module_points_at_the_import(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "WEB-INF/lib/cb_test_broken_syntax.py": "x = (\n\n\n\n",
            "WEB-INF/lib/cb_test_broken_runtime.py": "\n\nraise KeyError('k')\n",
            "a.pspx": SHOW,
            "a.py": "from tincan import Page\nimport cb_test_broken_syntax\n",
            "b.pspx": SHOW,
            "b.py": "from tincan import Page\n\nimport cb_test_broken_runtime\n",
        }
    )
    errors = sorted(webapp.log.errors())
    assert len(errors) == 2
    assert errors[0].startswith(
        f"{webapp.root / 'a.py'}:2: code-behind failed to load: SyntaxError"
    )
    assert errors[1].startswith(f"{webapp.root / 'b.py'}:3: code-behind failed to load: KeyError")


def test_multi_line_exception_text_is_logged_on_one_line(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp({"p.pspx": SHOW, "p.py": "raise ValueError('first\\n  second\\n')\n"})
    assert first_error(webapp) == (
        f"{webapp.root / 'p.py'}:1: code-behind failed to load: ValueError: first second"
    )


def test_sys_exit_at_import_is_an_error_not_an_exit(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp({"p.pspx": SHOW, "p.py": "import sys\nsys.exit(3)\n", "q.pspx": "q"})
    assert webapp.errors == 1
    assert webapp.get("/q.pspx").text == "q"


def test_python_controller_shared_by_two_pages(launch_webapp: Callable[..., Any]) -> None:
    controller = (
        "from tincan import Page\n"
        "class Controller(Page):\n"
        "    def handle(self):\n"
        "        self.path = self.request.path\n"
    )
    webapp = launch_webapp(
        {
            "WEB-INF/controllers/shared.py": controller,
            "views/list.pspx": "#python /WEB-INF/controllers/shared.py\n<p>list ${path}</p>",
            "views/table.pspx": "#python ../WEB-INF/controllers/shared.py\n<p>table ${path}</p>",
            "missing.pspx": "#python nope.py\n<p/>",
        }
    )
    assert webapp.get("/views/list.pspx").text == "<p>list /views/list.pspx</p>"
    assert webapp.get("/views/table.pspx").text == "<p>table /views/table.pspx</p>"
    assert (
        first_error(webapp)
        == f"{webapp.root / 'missing.pspx'}:1: #python: 'nope.py' does not exist"
    )


def test_python_overrides_the_default_code_behind(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "p.pspx": "#python other.py\n" + SHOW,
            "p.py": "raise RuntimeError('must not be imported')\n",
            "other.py": "from tincan import Page\nclass Other(Page):\n    pass\n",
        }
    )
    assert webapp.errors == 0
    assert webapp.get("/p.pspx").text == "<p>Other</p>"


# -- instances ---------------------------------------------------------------------------
COUNTER = """
from tincan import Page

class Counter(Page):
    created = 0
    def __init__(self, request, response):
        super().__init__(request, response)
        type(self).created += 1
        self.number = type(self).created
    def handle(self):
        if self.request.query.get("set"):
            self.mine = self.request.query["set"]
"""


def test_fresh_instance_for_every_request(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {"c.pspx": "<p>${number} ${getattr(page, 'mine', '-')}</p>", "c.py": COUNTER}
    )
    assert webapp.get("/c.pspx", params={"set": "secret"}).text == "<p>1 secret</p>"
    assert webapp.get("/c.pspx").text == "<p>2 -</p>"
    assert webapp.get("/c.pspx").text == "<p>3 -</p>"


@pytest.mark.parametrize("multithread", [True, False])
def test_no_state_leaks_between_concurrent_requests(
    make_webapp: Callable[..., Any], serve_app: Callable[[Any], str], multithread: bool
) -> None:
    import tincan_core

    code = (
        "import time\nfrom tincan import Page\n"
        "class P(Page):\n"
        "    def handle(self):\n"
        "        self.who = self.request.query['who']\n"
        "        time.sleep(0.001)\n"
        "        self.response.set_header('X-Who', self.who)\n"
    )
    root = make_webapp({"p.pspx": "<p>${who}/${page.request.query.who}</p>", "p.py": code})
    app, errors = tincan_core.launch(root, multithread=multithread)
    assert errors == 0
    base = serve_app(app)
    failures: list[str] = []

    def client(n: int) -> None:
        with httpx.Client(base_url=base) as c:
            for i in range(10):
                who = f"c{n}r{i}"
                r = c.get("/p.pspx", params={"who": who})
                if r.text != f"<p>{who}/{who}</p>" or r.headers.get("x-who") != who:
                    failures.append(f"{who}: {r.text} {r.headers.get('x-who')}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


# -- export ------------------------------------------------------------------------------
def make_page(cls: type[Page]) -> Page:
    return cls(bottle.LocalRequest(), bottle.LocalResponse())


def test_export_of_a_plain_page() -> None:
    page = make_page(Page)
    assert page.export() == {"page": page}


def test_export_rules() -> None:
    class Base(Page):
        inherited = "base"
        overridden = "class"

    class Mine(Base):
        title = "t"
        count = 0
        _private = "p"
        __mangled = "m"
        overridden = "subclass"

        def method(self) -> str:
            return "m"

        @staticmethod
        def static() -> None:
            pass

        @classmethod
        def klass(cls) -> None:
            pass

        @property
        def computed(self) -> str:
            return "c" + self.title

        @property
        def callable_property(self) -> Callable[[], None]:
            return lambda: None

        class Nested:
            pass

        def handle(self) -> None:
            self.count = 5
            self.title = "instance"
            self.func = len
            self._hidden = 1
            self.overridden = "instance"

    page = make_page(Mine)
    before = page.export()
    assert before == {
        "page": page,
        "title": "t",
        "count": 0,
        "inherited": "base",
        "overridden": "subclass",
        "computed": "ct",
    }
    page.handle()
    assert page.export() == {
        "page": page,
        "title": "instance",
        "count": 5,
        "inherited": "base",
        "overridden": "instance",
        "computed": "cinstance",
    }


def test_instance_callable_hides_a_class_value() -> None:
    class Mine(Page):
        value = 1

    page = make_page(Mine)
    page.value = print  # type: ignore[assignment]
    assert "value" not in page.export()


def test_page_hides_request_and_response_error_page_hides_nothing() -> None:
    page = make_page(Page)
    assert "request" not in page.export()
    assert "response" not in page.export()
    error = bottle.HTTPError(404)
    error_page = ErrorPage(bottle.LocalRequest(), error)
    exported = error_page.export()
    assert exported["error"] is error
    assert "request" in exported
    assert exported["page"] is error_page


def test_base_page_handle_does_nothing() -> None:
    base = BasePage()
    assert base.handle() is None
    assert base.export() == {"page": base}


def test_module_globals_are_not_exported(launch_webapp: Callable[..., Any]) -> None:
    code = "from tincan import Page\nGLOBAL = 'g'\nclass P(Page):\n    attr = 'a'\n"
    webapp = launch_webapp(
        {
            "p.pspx": "<p>${attr}<b tal:condition='exists: GLOBAL'>leak</b></p>",
            "q.pspx": "#python p.py\n<p tal:content='GLOBAL'/>",
            "p.py": code,
        }
    )
    assert webapp.get("/p.pspx").text == "<p>a</p>"
    assert webapp.get("/q.pspx").status_code == 500


def test_templates_see_page_request_but_not_request(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "a.pspx": "<p>${page.request.path}<b tal:condition='exists: request'>req</b>"
            "<b tal:condition='exists: response'>resp</b></p>",
            "e.pspx": "#errors 404\n<p>${request.path} ${error.status_code}</p>",
        }
    )
    assert webapp.get("/a.pspx").text == "<p>/a.pspx</p>"
    assert webapp.get("/nope").text == "<p>/nope 404</p>"


def test_load_variables_come_first_and_exports_override(launch_webapp: Callable[..., Any]) -> None:
    webapp = launch_webapp(
        {
            "WEB-INF/tlib/layout.pt": "<b metal:define-macro='m'>layout</b>",
            "WEB-INF/tlib/other.pt": "<b metal:define-macro='m'>other</b>",
            "p.pspx": "#load <layout.pt>\n#load <other.pt>\n"
            "<i metal:use-macro='layout.macros.m'/><i tal:content='other'/>",
            "p.py": "from tincan import Page\nclass P(Page):\n    other = 'exported'\n",
        }
    )
    assert webapp.errors == 0
    assert webapp.get("/p.pspx").text == "<b>layout</b><i>exported</i>"


# -- the original's class rule (issue 8) -------------------------------------------------
def test_a_module_that_only_imports_the_base_class_uses_it(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp(
        {
            "p.pspx": SHOW,
            "p.py": "from tincan import Page\nimport bottle\nTITLE = 'x'\n",
            "q.pspx": SHOW,
            "q.py": "from tincan import ErrorPage, Page\n",  # ErrorPage is no Page
            "404.pspx": "#errors 404\n" + SHOW,
            "404.py": "import tincan\nfrom tincan import ErrorPage, Page\n",
        }
    )
    assert webapp.errors == 0, webapp.log.errors()
    assert webapp.get("/p.pspx").text == "<p>Page</p>"
    assert webapp.get("/q.pspx").text == "<p>Page</p>"
    assert webapp.get("/nowhere").text == "<p>ErrorPage</p>"


# Mixins decide differently under the original's rule (the first base that leads
# to Page is followed) than under the MRO: the MRO puts Page 4 steps from Chosen
# and would pick it; the original counts 2 for Chosen and picks Deep (3).
MIXINS = """
from tincan import Page

class Base(Page):
    pass

class Middle(Base):
    pass

class Mixin(Page):
    pass

class Chosen(Mixin, Middle):     # first path: Mixin -> Page, 2 steps (MRO: 4)
    pass

class Other(Base, Mixin):        # first path: Base -> Page, 2 steps (MRO: 3)
    pass

class Deep(Middle):              # Middle -> Base -> Page: 3 steps (MRO: 3)
    pass
"""


def test_depth_follows_the_first_base_that_leads_to_page(
    launch_webapp: Callable[..., Any],
) -> None:
    webapp = launch_webapp({"p.pspx": SHOW, "p.py": MIXINS})
    assert webapp.errors == 0, webapp.log.errors()
    assert webapp.get("/p.pspx").text == "<p>Deep</p>"
    # Without Deep, the MRO would pick Chosen (4); the original's rule sees Chosen,
    # Other and Middle at 2: ambiguous.
    ambiguous = launch_webapp({"p.pspx": SHOW, "p.py": MIXINS.split("class Deep")[0]})
    assert ambiguous.errors == 1
    assert first_error(ambiguous) == (
        f"{ambiguous.root / 'p.py'}: ambiguous Page classes: Chosen, Middle, Other"
        " (all at depth 2 from Page)"
    )


def test_one_class_under_two_names_is_not_ambiguous(launch_webapp: Callable[..., Any]) -> None:
    code = "from tincan import Page\nclass P(Page):\n    pass\nAlias = P\n"
    webapp = launch_webapp({"p.pspx": SHOW, "p.py": code})
    assert webapp.errors == 0
    assert webapp.get("/p.pspx").text == "<p>P</p>"


def _original_depth(base: type, klass: type, count: int = 0) -> int:
    """TinCan 0.1's recursive count, as its source has it (the reference)."""
    if klass is object:
        return -1
    if klass is base:
        return count
    for parent in klass.__bases__:
        result = _original_depth(base, parent, count + 1)
        if result > 0:
            return result
    return -1


@st.composite
def class_hierarchies(draw: st.DrawFn) -> dict[str, type]:
    """Up to 8 classes, each with up to 3 bases drawn from Page, BasePage, ErrorPage,
    a plain mixin and the classes made before it (hierarchies Python refuses are skipped)."""
    made: dict[str, type] = {}
    pool: list[type] = [Page, BasePage, ErrorPage, type("Plain", (), {})]
    for n in range(draw(st.integers(1, 8))):
        bases = draw(st.lists(st.sampled_from(pool), max_size=3, unique=True))
        try:
            cls = type(f"C{n}", tuple(bases) or (object,), {})
        except TypeError:  # no consistent MRO, or a layout conflict
            continue
        made[cls.__name__] = cls
        pool.append(cls)
    if draw(st.booleans()):
        made["Page"] = Page
    return made


@given(class_hierarchies())
def test_class_choice_is_the_originals(classes: dict[str, type]) -> None:
    for cls in classes.values():
        assert class_depth(cls, Page) == _original_depth(Page, cls)
        assert class_depth(cls, ErrorPage) == _original_depth(ErrorPage, cls)
    module = types.ModuleType("generated")
    vars(module).update(classes)
    depths = {cls: _original_depth(Page, cls) for cls in classes.values()}
    best = max(depths.values(), default=-1)
    at_best = [cls for cls, depth in depths.items() if depth == best]
    if best < 0:
        with pytest.raises(TinCanError, match="no Page class found"):
            find_page_class(module, Page, "gen.py")
    elif len(at_best) > 1:
        with pytest.raises(TinCanError, match="ambiguous Page classes"):
            find_page_class(module, Page, "gen.py")
    else:
        assert find_page_class(module, Page, "gen.py") is at_best[0]
