"""Why each target is what it is: binding rules, what relaxing them is worth, fairness figures.

A row *binds* when its activity sits on a bound. Its dual times its
sensitivity — how far the bound moves per point (0.01) of the rule's
parameter — is a level's change for one more point of that rule. It is read
twice: from the first fairness level's LP ("one more point of growth cap for
team X lowers the worst gap by …"), and, when the objective has more than one
level, from the last level's LP, where the earlier levels' optima are held as
rows ("… lowers the mean gap by …, the worst gap held"). Few rows bind the
first level — only the reps that set the worst gap — so the second figure is
the one that explains most reps. Fairness is measured, not asserted: the
spread and worst case of target ÷ fair share, the Gini of target ÷ potential,
and counts of reps held by each kind of rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from attain.allocate.build import AllocationModel, rep_of_col
from attain.allocate.solve import Solution
from attain.model import BIND_TOL
from attain.model import binding as core_binding
from attain.model import binding_frame as core_binding_frame

__all__ = ["Binding", "analyse", "binding_frame", "fairness_figures", "gini"]

BENT_TOL = 1e-6


@dataclass
class Binding:
    """Per row of the assembled problem: activity, which bound binds, bent amount, worth."""

    activity: np.ndarray
    at_lower: np.ndarray
    at_upper: np.ndarray
    bent: np.ndarray
    """Per row, currency by which a soft row was bent (0 for hard rows)."""
    worth: np.ndarray
    """Per row, first fairness level's change for one more point of the rule (≤ 0 helps)."""
    worth_last: np.ndarray | None = None
    """Per row, the last objective level's change for one more point of the rule, the
    earlier levels held at their optima (≤ 0 helps); ``None`` when the objective has one
    level (the first level is the last: see ``worth``)."""
    rows: Any = None
    """The core's :class:`attain.model.Binding` these figures come from."""


def analyse(model: AllocationModel, solution: Solution) -> Binding:
    """The core's binding analysis (:func:`attain.model.binding`) read as allocation levers.

    A level's dual is ∂(its objective, in its own units)/∂(row bound) — solve_lexicographic
    multiplies the normalised level's duals back by its ``norm`` — ≤ 0 at an upper bound
    and ≥ 0 at a lower one (HiGHS, minimising), so a binding row's worth is ≤ 0.
    Bends below a millionth of the mean rep target are solver tolerance, not a decision.
    """
    a = solution.assembled
    core = core_binding(model, a, solution.x_scaled, BIND_TOL, BENT_TOL * model.money)
    worth = core.worth(solution.primary_duals)
    worth_last = None
    fair = [lv for lv in solution.levels if not lv.name.startswith("soft:")]
    if len(fair) > 1:  # with one level the last is the first: ``worth`` says it all
        # The last level's LP holds every earlier level's optimum as a row (appended after
        # the model's rows; its duals cover the model's rows only), so its worth is the
        # change with the earlier levels held. (The tie-breaks are a level of their own,
        # after it: no worth here is theirs.)
        worth_last = core.worth(fair[-1].duals)
    return Binding(core.activity, core.at_lower, core.at_upper, core.bent, worth, worth_last, core)


def binding_frame(model: AllocationModel, solution: Solution, binding: Binding) -> pd.DataFrame:
    """Every binding or bent rule row, labelled (rule × unit): the core's frame with the
    unit names of each level and the two worth figures."""
    inputs = model.inputs

    def names(level: str, units: np.ndarray) -> np.ndarray:
        if level == "company":
            return np.full(len(units), "company", dtype=object)
        return np.asarray(inputs.unit_names[level], dtype=object)[units]

    worth = {"worth_per_point": binding.worth}
    if binding.worth_last is not None:
        worth["last_worth_per_point"] = binding.worth_last
    return core_binding_frame(model, solution.assembled, binding.rows, names, worth)


def rep_rules(model: AllocationModel, solution: Solution, binding: Binding) -> pd.DataFrame:
    """Pairs (rep, rule) for every binding or bent rule row that covers the rep."""
    a = solution.assembled
    # The company target binds everyone by construction, and a company-wide rule binds for
    # the company, not for any one rep (it is in the rules frame): neither explains a rep.
    is_rule = np.array(
        [b.is_rule and b.kind != "company_target" and b.level != "company" for b in model.blocks]
    )[a.row_block]
    active = is_rule & (binding.at_lower | binding.at_upper | (binding.bent > 0))
    rows = np.flatnonzero(active)
    A = a.problem.A
    counts = np.diff(A.indptr)[rows]
    entry = (
        np.concatenate([np.arange(A.indptr[r], A.indptr[r + 1]) for r in rows])
        if len(rows)
        else np.zeros(0, int)
    )
    row_of = np.repeat(rows, counts)
    cols = A.indices[entry]
    reps = rep_of_col(model.inputs, cols)
    keep = reps >= 0
    frame = pd.DataFrame(
        {
            "rep": reps[keep],
            "block": a.row_block[row_of[keep]],
            "worth": binding.worth[row_of[keep]],
            "worth_last": (
                binding.worth_last[row_of[keep]]
                if binding.worth_last is not None
                else np.zeros(int(keep.sum()))
            ),
            "row": row_of[keep],
        }
    )
    return frame.drop_duplicates(["rep", "block", "row"])


def gini(values: np.ndarray) -> float:
    v = np.sort(np.asarray(values, dtype=float))
    if len(v) == 0 or v.sum() <= 0:
        return 0.0
    n = len(v)
    return float((2 * np.arange(1, n + 1) - n - 1) @ v / (n * v.sum()))


def fairness_figures(
    targets: np.ndarray, fair: np.ndarray, potential: np.ndarray, counts: dict[str, int]
) -> dict[str, float | int]:
    """Spread and worst case of target ÷ fair share; Gini of target ÷ potential; rule counts."""
    has = fair > 0
    ratio = targets[has] / fair[has]
    pot = potential > 0
    out: dict[str, float | int] = {
        "max_gap": float(np.max(np.abs(ratio - 1))) if len(ratio) else 0.0,
        "mean_gap": float(np.mean(np.abs(ratio - 1))) if len(ratio) else 0.0,
        "ratio_min": float(ratio.min()) if len(ratio) else 0.0,
        "ratio_max": float(ratio.max()) if len(ratio) else 0.0,
        "ratio_p10": float(np.percentile(ratio, 10)) if len(ratio) else 0.0,
        "ratio_p90": float(np.percentile(ratio, 90)) if len(ratio) else 0.0,
        "spread": float(ratio.max() - ratio.min()) if len(ratio) else 0.0,
        "gini_target_to_potential": gini(targets[pot] / potential[pot]),
    }
    out.update(counts)
    return out
