"""Server-side SVG charts for the console (no script, no network): pure functions of numbers.

Also the peer band: the 10th-90th percentile of the peers' counts in each hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, PAD = 720, 180, 28


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks (what numpy's default does)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def peer_band(per_peer: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    """For each hour, the 10th and 90th percentile across peers (each peer one series)."""
    if not per_peer:
        return []
    return [(percentile(column, 0.1), percentile(column, 0.9)) for column in zip(*per_peer, strict=True)]


def _scale(top: float, count: int) -> tuple[float, float]:
    step = (WIDTH - 2 * PAD) / max(count - 1, 1)
    return step, (HEIGHT - 2 * PAD) / (top or 1)


def _y(value: float, unit: float) -> float:
    return round(HEIGHT - PAD - value * unit, 1)


def _frame(title: str, body: str, top: float, first: str, last: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>'
            f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>'
            f'<text x="2" y="{PAD}" font-size="11">{top:g}</text>'
            f'<text x="{PAD}" y="{HEIGHT - 8}" font-size="11">{escape(first)}</text>'
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" font-size="11" text-anchor="end">{escape(last)}</text>'
            f"{body}</svg>")


def hourly(title: str, labels: Sequence[str], counts: Sequence[float], baseline: Sequence[float],
           band: Sequence[tuple[float, float]], legend: tuple[str, str, str]) -> str:
    """The employee's counts per hour (line), their own baseline (dashed), the peers' band (area)."""
    top = max([*counts, *baseline, *(hi for _, hi in band), 1.0])
    step, unit = _scale(top, len(counts))
    body = ""
    if band:
        upper = " ".join(f"{round(PAD + i * step, 1)},{_y(hi, unit)}" for i, (_, hi) in enumerate(band))
        lower = " ".join(f"{round(PAD + i * step, 1)},{_y(lo, unit)}"
                         for i, (lo, _) in reversed(list(enumerate(band))))
        body += f'<polygon class="band" points="{upper} {lower}" fill="#9ecae1" opacity="0.5"/>'
    if baseline:
        points = " ".join(f"{round(PAD + i * step, 1)},{_y(v, unit)}" for i, v in enumerate(baseline))
        body += f'<polyline class="baseline" points="{points}" fill="none" stroke="#555" stroke-dasharray="4 3"/>'
    points = " ".join(f"{round(PAD + i * step, 1)},{_y(v, unit)}" for i, v in enumerate(counts))
    body += f'<polyline class="series" points="{points}" fill="none" stroke="#c0392b" stroke-width="1.5"/>'
    body += "".join(f'<text x="{PAD + 150 * i}" y="14" font-size="11" fill="{color}">{escape(text)}</text>'
                    for i, (text, color) in enumerate(zip(legend, ("#c0392b", "#555", "#3182bd"), strict=True)))
    return _frame(title, body, top, labels[0] if labels else "", labels[-1] if labels else "")


def bars(title: str, labels: Sequence[str], values: Sequence[float]) -> str:
    """One bar per day, each with its value as a tooltip."""
    top = max([*values, 1.0])
    width = (WIDTH - 2 * PAD) / max(len(values), 1)
    unit = (HEIGHT - 2 * PAD) / top
    body = "".join(
        f'<rect x="{round(PAD + i * width + 1, 1)}" y="{_y(v, unit)}" width="{round(max(width - 2, 1), 1)}" '
        f'height="{round(v * unit, 1)}" fill="#3182bd"><title>{escape(label)}: {v:g}</title></rect>'
        for i, (label, v) in enumerate(zip(labels, values, strict=True)))
    return _frame(title, body, top, labels[0] if labels else "", labels[-1] if labels else "")
