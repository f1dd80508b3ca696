"""Geometry of the report's inline SVG trend charts: score per area, new and resolved, open by age, time to resolve."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from auditor.history.ageing import Trend, TrendPoint

# SVG user units of every chart: plot width and height inside the margins.
WIDTH = 560
HEIGHT = 180
LEFT = 44
TOP = 12
LABEL_WIDTH = 190
# Printed in black and white, lines are told apart by their dash pattern and their label, not by colour.
# Vertical room an end label needs, and the widest a bar gets when there are few scans.
LABEL_GAP = 11
MAX_BAR_WIDTH = 24.0
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 4 1 4", "3 6")


@dataclass(frozen=True)
class Line:
    """One series of a line chart, as SVG points and its end label position."""

    label: str
    points: str
    dash: str
    label_x: float
    label_y: float
    last: str


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value text and rectangle."""

    label: str
    value: str
    x: float
    y: float
    width: float
    height: float
    kind: str


@dataclass(frozen=True)
class TrendCharts:
    """Everything the trend section draws, plus the numbers again as tables for readers without the picture."""

    scans: int
    first: str
    last: str
    score_lines: tuple[Line, ...]
    score_x_labels: tuple[tuple[float, str], ...]
    score_height: float
    change_x_labels: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    change_bars: tuple[Bar, ...]
    change_max: int
    age_bars: tuple[Bar, ...]
    resolve_bars: tuple[Bar, ...]
    table: tuple[tuple[str, str, str, int, int, int, int], ...]


def trend_charts(trend: Trend) -> TrendCharts:
    """The charts of a trend; every coordinate computed here so the template only places them."""
    points = trend.points
    count = len(points)
    step = WIDTH / max(1, count - 1)
    areas = sorted({area for p in points for area in p.areas})
    series: list[tuple[str, list[float | None]]] = [("overall", [p.score for p in points])]
    series += [(area, [p.areas.get(area) for p in points]) for area in areas]
    lines = []
    for index, (label, values) in enumerate(series):
        coords = [(LEFT + i * step, _y(v)) for i, v in enumerate(values) if v is not None]
        if not coords:
            continue
        last = next(v for v in reversed(values) if v is not None)
        lines.append(
            Line(
                label=label,
                points=" ".join(f"{x:.1f},{y:.1f}" for x, y in coords),
                dash=DASHES[index % len(DASHES)],
                label_x=coords[-1][0] + 6,
                label_y=coords[-1][1] + 3,
                last=f"{last:.0f}%",
            )
        )
    spread = tuple(_spread_labels(lines))
    change_max = max([1, *(max(p.new, p.resolved) for p in points)])
    slot = WIDTH / max(1, count)
    bar_width = min(MAX_BAR_WIDTH, max(1.0, slot * 0.4))
    bars: list[Bar] = []
    for i, p in enumerate(points):
        for offset, (kind, value) in enumerate((("new", p.new), ("resolved", p.resolved))):
            height = HEIGHT * value / change_max
            bars.append(
                Bar(
                    label=f"scan {p.scan_id} {kind}",
                    value=str(value),
                    x=LEFT + i * slot + (slot - 2 * bar_width) / 2 + offset * bar_width,
                    y=TOP + HEIGHT - height,
                    width=bar_width,
                    height=height,
                    kind=kind,
                )
            )
    table = tuple(
        (str(p.scan_id), p.at[:10], "-" if p.score is None else f"{p.score:.1f}%", p.new, p.resolved, p.open, p.overdue)
        for p in points
    )
    return TrendCharts(
        scans=count,
        first=points[0].at[:10] if points else "",
        last=points[-1].at[:10] if points else "",
        score_lines=spread,
        score_height=max([TOP + HEIGHT + 24.0, *(line.label_y + 6 for line in spread)]),
        score_x_labels=_x_labels([LEFT + i * step for i in range(count)], points),
        change_x_labels=_x_labels([LEFT + i * slot + slot / 2 for i in range(count)], points),
        y_ticks=tuple((_y(v), f"{v:.0f}%") for v in (0.0, 25.0, 50.0, 75.0, 100.0)),
        change_bars=tuple(bars),
        change_max=change_max,
        age_bars=_horizontal({k: float(v) for k, v in trend.open_by_age.items()}, "open", "{:.0f}"),
        resolve_bars=_horizontal(
            {k: v for k, v in trend.mean_days_to_resolve.items() if v is not None}, "resolve", "{:.1f} days"
        ),
        table=table,
    )


def _spread_labels(lines: list[Line]) -> list[Line]:
    """End labels moved apart vertically so that close scores do not print over each other."""
    spread: list[Line] = []
    floor = -1e9
    for line in sorted(lines, key=lambda item: item.label_y):
        y = max(line.label_y, floor + LABEL_GAP)
        floor = y
        spread.append(dataclasses.replace(line, label_y=y))
    return spread


def _x_labels(xs: Sequence[float], points: Sequence[TrendPoint]) -> tuple[tuple[float, str], ...]:
    """Day labels under the x axis: first, last, and up to four evenly spaced between them."""
    if not points:
        return ()
    count = len(points)
    wanted = sorted({0, count - 1, *(round(k * (count - 1) / 5) for k in range(1, 5))}) if count > 2 else range(count)
    return tuple((xs[i], points[i].at[:10]) for i in wanted)


def _y(value: float | None) -> float:
    return TOP + HEIGHT - HEIGHT * (value or 0.0) / 100.0


def _horizontal(values: Mapping[str, float], kind: str, form: str) -> tuple[Bar, ...]:
    peak = max([1.0, *values.values()])
    row = 22
    return tuple(
        Bar(label, form.format(value), LABEL_WIDTH, i * row + 4, (WIDTH - LABEL_WIDTH) * value / peak, 14, kind)
        for i, (label, value) in enumerate(values.items())
    )


def chart_height(bars: Sequence[Bar]) -> int:
    """Height of a horizontal bar chart with these bars."""
    return len(bars) * 22 + 8
