"""Connected territories proven within the gap under a cutoff: against the optimum over
every connected assignment of a 3 × 4 grid to two reps (all 2¹² enumerated)."""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attain import InfeasibleError
from attain.schema.territory import TerritoryRules
from attain.territory import align, contiguous
from attain.territory.align import compile_territory
from attain.territory.model import components
from tests.test_territory_contiguity import _connected, _grid_adjacency, _with_files
from tests.test_territory_model import owners, rules, tiny

GAP = 0.01


#: The objective of the banded rules: distance plus five per unit moved.
WEIGHTS = {"distance": 1.0, "disruption": 5.0}


def banded_rules() -> dict:
    """Connected territories on the grid's adjacency, workload within ±20%, the rules' gap."""
    return rules(
        contiguity=True,
        units={"adjacency": "adj.csv"},
        balance=[{"measure": "workload", "min": 0.8, "max": 1.2}],
        objective={"weights": WEIGHTS},
        mip_gap=GAP,
    )


def _optimum(model, weights) -> float:
    """The least objective over the connected assignments that keep every rule's rows (the
    contiguity rows and cuts left out: only connectedness itself is asked)."""
    a = model.assemble()
    c, offset = model.objective(weights, a)
    p, pairs = a.problem, model.pairs
    starts, nbr = model.adjacency
    rows = np.concatenate(
        [a.rows_of(i) for i, b in enumerate(model.blocks) if b.name != "contiguity"]
    )
    lo, hi = p.row_lower[rows], p.row_upper[rows]
    best = np.inf
    for owner in product(range(model.reps.n), repeat=model.units.n):
        owner = np.asarray(owner)
        if len(np.unique(components(starts, nbr, owner))) != len(np.unique(owner)):
            continue
        x = (pairs.rep == owner[pairs.unit]).astype(float)
        act = p.A.matvec(x)[rows]
        if (act >= lo - 1e-9).all() and (act <= hi + 1e-9).all():
            best = min(best, float(c @ x + offset))
    return best


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 11), min_size=2, max_size=2, unique=True),
    st.lists(st.integers(1, 3), min_size=12, max_size=12),
)
def test_the_gap_is_proven_on_connected_territories(tmp_path_factory, offices, work):
    """Two reps with offices on the grid, a workload band [0.8, 1.2] × mean and
    disruption priced: the answer is connected, reported within the gap, and within the
    gap of the true optimum over connected assignments (so its bound is a true bound)."""
    units = [(f"R{1 + (i * 7) % 2}", 0.1 * i, float(w)) for i, w in enumerate(work)]
    company = tiny([0.1 * o for o in offices], units)
    adj = _grid_adjacency()
    company = _with_files(company, tmp_path_factory.mktemp("cut"), adj=adj)
    r = banded_rules()
    try:
        a = align(r, company, solver="highs")
    except InfeasibleError as err:  # the band leaves no assignment: nothing to prove
        assert err.conflicts
        return
    assert _connected(a, adj) and a.status == "optimal" and a.gap <= GAP + 1e-12
    model, _, _ = compile_territory(TerritoryRules.model_validate(r), company)
    best = _optimum(model, WEIGHTS)
    got = a.goals["distance_km"] + 5.0 * a.goals["disruption"]
    assert best - 1e-6 <= got <= best + GAP * abs(got) + 1e-6
    assert len(owners(a)) == 12


def test_a_split_first_answer_is_proven_through_the_cutoff(tmp_path, monkeypatch):
    """Without contiguity the answer splits a territory; with it, the rough solves' cuts
    give a connected answer, the rules' gap is then proven under a cutoff (that path runs
    once), and the answer is the optimum over connected assignments."""
    calls = []
    real = contiguous.solve_connected
    monkeypatch.setattr(
        contiguous, "solve_connected", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    work = [1, 2, 1, 3, 1, 1, 2, 1, 1, 3, 1, 2]
    units = [(f"R{1 + i % 2}", 0.1 * i, float(w)) for i, w in enumerate(work)]
    company = _with_files(tiny([0.0, 0.3], units), tmp_path, adj=_grid_adjacency())
    r = banded_rules()
    free = align({**r, "contiguity": False}, company, solver="highs")
    assert not _connected(free, _grid_adjacency())
    a = align(r, company, solver="highs")
    assert calls == [1]
    assert _connected(a, _grid_adjacency()) and a.status == "optimal"
    model, _, _ = compile_territory(TerritoryRules.model_validate(r), company)
    got = a.goals["distance_km"] + 5.0 * a.goals["disruption"]
    assert got == pytest.approx(_optimum(model, WEIGHTS), abs=GAP * got + 1e-6)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 3), min_size=12, max_size=12))
def test_a_repair_is_connected_keeps_every_rule_and_moves_only_the_freed_units(
    tmp_path_factory, seed, work
):
    """Two reps on the grid, a split assignment that keeps the band: the repair's answer
    is connected, breaks no rule, costs no less than the optimum over connected
    assignments, and gives a unit another rep only if that unit is a split rep's or next
    to one of theirs (every other column is fixed)."""
    units = [(f"R{1 + i % 2}", 0.1 * i, float(w)) for i, w in enumerate(work)]
    company = tiny([0.0, 1.1], units)
    company = _with_files(company, tmp_path_factory.mktemp("repair"), adj=_grid_adjacency())
    model, _, _ = compile_territory(TerritoryRules.model_validate(banded_rules()), company)
    a = model.assemble()
    c, offset = model.objective(WEIGHTS, a)
    pairs, n = model.pairs, model.units.n
    starts, nbr = model.adjacency
    rows = np.concatenate(
        [a.rows_of(i) for i, b in enumerate(model.blocks) if b.name != "contiguity"]
    )
    lo, hi = a.problem.row_lower[rows], a.problem.row_upper[rows]
    rng = np.random.default_rng(seed)
    for _ in range(500):  # a split assignment that keeps every other row
        owner = rng.integers(0, 2, n)
        x = (pairs.rep == owner[pairs.unit]).astype(float)
        act = a.problem.A.matvec(x)[rows]
        if (
            (act >= lo - 1e-9).all()
            and (act <= hi + 1e-9).all()
            and (not contiguous.is_connected(model, x))
        ):
            break
    else:
        return  # the band leaves no split assignment: nothing to repair
    split = contiguous.split_reps(model, x)
    label = components(starts, nbr, owner)
    assert all(len(np.unique(label[owner == r])) > 1 for r in split)
    free = {u for u in range(n) if owner[u] in split}
    free |= {int(v) for u in free for v in nbr[starts[u] : starts[u + 1]]}
    model.contiguity_cuts(x)
    fixed, seconds = contiguous.repair(model, c, offset, [], "highs", x, None)
    if fixed is None:  # no connected answer in the neighbourhood (the rough rounds go on)
        return
    assert contiguous.is_connected(model, fixed) and not model.violations(fixed)
    assert seconds >= 0
    got = np.full(n, -1)
    got[pairs.unit[fixed[: pairs.n] > 0.5]] = pairs.rep[fixed[: pairs.n] > 0.5]
    assert {u for u in range(n) if got[u] != owner[u]} <= free
    assert float(c @ fixed + offset) >= _optimum(model, WEIGHTS) - 1e-6
