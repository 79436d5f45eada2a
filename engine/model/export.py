"""Any model as a file another solver reads: free MPS (written here) or CPLEX LP (by HiGHS).

For support tickets and for checking a result against another solver: the file is the
problem exactly as the last level was solved (earlier levels' optima held as rows named
``hold:<level>``), in the solver's scale. Rows are named ``<rule>[<unit>]`` where the model
knows them, so a row in the file reads as the rule and unit it came from.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from attain.errors import InputError, Problem
from attain.output import atomic_path
from attain.solvers import LinearProblem

__all__ = ["FORMATS", "check_format", "export_model", "mps_text"]

FORMATS = (".mps", ".lp")
_BAD = re.compile(r"[^A-Za-z0-9_.:\[\]()<>=+\-/#~@]")


def check_format(path: str | Path) -> str:
    """The export format of ``path`` (its suffix); an InputError for any other."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        problem = Problem(
            str(path),
            f"unknown model format `{path.suffix or '(none)'}`",
            hint="name the file *.mps or *.lp",
        )
        raise InputError([problem])
    return suffix


def export_model(problem: LinearProblem, path: str | Path) -> Path:
    """Write ``problem`` to ``path`` (``.mps`` or ``.lp``, chosen by the suffix)."""
    path = Path(path)
    suffix = check_format(path)
    text = mps_text(problem)
    with atomic_path(path) as tmp:
        if suffix == ".mps":
            Path(tmp).write_text(text, encoding="utf-8")
        else:
            _lp_by_highs(text, Path(tmp))
    return path


def _lp_by_highs(mps: str, target: Path) -> None:
    import tempfile

    import highspy

    from attain.solvers.base import native_output

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "model.mps"
        source.write_text(mps, encoding="utf-8")
        out = Path(tmp) / "model.lp"
        with native_output(False):
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.readModel(str(source))
            h.writeModel(str(out))
        target.write_bytes(out.read_bytes())


def _names(given: tuple[str, ...], n: int, prefix: str) -> list[str]:
    if len(given) != n:
        return [f"{prefix}{i}" for i in range(n)]
    names = [(_BAD.sub("_", s) or f"{prefix}{i}") for i, s in enumerate(given)]
    seen: dict[str, int] = {}
    out = []
    for name in names:
        k = seen.get(name, 0)
        seen[name] = k + 1
        out.append(name if k == 0 else f"{name}~{k}")
    return out


def _num(v: float) -> str:
    return repr(float(v))


def mps_text(problem: LinearProblem) -> str:
    """``problem`` in free MPS (objective row ``obj``; its offset as the objective's RHS)."""
    rows = _names(problem.row_names, problem.n_rows, "r")
    cols = _names(problem.col_names, problem.n_cols, "x")
    lo, hi = problem.row_lower, problem.row_upper
    kind = np.where(
        lo == hi,
        "E",
        np.where(np.isfinite(lo), "G", np.where(np.isfinite(hi), "L", "N")),
    )
    out = ["NAME attain", "ROWS", " N obj"]
    out += [f" {k} {r}" for k, r in zip(kind.tolist(), rows, strict=True)]
    out.append("COLUMNS")
    csc = problem.A.to_csc()
    integer = (
        problem.integrality.astype(bool)
        if problem.integrality is not None
        else np.zeros(problem.n_cols, bool)
    )
    in_marker = False
    for j in range(problem.n_cols):
        if integer[j] != in_marker:
            out.append(f" M{j} 'MARKER' '{'INTORG' if integer[j] else 'INTEND'}'")
            in_marker = bool(integer[j])
        name = cols[j]
        if problem.c[j] != 0:
            out.append(f" {name} obj {_num(problem.c[j])}")
        start, stop = csc.indptr[j], csc.indptr[j + 1]
        out += [
            f" {name} {rows[i]} {_num(v)}"
            for i, v in zip(
                csc.indices[start:stop].tolist(), csc.data[start:stop].tolist(), strict=True
            )
        ]
        if problem.c[j] == 0 and start == stop:
            out.append(f" {name} obj 0.0")  # every column is declared
    if in_marker:
        out.append(f" M{problem.n_cols} 'MARKER' 'INTEND'")
    out.append("RHS")
    if problem.offset:
        out.append(f" rhs obj {_num(-problem.offset)}")
    rhs = np.where(kind == "L", hi, lo)
    for i in np.flatnonzero((kind != "N") & (rhs != 0)).tolist():
        out.append(f" rhs {rows[i]} {_num(rhs[i])}")
    ranged = np.flatnonzero((kind == "G") & np.isfinite(hi))
    if len(ranged):
        out.append("RANGES")
        out += [f" rng {rows[i]} {_num(hi[i] - lo[i])}" for i in ranged.tolist()]
    out.append("BOUNDS")
    for j in range(problem.n_cols):
        cl, cu = problem.col_lower[j], problem.col_upper[j]
        name = cols[j]
        if cl == cu:
            out.append(f" FX bnd {name} {_num(cl)}")
            continue
        if not np.isfinite(cl) and not np.isfinite(cu):
            out.append(f" FR bnd {name}")
            continue
        if not np.isfinite(cl):
            out.append(f" MI bnd {name}")
        elif cl != 0 or integer[j]:
            out.append(f" LO bnd {name} {_num(cl)}")
        if np.isfinite(cu):
            out.append(f" UP bnd {name} {_num(cu)}")
        elif integer[j]:
            out.append(f" PL bnd {name}")
    out.append("ENDATA")
    return "\n".join(out) + "\n"
