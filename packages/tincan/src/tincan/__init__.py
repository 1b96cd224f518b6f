"""TinCan: a directory tree is the web application.

``import tincan`` is the public API (SPEC §8): :func:`launch` builds a Bottle
WSGI app from a webapp tree; code-behind files subclass :class:`Page` or
:class:`ErrorPage`.
"""

from tincan_core import (
    ENCODING,
    BasePage,
    ErrorPage,
    Page,
    TemplateHeaderError,
    TinCan,
    TinCanError,
    TinCanException,
    chameleon_template,
    chameleon_view,
    launch,
)

__version__ = "0.1.0"

__all__ = [
    "ENCODING",
    "BasePage",
    "ErrorPage",
    "Page",
    "TemplateHeaderError",
    "TinCan",
    "TinCanError",
    "TinCanException",
    "__version__",
    "chameleon_template",
    "chameleon_view",
    "launch",
]
