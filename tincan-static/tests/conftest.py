"""Fixtures for tincan-static's tests: webapp trees built from a dict of files."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The repository's hypothesis profiles, here too so that these tests behave the same
# in an unpacked sdist: no deadline (test machines are busy); the property tests share
# function-scoped fixtures (tmp_path, factories) between examples on purpose.
settings.register_profile(
    "default",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config: pytest.Config) -> None:
    # The repository registers this marker in its pyproject.toml; an unpacked sdist
    # has only this file.
    config.addinivalue_line("markers", "slow: real servers, browsers or wheel builds")


TreeFactory = Callable[..., Path]


def write_tree(root: Path, files: Mapping[str, bytes | str], *, webapp: bool = True) -> Path:
    """Create ``root`` with ``files`` (relpath -> content); a value starting with ``->``
    makes a symlink to the rest of the string instead."""
    root.mkdir(parents=True, exist_ok=True)
    if webapp:
        (root / "WEB-INF").mkdir(exist_ok=True)
    for relpath, content in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str) and content.startswith("->"):
            os.symlink(content[2:], path)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    return root


@pytest.fixture
def make_webapp(tmp_path: Path) -> TreeFactory:
    """``make_webapp({relpath: content}, name="webapp")`` -> the webapp's root."""

    def factory(files: Mapping[str, bytes | str], name: str = "webapp") -> Path:
        return write_tree(tmp_path / name, files)

    return factory


def _snapshot(root: Path) -> dict[str, tuple[str, bytes | str, int, int]]:
    """Every entry below ``root``: kind, content (or link target), mode and mtime."""
    result: dict[str, tuple[str, bytes | str, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if os.path.islink(path):
                result[rel] = ("link", os.readlink(path), st.st_mode, st.st_mtime_ns)
            elif os.path.isdir(path):
                result[rel] = ("dir", b"", st.st_mode, st.st_mtime_ns)
            else:
                result[rel] = ("file", Path(path).read_bytes(), st.st_mode, st.st_mtime_ns)
    return result


def _installed_files(target: Path) -> dict[str, bytes]:
    """Relpath -> content of every regular file in ``target`` except the manifest."""
    files = {}
    for path in target.rglob("*"):
        if path.is_file() and path.name != ".tincan-static-manifest.json":
            files[path.relative_to(target).as_posix()] = path.read_bytes()
    return files


Snapshot = Callable[[Path], dict[str, tuple[str, bytes | str, int, int]]]


@pytest.fixture
def snapshot() -> Snapshot:
    """``snapshot(root)``: every entry below ``root`` with kind, content, mode and mtime."""
    return _snapshot


@pytest.fixture
def installed() -> Callable[[Path], dict[str, bytes]]:
    """``installed(target)``: relpath -> content of the installed files (no manifest)."""
    return _installed_files


# -- what a web server does with a URL, simulated from the generated text ------------------
# The patterns are evaluated by Python's re; they are plain enough (tincan-core checks)
# that PCRE reads them the same way. nginx and Apache compile them without PCRE's UTF
# mode, so case folding is ASCII only.


def _flags(ignore_case: bool) -> int:
    return re.ASCII | (re.IGNORECASE if ignore_case else 0)


def nginx_outcome(config: str, uri: str) -> str:
    """The first regex location matching ``uri`` (nginx's rule): "deny", "app" or "none"."""
    for match in re.finditer(r"location (~\*?) (\S+) \{ (return 404|proxy_pass [^;]+);", config):
        if re.search(match.group(2), uri, _flags(match.group(1) == "~*")):
            return "deny" if match.group(3) == "return 404" else "app"
    return "none"


def apache_outcome(config: str, uri: str) -> str:
    """The first RewriteRule without conditions that matches: "deny", "app" or "none"."""
    lines = config.splitlines()
    for index, line in enumerate(lines):
        rule = re.match(r'\s*RewriteRule "([^"]+)" (\S+) \[([^\]]+)\]', line)
        if not rule:
            continue
        conditions = []
        back = index - 1
        while lines[back].strip().startswith("RewriteCond"):
            conditions.append(lines[back])
            back -= 1
        # A rule with conditions applies to every (main) request only when one of its
        # ORed conditions is "not a subrequest".
        if conditions and not any('IS_SUBREQ}" false [OR]' in c for c in conditions):
            continue
        flags = rule.group(3).split(",")
        if re.search(rule.group(1), uri, _flags("NC" in flags)):
            if "R=404" in flags:
                return "deny"
            if "P" in flags or rule.group(2).strip('"').startswith("/.tincan-wsgi"):
                return "app"
            return "none"
    return "none"


def apache_file_denied(config: str, path: str) -> bool:
    """Whether Apache's own access checks (``FilesMatch`` on the name, ``DirectoryMatch``
    on the directory) refuse the file at the absolute ``path``."""
    directory, _, name = path.rpartition("/")
    for pattern in re.findall(r'<FilesMatch "([^"]+)">', config):
        if re.search(pattern, name, re.ASCII):
            return True
    return any(
        re.search(pattern, directory, re.ASCII)
        for pattern in re.findall(r'<DirectoryMatch "([^"]+)">', config)
    )


class Servers:
    """The simulations above, as one fixture."""

    nginx_outcome = staticmethod(nginx_outcome)
    apache_outcome = staticmethod(apache_outcome)
    apache_file_denied = staticmethod(apache_file_denied)


@pytest.fixture
def servers() -> Servers:
    """The generated configurations' decisions, simulated (see the functions above)."""
    return Servers()
