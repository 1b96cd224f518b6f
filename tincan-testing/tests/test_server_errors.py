"""A server error surfaces in the test that made the request, with the page's file:line."""

from __future__ import annotations

from types import TracebackType

import pytest
from tincan_testing import ServerError, trace
from tincan_testing.plugin import WebappFactory

CRASHING_PAGE = {
    "index.pspx": "<h1>${title}</h1>",
    "index.py": (
        "from tincan import Page\n"
        "\n"
        "class Home(Page):\n"
        "    def handle(self):\n"
        "        self.title = 1 / 0\n"
    ),
    "ok.pspx": "<p>fine</p>",
}


def notes(exc: BaseException) -> list[str]:
    return list(getattr(exc, "__notes__", []))


def test_a_crash_in_handle_is_the_exception_itself(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp(CRASHING_PAGE)
    client = webapp.client()
    with pytest.raises(ZeroDivisionError) as raised:
        client.get("/index.pspx", params={"x": "1"})
    assert notes(raised.value)[0] == (
        f"{webapp.root}/index.py:5: raised while serving GET /index.pspx?x=1"
    )
    assert "raise_server_exceptions=False" in notes(raised.value)[-1]
    # the traceback starts where the page's code does, not inside TinCan
    frames = [tb.tb_frame.f_code.co_filename for tb in _walk(raised.value.__traceback__)]
    assert frames[-1] == str(webapp.root / "index.py")
    assert not any("/tincan_core/" in f for f in frames)
    # the client still works for the next request
    assert client.get("/ok.pspx").text == "<p>fine</p>"


def _walk(tb: TracebackType | None) -> list[TracebackType]:
    found = []
    while tb is not None:
        found.append(tb)
        tb = tb.tb_next
    return found


def test_a_template_error_names_the_template_line(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp({
        "index.pspx": "#rem header lines count\n<h1>fine</h1>\n<p>${no_such_name}</p>\n",
        "WEB-INF/tlib/layout.pt": '<div metal:define-macro="frame">${nor_this}</div>\n',
        "framed.pspx": "#load <layout.pt>\n<div metal:use-macro=\"layout.macros['frame']\"/>\n",
    })
    with pytest.raises(NameError) as raised:
        webapp.client().get("/index.pspx")
    assert notes(raised.value)[0] == (
        f"{webapp.root}/index.pspx:3: raised while serving GET /index.pspx"
    )
    assert str(raised.value).startswith("no_such_name\n")  # Chameleon's message, notes apart
    assert "- Location:   (line 3" in str(raised.value)
    with pytest.raises(NameError) as in_macro:
        webapp.client().get("/framed.pspx")
    assert notes(in_macro.value)[0].startswith(f"{webapp.root}/WEB-INF/tlib/layout.pt:1: ")


def test_copied_webapps_name_the_files_of_the_source(
    tincan_webapp: WebappFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = tmp_path_factory.mktemp("source")
    for relpath, text in CRASHING_PAGE.items():
        (source / relpath).write_text(text)
    (source / "WEB-INF").mkdir()
    webapp = tincan_webapp(copy_from=source)
    assert webapp.root != source
    with pytest.raises(ZeroDivisionError) as raised:
        webapp.client().get("/")
    assert notes(raised.value)[0] == f"{source}/index.py:5: raised while serving GET /"


def test_a_failing_error_page_is_raised_too(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp({
        "errors.pspx": "#errors\n<p>${error.status_code}</p>",
        "errors.py": (
            "from tincan import ErrorPage\n"
            "class Oops(ErrorPage):\n"
            "    def handle(self):\n"
            "        raise KeyError('lost')\n"
        ),
    })
    with pytest.raises(KeyError) as raised:
        webapp.client().get("/missing.pspx")
    assert notes(raised.value)[0] == (
        f"{webapp.root}/errors.py:4: raised while serving GET /missing.pspx"
    )


def test_an_error_without_an_exception_is_a_server_error(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp({
        "loop.pspx": "<p>x</p>",
        "loop.py": (
            "from tincan import Page\n"
            "class Loop(Page):\n"
            "    def handle(self):\n"
            "        self.request.app.forward('loop.pspx')\n"
        ),
    })
    with pytest.raises(ServerError, match=r"GET /loop\.pspx: /loop\.pspx: forward loop"):
        webapp.client().get("/loop.pspx")


def test_a_plain_bottle_route_that_fails_is_raised(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp({"ok.pspx": "<p>ok</p>"})
    assert webapp.app is not None

    def status() -> str:
        raise LookupError("no status")

    webapp.app.route("/api/status", "GET", status)
    with pytest.raises(LookupError, match="no status"):
        webapp.client().get("/api/status")


def test_opting_out_gives_the_500_page(tincan_webapp: WebappFactory) -> None:
    files = {**CRASHING_PAGE, "500.pspx": "#errors 500\n<p>sorry: ${error.status_code}</p>"}
    webapp = tincan_webapp(files, raise_server_exceptions=False)
    response = webapp.client().get("/index.pspx")
    assert (response.status_code, response.text) == (500, "<p>sorry: 500</p>")
    assert [v.page for v in trace(response)] == ["index.pspx", "500.pspx"]
    # the traceback is in the log, as before
    assert any("ZeroDivisionError" in m for m in webapp.messages)
    # a client can opt back in, or out of the webapp's default
    with pytest.raises(ZeroDivisionError):
        webapp.client(raise_server_exceptions=True).get("/index.pspx")
    raising = tincan_webapp(files)
    assert raising.client(raise_server_exceptions=False).get("/").status_code == 500


def test_live_server_clients_raise_too(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp(CRASHING_PAGE)
    with webapp.live() as server:
        with pytest.raises(ZeroDivisionError) as raised:
            server.client().get("/index.pspx")
        assert notes(raised.value)[0] == (
            f"{webapp.root}/index.py:5: raised while serving GET /index.pspx"
        )
        assert server.client().get("/ok.pspx").status_code == 200
    assert webapp.unraised_failures() == []
    with webapp.live(raise_server_exceptions=False) as quiet:
        assert quiet.client().get("/index.pspx").status_code == 500
    assert webapp.unraised_failures() == []


def test_live_requests_no_client_raised_fail_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import httpx
        import pytest

        FILES = {CRASHING_PAGE!r}

        def test_browser_like(tincan_webapp):
            server = tincan_webapp(FILES).live()
            assert httpx.get(server.url + "/index.pspx").status_code == 500

        @pytest.mark.tincan(FILES, raise_server_exceptions=False)
        def test_expected(tincan_live_server):
            assert httpx.get(tincan_live_server.url + "/index.pspx").status_code == 500
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines([
        "*1 request(s) to a live server failed with a server error that no client "
        "of the test raised:",
        "*GET /index.pspx: */index.py:5: ZeroDivisionError: division by zero",
    ])


def test_the_failure_report_is_short(pytester: pytest.Pytester) -> None:
    pages = {f"page{n}.pspx": f"<p>{n}</p>" for n in range(30)}
    pytester.makepyfile(
        f"""
        FILES = {{**{CRASHING_PAGE!r}, **{pages!r}}}

        def test_crash(tincan_webapp):
            tincan_webapp(FILES).client().get("/index.pspx")

        def test_plain_failure(tincan_webapp):
            webapp = tincan_webapp(FILES)
            assert webapp.client().get("/page3.pspx").text == "<p>4</p>"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    output = result.stdout.str()
    result.stdout.fnmatch_lines([
        "*ZeroDivisionError: division by zero",
        "*/index.py:5: raised while serving GET /index.pspx",
        "*index.pspx: error serving /index.pspx (raised in the test)",
    ])
    assert "route GET" not in output  # the route list only on request
    assert output.count("Traceback (most recent call last)") == 0  # not again from the log
    assert len(output.splitlines()) < 120

    with_routes = pytester.runpytest("-p", "no:cacheprovider", "--tincan-routes")
    with_routes.stdout.fnmatch_lines(["*route GET /page29.pspx -> page29.pspx*"])


def test_routes_are_listed_on_request(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp({**CRASHING_PAGE, "hidden.pspx": "#hidden\n<p>h</p>"})
    lines = webapp.routes().splitlines()
    table = {tuple(line.split()[:3]) for line in lines}
    assert ("GET", "/index.pspx", "index.pspx") in table
    assert ("GET", "/", "index.pspx") in table
    assert ("GET", "(hidden)", "hidden.pspx") in table
    assert any(line.split()[-1] == "Home" for line in lines)
