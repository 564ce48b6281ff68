"""Charts: bars whose labels match the scores they hold; plots for feedback pages."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from graders.render import plots


def test_a_full_score_is_counted_in_the_bar_labelled_with_it():
    bars = plots.histogram_bins([10, 10, 9.5, 9, 0, 0.99, 1, 5.5], 10)
    assert bars == [("0", 2), ("1", 1), ("2", 0), ("3", 0), ("4", 0), ("5", 1), ("6", 0),
                    ("7", 0), ("8", 0), ("9", 2), ("10", 2)]  # fmt: skip
    thirty = dict(plots.histogram_bins([30, 29.9, 27, 0], 30))
    assert thirty["30"] == 1 and thirty["27"] == 2 and thirty["0"] == 1


def test_bars_and_counts_are_whole_numbers():
    """15 points make bars of 2 ("0", "2", ... "14", "15"), never "1.5"; three students
    make a y axis of 0 and 1, never 0.5 students."""
    fifteen = plots.histogram_bins([15, 14.5, 1.5, 0, 7], 15)
    assert [label for label, _ in fifteen] == ["0", "2", "4", "6", "8", "10", "12", "14", "15"]
    assert dict(fifteen) == {"0": 2, "2": 0, "4": 0, "6": 1, "8": 0, "10": 0, "12": 0,
                             "14": 1, "15": 1}  # fmt: skip
    pytest.importorskip("matplotlib")
    svg = plots.histogram_svg("a1", [10, 5, 0], 10)
    # matplotlib writes each tick's text as a comment before its glyphs.
    ticks = [re.search(r"<!-- (.*?) -->", part).group(1) for part in svg.split('id="ytick_')[1:]]
    assert ticks and all(re.fullmatch(r"\d+", tick) for tick in ticks), ticks


@pytest.mark.parametrize(
    "draw",
    [
        lambda: plots.histogram_svg("a1", [10, 5, 0], 10),
        lambda: plots.learning_curve_svg([{"train_loss": 0.5, "val_accuracy": 0.9},
                                          {"train_loss": 0.3, "val_accuracy": 0.95}]),
        lambda: plots.returns_svg([250.0, -40.0, 210.5]),
    ],
)  # fmt: skip
def test_charts_are_standalone_svg(draw):
    pytest.importorskip("matplotlib")
    root = ET.fromstring(draw())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_the_feedback_page_shows_the_learning_curve_and_the_returns():
    pytest.importorskip("matplotlib")
    from graders.batch.feedback import html_page
    from graders.batch.job import Outcome
    from graders.batch.records import StudentRecord
    from graders.core.results import AssignmentResult

    a3 = AssignmentResult(
        "a3",
        "MLP",
        30,
        series={
            "history": [
                {"train_loss": 0.4, "val_accuracy": 0.95},
                {"train_loss": 0.2, "val_accuracy": 0.97},
            ]
        },
    )
    a5 = AssignmentResult("a5", "Agent", 30, series={"returns": [210.0, 250.5, -20.0]})
    record = StudentRecord("ann", {
        "a3": Outcome("ann", "a3", "f", "ok", result=a3.to_dict()),
        "a5": Outcome("ann", "a5", "f", "ok", result=a5.to_dict()),
    })  # fmt: skip
    page = html_page(record)
    assert page.count("<figure><svg") == 2
    assert "Your training run" in page and "Your agent on the evaluation episodes" in page
