"""What an install did: the report returned by ``install_static``."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["InstallReport"]


@dataclass(slots=True)
class InstallReport:
    """What an install did (or, for a dry run, would do), by webapp-relative path."""

    source: str
    target: str
    move: bool = False
    dry_run: bool = False
    copied: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    compressed: list[str] = field(default_factory=list)
    created_dirs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        done = f"{len(self.moved)} moved, " if self.move else ""
        text = (
            f"{done}{len(self.copied)} copied, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed"
        )
        if self.compressed:
            text += f", {len(self.compressed)} compressed"
        if self.dry_run:
            text += " (dry run: nothing was changed)"
        return text
