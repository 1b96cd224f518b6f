"""Code-behind of the home page: the newest entries, and a greeting for visitors
whose name the session remembers."""

from guestbook_store import guestbook_for

from tincan import Page

# Module-level names like this one are not template variables; only the
# page object's public attributes are.
NEWEST_SHOWN = 3


class HomePage(Page):
    def handle(self):
        book = guestbook_for(self.request.app)
        self.entries = book.newest(NEWEST_SHOWN)
        self.count = book.count()
        self.visitor = self.session.get("name")
