"""map.html: territories drawn as regions (nearest-unit cells per rep), a legend by team,
self-contained and byte-stable."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.territory.chart import _borders, _region_paths, render_html, territory_cells
from attain.territory.result import Alignment


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_each_cell_goes_to_the_owner_of_its_nearest_unit(n, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 100, n), rng.uniform(0, 60, n)
    owner = rng.integers(0, 5, n)
    grid = territory_cells(x, y, owner, 100, 60, 4.0)
    assert grid.shape == (15, 25)
    cy, cx = np.mgrid[0:15, 0:25]
    gx, gy = (cx.ravel() + 0.5) * 4, (cy.ravel() + 0.5) * 4
    d = np.hypot(gx[:, None] - x[None], gy[:, None] - y[None])  # slow, obvious reference
    nearest = d.argmin(axis=1)
    got = grid.ravel()
    inside = got >= 0
    # every drawn cell belongs to its nearest unit's owner (up to float32 near-ties)
    two = np.sort(d, axis=1)[:, :2]
    tie = (two[:, -1] - two[:, 0] < 1e-3) if n > 1 else np.zeros(len(gx), bool)
    assert np.all((got[inside] == owner[nearest][inside]) | tie[inside])
    # the cell of every unit is drawn
    ux, uy = np.minimum((x // 4).astype(int), 24), np.minimum((y // 4).astype(int), 14)
    assert np.all(grid[uy, ux] >= 0)


def test_region_paths_cover_exactly_the_owned_cells():
    grid = np.array([[0, 0, 1, -1], [0, 1, 1, -1], [2, 2, -1, -1]])
    paths = _region_paths(grid, 10.0)
    assert set(paths) == {0, 1, 2}

    def area(path: str) -> float:
        return sum(float(w) * 10 for w in re.findall(r"h(\d+)v", path))

    assert [area(paths[o]) for o in (0, 1, 2)] == [300, 300, 200]
    edges = _borders(grid, 10.0)
    assert edges.count("M") == len(re.findall(r"[vh]", edges))  # one segment per move
    assert "M40 0v10" not in edges  # no border between two blank cells


def _alignment() -> Alignment:
    rng = np.random.default_rng(1)
    units = [f"U{i}" for i in range(60)]
    reps = ["R1", "R2", "R3"]
    owner = np.repeat(reps, 20)
    lat = np.concatenate([rng.normal(c, 0.2, 20) for c in (48.0, 48.5, 49.0)])
    lon = np.concatenate([rng.normal(c, 0.3, 20) for c in (11.0, 12.0, 11.5)])
    assignment = pd.DataFrame(
        {"unit_id": units, "rep_id": owner, "previous_rep_id": np.roll(owner, 3)}
    )
    assignment["moved"] = assignment["rep_id"] != assignment["previous_rep_id"]
    rep_frame = pd.DataFrame(
        {
            "rep_id": reps,
            "units_before": [20, 20, 20],
            "units_after": [20, 20, 20],
            "gained": [3, 0, 0],
            "lost": [0, 3, 0],
            "workload": [10.0, 11.0, 9.0],
            "workload_before": [12.0, 8.0, 10.0],
        }
    )
    return Alignment(
        name="Test <re-cut>",
        status="optimal",
        solver="highs",
        gap=0.0,
        goals={"distance_km": 12.5, "disruption": 3.0, "units_moved": 3},
        objective={},
        assignment=assignment,
        moves=pd.DataFrame(),
        reps=rep_frame,
        bands=[{"name": "workload", "min": 8.0, "max": 12.0, "basis": "absolute", "soft": False}],
        model_size={},
        geometry={
            "unit_lat": lat,
            "unit_lon": lon,
            "office_lat": np.array([48.0, 48.5, 49.0]),
            "office_lon": np.array([11.0, 12.0, 11.5]),
        },
    )


def test_the_map_page_draws_regions_and_a_legend():
    alignment = _alignment()
    page = render_html(alignment)
    assert page == render_html(alignment)
    assert "<script" not in page and "Test &lt;re-cut&gt;" in page
    regions = re.findall(r'<path d="M[^"]+" fill="(#[0-9a-f]{6})"><title>(R\d)', page)
    assert sorted(r for _, r in regions) == ["R1", "R2", "R3"]  # one region per rep
    assert "Legend" in page and "A rep&#x27;s office" in page
    assert "Territories by rep" in page and "Workload per rep" in page
    assert 'class="budget"' in page  # the band's limits
