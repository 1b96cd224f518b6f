"""One measured figure, and the table (or JSON) the benchmark prints."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from _timing import Comparison

__all__ = ["Figure", "format_json", "format_table", "ratio_figure"]


@dataclass
class Figure:
    """A line of the result table.

    ``ours`` and ``reference`` are display strings; ``ratio`` is the number the
    target is about (``None`` when the target is absolute), with its spread over
    the rounds in ``ratio_low``/``ratio_high``. ``met`` is ``None`` when the
    figure could not be measured (``note`` says why).
    """

    name: str
    label: str
    ours: str
    reference: str
    target: str
    met: bool | None
    ratio: float | None = None
    ratio_low: float | None = None
    ratio_high: float | None = None
    ratio_unit: str = "x"
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    informational: bool = False  # printed for comparison, no target

    def ratio_text(self) -> str:
        if self.ratio is None:
            return "-"
        digits = 2 if self.ratio < 10 else 0
        text = f"{self.ratio:.{digits}f}{self.ratio_unit}"
        if self.ratio_low is not None and self.ratio_high is not None:
            text += f" ({self.ratio_low:.{digits}f}-{self.ratio_high:.{digits}f})"
        return text

    def result_text(self) -> str:
        if self.informational:
            return "-"
        if self.met is None:
            return "not measured"
        return "met" if self.met else "NOT MET"


_COLUMNS = ("figure", "ours", "reference", "ratio (spread)", "target", "result")


def format_table(figures: list[Figure]) -> str:
    rows = [_COLUMNS] + [
        (f.label, f.ours, f.reference, f.ratio_text(), f.target, f.result_text()) for f in figures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = []
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    notes = [f"  {f.label}: {f.note}" for f in figures if f.note]
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(line.rstrip() for line in lines)


def format_json(figures: list[Figure], context: dict[str, Any]) -> str:
    return json.dumps({"context": context, "figures": [asdict(f) for f in figures]}, indent=2)


def ratio_figure(
    name: str, label: str, comparison: Comparison, target: float, note: str
) -> Figure:
    ratios = comparison.ratios
    return Figure(
        name,
        label,
        f"{comparison.ours_median:,.0f}",
        f"{comparison.reference_median:,.0f}",
        f">= {target:.2f}x",
        comparison.ratio >= target,
        ratio=comparison.ratio,
        ratio_low=min(ratios),
        ratio_high=max(ratios),
        note=f"{len(ratios)} rounds; {note}" if note else f"{len(ratios)} rounds",
        data={"ours": comparison.ours, "reference": comparison.reference},
    )
