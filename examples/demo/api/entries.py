"""The guestbook as JSON: handle() returns a dict instead of rendering the page."""

from guestbook_store import guestbook_for

from tincan import Page


class EntriesJson(Page):
    def handle(self):
        entries = guestbook_for(self.request.app).newest()
        return {
            "count": len(entries),
            "entries": [
                {**entry.as_json(), "url": self.url_for("/entry.pspx", n=entry.number)}
                for entry in entries
            ],
        }
