"""The URL plan on its own (pure): over generated trees, every URL has one owner,
collisions are errors naming both files, redirects and ``url_for`` forms lead to a
route that serves the same page."""

from __future__ import annotations

from urllib.parse import unquote

from hypothesis import given
from hypothesis import strategies as st
from tincan_core._urlplan import PageSpec, PlannedRoute, UrlPlan, plan_urls

NAMES = ["a", "b", "index", "a.pspx", "docs"]
DIRS = ["", "a/", "docs/", "a/b/", "a.pspx/"]


@st.composite
def trees(draw: st.DrawFn) -> tuple[list[PageSpec], list[str]]:
    pages: dict[str, PageSpec] = {}
    for _ in range(draw(st.integers(0, 8))):
        relpath = draw(st.sampled_from(DIRS)) + draw(st.sampled_from(NAMES)) + ".pspx"
        paths = draw(
            st.lists(st.sampled_from(["<id:int>", "<n:int>", "b/<x>", "<rest:path>"]), max_size=2)
        )
        pages[relpath] = PageSpec(
            relpath,
            draw(st.sampled_from([("GET",), ("POST",), ("ANY",)])),
            tuple((p, line) for line, p in enumerate(paths, 1)),
            hidden=draw(st.booleans()) and draw(st.booleans()),
        )
    statics = draw(
        st.lists(
            st.builds(
                lambda d, n: d + n,
                st.sampled_from(DIRS),
                st.sampled_from(["a", "b", "index.html", "index.htm", "s.css", "docs"]),
            ),
            unique=True,
            max_size=5,
        )
    )
    # A file and a directory cannot share a name.
    names = {*pages, *statics}
    dirs = {"/".join(n.split("/")[: i + 1]) for n in names for i in range(n.count("/"))}
    kept = [p for relpath, p in sorted(pages.items()) if relpath not in dirs]
    return kept, [s for s in statics if s not in dirs and s not in pages]


def serving(plan: UrlPlan) -> dict[str, PlannedRoute]:
    return {r.path: r for r in plan.routes if r.pattern is None}


@given(
    trees(),
    st.sampled_from(["", "/app"]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_every_url_has_one_owner_and_every_link_leads_to_its_page(
    tree: tuple[list[PageSpec], list[str]],
    prefix: str,
    clean: bool,
    redirect: bool,
    serve_static: bool,
) -> None:
    pages, statics = tree
    plan = plan_urls(
        prefix, pages, statics, clean=clean, redirect=redirect, serve_static=serve_static
    )
    literal = [r.path for r in plan.routes if r.pattern is None]
    assert len(literal) == len(set(literal))
    shapes = [r.pattern.shape for r in plan.routes if r.pattern is not None]
    assert len(shapes) == len(set(shapes))
    routes = serving(plan)
    for page in pages:
        forms = plan.forms[page.relpath]
        if page.hidden:
            assert forms.plain is None
            assert f"{prefix}/{page.relpath}" not in routes
            continue
        own = routes[f"{prefix}/{page.relpath}"]
        assert (own.kind, own.file, own.methods) == ("page", page.relpath, page.methods)
        # url_for's plain URL is routed, and serves this page (no redirect).
        assert forms.plain is not None
        target = routes[unquote(forms.plain)]
        assert target.file == page.relpath and not target.redirect
        assert (own.redirect == unquote(forms.plain)) == (
            clean and redirect and forms.plain != f"{prefix}/{page.relpath}"
        )
    for route in plan.routes:
        if route.redirect and route.pattern is None:
            to = routes[route.redirect]
            assert to.file == route.file and not to.redirect
    if not serve_static:
        assert not any(r.file in statics for r in plan.routes)


@given(trees(), st.booleans())
def test_a_lost_clean_url_is_one_error_naming_both(
    tree: tuple[list[PageSpec], list[str]], serve_static: bool
) -> None:
    pages, statics = tree
    plan = plan_urls("", pages, statics, clean=True, serve_static=serve_static)
    routes = serving(plan)
    clean_errors = [e for e in plan.errors if "clean URL" in e.message]
    lost = []
    for page in pages:
        if page.hidden or page.relpath.endswith("index.pspx"):
            continue
        clean = "/" + page.relpath.removesuffix(".pspx")
        route = routes.get(clean)
        if route is None or route.file != page.relpath:
            lost.append(page.relpath)
            (error,) = [e for e in clean_errors if e.file == page.relpath]
            assert error.message.startswith(f"clean URL {clean} is also the URL of ")
            other = error.message.split(" is also the URL of ")[1]
            assert any(name in other for name in [*statics, *(p.relpath for p in pages)])
    assert len(clean_errors) == len(lost)


def test_an_index_page_comes_before_index_files_and_they_are_noted() -> None:
    plan = plan_urls("", [PageSpec("d/index.pspx")], ["d/index.html", "d/index.htm"])
    routes = serving(plan)
    assert routes["/d/"].file == "d/index.pspx"
    assert (routes["/d"].kind, routes["/d"].redirect) == ("redirect", "/d/")
    assert plan.notes == [
        "index d/index.html is shadowed by d/index.pspx",
        "index d/index.htm is shadowed by d/index.pspx",
    ]
