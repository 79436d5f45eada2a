"""The solver-side reformulations reach the optimum of the model as built.

:class:`attain.allocate.solve.TieSubstitution` replaces the tie-break rows
``w >= |t − fair|`` by ``t = fair + u − d``, ``w = u + d``: every lexicographic
level must reach the same optimal value as the model's own rows, the solution
must satisfy the model's rows, and the duals of the first fairness level (the
explanation's "worth per point") must agree.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.allocate.build import build_model
from attain.allocate.inputs import prepare
from attain.allocate.solve import (
    Solution,
    assemble,
    deferred_rows,
    level_vectors,
    solve_lexicographic,
    substitutions,
)
from attain.allocate.toy import toy_company
from attain.load import load_rules
from attain.solvers import SolveOptions
from tests.test_allocate_staged import company, rich_rules


def _solve_both(rules, data):
    rules = load_rules(rules, kind="allocation")
    inputs = prepare(rules, data)
    terms = {t for lv in rules.objective for t in ([lv] if isinstance(lv, str) else lv)}
    model = build_model(inputs, terms)
    a = assemble(model)
    plain = solve_lexicographic(model, "highs", SolveOptions(), a, substitute=False)
    fast = solve_lexicographic(model, "highs", SolveOptions(), a, substitute=True)
    return model, a, plain, fast


def _same_levels(plain: Solution, fast: Solution) -> None:
    assert [lv.name for lv in fast.levels] == [lv.name for lv in plain.levels]
    for p, f in zip(plain.levels, fast.levels, strict=True):
        # Values are relative gaps; the solvers' own tolerances are ~1e-7 on them.
        assert f.value == pytest.approx(p.value, rel=1e-6, abs=1e-6), p.name


def test_substitutions_apply_to_the_rich_rules():
    model, a, _, _ = _solve_both(rich_rules(), company())
    subs, problem = substitutions(model, a)
    assert len(subs) == 1
    for name in ("mix_tie",):
        block = [i for i, b in enumerate(model.blocks) if b.name == name][0]
        rows = np.flatnonzero(a.row_block == block)
        # The rows are empty and free: nothing of them is left for the solver.
        assert (np.diff(problem.A.indptr)[rows] == 0).all()
        assert np.isinf(problem.row_lower[rows]).all()
        assert np.isinf(problem.row_upper[rows]).all()


def test_a_term_s_rows_wait_for_its_level():
    """minimax's rows join at the minimax level, l1's at the l1 level, the tie-break's at
    the last; the soft levels solve without any, and every level reaches the optimum of
    the model as built."""
    rules = load_rules(rich_rules(), kind="allocation")
    inputs = prepare(rules, company())
    model = build_model(inputs, {"minimax", "l1", "last_year"})
    a = assemble(model)
    names = [name for name, _ in level_vectors(model, a)]
    free = dict(zip(names, deferred_rows(model, a), strict=True))
    for name, rows in free.items():
        blocks = {model.blocks[i].name for i in np.unique(a.row_block[rows])}
        if name.startswith("soft:"):
            assert blocks == {"minimax", "l1", "last_year", "mix_tie"}, name
    assert {model.blocks[i].name for i in np.unique(a.row_block[free["minimax"]])} == {
        "l1",
        "last_year",
        "mix_tie",
    }
    assert len(free[names[-1]]) == 0
    every = solve_lexicographic(model, "highs", SolveOptions(), a, defer=False)
    deferred = solve_lexicographic(model, "highs", SolveOptions(), a)
    _same_levels(every, deferred)
    np.testing.assert_allclose(deferred.primary_duals, every.primary_duals, atol=1e-6)


def test_every_level_reaches_the_same_optimum_on_the_rich_rules():
    model, a, plain, fast = _solve_both(rich_rules(), company())
    _same_levels(plain, fast)
    # The substituted solution is a point of the model as built (w = |t - fair| included).
    assert a.problem.violation(fast.x_scaled) < 1e-6
    R, P = model.inputs.n_reps, model.inputs.n_products
    w = fast.x_scaled[model.tie_cols]
    t = fast.x_scaled[: R * P]
    fair = model.inputs.fair.ravel() / a.col_scale[: R * P]
    assert np.allclose(w, np.abs(t - fair))
    # The explanation's duals come from the first fairness level: they agree.
    np.testing.assert_allclose(fast.primary_duals, plain.primary_duals, atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(3, 9),
    objective=st.sampled_from(
        [["minimax", "l1"], [{"l1": 1.0, "last_year": 0.2}], ["l1"], ["minimax", "last_year"]]
    ),
)
def test_random_instances_reach_the_same_optimum(seed, n, objective):
    rng = np.random.default_rng(seed)
    pot = rng.uniform(20, 200, size=(n, 3))
    ly = pot * rng.uniform(0.6, 1.3, size=(n, 3))
    data = toy_company(
        pot,
        last_year=ly,
        regions=["N" if i % 2 else "S" for i in range(n)],
        teams=[("N" if i % 2 else "S") + str(i // 2 % 2) for i in range(n)],
        capacity=(pot.sum(axis=1) * rng.uniform(1.0, 1.6, size=n)).round().tolist(),
        tenure=rng.choice([2, 8, 30, 60], size=n).tolist(),
        season=[5, 6, 8, 7, 8, 9, 7, 6, 9, 9, 10, 16],
    )
    total = float(pot.sum() * rng.uniform(0.8, 1.0))
    rules = {
        "kind": "allocation",
        "company_target": {"total": round(total)},
        "fair_share": {"basis": "blend", "potential_weight": 0.5},
        "seasonality": {"source": "history", "tolerance": 0.02},
        "rules": [
            {"name": "cap", "type": "capacity"},
            {"name": "mix", "type": "mix", "level": "team", "product": "p2", "max": 0.5},
            {"name": "push", "type": "mix", "level": "company", "product": "p3", "min": 0.2},
        ],
        "objective": objective,
    }
    _, _, plain, fast = _solve_both(rules, data)
    if not isinstance(plain, Solution):
        assert not isinstance(fast, Solution)
        assert fast.status == plain.status
        return
    _same_levels(plain, fast)


def test_a_level_takes_the_lp_method_named_for_it(monkeypatch):
    """``methods`` sets one level's LP method (the re-plan's ``stay`` is solved by dual
    simplex); an lp_method the caller set stands."""
    import importlib

    module = importlib.import_module("attain.allocate.solve")
    rules = load_rules(rich_rules(), kind="allocation")
    model = build_model(prepare(rules, company()), {"minimax", "l1", "last_year"})
    seen: list[str | None] = []
    real = module.solve

    def spy(problem, solver, options):
        seen.append(options.lp_method)
        return real(problem, solver, options)

    monkeypatch.setattr(module, "solve", spy)
    names = [name for name, _ in level_vectors(model, assemble(model))]
    solve_lexicographic(model, "highs", SolveOptions(), methods={"minimax": "simplex"})
    assert seen == ["simplex" if n == "minimax" else None for n in names]
    seen.clear()
    solve_lexicographic(
        model, "highs", SolveOptions(lp_method="ipm"), methods={"minimax": "simplex"}
    )
    assert seen == ["ipm"] * len(names)


@pytest.mark.parametrize("cap", [1, 1e9])
def test_two_soft_levels_in_one_solve_reach_their_own_optima(cap):
    """A second soft rule (priority 2) after ``wish``: where ``wish`` can be met (a loose
    ``cap``) the two soft levels are one solve; where it cannot (a cap of 1), one solve
    each after the joint try. Every level reaches the optimum it reaches solved alone."""
    import importlib

    rules = rich_rules()
    rules["rules"][-1]["max"] = cap
    rules["rules"].append(
        {"name": "wish_2", "type": "bounds", "where": {"rep_id": "R003"}, "max": 120,
         "soft": True, "priority": 2}
    )  # fmt: skip
    rules = load_rules(rules, kind="allocation")
    inputs = prepare(rules, company())
    model = build_model(inputs, {"minimax", "l1", "last_year"})
    a = assemble(model)
    module = importlib.import_module("attain.allocate.solve")
    calls = []
    real = module.solve

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    module.solve = counted
    try:
        alone = solve_lexicographic(model, "highs", SolveOptions(), a, merge_soft=False)
        n_alone = len(calls)
        joint = solve_lexicographic(model, "highs", SolveOptions(), a)
    finally:
        module.solve = real
    assert [lv.name for lv in alone.levels][:2] == ["soft:1", "soft:2"]
    _same_levels(alone, joint)
    met = alone.levels[0].value < 1e-9
    assert met == (cap > 1e6)  # the loose cap is met; 1 is not
    assert len(calls) - n_alone == n_alone - (1 if met else -1)
    np.testing.assert_allclose(joint.primary_duals, alone.primary_duals, atol=1e-6)
