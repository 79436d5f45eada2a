"""An alignment's files, written atomically and byte-stable.

``assignment.csv`` (``unit_id, rep_id, previous_rep_id, moved``), ``moves.csv``
(why each moved unit moved), ``reps.csv`` (each rep against each band),
``summary.json``, ``potential.csv`` (the hand-off to allocation), ``pareto.csv``
and ``pareto_moves.csv`` (each point's moves) when swept, and ``map.html`` when units have coordinates. Timings go to
``timings.json`` only, so every other file is identical for equal inputs.
"""

from __future__ import annotations

from pathlib import Path

from attain.output import write_csv, write_json, write_text
from attain.territory.chart import render_html
from attain.territory.handoff import territory_potential
from attain.territory.result import Alignment

__all__ = ["write_alignment"]

_FLOAT = "%.6f"


def write_alignment(alignment: Alignment, out: str | Path) -> list[Path]:
    out = Path(out)
    frame = alignment.assignment.assign(moved=alignment.assignment["moved"].map(_flag))
    files = [
        write_csv(out / "assignment.csv", frame),
        write_csv(out / "moves.csv", alignment.moves, float_format="%.3f"),
        write_csv(out / "reps.csv", alignment.reps, float_format=_FLOAT),
        write_json(out / "summary.json", alignment.summary.to_dict()),
    ]
    if alignment.unit_potential is not None:
        potential = territory_potential(alignment)
        files.append(write_csv(out / "potential.csv", potential, float_format="%.2f"))
    if alignment.pareto is not None:
        files.append(write_csv(out / "pareto.csv", alignment.pareto, float_format=_FLOAT))
        files.append(write_csv(out / "pareto_moves.csv", alignment.pareto_moves))
    if alignment.geometry is not None or alignment.pareto is not None:
        files.append(write_text(out / "map.html", render_html(alignment)))
    files.append(
        write_json(out / "timings.json", {k: round(v, 3) for k, v in alignment.seconds.items()})
    )
    return files


def _flag(value: bool) -> str:
    return "true" if value else "false"
