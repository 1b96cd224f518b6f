"""Code-behind of error.pspx: ``error`` is the Bottle HTTPError being answered."""

from __future__ import annotations

from site_helpers import SiteLayout

from tincan import ErrorPage


class Error(SiteLayout, ErrorPage):
    @property
    def title(self) -> str:  # type: ignore[override]
        return str(self.error.status_line)
