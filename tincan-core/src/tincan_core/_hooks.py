"""An optional observer of page visits, for test tools (``tincan_testing``).

The route builder reads :data:`page_observer` once per page, at launch. When it
is unset (always, in production) the page callbacks are exactly the plain ones:
no per-request cost. When set, each page callback reports a :class:`PageVisit`
for every request it serves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._pages import BasePage

__all__ = ["PageObserver", "PageVisit", "instrument", "page_observer", "set_page_observer"]


@dataclass(slots=True)
class PageVisit:
    """One page taking part in a response (forwards and error pages add more)."""

    page: str  # webapp-relative page that owns the route or the error handler
    target: str  # page whose body and code-behind serve it (after #forward)
    page_class: type[BasePage]
    error_page: bool
    instance: BasePage | None = None  # None if the constructor raised
    variables: dict[str, Any] | None = None  # what export() gave; None if nothing rendered


PageObserver = Callable[[PageVisit], None]

page_observer: PageObserver | None = None


def set_page_observer(observer: PageObserver | None) -> PageObserver | None:
    """Install ``observer`` for the launches that follow; returns the previous one."""
    global page_observer
    previous, page_observer = page_observer, observer
    return previous


def instrument(
    page: str,
    target: str,
    page_class: type[BasePage],
    render: Callable[..., str],
    loads: dict[str, Any],
    *,
    error_page: bool,
    observer: PageObserver,
) -> tuple[Callable[..., BasePage], Callable[..., str]]:
    """Stand-ins for a page's class and render function that report to ``observer``."""
    current = threading.local()  # links a render to the instance built on this thread

    def make_page(*args: Any) -> BasePage:
        visit = PageVisit(page, target, page_class, error_page)
        current.visit = visit
        observer(visit)
        visit.instance = page_class(*args)
        return visit.instance

    def render_page(**variables: Any) -> str:
        visit: PageVisit | None = getattr(current, "visit", None)
        if visit is not None:
            current.visit = None
            # the template also receives the #load macros; report only what export() gave
            visit.variables = {
                name: value
                for name, value in variables.items()
                if name not in loads or value is not loads[name]
            }
        return render(**variables)

    return make_page, render_page
