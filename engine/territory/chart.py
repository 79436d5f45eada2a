"""map.html: the alignment as a page — territories as regions, the bands, the front.

Built on the shared page shell (:mod:`attain.page`): one self-contained file, no scripts.

The map projects longitude × cos(mean latitude) against latitude, which is close
enough for a region. Each rep's territory is drawn as a region: the frame is cut
into small cells, each cell goes to the rep who owns its nearest unit (a Voronoi
diagram of the units, on a grid, with numpy), cells far from every unit stay blank,
and the cells of one rep merge into one shape with a border. Territories are
coloured by team (the lowest org level above the rep, from the legend), reps of a
team in alternating shades of its colour, each labelled with its rep id; moved
units are ringed, offices are squares. Numbers are formatted with fixed decimals so
equal alignments give equal bytes.
"""

from __future__ import annotations

import colorsys

import numpy as np

from attain import charts
from attain.page import (
    Block,
    Document,
    Figure,
    KeyFigure,
    KeyFigures,
    Markup,
    Section,
    Table,
    escape,
    plain,
    render,
)
from attain.territory.result import Alignment

__all__ = ["render_html", "territory_cells"]

_W, _H, _PAD = 900, 560, 20
_CELL = 4.0  # px per grid cell of the regions
_SHADES = (0.0, 0.07, -0.05, 0.12)  # lightness offsets of the reps within a team


def render_html(alignment: Alignment) -> str:
    return render(map_document(alignment))


def map_document(alignment: Alignment) -> Document:
    g = alignment.goals
    keys = [
        KeyFigure("Accounts moved", f"{int(g['units_moved']):,} of {len(alignment.assignment):,}"),
        KeyFigure(
            "Travel after the re-cut", f"{g['distance_km']:,.1f} km", _travel_note(alignment)
        ),
        KeyFigure("Disruption", f"{g['disruption']:,.0f}", "the moved accounts' weight"),
        KeyFigure("Solution", plain(alignment.status), f"solver {alignment.solver}"),
    ]
    blocks: list[Block] = [KeyFigures(keys)]
    if alignment.geometry is not None:
        svg, legend = _map(alignment)
        blocks.append(
            Section(
                "Territories",
                [
                    Figure(
                        svg,
                        "Each region is one rep's territory (the area nearest its accounts); "
                        "dark lines part teams, white lines reps; ringed dots changed owner.",
                        wide=True,
                    ),
                    legend,
                ],
                id="map",
            )
        )
    blocks.append(_reps_table(alignment))
    for band in alignment.bands:
        blocks.append(
            Section(
                f"{_name(band['name'])} per rep",
                [Figure(_band_chart(alignment, band), _band_caption(band))],
            )
        )
    if alignment.pareto is not None:
        blocks.append(
            Section(
                "Travel against disruption",
                [
                    Figure(
                        _front(alignment),
                        "Each point is an alignment no other beats on both travel and disruption.",
                    )
                ],
            )
        )
    return Document(title=alignment.name, blocks=blocks, facts=_facts(alignment))


def _facts(alignment: Alignment) -> str:
    return (
        f"{len(alignment.reps):,} reps · {len(alignment.assignment):,} accounts · "
        f"{alignment.units_moved:,} moved"
    )


def _travel_note(alignment: Alignment) -> str:
    reps = alignment.reps
    if "distance_km_before" in reps and "distance_km_after" in reps:
        before = float(reps["distance_km_before"].sum())
        return f"before: {before:,.1f} km"
    return ""


def _groups(alignment: Alignment) -> tuple[str, np.ndarray]:
    """The level that colours the map (the lowest above the rep) and each rep's group."""
    rep_ids = alignment.reps["rep_id"].astype(str).to_numpy()
    company = alignment.company
    if company is not None and company.hierarchy:
        level = company.hierarchy[-1]
        org = company.org.assign(rep_id=company.org["rep_id"].astype(str)).set_index("rep_id")
        if level in org:
            group = org[level].reindex(rep_ids).fillna("–").astype(str).to_numpy()
            return level, group
    return "territory", np.full(len(rep_ids), "all", dtype=object)


def _colours(groups: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Group names in first-seen order, each rep's fill and each group's base colour."""
    names = list(dict.fromkeys(groups.tolist()))
    index = {name: i for i, name in enumerate(names)}
    group_code = np.array([index[g] for g in groups.tolist()], dtype=np.int64)
    # rank of each rep within its group → a shade
    rank = np.zeros(len(groups), dtype=np.int64)
    seen: dict[int, int] = {}
    for i, code in enumerate(group_code.tolist()):
        rank[i] = seen.get(code, 0)
        seen[code] = rank[i] + 1
    base = np.array([_tone(charts.colour(i), 0.0) for i in range(len(names))], dtype=object)
    fill = np.array(
        [
            _tone(charts.colour(c), _SHADES[r % len(_SHADES)])
            for c, r in zip(group_code.tolist(), rank.tolist(), strict=True)
        ],
        dtype=object,
    )
    return names, fill, base


def _tone(hex_colour: str, shift: float) -> str:
    """``hex_colour`` lighter (``shift`` > 0) or darker, as a softened map fill."""
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, lightness, s = colorsys.rgb_to_hls(r, g, b)
    lightness = min(0.9, max(0.25, 0.62 + shift))
    r, g, b = colorsys.hls_to_rgb(h, lightness, s * 0.75)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


_MAX_H = 720


def _frame(lat: np.ndarray, lon: np.ndarray):
    """The projection of the map onto a frame ``_W`` wide, as tall as the region's shape
    needs (at most ``_MAX_H``): ``(project, height)``."""
    k = float(np.cos(np.radians(lat.mean())))
    lat0, lat1, lon0, lon1 = float(lat.min()), float(lat.max()), float(lon.min()), float(lon.max())
    wide = max((lon1 - lon0) * k, 1e-9)
    tall = max(lat1 - lat0, 1e-9)
    # One scale for both axes (shapes stay true), as large as the frame allows.
    scale = (_W - 2 * _PAD) / wide
    height = tall * scale + 2 * _PAD
    if height > _MAX_H:
        scale = (_MAX_H - 2 * _PAD) / tall
        height = _MAX_H
    height = int(np.ceil(max(height, 200)))
    left = (_W - wide * scale) / 2

    def project(la, lo) -> tuple[np.ndarray, np.ndarray]:
        x = left + (np.asarray(lo) - lon0) * k * scale
        y = height / 2 + (tall / 2 - (np.asarray(la) - lat0)) * scale
        return x, y

    return project, height


def territory_cells(
    x: np.ndarray, y: np.ndarray, owner: np.ndarray, width: float, height: float, cell: float
) -> np.ndarray:
    """The owner of each grid cell (rows × columns of ``cell`` px): the owner of the
    nearest point, or -1 where the nearest point is farther than ``reach`` (about a
    typical spacing between points), so blank land stays blank."""
    cols, rows = int(np.ceil(width / cell)), int(np.ceil(height / cell))
    out = np.full(rows * cols, -1, dtype=np.int64)
    if len(x) == 0:
        return out.reshape(rows, cols)
    spread = max(float(np.ptp(x)) * float(np.ptp(y)), cell * cell)
    reach = max(3.0 * cell, 1.2 * np.sqrt(spread / len(x)))
    cx = ((np.arange(cols) + 0.5) * cell).astype(np.float32)
    cy = ((np.arange(rows) + 0.5) * cell).astype(np.float32)
    gx = np.tile(cx, rows)
    gy = np.repeat(cy, cols)
    px, py = np.asarray(x, np.float32), np.asarray(y, np.float32)
    step = max(1, 2_000_000 // max(len(x), 1))  # cells per chunk: bounded memory
    for lo in range(0, len(gx), step):
        hi = min(len(gx), lo + step)
        d2 = np.subtract.outer(gx[lo:hi], px)  # elementwise float32: the same on every machine
        np.square(d2, out=d2)
        dy = np.subtract.outer(gy[lo:hi], py)
        np.square(dy, out=dy)
        d2 += dy
        nearest = np.argmin(d2, axis=1)  # ties: the first point, so equal data, equal map
        close = d2[np.arange(hi - lo), nearest] <= np.float32(reach * reach)
        out[lo:hi] = np.where(close, owner[nearest], -1)
    return out.reshape(rows, cols)


def _region_paths(grid: np.ndarray, cell: float) -> dict[int, str]:
    """Per owner, an SVG path of its cells (row runs merged into rectangles)."""
    rows, cols = grid.shape
    change = np.ones((rows, cols), dtype=bool)
    change[:, 1:] = grid[:, 1:] != grid[:, :-1]
    r, start = np.nonzero(change)
    ends = np.append(start[1:], cols)
    ends[np.append(r[1:] != r[:-1], True)] = cols  # a run ends at its row's end
    owner = grid[r, start]
    keep = owner >= 0
    r, start, ends, owner = r[keep], start[keep], ends[keep], owner[keep]
    order = np.argsort(owner, kind="stable")
    paths: dict[int, list[str]] = {}
    for o, row, a, b in zip(
        owner[order].tolist(),
        r[order].tolist(),
        start[order].tolist(),
        ends[order].tolist(),
        strict=True,
    ):
        paths.setdefault(o, []).append(
            f"M{a * cell:.0f} {row * cell:.0f}h{(b - a) * cell:.0f}v{cell:.0f}h{-(b - a) * cell:.0f}z"
        )
    return {o: "".join(p) for o, p in paths.items()}


def _borders(grid: np.ndarray, cell: float) -> str:
    """One path along every edge between cells of different values of ``grid`` (-1 is
    blank: edges between two blank cells are not drawn)."""
    padded = np.pad(grid, 1, constant_values=-1)
    left, right = padded[1:-1, :-1], padded[1:-1, 1:]  # rows × (cols + 1): edge left of column j
    above, below = padded[:-1, 1:-1], padded[1:, 1:-1]  # (rows + 1) × cols: edge above row i
    vertical = (left != right) & ((left >= 0) | (right >= 0))
    horizontal = (above != below) & ((above >= 0) | (below >= 0))
    vi, vj = np.nonzero(vertical)
    hi, hj = np.nonzero(horizontal)
    parts = [
        f"M{j * cell:.0f} {i * cell:.0f}v{cell:.0f}"
        for i, j in zip(vi.tolist(), vj.tolist(), strict=True)
    ]
    parts += [
        f"M{j * cell:.0f} {i * cell:.0f}h{cell:.0f}"
        for i, j in zip(hi.tolist(), hj.tolist(), strict=True)
    ]
    return "".join(parts)


def _map(alignment: Alignment) -> tuple[Markup, Block]:
    geo = alignment.geometry
    assert geo is not None
    project, height = _frame(
        np.concatenate([geo["unit_lat"], geo["office_lat"]]),
        np.concatenate([geo["unit_lon"], geo["office_lon"]]),
    )
    rep_ids = alignment.reps["rep_id"].astype(str).to_numpy()
    rep_index = {r: i for i, r in enumerate(rep_ids)}
    owner = np.array([rep_index[str(r)] for r in alignment.assignment["rep_id"]], dtype=np.int64)
    moved = alignment.assignment["moved"].to_numpy(dtype=bool)
    ux, uy = project(geo["unit_lat"], geo["unit_lon"])
    ox, oy = project(geo["office_lat"], geo["office_lon"])
    level, groups = _groups(alignment)
    names, fill, base = _colours(groups)

    grid = territory_cells(ux, uy, owner, _W, height, _CELL)
    items = [f'<rect width="{_W}" height="{height}" fill="#f8fafc"/>']
    for o, path in _region_paths(grid, _CELL).items():
        items.append(
            f'<path d="{path}" fill="{fill[o]}"><title>{escape(rep_ids[o])} · '
            f"{escape(groups[o])}</title></path>"
        )
    group_code = np.array([names.index(g) for g in groups.tolist()] + [-1], dtype=np.int64)
    team_grid = group_code[grid]  # -1 (blank) indexes the appended -1
    items.append(
        f'<path d="{_borders(grid, _CELL)}" fill="none" stroke="#fff" stroke-width="0.7"/>'
    )
    items.append(
        f'<path d="{_borders(team_grid, _CELL)}" fill="none" stroke="#1f2937" stroke-width="1"/>'
    )
    items += [
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.3" fill="#1f2937" fill-opacity="0.5"/>'
        for x, y in zip(ux[~moved], uy[~moved], strict=True)
    ]
    items += [
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.9" fill="#fff" stroke="#111827" stroke-width="0.8"/>'
        for x, y in zip(ux[moved], uy[moved], strict=True)
    ]
    items += [
        f'<rect x="{x - 2.5:.1f}" y="{y - 2.5:.1f}" width="5" height="5" fill="#111827" stroke="#fff" '
        f'stroke-width="1"><title>office of {escape(r)}</title></rect>'
        for x, y, r in zip(ox, oy, rep_ids, strict=True)
    ]
    # a label per territory, at the middle of its cells
    rows, cols = np.nonzero(grid >= 0)
    cell_owner = grid[rows, cols]
    count = np.bincount(cell_owner, minlength=len(rep_ids))
    mx = np.bincount(cell_owner, weights=(cols + 0.5) * _CELL, minlength=len(rep_ids))
    my = np.bincount(cell_owner, weights=(rows + 0.5) * _CELL, minlength=len(rep_ids))
    items += _labels(rep_ids, count, mx, my, grid)
    svg = Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {height}" role="img" class="chart map">'
        f"<title>{escape(alignment.name)}: territories</title>"
        "<style>.map text.label{font-size:9px;fill:#111827;paint-order:stroke;stroke:#fff;"
        "stroke-width:2.5px;stroke-linejoin:round}</style>" + "".join(items) + "</svg>"
    )
    n_reps = np.bincount([names.index(g) for g in groups.tolist()], minlength=len(names))
    legend = Table(
        ["", plain(level), "Reps"],
        [[charts.swatch(base[i]), plain(n), f"{int(n_reps[i]):,}"] for i, n in enumerate(names)]
        + [
            [_dot_legend(False), "Account that keeps its rep", ""],
            [_dot_legend(True), "Account that moves to another rep", ""],
            [_office_legend(), "A rep's office", ""],
        ],  # fmt: skip
        align="llr",
        caption=f"Legend: territories coloured by {plain(level).lower()}, reps in shades of its colour",
    )
    return svg, legend


def _labels(rep_ids, count, mx, my, grid) -> list[str]:
    """A label per territory at the middle of its cells — when that point lies in the
    territory and the label does not cover one already placed (largest territories first)."""
    boxes: list[tuple[float, float, float, float]] = []
    out = []
    for o in np.argsort(-count, kind="stable").tolist():
        if not count[o]:
            continue
        x, y = mx[o] / count[o], my[o] / count[o]
        r, c = int(y // _CELL), int(x // _CELL)
        if not (0 <= r < grid.shape[0] and 0 <= c < grid.shape[1]) or grid[r, c] != o:
            continue
        w = 5.4 * len(rep_ids[o]) + 4
        box = (x - w / 2, y - 7, x + w / 2, y + 5)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes):
            continue
        boxes.append(box)
        out.append(
            f'<text x="{x:.1f}" y="{y + 3:.1f}" text-anchor="middle" class="label">'
            f"{escape(rep_ids[o])}</text>"
        )
    return out


def _dot_legend(moved: bool) -> Markup:
    if moved:
        return Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" width="12" height="12" viewBox="0 0 12 12">'
            '<circle cx="6" cy="6" r="3.5" fill="#fff" stroke="#111827" stroke-width="1.2"/></svg>'
        )
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" width="12" height="12" viewBox="0 0 12 12">'
        '<circle cx="6" cy="6" r="2.2" fill="#1f2937" fill-opacity="0.55"/></svg>'
    )


def _office_legend() -> Markup:
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" width="12" height="12" viewBox="0 0 12 12">'
        '<rect x="2" y="2" width="8" height="8" fill="#111827"/></svg>'
    )


def _reps_table(alignment: Alignment) -> Section:
    reps = alignment.reps
    level, groups = _groups(alignment)
    columns = ["Rep", plain(level), "Accounts before", "Accounts after", "Gained", "Lost"]
    have = {c: c in reps for c in ("units_before", "units_after", "gained", "lost")}
    bands = [b["name"] for b in alignment.bands if b["name"] in reps]
    for name in bands:
        columns += [f"{_name(name)} before", f"{_name(name)} after"]
    rows = []
    for i, rec in enumerate(reps.to_dict(orient="records")):
        row = [str(rec["rep_id"]), plain(groups[i])]
        row += [
            f"{int(rec[c]):,}" if have[c] else "–"
            for c in ("units_before", "units_after", "gained", "lost")
        ]
        for name in bands:
            row += [_num(rec.get(f"{name}_before")), _num(rec.get(name))]
        rows.append(row)
    return Section(
        "Territories by rep",
        [Table(columns, rows, align="ll" + "r" * (len(columns) - 2), compact=True)],
        id="reps",
    )


def _name(name: str) -> str:
    """A band's name as a reader reads it (``capacity.max_units`` → ``Capacity max units``)."""
    return plain(str(name).replace(".", " "))


def _num(x) -> str:
    if x is None or not np.isfinite(float(x)):
        return "–"
    return f"{float(x):,.2f}".rstrip("0").rstrip(".")


def _band_caption(band: dict) -> str:
    limits = [
        f"{w} {band[k]:,.6g}" for k, w in (("min", "at least"), ("max", "at most")) if band.get(k)
    ]
    return (
        "Grey: before; blue: after"
        + (
            f"; red lines: the band ({' and '.join(limits)}, {band.get('basis', '')})"
            if limits
            else ""
        )
        + ". Reps in the order of the table."
    )


def _band_chart(alignment: Alignment, band: dict) -> Markup:
    name = band["name"]
    before = alignment.reps[f"{name}_before"].to_numpy(dtype=float)
    after = alignment.reps[name].to_numpy(dtype=float)
    top = max(before.max(initial=0), after.max(initial=0), band["max"] or 0, 1e-9) * 1.05
    n = len(after)
    h = _H // 2
    left = 60
    x = left + (np.arange(n) + 0.5) / max(n, 1) * (_W - left - _PAD)

    def y(v):
        return h - _PAD - np.asarray(v) / top * (h - 2 * _PAD)

    items = []
    for t in _ticks(top):
        items.append(
            f'<line x1="{left}" x2="{_W - _PAD}" y1="{y(t):.1f}" y2="{y(t):.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t:,.6g}</text>'
        )
    items += [
        f'<line x1="{a:.1f}" x2="{a:.1f}" y1="{b:.1f}" y2="{c:.1f}" stroke="#cbd5e1"/>'
        for a, b, c in zip(x, y(before), y(after), strict=True)
    ]
    items += [
        f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2" fill="#9ca3af"/>'
        for a, b in zip(x, y(before), strict=True)
    ]
    items += [
        f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.4" fill="#2563eb"/>'
        for a, b in zip(x, y(after), strict=True)
    ]
    for bound in (band["min"], band["max"]):
        if bound is not None and bound > 0:
            items.append(
                f'<line x1="{left}" x2="{_W - _PAD}" y1="{y(bound):.1f}" y2="{y(bound):.1f}" class="budget"/>'
            )
    return _svg(_W, h, f"{_name(name)} per rep", items)


def _ticks(top: float) -> list[float]:
    raw = top / 4
    mag = 10 ** np.floor(np.log10(raw)) if raw > 0 else 1.0
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [float(step * i) for i in range(int(top // step) + 1)]


def _front(alignment: Alignment) -> Markup:
    front = alignment.pareto
    assert front is not None
    dx = front["disruption"].to_numpy(dtype=float)
    dy = front["distance_km"].to_numpy(dtype=float)
    h = _H // 2

    def scale(v):
        lo, hi = v.min(), v.max()
        return (v - lo) / (hi - lo) if hi > lo else np.full(len(v), 0.5)

    x = 80 + scale(dx) * (_W - 120)
    y = h - 50 - scale(dy) * (h - 90)
    line = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True))
    items = [f'<polyline points="{line}" fill="none" stroke="#2563eb" stroke-width="1.5"/>']
    items += [
        f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="#2563eb"><title>disruption {d:.4g}, '
        f"travel {km:.1f} km</title></circle>"
        for a, b, d, km in zip(x, y, dx, dy, strict=True)
    ]
    items += [
        f'<text x="80" y="{h - 28}">disruption {dx.min():,.4g}</text>',
        f'<text x="{_W - 40}" y="{h - 28}" text-anchor="end">{dx.max():,.4g}</text>',
        f'<text x="{_W / 2}" y="{h - 8}" text-anchor="middle">disruption (the moved accounts\' weight) →</text>',
        f'<text x="8" y="{h - 50:.0f}">{dy.min():,.1f} km</text>',
        f'<text x="8" y="{40}">{dy.max():,.1f} km</text>',
        '<text x="8" y="20">travel ↑</text>',
    ]
    return _svg(_W, h, "Travel against disruption", items)


def _svg(width: int, height: int, title: str, items: list[str]) -> Markup:
    body = "".join(items)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart"><title>{escape(title)}</title>{body}</svg>'
    )
