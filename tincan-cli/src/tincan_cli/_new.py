"""``tincan new``: a starter project: a webapp that launches with no errors, in a
directory with its tests, pyproject.toml, README and WSGI entry point.

The webapp is the ``webapp`` subdirectory, so that the project's own files (its
README, pyproject.toml, virtual environment, caches) are never part of the
served tree."""

from __future__ import annotations

import os
import re
import secrets
import shlex
from importlib import resources
from importlib.resources.abc import Traversable

from . import __version__
from ._errors import EXIT_OK, CommandError

__all__ = ["generated_files", "new_command", "project_name", "starter_files"]

_STARTER = "_starter"
_SKIPPED_DIRS = frozenset({"__pycache__"})


def starter_files() -> dict[str, bytes]:
    """Webapp-relative path -> content of every file of the starter webapp."""
    files: dict[str, bytes] = {}

    def collect(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.name.startswith(".") or child.name in _SKIPPED_DIRS:
                continue
            relpath = f"{prefix}{child.name}"
            if child.is_dir():
                collect(child, relpath + "/")
            elif not child.name.endswith((".pyc", ".pyo")):
                files[relpath] = child.read_bytes()

    collect(resources.files(__package__ or "tincan_cli").joinpath(_STARTER), "")
    # The README's install line names this release's range, as pyproject.toml does.
    files["README.md"] = files["README.md"].replace(_RANGE, version_range().encode("ascii"))
    return files


_RANGE = b"{tincan-version-range}"


def version_range() -> str:
    """The versions a new project requires: this minor release, ``>=0.2,<0.3``."""
    major, minor = (int(part) for part in __version__.split(".")[:2])
    return f">={major}.{minor},<{major}.{minor + 1}"


def _check_target(target: str) -> None:
    if os.path.isdir(target):
        try:
            entries = os.listdir(target)
        except OSError as exc:
            raise CommandError(f"{target}: cannot read: {exc.strerror}") from None
        if entries:
            raise CommandError(f"{target}: directory is not empty; choose a new or empty one")
    elif os.path.lexists(target):
        raise CommandError(f"{target}: exists and is not a directory")


# Written fresh for every new project: the session key is its own, never shipped.
_SETTINGS = """\
# The webapp's settings; every key is optional (see the TinCan README).
# clean_urls = true

[session]
# Signs the session cookies; one key per line, the first one signs. Keep it secret:
# it is listed in .gitignore. $TINCAN_SECRET_KEY, if set, is used instead.
key_file = "WEB-INF/secret.key"
"""
_GITIGNORE = """\
# The session key: never commit it (each deployment has its own).
/webapp/WEB-INF/secret.key
# Compiled templates and bytecode, rebuilt by `tincan compile webapp`.
/webapp/WEB-INF/.tincan-cache/
__pycache__/
.pytest_cache/
.mypy_cache/
.ruff_cache/
.venv/
"""
# The version range keeps pip away from the unrelated "tincan" 1.x on the index.
_PYPROJECT = """\
[project]
name = "{name}"
version = "0.1.0"
description = "A TinCan webapp"
requires-python = ">=3.11"
dependencies = ["tincan{versions}"]

[dependency-groups]
dev = ["tincan[testing]{versions}", "mypy>=1.10"]

[tool.pytest.ini_options]
testpaths = ["tests"]

[tool.mypy]
strict = true
files = ["tests", "wsgi.py"]
"""
SECRET_KEY = "webapp/WEB-INF/secret.key"


def project_name(target: str) -> str:
    """A valid project name (PEP 508) made from the directory name."""
    base = os.path.basename(os.path.normpath(os.path.abspath(target)))
    name = re.sub(r"[^A-Za-z0-9]+", "-", base).strip("-").lower()
    return name or "webapp"


def generated_files(target: str) -> dict[str, bytes]:
    """The files made for each new project: pyproject.toml, .gitignore, the webapp's
    settings and its own session key."""
    pyproject = _PYPROJECT.format(name=project_name(target), versions=version_range())
    return {
        ".gitignore": _GITIGNORE.encode("utf-8"),
        "pyproject.toml": pyproject.encode("utf-8"),
        "webapp/WEB-INF/tincan.toml": _SETTINGS.encode("utf-8"),
        SECRET_KEY: (secrets.token_urlsafe(48) + "\n").encode("ascii"),
    }


def new_command(target: str) -> int:
    _check_target(target)
    files = {**starter_files(), **generated_files(target)}
    try:
        for relpath, content in files.items():
            path = os.path.join(target, *relpath.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "xb") as f:
                f.write(content)
            if relpath == SECRET_KEY:
                os.chmod(path, 0o600)
    except OSError as exc:
        where = exc.filename or target
        raise CommandError(f"{where}: cannot create: {exc.strerror or exc}") from None
    for relpath in files:
        print(f"created {os.path.join(target, relpath)}")
    quoted = shlex.quote(target)
    print(
        f"\nYour project is ready; the webapp is {os.path.join(target, 'webapp')}. In {quoted}:\n"
        "  tincan serve --static --reload webapp   # serve it on http://localhost:8080/\n"
        "  python -m pytest                        # run its tests\n"
        "  tincan check --strict webapp            # find mistakes before a visitor does\n"
        "README.md says how to install what the tests need and how to deploy."
    )
    return EXIT_OK
