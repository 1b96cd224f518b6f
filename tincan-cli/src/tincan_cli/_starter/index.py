"""Code-behind of index.pspx: its public attributes become template variables."""

from __future__ import annotations

from site_helpers import SiteLayout, greeting

from tincan import Page


class Index(SiteLayout, Page):
    title = "Welcome"
    name = ""
    greeting = ""

    def handle(self) -> None:
        self.name = self.request.query.getunicode("name", default="").strip()
        self.greeting = greeting(self.name or "visitor")
