"""Inline SVG charts for the HTML fleet report: no script, no fonts or images to fetch.

Every chart carries a <title> and an aria-label, so it reads out as well as it looks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT = "font-family:inherit"


@dataclass(frozen=True)
class Segment:
    label: str
    value: int
    color: str


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def donut(segments: Sequence[Segment], size: int = 220, hole: float = 0.62, centre: str = "", sub: str = "") -> str:
    """A ring split by value; zero values are left out, a single non-zero value is a full ring."""
    total = sum(s.value for s in segments)
    r = size / 2
    inner = r * hole
    parts = [
        f'<svg class="chart donut" width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" '
        f'aria-label="{escape(_describe(segments))}"><title>{escape(_describe(segments))}</title>'
    ]
    live = [s for s in segments if s.value > 0]
    if not live:
        parts.append(
            f'<circle cx="{r}" cy="{r}" r="{_num((r + inner) / 2)}" fill="none" stroke="#e3e7ee" '
            f'stroke-width="{_num(r - inner)}"/>'
        )
    elif len(live) == 1:
        parts.append(
            f'<circle cx="{r}" cy="{r}" r="{_num((r + inner) / 2)}" fill="none" stroke="{live[0].color}" '
            f'stroke-width="{_num(r - inner)}"><title>{escape(live[0].label)}: {live[0].value}</title>'
            "</circle>"
        )
    else:
        angle = -math.pi / 2
        for s in live:
            sweep = 2 * math.pi * s.value / total
            end = angle + sweep
            large = 1 if sweep > math.pi else 0
            x0, y0 = r + r * math.cos(angle), r + r * math.sin(angle)
            x1, y1 = r + r * math.cos(end), r + r * math.sin(end)
            xi1, yi1 = r + inner * math.cos(end), r + inner * math.sin(end)
            xi0, yi0 = r + inner * math.cos(angle), r + inner * math.sin(angle)
            d = (
                f"M{_num(x0)},{_num(y0)} A{_num(r)},{_num(r)} 0 {large} 1 {_num(x1)},{_num(y1)} "
                f"L{_num(xi1)},{_num(yi1)} A{_num(inner)},{_num(inner)} 0 {large} 0 {_num(xi0)},{_num(yi0)} Z"
            )
            parts.append(
                f'<path d="{d}" fill="{s.color}" stroke="#fff" stroke-width="1.5">'
                f"<title>{escape(s.label)}: {s.value}</title></path>"
            )
            angle = end
    if centre:
        parts.append(
            f'<text x="{r}" y="{_num(r + 4)}" text-anchor="middle" style="{FONT};font-size:30px;'
            f'font-weight:700" fill="#1d2330">{escape(centre)}</text>'
        )
    if sub:
        parts.append(
            f'<text x="{r}" y="{_num(r + 26)}" text-anchor="middle" style="{FONT};font-size:12px" '
            f'fill="#5b6475">{escape(sub)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _describe(segments: Sequence[Segment]) -> str:
    return ", ".join(f"{s.label}: {s.value}" for s in segments)


@dataclass(frozen=True)
class StackedRow:
    label: str
    segments: tuple[Segment, ...]
    note: str  # shown right of the bar, e.g. "75%"


def stacked_bars(rows: Sequence[StackedRow], width: int = 560, label_width: int = 150, row_height: int = 26) -> str:
    """One 100%-wide bar per row, split by segment value (rows with no value show an empty track)."""
    note_width = 48
    bar_width = width - label_width - note_width - 8
    height = max(row_height * len(rows), row_height)
    desc = "; ".join(f"{row.label}: {_describe(row.segments)}" for row in rows)
    parts = [
        f'<svg class="chart bars" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(desc)}"><title>{escape(desc)}</title>'
    ]
    for i, row in enumerate(rows):
        y = i * row_height
        bar_h = row_height - 8
        parts.append(
            f'<text x="{label_width - 8}" y="{y + row_height / 2 + 4}" text-anchor="end" '
            f'style="{FONT};font-size:13px" fill="#1d2330">{escape(_clip(row.label, _fits(label_width)))}</text>'
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{bar_width}" height="{bar_h}" rx="3" fill="#eef1f5"/>'
        )
        total = sum(s.value for s in row.segments)
        x = float(label_width)
        for s in row.segments:
            if not total or not s.value:
                continue
            w = bar_width * s.value / total
            parts.append(
                f'<rect x="{_num(x)}" y="{y + 4}" width="{_num(w)}" height="{bar_h}" fill="{s.color}">'
                f"<title>{escape(row.label)}: {escape(s.label)} {s.value}</title></rect>"
            )
            x += w
        parts.append(
            f'<text x="{width - note_width}" y="{y + row_height / 2 + 4}" style="{FONT};font-size:13px;'
            f'font-weight:600" fill="#1d2330">{escape(row.note)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    detail: str  # tooltip


def hbars(bars: Sequence[Bar], color: str, width: int = 560, label_width: int = 200, row_height: int = 26) -> str:
    """Horizontal bars scaled to the largest value, the value printed at the bar's end."""
    top = max((b.value for b in bars), default=0) or 1
    bar_space = width - label_width - 44
    height = max(row_height * len(bars), row_height)
    desc = ", ".join(f"{b.label}: {b.value}" for b in bars) or "none"
    parts = [
        f'<svg class="chart hbars" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(desc)}"><title>{escape(desc)}</title>'
    ]
    for i, b in enumerate(bars):
        y = i * row_height
        w = max(bar_space * b.value / top, 2.0)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + row_height / 2 + 4}" text-anchor="end" '
            f'style="{FONT};font-size:13px" fill="#1d2330">{escape(_clip(b.label, _fits(label_width)))}</text>'
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{_num(w)}" height="{row_height - 8}" rx="3" '
            f'fill="{color}"><title>{escape(b.detail)}</title></rect>'
        )
        parts.append(
            f'<text x="{_num(label_width + w + 6)}" y="{y + row_height / 2 + 4}" style="{FONT};'
            f'font-size:13px;font-weight:600" fill="#1d2330">{b.value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _fits(label_width: int) -> int:
    # 13px sans-serif averages ~7.5px per character; leave the 8px gap before the bar.
    return max(int((label_width - 12) / 7.5), 4)


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"
