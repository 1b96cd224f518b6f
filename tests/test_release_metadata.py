"""What every distribution declares, read from the sources: versions in step, pins
between the parts, license, classifiers, and READMEs that read well on an index page.

The built wheels and sdists themselves are checked in test_install_wheels.py (slow).
"""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]

# distribution name -> (directory, import names whose __version__ it ships)
DISTRIBUTIONS = {
    "tincan-core": ("tincan-core", ["tincan_core", "tincan"]),
    "tincan-static": ("tincan-static", ["tincan_static"]),
    "tincan-cli": ("tincan-cli", ["tincan_cli"]),
    "tincan-testing": ("tincan-testing", ["tincan_testing"]),
    "tincan": ("packages/tincan", []),
}
COPYRIGHT = "Copyright (c) 2026 The TinCan developers"
PYTHONS = ("3.11", "3.12", "3.13")


def pyproject(directory: str) -> dict[str, Any]:
    with (ROOT / directory / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def project(name: str) -> dict[str, Any]:
    table: dict[str, Any] = pyproject(DISTRIBUTIONS[name][0])["project"]
    return table


def the_version() -> Version:
    return Version(project("tincan-core")["version"])


def every_requirement(directory: str) -> list[Requirement]:
    """Run-time, extra and dependency-group requirements of one pyproject.toml."""
    data = pyproject(directory)
    texts = list(data["project"].get("dependencies", []))
    for extra in data["project"].get("optional-dependencies", {}).values():
        texts += extra
    for group in data.get("dependency-groups", {}).values():
        texts += [item for item in group if isinstance(item, str)]
    return [Requirement(text) for text in texts]


def test_the_root_workspace_lists_every_distribution() -> None:
    members = pyproject(".")["tool"]["uv"]["workspace"]["members"]
    assert sorted(members) == sorted(directory for directory, _ in DISTRIBUTIONS.values())
    for name, (directory, _) in DISTRIBUTIONS.items():
        assert project(name)["name"] == name, directory


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_versions_are_in_step(name: str) -> None:
    version = the_version()
    assert Version(project(name)["version"]) == version
    for module_name in DISTRIBUTIONS[name][1]:
        module = importlib.import_module(module_name)
        assert Version(module.__version__) == version, module_name


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_the_parts_require_the_matching_minor_version(name: str) -> None:
    version = the_version()
    expected = SpecifierSet(
        f">={version.major}.{version.minor},<{version.major}.{version.minor + 1}"
    )
    pins = [r for r in every_requirement(DISTRIBUTIONS[name][0]) if r.name.startswith("tincan")]
    if name != "tincan-core":
        assert pins, "every part builds on tincan-core"
    for requirement in pins:
        assert requirement.name in DISTRIBUTIONS, requirement
        assert requirement.specifier == expected, requirement


def test_chameleon_is_capped_below_its_next_major_version() -> None:
    # Compiled templates are cached as Chameleon programs (tincan_core._cache).
    (chameleon,) = [r for r in every_requirement("tincan-core") if r.name == "chameleon"]
    assert chameleon.specifier.contains("4.6")
    assert not chameleon.specifier.contains("5.0")


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_license_authors_and_classifiers(name: str) -> None:
    table = project(name)
    directory = ROOT / DISTRIBUTIONS[name][0]
    assert table["license"] == "MIT"
    assert table["license-files"] == ["LICENSE"]
    license_text = (directory / "LICENSE").read_text(encoding="utf-8")
    assert license_text == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License\n") and COPYRIGHT in license_text
    assert table["authors"] == [{"name": "The TinCan developers"}]
    # The only address the project has to give: the release it is compatible with.
    assert table["urls"] == {
        "Original TinCan 0.1.1": "https://pypi.org/project/TinCanFramework/0.1.1/"
    }
    classifiers = table["classifiers"]
    for python in PYTHONS:
        assert f"Programming Language :: Python :: {python}" in classifiers
    assert table["requires-python"] == f">={PYTHONS[0]}"
    assert "Framework :: Bottle" in classifiers
    assert ("Framework :: Pytest" in classifiers) == (name == "tincan-testing")
    # PEP 639: the license is the License-Expression; the index refuses uploads that
    # also carry a License :: classifier.
    assert not [c for c in classifiers if c.startswith("License ::")]


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_no_workspace_settings_in_what_ships(name: str) -> None:
    # A package's pyproject.toml goes into its sdist as it is; uv's workspace sources
    # live in the root pyproject.toml only.
    assert "uv" not in pyproject(DISTRIBUTIONS[name][0]).get("tool", {})


MARKDOWN_LINK = re.compile(
    r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)|<(?:a|img)\s[^>]*(?:href|src)=\"([^\"]+)\""
)


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_readme_links_work_on_an_index_page(name: str) -> None:
    # The README is the project's page on the index, where relative links lead nowhere.
    readme = ROOT / DISTRIBUTIONS[name][0] / project(name)["readme"]
    for match in MARKDOWN_LINK.finditer(readme.read_text(encoding="utf-8")):
        target = match.group(1) or match.group(2)
        assert target.startswith(("https://", "http://", "#")), f"{readme}: {target}"


DOCUMENTED_PIN = re.compile(r"\b(tincan(?:-[a-z]+)?)(?:\[[a-z,]+\])?==([0-9][0-9A-Za-z.]*)")


def test_documented_installs_pin_the_current_version() -> None:
    documents = [
        ROOT / "README.md",
        ROOT / "tincan-cli/src/tincan_cli/_starter/tests/test_site.py",
    ]
    documents += [ROOT / directory / "README.md" for directory, _ in DISTRIBUTIONS.values()]
    pins = [
        (document, match)
        for document in documents
        for match in DOCUMENTED_PIN.finditer(document.read_text(encoding="utf-8"))
    ]
    assert any(document.name == "README.md" and document.parent == ROOT for document, _ in pins)
    for document, match in pins:
        assert match.group(1) in DISTRIBUTIONS, f"{document}: {match.group(0)}"
        assert Version(match.group(2)) == the_version(), f"{document}: {match.group(0)}"


def test_the_root_installs_its_readme_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f'pip install --find-links dist "tincan[testing]=={the_version()}"' in readme


def test_type_checking_and_test_collection_cover_every_package() -> None:
    tool = pyproject(".")["tool"]
    mypy_files = tool["mypy"]["files"]
    testpaths = tool["pytest"]["ini_options"]["testpaths"]
    for path in [*mypy_files, *testpaths]:
        assert (ROOT / path).is_dir(), path
    for directory, modules in DISTRIBUTIONS.values():
        if modules:
            assert f"{directory}/src" in mypy_files
        assert f"{directory}/tests" in testpaths
    assert not (ROOT / "packages/tincan/src").exists(), "the meta-package ships no module"
