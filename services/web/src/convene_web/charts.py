"""Server-side SVG charts, each with the same data as table rows (its text alternative).

No chart is only a picture: every function returns a :class:`Chart` whose ``svg`` carries a
``<title>`` and ``<desc>`` (named by ``aria-labelledby``) and whose ``columns``/``rows`` are
rendered by the page as a GOV.UK table beside it. Every piece of text is escaped here, so the
markup is safe to place in a template as it is. No inline ``style`` attributes (the CSP
forbids them): colours and strokes are SVG presentation attributes.

Pure functions: no I/O, no FastAPI, no httpx.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 360
MARGIN_LEFT = 64
MARGIN_RIGHT = 24
MARGIN_TOP = 24
MARGIN_BOTTOM = 56
# GOV.UK Frontend palette: contrast of at least 3:1 against white for graphical objects
# (WCAG 1.4.11); text is the body colour.
COLOURS = ("#1d70b8", "#d4351c", "#00703c", "#4c2c92", "#f47738", "#505a5f")
TEXT_COLOUR = "#0b0c0c"
GRID_COLOUR = "#b1b4b6"

_ids = itertools.count(1)


@dataclass(frozen=True)
class Chart:
    """An SVG chart and its text alternative (a caption and a table of the same data)."""

    svg: Markup
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    figures: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LorenzPoint:
    """``population`` share (poorest first) holding ``share`` of all invitations, both 0..1."""

    population: float
    share: float


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _nice_max(value: float) -> float:
    """The axis maximum: the data's maximum rounded up to 1, 2, 2.5 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    magnitude: float = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _open(title: str, description: str) -> tuple[str, list[str]]:
    chart_id = f"chart-{next(_ids)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" class="app-chart" focusable="false" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    return chart_id, parts


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = 14) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{TEXT_COLOUR}" font-family="arial, sans-serif">{escape(text)}</text>'
    )


def _value_axis(maximum: float, *, fmt: str) -> list[str]:
    """Horizontal grid lines with their values on the left, five steps from 0 to ``maximum``."""
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    parts = []
    for step in range(6):
        value = maximum * step / 5
        y = HEIGHT - MARGIN_BOTTOM - plot_height * step / 5
        parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{y:.1f}" '
            f'stroke="{GRID_COLOUR}" stroke-width="1"/>'
        )
        label = _percent(value) if fmt == "percent" else _number(value)
        parts.append(_text(MARGIN_LEFT - 8, y + 5, label, anchor="end", size=12))
    return parts


def _format(value: float | None, fmt: str) -> str:
    if value is None:
        return "no data"
    return _percent(value) if fmt == "percent" else _number(value)


def bar_chart(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    label_heading: str,
    value_heading: str,
    fmt: str = "number",
) -> Chart:
    """One bar per label. ``fmt="percent"`` reads values as shares (0..1). A ``None`` value
    (no data) draws no bar and reads "no data" in the table."""
    if len(labels) != len(values):
        raise ValueError("labels and values differ in length")
    known = [value for value in values if value is not None]
    maximum = 1.0 if fmt == "percent" else _nice_max(max(known, default=0.0))
    _, parts = _open(title, description)
    parts += _value_axis(maximum, fmt=fmt)
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    slot = plot_width / max(len(labels), 1)
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = MARGIN_LEFT + slot * index
        if value is not None:
            height = plot_height * max(value, 0.0) / maximum
            parts.append(
                f'<rect x="{x + slot * 0.15:.1f}" y="{HEIGHT - MARGIN_BOTTOM - height:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{height:.1f}" '
                f'fill="{COLOURS[index % len(COLOURS)]}"/>'
            )
            parts.append(
                _text(
                    x + slot / 2, HEIGHT - MARGIN_BOTTOM - height - 6, _format(value, fmt), size=12
                )
            )
        parts.append(_text(x + slot / 2, HEIGHT - MARGIN_BOTTOM + 20, label, size=12))
    parts.append("</svg>")
    rows = tuple((label, _format(value, fmt)) for label, value in zip(labels, values, strict=True))
    return Chart(
        svg=Markup("".join(parts)),
        caption=title,
        columns=(label_heading, value_heading),
        rows=rows,
    )


def grouped_bar_chart(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    label_heading: str,
    fmt: str = "number",
) -> Chart:
    """Side-by-side bars: one group per label, one bar per series (with a legend); the
    table has a column per series. Used to compare two configurations measure by measure."""
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} does not match the labels")
    known = [v for values in series.values() for v in values if v is not None]
    maximum = 1.0 if fmt == "percent" else _nice_max(max(known, default=0.0))
    _, parts = _open(title, description)
    parts += _value_axis(maximum, fmt=fmt)
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    slot = plot_width / max(len(labels), 1)
    names = list(series)
    bar = slot * 0.8 / max(len(names), 1)
    for index, label in enumerate(labels):
        x = MARGIN_LEFT + slot * index + slot * 0.1
        for number, name in enumerate(names):
            value = series[name][index]
            if value is None:
                continue
            height = plot_height * min(max(value, 0.0), maximum) / maximum
            parts.append(
                f'<rect x="{x + bar * number:.1f}" y="{HEIGHT - MARGIN_BOTTOM - height:.1f}" '
                f'width="{bar * 0.9:.1f}" height="{height:.1f}" '
                f'fill="{COLOURS[number % len(COLOURS)]}"/>'
            )
        parts.append(
            _text(MARGIN_LEFT + slot * (index + 0.5), HEIGHT - MARGIN_BOTTOM + 20, label, size=12)
        )
    for number, name in enumerate(names):
        legend_x = MARGIN_LEFT + number * 200
        parts.append(
            f'<rect x="{legend_x}" y="{HEIGHT - 24}" width="14" height="14" '
            f'fill="{COLOURS[number % len(COLOURS)]}"/>'
        )
        parts.append(_text(legend_x + 20, HEIGHT - 12, name, anchor="start", size=12))
    parts.append("</svg>")
    rows = tuple(
        (label, *(_format(series[name][index], fmt) for name in names))
        for index, label in enumerate(labels)
    )
    return Chart(
        svg=Markup("".join(parts)), caption=title, columns=(label_heading, *names), rows=rows
    )


def line_chart(
    *,
    title: str,
    description: str,
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    x_heading: str,
    fmt: str = "number",
) -> Chart:
    """One line per series over the same x labels, with a legend; the table has a column per
    series."""
    for name, values in series.items():
        if len(values) != len(x_labels):
            raise ValueError(f"series {name!r} does not match the x labels")
    maximum = (
        1.0
        if fmt == "percent"
        else _nice_max(max((v for values in series.values() for v in values), default=0.0))
    )
    _, parts = _open(title, description)
    parts += _value_axis(maximum, fmt=fmt)
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    step = plot_width / max(len(x_labels) - 1, 1)
    for index, label in enumerate(x_labels):
        parts.append(_text(MARGIN_LEFT + step * index, HEIGHT - MARGIN_BOTTOM + 20, label, size=12))
    for number, (name, values) in enumerate(series.items()):
        colour = COLOURS[number % len(COLOURS)]
        points = " ".join(
            f"{MARGIN_LEFT + step * index:.1f},"
            f"{HEIGHT - MARGIN_BOTTOM - plot_height * max(value, 0.0) / maximum:.1f}"
            for index, value in enumerate(values)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="3"/>'
        )
        legend_y = HEIGHT - 14
        legend_x = MARGIN_LEFT + number * 160
        parts.append(
            f'<line x1="{legend_x}" y1="{legend_y - 4}" x2="{legend_x + 24}" '
            f'y2="{legend_y - 4}" stroke="{colour}" stroke-width="3"/>'
        )
        parts.append(_text(legend_x + 30, legend_y, name, anchor="start", size=12))
    parts.append("</svg>")
    names = list(series)
    rows = tuple(
        (label, *(_format(series[name][index], fmt) for name in names))
        for index, label in enumerate(x_labels)
    )
    return Chart(
        svg=Markup("".join(parts)),
        caption=title,
        columns=(x_heading, *names),
        rows=rows,
    )


def lorenz_points(counts: Sequence[int], *, steps: int = 20) -> list[LorenzPoint]:
    """The Lorenz curve of ``counts`` (e.g. invitations per citizen, zeros included) sampled
    at ``steps`` equal population shares, from (0, 0) to (1, 1)."""
    values = sorted(max(count, 0) for count in counts)
    total = sum(values)
    if not values or total == 0:
        return [
            LorenzPoint(population=step / steps, share=step / steps) for step in range(steps + 1)
        ]
    cumulative = list(itertools.accumulate(values))
    points = [LorenzPoint(population=0.0, share=0.0)]
    for step in range(1, steps + 1):
        people = round(len(values) * step / steps)
        held = cumulative[people - 1] if people > 0 else 0
        points.append(LorenzPoint(population=step / steps, share=held / total))
    return points


def lorenz_curve(
    *,
    title: str,
    description: str,
    points: Sequence[LorenzPoint],
    gini: float | None,
    top_5_percent_share: float | None,
) -> Chart:
    """The Lorenz curve (population share poorest first, against the share of invitations it
    holds) with the diagonal of perfect equality; the Gini coefficient is twice the area
    between them."""
    if not points:
        points = [LorenzPoint(0.0, 0.0), LorenzPoint(1.0, 1.0)]
    _, parts = _open(title, description)
    parts += _value_axis(1.0, fmt="percent")
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def xy(point: LorenzPoint) -> str:
        x = MARGIN_LEFT + plot_width * point.population
        y = HEIGHT - MARGIN_BOTTOM - plot_height * point.share
        return f"{x:.1f},{y:.1f}"

    for step in range(0, 6):
        share = step / 5
        parts.append(
            _text(
                MARGIN_LEFT + plot_width * share,
                HEIGHT - MARGIN_BOTTOM + 20,
                _percent(share),
                size=12,
            )
        )
    parts.append(
        _text(
            MARGIN_LEFT + plot_width / 2,
            HEIGHT - MARGIN_BOTTOM + 40,
            "Share of citizens, fewest invitations first",
            size=12,
        )
    )
    parts.append(
        f'<line x1="{MARGIN_LEFT}" y1="{HEIGHT - MARGIN_BOTTOM}" x2="{WIDTH - MARGIN_RIGHT}" '
        f'y2="{MARGIN_TOP}" stroke="{COLOURS[5]}" stroke-width="2" stroke-dasharray="6 4" '
        f'class="app-chart__equality"/>'
    )
    parts.append(
        f'<polyline points="{" ".join(xy(point) for point in points)}" fill="none" '
        f'stroke="{COLOURS[0]}" stroke-width="3" class="app-chart__lorenz"/>'
    )
    parts.append(
        _text(
            MARGIN_LEFT + 8,
            MARGIN_TOP + 16,
            "Dashed line: every citizen invited equally",
            anchor="start",
            size=12,
        )
    )
    parts.append("</svg>")
    rows = tuple(
        (_percent(point.population), _percent(point.share), _percent(point.population))
        for point in points
    )
    figures = {
        "Gini coefficient": "no data" if gini is None else f"{gini:.3f}",
        "Share of invitations to the top 5% of citizens": _format(top_5_percent_share, "percent"),
    }
    return Chart(
        svg=Markup("".join(parts)),
        caption=title,
        columns=("Share of citizens", "Share of invitations they hold", "If everyone were equal"),
        rows=rows,
        figures=figures,
    )
