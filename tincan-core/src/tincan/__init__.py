"""TinCan: a directory tree is the web application.

``import tincan`` is the public API (SPEC §8): :func:`launch` builds a Bottle
WSGI app from a webapp tree; code-behind files subclass :class:`Page` or
:class:`ErrorPage`.

The module ships with tincan-core, so every install that can run a code-behind
(tincan-cli, tincan-testing or the ``tincan`` meta-package) can import it; its
version is tincan-core's.
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
    __version__,
    abort,
    chameleon_template,
    chameleon_view,
    launch,
    redirect,
)

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
    "abort",
    "chameleon_template",
    "chameleon_view",
    "launch",
    "redirect",
]
