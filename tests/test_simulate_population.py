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
