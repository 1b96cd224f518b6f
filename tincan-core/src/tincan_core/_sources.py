"""What each page of a launch is made of: its parsed file, its #forward target,
the body that renders it, its #load files and its code-behind file.

This is the resolution half of a launch, over the files of one tree; reading is
memoised per launch, so a file shared by many pages is read and parsed once.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass

from ._errors import TinCanError
from ._header import ParsedHeader, parse_page, split_page, universal_newlines
from ._macrofile import read_macro_file
from ._paths import resolve_webapp_path
from ._templates import TemplateSource

__all__ = ["PageSource", "PageSources"]


@dataclass(slots=True)
class PageSource:
    """A parsed page file: its header and body, or the error that stops it."""

    relpath: str
    header: ParsedHeader | None = None
    body: str = ""
    header_lines: int = 0  # blank lines at the start of body that were header lines
    error: TinCanError | None = None


class PageSources:
    """The pages of one tree, read, parsed and resolved on demand."""

    def __init__(self, root: str, encoding: str) -> None:
        self.root = root
        self.encoding = encoding
        self.sources: dict[str, PageSource] = {}
        self.bodies: dict[str, TemplateSource] = {}  # template_source() of each page
        self.macro_texts: dict[str, TemplateSource] = {}
        # Header warnings (file:line: message) of pages parsed since the last
        # take_warnings(): each file is parsed once, so each is reported once.
        self.header_warnings: list[str] = []

    def display(self, relpath: str) -> str:
        return os.path.normpath(os.path.join(self.root, relpath))

    # -- reading -----------------------------------------------------------------------
    def read_text(self, relpath: str) -> str:
        path = os.path.join(self.root, relpath)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except (OSError, ValueError) as exc:  # ValueError: a name the OS cannot take
            message = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise TinCanError(f"cannot read: {message}", self.display(relpath)) from None
        # A UTF-8 byte-order mark is ignored whatever the webapp's encoding.
        data = data.removeprefix(codecs.BOM_UTF8)
        try:
            text = data.decode(self.encoding)
        except UnicodeDecodeError as exc:
            # Counted as pages count lines: universal newlines ("\r\n", "\r", "\n").
            before = data[: exc.start].decode(self.encoding, errors="replace")
            line = universal_newlines(before).count("\n") + 1
            raise TinCanError(
                f"cannot decode as {self.encoding}: {exc.reason}", self.display(relpath), line
            ) from None
        return text.removeprefix("\ufeff")

    def source(self, relpath: str) -> PageSource:
        """Read and parse a page once per launch (pages in WEB-INF included, for forwards)."""
        cached = self.sources.get(relpath)
        if cached is None:
            cached = PageSource(relpath)
            try:
                parsed = parse_page(self.read_text(relpath), self.display(relpath))
                cached.header, cached.body = parsed.header, parsed.body
                cached.header_lines = parsed.header_lines
                self.header_warnings.extend(parsed.header.warnings)
            except TinCanError as exc:
                cached.error = exc
            self.sources[relpath] = cached
        return cached

    def take_warnings(self) -> list[str]:
        """The header warnings not taken yet (each page's once per launch)."""
        taken, self.header_warnings = self.header_warnings, []
        return taken

    def resolve(self, relpath: str, path: str, directive: str, header: ParsedHeader) -> str:
        try:
            return resolve_webapp_path(relpath, path)
        except TinCanError as exc:
            line = dict(header.lines).get(directive)
            message = f"#{directive}: {exc.message}"
            raise TinCanError(message, self.display(relpath), line) from None

    # -- forwards ----------------------------------------------------------------------
    def forward_target(self, relpath: str, header: ParsedHeader) -> str:
        """Follow a ``#forward`` chain to the page that really serves ``relpath``.

        A broken chain is an error of ``relpath`` at its own ``#forward`` line (it is
        the page that loses its route), naming the pages the chain went through.
        """
        chain = [relpath]
        is_error_page = header.errors is not None
        where = (self.display(relpath), dict(header.lines).get("forward"))
        current, current_header = relpath, header
        while current_header.forward is not None:
            via = f" (via {' -> '.join(chain)})" if len(chain) > 1 else ""
            try:
                target = resolve_webapp_path(current, current_header.forward)
            except TinCanError as exc:
                raise TinCanError(f"#forward: {exc.message}{via}", *where) from None
            if target in chain:
                raise TinCanError(f"#forward loop: {' -> '.join([*chain, target])}", *where)
            if not os.path.isfile(os.path.join(self.root, target)):
                raise TinCanError(f"#forward target {target!r} does not exist{via}", *where)
            source = self.source(target)
            if source.error is not None:
                raise TinCanError(
                    f"#forward target {target!r} is broken{via}: {source.error}", *where
                )
            assert source.header is not None
            if (source.header.errors is not None) != is_error_page:
                raise TinCanError(
                    f"#forward target {target!r}{via} switches between error page and normal page",
                    *where,
                )
            chain.append(target)
            current, current_header = target, source.header
        return current

    # -- compiling ---------------------------------------------------------------------
    def template_source(self, relpath: str) -> TemplateSource:
        """The body that renders ``relpath`` (its own, or its ``#template``'s)."""
        known = self.bodies.get(relpath)
        if known is not None:
            return known
        source = self.source(relpath)
        assert source.header is not None
        if source.header.template is None:
            known = TemplateSource(
                os.path.join(self.root, relpath), source.body, relpath, source.header_lines
            )
        else:
            target = self.resolve(relpath, source.header.template, "template", source.header)
            try:
                header, body = split_page(self.read_text(target))
            except TinCanError as exc:
                line = dict(source.header.lines).get("template")
                raise TinCanError(f"#template: {exc}", self.display(relpath), line) from None
            known = TemplateSource(os.path.join(self.root, target), body, target, len(header))
        self.bodies[relpath] = known
        return known

    def macro_source(self, relpath: str) -> TemplateSource:
        """A ``#load``ed macro file, read once per launch.

        Decoded as Chameleon decodes a template file (a byte-order mark, an XML
        declaration's or a meta tag's charset, else the launch encoding), since
        the original let Chameleon read it; as there, byte strings its render
        inserts are decoded with the launch encoding and ``load:`` expressions
        find templates relative to it.
        """
        known = self.macro_texts.get(relpath)
        if known is None:
            path = os.path.join(self.root, relpath)
            text, content_type = read_macro_file(path, self.encoding, self.display(relpath))
            known = TemplateSource(
                path,
                text,
                relpath,
                content_type=content_type,
                encoding=self.encoding,
                file_template=True,
            )
            self.macro_texts[relpath] = known
        return known

    def load_sources(self, relpath: str) -> list[tuple[str, str, int]]:
        """``(variable, webapp-relative .pt path, line)`` of each ``#load`` of a page."""
        header = self.source(relpath).header
        assert header is not None
        loads = []
        for load in header.loads:
            base = "/WEB-INF/tlib/" + load.path.lstrip("/") if load.tlib else load.path
            try:
                path = resolve_webapp_path(relpath, base)
            except TinCanError as exc:
                message = f"#load: {exc.message}"
                raise TinCanError(message, self.display(relpath), load.line) from None
            loads.append((load.var, path, load.line))
        return loads

    def code_behind(self, target: str) -> str | None:
        """The webapp-relative code-behind file of ``target``; ``None``: plain class."""
        header = self.source(target).header
        assert header is not None
        if header.python is not None:
            relpath = self.resolve(target, header.python, "python", header)
            if not os.path.isfile(os.path.join(self.root, relpath)):
                line = dict(header.lines).get("python")
                raise TinCanError(
                    f"#python: {relpath!r} does not exist", self.display(target), line
                )
            return relpath
        relpath = target[: -len(".pspx")] + ".py"
        return relpath if os.path.isfile(os.path.join(self.root, relpath)) else None
