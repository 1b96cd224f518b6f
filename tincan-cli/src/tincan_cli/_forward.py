"""Commands whose arguments and output belong to tincan-static."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from ._errors import CommandError

__all__ = ["FORWARDED", "forward"]

# command name -> function of tincan_static taking (argv, prog) and returning an exit code
FORWARDED = {
    "install-static": "main_install_static",
    "server-config": "main_server_config",
}


def forward(command: str, argv: list[str], prog: str | None = None) -> int:
    """Hand ``argv`` to tincan-static's implementation of ``command``."""
    function_name = FORWARDED[command]
    try:
        import tincan_static
    except ImportError:
        raise CommandError("tincan-static is not installed: pip install tincan-static") from None
    function = getattr(tincan_static, function_name, None)
    if function is None:
        raise CommandError(
            f"the installed tincan-static has no {command} command; upgrade tincan-static"
        )
    run = cast(Callable[[list[str] | None, str], int], function)
    return int(run(argv, prog or f"tincan {command}"))
