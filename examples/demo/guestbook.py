"""Code-behind of the guestbook: shows the form, and signs the book on POST.

A successful POST follows Post/Redirect/Get: the entry is stored, a flash
message is left in the session, and the browser is sent (303) to the new
entry's page, so reloading that page never signs the book twice. A form with
problems is shown again at once, with status 422.
"""

from guestbook_store import MESSAGE_LIMIT, NAME_LIMIT, check_entry, guestbook_for

from tincan import Page, redirect


class GuestbookPage(Page):
    name_limit = NAME_LIMIT
    message_limit = MESSAGE_LIMIT

    def handle(self):
        request, response = self.request, self.response
        response.set_header("Cache-Control", "no-store")
        book = guestbook_for(self.request.app)
        self.problems = {}
        # The session (a signed cookie) remembers the name of a visitor who signed.
        self.name = self.session.get("name", "")
        self.message = ""
        if request.method == "POST":
            self.name = (request.forms.getunicode("name") or "").strip()
            self.message = (request.forms.getunicode("message") or "").strip()
            self.problems = check_entry(self.name, self.message)
            if self.problems:
                response.status = 422  # the form is shown again, with the problems
            else:
                entry = book.sign(self.name, self.message)
                self.session["name"] = self.name
                self.flash(f"Thank you, {self.name}! Your note is entry #{entry.number}.",
                           "success")
                # The session cookie goes with the redirect; the browser GETs the entry.
                redirect(self.url_for("entry.pspx", n=entry.number), 303)
        self.entries = book.newest(10)
