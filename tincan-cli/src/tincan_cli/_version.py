"""``--version``: the versions of the parts a user may need to report."""

from __future__ import annotations

from importlib import metadata

__all__ = ["distribution_version", "version_text"]


def distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def version_text() -> str:
    return (
        f"tincan-cli {distribution_version('tincan-cli')}, "
        f"tincan-core {distribution_version('tincan-core')}"
    )
