"""tincan-static: put a TinCan webapp's static files where a web server serves them.

:func:`install_static` copies (or moves) exactly the files ``launch(static=True)``
would serve into a directory of their own; :func:`nginx_config` and
:func:`apache_config` write the web-server configuration for that layout.
"""

from ._apache import apache_config
from ._cli import main_install_static, main_server_config
from ._install import COMPRESSIBLE_SUFFIXES, InstallReport, install_static
from ._manifest import MANIFEST_NAME
from ._nginx import nginx_config
from ._plan import InstallError, NotAWebappError
from ._quote import quote_path
from ._site import Site, SiteError, page_index_dirs, wsgi_script

__version__ = "0.2.0"

__all__ = [
    "COMPRESSIBLE_SUFFIXES",
    "MANIFEST_NAME",
    "InstallError",
    "InstallReport",
    "NotAWebappError",
    "Site",
    "SiteError",
    "__version__",
    "apache_config",
    "install_static",
    "main_install_static",
    "main_server_config",
    "nginx_config",
    "page_index_dirs",
    "quote_path",
    "wsgi_script",
]
