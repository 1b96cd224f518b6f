"""The ``tincan`` command line: serve, compile, routes, new, install-static, server-config.

``main(argv)`` runs the ``tincan`` command and returns its exit code; the
compatible ``launch`` and ``install-static`` commands live in ``tincan_cli._compat``.
"""

from ._cli import main

__version__ = "0.2.0"

__all__ = ["__version__", "main"]
