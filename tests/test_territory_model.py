"""Territory alignment on tiny companies solved by hand, and its hard rules as properties.

Every case puts reps' offices on the equator (org columns ``office_latitude`` and
``office_longitude``), so one degree of longitude is 111.195 km (2πR/360 with
R = 6371.0088 km) and distances can be checked with a pencil.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attain import InfeasibleError, RuleFileError, company_from_frames
from attain.territory import align

KM_PER_DEGREE = 111.19508
COMPANY = {
    "kind": "company",
    "name": "Tiny",
    "currency": "EUR",
    "fiscal_year": 2027,
    "hierarchy": ["region"],
    "products": ["core"],
    "tables": {"org": "org.csv", "accounts": "accounts.csv"},
}


def tiny(offices: list[float], units: list[tuple[str, float, float]], tenure=None, regions=None):
    """Reps R1.. at longitude ``offices``; units (owner, longitude, workload) on the equator."""
    n = len(offices)
    org = pd.DataFrame(
        {
            "rep_id": [f"R{i + 1}" for i in range(n)],
            "name": [f"Rep {i + 1}" for i in range(n)],
            "region": regions or ["East"] * n,
            "role": ["rep"] * n,
            "tenure_months": tenure or [24] * n,
            "capacity": [1e6] * n,
            "target_incentive": [1e4] * n,
            "office_latitude": [0.0] * n,
            "office_longitude": offices,
        }
    )
    accounts = pd.DataFrame(
        {
            "account_id": [f"U{i + 1}" for i in range(len(units))],
            "rep_id": [u[0] for u in units],
            "current_revenue": [1000.0 * (i + 1) for i in range(len(units))],
            "growth_coefficient": [1.0] * len(units),
            "workload": [u[2] for u in units],
            "latitude": [0.0] * len(units),
            "longitude": [u[1] for u in units],
        }
    )
    return company_from_frames(COMPANY, org=org, accounts=accounts)


def rules(**kw) -> dict:
    base = {"kind": "territory", "candidates": {"nearest": None}, "mip_gap": 0}
    base.update(kw)
    return base


def owners(alignment) -> dict[str, str]:
    return dict(zip(alignment.assignment["unit_id"], alignment.assignment["rep_id"], strict=True))


def test_balance_forces_a_move():
    """R1's office at 0°, R2's at 1°. R1 owns U1, U2, U3 at 0.1°, 0.2°, 0.4°; R2 owns U4 at 0.9°.

    Each rep may have at most 1.25 × the mean of 2 units = 2.5, so R1 must give one
    away. Moving U3 costs 0.6 − 0.4 = 0.2° of travel, U2 would cost 0.6°, U1 0.8°:
    U3 goes to R2. Total travel 0.1 + 0.2 + 0.6 + 0.1 = 1.0° = 111.195 km.
    """
    company = tiny([0.0, 1.0], [("R1", 0.1, 1), ("R1", 0.2, 1), ("R1", 0.4, 1), ("R2", 0.9, 1)])
    a = align(rules(balance=[{"measure": "units", "max": 1.25}]), company)
    assert owners(a) == {"U1": "R1", "U2": "R1", "U3": "R2", "U4": "R2"}
    assert a.goals["distance_km"] == pytest.approx(KM_PER_DEGREE, abs=0.01)
    assert a.units_moved == 1
    (reason,) = a.moves["reason"]
    assert reason.startswith("balance_units: R1 had 3, above max 2.5")


def test_disruption_limit_trades_off_distance():
    """R1 at 0°, R2 at 1°. R1 owns U1 at 0.9° and U2 at 0.8°; R2 owns U3 at 1.0°.

    Least travel moves both to R2: 0.1 + 0.2 + 0 = 0.3°. With at most one move, the
    better one is U1 (saves 0.8°, U2 would save 0.6°): 0.1 + 0.8 = 0.9°. With no
    move allowed: 0.9 + 0.8 = 1.7°.
    """
    company = tiny([0.0, 1.0], [("R1", 0.9, 1), ("R1", 0.8, 1), ("R2", 1.0, 1)])
    expected = {None: (0.3, 2), 1: (0.9, 1), 0: (1.7, 0)}
    for limit, (degrees, moved) in expected.items():
        a = align(rules(disruption={"measure": "units", "max": limit}), company)
        assert a.goals["distance_km"] == pytest.approx(degrees * KM_PER_DEGREE, abs=0.01)
        assert a.units_moved == moved
    a = align(rules(disruption={"measure": "units", "max": 1}), company)
    assert owners(a)["U1"] == "R2" and owners(a)["U2"] == "R1"


def test_infeasible_band_is_named_with_its_numbers():
    """Two reps must each carry a workload of at least 3, but the five units weigh 5 in all:
    2 × 3 = 6 > 5, so no assignment exists, and the error says exactly that."""
    company = tiny([0.0, 1.0], [("R1", 0.1, 1)] * 3 + [("R2", 0.9, 1)] * 2)
    band = {"name": "workload_floor", "measure": "workload", "min": 3, "relative": False}
    with pytest.raises(InfeasibleError) as err:
        align(rules(balance=[band]), company)
    (conflict,) = err.value.conflicts
    assert conflict == (
        "workload_floor: 2 reps × min 3 (absolute) = 6, but the units only add up to 5"
    )


def test_infeasible_by_deletion_filter_names_the_rules():
    """Each rep ≤ 2 units (capacity) and at most one move: R1's four units need two moves."""
    company = tiny([0.0, 1.0, 2.0], [("R1", 0.1, 1)] * 4 + [("R2", 1.0, 1), ("R3", 2.0, 1)])
    r = rules(capacity={"max_units": 2}, disruption={"measure": "units", "max": 1})
    with pytest.raises(InfeasibleError) as err:
        align(r, company)
    text = str(err.value)
    assert "disruption.max" in text and "capacity.max_units" in text


def test_locked_allowed_coverage_and_max_distance():
    """Offices at 0°, 1°, 2°. U1 (0.9°) is locked to R1 although R2 is nearer; U2 (0.1°) may
    only go to R3; U3 (1.1°, the largest revenue, so tier A) is R3's but R2, whose office
    it sits on, is too new for it; U4 (2.4°) is R1's, 266.9 km away, beyond max_distance
    250 km, so it must move: to R3, 44.5 km away."""
    company = tiny(
        [0.0, 1.0, 2.0],
        [("R1", 0.9, 1), ("R1", 0.1, 1), ("R3", 1.1, 1), ("R1", 2.4, 1)],
        tenure=[24, 3, 24],
    )
    company = type(company)(
        **{**company.__dict__, "accounts": company.accounts.assign(tier=["C", "C", "A", "C"])}
    )
    r = rules(
        locked=["U1"],
        allowed=[{"units": ["U2"], "reps": ["R3"]}],
        coverage=[{"tier": ["A"], "min_tenure_months": 12}],
        max_distance=250,
    )
    a = align(r, company)
    assert owners(a) == {"U1": "R1", "U2": "R3", "U3": "R3", "U4": "R3"}
    reasons = dict(zip(a.moves["unit_id"], a.moves["reason"], strict=True))
    assert reasons["U2"].startswith("forced: allowed")
    assert reasons["U4"].startswith("forced: max_distance: R1's office is 266.9 km away")


def test_unit_without_any_rep_is_explained():
    company = tiny([0.0, 1.0], [("R1", 0.0, 1), ("R2", 5.0, 1)])
    with pytest.raises(InfeasibleError) as err:
        align(rules(max_distance=100), company)
    assert "unit U2: no rep may take it — max_distance" in str(err.value)
    assert "444.8 km away, the limit is 100 km" in str(err.value)


def test_contiguity_keeps_units_next_to_a_neighbour(tmp_path):
    """Offices at 0° and 1°; the adjacency is a path U1–U2–U3–U4 that geography does not
    follow: U1 0.0°, U2 0.9°, U3 0.2°, U4 1.0°. Least travel (0 + 0.1 + 0.2 + 0 = 0.3°)
    gives U2 to R2 and U3 to R1, each then cut off from its rep's other units. The seeds
    (U1 for R1, U4 for R2) are exempt; the contiguous choices are U2, U3 both to R1
    (0.9 + 0.2 = 1.1°) or both to R2 (0.1 + 0.8 = 0.9°): the second wins, 0.9° in all."""
    company = tiny([0.0, 1.0], [("R1", 0.0, 1), ("R1", 0.9, 1), ("R1", 0.2, 1), ("R2", 1.0, 1)])
    adjacency = pd.DataFrame({"unit_id": ["U1", "U2", "U3"], "neighbour_id": ["U2", "U3", "U4"]})
    adjacency.to_csv(tmp_path / "adj.csv", index=False)
    company = type(company)(**{**company.__dict__, "root": tmp_path})
    free = align(rules(), company)
    assert free.goals["distance_km"] == pytest.approx(0.3 * KM_PER_DEGREE, abs=0.01)
    a = align(rules(contiguity=True, units={"adjacency": "adj.csv"}), company)
    assert owners(a) == {"U1": "R1", "U2": "R2", "U3": "R2", "U4": "R2"}
    assert a.goals["distance_km"] == pytest.approx(0.9 * KM_PER_DEGREE, abs=0.01)


def test_rule_errors_are_located():
    company = tiny([0.0, 1.0], [("R1", 0.1, 1), ("R2", 0.9, 1)])
    with pytest.raises(RuleFileError, match=r"balance\[0\]\.measure: the units have no"):
        align(rules(balance=[{"measure": "nonsense", "max": 1.5}]), company)
    with pytest.raises(RuleFileError, match="unknown unit `U9`"):
        align(rules(locked=["U9"]), company)


# --- properties -------------------------------------------------------------------------


@st.composite
def instances(draw):
    n_reps = draw(st.integers(2, 3))
    n_units = draw(st.integers(3, 7))
    offices = sorted(draw(st.lists(st.integers(0, 20), min_size=n_reps, max_size=n_reps)))
    units = [
        (
            f"R{draw(st.integers(1, n_reps))}",
            draw(st.integers(0, 20)) / 10,
            float(draw(st.integers(1, 3))),
        )
        for _ in range(n_units)
    ]
    company = tiny([o / 10 for o in offices], units)
    r = rules(
        balance=[
            {
                "measure": "workload",
                "min": draw(st.sampled_from([0.0, 0.5, 0.8])),
                "max": draw(st.sampled_from([1.2, 1.5, 2.0])),
            }
        ],
        capacity={"max_units": draw(st.integers(2, 5))},
        locked=draw(
            st.lists(
                st.sampled_from([f"U{i + 1}" for i in range(n_units)]), max_size=2, unique=True
            )
        ),
        disruption={"measure": "units", "max": draw(st.sampled_from([None, 1, 2, 4]))},
        max_distance=draw(st.sampled_from([None, 150.0, 250.0])),
        objective={"weights": {"distance": 1.0, "disruption": 10.0}},
    )
    return company, r


def _check_hard_rules(company, r, a) -> None:
    got = a.assignment
    assert got["rep_id"].notna().all() and len(got) == len(company.accounts)
    acc = company.accounts.set_index("account_id").loc[got["unit_id"]]
    workload = pd.Series(acc["workload"].to_numpy(), index=got["rep_id"]).groupby(level=0).sum()
    workload = workload.reindex(company.org["rep_id"], fill_value=0.0)
    mean = acc["workload"].sum() / len(company.org)
    band = r["balance"][0]
    assert (workload >= band["min"] * mean - 1e-6).all()
    assert (workload <= band["max"] * mean + 1e-6).all()
    assert got["rep_id"].value_counts().max() <= r["capacity"]["max_units"]
    locked = got.set_index("unit_id").loc[r["locked"]]
    assert not locked["moved"].any()
    if r["disruption"]["max"] is not None:
        assert got["moved"].sum() <= r["disruption"]["max"]
    if r["max_distance"] is not None:
        office = company.org.set_index("rep_id")["office_longitude"]
        km = np.abs(acc["longitude"].to_numpy() - office.loc[got["rep_id"]].to_numpy())
        assert (km * KM_PER_DEGREE <= r["max_distance"] + 1e-3).all()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_every_hard_rule_holds(case):
    company, r = case
    try:
        a = align(r, company, solver="highs")
    except InfeasibleError as err:
        assert err.conflicts  # infeasible is fine, but it must say why
        return
    _check_hard_rules(company, r, a)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_cpsat_and_highs_agree_on_the_optimum(case):
    company, r = case
    try:
        h = align(r, company, solver="highs")
    except InfeasibleError:
        with pytest.raises(InfeasibleError):
            align(r, company, solver="cpsat")
        return
    c = align(r, company, solver="cpsat")
    _check_hard_rules(company, r, c)
    cost = {k: x.goals["distance_km"] + 10 * x.goals["disruption"] for k, x in (("h", h), ("c", c))}
    assert cost["c"] == pytest.approx(cost["h"], rel=1e-6, abs=1e-3)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_sweep_points_are_mutually_non_dominated(case):
    company, r = case
    r = {**r, "sweep": {"minimise": "distance", "limit": "disruption", "points": 4}}
    r["disruption"] = {"measure": "units"}
    try:
        a = align(r, company, solver="highs")
    except InfeasibleError:
        return
    pts = a.pareto[["distance_km", "disruption"]].to_numpy()
    for i, p in enumerate(pts):
        for j, q in enumerate(pts):
            if i != j:
                assert not (np.all(q <= p + 1e-9) and np.any(q < p - 1e-9)), (p, q)


def test_geographic_units_with_a_distance_table(tmp_path):
    """Bricks B1..B3 from a units file, distances from a table (no coordinates). R1 may hold
    at most 2 units of workload; B3 is 5 km from R2 and 9 km from R1, so B3 goes to R2.
    A pair missing from the table (B1–R2) is no candidate."""
    company = tiny([0.0, 1.0], [("R1", 0.0, 1)])
    pd.DataFrame(
        {"unit_id": ["B1", "B2", "B3"], "rep_id": ["R1", "R1", "R1"], "workload": [1, 1, 1]}
    ).to_csv(tmp_path / "bricks.csv", index=False)
    pd.DataFrame(
        {
            "unit_id": ["B1", "B2", "B2", "B3", "B3"],
            "rep_id": ["R1", "R1", "R2", "R1", "R2"],
            "distance": [1.0, 2.0, 8.0, 9.0, 5.0],
        }
    ).to_csv(tmp_path / "km.csv", index=False)
    company = type(company)(**{**company.__dict__, "root": tmp_path})
    r = rules(
        units={"file": "bricks.csv", "distances": "km.csv"},
        capacity={"max_workload": 2},
    )
    a = align(r, company)
    assert owners(a) == {"B1": "R1", "B2": "R1", "B3": "R2"}
    assert a.goals["distance_km"] == pytest.approx(8.0)
    assert a.geometry is None


def test_centroid_offices_and_lexicographic_order():
    """Offices at the centre of each rep's units: R1 owns U1, U2, U5 at 0.0°, 0.2°, 0.8°
    (centre 0.333°), R2 owns U3, U4 at 0.9°, 1.1° (centre 1.0°). Fewest moves first keeps
    everything (0 moves); travel first moves U5 to R2 (0.2° instead of 0.467°)."""
    units = [("R1", 0.0, 1), ("R1", 0.2, 1), ("R2", 0.9, 1), ("R2", 1.1, 1), ("R1", 0.8, 1)]
    company = tiny([0.0, 0.0], units)
    centre = rules(offices="centroid")
    a = align({**centre, "objective": {"mode": "lexicographic", "order": ["disruption"]}}, company)
    assert a.units_moved == 0
    b = align({**centre, "objective": {"mode": "lexicographic", "order": ["distance"]}}, company)
    assert owners(b)["U5"] == "R2" and b.units_moved == 1


def test_cpsat_is_deterministic():
    """Ties everywhere (every unit on an office, equal workloads): equal runs, equal answers."""
    units = [(f"R{1 + i % 3}", float(i % 4), 1.0) for i in range(9)]
    company = tiny([0.0, 1.0, 2.0], units)
    r = rules(balance=[{"measure": "units", "min": 1.0, "max": 1.0}])
    runs = [align(r, company, solver="cpsat").assignment for _ in range(2)]
    pd.testing.assert_frame_equal(runs[0], runs[1])


@pytest.mark.parametrize("solver", ["highs", "cpsat"])
def test_measures_at_1e_7_resolution_decide_the_band(solver):
    """R1 at 0°, R2 at 1°. R1 owns U1, U2 (0.1°, 0.2°) of workload 0.50000004 each; R2 owns
    U3 (0.9°) of 0.5. Each rep may carry at most 1.00000005.

    R1's two units weigh 1.00000008: 3e-8 too much, so one must go, and U2 (nearer R2)
    does: R2 then carries 1.00000004. Rounded to 4 decimals (or within a solver's 1e-6
    tolerance) both would stay."""
    company = tiny([0.0, 1.0], [("R1", 0.1, 0.50000004), ("R1", 0.2, 0.50000004), ("R2", 0.9, 0.5)])
    band = {"measure": "workload", "max": 1.00000005, "relative": False}
    a = align(rules(balance=[band]), company, solver=solver)
    assert owners(a) == {"U1": "R1", "U2": "R2", "U3": "R2"}
    assert a.status == "optimal"
    work = company.accounts.set_index("account_id")["workload"]
    load = work.groupby(a.assignment.set_index("unit_id")["rep_id"]).sum()
    assert (load <= 1.00000005).all()


def test_a_units_column_named_potential_is_the_potential_measure(tmp_path):
    """A units file whose column is `potential` (not the accounts' `potential_value`)."""
    company = tiny([0.0, 1.0], [("R1", 0.0, 1)])
    pd.DataFrame(
        {
            "unit_id": ["B1", "B2", "B3", "B4"],
            "rep_id": ["R1", "R1", "R1", "R2"],
            "potential": [3.0, 1.0, 1.0, 1.0],
        }  # fmt: skip
    ).to_csv(tmp_path / "bricks.csv", index=False)
    company = type(company)(**{**company.__dict__, "root": tmp_path})
    r = rules(
        units={"file": "bricks.csv"},
        balance=[{"measure": "potential", "min": 0.5, "max": 1.5}],
        objective={"weights": {"disruption": 1.0}},
    )
    a = align(r, company)
    load = a.reps.set_index("rep_id")["balance_potential"]
    assert load.between(1.5, 4.5).all() and load.sum() == 6.0


def brute_front(company, r):
    """Every assignment of the units to the reps, checked against the band by hand; the
    non-dominated (distance, moves) pairs."""
    from attain.territory.geo import haversine

    acc, org = company.accounts, company.org
    n_reps = len(org)
    km = haversine(
        acc["latitude"].to_numpy()[:, None], acc["longitude"].to_numpy()[:, None],
        org["office_latitude"].to_numpy()[None, :], org["office_longitude"].to_numpy()[None, :],
    )  # fmt: skip
    owner = org["rep_id"].tolist()
    own = np.array([owner.index(o) for o in acc["rep_id"]])
    work = acc["workload"].to_numpy()
    lo, hi = (
        r["balance"][0]["min"] * work.sum() / n_reps,
        r["balance"][0]["max"] * work.sum() / n_reps,
    )
    points = set()
    for choice in itertools.product(range(n_reps), repeat=len(acc)):
        choice = np.array(choice)
        load = np.bincount(choice, weights=work, minlength=n_reps)
        if np.all(load >= lo - 1e-9) and np.all(load <= hi + 1e-9):
            points.add(
                (round(float(km[np.arange(len(acc)), choice].sum()), 6), int((choice != own).sum()))
            )
    return sorted(
        p for p in points
        if not any(q[0] <= p[0] and q[1] <= p[1] and q != p for q in points)
    )  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_step_front_equals_brute_force(seed):
    """Small instances (3 reps, 6 units): the ε-step walk finds every efficient point of
    (travel, units moved), and only those."""
    rng = np.random.default_rng(seed)
    offices = [0.0, 0.5, 1.0]
    units = [
        (f"R{rng.integers(1, 4)}", float(np.round(rng.uniform(0, 1), 3)), float(rng.integers(1, 4)))
        for _ in range(6)
    ]
    company = tiny(offices, units)
    r = rules(
        balance=[{"measure": "workload", "min": 0.5, "max": 1.5}],
        disruption={"measure": "units"},
        sweep={"minimise": "distance", "limit": "disruption", "step": 0.5},
    )
    expected = brute_front(company, r)
    a = align(r, company)
    got = sorted(
        (round(d, 6), int(round(m))) for d, m in a.pareto[["distance_km", "disruption"]].to_numpy()
    )
    assert [m for _, m in got] == [m for _, m in expected]
    assert [d for d, _ in got] == pytest.approx([d for d, _ in expected], abs=1e-3)
    assert a.solve_info["front_truncated"] is False


def test_grid_front_is_an_option_and_a_point_limit_cuts_the_walk():
    company = tiny([0.0, 1.0], [("R1", 0.9, 1), ("R1", 0.8, 1), ("R1", 0.7, 1), ("R2", 1.0, 1)])
    sweep = {"minimise": "distance", "limit": "disruption"}
    full = align(rules(disruption={"measure": "units"}, sweep=sweep), company)
    assert full.pareto["disruption"].tolist() == [0, 1, 2, 3]
    cut = align(rules(disruption={"measure": "units"}, sweep={**sweep, "points": 2}), company)
    assert len(cut.pareto) == 2 and cut.solve_info["front_truncated"] is True
    grid = align(
        rules(disruption={"measure": "units"}, sweep={**sweep, "mode": "grid", "points": 3}),
        company,
    )
    # ε at 3, 1.5 and 0 moves: the points of 3, 1 and 0 moves (the 2-move point is missed).
    assert grid.pareto["disruption"].tolist() == [0, 1, 3]


def test_binding_frame_names_the_band_and_rep():
    """R1 owns three of the four units and each rep may hold at most 2: both end with 2,
    so the capacity rule binds for R1 and for R2, at its upper bound."""
    company = tiny([0.0, 1.0], [("R1", 0.1, 1), ("R1", 0.2, 1), ("R1", 0.4, 1), ("R2", 0.9, 1)])
    a = align(rules(capacity={"max_units": 2}), company)
    frame = a.binding[a.binding["rule"] == "capacity.max_units"]
    assert sorted(frame["unit"]) == ["R1", "R2"]
    assert set(frame["side"]) == {"upper"}
