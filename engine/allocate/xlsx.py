"""targets.xlsx: a sheet per org level, the reps' yearly targets, and a monthly card per rep.

Written with openpyxl's write-only mode (streams rows), then re-zipped with
fixed timestamps so the same allocation gives the same bytes.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from attain.output import atomic_path

if TYPE_CHECKING:
    from attain.allocate.result import Allocation

__all__ = ["write_workbook"]

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_STAMP = "2000-01-01T00:00:00Z"


def write_workbook(path: str | Path, allocation: Allocation) -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for level, frame in allocation.levels.items():
        _sheet(wb, level, frame)
    targets = allocation.targets
    hierarchy = [
        c
        for c in targets.columns
        if c not in ("rep_id", "period", "product", "target", "challenge")
    ]
    yearly = targets.pivot_table(
        index=["rep_id", *hierarchy], columns="product", values="target", aggfunc="sum", sort=True
    )
    products = list(dict.fromkeys(targets["product"]))
    yearly = yearly[products]
    yearly["total"] = yearly.sum(axis=1)
    yearly["challenge"] = targets.groupby(["rep_id", *hierarchy], sort=True)["challenge"].sum()
    _sheet(wb, "rep", yearly.reset_index())
    _cards(wb, targets, hierarchy, products)
    with atomic_path(path) as tmp:
        wb.save(tmp)
        _normalise(tmp)
    return Path(path)


def _sheet(wb, title: str, frame: pd.DataFrame) -> None:
    ws = wb.create_sheet(title[:31])
    ws.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        ws.append(list(row))


def _cards(wb, targets: pd.DataFrame, hierarchy: list[str], products: list[str]) -> None:
    """One block per rep: the months down, the products across, totals at the foot."""
    ws = wb.create_sheet("cards")
    grid = targets.pivot_table(
        index=["rep_id", "period"], columns="product", values="target", aggfunc="sum", sort=True
    )[products]
    grid["total"] = grid.sum(axis=1)
    grid["challenge"] = targets.groupby(["rep_id", "period"], sort=True)["challenge"].sum()
    head = targets.drop_duplicates("rep_id").set_index("rep_id")[hierarchy]
    for rep_id, block in grid.groupby(level=0, sort=True):
        where = " / ".join(str(head.at[rep_id, h]) for h in hierarchy)
        ws.append([f"Target card: {rep_id}", where])
        ws.append(["period", *products, "total", "challenge"])
        for (_, period), values in zip(block.index, block.to_numpy().tolist(), strict=True):
            ws.append([period, *values])
        ws.append(["year", *block.sum(axis=0).tolist()])
        ws.append([])


def _normalise(path: Path) -> None:
    """Rewrite the zip with fixed member times and document dates (byte-stable output)."""
    with zipfile.ZipFile(path) as src:
        members = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, data in members:
            if name == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*", rf"\g<1>{_STAMP}", text)
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
