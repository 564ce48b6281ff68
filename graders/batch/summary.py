"""The end-of-run summary: totals per assignment as histogram images, the criteria that
cost the class most points, and the submissions that could not be graded, with why."""

from __future__ import annotations

import html
import math
from collections import Counter
from pathlib import Path

from graders.batch.records import StudentRecord
from graders.catalog import KEYS, course_assignment
from graders.core.results import NOT_RUN, PASSED, format_points

BINS = 10


def histogram_counts(points: list[float], max_points: float, bins: int = BINS) -> list[int]:
    """How many totals fall in each of ``bins`` equal ranges of [0, max]; max goes last."""
    counts = [0] * bins
    for value in points:
        index = min(bins - 1, max(0, math.floor(value / max_points * bins))) if max_points else 0
        counts[index] += 1
    return counts


def histogram_svg(title: str, points: list[float], max_points: float) -> str:
    """A bar chart of the totals as a standalone SVG (opens in any browser)."""
    counts = histogram_counts(points, max_points)
    width, height, left, bottom, top = 640, 320, 48, 40, 36
    plot_w, plot_h = width - left - 16, height - bottom - top
    tallest = max(counts) or 1
    bar_w = plot_w / len(counts)
    shapes = [
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">{html.escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
    ]
    for i, count in enumerate(counts):
        bar_h = plot_h * count / tallest
        x = left + i * bar_w
        low = max_points * i / len(counts)
        shapes.append(
            f'<rect x="{x + 2:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar_w - 4:.1f}" '
            f'height="{bar_h:.1f}" fill="#4c78a8"><title>{count} students</title></rect>'
        )
        if count:
            shapes.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - bar_h - 4:.1f}" '
                f'text-anchor="middle" font-size="12">{count}</text>'
            )
        shapes.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'font-size="11">{format_points(round(low, 1))}</text>'
        )
    shapes.append(
        f'<text x="{width / 2}" y="{height - 6}" text-anchor="middle" font-size="12">'
        f"points (bins of {format_points(round(max_points / len(counts), 2))}; "
        f"{len(points)} students)</text>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif">\n' + "\n".join(shapes) + "\n</svg>\n"
    )


def write_summary(records: list[StudentRecord], out: Path) -> str:
    """Write histogram-<assignment>.svg files and return the summary as Markdown."""
    keys = sorted({k for r in records for k in r.outcomes}, key=KEYS.index)
    lines = ["# Grading summary", "", f"{len(records)} submissions.", ""]
    for key in keys:
        graded = [r for r in records if r.result(key) is not None]
        totals = [r.points(key) for r in records if key in r.outcomes]
        course = course_assignment(key)
        image = out / f"histogram-{key}.svg"
        image.write_text(histogram_svg(f"{key}: {course.title}", totals, course.points))
        mean = sum(totals) / len(totals) if totals else 0.0
        lines += [
            f"## {key}: {course.title}",
            "",
            f"{len(graded)} graded, {len(totals) - len(graded)} not graded; mean "
            f"{mean:.2f}/{course.points}, "
            f"{sum(t >= course.points for t in totals)} with full marks. "
            f"Distribution: [{image.name}]({image.name})",
            "",
        ]
        lost: Counter[str] = Counter()
        points_lost: Counter[str] = Counter()
        for record in graded:
            for c in record.result(key).criteria:
                if c.status not in (PASSED, NOT_RUN):
                    lost[c.id] += 1
                    points_lost[c.id] += c.max_points - c.points
        if lost:
            lines += [
                "| criterion | students losing points | points lost in all |",
                "|---|---|---|",
            ]
            for cid, count in lost.most_common():
                lines.append(f"| `{cid}` | {count} | {format_points(points_lost[cid])} |")
            lines.append("")
    failures = [
        (r.student, key, o.status, o.error)
        for r in records
        for key, o in sorted(r.outcomes.items())
        if o.status != "ok"
    ]
    lines += ["## Not graded", ""]
    if failures:
        lines += ["| student | assignment | status | why |", "|---|---|---|---|"]
        for student, key, status, why in sorted(failures):
            lines.append(f"| {student} | {key} | {status} | {why.replace('|', '/')} |")
    else:
        lines.append("Every submission was graded.")
    return "\n".join(lines) + "\n"
