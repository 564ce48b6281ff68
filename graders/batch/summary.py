"""The end-of-run summary: totals per assignment as histogram images, the criteria that
cost the class most points, and the submissions that could not be graded, with why.

Student text (names, why a submission was not graded) is ``encode.markdown``; the
command line prints this summary through ``encode.terminal_lines`` as well."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from graders import catalog
from graders.batch.job import JobStatus
from graders.batch.records import StudentRecord
from graders.core.results import Status, format_points
from graders.render import encode
from graders.render.plots import histogram_bins, histogram_svg


def write_summary(records: list[StudentRecord], out: Path) -> str:
    """Write histogram-<assignment>.svg files and return the summary as Markdown."""
    keys = sorted({k for r in records for k in r.outcomes}, key=catalog.course_order)
    lines = ["# Grading summary", "", f"{len(records)} submissions.", ""]
    for key in keys:
        graded = [r for r in records if r.result(key) is not None]
        totals = [r.points(key) for r in records if key in r.outcomes]
        course = catalog.spec(key)
        image = out / f"histogram-{key}.svg"
        chart = histogram_svg(f"{key}: {course.title}", totals, course.points)
        if chart is not None:
            image.write_text(chart)
        mean = sum(totals) / len(totals) if totals else 0.0
        lines += [
            f"## {key}: {course.title}",
            "",
            f"{len(graded)} graded, {len(totals) - len(graded)} not graded; mean "
            f"{mean:.2f}/{course.points}, "
            f"{sum(t >= course.points for t in totals)} with full marks. "
            + (
                f"Distribution: [{image.name}]({image.name})"
                if chart is not None
                else 'Distribution (install "nngrade[reports]" for the chart):'
            ),
            "",
            "| points from | students |",
            "|---|---|",
            *(f"| {label} | {count} |" for label, count in histogram_bins(totals, course.points)),
            "",
        ]
        lost: Counter[str] = Counter()
        points_lost: Counter[str] = Counter()
        for record in graded:
            for c in record.result(key).criteria:
                if c.status not in (Status.PASSED, Status.NOT_RUN):
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
        if o.status != JobStatus.OK
    ]
    lines += ["## Not graded", ""]
    if failures:
        lines += ["| student | assignment | status | why |", "|---|---|---|---|"]
        md = encode.markdown
        for student, key, status, why in sorted(failures):
            lines.append(f"| {md(student)} | {md(key)} | {md(status)} | {md(why)} |")
    else:
        lines.append("Every submission was graded.")
    return "\n".join(lines) + "\n"
