"""Code-behind of the 404 page: old addresses are redirected, others explained."""

from tincan import ErrorPage, redirect

# Addresses of an older version of the site, and the pages that answer them now.
MOVED = {
    "guestbook.html": "/guestbook.pspx",
    "sign.html": "/guestbook.pspx",
    "about.html": "/about/index.pspx",
}


class NotFoundPage(ErrorPage):
    def handle(self):
        # The urlroot has no trailing slash ("/" alone at the top): add one.
        root = self.request.app.config["tincan.urlroot"].rstrip("/") + "/"
        path = self.request.path
        if path.startswith(root) and path[len(root):] in MOVED:
            # An error page may answer with a redirect instead of a page; url_for
            # writes the page's URL as the site links to it (/guestbook, /about/).
            redirect(self.url_for(MOVED[path[len(root):]]), 301)
        body = self.error.body
        # abort(404, "text") explains itself; a plain 404 has no text of its own.
        self.reason = body if isinstance(body, str) and body else None
        # A path can be long (/entry/ and thousands of digits): show its start.
        self.shown_path = path if len(path) <= 80 else path[:80] + "..."
