"""The simulator's fast paths give the bits of the plain ones.

Slices of reps in the evaluator's total path, the noisy profile shared by variants and
plans, two products per complex add in year-to-date sums, coarsen by one add per month,
a one-product SPIFF without the matmul, and the tornado's moved assumptions paid in the
plan's own run: each is checked against the computation it replaces, to the byte.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import attain.incentive.vectorised as vectorised
from attain.incentive.floats import accumulate
from attain.simulate.performance import (
    coarsen,
    noisy_profile,
    noisy_sales,
    noisy_sales_coarsened,
    reps_inner,
    sales_from,
)
from attain.simulate.runner import Job, _draw, _profiles, _sales_key, _total, run
from attain.simulate.sensitivity import _assumption_models, _means, _parameter_models
from attain.simulate.setup import load_setup
from attain.simulate.variants import BASE

ROOT = Path(__file__).resolve().parent.parent
PLANS = (
    "plan_field_rep.yaml",  # YTD monthly, four products, a cloud SPIFF on the deal model
    "plan_attainment_curve.yaml",  # quarterly, a gate on analytics, a cap, kickers
    "plan_draw.yaml",
    "plan_cloud_overlay.yaml",
    "plan_team_bonus.yaml",  # team pools: never sliced
)
NOISE = (
    "performance: {distribution: lognormal, sd: 0.2, month_sd: 0.1, mix_sd: 0.1, "
    "shocks: {company: 0.05, region: 0.03, team: 0.02}, bias_from_history: 0.5}\n"
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory, sample_company):
    folder = tmp_path_factory.mktemp("fast")
    history = sample_company.history
    last = history[history["month"].isin(sorted(history["month"].unique())[-12:])].copy()
    last["period"] = last["month"].str.replace("2026", "2027")
    last["target"] = (last["sales"] * 1.05).round(2)
    last[["rep_id", "period", "product", "target"]].to_csv(folder / "t.csv", index=False)
    plans = ", ".join(str(ROOT / "rules" / p) for p in PLANS)
    path = folder / "s.yaml"
    path.write_text(
        f"kind: scenario\nname: s\ncompany: {sample_company.root}\nplans: [{plans}]\n"
        f"targets: {{file: t.csv}}\ntrials: 40\n{NOISE}"
        "sensitivity: {trials: 10}\n"
    )
    return load_setup(path)


def _sales(setup, n_trials: int = 8):
    job = Job(setup.population, setup.scenario.performance, setup.models, (BASE,), n_trials, 7)
    profile = _profiles(job)[0]
    draws = _draw(job, 0, n_trials)
    shaped = noisy_profile(draws, profile.full, profile.totals)
    out = []
    for model in setup.models:
        key = _sales_key(model)
        args = (draws, draws.attainment, profile.full, model.n_months, profile.coarse[key])
        shared = sales_from(*args, model.pooled, shaped)
        own = sales_from(*args, model.pooled)  # the noisy profile made for this plan alone
        assert shared.tobytes() == own.tobytes()
        out.append((model, shared))
    return out


def test_slices_of_reps_pay_the_same_bits(setup, monkeypatch):
    pairs = _sales(setup)
    whole = [m.total(s) for m, s in pairs]
    monkeypatch.setattr(vectorised, "REP_SLICE_CELLS", 97)  # slices of a few reps, uneven
    for (model, sales), expected in zip(pairs, whole, strict=True):
        sliced = model.total(sales)
        assert sliced.tobytes() == expected.tobytes(), model.name
        assert np.abs(expected).sum() > 0, model.name


def test_slices_of_reps_pay_each_line_the_same_bits(setup, monkeypatch):
    """The detail trials' lines (each component's year) slice of reps by slice: each
    rep's lines are the ones of one pass over everyone."""
    pairs = _sales(setup, 2)
    monkeypatch.setattr(vectorised, "REP_SLICE_CELLS", 1 << 40)  # one pass
    whole = [np.asarray(m(s)) for m, s in pairs]
    monkeypatch.setattr(vectorised, "REP_SLICE_CELLS", 97)  # slices of a few reps, uneven
    sliced = []
    year_lines = vectorised._year_lines_by_rows
    monkeypatch.setattr(
        vectorised, "_year_lines_by_rows", lambda *a: sliced.append(1) or year_lines(*a)
    )
    for (model, sales), expected in zip(pairs, whole, strict=True):
        got = np.asarray(model(sales))
        assert got.tobytes() == expected.tobytes(), model.name
        assert np.abs(expected).sum() > 0, model.name
    assert len(sliced) >= 3  # all but the team pool (and a draw's lines per period)


@pytest.mark.parametrize("slice_cells", [97, None])
def test_moved_copies_of_a_plan_share_the_sums_of_its_sales(setup, monkeypatch, slice_cells):
    """The tornado's copies of a plan paid with one ``shared`` dict: the first fills it
    (year-to-date sums, each measured set of products), the others read it; every copy
    pays the bits it pays alone."""
    if slice_cells is not None:
        monkeypatch.setattr(vectorised, "REP_SLICE_CELLS", slice_cells)
    filled = 0
    for (model, sales), plan in zip(_sales(setup), setup.plans, strict=True):
        moved = _parameter_models(plan, 0.1, setup.model_for)
        copies = [model, *(m for _, pair in moved for m in pair if m is not None)]
        alone = [m.total(sales).tobytes() for m in copies]
        shared: dict = {}
        for _ in range(2):  # made by the first copy, read by the others, then by all
            got = [_total(m, sales, shared).tobytes() for m in copies]
            assert got == alone, model.name
        filled += len(shared) > 1  # the sales' own entry and the slices' sums
    assert filled >= 2


def test_the_rep_slice_leaves_team_pools_whole(setup, monkeypatch):
    monkeypatch.setattr(vectorised, "REP_SLICE_CELLS", 97)
    for model in setup.models:
        compiled, pop = model.compiled, model.evaluator_population
        sales4 = np.zeros((pop.ti.shape[0], 1, model.n_months, len(compiled.products)))
        rows = vectorised._rep_slice(compiled, pop, sales4, 1)
        pooled = any(c.type == "team_pool" for c in compiled.components)
        assert (rows is None) == pooled, model.name


@pytest.mark.parametrize("n_products", [1, 2, 3, 4, 6])
def test_year_to_date_sums_take_the_bits_of_numpy_s(n_products):
    rng = np.random.default_rng(3)
    base = rng.standard_normal((3, 50, 12, n_products)) * 1e3
    base[0, :4] = -0.0
    for x in (base, np.swapaxes(base, 0, 1), base[:, :, :4]):
        got = accumulate(np.add, x, axis=2)
        want = np.add.accumulate(x, axis=2)
        assert np.array_equal(got, want) and (np.signbit(got) == np.signbit(want)).all()


@pytest.mark.parametrize("n_months", [4, 1])
def test_coarsen_takes_the_bits_of_a_sum(n_months):
    rng = np.random.default_rng(5)
    sales = rng.standard_normal((2, 30, 12, 4)) * 1e4
    sales[0, :3] = -0.0
    want = sales.reshape(2, 30, n_months, 12 // n_months, 4).sum(axis=3)
    got = coarsen(sales, n_months)
    assert np.array_equal(got, want) and (np.signbit(got) == np.signbit(want)).all()


@pytest.mark.parametrize("n_trials", [1, 3])
def test_noisy_sales_coarsened_together_take_the_bits_of_coarsen(n_trials):
    rng = np.random.default_rng(6)
    shaped = reps_inner((n_trials, 30, 12, 4))
    shaped[...] = rng.standard_normal(shaped.shape) * 1e4
    shaped[0, :3] = -0.0
    attainment = np.abs(rng.standard_normal((n_trials, 30)))
    monthly, coarse = noisy_sales_coarsened(shaped, attainment, (4, 1))
    want = noisy_sales(shaped, attainment)
    assert monthly.tobytes() == want.tobytes() and monthly.strides == want.strides
    for n, got in coarse.items():
        expected = coarsen(want, n)
        assert got.tobytes() == expected.tobytes(), n
        assert np.array_equal(np.signbit(got), np.signbit(expected)), n


def test_the_month_noise_is_drawn_reps_innermost(setup):
    job = Job(setup.population, setup.scenario.performance, setup.models, (BASE,), 8, 7)
    noise = _draw(job, 0, 8).month_noise
    assert noise is not None and noise.strides[1] == noise.itemsize


def test_moved_assumptions_cost_what_runs_of_their_own_do(setup):
    """For a lognormal model a moved assumption's replayed draws are its own run's."""
    job = Job(
        setup.population,
        setup.scenario.performance,
        setup.models[:1],
        (BASE,),
        trials=6,
        seed=11,
        lines=False,
    )
    names = ("mean", "sd", "shocks.region", "bias_from_history")
    moves = tuple(m for n in names for m in _assumption_models(job.model, n, 0.1) if m)
    together = run(replace(job, moves=moves), workers=1)
    assert together.payout.tobytes() == run(job, workers=1).payout.tobytes()
    own = [_means(run(replace(job, model=m), workers=1).payout[0])[0] for m in moves]
    assert _means(together.moved) == own
    assert len(set(own)) == len(own)  # every move moves the cost


def test_moves_paid_by_several_plans_cost_what_each_plan_s_own_run_does(setup):
    """The tornado's one run: every plan pays the moved assumptions, on sales made once."""
    job = Job(
        setup.population,
        setup.scenario.performance,
        setup.models[:2],  # monthly and quarterly: different sales from the same months
        (BASE,),
        trials=5,
        seed=3,
        lines=False,
    )
    names = ("mean", "shocks.team")
    moves = tuple(m for n in names for m in _assumption_models(job.model, n, 0.1) if m)
    together = run(replace(job, moves=moves, move_plans=(1, 0)), workers=1)
    assert together.moved.shape == (2 * len(moves), 5)
    for q, p in enumerate((1, 0)):
        own = run(replace(job, plans=(job.plans[p],), moves=moves), workers=1)
        assert (
            together.moved[q * len(moves) : (q + 1) * len(moves)].tobytes() == own.moved.tobytes()
        )
        assert together.payout[0, p].tobytes() == own.payout[0, 0].tobytes()


def test_noisy_sales_are_laid_out_reps_innermost(setup):
    for model, sales in _sales(setup):
        if sales.shape[1] > 1:
            assert sales.strides[1] == sales.itemsize, model.name  # reps innermost


@pytest.mark.parametrize("cells", [None, 97])
def test_reps_innermost_sales_pay_the_bits_of_c_ordered_ones(setup, monkeypatch, cells):
    """Every plan (the draw's, the overlay's and the team pools' too, which the evaluator
    copies into the trials-first layout) pays the same bits whatever the sales' layout,
    in the total path and line by line, whole or in slices of reps."""
    if cells is not None:
        monkeypatch.setattr(vectorised, "REP_SLICE_CELLS", cells)
    for model, sales in _sales(setup):
        plain = np.ascontiguousarray(sales)
        assert not sales.flags.c_contiguous
        for _ in range(2):  # the second call reads the targets the first one kept
            assert model.total(sales).tobytes() == model.total(plain).tobytes(), model.name
        assert model(sales).tobytes() == model(plain).tobytes(), model.name


def test_the_compare_plans_pay_on_reps_innermost_sales_without_a_copy(setup):
    fast = {}
    for model, sales in _sales(setup):
        sales4 = np.swapaxes(sales, 0, 1)
        if sales4.ndim == 3:
            sales4 = sales4[..., None]
        fast[model.name] = vectorised._any_layout(model.compiled, False, sales4)
        kinds = {c.type for c in model.compiled.components}
        if "team_pool" in kinds or model.compiled.draw is not None:
            assert not fast[model.name], model.name  # paid on a trials-first copy
    assert fast["field_rep_marginal"] and fast["attainment_curve"]


@pytest.mark.parametrize("n_products", [4, 9])
def test_pooled_products_take_the_bits_of_a_sum_in_any_layout(n_products):
    from attain.simulate.performance import pool_products, reps_inner

    rng = np.random.default_rng(9)
    sales = rng.standard_normal((3, 40, 12, n_products)) * 1e4
    sales[0, :3] = -0.0
    pooled = np.ones(n_products, dtype=bool)
    pooled[1] = False
    want = sales[..., pooled].sum(axis=-1)
    inner = reps_inner(sales.shape)
    inner[...] = sales
    for x in (sales, inner):
        got = pool_products(x, pooled)
        assert np.array_equal(got, want) and (np.signbit(got) == np.signbit(want)).all()
        moved = coarsen(x, 4)
        assert moved.tobytes() == coarsen(sales, 4).tobytes()


def _noisy_profile_c_ordered(draws, profile):
    """The noisy profile as it was made in C order (the reference for the bits)."""
    noise = draws.month_noise if draws.month_noise is not None else draws.mix_noise
    shaped = np.broadcast_to(profile[None], (len(noise), *profile.shape)).copy()
    if draws.month_noise is not None:
        shaped *= draws.month_noise[:, :, :, None]
    if draws.mix_noise is not None:
        shaped *= draws.mix_noise[:, :, None, :]
    total = shaped.sum(axis=(2, 3), keepdims=True)
    want = profile.sum(axis=(1, 2))[None, :, None, None]
    shaped *= np.where(total > 0, want / np.where(total > 0, total, 1), 0.0)
    return shaped


@pytest.mark.parametrize("n_products", [1, 3, 4, 11])
@pytest.mark.parametrize("noise", ["month", "mix", "both"])
def test_the_reps_innermost_noisy_profile_takes_the_bits_of_the_c_ordered_one(n_products, noise):
    from attain.simulate.performance import Draws, year_sum

    rng = np.random.default_rng(n_products)
    profile = rng.lognormal(8, 1, (300, 12, n_products))
    profile[:5] = 0.0  # reps without a target
    profile[5:9, :, 0] = 0.0
    months = rng.lognormal(0, 0.1, (6, 300, 12)) if noise != "mix" else None
    mix = rng.lognormal(0, 0.1, (6, 300, n_products)) if noise != "month" else None
    draws = Draws(rng.random((6, 300)), months, mix)
    got = noisy_profile(draws, profile)
    want = _noisy_profile_c_ordered(draws, profile)
    assert got.strides[1] == got.itemsize  # reps innermost
    assert np.array_equal(got, want) and (np.signbit(got) == np.signbit(want)).all()
    cells = rng.standard_normal((4, 50, 12, n_products)) * 1e6  # signs mixed: order shows
    assert year_sum(cells).tobytes() == cells.sum(axis=(2, 3)).tobytes()


@pytest.mark.parametrize("case", ["plain", "zeros", "negative", "nan", "inf"])
def test_a_spiff_outside_its_window_takes_the_bits_of_the_full_passes(setup, monkeypatch, case):
    """The SPIFF computed on its window's periods only (the others known: +0.0 before,
    the last year-to-date value after) pays the bits of every period's passes; sales it
    cannot vouch for (negative, NaN, inf) take the full passes."""
    from attain.incentive.kinds import spiff

    model, sales = _sales(setup)[0]  # the field rep plan: monthly YTD, a cloud SPIFF
    assert model.name == "field_rep_marginal"
    sales = sales.copy()
    cloud = model.compiled.products.index("cloud")
    if case == "zeros":
        sales[:, :7, :, cloud] = 0.0
        sales[:, 7:9, :, cloud] = -0.0
    elif case != "plain":
        bad = {"negative": -5.0, "nan": np.nan, "inf": np.inf}[case]
        sales[2, 3, 9, cloud] = bad  # outside the window (March-April)
    calls = []
    original = spiff._window_only
    monkeypatch.setattr(
        spiff, "_window_only", lambda *a: calls.append(original(*a) is not None) or original(*a)
    )
    with np.errstate(invalid="ignore"):  # inf × a zero share: NaN, as the exact passes
        fast = model(sales)
        fast_total = model.total(sales)
        assert calls and all(calls) == (case in ("plain", "zeros"))
        monkeypatch.setattr(spiff, "_window_only", lambda *a: None)
        full = model(sales)
        full_total = model.total(sales)
    assert fast.tobytes() == full.tobytes()
    assert fast_total.tobytes() == full_total.tobytes()
    line = model.components.index("cloud_spiff")
    assert np.nansum(np.abs(full[..., line])) > 0


def test_the_top_performers_found_by_a_partition_are_the_stable_sort_s():
    """Ties (-0.0 and 0.0 too) go to the lower index, NaN sorts last, as numpy's sort."""
    from attain.simulate.variants import top_mask

    rng = np.random.default_rng(5)
    for i in range(200):
        t, r = int(rng.integers(1, 5)), int(rng.integers(1, 60))
        if i % 2:
            values = rng.choice([0.0, -0.0, 0.5, 1.0, 2.0, np.nan, np.inf], size=(t, r))
        else:
            values = rng.random((t, r)).round(1)
        for n_top in {1, max(1, r // 10), max(1, r // 2), r}:
            want = np.zeros(values.shape, dtype=bool)
            order = np.argsort(-values, axis=1, kind="stable")[:, :n_top]
            want[np.arange(t)[:, None], order] = True
            assert (top_mask(values, n_top) == want).all()


def test_the_top_performers_are_paid_again_alone_with_the_bits_of_everyone(setup, monkeypatch):
    """A variant that moves a few reps' attainment (the top performers) pays only theirs
    again, the others' payouts the first variant's: the same bits as paying everyone;
    with a team pool among the plans, everyone is paid."""
    from attain.schema.scenario import Variant

    runner = importlib.import_module("attain.simulate.runner")

    stars = Variant.model_validate(
        {"name": "stars", "top_performers": {"share": 0.02, "uplift": 0.3}}
    )
    down = Variant.model_validate({"name": "down", "market_growth": -0.1})
    monkeypatch.setattr(runner, "DETAIL_REP_TRIALS", 2 * setup.population.n_reps)
    monkeypatch.setattr(runner, "block_trials", lambda *a: 4)  # chunks of 8 trials: 0-7, 8-11
    monkeypatch.setattr(vectorised, "REP_SLICE_CELLS", 97)  # slices of a few reps
    apart = []
    paid_apart = runner._paid_apart
    monkeypatch.setattr(runner, "_paid_apart", lambda *a: apart.append(paid_apart(*a)) or apart[-1])
    for models in (setup.models[:4], setup.models):  # the last: a team pool
        job = Job(setup.population, setup.scenario.performance, models, (BASE, down, stars), 12, 7)
        apart.clear()
        fast = run(job, workers=1)
        # the second chunk has no detail trials: its stars are paid apart, not its downturn
        assert sum(a is not None for a in apart) == (1 if len(models) == 4 else 0)
        with monkeypatch.context() as m:
            m.setattr(runner, "APART_SHARE", -1.0)  # everyone paid
            plain = run(job, workers=1)
        assert fast.payout.tobytes() == plain.payout.tobytes()
        assert fast.revenue.tobytes() == plain.revenue.tobytes()
        assert not np.array_equal(fast.payout[0], fast.payout[2])  # the stars moved it


def test_a_subset_of_reps_is_paid_their_bits_among_everyone(setup):
    pairs = _sales(setup)
    reps = np.array([0, 3, 4, 17, 250])
    for model, sales in pairs:
        subset = model.subset(reps)
        pooled = any(c.type == "team_pool" for c in model.compiled.components)
        assert (subset is None) == pooled, model.name
        if subset is not None:
            part = reps_inner((sales.shape[0], len(reps), *sales.shape[2:]))
            part[...] = sales[:, reps]
            expected = np.ascontiguousarray(model.total(sales)[:, reps])
            assert subset.total(part).tobytes() == expected.tobytes(), model.name
