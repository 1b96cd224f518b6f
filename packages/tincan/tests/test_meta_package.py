"""The ``tincan`` meta-package: ``pip install tincan`` pulls in the parts, nothing more.

The ``tincan`` module comes with tincan-core (see tincan-core's test_facade.py), so
this distribution holds metadata alone.
"""

from __future__ import annotations

import importlib.metadata

from packaging.requirements import Requirement


def requirements() -> list[Requirement]:
    return [Requirement(text) for text in importlib.metadata.requires("tincan") or []]


def test_pulls_in_the_parts_but_not_the_test_tools() -> None:
    plain = {r.name for r in requirements() if r.marker is None}
    testing = {r.name for r in requirements() if r.marker is not None}
    assert plain == {"tincan-core", "tincan-static", "tincan-cli"}
    assert testing == {"tincan-testing"}
    for r in requirements():
        if r.marker is not None:
            assert r.marker.evaluate({"extra": "testing"})


def test_each_part_is_pinned_to_this_minor_version() -> None:
    # The parts move in step: tincan X.Y installs parts X.Y.*, never the next minor.
    major, minor, *_ = importlib.metadata.version("tincan").split(".")
    this_minor = f"{major}.{minor}"
    next_minor = f"{major}.{int(minor) + 1}"
    for r in requirements():
        assert r.specifier.contains(f"{this_minor}.0"), r
        assert r.specifier.contains(f"{this_minor}.99"), r
        assert not r.specifier.contains(f"{next_minor}.0"), r


def test_ships_no_module_of_its_own() -> None:
    files = importlib.metadata.files("tincan") or []
    assert [f for f in files if f.suffix == ".py"] == []
