"""The deals a close used, what changed since the previous close, and which adjustment
lines each change explains.

A close records its deal rows (key ``deal_id, type, rep_id``) as versions: a row that is
new or whose content changed gets a version valid from this run; the version it replaces,
or a row that is gone, ends at this run. The content hash covers every field a payout
reads (date, product, amount, split, quantity, new customer), so an unchanged deal writes
nothing.

Each change is classified — ``added`` (a late deal), ``cancelled`` (a new cancellation
row), ``resized`` (the amount), ``re-credited`` (the split, or the row moved to another
rep), ``moved`` (the date), ``changed`` (product, quantity or new-customer flag),
``removed`` — and touches the lines it can change: under each plan, the people the row
is credited to (its rep, and through ``credit.roll_up`` their managers) in the fiscal
month of its date, before and after the change. An adjustment line of period ``Q``
names the changes that touch its plan and rep in ``Q`` (or, measuring the year to date,
in ``Q`` or before).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

__all__ = ["KEY", "changes", "deal_ids", "deal_rows", "name_deals", "touches"]

#: A deal row's key.
KEY = ["deal_id", "type", "rep_id"]

_EPOCH = np.datetime64("1970-01-01", "D")


def deal_ids(path) -> pd.Series | None:
    """The ``deal_id`` column of an actuals file, row for row (only that column is read
    from a CSV or Parquet file); ``None`` if it cannot be read."""
    from pathlib import Path

    from attain.data import read_table
    from attain.errors import InputError

    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            text = {"dtype": str, "keep_default_na": False, "encoding": "utf-8"}
            try:
                frame = pd.read_csv(path, engine="pyarrow", usecols=["deal_id"], **text)
            except (ValueError, OSError, ImportError):
                frame = pd.read_csv(path, usecols=["deal_id"], skipinitialspace=True, **text)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path, columns=["deal_id"])
        else:
            frame = read_table(path)
    except (InputError, ValueError, OSError, KeyError):
        return None
    return frame["deal_id"] if "deal_id" in frame.columns else None


def deal_rows(ids: pd.Series | None, book) -> pd.DataFrame | None:
    """The close's deal rows, from the actuals' deal ids (:func:`deal_ids`) and the book
    the payouts read (typed, row for row): ``deal_id, type, rep_id, date, product,
    amount, split, minor_unit, hash`` and ``row`` (the row in the book). ``None`` when
    the two do not align row for row (then no deal is named)."""
    d = book.deals
    n = len(d.amount)
    if ids is None or len(ids) != n:
        return None
    rep_ids = np.asarray(book.rep_ids).astype(str)
    products = np.asarray(book.products, dtype=object)
    rep = np.where(d.person >= 0, rep_ids[np.maximum(d.person, 0)], "")
    product = np.where(
        d.product >= 0, products[np.maximum(d.product, 0)] if len(products) else "", ""
    )
    date = (_EPOCH + d.day.astype("timedelta64[D]")).astype(str)
    product_hash = _label_hash(product)
    quantity = np.asarray(d.quantity, dtype=np.float64).view(np.int64)
    content = [d.day, product_hash, d.amount, d.split, quantity, d.new_customer]
    return pd.DataFrame(
        {
            "deal_id": ids.astype(str).str.strip().to_numpy(),
            "type": np.where(d.cancellation, "cancellation", "booking"),
            "rep_id": rep,
            "date": date,
            "product": product.astype(str),
            "amount": np.asarray(d.amount, dtype=np.int64),
            "split": np.asarray(d.split, dtype=np.int64),
            "minor_unit": int(book.minor_unit),
            "hash": content_hash(content),
            "row": np.arange(n),
        }
    )


def content_hash(columns: list[np.ndarray]) -> np.ndarray:
    """A 64-bit hash per row of integer columns (splitmix64 over each in turn): the same
    values give the same hash on every machine and version."""
    n = len(columns[0]) if columns else 0
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in columns:
            x = h ^ np.asarray(c).astype(np.int64).view(np.uint64)
            x = x + np.uint64(0x9E3779B97F4A7C15)
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            h = x ^ (x >> np.uint64(31))
    return h.view(np.int64)


def _label_hash(labels: np.ndarray) -> np.ndarray:
    codes, uniques = pd.factorize(pd.Series(labels, dtype=object))
    value = np.array(
        [int.from_bytes(hashlib.sha256(str(u).encode()).digest()[:8], "little") for u in uniques],
        dtype=np.uint64,
    )
    return value.view(np.int64)[codes] if len(uniques) else np.zeros(len(labels), np.int64)


def _keys(incoming: pd.DataFrame, current: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One int64 per row of each frame for its :data:`KEY`, comparable across the two
    (the key columns factorized together)."""
    n = len(incoming)
    codes = []
    for c in KEY:
        both = pd.concat([incoming[c].astype(object), current[c].astype(object)], ignore_index=True)
        if c == "type":  # booking or cancellation
            codes.append(((both == "cancellation").to_numpy(np.int64), 2))
            continue
        code, uniques = pd.factorize(both.to_numpy(dtype=object))
        codes.append((code.astype(np.int64), len(uniques) + 1))
    key = np.zeros(n + len(current), dtype=np.int64)
    for code, size in codes:
        key = key * size + code
    return key[:n], key[n:]


def changes(
    incoming: pd.DataFrame, current: pd.DataFrame, fetch, describe: bool = True
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame | int]:
    """Compare the close's deal rows with the ledger's current versions.

    ``current``: ``id`` + :data:`KEY` + ``hash`` of the versions valid now; ``fetch(ids)``
    returns the full rows of the versions with those ids (the ones that changed or went).
    Returns (the incoming rows to record as new versions, the ids of the versions that
    end, the changes: :data:`KEY`, ``change``, ``detail``, ``row`` (in the book; -1 for
    a row that went) and the old side's ``old_rep``, ``old_date``, ``old_product``,
    empty for added rows). Unchanged rows cost a few array operations, no per-row work.
    Without ``describe`` (no adjustment line to name them), the changes are only
    counted: the third item is their number.
    """
    new_key, old_key = _keys(incoming, current)
    at = pd.Index(old_key).get_indexer(new_key)  # each incoming row's current version
    matched = at >= 0
    new_hash = incoming["hash"].to_numpy(np.int64)
    old_hash = current["hash"].to_numpy(np.int64)
    changed = matched.copy()
    if len(old_hash):
        changed &= new_hash != old_hash[np.maximum(at, 0)]
    added = ~matched
    kept = np.zeros(len(current), dtype=bool)
    kept[at[matched]] = True
    gone = np.flatnonzero(~kept)
    old_ids = current["id"].to_numpy()
    new_rows = incoming[added | changed]
    ended_ids = np.concatenate([old_ids[at[changed]], old_ids[gone]]).astype(np.int64)
    if not describe:
        return new_rows, ended_ids, len(new_rows) + len(gone)
    if not len(new_rows) and not len(gone):
        return new_rows, ended_ids, _empty_changes()
    cols = [*KEY, "row", "date", "product", "amount", "split"]
    fresh = incoming.loc[added | changed, cols].reset_index(drop=True)
    version = np.full(len(incoming), -1, dtype=np.int64)
    version[changed] = old_ids[at[changed]]
    fresh["id"] = version[added | changed]
    fresh["_merge"] = np.where(changed[added | changed], "both", "left_only")
    went = current.iloc[gone][[*KEY, "id"]].reset_index(drop=True)
    went["_merge"] = "right_only"
    went["row"] = -1
    moved = pd.concat([fresh, went], ignore_index=True)
    old = fetch([int(i) for i in ended_ids]).set_index("id")
    has_old = moved["id"].to_numpy() >= 0
    take = moved["id"].to_numpy()
    for col in ("date", "product", "amount", "split", "minor_unit"):
        values: np.ndarray = (
            old[col].reindex(take).to_numpy(dtype=object)
            if len(old)
            else np.full(len(moved), None, dtype=object)
        )
        values[~has_old] = None
        moved[f"old_{col}"] = values
    kind = moved["_merge"].astype(str).to_numpy()
    is_added, is_removed = kind == "left_only", kind == "right_only"
    cancel = (moved["type"] == "cancellation").to_numpy()
    # A deal row gone from one rep and new for another: re-credited, on both sides.
    went_pairs = set(
        zip(moved.loc[is_removed, "deal_id"], moved.loc[is_removed, "type"], strict=True)
    )
    came_pairs = set(zip(moved.loc[is_added, "deal_id"], moved.loc[is_added, "type"], strict=True))
    both_pairs = list(went_pairs & came_pairs)
    pair = pd.MultiIndex.from_frame(moved[["deal_id", "type"]])
    recredit = pair.isin(both_pairs) if both_pairs else np.zeros(len(moved), bool)
    amount_old = pd.to_numeric(moved["old_amount"]).fillna(0).astype(np.int64).to_numpy()
    split_old = pd.to_numeric(moved["old_split"]).fillna(0).astype(np.int64).to_numpy()
    amount_new = moved["amount"].fillna(0).astype(np.int64).to_numpy()
    split_new = moved["split"].fillna(0).astype(np.int64).to_numpy()
    date_old = _text(moved["old_date"])
    date_new = _text(moved["date"])
    product_old = _text(moved["old_product"])
    product_new = _text(moved["product"])
    unit = int(incoming["minor_unit"].iloc[0]) if len(incoming) else 2
    same = ~is_added & ~is_removed
    change = np.select(
        [
            is_added & recredit,
            is_added & cancel,
            is_added,
            is_removed & recredit,
            is_removed,
            same & (amount_old != amount_new),
            same & (split_old != split_new),
            same & (date_old != date_new),
        ],
        ["re-credited", "cancelled", "added", "re-credited", "removed", "resized"]
        + ["re-credited", "moved"],
        default="changed",
    )
    money_new, money_old = _money(amount_new, unit), _money(amount_old, unit)
    share_new, share_old = _share(split_new), _share(split_old)
    rep = moved["rep_id"].astype(str).to_numpy(dtype=object)
    detail = np.select(
        [
            is_added & recredit,
            is_added & cancel,
            is_added,
            is_removed & recredit,
            is_removed,
            change == "resized",
            change == "re-credited",
            change == "moved",
            product_old != product_new,
        ],
        [
            "now credited to " + rep + " (" + share_new + ")",
            "cancelled " + money_new + " on " + date_new,
            "booked " + money_new + " on " + date_new,
            "no longer credited to " + rep,
            "removed (was " + money_old + " on " + date_old + ")",
            money_old + " → " + money_new,
            "split " + share_old + " → " + share_new,
            date_old + " → " + date_new,
            "product " + product_old + " → " + product_new,
        ],
        default="quantity or new-customer flag changed",
    )
    out = pd.DataFrame(
        {
            "deal_id": moved["deal_id"].astype(str).to_numpy(),
            "type": moved["type"].astype(str).to_numpy(),
            "rep_id": moved["rep_id"].astype(str).to_numpy(),
            "change": change,
            "detail": np.asarray(detail, dtype=object),
            "row": moved["row"].fillna(-1).astype(np.int64).to_numpy(),
            "old_rep": np.where(has_old, rep, ""),
            "old_date": date_old,
            "old_product": product_old,
        }
    )
    out = out.sort_values(KEY, kind="stable").reset_index(drop=True)
    return new_rows, ended_ids, out


def _empty_changes() -> pd.DataFrame:
    cols = [*KEY, "change", "detail", "row", "old_rep", "old_date", "old_product"]
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    out["row"] = out["row"].astype(np.int64)
    return out


def _text(values: pd.Series) -> np.ndarray:
    return values.fillna("").astype(str).to_numpy(dtype=object)


def _money(minor: np.ndarray, unit: int) -> np.ndarray:
    from attain.incentive.result import format_minor

    return format_minor(minor, unit).to_numpy(dtype=object)


def _share(millionths: np.ndarray) -> np.ndarray:
    pct = pd.Series(np.asarray(millionths, dtype=np.int64) / 10_000)
    return pct.map("{:g}%".format).to_numpy(dtype=object)


def touches(deal_changes: pd.DataFrame, plans: list, calendar) -> pd.DataFrame:
    """Which plan, rep and fiscal month each change can move: ``plan, rep_id, month`` and
    the change's :data:`KEY` (as ``deal_id, type, deal_rep``), ``change``, ``detail``.

    ``plans``: ``(name, compiled, book, credit)`` per plan. The new side of a change is
    found in the plan's credited rows (its rep and rolled-up managers); the old side is
    credited to its old rep in the month of its old date (products the plan does not
    credit left out), and to the managers the plan rolls that rep up to.
    """
    cols = ["plan", "rep_id", "month", "deal_id", "type", "deal_rep", "change", "detail"]
    if deal_changes.empty:
        return pd.DataFrame(columns=cols)
    frames = []
    for name, compiled, book, credit in plans:
        rep_ids = np.asarray(book.rep_ids).astype(str)
        # New side: the credited rows of the changed book rows.
        position = np.full(len(book.deals.amount), -1, dtype=np.int64)
        new = deal_changes["row"].to_numpy() >= 0
        position[deal_changes["row"].to_numpy()[new]] = np.flatnonzero(new)
        which = position[credit.order] if len(credit.order) else np.zeros(0, np.int64)
        sel = which >= 0
        frames.append(
            _touch(name, rep_ids[credit.person[sel]], credit.month[sel], deal_changes, which[sel])
        )
        # Old side: the old rep, the month of the old date, if the plan credits the product.
        old = np.flatnonzero(deal_changes["old_rep"].to_numpy() != "")
        if len(old):
            dates = deal_changes["old_date"].to_numpy()[old].astype("datetime64[D]")
            month = calendar.month_index(dates)
            product = pd.Index(book.products).get_indexer(deal_changes["old_product"].iloc[old])
            mask = compiled.credit.mask
            credited = (month >= 0) & (product >= 0)
            credited[credited] &= mask[product[credited]]
            old = old[credited]
            month = month[credited]
            reps = deal_changes["old_rep"].to_numpy()[old]
            frames.append(_touch(name, reps, month, deal_changes, old))
            managers = _managers(book, credit, rep_ids)
            if len(managers):
                up = pd.DataFrame({"member": reps, "month": month, "at": old}).merge(
                    managers, on="member"
                )
                frames.append(
                    _touch(
                        name,
                        up["manager"].to_numpy(),
                        up["month"].to_numpy(),
                        deal_changes,
                        up["at"].to_numpy(),
                    )
                )
    out = pd.concat(frames, ignore_index=True)
    return out.drop_duplicates(["plan", "rep_id", "month", "deal_id", "type", "deal_rep"])[cols]


def _touch(plan, reps, months, deal_changes: pd.DataFrame, at: np.ndarray) -> pd.DataFrame:
    at = np.asarray(at, dtype=np.int64)
    return pd.DataFrame(
        {
            "plan": plan,
            "rep_id": np.asarray(reps).astype(str),
            "month": np.asarray(months, dtype=np.int64),
            "deal_id": deal_changes["deal_id"].to_numpy()[at],
            "type": deal_changes["type"].to_numpy()[at],
            "deal_rep": deal_changes["rep_id"].to_numpy()[at],
            "change": deal_changes["change"].to_numpy()[at],
            "detail": deal_changes["detail"].to_numpy()[at],
        }
    )


def _managers(book, credit, rep_ids: np.ndarray) -> pd.DataFrame:
    """``member, manager``: the reps whose deal rows the plan copies to a manager."""
    copies = ~credit.own
    if not copies.any():
        return pd.DataFrame(columns=["member", "manager"])
    member = rep_ids[book.deals.person[credit.order[copies]]]
    manager = rep_ids[credit.person[copies]]
    return pd.DataFrame({"member": member, "manager": manager}).drop_duplicates()


def name_deals(
    adjust: pd.DataFrame, touched: pd.DataFrame, labels: list[str], calendar, ytd: dict
) -> pd.DataFrame:
    """The changes each adjustment line names: ``adjust`` has ``pos, plan, rep_id,
    for_period``; ``ytd`` maps a plan to whether it measures the year to date. Returns
    ``pos`` + ``deal_id, type, rep_id`` (the deal row's) + ``change, detail``."""
    cols = ["pos", "deal_id", "type", "rep_id", "change", "detail"]
    if adjust.empty or touched.empty:
        return pd.DataFrame(columns=cols)
    index = {label: i for i, label in enumerate(labels)}
    period_of = np.asarray(calendar.period_of_month())
    both = adjust[["pos", "plan", "rep_id", "for_period"]].merge(touched, on=["plan", "rep_id"])
    if both.empty:
        return pd.DataFrame(columns=cols)
    q = both["for_period"].map(index).to_numpy()
    p = period_of[both["month"].to_numpy()]
    cumulative = both["plan"].map(ytd).fillna(False).to_numpy(dtype=bool)
    both = both[np.where(cumulative, p <= q, p == q)]
    both = both.drop(columns=["rep_id"]).rename(columns={"deal_rep": "rep_id"})
    both = both.drop_duplicates(["pos", "deal_id", "type", "rep_id"])
    return both.sort_values(["pos", "deal_id", "type", "rep_id"], kind="stable")[cols]


def cause_text(named: pd.DataFrame, n_lines: int, shown: int = 3) -> np.ndarray:
    """Per adjustment position ``0 … n_lines-1``: ``deals: D1 added (booked …), …`` naming
    up to ``shown`` deals, then how many more; empty where none is named."""
    out = np.full(n_lines, "", dtype=object)
    if named.empty:
        return out
    label = named["deal_id"].astype(str) + " " + named["change"] + " (" + named["detail"] + ")"
    grouped = label.groupby(named["pos"].to_numpy(), sort=False)
    for pos, items in grouped:
        first = list(items.iloc[:shown])
        more = len(items) - len(first)
        out[int(pos)] = "deals: " + ", ".join(first) + (f" and {more} more" if more else "")
    return out
