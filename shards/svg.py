"""Small inline SVG charts for the HTML reports: horizontal bars (plain or stacked), grouped
vertical bars and overlaid histograms.

Hand-written instead of matplotlib: importing matplotlib and rendering the run report's PNGs cost
~0.6 s of driver wall time and ~30 MiB RSS on every `grist run` (issue 12, item 5). Output is
self-contained (no JS, no external files), deterministic (coordinates and values are printed with
fixed precision) and every text is escaped. Each bar is a `<rect class="bar">` with a `<title>`
(a hover tooltip with its exact value).
"""

from __future__ import annotations

import html
import math
from typing import Sequence

# matplotlib's default colour cycle (tab10), so the series keep the colours they had as PNGs.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
WIDTH = 860
FONT = 11
CHAR_W = 6.2  # rough width of one character at FONT px, for layout only
ROW = 22  # pixels per bar of a horizontal bar chart
MAX_LABEL = 48  # characters of a category label shown; the whole label stays in its tooltip


def _f(x: float) -> str:
    """A coordinate: one decimal, no "-0.0"."""
    return f"{x:.1f}".replace("-0.0", "0.0")


def _e(s: object) -> str:
    return html.escape(str(s))


def _num(v: float) -> str:
    """A value in a tooltip or on a tick: integers with thousands separators, else 4 significant digits."""
    if float(v).is_integer():
        return f"{int(v):,}"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "…"


def _text(x: float, y: float, s: object, anchor: str = "start", size: int = FONT, extra: str = "") -> str:
    return (f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size}" text-anchor="{anchor}"{extra}>{_e(s)}</text>')


def _bar(x: float, y: float, w: float, h: float, color: str, tip: str, opacity: float | None = None) -> str:
    op = "" if opacity is None else f' fill-opacity="{opacity:.2f}"'
    return (f'<rect class="bar" x="{_f(x)}" y="{_f(y)}" width="{_f(max(w, 0.0))}" height="{_f(max(h, 0.0))}" '
            f'fill="{color}"{op}><title>{_e(tip)}</title></rect>')


def nice_ticks(hi: float, n: int = 5) -> list[float]:
    """Round tick values from 0 to at least `hi` (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    if hi <= 0:
        return [0.0, 1.0]
    raw = hi / n
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    k = math.ceil(hi / step - 1e-9)
    return [round(i * step, 10) for i in range(k + 1)]


def _svg(title: str, height: float, parts: list[str], label: str = "") -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" aria-label="{_e(title or label or "plot")}" '
            f'width="{WIDTH}" height="{_f(height)}" viewBox="0 0 {WIDTH} {_f(height)}" '
            f'font-family="Helvetica,Arial,sans-serif">')
    body = [f'<rect width="{WIDTH}" height="{_f(height)}" fill="#fff"/>']
    if title:
        body.append(_text(WIDTH / 2, 18, title, "middle", 13, ' font-weight="600"'))
    return head + "".join(body + parts) + "</svg>"


def _legend(items: Sequence[tuple[str, str]], y: float, opacity: float | None = None) -> tuple[list[str], float]:
    """Legend swatches in rows across the width, centred; returns the parts and the height used."""
    if not items:
        return [], 0.0
    widths = [18 + CHAR_W * len(label) + 14 for label, _ in items]
    rows: list[list[int]] = [[]]
    used = 0.0
    for i, w in enumerate(widths):
        if rows[-1] and used + w > WIDTH - 40:
            rows.append([])
            used = 0.0
        rows[-1].append(i)
        used += w
    op = "" if opacity is None else f' fill-opacity="{opacity:.2f}"'
    parts = []
    for r, row in enumerate(rows):
        x = (WIDTH - sum(widths[i] for i in row)) / 2
        yy = y + 16 * r
        for i in row:
            label, color = items[i]
            parts.append(f'<rect x="{_f(x)}" y="{_f(yy - 9)}" width="12" height="10" fill="{color}"{op}/>')
            parts.append(_text(x + 16, yy, label))
            x += widths[i]
    return parts, 16.0 * len(rows)


def _x_axis(x0: float, x1: float, y: float, lo: float, hi: float, ticks: list[float], label: str,
            grid_top: float | None = None) -> list[str]:
    """A horizontal value axis at `y` mapping [lo, hi] to [x0, x1], with optional vertical grid lines."""
    parts = [f'<line x1="{_f(x0)}" y1="{_f(y)}" x2="{_f(x1)}" y2="{_f(y)}" stroke="#444"/>']
    for t in ticks:
        x = x0 + (t - lo) / (hi - lo) * (x1 - x0)
        if grid_top is not None:
            parts.append(f'<line x1="{_f(x)}" y1="{_f(grid_top)}" x2="{_f(x)}" y2="{_f(y)}" stroke="#eee"/>')
        parts.append(f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(x)}" y2="{_f(y + 4)}" stroke="#444"/>')
        parts.append(_text(x, y + 16, _num(t), "middle"))
    if label:
        parts.append(_text((x0 + x1) / 2, y + 32, label, "middle"))
    return parts


def _y_axis(x: float, y0: float, y1: float, hi: float, ticks: list[float], label: str, x_right: float) -> list[str]:
    """A vertical value axis at `x` mapping [0, hi] to [y0 (bottom), y1 (top)], with grid lines."""
    parts = [f'<line x1="{_f(x)}" y1="{_f(y0)}" x2="{_f(x)}" y2="{_f(y1)}" stroke="#444"/>']
    for t in ticks:
        y = y0 - t / hi * (y0 - y1)
        parts.append(f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(x_right)}" y2="{_f(y)}" stroke="#eee"/>')
        parts.append(f'<line x1="{_f(x - 4)}" y1="{_f(y)}" x2="{_f(x)}" y2="{_f(y)}" stroke="#444"/>')
        parts.append(_text(x - 6, y + 4, _num(t), "end"))
    if label:
        cy = (y0 + y1) / 2
        parts.append(f'<text x="14" y="{_f(cy)}" font-size="{FONT}" text-anchor="middle" '
                     f'transform="rotate(-90 14 {_f(cy)})">{_e(label)}</text>')
    return parts


def hbar_stacked(rows: Sequence[tuple[str, Sequence[float]]], series: Sequence[tuple[str, str]], *, title: str = "",
                 xlabel: str = "", xmax: float | None = None, notes: Sequence[str] | None = None,
                 unit: str = "", label: str = "") -> str:
    """Horizontal bars, top to bottom in the order given; each row is `(label, one value per series)`
    and its segments are stacked left to right. `series` is `(name, colour)`; a series named "" has no
    legend entry. `notes[i]`, when given, is written in white at the start of row i. `label` names a
    chart without a title (its aria-label)."""
    label_w = min(CHAR_W * max((len(_short(lb)) for lb, _ in rows), default=4) + 12, 360)
    shown = [(name, color) for name, color in series if name]
    legend, legend_h = _legend(shown, (34 if title else 16))
    top = (26 if title else 6) + legend_h + 6
    x0, x1 = label_w, WIDTH - 70
    totals = [sum(v) for _, v in rows]
    hi = xmax if xmax is not None else (max(totals, default=0.0) or 1.0)
    ticks = nice_ticks(hi) if xmax is None else [t for t in nice_ticks(hi) if t <= hi + 1e-9]
    hi = max(hi, ticks[-1])
    bottom = top + ROW * len(rows)
    parts = legend + _x_axis(x0, x1, bottom, 0.0, hi, ticks, xlabel, grid_top=top)
    scale = (x1 - x0) / hi
    for i, (row, values) in enumerate(rows):
        y = top + ROW * i + 3
        parts.append(_text(x0 - 6, y + ROW / 2 + 1, _short(row), "end"))
        x = x0
        for (name, color), v in zip(series, values):
            if v > 0:
                what = f"{row}: {name}: " if name else f"{row}: "
                parts.append(_bar(x, y, v * scale, ROW - 6, color, f"{what}{_num(v)}{unit}"))
                x += v * scale
        if notes is not None:
            parts.append(_text(x0 + 4, y + ROW / 2 + 1, notes[i], extra=' fill="#fff"'))
        elif len(series) == 1:
            parts.append(_text(x + 4, y + ROW / 2 + 1, f"{_num(totals[i])}{unit}", extra=' fill="#444"'))
    return _svg(title, bottom + 42, parts, label)


def hbar(items: Sequence[tuple[str, float]], *, title: str = "", xlabel: str = "", color: str = PALETTE[0]) -> str:
    """Horizontal bars, one per `(label, value)`, top to bottom; each value written at its bar's end."""
    return hbar_stacked([(k, [v]) for k, v in items], [("", color)], title=title, xlabel=xlabel)


def _vertical_frame(title: str, legend_items: Sequence[tuple[str, str]], hi: float, ylabel: str,
                    opacity: float | None = None, plot_h: float = 220) -> tuple[list[str], float, float, float, float, float]:
    """Title, legend and y axis of a vertical chart: returns parts, x0, x1, y0 (bottom), y1 (top), y max."""
    legend, legend_h = _legend(legend_items, 36 if title else 16, opacity)
    y1 = (28 if title else 8) + legend_h + 8
    y0 = y1 + plot_h
    x0, x1 = 70.0, WIDTH - 16.0
    ticks = nice_ticks(hi or 1.0)
    return legend + _y_axis(x0, y0, y1, ticks[-1], ticks, ylabel, x1), x0, x1, y0, y1, ticks[-1]


def grouped_bars(categories: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, title: str = "",
                 ylabel: str = "", unit: str = "") -> str:
    """Vertical bars: for each category one bar per series side by side; `series` is `(name, values)`."""
    colors = [PALETTE[k % len(PALETTE)] for k in range(len(series))]
    hi = max((v for _, vals in series for v in vals), default=0.0)
    parts, x0, x1, y0, y1, top = _vertical_frame(title, [(n, c) for (n, _), c in zip(series, colors)], hi, ylabel)
    slot = (x1 - x0) / max(len(categories), 1)
    width = 0.8 * slot / max(len(series), 1)
    parts.append(f'<line x1="{_f(x0)}" y1="{_f(y0)}" x2="{_f(x1)}" y2="{_f(y0)}" stroke="#444"/>')
    for i, cat in enumerate(categories):
        left = x0 + slot * i + 0.1 * slot
        for k, ((name, vals), color) in enumerate(zip(series, colors)):
            h = vals[i] / top * (y0 - y1)
            parts.append(_bar(left + k * width, y0 - h, width, h, color, f"{cat}: {name}: {_num(vals[i])}{unit}"))
        parts.append(_text(x0 + slot * (i + 0.5), y0 + 16, _short(cat), "middle"))
    return _svg(title, y0 + 30, parts)


def histograms(edges: Sequence[float], series: Sequence[tuple[str, Sequence[int]]], *, title: str = "",
               xlabel: str = "", ylabel: str = "") -> str:
    """Overlaid histograms over the same bin `edges`, one translucent colour per `(name, counts)`."""
    colors = [PALETTE[k % len(PALETTE)] for k in range(len(series))]
    hi = max((c for _, counts in series for c in counts), default=0)
    parts, x0, x1, y0, y1, top = _vertical_frame(title, [(n, c) for (n, _), c in zip(series, colors)], hi, ylabel,
                                                 opacity=0.55)
    lo, span = float(edges[0]), (float(edges[-1]) - float(edges[0])) or 1.0
    sx = (x1 - x0) / span
    for (name, counts), color in zip(series, colors):
        for j, c in enumerate(counts):
            if c:
                a, b = float(edges[j]), float(edges[j + 1])
                h = c / top * (y0 - y1)
                parts.append(_bar(x0 + (a - lo) * sx, y0 - h, (b - a) * sx, h, color,
                                  f"{name}: [{_num(round(a, 4))}, {_num(round(b, 4))}): {c:,}", opacity=0.55))
    xt = nice_ticks(span, 8) if lo == 0 else [lo + t for t in nice_ticks(span, 8)]
    parts += _x_axis(x0, x1, y0, lo, lo + span, [t for t in xt if t <= lo + span + 1e-9], xlabel)
    return _svg(title, y0 + 42, parts)
