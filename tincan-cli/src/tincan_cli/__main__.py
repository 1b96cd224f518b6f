"""``python -m tincan_cli``: the ``tincan`` command."""

import sys

from tincan_cli import main

if __name__ == "__main__":
    sys.exit(main())
