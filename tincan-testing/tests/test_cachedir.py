"""Compiled templates outlive the session: copies kept in pytest's cache directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tincan_testing._cachedir import CopySlots

PAGES = {f"page{n}.pspx": f"<p>page ${{{n} * 2}}</p>\n" for n in range(8)}

REPORTING_TEST = """
import json
import pytest

pytestmark = pytest.mark.tincan("site")

def test_report(tincan_app, tincan_client):
    stats = tincan_app.app.config["tincan.stats"]
    with open("report.json", "w") as f:
        json.dump({
            "compiled": stats.templates_compiled, "loaded": stats.templates_loaded,
            "root": str(tincan_app.root), "page0": tincan_client.get("/page0.pspx").text.strip(),
        }, f)
"""


def write_site(directory: Path, files: dict[str, str]) -> None:
    for relpath, text in files.items():
        path = directory / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (directory / "WEB-INF").mkdir(exist_ok=True)


def run(pytester: pytest.Pytester, *args: str) -> dict[str, object]:
    """One session, in a process of its own (as the next ``pytest`` run would be)."""
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=1)
    report: dict[str, object] = json.loads((pytester.path / "report.json").read_text())
    return report


@pytest.mark.slow
def test_the_next_session_compiles_nothing(pytester: pytest.Pytester) -> None:
    write_site(pytester.path / "site", PAGES)
    pytester.makepyfile(REPORTING_TEST)
    first = run(pytester)
    assert first["compiled"] == len(PAGES) and first["page0"] == "<p>page 0</p>"
    assert Path(str(first["root"])).is_relative_to(pytester.path / ".pytest_cache")

    second = run(pytester)
    assert (second["compiled"], second["loaded"]) == (0, len(PAGES))
    assert second["root"] == first["root"]

    # a page changed between sessions: that one is compiled again, and served as it is now
    (pytester.path / "site" / "page0.pspx").write_text("<p>changed</p>\n")
    third = run(pytester)
    assert (third["compiled"], third["page0"]) == (1, "<p>changed</p>")

    # --cache-clear starts afresh
    assert run(pytester, "--cache-clear")["compiled"] == len(PAGES)


@pytest.mark.slow
def test_a_damaged_manifest_costs_a_rewrite_not_a_wrong_page(pytester: pytest.Pytester) -> None:
    write_site(pytester.path / "site", PAGES)
    pytester.makepyfile(REPORTING_TEST)
    first = run(pytester)
    copy = Path(str(first["root"]))
    (copy.parent / "manifest.json").write_text("{not json")
    (copy / "page0.pspx").write_text("<p>tampered</p>\n")  # and a file of the copy changed
    second = run(pytester)
    assert second["page0"] == "<p>page 0</p>"
    assert second["compiled"] == 0  # the compiled programs are still good


@pytest.mark.slow
def test_without_the_cache_copies_last_the_session_only(pytester: pytest.Pytester) -> None:
    write_site(pytester.path / "site", PAGES)
    pytester.makepyfile(REPORTING_TEST)
    first = run(pytester, "-p", "no:cacheprovider")
    assert "tincan-copy" in str(first["root"])  # the session's temporary directory
    assert not (pytester.path / ".pytest_cache").exists()
    assert run(pytester, "-p", "no:cacheprovider")["compiled"] == len(PAGES)


def test_sessions_at_the_same_time_get_copies_of_their_own(tmp_path: Path) -> None:
    source, other = tmp_path / "site", tmp_path / "other" / "site"
    one, two = CopySlots(tmp_path / "cache"), CopySlots(tmp_path / "cache")
    first = one.claim(source)
    second = two.claim(source)
    assert first is not None and second is not None and first != second
    elsewhere = two.claim(other)
    assert elsewhere is not None and elsewhere.parent != first.parent  # keyed by the tree
    one.release()
    again = two.claim(source)
    assert again == first  # free once its session is over
    two.release()
