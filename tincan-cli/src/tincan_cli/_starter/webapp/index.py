"""Code-behind of index.pspx: its public attributes become template variables."""

from __future__ import annotations

from site_helpers import greeting

from tincan import Page


class Index(Page):
    name = ""
    greeting = ""

    def handle(self) -> None:
        # getunicode decodes the query as UTF-8 (query.get would give "JÃ¼rgen").
        self.name = (self.request.query.getunicode("name") or "").strip()
        self.greeting = greeting(self.name or "visitor")
