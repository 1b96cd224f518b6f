"""Code-behind of the thank-you page, reached only by the guestbook's forward."""

from tincan import Page


class ThanksPage(Page):
    def handle(self):
        # A forward passes the same request along: the form is still readable,
        # and the guestbook left the new entry in the request environment.
        self.name = self.request.forms.getunicode("name") or "friend"
        self.entry = self.request.environ.get("guestbook.entry")
