"""The "about" section in two languages.

Both about pages render the same body (``#template``); what differs is the
code-behind, which picks the texts. The German page's code-behind simply
imports :class:`GermanAbout` from here: TinCan takes the deepest ``Page``
subclass it finds among a module's names, wherever it was defined.
"""

from __future__ import annotations

from tincan import Page

TEAM = [
    ("Ada", {"en": "writes the pages", "de": "schreibt die Seiten"}),
    ("Bo", {"en": "keeps the code-behind tidy", "de": "hält den Code-Behind sauber"}),
    ("Cy", {"en": "signs the guestbook every day", "de": "unterschreibt täglich im Gästebuch"}),
]

TEXTS = {
    "en": {
        "title": "About",
        "heading": "About this site",
        "intro": [
            "This little guestbook is a TinCan webapp: a directory tree where every "
            ".pspx file is a page and the .py file beside it holds the page's logic.",
            "Layouts are Chameleon macro files, shared through WEB-INF/tlib. Helper "
            "modules live in WEB-INF/lib, which nobody can download.",
        ],
        "team": "Who is behind it",
        "other_label": "Auf Deutsch lesen",
        "other_lang": "de",
    },
    "de": {
        "title": "Über uns",
        "heading": "Über diese Seite",
        "intro": [
            "Dieses kleine Gästebuch ist eine TinCan-Webanwendung: ein Verzeichnisbaum, "
            "in dem jede .pspx-Datei eine Seite ist und die .py-Datei daneben ihre Logik enthält.",
            "Layouts sind Chameleon-Makrodateien aus WEB-INF/tlib. Hilfsmodule liegen in "
            "WEB-INF/lib, das niemand herunterladen kann.",
        ],
        "team": "Wer dahintersteckt",
        "other_label": "Read in English",
        "other_lang": "en",
    },
}


class AboutPage(Page):
    """Exports the texts of :attr:`lang` as template variables."""

    lang = "en"

    @property
    def text(self) -> dict[str, object]:
        return TEXTS[self.lang]

    @property
    def members(self) -> list[tuple[str, str]]:
        return [(name, roles[self.lang]) for name, roles in TEAM]


class GermanAbout(AboutPage):
    lang = "de"
