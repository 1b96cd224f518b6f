"""One controller, two views: entries.pspx uses it by name, entries-table.pspx
through "#python entries.py"."""

from guestbook_store import GUESTBOOK

from tincan import Page


class EntriesPage(Page):
    def handle(self):
        self.entries = GUESTBOOK.newest()
        self.count = len(self.entries)
