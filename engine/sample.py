"""A synthetic company of any size, deterministic for a seed.

The company has regions of teams of reps (one manager per team), four
products with their own trends (or one to six: the first N of the catalogue),
24 months of sales history with a year-end peak, about 20 accounts per rep,
some new hires still ramping, a lognormal spread of productivity, a year
of deals for payouts (some split between two reps, some cancelled later), and a
year of the non-revenue measures the KPI plan reads (``rules/plan_kpi_mbo.yaml``:
new A-tier accounts won, the sales expense rate, the collection rate).
Everything is drawn with numpy over whole arrays, so 50,000 reps take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from attain.errors import InputError, Problem
from attain.output import atomic_path, output_set, write_csv, write_text
from attain.progress import Progress, Steps

__all__ = [
    "STARTER_FILES",
    "SampleCompany",
    "bundled",
    "make_sample",
    "write_sample",
    "write_starter",
]

REGIONS = ("East", "South", "North", "West", "Central", "Coastal")
#: Region centres (lat, lon) for account coordinates, and a market-size factor.
_REGION_CENTRE = np.array(
    [[48.2, 16.4], [41.9, 12.5], [53.5, 10.0], [47.2, -1.5], [50.1, 8.7], [43.3, 5.4]]
)
_REGION_FACTOR = np.array([1.25, 1.0, 0.9, 1.05, 1.1, 0.85])
#: The product catalogue; a sample with N products sells the first N.
PRODUCTS = ("core", "cloud", "services", "analytics", "security", "training")
#: How many products a sample has unless told otherwise.
DEFAULT_PRODUCTS = 4
#: Each product's weight in the company's sales mix. The first four sum to one
#: (the default company); for N products the first N are renormalised.
_PRODUCT_MIX = np.array([0.45, 0.25, 0.20, 0.10, 0.08, 0.05])
#: Yearly growth of each product's sales (cloud, analytics and security are
#: rising; training is flat).
_PRODUCT_TREND = np.array([0.02, 0.25, 0.05, 0.40, 0.30, 0.01])
_UNIT_PRICE = np.array([2_000.0, 500.0, 1_200.0, 800.0, 1_500.0, 350.0])
#: Month-of-year factors: quiet summer, strong quarter ends, a December peak.
_SEASON = np.array([0.80, 0.85, 1.05, 0.90, 0.95, 1.05, 0.85, 0.75, 1.05, 1.00, 1.10, 1.65])
_FISCAL_YEAR = 2027


@dataclass(frozen=True)
class SampleCompany:
    """The tables of a synthetic company, as DataFrames."""

    manifest: str
    org: pd.DataFrame
    accounts: pd.DataFrame
    history: pd.DataFrame
    actuals: pd.DataFrame
    measures: pd.DataFrame


def make_sample(
    n_reps: int = 300,
    seed: int = 7,
    n_products: int = DEFAULT_PRODUCTS,
    progress: Progress | None = None,
) -> SampleCompany:
    """Draw a company with ``n_reps`` reps (plus one manager per team of about 10).

    It sells the first ``n_products`` (1 to 6) of :data:`PRODUCTS`. ``progress(done,
    total)`` is called as each table is drawn.
    """
    return _make_sample(n_reps, seed, n_products, Steps(progress, total=5))


def _make_sample(n_reps: int, seed: int, n_products: int, steps: Steps) -> SampleCompany:
    if n_reps < 1:
        raise ValueError("a company needs at least one rep")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"the seed must be a whole number >= 0 (got {seed!r})")
    if not 1 <= n_products <= len(PRODUCTS):
        raise ValueError(f"a sample company sells 1 to {len(PRODUCTS)} products")
    rng = np.random.default_rng(seed)
    org, base = _org(rng, n_reps)
    mix = _rep_mix(rng, n_reps, n_products)
    steps.advance()
    history = _history(rng, org, base, mix)
    steps.advance()
    accounts = _accounts(rng, org, base)
    steps.advance()
    actuals = _actuals(rng, org, base, mix)
    steps.advance()
    # drawn last: the other tables are the same for a seed with or without it
    measures = _measures(rng, org, actuals)
    steps.advance()
    return SampleCompany(
        _manifest(PRODUCTS[:n_products]), org, accounts, history, actuals, measures
    )


def write_sample(
    out: str | Path,
    n_reps: int = 300,
    seed: int = 7,
    n_products: int = DEFAULT_PRODUCTS,
    force: bool = False,
    progress: Progress | None = None,
) -> list[Path]:
    """Write a sample company's data folder as one output set (all files or none, see
    :func:`attain.output.output_set`); returns the files written.

    ``progress(done, total)`` is called as each table is drawn and each file written.
    """
    steps = Steps(progress, total=11)  # 5 tables drawn, 6 files written
    company = _make_sample(n_reps, seed, n_products, steps)
    with output_set(out, kind="company", force=force) as stage:
        files = [write_text(stage.path / "company.yaml", company.manifest)]
        steps.advance()
        for name, frame in (
            ("org.csv", company.org),
            ("accounts.csv", company.accounts),
            ("history.csv", company.history),
            ("actuals.csv", company.actuals),
            ("measures.csv", company.measures),
        ):
            # counts as whole numbers (1, not 1.0); every figure has at most 2 decimals
            # and is below 10^13, so 15 significant digits write it exactly
            fmt = "%.15g" if name == "measures.csv" else None
            files.append(write_csv(stage.path / name, frame, float_format=fmt))
            steps.advance()
    return stage.final(files)


def bundled(relative: str) -> Path:
    """A file or folder shipped with attain: ``"scenarios/sample"`` (the sample company),
    ``"rules/plan_field_rep.yaml"`` (an example rule file), ...

    They are package data: ``attain/rules`` and ``attain/scenarios`` beside the code in
    an installed wheel; in a checkout (and its editable install) the same folders at the
    root, beside ``engine/``.
    """
    top, _, rest = relative.strip("/").partition("/")
    if top not in ("rules", "scenarios"):
        raise ValueError(f"attain ships rules/... and scenarios/..., not {relative!r}")
    package = Path(__file__).resolve().parent
    for folder in (package / top, package.parent / top):
        if folder.is_dir():
            return folder / rest if rest else folder
    raise FileNotFoundError(f"attain's {top}/ folder is missing from {package}")


#: What ``attain init`` copies: the sample company and the commented example rules that
#: run on it, in the shipped layout, so every relative path and "Run:" line holds.
STARTER_FILES = (
    "scenarios/sample/company.yaml",
    "scenarios/sample/org.csv",
    "scenarios/sample/accounts.csv",
    "scenarios/sample/history.csv",
    "scenarios/sample/actuals.csv",
    "scenarios/sample/measures.csv",
    "rules/allocation_fy27.yaml",
    "rules/plan_field_rep.yaml",
    "rules/plan_attainment_curve.yaml",
    "scenarios/compare_plans.yaml",
)

_STARTER_README = """\
# A starter for attain

Edit these files to describe your own company and rules; each is commented.

- `scenarios/sample/`: the company folder: `company.yaml` (its manifest: currency,
  fiscal year, products, which file holds which table) and its tables (`org.csv`,
  `accounts.csv`, `history.csv`, `actuals.csv`, `measures.csv`). Replace the tables with
  your own.
- `rules/allocation_fy27.yaml`: how the year's target is split over regions, teams,
  reps, months and products.
- `rules/plan_field_rep.yaml`, `rules/plan_attainment_curve.yaml`: two commission plans.
- `scenarios/compare_plans.yaml`: simulates both plans on the same draws.

From this folder:

    attain validate rules/ scenarios/ --data scenarios/sample
    attain allocate rules/allocation_fy27.yaml --data scenarios/sample --out out/fy27
    attain payout rules/plan_field_rep.yaml --targets out/fy27/targets.csv \\
        --actuals scenarios/sample/actuals.csv --out out/pay
    attain simulate scenarios/compare_plans.yaml --out out/compare

`attain schema > rules.schema.json` gives an editor the rule language for completion.
"""


def write_starter(out: str | Path, force: bool = False) -> list[Path]:
    """Write a starter folder to edit: the sample company and commented rule files
    (:data:`STARTER_FILES`) and a README of what to edit and run; returns the files.

    ``out`` must be missing or empty unless ``force`` (then the starter's files are
    overwritten and nothing else is touched). Each file is written atomically.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError([Problem(str(out), "is a file, not a folder", code="not-a-folder")])
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(
            [
                Problem(
                    str(out),
                    "is not empty; attain init writes into a new or empty folder",
                    code="not-empty",
                    hint="choose another folder, or add --force to overwrite the starter's files",
                )
            ]
        )
    written = []
    for name in STARTER_FILES:
        with atomic_path(out / name) as tmp:
            tmp.write_bytes(bundled(name).read_bytes())
        written.append(out / name)
    written.append(write_text(out / "README.md", _STARTER_README))
    return written


def _org(rng: np.random.Generator, n_reps: int) -> tuple[pd.DataFrame, np.ndarray]:
    n_teams = max(1, round(n_reps / 10))
    n_regions = min(len(REGIONS), n_teams)
    # Every team gets one rep, the rest are spread at random.
    team_of_rep = np.sort(
        np.concatenate([np.arange(n_teams), rng.integers(0, n_teams, n_reps - n_teams)])
    )
    region_of_team = np.arange(n_teams) % n_regions
    region_of_rep = region_of_team[team_of_rep]
    team_names = _team_names(region_of_team)

    new_hire = rng.random(n_reps) < 0.08
    tenure = np.where(new_hire, rng.integers(0, 12, n_reps), rng.integers(12, 180, n_reps))
    senior = (tenure >= 60) & (rng.random(n_reps) < 0.5)
    productivity = rng.lognormal(0.0, 0.35, n_reps) * np.where(senior, 1.2, 1.0)
    base = 1_000_000.0 * productivity * _REGION_FACTOR[region_of_rep]  # a full year's sales
    capacity = np.round(base * rng.uniform(1.2, 1.5, n_reps), -3)
    incentive = np.where(senior, 40_000.0, 30_000.0) * np.clip(productivity, 0.8, 1.4)
    reps = pd.DataFrame(
        {
            "rep_id": [f"R{i:05d}" for i in range(1, n_reps + 1)],
            "name": _names(rng, n_reps),
            "region": np.array(REGIONS)[region_of_rep],
            "team": team_names[team_of_rep],
            "role": np.where(senior, "senior_rep", "rep"),
            "tenure_months": tenure,
            "capacity": capacity,
            "target_incentive": np.round(incentive, -2),
        }
    )
    managers = pd.DataFrame(
        {
            "rep_id": [f"M{i:04d}" for i in range(1, n_teams + 1)],
            "name": _names(rng, n_teams),
            "region": np.array(REGIONS)[region_of_team],
            "team": team_names,
            "role": "manager",
            "tenure_months": rng.integers(36, 240, n_teams),
            "capacity": 0.0,
            "target_incentive": 50_000.0,
        }
    )
    return pd.concat([managers, reps], ignore_index=True), np.concatenate([np.zeros(n_teams), base])


def _team_names(region_of_team: np.ndarray) -> np.ndarray:
    counter = np.zeros(len(REGIONS), dtype=int)
    names = []
    for region in region_of_team:
        counter[region] += 1
        names.append(f"{REGIONS[region]}-{counter[region]:02d}")
    return np.array(names, dtype=object)


_FIRST = (
    "Ana",
    "Ben",
    "Chen",
    "Dara",
    "Eli",
    "Fatima",
    "Goran",
    "Hana",
    "Ivo",
    "Jade",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Yara",
)
_LAST = (
    "Abe",
    "Berg",
    "Costa",
    "Dube",
    "Eng",
    "Fox",
    "Garcia",
    "Haas",
    "Ito",
    "Jensen",
    "Kim",
    "Lopez",
    "Meyer",
    "Novak",
    "Okafor",
    "Park",
    "Rossi",
    "Silva",
    "Tan",
    "Ueda",
    "Vogel",
    "Weber",
    "Xu",
    "Zhou",
)


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    first = np.array(_FIRST, dtype=object)[rng.integers(0, len(_FIRST), n)]
    last = np.array(_LAST, dtype=object)[rng.integers(0, len(_LAST), n)]
    return first + " " + last


def _company_mix(n_products: int) -> np.ndarray:
    """The company's product shares: the first ``n_products`` weights, summing to one."""
    weights = _PRODUCT_MIX[:n_products]
    # The default four already sum to one (up to rounding) and are used as they
    # are, so the default sample keeps its exact bytes.
    return weights if np.isclose(weights.sum(), 1.0) else weights / weights.sum()


def _rep_mix(rng: np.random.Generator, n_reps: int, n_products: int) -> np.ndarray:
    """Each rep's product mix (reps × products): the company's, perturbed (Dirichlet)."""
    return rng.dirichlet(_company_mix(n_products) * 40, n_reps)


def _history(
    rng: np.random.Generator, org: pd.DataFrame, base: np.ndarray, mix: np.ndarray
) -> pd.DataFrame:
    sellers = org["role"].to_numpy() != "manager"
    ids = org["rep_id"].to_numpy()[sellers]
    tenure = org["tenure_months"].to_numpy()[sellers]
    base = base[sellers]
    growth = 1 + _PRODUCT_TREND[: mix.shape[1]]
    n_months = 24
    t = np.arange(n_months)  # month 0 = two years before the plan year
    years_before = (n_months - t) / 12.0  # how far back the month is
    trend = growth[:, None] ** -years_before[None, :]  # products × months
    season = np.tile(_SEASON / _SEASON.mean(), 2) / 12.0
    # A rep hired `tenure` months before the plan year ramps up over their first 6 months.
    months_employed = tenure[:, None] - (n_months - t)[None, :]
    ramp = np.clip((months_employed + 1) / 6.0, 0.0, 1.0)
    expected = (
        base[:, None, None]
        * mix[:, :, None]
        * trend[None]
        * season[None, None, :]
        * ramp[:, None, :]
    )
    noise = rng.lognormal(-0.03, 0.25, expected.shape)
    sales = np.round(expected * noise, 2)
    employed = np.broadcast_to((months_employed >= 0)[:, None, :], sales.shape)
    months = np.array([f"{_FISCAL_YEAR - 2 + m // 12}-{m % 12 + 1:02d}" for m in t], dtype=object)
    r, p, m = np.nonzero(employed)
    return pd.DataFrame(
        {
            "rep_id": ids[r],
            "product": np.array(PRODUCTS, dtype=object)[p],
            "month": months[m],
            "sales": sales[r, p, m],
        }
    )


def _accounts(rng: np.random.Generator, org: pd.DataFrame, base: np.ndarray) -> pd.DataFrame:
    sellers = np.flatnonzero(org["role"].to_numpy() != "manager")
    counts = np.maximum(3, rng.poisson(20, len(sellers)))
    owner = np.repeat(sellers, counts)
    n = len(owner)
    # Revenue shares within a rep's book are skewed: a few large accounts, a long tail.
    weight = rng.pareto(1.5, n) + 0.2
    share = (
        weight
        / np.bincount(np.repeat(np.arange(len(sellers)), counts), weights=weight)[
            np.repeat(np.arange(len(sellers)), counts)
        ]
    )
    revenue = np.round(base[owner] * share, 2)
    growth = np.round(np.clip(rng.lognormal(0.08, 0.18, n), 0.5, 2.5), 3)
    region = pd.Index(REGIONS).get_indexer(org["region"].to_numpy()[owner])
    centre = _REGION_CENTRE[region]
    return pd.DataFrame(
        {
            "account_id": [f"A{i:07d}" for i in range(1, n + 1)],
            "rep_id": org["rep_id"].to_numpy()[owner],
            "current_revenue": revenue,
            "growth_coefficient": growth,
            "workload": np.round(rng.uniform(0.5, 2.0, n), 2),
            "latitude": np.round(centre[:, 0] + rng.normal(0, 0.8, n), 4),
            "longitude": np.round(centre[:, 1] + rng.normal(0, 1.2, n), 4),
        }
    )


def _actuals(
    rng: np.random.Generator, org: pd.DataFrame, base: np.ndarray, mix: np.ndarray
) -> pd.DataFrame:
    """A year of deals: about three a month per rep, sized to the rep's productivity."""
    sellers = np.flatnonzero(org["role"].to_numpy() != "manager")
    ids = org["rep_id"].to_numpy()
    teams = org["team"].to_numpy()
    n_deals = rng.poisson(36, len(sellers))
    rep = np.repeat(sellers, n_deals)
    n = len(rep)
    seller_index = np.repeat(np.arange(len(sellers)), n_deals)
    cum = np.cumsum(mix[seller_index], axis=1)
    product = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, mix.shape[1] - 1)
    season = _SEASON / _SEASON.sum()
    month = rng.choice(12, n, p=season)
    day = rng.integers(1, 29, n)
    amount = np.round(base[rep] / 36 * rng.lognormal(-0.18, 0.6, n), 2).clip(100.0)
    quantity = np.maximum(1, np.round(amount / _UNIT_PRICE[product])).astype(int)
    new_customer = rng.random(n) < 0.15
    dates = (
        pd.to_datetime(pd.DataFrame({"year": _FISCAL_YEAR, "month": month + 1, "day": day}))
        .dt.strftime("%Y-%m-%d")
        .to_numpy()
    )
    order = np.lexsort((ids[rep], dates))
    deal_ids = np.empty(n, dtype=object)
    deal_ids[order] = [f"D{i:08d}" for i in range(1, n + 1)]
    bookings = pd.DataFrame(
        {
            "deal_id": deal_ids,
            "date": dates,
            "rep_id": ids[rep],
            "product": np.array(PRODUCTS, dtype=object)[product],
            "amount": amount,
            "split": 1.0,
            "quantity": quantity,
            "new_customer": new_customer,
            "type": "booking",
        }
    )
    bookings = _split_some(rng, bookings, rep, sellers, teams, ids)
    cancels = _cancel_some(rng, bookings)
    frame = pd.concat([bookings, cancels], ignore_index=True)
    return frame.sort_values(["date", "deal_id", "type", "rep_id"], kind="stable").reset_index(
        drop=True
    )


def _split_some(
    rng: np.random.Generator,
    bookings: pd.DataFrame,
    rep: np.ndarray,
    sellers: np.ndarray,
    teams: np.ndarray,
    ids: np.ndarray,
) -> pd.DataFrame:
    """Give 5% of deals a second rep from the same team, 60/40."""
    seller_pos = np.searchsorted(sellers, rep)
    split = rng.random(len(rep)) < 0.05
    # The neighbouring seller in the list is usually a team-mate; only split when so.
    partner_pos = np.clip(seller_pos + 1, 0, len(sellers) - 1)
    partner = sellers[partner_pos]
    split &= (teams[partner] == teams[rep]) & (partner != rep)
    seconds = bookings[split].copy()
    seconds["rep_id"] = ids[partner[split]]
    seconds["split"] = 0.4
    bookings.loc[split, "split"] = 0.6
    return pd.concat([bookings, seconds], ignore_index=True)


def _cancel_some(rng: np.random.Generator, bookings: pd.DataFrame) -> pd.DataFrame:
    """Cancel 2% of deals 15 to 60 days after booking (within the year)."""
    deals = bookings["deal_id"].unique()
    chosen = set(deals[rng.random(len(deals)) < 0.02])
    cancels = bookings[bookings["deal_id"].isin(chosen)].copy()
    delay = dict(zip(sorted(chosen), rng.integers(15, 61, len(chosen)), strict=True))
    booked = pd.to_datetime(cancels["date"])
    shifted = booked + pd.to_timedelta(cancels["deal_id"].map(delay).astype(int), unit="D")
    last = pd.Timestamp(f"{_FISCAL_YEAR}-12-31")
    cancels["date"] = shifted.where(shifted <= last, last).dt.strftime("%Y-%m-%d")
    cancels["type"] = "cancellation"
    return cancels


#: Measures of the KPI plan (rules/plan_kpi_mbo.yaml): new A-tier accounts won a year
#: (its target is 6), the sales expense rate (its target 10% of sales, lower is better)
#: and the collection rate (collected / invoiced; it pays from 90%).
_NEW_ACCOUNTS_A_YEAR = 6.0
_EXPENSE_RATE = 0.10
_COLLECTION = (40.0, 2.5)  # beta(a, b): a mean of 94%, most months between 88% and 99%


def _measures(rng: np.random.Generator, org: pd.DataFrame, actuals: pd.DataFrame) -> pd.DataFrame:
    """A year of non-revenue measures per seller: each A-tier account won on its own day
    (value 1), and each month's sales expense (over the month's booked sales) and cash
    collected (over the month's invoices, the booked sales), dated the month's last day.
    A month without sales has no ratio rows."""
    sellers = np.flatnonzero(org["role"].to_numpy() != "manager")
    ids = org["rep_id"].to_numpy()
    # accounts won: a seller's own rate (some open more doors), Poisson over the year
    rate = _NEW_ACCOUNTS_A_YEAR * rng.lognormal(-0.06, 0.35, len(sellers))
    won = rng.poisson(rate)
    who = np.repeat(sellers, won)
    day = np.datetime64(f"{_FISCAL_YEAR}-01-01") + rng.integers(0, 365, len(who))
    accounts = pd.DataFrame(
        {
            "rep_id": ids[who],
            "date": np.datetime_as_string(day, unit="D").astype(object),
            "measure": "new_a_accounts",
            "value": 1.0,
            "denominator": np.nan,
        }
    )
    # the month's booked sales (each rep's split share) are the ratios' denominators
    booked = actuals[actuals["type"] == "booking"]
    person = pd.Index(ids).get_indexer(booked["rep_id"])
    month = booked["date"].astype(str).str.slice(5, 7).astype(int).to_numpy() - 1
    sales = np.zeros((len(ids), 12))
    np.add.at(sales, (person, month), booked["amount"].to_numpy() * booked["split"].to_numpy())
    sales = np.round(sales[sellers], 2)
    # expense rate: each seller's own level around 10%, and month-to-month noise
    level = _EXPENSE_RATE * rng.lognormal(-0.02, 0.2, len(sellers))
    expense = np.round(sales * level[:, None] * rng.lognormal(-0.01, 0.15, sales.shape), 2)
    collected = np.round(sales * rng.beta(*_COLLECTION, sales.shape), 2)
    r, m = np.nonzero(sales > 0)
    ends = [
        (pd.Timestamp(_FISCAL_YEAR, k + 1, 1) + pd.offsets.MonthEnd(0)).strftime("%Y-%m-%d")
        for k in range(12)
    ]
    month_end = np.array(ends, dtype=object)[m]
    ratios = [
        pd.DataFrame(
            {
                "rep_id": ids[sellers[r]],
                "date": month_end,
                "measure": name,
                "value": value[r, m],
                "denominator": sales[r, m],
            }
        )
        for name, value in (("sales_expense_rate", expense), ("collection_rate", collected))
    ]
    frame = pd.concat([accounts, *ratios], ignore_index=True)
    return frame.sort_values(["date", "rep_id", "measure"], kind="stable").reset_index(drop=True)


def _manifest(products: tuple[str, ...]) -> str:
    return f"""\
# The sample company's manifest: what the company is and which file holds which table.
# Written by `attain sample`; see docs/data.md for every column.
kind: company
schema_version: 1
name: Sample Co
currency: EUR
minor_unit: 2
fiscal_year: {_FISCAL_YEAR}
fiscal_year_start: 1
# Org levels above the rep, top-down; each is a column of org.csv.
hierarchy: [region, team]
products: [{", ".join(products)}]
tables:
  org: org.csv
  accounts: accounts.csv
  history: history.csv
  actuals: actuals.csv
  # Non-revenue measures for KPI components (rules/plan_kpi_mbo.yaml): counts, and
  # ratios as numerator (value) and denominator.
  measures: measures.csv
# Potential is not given: it is derived from the accounts (revenue x growth),
# split over products by each rep's last 12 months of history.
# Tiers: the accounts making the top 70% of potential value are A, the next 20% B.
tier_shares: {{A: 0.70, B: 0.20, C: 0.10}}
"""
