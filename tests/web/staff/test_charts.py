"""The SVG charts: accessible names, escaped text, and a table of the same data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from convene_web.charts import (
    LorenzPoint,
    bar_chart,
    grouped_bar_chart,
    line_chart,
    lorenz_curve,
    lorenz_points,
)

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert(1)</script>" onload="x'


def parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # raises on anything that is not well-formed XML


def test_bar_chart_has_title_desc_and_rows() -> None:
    chart = bar_chart(
        title="Response rate",
        description="Share of invitations answered",
        labels=["Answered", "Accepted"],
        values=[0.5, 0.25],
        label_heading="Figure",
        value_heading="Rate",
        fmt="percent",
    )
    root = parse(chart.svg)
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None
    assert title.text == "Response rate"
    assert desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert len(root.findall(f"{SVG}rect")) == 2
    assert chart.rows == (("Answered", "50.0%"), ("Accepted", "25.0%"))
    assert chart.columns == ("Figure", "Rate")


def test_bar_heights_are_proportional() -> None:
    chart = bar_chart(
        title="t",
        description="d",
        labels=["a", "b"],
        values=[10, 5],
        label_heading="x",
        value_heading="y",
    )
    heights = [float(r.get("height", "0")) for r in parse(chart.svg).findall(f"{SVG}rect")]
    assert heights[0] == pytest.approx(2 * heights[1])


def test_missing_value_draws_no_bar_and_says_no_data() -> None:
    chart = bar_chart(
        title="t",
        description="d",
        labels=["a", "b"],
        values=[3, None],
        label_heading="x",
        value_heading="y",
    )
    assert len(parse(chart.svg).findall(f"{SVG}rect")) == 1
    assert chart.rows[1] == ("b", "no data")


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="length"):
        bar_chart(
            title="t",
            description="d",
            labels=["a"],
            values=[],
            label_heading="x",
            value_heading="y",
        )
    with pytest.raises(ValueError, match="x labels"):
        line_chart(
            title="t", description="d", x_labels=["a", "b"], series={"s": [1.0]}, x_heading="x"
        )


def test_text_is_escaped_everywhere() -> None:
    chart = bar_chart(
        title=HOSTILE,
        description=HOSTILE,
        labels=[HOSTILE],
        values=[1],
        label_heading="x",
        value_heading="y",
    )
    assert "<script>" not in chart.svg
    root = parse(chart.svg)  # still well-formed: no attribute was broken out of
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == HOSTILE
    assert not [el for el in root.iter() if any(k.startswith("on") for k in el.attrib)]


def test_line_chart_one_polyline_per_series_and_a_column_each() -> None:
    chart = line_chart(
        title="Compare",
        description="two configs",
        x_labels=["nDCG@10", "Gini"],
        series={"Config 1": [0.6, 0.3], "Config 2": [0.7, 0.2]},
        x_heading="Measure",
        fmt="percent",
    )
    assert len(parse(chart.svg).findall(f"{SVG}polyline")) == 2
    assert chart.columns == ("Measure", "Config 1", "Config 2")
    assert chart.rows[0] == ("nDCG@10", "60.0%", "70.0%")


def test_lorenz_points_of_equal_counts_lie_on_the_diagonal() -> None:
    points = lorenz_points([2] * 100, steps=10)
    assert points[0] == LorenzPoint(0.0, 0.0)
    assert all(p.share == pytest.approx(p.population) for p in points)


def test_lorenz_points_of_concentrated_counts_sag_below_the_diagonal() -> None:
    points = lorenz_points([0] * 95 + [20] * 5, steps=20)
    assert points[-1].share == pytest.approx(1.0)
    assert points[19].population == pytest.approx(0.95)
    assert points[19].share == pytest.approx(0.0)  # the top 5% hold everything


def test_lorenz_points_without_invitations_are_the_diagonal() -> None:
    assert [p.share for p in lorenz_points([], steps=4)] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_lorenz_curve_has_curve_diagonal_table_and_figures() -> None:
    points = lorenz_points([0, 0, 1, 3], steps=4)
    chart = lorenz_curve(
        title="Invitations",
        description="Lorenz",
        points=points,
        gini=0.625,
        top_5_percent_share=0.75,
    )
    root = parse(chart.svg)
    assert root.find(f"{SVG}polyline[@class='app-chart__lorenz']") is not None
    assert root.find(f"{SVG}line[@class='app-chart__equality']") is not None
    assert len(chart.rows) == len(points)
    assert chart.rows[-1] == ("100.0%", "100.0%", "100.0%")
    assert chart.figures["Gini coefficient"] == "0.625"
    assert chart.figures["Share of invitations to the top 5% of citizens"] == "75.0%"


def test_grouped_bars_one_per_series_and_label_with_a_legend() -> None:
    chart = grouped_bar_chart(
        title="Compare",
        description="config 2 against the active config 1",
        labels=["nDCG@10", "Gini"],
        series={"Config 2": [0.6, 0.3], "Config 1 (active)": [0.5, None]},
        label_heading="Measure",
        fmt="percent",
    )
    rects = parse(chart.svg).findall(f"{SVG}rect")
    assert len(rects) == 3 + 2  # three known values, two legend keys
    assert chart.rows == (("nDCG@10", "60.0%", "50.0%"), ("Gini", "30.0%", "no data"))
