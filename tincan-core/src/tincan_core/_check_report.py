"""What ``tincan check`` reports: findings, and the report that holds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["SEVERITIES", "STANDARD_METHODS", "CheckReport", "Finding", "sorted_findings"]

# RFC 9110's methods, PATCH (RFC 5789), and Bottle's ANY.
STANDARD_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "ANY"}
)
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: where (``file`` and ``line`` when known), how bad, what, and a
    suggested replacement when a close one exists."""

    severity: str  # "error", "warning" or "info"
    file: str | None
    line: int | None
    code: str
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        return f"{where}{self.severity}: {self.message}{hint} [{self.code}]"

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "code": self.code,
            "message": self.message,
            "suggestion": self.suggestion,
        }


@dataclass(slots=True)
class CheckReport:
    """What ``check_webapp`` found, errors first, then by file and line."""

    fsroot: str
    urlroot: str
    pages: int = 0
    findings: list[Finding] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def errors(self) -> int:
        return self.count("error")

    @property
    def warnings(self) -> int:
        return self.count("warning")

    def failed(self, *, strict: bool = False) -> bool:
        """Errors fail a check; with ``strict``, warnings too."""
        return bool(self.errors or (strict and self.warnings))

    def to_json(self) -> dict[str, Any]:
        """The ``tincan check --json`` document (schema version 1)."""
        return {
            "schema": 1,
            "webapp": self.fsroot,
            "urlroot": self.urlroot,
            "pages": self.pages,
            "errors": self.errors,
            "warnings": self.warnings,
            "infos": self.count("info"),
            "findings": [f.to_json() for f in self.findings],
        }


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    """Each finding once: errors first, then warnings, then infos; by file and line."""
    unique = list(dict.fromkeys(findings))
    return sorted(
        unique,
        key=lambda f: (SEVERITIES.index(f.severity), f.file or "", f.line or 0, f.code),
    )
