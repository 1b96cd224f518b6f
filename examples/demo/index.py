"""Code-behind of the home page: the newest entries for the welcome screen."""

from guestbook_store import GUESTBOOK

from tincan import Page

# Module-level names like this one are not template variables; only the
# page object's public attributes are.
NEWEST_SHOWN = 3


class HomePage(Page):
    def handle(self):
        self.entries = GUESTBOOK.newest(NEWEST_SHOWN)
        self.signed = GUESTBOOK.signed
