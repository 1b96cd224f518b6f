"""Code-behind of the 404 page: old addresses are redirected, others explained."""

from bottle import redirect

from tincan import ErrorPage

# Addresses of an older version of the site, and where they live now.
MOVED = {
    "guestbook.html": "guestbook.pspx",
    "sign.html": "guestbook.pspx",
    "about.html": "about/",
}


class NotFoundPage(ErrorPage):
    def handle(self):
        # The urlroot has no trailing slash ("/" alone at the top): add one.
        root = self.request.app.config["tincan.urlroot"].rstrip("/") + "/"
        path = self.request.path
        if path.startswith(root) and path[len(root):] in MOVED:
            # An error page may answer with a redirect instead of a page.
            redirect(root + MOVED[path[len(root):]], 301)
        body = self.error.body
        # abort(404, "text") explains itself; a plain 404 has no text of its own.
        self.reason = body if isinstance(body, str) and body else None
