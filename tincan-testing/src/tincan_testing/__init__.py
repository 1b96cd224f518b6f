"""tincan-testing: pytest fixtures, hypothesis strategies and checks for TinCan webapps.

The pytest plugin (fixtures ``tincan_webapp``, ``tincan_app``, ``tincan_client``,
``tincan_live_server``, ``tincan_app_dir`` and the ``tincan`` marker) is active
whenever this package is installed. Strategies live in
:mod:`tincan_testing.strategies`, ready-made checks in :mod:`tincan_testing.checks`.
"""

from tincan_core import HTTPError, HTTPResponse

from ._assertions import assert_contains, assert_redirects
from ._failures import ServerError
from ._forms import Form, find_form, forms
from ._trace import PageVisit, trace
from ._unit import make_error_page, make_page
from ._webapp import LiveServer, Webapp
from .plugin import WebappFactory

__version__ = "0.2.0"

__all__ = [
    "Form",
    "HTTPError",
    "HTTPResponse",
    "LiveServer",
    "PageVisit",
    "ServerError",
    "Webapp",
    "WebappFactory",
    "__version__",
    "assert_contains",
    "assert_redirects",
    "find_form",
    "forms",
    "make_error_page",
    "make_page",
    "trace",
]
