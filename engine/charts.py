"""Small inline SVG charts for every page, drawn by hand: no scripts, no fonts, no libraries.

Every function returns one ``<svg>`` element as :class:`~attain.page.Markup` (a
:class:`~attain.page.Figure` puts it on a page), sized by its ``viewBox`` so the page can
scale it; text in it is escaped. Colours come from one palette so a series keeps its
colour across charts. A budget or limit is drawn as a red dashed line with its label.
Coordinates have fixed decimals, so equal data gives equal bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from attain.page import Markup, escape

__all__ = [
    "PALETTE",
    "bars",
    "colour",
    "histogram",
    "lines",
    "money",
    "percent",
    "swatch",
    "tornado",
]

PALETTE = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#4b5563")
_W, _H = 640, 300
_PAD = (64, 16, 28, 40)  # left, right, top, bottom


def money(x: float) -> str:
    """Compact amounts for axes: 1.2M, 350k, 900."""
    a = abs(x)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= size:
            return f"{x / size:.3g}{suffix}"
    return f"{x:.3g}"


def percent(x: float) -> str:
    """Axis percentages: 7%, 6.5%."""
    return f"{x * 100:.3g}%"


def colour(i: int) -> str:
    """The ``i``-th series colour."""
    return PALETTE[i % len(PALETTE)]


def swatch(fill: str, size: int = 12) -> Markup:
    """A small coloured square, for legends written as tables."""
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" aria-hidden="true"><rect width="{size}" height="{size}" '
        f'rx="2" fill="{escape(fill)}"/></svg>'
    )


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 1)]


def _open(title: str, height: int = _H) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {height}" role="img" '
        f'class="chart"><title>{escape(title)}</title>'
    ]


def _axes(parts: list[str], x0, x1, y0, y1, yticks, fmt, height=_H) -> None:
    left, right, top, bottom = _PAD
    for t in yticks:
        y = _sy(t, y0, y1, height)
        parts.append(
            f'<line x1="{left}" x2="{_W - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(t))}</text>'
        )
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{height - bottom}" class="axis"/>')
    parts.append(
        f'<line x1="{left}" x2="{_W - right}" y1="{height - bottom}" y2="{height - bottom}" class="axis"/>'
    )


def _sx(x, x0, x1) -> float:
    left, right = _PAD[0], _PAD[1]
    return left + (x - x0) / ((x1 - x0) or 1) * (_W - left - right)


def _sy(y, y0, y1, height=_H) -> float:
    top, bottom = _PAD[2], _PAD[3]
    return height - bottom - (y - y0) / ((y1 - y0) or 1) * (height - top - bottom)


def _legend(parts: list[str], names: Sequence[str]) -> None:
    x = _PAD[0] + 8
    for i, name in enumerate(names):
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{colour(i)}"/>')
        parts.append(f'<text x="{x + 14}" y="15">{escape(name)}</text>')
        x += 24 + 7.5 * len(name)


def _vline(parts: list[str], x: float, label: str, cls: str, height: int = _H) -> None:
    parts.append(
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{_PAD[2]}" y2="{height - _PAD[3]}" class="{cls}"/>'
    )
    anchor = "end" if x > _W * 0.7 else "start"
    dx = -4 if anchor == "end" else 4
    parts.append(
        f'<text x="{x + dx:.1f}" y="{_PAD[2] + 12}" text-anchor="{anchor}" class="{cls}">'
        f"{escape(label)}</text>"
    )


def histogram(
    series: dict[str, np.ndarray],
    title: str,
    xlabel: str = "total payout per simulated year",
    fmt: Callable[[float], str] = money,
    budget: tuple[str, float] | None = None,
    marks: dict[str, float] | None = None,
) -> Markup:
    """Overlaid histograms (outlines) of per-trial values, one per series.

    ``budget`` is ``(label, value)``, drawn as a red line (the axis stretches to show it);
    ``marks`` are other labelled values (dashed grey lines).
    """
    values = [np.asarray(v, float) for v in series.values()]
    values = [v[np.isfinite(v)] for v in values]
    if not values or not any(v.size for v in values):
        return _empty(title)
    lo = min(float(v.min()) for v in values if v.size)
    hi = max(float(v.max()) for v in values if v.size)
    if budget is not None and np.isfinite(budget[1]):
        lo, hi = min(lo, budget[1]), max(hi, budget[1])
    if hi <= lo:
        hi = lo + max(1.0, abs(lo) * 0.01)
    span = hi - lo
    lo, hi = lo - 0.02 * span, hi + 0.02 * span
    edges = np.linspace(lo, hi, 41)
    counts = [np.histogram(v, bins=edges)[0] / max(len(v), 1) for v in values]
    top = max(float(c.max()) for c in counts) * 1.15 or 1.0
    parts = _open(title)
    _axes(parts, lo, hi, 0, top, _ticks(0, top, 4), percent)
    for i, c in enumerate(counts):
        pts = []
        for j, share in enumerate(c):
            xa, xb, y = _sx(edges[j], lo, hi), _sx(edges[j + 1], lo, hi), _sy(share, 0, top)
            pts += [f"{xa:.1f},{y:.1f}", f"{xb:.1f},{y:.1f}"]
        parts.append(
            f'<polyline points="{" ".join(pts)}" fill="none" stroke="{colour(i)}" stroke-width="2"/>'
        )
    for label, x in (marks or {}).items():
        if lo <= x <= hi:
            _vline(parts, _sx(x, lo, hi), label, "mark")
    if budget is not None and np.isfinite(budget[1]):
        _vline(parts, _sx(budget[1], lo, hi), budget[0], "budget")
    for t in _ticks(lo, hi, 6):
        parts.append(
            f'<text x="{_sx(t, lo, hi):.1f}" y="{_H - 22}" text-anchor="middle">{escape(fmt(t))}</text>'
        )
    _legend(parts, list(series))
    parts.append(f'<text x="{_W / 2}" y="{_H - 4}" text-anchor="middle">{escape(xlabel)}</text>')
    return Markup("".join(parts) + "</svg>")


def lines(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    title: str,
    xlabel: str,
    xfmt: Callable[[float], str] = lambda t: f"{t:.0%}",
    yfmt: Callable[[float], str] = money,
) -> Markup:
    """Lines with points: x and y per series (the pay curve)."""
    xs = [x for s in series.values() for x in s[0]]
    ys = [y for s in series.values() for y in s[1]]
    if not xs:
        return _empty(title)
    x0, x1 = min(xs), max(xs)
    y1 = max(ys + [0.0]) * 1.1 or 1.0
    y0 = min(ys + [0.0])
    parts = _open(title)
    _axes(parts, x0, x1, y0, y1, _ticks(y0, y1, 4), yfmt)
    for i, (x, y) in enumerate(series.values()):
        pts = " ".join(
            f"{_sx(a, x0, x1):.1f},{_sy(b, y0, y1):.1f}" for a, b in zip(x, y, strict=True)
        )
        parts.append(
            f'<polyline points="{pts}" fill="none" stroke="{colour(i)}" stroke-width="2"/>'
        )
        for a, b in zip(x, y, strict=True):
            parts.append(
                f'<circle cx="{_sx(a, x0, x1):.1f}" cy="{_sy(b, y0, y1):.1f}" r="3" fill="{colour(i)}"/>'
            )
    for t in _ticks(x0, x1, 6):
        parts.append(
            f'<text x="{_sx(t, x0, x1):.1f}" y="{_H - 22}" text-anchor="middle">{escape(xfmt(t))}</text>'
        )
    _legend(parts, list(series))
    parts.append(f'<text x="{_W / 2}" y="{_H - 4}" text-anchor="middle">{escape(xlabel)}</text>')
    return Markup("".join(parts) + "</svg>")


def bars(
    groups: list[str],
    series: dict[str, list[tuple[float, float, float]]],
    title: str,
    ylabel: str = "expected total payout, with the range of 90% of years",
    fmt: Callable[[float], str] = money,
    budget: tuple[str, float] | None = None,
) -> Markup:
    """Grouped bars (the expected value) with whiskers (P5–P95): groups are cases, series
    plans. ``budget`` ``(label, value)`` is drawn across as a red line."""
    highs = [h for s in series.values() for (_, _, h) in s]
    if not highs or not groups:
        return _empty(title)
    top = max(highs + [0.0] + ([budget[1]] if budget else [])) * 1.12 or 1.0
    parts = _open(title)
    _axes(parts, 0, 1, 0, top, _ticks(0, top, 4), fmt)
    n_series = len(series)
    width = (_W - _PAD[0] - _PAD[1]) / max(1, len(groups))
    bar = width * 0.8 / max(1, n_series)
    for g, group in enumerate(groups):
        gx = _PAD[0] + g * width + width * 0.1
        for i, values in enumerate(series.values()):
            mean, low, high = values[g]
            x = gx + i * bar
            y = _sy(mean, 0, top)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.9:.1f}" '
                f'height="{_H - _PAD[3] - y:.1f}" fill="{colour(i)}" opacity="0.85"/>'
            )
            cx = x + bar * 0.45
            parts.append(
                f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{_sy(low, 0, top):.1f}" '
                f'y2="{_sy(high, 0, top):.1f}" class="whisker"/>'
            )
        parts.append(
            f'<text x="{gx + width * 0.4:.1f}" y="{_H - 22}" text-anchor="middle">{escape(group)}</text>'
        )
    if budget is not None:
        y = _sy(budget[1], 0, top)
        parts.append(
            f'<line x1="{_PAD[0]}" x2="{_W - _PAD[1]}" y1="{y:.1f}" y2="{y:.1f}" class="budget"/>'
        )
        parts.append(
            f'<text x="{_W - _PAD[1] - 4}" y="{y - 4:.1f}" text-anchor="end" class="budget">'
            f"{escape(budget[0])}</text>"
        )
    _legend(parts, list(series))
    parts.append(f'<text x="{_W / 2}" y="{_H - 4}" text-anchor="middle">{escape(ylabel)}</text>')
    return Markup("".join(parts) + "</svg>")


def tornado(
    rows: list[dict], title: str, base_label: str = "expected", fmt: Callable[[float], str] = money
) -> Markup:
    """Horizontal bars from the base cost to the low (parameter lower) and high (higher)
    cases; ``rows`` have ``label`` (or ``parameter``), ``cost_base``, ``cost_low``,
    ``cost_high`` and ``swing``, largest first."""
    rows = [r for r in rows if r["swing"] > 0][:12]
    if not rows:
        return _empty(title)
    height = 40 + 24 * len(rows)
    base = rows[0]["cost_base"]
    ends = [c for r in rows for c in (r["cost_low"], r["cost_high"]) if c is not None] + [base]
    lo, hi = min(ends), max(ends)
    span = (hi - lo) or 1.0
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    left = 220
    parts = _open(title, height)

    def sx(x: float) -> float:
        return left + (x - lo) / (hi - lo) * (_W - left - 20)

    for i, r in enumerate(rows):
        y = 20 + 24 * i
        name = r.get("label", r["parameter"])
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(name)}</text>')
        for value, cls in ((r["cost_low"], "low"), (r["cost_high"], "high")):
            if value is None:
                continue
            a, b = sorted((sx(base), sx(value)))
            parts.append(
                f'<rect x="{a:.1f}" y="{y + 3}" width="{max(b - a, 1):.1f}" height="16" class="{cls}"/>'
            )
    parts.append(
        f'<line x1="{sx(base):.1f}" x2="{sx(base):.1f}" y1="14" y2="{height - 18}" class="mark"/>'
    )
    parts.append(
        f'<text x="{sx(base):.1f}" y="{height - 4}" text-anchor="middle">'
        f"{escape(base_label)} {escape(fmt(base))}</text>"
    )
    return Markup("".join(parts) + "</svg>")


def _empty(title: str) -> Markup:
    return Markup("".join(_open(title, 60)) + '<text x="10" y="30">no data</text></svg>')
