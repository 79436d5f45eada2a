"""Contiguity (one connected territory per rep), soft bands and the default time limit,
on cases small enough to solve by hand (the answers are worked in each docstring)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attain import InfeasibleError
from attain.schema.territory import DEFAULT_TIME_LIMIT, TerritoryRules
from attain.territory import align
from attain.territory.model import components
from tests.test_territory_model import KM_PER_DEGREE, owners, rules, tiny


def _with_files(company, tmp_path, **frames):
    for name, frame in frames.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    return type(company)(**{**company.__dict__, "root": tmp_path})


def _connected(a, adjacency: pd.DataFrame) -> bool:
    """Each rep's units are one component (a slow, obviously-correct search)."""
    rep = owners(a)
    edges = {u: set() for u in rep}
    for u, v in zip(adjacency["unit_id"], adjacency["neighbour_id"], strict=True):
        edges[u].add(v)
        edges[v].add(u)
    for r in set(rep.values()):
        mine = {u for u, o in rep.items() if o == r}
        seen, todo = set(), [min(mine)]
        while todo:
            u = todo.pop()
            if u not in seen:
                seen.add(u)
                todo += [v for v in edges[u] if v in mine]
        if seen != mine:
            return False
    return True


PATH = pd.DataFrame(
    {"unit_id": ["U1", "U2", "U3", "U4", "U5"], "neighbour_id": ["U2", "U3", "U4", "U5", "U6"]}
)


@pytest.mark.parametrize("solver", ["highs", "cpsat"])
def test_two_islands_are_not_a_territory(tmp_path, solver):
    """A path U1–U2–U3–U4–U5–U6 that geography does not follow: offices at 0° and 1°, units
    at 0.0°, 0.1°, 0.9°, 1.0°, 0.1°, 0.05°. Least travel gives R1 {U1, U2} and {U5, U6}
    (0 + 0.1 + 0.1 + 0 + 0.1 + 0.05 = 0.35°): two islands of two units, each unit with a
    neighbour of its rep, so "no isolated unit" allows it. Connected territories on a path
    are a prefix and a suffix; with at least one unit each (k = units of the prefix):
    R1 prefix k=2: 0 + 0.1 | 0.1 + 0 + 0.9 + 0.95 = 2.05° (best); R2 prefix of 4:
    1 + 0.9 + 0.1 + 0 | 0.1 + 0.05 = 2.15°; R1 prefix of 5: 0 + 0.1 + 0.9 + 1 + 0.1 | 0.95
    = 3.05°; the others cost more. So R1 {U1, U2}, R2 {U3, U4, U5, U6}, 2.05°."""
    lon = [0.0, 0.1, 0.9, 1.0, 0.1, 0.05]
    company = tiny([0.0, 1.0], [("R1" if x < 0.5 else "R2", x, 1) for x in lon])
    company = _with_files(company, tmp_path, adj=PATH)
    band = [{"measure": "units", "min": 1, "relative": False}]
    free = align(rules(balance=band), company, solver=solver)
    assert free.goals["distance_km"] == pytest.approx(0.35 * KM_PER_DEGREE, abs=0.01)
    assert not _connected(free, PATH)
    a = align(
        rules(balance=band, contiguity=True, units={"adjacency": "adj.csv"}),
        company,
        solver=solver,
    )
    assert owners(a) == {"U1": "R1", "U2": "R1", "U3": "R2", "U4": "R2", "U5": "R2", "U6": "R2"}
    assert a.goals["distance_km"] == pytest.approx(2.05 * KM_PER_DEGREE, abs=0.01)
    assert a.summary["solve"]["contiguity_cuts"] >= 1


def _grid_case(tmp_path):
    """The 3 × 3 grid of bricks B1..B9 (row by row) with a distance table: R1 is 0 km from the
    corners, 10 km from B2, B6, B5 and 11 km from B4, B8; R2 is 0 km from the edges and the
    centre, 10 km from the corners."""
    ids = [f"B{i}" for i in range(1, 10)]
    corner = {"B1", "B3", "B7", "B9"}
    r1 = {u: 0.0 if u in corner else (11.0 if u in {"B4", "B8"} else 10.0) for u in ids}
    r2 = {u: 10.0 if u in corner else 0.0 for u in ids}
    km = pd.DataFrame(
        {
            "unit_id": ids * 2,
            "rep_id": ["R1"] * 9 + ["R2"] * 9,
            "distance": [r1[u] for u in ids] + [r2[u] for u in ids],
        }
    )
    bricks = pd.DataFrame({"unit_id": ids, "rep_id": ["R1"] * 4 + ["R2"] * 5, "workload": 1.0})
    edges = [(1, 2), (2, 3), (4, 5), (5, 6), (7, 8), (8, 9), (1, 4), (4, 7)]
    edges += [(2, 5), (5, 8), (3, 6), (6, 9)]
    adj = pd.DataFrame({"unit_id": [f"B{a}" for a, _ in edges]})
    adj["neighbour_id"] = [f"B{b}" for _, b in edges]
    company = tiny([0.0, 1.0], [("R1", 0.0, 1)])
    return _with_files(company, tmp_path, bricks=bricks, km=km, adj=adj), adj


def test_grid_with_connected_territories(tmp_path, solver="highs"):
    """On the grid of :func:`_grid_case`, each rep takes 4 or 5 bricks. Without contiguity R1
    takes the four corners and R2 the rest: 0 km, but R1's corners touch nothing of R1.

    Connected, R1 holding c corners and k other bricks costs 10 · (4 − c) for the corners R2
    must take plus R1's distances to its k others. Corners are pairwise apart: joining two
    takes the edge brick between them, all four would take 7 bricks (> 5). Three corners
    and two edge bricks (5 bricks) are the cheapest: B1 B2 B3 B6 B9 costs 10 (B7 to R2) +
    10 + 10 = 30; B3 B6 B9 B8 B7 and B7 B4 B1 B2 B3 cost 31; B9 B8 B7 B4 B1 costs 32. Two
    corners need 2 other bricks: at least 20 + 20 = 40. R2 keeps B4 B5 B7 B8: connected."""
    company, adj = _grid_case(tmp_path)
    base = rules(
        units={"file": "bricks.csv", "distances": "km.csv", "adjacency": "adj.csv"},
        balance=[{"measure": "units", "min": 4, "max": 5, "relative": False}],
    )
    free = align(base, company, solver=solver)
    assert free.goals["distance_km"] == 0 and not _connected(free, adj)
    a = align({**base, "contiguity": True}, company, solver=solver)
    got = owners(a)
    assert sorted(u for u, r in got.items() if r == "R1") == ["B1", "B2", "B3", "B6", "B9"]
    assert a.goals["distance_km"] == pytest.approx(30.0)
    assert _connected(a, adj)


def test_components_by_label_propagation():
    """Owners on the path 0–1–2–3–4–5: A A B A A -1 → components {0,1}, {2}, {3,4}, {5}."""
    starts = np.array([0, 1, 3, 5, 7, 9, 10])
    nbr = np.array([1, 0, 2, 1, 3, 2, 4, 3, 5, 4])
    label = components(starts, nbr, np.array([0, 0, 1, 0, 0, -1]))
    assert label.tolist() == [0, 0, 2, 3, 3, 5]


def test_soft_band_with_a_priority_bends_as_little_as_possible():
    """The infeasible band of test_territory_model made soft: two reps must each carry a
    workload of at least 3 but the units add up to 5, so it bends by at least 6 − 5 = 1.
    R1 (office 0°) owns three units at 0.1°, R2 (office 1°) two at 0.9°: keeping them bends
    R2 by 1 (2 < 3) and travel stays 5 × 0.1°; any move bends as much and travels more."""
    company = tiny([0.0, 1.0], [("R1", 0.1, 1)] * 3 + [("R2", 0.9, 1)] * 2)
    band = {"name": "workload_floor", "measure": "workload", "min": 3, "relative": False}
    a = align(rules(balance=[{**band, "soft": True}]), company)
    assert a.units_moved == 0
    assert a.goals["distance_km"] == pytest.approx(0.5 * KM_PER_DEGREE, abs=0.01)
    (bent,) = a.summary["bent_soft_rules"]
    assert bent["rule"] == "workload_floor" and bent["priority"] == 1
    assert bent["bent"] == 1 and bent["n_bent"] == 1 and bent["reps"] == {"R2": 1}
    assert bent["bent_means"] == pytest.approx(0.4)  # 1 of the mean 2.5
    reps = a.reps.set_index("rep_id")
    assert reps.loc["R2", "workload_floor_bent"] == 1
    assert reps.loc["R2", "workload_floor_binding"] == "bent min"


@pytest.mark.parametrize(("penalty", "moved"), [(100.0, 1), (50.0, 0)])
def test_soft_band_with_a_penalty_is_priced(penalty, moved):
    """test_balance_forces_a_move with a soft band: R1 holds 3 units, its max is 1.25 × the
    mean 2 = 2.5, so keeping them bends it by 0.5 = 0.25 means. Moving U3 (the cheapest)
    costs 0.2° = 22.24 km. At a penalty of 100 per mean the bend costs 25 > 22.24: U3 moves;
    at 50 it costs 12.5 < 22.24: nothing moves and the band is reported bent by 0.5."""
    company = tiny([0.0, 1.0], [("R1", 0.1, 1), ("R1", 0.2, 1), ("R1", 0.4, 1), ("R2", 0.9, 1)])
    band = {"measure": "units", "max": 1.25, "soft": True, "penalty": penalty}
    a = align(rules(balance=[band]), company)
    assert a.units_moved == moved
    (bent,) = a.summary["bent_soft_rules"]
    assert bent["bent"] == (0 if moved else 0.5) and bent["penalty"] == penalty
    if moved:
        assert owners(a)["U3"] == "R2"


def test_soft_fields_are_spelled_as_in_allocation():
    with pytest.raises(ValueError, match="add `soft: true`"):
        TerritoryRules.model_validate(
            {"kind": "territory", "balance": [{"measure": "units", "max": 1.2, "priority": 2}]}
        )
    with pytest.raises(ValueError, match="not both"):
        TerritoryRules.model_validate(
            {
                "kind": "territory",
                "balance": [{"max": 1.2, "soft": True, "priority": 1, "penalty": 3}],
            }
        )


def test_one_distance_table_at_a_time():
    with pytest.raises(ValueError, match="not both"):
        TerritoryRules.model_validate(
            {"kind": "territory", "units": {"distances": "a.csv", "unit_distances": "b.csv"}}
        )


def test_default_time_limit_is_reported():
    """No `time_limit` in the rules: each solve gets 60 s, and summary.json says so."""
    assert TerritoryRules().time_limit == DEFAULT_TIME_LIMIT == 60.0
    company = tiny([0.0, 1.0], [("R1", 0.1, 1), ("R2", 0.9, 1)])
    r = {"kind": "territory", "candidates": {"nearest": None}}
    summary = align(r, company).summary
    assert summary["solve"]["time_limit"] == 60.0 and summary["gap"] <= 1e-4
    assert align({**r, "time_limit": None}, company).summary["solve"]["time_limit"] is None


@st.composite
def grid_instances(draw):
    """A 3 × 4 grid of units on the equator (0.1° apart), 2 or 3 reps with offices on it,
    random owners and workloads, a relative workload band."""
    n_reps = draw(st.integers(2, 3))
    offices = [0.1 * draw(st.integers(0, 11)) for _ in range(n_reps)]
    owner = draw(st.lists(st.integers(1, n_reps), min_size=12, max_size=12))
    work = draw(st.lists(st.integers(1, 3), min_size=12, max_size=12))
    units = [(f"R{o}", 0.1 * i, float(w)) for i, (o, w) in enumerate(zip(owner, work, strict=True))]
    band = draw(st.sampled_from([None, (0.5, 1.5), (0.8, 1.2)]))
    return tiny(offices, units), band


def _grid_adjacency() -> pd.DataFrame:
    idx = np.arange(12).reshape(3, 4)
    a = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()])
    b = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()])
    return pd.DataFrame(
        {"unit_id": [f"U{i + 1}" for i in a], "neighbour_id": [f"U{i + 1}" for i in b]}
    )


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid_instances())
def test_contiguity_holds_on_random_grids(tmp_path_factory, case):
    """Every territory is connected (or the rules are infeasible, with reasons), and HiGHS
    and CP-SAT agree on the optimum (CP-SAT runs in a child process beside HiGHS, so few
    examples)."""
    company, band = case
    adj = _grid_adjacency()
    company = _with_files(company, tmp_path_factory.mktemp("grid"), adj=adj)
    r = rules(contiguity=True, units={"adjacency": "adj.csv"})
    if band:
        r["balance"] = [{"measure": "workload", "min": band[0], "max": band[1]}]
    try:
        h = align(r, company, solver="highs")
    except InfeasibleError as err:
        assert err.conflicts
        return
    assert _connected(h, adj)
    c = align(r, company, solver="cpsat")
    assert _connected(c, adj)
    assert c.goals["distance_km"] == pytest.approx(h.goals["distance_km"], rel=1e-6, abs=1e-3)


def test_unit_by_unit_distances_measure_compactness(tmp_path):
    """A unit × unit table instead of coordinates: U1–U2 1 km, U1–U3 5, U1–U4 6, U2–U3 4,
    U2–U4 5, U3–U4 1, U5–U1 3, U5–U2 2, U5–U3 3, U5–U4 4. R1 owns U1, U2: its home (medoid)
    is U1 (sums 1 and 1, tie to the lowest id). R2 owns U3, U4, U5: sums 1 + 3 = 4,
    1 + 4 = 5, 3 + 4 = 7, so its home is U3. Workloads are 0.5, 0.5, 1, 1, 1 and each rep
    may carry 2.5, so one of R2's units leaves (R1 then has 2): U3 or U4
    to R1 costs 5 − 0 or 6 − 1 = +5 km, U5 costs 3 − 3 = 0. U5 goes to R1; travel
    0 + 1 + 0 + 1 + 3 = 5 km."""
    company = tiny([0.0, 1.0], [("R1", 0.0, 1)])
    bricks = pd.DataFrame(
        {"unit_id": ["U1", "U2", "U3", "U4", "U5"], "rep_id": ["R1", "R1", "R2", "R2", "R2"]}
    ).assign(workload=[0.5, 0.5, 1.0, 1.0, 1.0])
    pairs = [("U1", "U2", 1), ("U1", "U3", 5), ("U1", "U4", 6), ("U2", "U3", 4)]
    pairs += [("U2", "U4", 5), ("U3", "U4", 1), ("U5", "U1", 3), ("U5", "U2", 2)]
    pairs += [("U5", "U3", 3), ("U5", "U4", 4)]
    km = pd.DataFrame(pairs, columns=["unit_id", "other_id", "distance"])
    company = _with_files(company, tmp_path, bricks=bricks, km=km)
    r = rules(
        units={"file": "bricks.csv", "unit_distances": "km.csv"},
        capacity={"max_workload": 2.5},
    )
    a = align(r, company)
    assert a.assignment.set_index("unit_id").loc["U5", "rep_id"] == "R1"
    assert a.units_moved == 1
    assert a.goals["distance_km"] == pytest.approx(5.0)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_fractional_cuts_are_broken_by_the_point_and_kept_by_every_territory(
    tmp_path_factory, seed
):
    """On the 3 × 4 grid, a random fractional point (each unit's shares a Dirichlet draw):
    every cut :meth:`fractional_cuts` adds is broken by the point by more than the
    tolerance, and kept by every assignment whose territories are all connected
    (all 2¹² of them for two reps; one component per rep)."""
    from itertools import product

    from attain.territory.align import compile_territory
    from attain.territory.model import FRACTIONAL_TOL

    rng, n_reps = np.random.default_rng(seed), 2
    units = [(f"R{1 + i % n_reps}", 0.1 * i, 1.0) for i in range(12)]
    company = tiny([0.1 * i for i in range(n_reps)], units)
    company = _with_files(company, tmp_path_factory.mktemp("frac"), adj=_grid_adjacency())
    r = TerritoryRules.model_validate(rules(contiguity=True, units={"adjacency": "adj.csv"}))
    model, _, _ = compile_territory(r, company)
    pairs = model.pairs
    before = len(model.blocks)
    x = fractional_point(pairs, rng)
    n_cut = model.fractional_cuts(x)
    assert n_cut == sum(b.n_rows for b in model.blocks[before:])
    if not n_cut:
        return
    a, rows = cut_rows(model, before)
    assert (row_values(a, rows, pairs, x) > a.problem.row_upper[rows] + FRACTIONAL_TOL).all()
    starts, nbr = model.adjacency
    for owner in product(range(n_reps), repeat=12):
        owner = np.asarray(owner)
        label = components(starts, nbr, owner)
        if len(np.unique(label)) != len(np.unique(owner)):
            continue  # some territory is split
        assert_kept_by(a, rows, pairs, owner)


def fractional_point(pairs, rng) -> np.ndarray:
    """A point of the pair columns: each unit's shares over its reps a Dirichlet draw."""
    x = np.zeros(pairs.n)
    for u in np.unique(pairs.unit):
        mine = np.flatnonzero(pairs.unit == u)
        x[mine] = rng.dirichlet(np.full(len(mine), 0.4))
    return x


def cut_rows(model, before: int):
    """The assembled model and the rows of its blocks from ``before`` on (the cuts)."""
    a = model.assemble()
    return a, np.concatenate([a.rows_of(i) for i in range(before, len(model.blocks))])


def row_values(a, rows: np.ndarray, pairs, x: np.ndarray) -> np.ndarray:
    """The left-hand sides of ``rows`` at the pair values ``x`` (other columns 0)."""
    return a.problem.A.matvec(np.r_[x, np.zeros(a.problem.n_cols - pairs.n)])[rows]


def assert_kept_by(a, rows: np.ndarray, pairs, owner: np.ndarray) -> None:
    """The assignment ``owner`` (a rep per unit) keeps every row of ``rows``."""
    x = (pairs.rep == owner[pairs.unit]).astype(float)
    assert (row_values(a, rows, pairs, x) <= a.problem.row_upper[rows] + 1e-9).all()
