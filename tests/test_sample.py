"""The synthetic company: deterministic, valid, and shaped like a real sales org."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import attain
from attain.output import MANIFEST
from attain.sample import PRODUCTS, make_sample


def _digest(folder) -> dict[str, str]:
    """The data files' digests (the output-set manifest is not company data)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.name != MANIFEST
    }


def test_same_seed_same_bytes(tmp_path):
    attain.write_sample(tmp_path / "a", n_reps=40, seed=3)
    attain.write_sample(tmp_path / "b", n_reps=40, seed=3)
    attain.write_sample(tmp_path / "c", n_reps=40, seed=4)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a")["org.csv"] != _digest(tmp_path / "c")["org.csv"]


def test_bundled_sample_is_the_default_sample(tmp_path, sample_dir):
    attain.write_sample(tmp_path, n_reps=300, seed=7)
    assert _digest(tmp_path) == _digest(sample_dir)


def test_default_shape(sample_company):
    org = sample_company.org
    reps = org[org["role"] != "manager"]
    assert len(reps) == 300
    assert org["region"].nunique() == 6 and org["team"].nunique() == 30
    assert (org["role"] == "manager").sum() == 30
    assert 0.03 < (reps["tenure_months"] < 12).mean() < 0.15  # some new hires
    per_rep = sample_company.accounts.groupby("rep_id").size()
    assert 17 <= per_rep.mean() <= 23
    assert set(sample_company.potential["product"]) == set(sample_company.products)


def test_productivity_has_a_realistic_spread(sample_company):
    hist = sample_company.history
    year = hist[hist["month"] >= "2026-01"].groupby("rep_id")["sales"].sum()
    ratio = np.percentile(year, 90) / np.percentile(year, 10)
    assert 1.8 < ratio < 5


def test_history_has_seasonality_and_trends(sample_company):
    hist = sample_company.history
    by_month = hist.groupby(hist["month"].str[5:])["sales"].sum()
    assert by_month["12"] > 1.3 * by_month.drop("12").mean()  # December peak
    by_year = hist.groupby([hist["month"].str[:4], "product"])["sales"].sum().unstack()
    growth = by_year.loc["2026"] / by_year.loc["2025"] - 1
    assert growth["analytics"] > growth["core"] + 0.2  # a rising product


def test_deals_include_splits_and_cancellations(sample_company):
    deals = sample_company.actuals
    assert (deals["split"] < 1).any()
    assert (deals["type"] == "cancellation").any()
    assert deals["date"].dt.year.eq(2027).all()


def test_any_size_validates(tmp_path):
    for n in (1, 7, 123):
        attain.write_sample(tmp_path / str(n), n_reps=n, seed=n)
        company = attain.load_company(tmp_path / str(n))
        assert (company.org["role"] != "manager").sum() == n


def test_make_sample_returns_frames():
    company = make_sample(20, seed=1)
    assert company.manifest.startswith("# The sample company")
    assert len(company.org) == 22


def test_five_products_load_with_plausible_mix(tmp_path):
    attain.write_sample(tmp_path, n_reps=40, seed=3, n_products=5)
    company = attain.load_company(tmp_path)
    products = ("core", "cloud", "services", "analytics", "security")
    assert company.products == products
    assert (
        "products: [core, cloud, services, analytics, security]"
        in (tmp_path / "company.yaml").read_text()
    )
    for table in (company.history, company.actuals, company.potential):
        assert set(table["product"]) == set(products)
    hist = company.history
    share = hist.groupby("product")["sales"].sum() / hist["sales"].sum()
    assert abs(share.sum() - 1) < 1e-9
    assert share["core"] == share.max() and 0.35 < share["core"] < 0.55
    assert 0.03 < share["security"] < 0.12
    by_year = hist.groupby([hist["month"].str[:4], "product"])["sales"].sum().unstack()
    growth = by_year.loc["2026"] / by_year.loc["2025"] - 1
    assert growth["security"] > growth["core"] + 0.15  # a rising product


def test_five_products_same_seed_same_bytes(tmp_path):
    attain.write_sample(tmp_path / "a", n_reps=40, seed=3, n_products=5)
    attain.write_sample(tmp_path / "b", n_reps=40, seed=3, n_products=5)
    attain.write_sample(tmp_path / "c", n_reps=40, seed=3)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a")["history.csv"] != _digest(tmp_path / "c")["history.csv"]


def test_products_default_to_four_and_take_the_first_n():
    assert make_sample(5, seed=1).manifest == make_sample(5, seed=1, n_products=4).manifest
    assert "products: [core, cloud, services, analytics]\n" in make_sample(5, seed=1).manifest
    for n in (1, 6):
        company = make_sample(12, seed=1, n_products=n)
        assert set(company.history["product"]) == set(PRODUCTS[:n])
    assert len(PRODUCTS) == 6


def test_products_out_of_range_are_refused():
    for n in (0, 7):
        with pytest.raises(ValueError, match="1 to 6 products"):
            make_sample(5, seed=1, n_products=n)


def test_measures_are_the_kpi_plans_and_plausible(sample_company):
    """measures.csv holds what rules/plan_kpi_mbo.yaml reads: accounts won (counts, about
    six a seller a year), and each month's expense and collection ratios over the month's
    booked sales."""
    import yaml

    from attain.sample import bundled

    plan = yaml.safe_load(bundled("rules/plan_kpi_mbo.yaml").read_text())
    read = {c["measure"]: c.get("aggregate", "sum") for c in plan["components"]}
    m = sample_company.measures
    assert set(m["measure"]) == set(read)
    assert m["date"].dt.year.eq(2027).all()
    sellers = set(sample_company.org.loc[sample_company.org["role"] != "manager", "rep_id"])
    assert set(m["rep_id"]) <= sellers
    for name, how in read.items():
        rows = m[m["measure"] == name]
        if how == "sum":
            assert rows["denominator"].isna().all() and (rows["value"] == 1).all()
            per_seller = rows.groupby("rep_id").size().reindex(list(sellers), fill_value=0)
            assert 5 <= per_seller.mean() <= 7
        else:
            assert (rows["denominator"] > 0).all() and (rows["value"] >= 0).all()
    ratio = m.groupby("measure")[["value", "denominator"]].sum()
    ratio = ratio["value"] / ratio["denominator"]
    assert 0.08 < ratio["sales_expense_rate"] < 0.12
    assert 0.90 < ratio["collection_rate"] < 0.97
    collected = m[m["measure"] == "collection_rate"]
    assert (collected["value"] <= collected["denominator"]).all()
    # the ratios' denominators are the month's booked sales (each rep's share)
    deals = sample_company.actuals
    booked = deals[deals["type"] == "booking"]
    march = booked[booked["date"].dt.month == 3]
    sales = (march["amount"] * march["split"]).groupby(march["rep_id"]).sum().round(2)
    rows = collected[collected["date"] == "2027-03-31"].set_index("rep_id")["denominator"]
    assert np.allclose(rows.sort_index(), sales.reindex(rows.index).sort_index())


def test_the_manifest_names_the_measures_table(tmp_path):
    attain.write_sample(tmp_path, n_reps=40, seed=3)
    assert "  measures: measures.csv\n" in (tmp_path / "company.yaml").read_text()
    company = attain.load_company(tmp_path)
    assert company.measures is not None and len(company.measures) > 0
    assert company.summary()["n_measure_rows"] == len(company.measures)
