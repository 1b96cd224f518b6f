"""``tincan new``: a starter webapp that launches with no errors and has its own tests."""

from __future__ import annotations

import os
import secrets
import shlex
from importlib import resources
from importlib.abc import Traversable

from ._errors import EXIT_OK, CommandError

__all__ = ["new_command", "starter_files"]

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
    return files


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


# Written fresh for every new webapp: the session key is its own, never shipped.
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
/WEB-INF/secret.key
# Compiled templates and bytecode, rebuilt by `tincan compile`.
/WEB-INF/.tincan-cache/
__pycache__/
.pytest_cache/
.venv/
"""


def generated_files() -> dict[str, bytes]:
    """The files of a new webapp that are made for it: settings, its own key, .gitignore."""
    return {
        ".gitignore": _GITIGNORE.encode("utf-8"),
        "WEB-INF/tincan.toml": _SETTINGS.encode("utf-8"),
        "WEB-INF/secret.key": (secrets.token_urlsafe(48) + "\n").encode("ascii"),
    }


def new_command(target: str) -> int:
    _check_target(target)
    files = {**starter_files(), **generated_files()}
    try:
        for relpath, content in files.items():
            path = os.path.join(target, *relpath.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "xb") as f:
                f.write(content)
            if relpath == "WEB-INF/secret.key":
                os.chmod(path, 0o600)
    except OSError as exc:
        where = exc.filename or target
        raise CommandError(f"{where}: cannot create: {exc.strerror or exc}") from None
    for relpath in files:
        print(f"created {os.path.join(target, relpath)}")
    quoted = shlex.quote(target)
    print(
        f"\nYour webapp is ready. Serve it with:\n  tincan serve --static --reload {quoted}\n"
        f"and run its tests with:\n  python -m pytest {os.path.join(quoted, 'tests')}"
    )
    return EXIT_OK
