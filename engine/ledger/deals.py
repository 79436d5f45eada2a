"""The deals a close used, what changed since the previous close, and which adjustment
lines each change explains.

A close records its deal rows (key ``deal_id, type, rep_id``) as versions: a row that is
new or whose content changed gets a version valid from this run; the version it replaces,
or a row that is gone, ends at this run. The content hash covers every field a payout
reads (date, product, amount, split, quantity, new customer), so an unchanged deal writes
nothing. The versions valid now are matched on a 64-bit hash of the key
(:func:`key_hash`), read in one row from the ledger's ``deal_index``; a close whose own
rows' key hashes collide (never seen) matches on the key's text instead.

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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "KEY",
    "DealRows",
    "changes",
    "deal_ids",
    "deal_rows",
    "exact_keys",
    "key_hashes",
    "key_scheme",
    "name_deals",
    "touches",
]

#: A deal row's key.
KEY = ["deal_id", "type", "rep_id"]

_EPOCH = np.datetime64("1970-01-01", "D")
#: A deal row's type by whether it is a cancellation (0, 1).
_TYPES = np.array(["booking", "cancellation"], dtype=object)


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


@dataclass(frozen=True)
class DealRows:
    """The close's deal rows, row for row with the book the payouts read: each row's key
    hash (:func:`key_hash` of ``deal_id, type, rep_id``) and content hash (every field a
    payout reads) as whole columns; the text of the rows to record is made only for them
    (:meth:`frame`), so an unchanged deal costs a few array operations."""

    key: np.ndarray  # int64 per row
    hash: np.ndarray  # int64 per row
    deal_id: np.ndarray  # object per row (shared str objects)
    book: Any
    at: np.ndarray  # int64 per row: its row in the book

    @property
    def day(self) -> np.ndarray:
        """Each row's date, as days since 1970-01-01."""
        return np.asarray(self.book.deals.day)[self.at]

    def __len__(self) -> int:
        return len(self.key)

    @property
    def minor_unit(self) -> int:
        return int(self.book.minor_unit)

    def frame(self, rows: np.ndarray) -> pd.DataFrame:
        """Rows ``rows`` as the ledger's ``deals`` has them: ``deal_id, type, rep_id, date,
        product, amount, split, minor_unit, hash`` and ``row`` (the row in the book)."""
        mine = np.asarray(rows, dtype=np.int64)
        d, rows = self.book.deals, self.at[mine]
        rep_ids = np.asarray(self.book.rep_ids).astype(str).astype(object)
        products = np.asarray(self.book.products, dtype=object)
        person, product = d.person[rows], d.product[rows]
        days, at = np.unique(d.day[rows], return_inverse=True)
        date = (_EPOCH + days.astype("timedelta64[D]")).astype(str).astype(object)[at]
        # Text columns kept as the Python strings they are (object): a million rows of
        # them converted to Arrow strings, then back to Python values to insert, cost
        # seconds for nothing.
        return pd.DataFrame(
            {
                "deal_id": _objects(self.deal_id[mine]),
                "type": _objects(_TYPES[d.cancellation[rows].astype(np.int64)]),
                "rep_id": _objects(np.where(person >= 0, rep_ids[np.maximum(person, 0)], "")),
                "date": _objects(date),
                "product": _objects(
                    np.where(product >= 0, products[np.maximum(product, 0)], "")
                    if len(products)
                    else np.full(len(rows), "", dtype=object)
                ),
                "amount": np.asarray(d.amount, dtype=np.int64)[rows],
                "split": np.asarray(d.split, dtype=np.int64)[rows],
                "minor_unit": self.minor_unit,
                "hash": self.hash[mine],
                "row": rows,
            }
        )


def deal_rows(book, ids: pd.Series | None = None, before: int | None = None) -> DealRows | None:
    """The close's deal rows from the book the payouts read (typed, row for row), with
    each row's deal id from the book (or, for a book without them, ``ids``: the actuals'
    deal ids row for row, :func:`deal_ids`). ``None`` when the ids are unknown or do not
    align with the book's rows (then no deal is named).

    ``before`` (days since 1970-01-01): only the rows dated before that day — a close
    records the rows of the periods it pays; a row dated later is a fact of a later
    close, recorded by it."""
    d = book.deals
    n = len(d.amount)
    at = np.arange(n, dtype=np.int64)
    if before is not None:
        at = np.flatnonzero(np.asarray(d.day) < before).astype(np.int64)
    if d.ids is not None:
        used, code = np.unique(np.asarray(d.deal)[at] // 2, return_inverse=True)
        unique = np.asarray(d.ids, dtype=object)[used]
        deal_id = unique[code]
        id_hash = _text_hash(unique)[code]  # each distinct id of these rows hashed once
    elif ids is not None and len(ids) == n:
        deal_id = ids.astype(str).str.strip().to_numpy(dtype=object)[at]
        id_hash = _text_hash(deal_id)
    else:
        return None
    rep_ids = np.asarray(book.rep_ids).astype(str)
    products = np.asarray(book.products, dtype=object)
    # The content hash: date, product (a hash of its name), amount, split, quantity, new
    # customer — the same values for the same row on every machine and version.
    labels = np.append(products.astype(str), "")  # code -1: no product
    product = np.asarray(d.product)[at]
    product_hash = _label_hash(labels)[np.where(product >= 0, product, len(labels) - 1)]
    quantity = np.asarray(d.quantity, dtype=np.float64)[at].view(np.int64)
    day, amount, split = (np.asarray(c)[at] for c in (d.day, d.amount, d.split))
    content = [day, product_hash, amount, split, quantity, np.asarray(d.new_customer)[at]]
    names = np.append(rep_ids, "").astype(object)  # person -1: no rep
    person = np.asarray(d.person)[at]
    rep_hash = _text_hash(names)[np.where(person >= 0, person, len(names) - 1)]
    return DealRows(
        key=key_hash(id_hash, np.asarray(d.cancellation)[at], rep_hash),
        hash=content_hash(content),
        deal_id=deal_id,
        book=book,
        at=at,
    )


def _objects(values: np.ndarray) -> pd.Series:
    """Python strings as an object column, as they are (a frame infers Arrow strings)."""
    return pd.Series(np.asarray(values, dtype=object), dtype=object, copy=False)


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


def key_hash(
    deal_id_hash: np.ndarray, cancellation: np.ndarray, rep_hash: np.ndarray
) -> np.ndarray:
    """A deal row's key (``deal_id, type, rep_id``) as one 64-bit integer, from the hashes
    of its texts (:func:`_text_hash`) and whether it is a cancellation."""
    return content_hash([deal_id_hash, np.asarray(cancellation, dtype=np.int64), rep_hash])


def key_hashes(frame: pd.DataFrame) -> np.ndarray:
    """:func:`key_hash` of the rows of a frame with :data:`KEY` as text columns."""
    return key_hash(
        _text_hash(frame["deal_id"].to_numpy(dtype=object)),
        (frame["type"] == "cancellation").to_numpy(),
        _text_hash(frame["rep_id"].to_numpy(dtype=object)),
    )


def _text_hash(values: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each text (SipHash-2-4 of its UTF-8 bytes under pandas' fixed
    key), int64; :func:`key_scheme` says whether it is the one a ledger's index used."""
    return pd.util.hash_array(np.asarray(values, dtype=object), categorize=False).view(np.int64)


def key_scheme() -> str:
    """How :func:`key_hash` makes keys, with the key of a probe row: a ledger's
    ``deal_index`` written another way (another pandas' text hashing) is not used, but
    rebuilt from its ``deals``."""
    text = _text_hash(np.array(["D-1 é", "R"], dtype=object))
    probe = key_hash(text[:1], np.array([True]), text[1:])
    return f"siphash24-splitmix64:{int(probe[0]) & 0xFFFFFFFFFFFFFFFF:016x}"


def _label_hash(labels: np.ndarray) -> np.ndarray:
    codes, uniques = pd.factorize(pd.Series(labels, dtype=object))
    value = np.array(
        [int.from_bytes(hashlib.sha256(str(u).encode()).digest()[:8], "little") for u in uniques],
        dtype=np.uint64,
    )
    return value.view(np.int64)[codes] if len(uniques) else np.zeros(len(labels), np.int64)


def exact_keys(incoming: DealRows, current: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One int64 per row of the incoming rows and of ``current`` (:data:`KEY` as text)
    for their key, comparable across the two and never colliding (the key columns
    factorized together): for when the key hashes of the incoming rows collide."""
    d, at = incoming.book.deals, incoming.at
    rep_ids = np.append(np.asarray(incoming.book.rep_ids).astype(str), "").astype(object)
    person = np.asarray(d.person)[at]
    mine = {
        "deal_id": incoming.deal_id,
        "type": np.asarray(d.cancellation, dtype=np.int64)[at],
        "rep_id": rep_ids[np.where(person >= 0, person, len(rep_ids) - 1)],
    }
    n = len(incoming)
    key = np.zeros(n + len(current), dtype=np.int64)
    for c in KEY:
        if c == "type":  # booking or cancellation
            theirs = (current["type"] == "cancellation").to_numpy(np.int64)
            key = key * 2 + np.concatenate([mine["type"], theirs])
            continue
        both = np.concatenate([mine[c], current[c].to_numpy(dtype=object)])
        code, uniques = pd.factorize(both)
        key = key * (len(uniques) + 1) + code.astype(np.int64)
    return key[:n], key[n:]


def changes(
    incoming: DealRows,
    new_key: np.ndarray,
    current: pd.DataFrame,
    fetch,
    describe: bool = True,
    since: int | None = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame | int]:
    """Compare the close's deal rows with the ledger's current versions.

    ``new_key``: each incoming row's key (:attr:`DealRows.key`, or :func:`exact_keys`);
    ``current``: ``id``, ``key`` (made the same way) and ``hash`` of the versions valid
    now; ``fetch(ids)`` returns the full rows of the versions with those ids (the ones
    that changed or went). Returns (the incoming rows to record as new versions, as
    positions in ``incoming``; the ids of the versions that end; the changes: :data:`KEY`, ``change``,
    ``detail``, ``row`` (in the book; -1 for a row that went) and the old side's
    ``old_rep``, ``old_date``, ``old_product``, empty for added rows). Unchanged rows
    cost a few array operations, no per-row work. Without ``describe`` (no adjustment
    line to name them), the changes are only counted: the third item is their number.

    ``since`` (days since 1970-01-01): a new row dated that day or later is of the period
    being closed, which no earlier close recorded — recorded, but not a change.

    Two keys of one hash (never seen, but possible): a new row taken for the changed
    version of a row that went records the same versions either way; when the changes
    are described, the fetched old row's key tells them apart.
    """
    at = pd.Index(current["key"].to_numpy(np.int64)).get_indexer(new_key)
    matched = at >= 0
    new_hash = incoming.hash
    old_hash = current["hash"].to_numpy(np.int64)
    changed = matched.copy()
    if len(old_hash):
        changed &= new_hash != old_hash[np.maximum(at, 0)]
    old_ids = current["id"].to_numpy(np.int64)
    kept = np.zeros(len(current), dtype=bool)
    kept[at[matched]] = True
    gone = np.flatnonzero(~kept)
    rows = np.flatnonzero(~matched | changed)
    ended_ids = np.concatenate([old_ids[at[changed]], old_ids[gone]]).astype(np.int64)
    late = rows if since is None else rows[matched[rows] | (incoming.day[rows] < since)]
    if not describe:
        return rows, ended_ids, len(late) + len(gone)
    if not len(late) and not len(gone):
        return rows, ended_ids, _empty_changes()
    cols = [*KEY, "row", "date", "product", "amount", "split"]
    fresh = incoming.frame(late)[cols]
    version = np.where(changed, old_ids[np.maximum(at, 0)], -1)[late]
    old = fetch([int(i) for i in ended_ids]).set_index("id")
    if len(old) and (version >= 0).any():  # a changed row's old version has its key
        mine = version >= 0
        theirs = old.reindex(version[mine])
        same = np.ones(int(mine.sum()), dtype=bool)
        for c in KEY:
            same &= theirs[c].astype(str).to_numpy() == fresh.loc[mine, c].astype(str).to_numpy()
        if not same.all():  # two keys of one hash: a row added and a row gone
            apart = np.flatnonzero(mine)[~same]
            gone_ids = version[apart]
            version[apart] = -1
            gone = np.concatenate([gone, np.flatnonzero(np.isin(old_ids, gone_ids))])
    fresh["id"] = version
    fresh["_merge"] = np.where(version >= 0, "both", "left_only")
    went = old.reindex(old_ids[gone])[KEY].reset_index(drop=True)
    went["id"] = old_ids[gone]
    went["_merge"] = "right_only"
    went["row"] = -1
    moved = pd.concat([fresh, went], ignore_index=True)
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
    unit = incoming.minor_unit
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
    return rows, ended_ids, out


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
