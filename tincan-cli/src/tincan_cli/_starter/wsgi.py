"""The WSGI entry point for production: ``application`` serves the webapp.

    gunicorn --workers 4 --bind 127.0.0.1:8000 wsgi:application

Run ``tincan compile webapp`` after every deployment, so that no worker
compiles templates. Static files are best served by the web server in front
(see ``tincan server-config`` and ``install-static``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import tincan

WEBAPP = Path(__file__).resolve().parent / "webapp"

logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")
logger = logging.getLogger("webapp")

app, errors = tincan.launch(WEBAPP, logger=logger)
if app is None:
    raise RuntimeError(f"{WEBAPP}: the webapp could not be launched, see the log")
if errors:
    # The broken pages have no route; every other page is served.
    logger.error("%d error(s) in the webapp, see above", errors)
application = app
