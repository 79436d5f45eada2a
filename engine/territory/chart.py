"""A self-contained HTML page (inline SVG, no scripts, works offline): map, bands, front.

The map projects longitude × cos(mean latitude) against latitude, which is
close enough for a region; each rep has a colour (golden-angle hues), moved
units are ringed in black, offices are squares. Numbers are formatted with
fixed decimals so equal alignments give equal bytes.
"""

from __future__ import annotations

import html

import numpy as np

from attain.territory.result import Alignment

__all__ = ["render_html"]

_W, _H, _PAD = 900, 560, 20


def render_html(alignment: Alignment) -> str:
    title = html.escape(alignment.name)
    g = alignment.goals
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title>",
        "<style>body{font-family:sans-serif;margin:24px;color:#222}"
        "svg{border:1px solid #ddd;background:#fcfcfc}</style></head><body>",
        f"<h1>{title}</h1>",
        f"<p>{alignment.status}, solver {html.escape(alignment.solver)}, "
        f"{g['units_moved']} units moved, travel {g['distance_km']:.1f} km, "
        f"disruption {g['disruption']:,.6g}</p>",
    ]
    if alignment.geometry is not None:
        parts += ["<h2>Map</h2>", _map(alignment)]
    for band in alignment.bands:
        parts += [f"<h2>{html.escape(band['name'])} per rep</h2>", _band_chart(alignment, band)]
    if alignment.pareto is not None:
        parts += ["<h2>Efficient front</h2>", _front(alignment)]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _colour(index: np.ndarray) -> np.ndarray:
    hue = (index * 137.508) % 360
    return np.array([f"hsl({h:.1f},65%,48%)" for h in hue], dtype=object)


def _project(lat, lon, bounds) -> tuple[np.ndarray, np.ndarray]:
    lat0, lat1, lon0, lon1, k = bounds
    # One scale for both axes (shapes stay true), as large as the frame allows.
    scale = min(
        (_W - 2 * _PAD) / max((lon1 - lon0) * k, 1e-9), (_H - 2 * _PAD) / max(lat1 - lat0, 1e-9)
    )
    x = _PAD + (lon - lon0) * k * scale
    y = _H - _PAD - (lat - lat0) * scale
    return x, y


def _map(alignment: Alignment) -> str:
    geo = alignment.geometry
    lat = np.concatenate([geo["unit_lat"], geo["office_lat"]])
    lon = np.concatenate([geo["unit_lon"], geo["office_lon"]])
    k = float(np.cos(np.radians(lat.mean())))
    bounds = (lat.min(), lat.max(), lon.min(), lon.max(), k)
    rep_ids = alignment.reps["rep_id"].to_numpy()
    rep_index = {r: i for i, r in enumerate(rep_ids)}
    colour = _colour(np.arange(len(rep_ids)))
    owner = np.array([rep_index[r] for r in alignment.assignment["rep_id"]])
    moved = alignment.assignment["moved"].to_numpy()
    ux, uy = _project(geo["unit_lat"], geo["unit_lon"], bounds)
    ox, oy = _project(geo["office_lat"], geo["office_lon"], bounds)
    dots = [
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{c}"'
        + (' stroke="#000" stroke-width="0.8"' if m else "")
        + "/>"
        for x, y, c, m in zip(ux, uy, colour[owner], moved, strict=True)
    ]
    offices = [
        f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{c}" stroke="#222">'
        f"<title>{html.escape(str(r))}</title></rect>"
        for x, y, c, r in zip(ox, oy, colour, rep_ids, strict=True)
    ]
    return _svg(_W, _H, dots + offices)


def _band_chart(alignment: Alignment, band: dict) -> str:
    name = band["name"]
    before = alignment.reps[f"{name}_before"].to_numpy(dtype=float)
    after = alignment.reps[name].to_numpy(dtype=float)
    top = max(before.max(initial=0), after.max(initial=0), band["max"] or 0, 1e-9) * 1.05
    n = len(after)
    x = _PAD + (np.arange(n) + 0.5) / max(n, 1) * (_W - 2 * _PAD)

    def y(v):
        return _H / 2 - _PAD - np.asarray(v) / top * (_H / 2 - 2 * _PAD)

    items = [
        f'<circle cx="{a:.1f}" cy="{b:.1f}" r="1.6" fill="#bbb"/>'
        for a, b in zip(x, y(before), strict=True)
    ]
    items += [
        f'<circle cx="{a:.1f}" cy="{b:.1f}" r="1.8" fill="#1f6fb4"/>'
        for a, b in zip(x, y(after), strict=True)
    ]
    for bound in (band["min"], band["max"]):
        if bound is not None and bound > 0:
            items.append(
                f'<line x1="{_PAD}" x2="{_W - _PAD}" y1="{y(bound):.1f}" y2="{y(bound):.1f}" '
                'stroke="#c33" stroke-dasharray="4 3"/>'
            )
    items.append(
        f'<text x="{_PAD}" y="{_H / 2 - 4:.0f}" font-size="12">grey: before · blue: after · '
        "red: band</text>"
    )
    return _svg(_W, _H // 2, items)


def _front(alignment: Alignment) -> str:
    front = alignment.pareto
    dx = front["disruption"].to_numpy(dtype=float)
    dy = front["distance_km"].to_numpy(dtype=float)

    def scale(v):
        lo, hi = v.min(), v.max()
        return (v - lo) / (hi - lo) if hi > lo else np.full(len(v), 0.5)

    x = 60 + scale(dx) * (_W - 100)
    y = _H / 2 - 40 - scale(dy) * (_H / 2 - 80)
    line = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True))
    items = [f'<polyline points="{line}" fill="none" stroke="#1f6fb4"/>']
    items += [
        f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="#1f6fb4"><title>disruption {d:.4g}, '
        f"distance {km:.1f} km</title></circle>"
        for a, b, d, km in zip(x, y, dx, dy, strict=True)
    ]
    items.append(
        f'<text x="60" y="{_H / 2 - 10:.0f}" font-size="12">disruption → (distance ↑)</text>'
    )
    return _svg(_W, _H // 2, items)


def _svg(width: int, height: int, items: list[str]) -> str:
    body = "\n".join(items)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">\n{body}\n</svg>'
    )
