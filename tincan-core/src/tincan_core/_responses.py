"""``abort()`` and ``redirect()`` for code-behind, typed to end the request.

They are Bottle's own functions (same arguments, same responses), declared
``NoReturn`` so that a type checker knows the code after them does not run::

    user = self.request.get_cookie("user")
    if user is None:
        redirect("/login.pspx")
    self.greeting = "Hello, " + user  # user: str here
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import bottle

from ._protocols import ErrorResponse, Response

__all__ = ["HTTPError", "HTTPResponse", "abort", "redirect"]

if TYPE_CHECKING:

    class HTTPResponse(Exception, Response):
        """``bottle.HTTPResponse``: what ``redirect()`` raises, and what a page may raise
        or return to answer with a response of its own."""

        body: Any

    class HTTPError(HTTPResponse, ErrorResponse):
        """``bottle.HTTPError``: what ``abort()`` raises; the webapp's error page answers it."""

else:
    # Bottle's own classes; the declarations above only tell a type checker what they hold.
    HTTPResponse = bottle.HTTPResponse
    HTTPError = bottle.HTTPError


def abort(code: int = 500, text: str = "Unknown Error.") -> NoReturn:
    """End the request with the HTTP error ``code``, answered by the webapp's error
    page for it; ``text`` is the error's ``body`` (``error.body`` in an error page)."""
    bottle.abort(code, text)
    raise AssertionError("bottle.abort() returned")  # it raises; this is for the type checker


def redirect(url: str, code: int | None = None) -> NoReturn:
    """End the request with a redirect to ``url`` (relative to the request's URL).

    The code is 303 for HTTP/1.1 requests and 302 otherwise, unless ``code`` is
    given. Headers and cookies the page set on the response so far are sent
    with the redirect.
    """
    bottle.redirect(url, code)
    raise AssertionError("bottle.redirect() returned")
