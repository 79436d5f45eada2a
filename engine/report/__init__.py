"""Simulation reports: a self-contained report.html (inline SVG) and summary.xlsx.

The page is built on the shared page shell (:mod:`attain.page`, :mod:`attain.charts`),
the workbook on the shared writer (:mod:`attain.xlsx`).
"""

from __future__ import annotations

from pathlib import Path

from attain.output import atomic_path, write_text
from attain.report.html import render_html, report_document
from attain.report.xlsx import write_workbook

__all__ = ["render_html", "report_document", "write_outputs", "write_workbook"]


def write_outputs(result, out: Path) -> list[Path]:
    """summary.json, trials.parquet, report.html and summary.xlsx of ``result`` in ``out``."""
    out = Path(out)
    paths = [write_text(out / "summary.json", result.to_json())]
    with atomic_path(out / "trials.parquet") as tmp:
        result.trials.to_parquet(tmp, index=False)
    paths.append(out / "trials.parquet")
    paths.append(write_text(out / "report.html", render_html(result)))
    paths.append(write_workbook(out / "summary.xlsx", result.summary))
    return paths
