"""Charts for instructors and students, drawn with matplotlib (the ``reports`` extra).

Histograms of a class's totals, a student's learning curve (a3) and returns per episode
(a5), as standalone SVG text. Without matplotlib every function returns None and the
callers show the numbers as a table instead: grading itself never needs a plotting library.
"""

from __future__ import annotations

import io
import math

from graders.core.results import format_points

BINS = 10


def histogram_bins(
    points: list[float], max_points: float, bins: int = BINS
) -> list[tuple[str, int]]:
    """(label, count) per bar: bars of a whole number of points labelled by the lowest score
    they hold ("0", "1", ... "9"; "0", "2", ... "14" for 15 points, never "1.5"), and a
    last bar for full marks labelled with the maximum, so a 10/10 is counted in the bar
    labelled 10."""
    width = max(1, math.ceil(max_points / bins - 1e-9)) if max_points else 1
    bars = max(1, math.ceil(max_points / width - 1e-9))
    counts = [0] * (bars + 1)
    for value in points:
        if max_points and value >= max_points - 1e-9:
            counts[bars] += 1
        else:
            counts[min(bars - 1, max(0, math.floor(value / width + 1e-9)))] += 1
    labels = [format_points(i * width) for i in range(bars)] + [format_points(max_points)]
    return list(zip(labels, counts, strict=True))


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return None
    return pyplot


def _svg(figure, pyplot) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    pyplot.close(figure)
    return buffer.getvalue()


def histogram_svg(title: str, points: list[float], max_points: float) -> str | None:
    """The class's totals as a bar chart (SVG text), or None without matplotlib."""
    pyplot = _pyplot()
    if pyplot is None:
        return None
    bars = histogram_bins(points, max_points)
    from matplotlib.ticker import MaxNLocator

    figure, axes = pyplot.subplots(figsize=(7, 3.4))
    positions = range(len(bars))
    rects = axes.bar(positions, [count for _, count in bars], color="#4c78a8")
    axes.bar_label(rects, labels=[str(count) if count else "" for _, count in bars])
    axes.set_xticks(list(positions), [label for label, _ in bars])
    axes.set_xlabel(
        f"points (a bar holds the scores from its label up to the next; {len(points)} students)"
    )
    axes.set_ylabel("students")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # no "0.5 students"
    axes.set_title(title)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure, pyplot)


def learning_curve_svg(history: list[dict]) -> str | None:
    """Training loss and validation accuracy per epoch (a3's history), or None."""
    pyplot = _pyplot()
    rows = [h for h in history if isinstance(h, dict)]
    if pyplot is None or not rows:
        return None
    epochs = range(1, len(rows) + 1)
    figure, loss_axes = pyplot.subplots(figsize=(6, 3.2))
    loss_axes.plot(epochs, [float(h.get("train_loss", math.nan)) for h in rows], color="#e45756",
                   marker="o", label="training loss")  # fmt: skip
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel("training loss", color="#e45756")
    accuracy_axes = loss_axes.twinx()
    accuracy_axes.plot(epochs, [float(h.get("val_accuracy", math.nan)) for h in rows],
                       color="#4c78a8", marker="s", label="validation accuracy")  # fmt: skip
    accuracy_axes.set_ylabel("validation accuracy", color="#4c78a8")
    loss_axes.set_title("Your training run")
    return _svg(figure, pyplot)


def returns_svg(returns: list[float], threshold: float = 200.0) -> str | None:
    """Return per evaluation episode (a5), with the solved line, or None."""
    pyplot = _pyplot()
    if pyplot is None or not returns:
        return None
    figure, axes = pyplot.subplots(figsize=(6, 3.2))
    axes.plot(range(1, len(returns) + 1), returns, marker=".", linestyle="", color="#4c78a8")
    axes.axhline(threshold, color="#54a24b", linestyle="--", label=f"solved ({threshold:g})")
    axes.axhline(sum(returns) / len(returns), color="#e45756", label="your mean")
    axes.set_xlabel("evaluation episode")
    axes.set_ylabel("return")
    axes.legend(loc="lower right")
    axes.set_title("Your agent on the evaluation episodes")
    return _svg(figure, pyplot)


def inline_svg(svg: str) -> str:
    """An SVG document as an element of an HTML page (without its XML prologue)."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else ""
