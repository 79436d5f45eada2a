"""The history matrix is built with array code and equals a row-by-row reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.simulate.population import _history_matrix

MONTHS = [f"{y}-{m:02d}" for y in (2024, 2025, 2026) for m in range(1, 13)]


def _reference(history: pd.DataFrame, rep_ids, products):
    """One pd.Period per row: slow and obviously right."""
    labels = sorted(history["month"].astype(str).unique())
    first = pd.Period(labels[0], "M")
    span = (pd.Period(labels[-1], "M") - first).n + 1
    sales = np.full((len(rep_ids), span, len(products)), np.nan)
    for rep_id, product, month, amount in history.itertuples(index=False):
        if str(rep_id) not in rep_ids or str(product) not in products:
            continue
        r, k = list(rep_ids).index(str(rep_id)), list(products).index(str(product))
        m = (pd.Period(str(month), "M") - first).n
        sales[r, m] = np.nan_to_num(sales[r, m])  # a worked month: other products sold 0
        sales[r, m, k] += amount
    return sales, (first.month - 1 + np.arange(span)) % 12 + 1


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["R1", "R2", "R3", "ghost"]),
            st.sampled_from(["a", "b", "z"]),
            st.sampled_from(MONTHS),
            st.floats(0, 1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_history_matrix_equals_the_row_by_row_reference(rows):
    history = pd.DataFrame(rows, columns=["rep_id", "product", "month", "sales"])
    rep_ids = np.array(["R1", "R2", "R3"])
    months = _history_matrix(history, rep_ids, ("a", "b"))
    sales, calendar = _reference(history, rep_ids, ("a", "b"))
    assert months is not None
    np.testing.assert_allclose(months.sales, sales, rtol=1e-12, equal_nan=True)
    assert months.calendar_month.tolist() == calendar.tolist()


def test_history_matrix_reads_non_text_columns_as_text():
    history = pd.DataFrame(
        {"rep_id": [1, 2], "product": ["a", "a"], "month": ["2025-11", "2026-02"], "sales": [5, 7]}
    )
    months = _history_matrix(history, np.array(["1", "2"]), ("a",))
    assert months is not None
    assert months.sales.shape == (2, 4, 1)
    assert months.sales[0, 0, 0] == 5 and months.sales[1, 3, 0] == 7
    assert months.calendar_month.tolist() == [11, 12, 1, 2]


# --- a dated org: reps sell and are paid only while in the org ---------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def _dated_scenario(tmp_path, sample_company, trials=8):
    """The sample company with a leaver (15 June) and a joiner (1 September), a monthly
    plan, targets = last year's sales + 5% (the leaver's and joiner's whole year)."""
    import shutil

    company = tmp_path / "company"
    shutil.copytree(sample_company.root, company)
    org = pd.read_csv(company / "org.csv", dtype=str)
    reps = org.loc[org["role"] == "rep", "rep_id"].tolist()
    org["start_date"], org["end_date"] = "", ""
    org.loc[org["rep_id"] == reps[0], "end_date"] = "2027-06-15"
    org.loc[org["rep_id"] == reps[1], "start_date"] = "2027-09-01"
    org.to_csv(company / "org.csv", index=False)
    history = sample_company.history
    last = history[history["month"].isin(sorted(history["month"].unique())[-12:])].copy()
    last["period"] = last["month"].str.replace("2026", "2027")
    last["target"] = (last["sales"] * 1.05).round(2)
    last[["rep_id", "period", "product", "target"]].to_csv(tmp_path / "t.csv", index=False)
    path = tmp_path / "s.yaml"
    path.write_text(
        f"kind: scenario\nname: s\ncompany: {company}\n"
        f"plans: [{ROOT / 'rules' / 'plan_attainment_curve.yaml'}]\n"
        f"targets: {{file: t.csv}}\ntrials: {trials}\nseed: 7\n"
        "performance: {distribution: normal, mean: 1.0, sd: 0.2, month_sd: 0.1, "
        "seasonality: history}\n"
    )
    return path, reps[0], reps[1]


def test_a_leaver_and_a_joiner_sell_and_are_paid_only_while_in_the_org(tmp_path, sample_company):
    from attain.simulate.performance import base_profile, draw_block, sales_from
    from attain.simulate.setup import load_setup

    path, leaver, joiner = _dated_scenario(tmp_path, sample_company)
    setup = load_setup(path)
    pop = setup.population
    i, j = list(pop.rep_ids).index(leaver), list(pop.rep_ids).index(joiner)
    assert pop.active is not None and pop.active[i, 5] == 0.5 and pop.active[j, 7] == 0
    # the year's target is kept, on the months in the org
    given = load_setup(path).population.targets  # the same, rebuilt: deterministic
    assert np.array_equal(given, pop.targets)
    assert pop.targets[i, 6:].sum() == 0 and pop.targets[j, :8].sum() == 0
    draws = draw_block(setup.scenario.performance, pop, np.random.default_rng(1), 16)
    sales = sales_from(draws, draws.attainment, base_profile(setup.scenario.performance, pop), 12)
    assert (sales[:, i, 6:] == 0).all() and (sales[:, j, :8] == 0).all()
    assert (sales[:, i, :6].sum(axis=(1, 2)) > 0).all() and (sales[:, j, 8:] > 0).all()
    model = setup.models[0]  # a quarterly plan
    quarters = sales_from(
        draws, draws.attainment, base_profile(setup.scenario.performance, pop), model.n_months
    )
    lines = model._evaluate(quarters, detail=True)  # name → [R, trials, quarters]
    paid = sum(lines.values())
    assert np.abs(paid[i, :, 2:]).max() < 1e-6  # nothing after leaving (Q3, Q4)
    assert np.abs(paid[j, :, :2]).max() < 1e-6  # nothing before joining (Q1, Q2)
    assert paid[i, :, :2].sum() > 0 and paid[j, :, 2:].sum() > 0


def test_a_dated_simulation_is_deterministic(tmp_path, sample_company):
    import attain

    path, _, _ = _dated_scenario(tmp_path, sample_company, trials=6)
    first = attain.simulate(path).to_json()
    assert attain.simulate(path).to_json() == first


def test_a_simulation_reads_only_the_tables_it_needs(sample_scenario, sample_company):
    """The org, the history and the deals; the accounts (and the potential made of them)
    only when the targets are allocated; never the measures."""
    from attain.simulate.setup import _with_company, load_scenario, load_setup

    assert sample_company.accounts is not None and sample_company.measures is not None
    path = sample_scenario(f"[{ROOT / 'rules' / 'plan_field_rep.yaml'}]")
    company = load_setup(path).company
    assert company.history is not None and company.actuals is not None
    assert company.accounts is None and company.potential is None and company.measures is None
    text = path.read_text().replace(
        "targets: {file: t.csv}",
        f"targets: {{allocation: {ROOT / 'rules' / 'allocation_fy27.yaml'}}}",
    )
    path.write_text(text)
    scenario = load_scenario(path)  # what `attain validate` checks: every table
    assert scenario.targets.allocation is not None
    company = load_setup(path, targets=path.parent / "t.csv").company  # a file instead
    assert company.accounts is None
    _, company = _with_company(path, path.parent, simulation=True)  # allocated targets
    assert company.accounts is not None and company.potential is not None
    assert company.measures is None
