"""``tincan routes``: what a launch builds, as an aligned table or as JSON."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import tincan_core
from tincan_core import RouteInfo

from ._errors import EXIT_FAILURE, EXIT_OK, CommandError
from ._options import check_encoding, check_webapp
from ._output import command_logger

__all__ = [
    "code_behind_of",
    "describe_codes",
    "format_settings",
    "route_rows",
    "routes_command",
]

_DEFAULT_CLASSES = {
    f"{cls.__module__}.{cls.__qualname__}" for cls in (tincan_core.Page, tincan_core.ErrorPage)
}


def code_behind_of(page_class: str, fsroot: str) -> str | None:
    """``file.py:Class`` for a code-behind class, ``None`` for the default page classes.

    Code-behind modules have generated names; the file they came from is what
    a user recognises.
    """
    if not page_class or page_class in _DEFAULT_CLASSES:
        return None
    module_name, _, qualname = page_class.rpartition(".")
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if isinstance(file, str):
        relative = os.path.relpath(os.path.realpath(file), os.path.realpath(fsroot))
        if not relative.startswith(".."):
            return f"{relative.replace(os.sep, '/')}:{qualname}"
    return page_class


def describe_codes(codes: Iterable[int]) -> str:
    """``404, 500-503`` for a set of status codes."""
    ranges: list[list[int]] = []
    for code in sorted(set(codes)):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def route_rows(infos: Sequence[RouteInfo], fsroot: str) -> list[dict[str, Any]]:
    """One JSON-ready record per route, hidden page and error page."""
    # Index routes inherit the code-behind of the page they alias.
    pages = {info.file: info for info in infos if info.kind in ("page", "hidden")}
    rows = []
    for info in infos:
        source = pages.get(info.file, info) if info.kind == "index" else info
        rows.append(
            {
                "path": info.path or None,
                "kind": info.kind,
                "methods": list(info.methods),
                "file": info.file,
                "page_class": source.page_class or None,
                "code_behind": code_behind_of(source.page_class, fsroot),
                "forward": source.forward or None,
                "served_by": source.served_by or None,
                "errors": list(info.errors),
                "pattern": info.pattern or None,  # a #path pattern, as written
                "redirect": info.redirect or None,  # where the route redirects to
            }
        )
    return rows


_KIND_ORDER = {"hidden": 1, "error": 2}


def _display_order(info: RouteInfo) -> tuple[int, str, str]:
    """Routes by URL path, then hidden pages, then error pages."""
    return (_KIND_ORDER.get(info.kind, 0), info.path, info.file)


def _details(row: dict[str, Any]) -> str:
    parts = []
    if row["redirect"]:
        parts.append(f"redirect -> {row['redirect']}")
    if row["forward"]:
        parts.append(f"forward -> {row['forward']}")
    if row["errors"]:
        parts.append(f"errors {describe_codes(row['errors'])}")
    return "; ".join(parts)


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    header = ("ROUTE", "METHODS", "KIND", "FILE", "CODE-BEHIND", "DETAILS")
    table = [header]
    for row in rows:
        route = row["path"] or ("(hidden)" if row["kind"] == "hidden" else f"({row['kind']})")
        table.append(
            (
                route,
                ",".join(row["methods"]) or "-",
                row["kind"],
                row["file"],
                row["code_behind"] or "-",
                _details(row),
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in table
    ]
    return "\n".join(lines)


def format_settings(lines: Sequence[tuple[str, str]]) -> str:
    """The effective settings as ``key = value`` lines, values in the settings file's syntax."""
    width = max((len(key) for key, _ in lines), default=0)
    out = ["SETTINGS (defaults, then WEB-INF/tincan.toml)"]
    out.extend(f"{key.ljust(width)} = {value}" for key, value in lines)
    return "\n".join(out)


def routes_command(
    fsroot: str, urlroot: str, *, static: bool, as_json: bool, encoding: str, debug: bool
) -> int:
    check_encoding(encoding)
    root = check_webapp(fsroot)
    with command_logger("tincan", debug=debug) as log:
        log.setLevel(logging.DEBUG if debug else logging.WARNING)  # problems, not each route
        app, errors = tincan_core.launch(
            root, urlroot, logger=log, encoding=encoding, static=static
        )
    if app is None:
        raise CommandError(f"{root}: the webapp did not launch")
    rows = route_rows(sorted(app.route_info, key=_display_order), root)
    settings = app.settings.describe()
    if as_json:
        document = {
            "webapp": root,
            "urlroot": app.config["tincan.urlroot"],
            "errors": errors,
            "routes": rows,
            "settings": dict(settings),
        }
        print(json.dumps(document, indent=2))
    else:
        print(format_table(rows))
        print()
        print(format_settings(settings))
    if errors:
        print(f"{errors} error(s) detected", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK
