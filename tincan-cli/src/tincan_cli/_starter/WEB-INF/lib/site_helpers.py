"""Code shared by the pages of this site.

WEB-INF/lib is on sys.path while the webapp runs, so code-behind files simply
``import site_helpers``. Nothing under WEB-INF is ever served.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

SITE_NAME = "My TinCan site"


def greeting(name: str, now: datetime | None = None) -> str:
    """A greeting for ``name`` that suits the time of day."""
    hour = (now or datetime.now()).hour
    if hour < 12:
        part = "morning"
    elif hour < 18:
        part = "afternoon"
    else:
        part = "evening"
    return f"Good {part}, {name}!"


def site_url(request: Any, path: str = "") -> str:
    """The URL of ``path`` below the webapp's URL root (it may be served under a prefix)."""
    # The urlroot has no trailing slash ("/" alone at the top).
    root: str = request.app.config["tincan.urlroot"].rstrip("/")
    return root + "/" + path.lstrip("/")


class SiteLayout:
    """The variables WEB-INF/tlib/layout.pt needs; mix it into Page and ErrorPage classes."""

    request: Any
    site_name = SITE_NAME
    title = ""

    @property
    def home(self) -> str:
        return site_url(self.request)

    @property
    def stylesheet(self) -> str:
        return site_url(self.request, "style.css")
