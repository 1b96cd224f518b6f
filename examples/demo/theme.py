"""Code-behind of theme.pspx: a stylesheet made by a page."""

from tincan import Page

ACCENTS = {"teal": "#0f766e", "plum": "#7e22ce", "rust": "#b45309"}


class ThemePage(Page):
    def handle(self):
        self.response.content_type = "text/css; charset=utf-8"
        self.response.set_header("Cache-Control", "max-age=300")
        choice = self.request.query.get("accent", "teal")
        self.accent = ACCENTS.get(choice, ACCENTS["teal"])
