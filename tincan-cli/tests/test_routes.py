"""``tincan routes``: the table, the JSON document, and the exit code on launch errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tincan_cli import main
from tincan_cli._routes import describe_codes

FEATURES = {
    "index.pspx": "<p>home</p>\n",
    "index.py": "from tincan import Page\n\n\nclass Home(Page):\n    pass\n",
    "form.pspx": "#methods GET POST\n<form></form>\n",
    "old.pspx": "#forward new.pspx\n",
    "new.pspx": "<p>new</p>\n",
    "secret.pspx": "#hidden\n<p>secret</p>\n",
    "missing.pspx": "#errors 404\n<p>not found</p>\n",
    "oops.pspx": "#errors 500 502 503\n<p>oops</p>\n",
    "docs/logo.png": b"\x89PNG",
    "WEB-INF/lib/shared.py": "from tincan import Page\n\n\nclass SharedPage(Page):\n    pass\n",
    "reuse.pspx": "#python /WEB-INF/lib/shared.py\n<p>reuse</p>\n",
}


@pytest.fixture
def features(make_webapp: Any) -> Path:
    return make_webapp(FEATURES)


def routes(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["routes", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def by_path(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["path"] or f"({row['file']})": row for row in document["routes"]}


def test_json_describes_every_route(capsys: pytest.CaptureFixture[str], features: Path) -> None:
    code, out, err = routes(capsys, str(features), "--json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["errors"] == 0
    assert document["urlroot"] == "/"
    rows = by_path(document)
    assert rows["/index.pspx"]["code_behind"] == "index.py:Home"
    assert rows["/index.pspx"]["kind"] == "page"
    assert rows["/"]["kind"] == "index" and rows["/"]["code_behind"] == "index.py:Home"
    assert rows["/form.pspx"]["methods"] == ["GET", "POST"]
    assert rows["/old.pspx"]["forward"] == "new.pspx"
    assert rows["/new.pspx"]["code_behind"] is None
    assert rows["/reuse.pspx"]["code_behind"] == "WEB-INF/lib/shared.py:SharedPage"
    assert rows["(secret.pspx)"]["kind"] == "hidden"
    assert rows["(missing.pspx)"]["errors"] == [404]
    assert rows["(oops.pspx)"]["errors"] == [500, 502, 503]
    assert "/docs/logo.png" not in rows  # static files only with --static


def test_table_is_aligned_and_readable(capsys: pytest.CaptureFixture[str], features: Path) -> None:
    code, out, _ = routes(capsys, str(features), "--static")
    assert code == 0
    lines = out.split("\n\n")[0].splitlines()  # the settings follow the table
    assert lines[0].split() == ["ROUTE", "METHODS", "KIND", "FILE", "CODE-BEHIND", "DETAILS"]
    column = lines[0].index("KIND")
    assert all(line[column - 2 : column] == "  " for line in lines[1:])
    table = "\n".join(lines)
    assert "/docs/logo.png" in table
    assert "forward -> new.pspx" in table
    assert "errors 500, 502-503" in table
    assert "(hidden)" in table and "secret.pspx" in table
    # routes first, by path; then hidden pages; then error pages
    assert lines[1].startswith("/ ")
    assert lines[-1].startswith("(error)")


def test_urlroot_prefixes_every_route(capsys: pytest.CaptureFixture[str], features: Path) -> None:
    code, out, _ = routes(capsys, str(features), "/shop/", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["urlroot"] == "/shop"
    paths = {row["path"] for row in document["routes"] if row["path"]}
    assert "/shop/index.pspx" in paths and "/shop/" in paths
    assert all(path.startswith("/shop") for path in paths)


def test_patterns_clean_urls_and_redirects_are_listed(
    capsys: pytest.CaptureFixture[str], make_webapp: Any
) -> None:
    root = make_webapp(
        {
            "WEB-INF/tincan.toml": "clean_urls = true\nredirect_to_clean_urls = true\n",
            "entry.pspx": "#path <id:int>\n#path <id:int>/<slug>\n<p/>\n",
            "docs/index.pspx": "<p/>\n",
        }
    )
    code, out, _ = routes(capsys, str(root), "--json")
    assert code == 0
    rows = by_path(json.loads(out))
    assert rows["/entry/<id:int>"]["kind"] == "pattern"
    assert rows["/entry/<id:int>"]["pattern"] == "<id:int>"
    assert rows["/entry/<id:int>/<slug>"]["file"] == "entry.pspx"
    assert rows["/entry.pspx/<id:int>"]["redirect"] == "/entry/<id:int>"
    assert rows["/entry"]["kind"] == "clean"
    assert rows["/entry.pspx"]["redirect"] == "/entry"
    assert rows["/docs"]["kind"] == "redirect" and rows["/docs"]["redirect"] == "/docs/"
    assert rows["/docs/"]["pattern"] is None
    code, out, _ = routes(capsys, str(root))
    table = out.split("\n\n")[0]
    assert "/entry/<id:int>/<slug>" in table
    assert "redirect -> /entry/<id:int>" in table


def test_launch_errors_exit_1_with_the_errors_on_stderr(
    capsys: pytest.CaptureFixture[str], broken_webapp: Path
) -> None:
    code, out, err = routes(capsys, str(broken_webapp))
    assert code == 1
    assert f"{broken_webapp / 'broken.pspx'}:1: unknown directive #bogus" in err
    assert "1 error(s) detected" in err
    assert "/about.pspx" in out  # what did launch is still listed
    assert "broken.pspx" not in out


@given(st.sets(st.integers(400, 599)))
def test_describe_codes_lists_exactly_the_codes(codes: set[int]) -> None:
    described = describe_codes(codes)
    expanded: set[int] = set()
    previous_high = -2
    for part in filter(None, described.split(", ")):
        low, _, high = part.partition("-")
        assert int(low) > previous_high + 1  # runs are merged and in order
        previous_high = int(high or low)
        expanded.update(range(int(low), previous_high + 1))
    assert expanded == codes
    assert described == describe_codes(sorted(codes, reverse=True))


def test_describe_codes_joins_runs() -> None:
    assert describe_codes(range(400, 600)) == "400-599"
    assert describe_codes([404, 500, 501, 503]) == "404, 500-501, 503"
