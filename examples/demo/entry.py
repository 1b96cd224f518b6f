"""Code-behind of a single entry: redirects and aborts are plain Bottle calls."""

from bottle import abort, redirect
from guestbook_store import GUESTBOOK

from tincan import Page


class EntryPage(Page):
    def handle(self):
        number = self.request.query.get("n", "")
        if not number:
            # No entry asked for: send the visitor to the whole guestbook.
            redirect(self.request.app.config["tincan.urlroot"].rstrip("/") + "/entries.pspx")
        # ASCII digits, and few enough of them: int() refuses strings of over 4,300
        # digits (a ValueError, so a 500), and no guestbook holds that many entries.
        valid = number.isascii() and number.isdigit() and len(number) <= 18
        entry = GUESTBOOK.find(int(number)) if valid else None
        if entry is None:
            # Goes through the 404 error page, which shows this text.
            shown = number if len(number) <= 40 else number[:40] + "..."
            abort(404, f"There is no entry #{shown}.")
        self.entry = entry
