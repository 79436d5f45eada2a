"""Floor cuts: broken by the point they are found at, kept by every connected territory
that meets the band's floor (all 2¹² assignments of a 3 × 4 grid to two reps)."""

from __future__ import annotations

from itertools import product

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attain.schema.territory import TerritoryRules
from attain.territory.align import compile_territory
from attain.territory.floor import FLOOR_TOL, floor_cuts, floors
from attain.territory.model import components
from tests.test_territory_contiguity import (
    _grid_adjacency,
    _with_files,
    assert_kept_by,
    cut_rows,
    fractional_point,
    row_values,
)
from tests.test_territory_model import rules, tiny


def _model(tmp_path, work, low: float):
    units = [(f"R{1 + i % 2}", 0.1 * i, float(w)) for i, w in enumerate(work)]
    company = _with_files(tiny([0.0, 1.1], units), tmp_path, adj=_grid_adjacency())
    band = [{"measure": "workload", "min": low, "max": 2.0}]
    r = rules(contiguity=True, units={"adjacency": "adj.csv"}, balance=band)
    model, _, _ = compile_territory(TerritoryRules.model_validate(r), company)
    return model


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 2**32 - 1),
    st.lists(st.integers(1, 3), min_size=12, max_size=12),
    st.sampled_from([0.5, 0.8, 0.95]),
)
def test_floor_cuts_are_broken_by_the_point_and_kept_by_every_territory(
    tmp_path_factory, seed, work, low
):
    """A random fractional point (each unit's shares a Dirichlet draw): every floor cut
    found is broken by more than the tolerance, and kept by every assignment whose
    territories are connected and each carry at least ``low`` × the mean workload."""
    model = _model(tmp_path_factory.mktemp("floor"), work, low)
    pairs = model.pairs
    x = fractional_point(pairs, np.random.default_rng(seed))
    before = len(model.blocks)
    n_cut = floor_cuts(model, x)
    assert n_cut == sum(b.n_rows for b in model.blocks[before:])
    if not n_cut:
        return
    a, rows = cut_rows(model, before)
    assert (row_values(a, rows, pairs, x) > a.problem.row_upper[rows] + FLOOR_TOL).all()
    starts, nbr = model.adjacency
    w = model.bands[0].measure  # in the model's unit order
    for owner in product(range(2), repeat=12):
        owner = np.asarray(owner)
        if np.bincount(owner, weights=w, minlength=2).min() < low * w.sum() / 2:
            continue  # below the floor
        if len(np.unique(components(starts, nbr, owner))) != len(np.unique(owner)):
            continue  # some territory is split
        assert_kept_by(a, rows, pairs, owner)


def test_a_split_off_piece_below_the_floor_breaks_its_cut_by_one(tmp_path):
    """Unit workloads 1 (mean 6 a rep, floor 0.5 × 6 = 3): R1 holds the corner U1, U2
    (rows U1..U4, U5..U8, U9..U12) apart from U7, U8, U11, U12. The piece weighs 2 < 3,
    its border U3, U5, U6 is R2's, so the cut ``x[U1, R1] ≤ Σ border`` is broken by 1 —
    and the floor is the band's, lowered by the margin only (every unit has a
    neighbour)."""
    model = _model(tmp_path, [1] * 12, 0.5)
    measures, floor = floors(model)
    np.testing.assert_allclose(floor[0], 3.0 - 3e-7, rtol=0, atol=1e-12)
    pairs = model.pairs
    r1 = {"U1", "U2", "U7", "U8", "U11", "U12"}  # U1, U2 top left; U7.. further right
    owner = np.array([0 if u in r1 else 1 for u in model.units.ids])
    x = (pairs.rep == owner[pairs.unit]).astype(float)
    before = len(model.blocks)
    assert floor_cuts(model, x) >= 2
    a, rows = cut_rows(model, before)
    assert (row_values(a, rows, pairs, x) - a.problem.row_upper[rows] == 1.0).any()
