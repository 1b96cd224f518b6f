"""``tincan check``: literal ``url_for(...)`` calls, judged against the launch's URL table.

A call such as ``page.url_for('entry.pspx', id=3)`` in a template, or
``self.url_for("entry.pspx", id=n)`` in code-behind, fails at request time
(a 500) if the page does not exist, has no URL, or takes other parameters.
Where the call is written with a string literal target, the check knows that
already. What it reads:

* the target, if it is a string literal (anything else: the call is skipped);
* the names of the keyword arguments (``**values`` unpacked: the names are
  not known, so only the target is judged); ``_query`` is url_for's own;
* the values that are literals (numbers, strings, ``True``...), which must
  pass their ``#path`` filter; other values are taken to pass.

Only attribute calls count (``x.url_for(...)``), so a function of the webapp's
own named ``url_for`` is not judged. Relative targets are resolved as at request
time, from each page that renders the template; error pages have no fixed
directory, so their relative targets are not judged. Finding the calls is pure
(:func:`template_calls`, :func:`python_calls`); :func:`url_for_findings` judges
them for a launched app.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._app import RouteInfo, TinCan
from ._check_report import Finding
from ._errors import TinCanError
from ._sources import PageSources
from ._urls import UrlTable

__all__ = ["UrlForCall", "judge_call", "python_calls", "template_calls", "url_for_findings"]

CODE = "url-for"
_CALL = re.compile(r"\.\s*url_for\s*\(")


@dataclass(frozen=True, slots=True)
class UrlForCall:
    """One ``url_for(...)`` call whose target is a string literal."""

    line: int
    target: str
    params: Mapping[str, Any]  # keyword arguments whose values are literals
    unknown: frozenset[str] = frozenset()  # keyword arguments with computed values
    open_names: bool = False  # ``**values``: which names are given cannot be told


class _Unknown:
    """A computed value: taken to pass any filter (``"0"`` passes all but ``re:``)."""

    def __str__(self) -> str:
        return "0"

    def __repr__(self) -> str:
        return "<computed>"


def _from_call(node: ast.Call, line: int) -> UrlForCall | None:
    if not (isinstance(node.func, ast.Attribute) and node.func.attr == "url_for"):
        return None
    if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant):
        return None
    target = node.args[0].value
    if not isinstance(target, str):
        return None
    params: dict[str, Any] = {}
    unknown: set[str] = set()
    open_names = False
    for keyword in node.keywords:
        if keyword.arg is None:
            open_names = True
        elif keyword.arg == "_query":
            continue
        else:
            try:
                params[keyword.arg] = ast.literal_eval(keyword.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                unknown.add(keyword.arg)
    return UrlForCall(line, target, params, frozenset(unknown), open_names)


def python_calls(source: str | bytes) -> list[UrlForCall]:
    """The literal ``url_for`` calls of a Python module's source (none if it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            call = _from_call(node, node.lineno)
            if call is not None:
                calls.append(call)
    return sorted(calls, key=lambda c: c.line)


_LONGEST_CALL = 2000  # characters from "(" on; longer calls are not judged


def _call(text: str, start: int) -> ast.Call | None:
    """The call whose ``(`` is at ``start``: the shortest text up to a ``)`` that parses.

    The template around it is not Python, so it is never handed to the parser: a
    ``)`` inside a string literal leaves the prefix unparsable, and the next one
    is tried.
    """
    end = start
    limit = min(len(text), start + _LONGEST_CALL)
    while True:
        end = text.find(")", end + 1, limit)
        if end < 0:
            return None
        try:
            expression = ast.parse("_.url_for" + text[start : end + 1], mode="eval").body
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
        return expression if isinstance(expression, ast.Call) else None


def template_calls(text: str) -> list[UrlForCall]:
    """The literal ``x.url_for(...)`` calls in a template's text (in ``${...}``, ``tal:``
    attributes or ``<?python ?>`` alike), with the line each starts on."""
    calls = []
    for found in _CALL.finditer(text):
        expression = _call(text, found.end() - 1)
        if expression is not None:
            line = text.count("\n", 0, found.start()) + 1
            call = _from_call(expression, line)
            if call is not None:
                calls.append(call)
    return calls


def judge_call(table: UrlTable, call: UrlForCall, page: str) -> str | None:
    """What ``url_for`` would raise for ``call`` made on ``page`` (webapp-relative; ``""``
    for the root), or ``None`` when it would work for some values of what is computed."""
    if call.open_names:
        params: dict[str, Any] = {}
    else:
        params = {**call.params, **dict.fromkeys(call.unknown, _Unknown())}
    try:
        table.build(call.target, params, page=page)
    except TinCanError as exc:
        message = exc.message
        if any(message.startswith(f"url_for: {name}=") for name in call.unknown):
            return None  # a computed value refused by a re: filter: cannot be told
        return message
    return None


def url_for_findings(
    app: TinCan, sources: PageSources, infos: Iterable[RouteInfo]
) -> list[Finding]:
    """Findings for the literal ``url_for`` calls of every page in ``infos``
    (``app.route_info``; its pages, hidden pages and error pages count): in the body
    that renders the page, its ``#load`` files and its code-behind file."""
    table = app.urls
    texts: dict[str, list[UrlForCall]] = {}
    findings: list[Finding] = []

    def code_behind_calls(file: str) -> list[UrlForCall]:
        known = texts.get(file)
        if known is None:
            try:
                with open(file, "rb") as handle:  # ast reads the source's own encoding
                    known = python_calls(handle.read())
            except OSError:
                known = []
            texts[file] = known
        return known

    def template_of(filename: str, body: str) -> list[UrlForCall]:
        key = os.path.normpath(filename)
        known = texts.get(key)
        if known is None:
            known = texts[key] = template_calls(body)
        return known

    for info in infos:
        if info.kind not in ("page", "hidden", "error") or not info.served_by:
            continue
        error_page = info.kind == "error"
        places: list[tuple[str, list[UrlForCall]]] = []
        try:
            body = sources.template_source(info.served_by)
            places.append((os.path.normpath(body.filename), template_of(body.filename, body.body)))
            for _, path, _ in sources.load_sources(info.served_by):
                macro = sources.macro_source(path)
                places.append(
                    (os.path.normpath(macro.filename), template_of(macro.filename, macro.body))
                )
            # The page's own code-behind (None: the plain class), as the launch found it.
            code = sources.code_behind(info.forward or info.file)
        except TinCanError:
            continue  # changed since the launch: the next launch reports it
        if code is not None:
            code = os.path.join(sources.root, code)
            places.append((code, code_behind_calls(code)))
        for file, calls in places:
            for call in calls:
                if error_page and not call.target.startswith("/"):
                    continue
                problem = judge_call(table, call, info.file)
                if problem is not None:  # url_for's own words: a relative target's names the page
                    findings.append(Finding("error", file, call.line, CODE, problem))
    return findings
