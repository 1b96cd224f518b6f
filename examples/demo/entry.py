"""Code-behind of a single entry: the number comes from the URL (self.params);
redirects and aborts are plain calls."""

from guestbook_store import guestbook_for

from tincan import Page, abort, redirect


def shown(number: str) -> str:
    return number if len(number) <= 40 else number[:40] + "..."


class EntryPage(Page):
    def handle(self):
        book = guestbook_for(self.request.app)
        if "n" not in self.params:
            # /entry.pspx?n=3 was an entry's address in an older version of the site.
            number = self.request.query.get("n", "")
            if not number:
                # No entry asked for: send the visitor to the whole guestbook.
                redirect(self.url_for("entries.pspx"), 303)
            # ASCII digits, and few enough of them: int() refuses strings of over
            # 4,300 digits, and no guestbook holds that many entries.
            if number.isascii() and number.isdigit() and len(number) <= 18:
                redirect(self.url_for("entry.pspx", n=int(number)), 301)
            abort(404, f"There is no entry #{shown(number)}.")
        number = self.params["n"]  # an int: the filter converted it
        entry = book.find(number)
        if entry is None:
            # Goes through the 404 error page, which shows this text.
            abort(404, f"There is no entry #{shown(str(number))}.")
        self.entry = entry
        self.newer = number + 1 if book.find(number + 1) else None
        self.older = number - 1 if book.find(number - 1) else None
