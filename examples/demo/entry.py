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
        entry = GUESTBOOK.find(int(number)) if number.isdecimal() else None
        if entry is None:
            # Goes through the 404 error page, which shows this text.
            abort(404, f"There is no entry #{number}.")
        self.entry = entry
