"""One controller, two views: entries.pspx uses it by name, entries-table.pspx
through "#python entries.py"."""

from guestbook_store import guestbook_for

from tincan import Page


class EntriesPage(Page):
    def handle(self):
        self.entries = guestbook_for(self.request.app).newest()
        self.count = len(self.entries)
