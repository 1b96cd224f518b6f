"""TinCan core: turn a directory tree of ``.pspx`` pages into a Bottle WSGI app.

The public surface is re-exported by the ``tincan`` package; import from there
in webapps (``from tincan import Page``).
"""

from ._adapter import ChameleonTemplate, chameleon_template, chameleon_view
from ._app import Endpoint, RouteInfo, TinCan
from ._cache import CACHE_DIRNAME
from ._check import check_app, check_webapp
from ._check_report import STANDARD_METHODS, CheckReport, Finding
from ._classify import (
    INDEX_NAMES,
    NAME_RULES,
    NEVER_SERVED_SUFFIXES,
    PAGE_SUFFIX,
    FileKind,
    NameRule,
    classify,
)
from ._compile import CompileReport, compile_webapp
from ._errors import TemplateHeaderError, TinCanError, TinCanException
from ._header import (
    Directive,
    LoadSpec,
    ParsedHeader,
    ParsedPage,
    parse_header,
    parse_page,
    split_page,
)
from ._hooks import PageObserver, PageVisit, set_page_observer
from ._launch import ENCODING, launch, session_key_configured
from ._ondemand import OnDemandLaunch, launch_on_demand
from ._pages import PARAMS_KEY, BasePage, ErrorPage, Page
from ._paths import resolve_url_path, resolve_webapp_path
from ._protocols import ErrorResponse, FileUpload, FormsDict, Request, Response, ResponseHeaders
from ._responses import HTTPError, HTTPResponse, abort, redirect
from ._scan import Inventory, WebappFile, scan_tree
from ._server import ThreadedWSGIServer, make_server, serve_in_thread
from ._session import SECRET_ENV, SESSION_KEY, Flash, Session
from ._stats import LaunchStats
from ._version import __version__

__all__ = [
    "CACHE_DIRNAME",
    "ENCODING",
    "INDEX_NAMES",
    "NAME_RULES",
    "NEVER_SERVED_SUFFIXES",
    "PAGE_SUFFIX",
    "PARAMS_KEY",
    "SECRET_ENV",
    "SESSION_KEY",
    "STANDARD_METHODS",
    "BasePage",
    "ChameleonTemplate",
    "CheckReport",
    "CompileReport",
    "Directive",
    "Endpoint",
    "ErrorPage",
    "ErrorResponse",
    "FileKind",
    "FileUpload",
    "Finding",
    "Flash",
    "FormsDict",
    "HTTPError",
    "HTTPResponse",
    "Inventory",
    "LaunchStats",
    "LoadSpec",
    "NameRule",
    "OnDemandLaunch",
    "Page",
    "PageObserver",
    "PageVisit",
    "ParsedHeader",
    "ParsedPage",
    "Request",
    "Response",
    "ResponseHeaders",
    "RouteInfo",
    "Session",
    "TemplateHeaderError",
    "ThreadedWSGIServer",
    "TinCan",
    "TinCanError",
    "TinCanException",
    "WebappFile",
    "__version__",
    "abort",
    "chameleon_template",
    "chameleon_view",
    "check_app",
    "check_webapp",
    "classify",
    "compile_webapp",
    "launch",
    "launch_on_demand",
    "make_server",
    "parse_header",
    "parse_page",
    "redirect",
    "resolve_url_path",
    "resolve_webapp_path",
    "scan_tree",
    "serve_in_thread",
    "session_key_configured",
    "set_page_observer",
    "split_page",
]
