"""Code shared by the pages of this site.

WEB-INF/lib is on sys.path while the webapp runs, so code-behind files simply
``import site_helpers``. Nothing under WEB-INF is ever served.
"""

from __future__ import annotations

from datetime import datetime


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
