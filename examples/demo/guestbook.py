"""Code-behind of the guestbook: shows the form, and signs the book on POST."""

from urllib.parse import quote, unquote

from guestbook_store import GUESTBOOK, MESSAGE_LIMIT, NAME_LIMIT, check_entry

from tincan import Page

NAME_COOKIE = "guestbook_name"


class GuestbookPage(Page):
    name_limit = NAME_LIMIT
    message_limit = MESSAGE_LIMIT

    def handle(self):
        request, response = self.request, self.response
        response.set_header("Cache-Control", "no-store")
        self.problems = {}
        # The cookie holds the name URL-quoted: cookie values must be plain ASCII.
        self.name = unquote(request.get_cookie(NAME_COOKIE) or "")
        self.message = ""
        if request.method == "POST":
            self.name = (request.forms.getunicode("name") or "").strip()
            self.message = (request.forms.getunicode("message") or "").strip()
            self.problems = check_entry(self.name, self.message)
            if self.problems:
                response.status = 422  # the form is shown again, with the problems
            else:
                entry = GUESTBOOK.sign(self.name, self.message)
                # The urlroot has no trailing slash ("/" alone at the top).
                root = request.app.config["tincan.urlroot"].rstrip("/") + "/"
                response.set_cookie(
                    NAME_COOKIE, quote(self.name), max_age=365 * 24 * 3600,
                    path=root, httponly=True, samesite="lax",
                )
                request.environ["guestbook.entry"] = entry
                # Server-side forward: the hidden thank-you page answers this very
                # request (same method, same form data, the cookie set above).
                request.app.forward("thanks.pspx")
        self.entries = GUESTBOOK.newest(10)
