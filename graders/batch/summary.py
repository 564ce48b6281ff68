"""The end-of-run summary in Markdown: totals per assignment as histogram images, the
criteria that cost the class most points, what went wrong, and the submissions that could
not be graded, with why. ``summary.html`` (``graders.batch.summary_page``) shows the same
numbers, and the lab total so far, as one page to look at.

Student text (names, why a submission was not graded) is ``encode.markdown``; the
command line prints this summary through ``encode.terminal_lines`` as well."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from graders.batch import class_stats, problems
from graders.batch.records import StudentRecord
from graders.core.results import format_points
from graders.render import encode
from graders.render.plots import histogram_svg


def histogram_file(out: Path, key: str) -> Path:
    return out / f"histogram-{key}.svg"


def write_summary(records: list[StudentRecord], out: Path) -> str:
    """Write histogram-<assignment>.svg files and return the summary as Markdown."""
    versions = class_stats.grader_versions(records)
    graded_by = f" Graded with nngrade {versions}." if versions else ""
    lines = ["# Grading summary", "", f"{len(records)} submissions.{graded_by}", ""]
    not_graded = []
    for key in class_stats.assignment_keys(records):
        stats = class_stats.assignment_stats(records, key)
        lines += _assignment_lines(stats, out)
        not_graded += [(s, p) for s, p in stats.problems if not p.graded]
    lines += ["## Not graded", ""]
    if not_graded:
        lines += ["| student | assignment | status | why |", "|---|---|---|---|"]
        md = encode.markdown
        for student, p in sorted(not_graded, key=lambda sp: (sp[0], sp[1].assignment)):
            lines.append(f"| {md(student)} | {md(p.assignment)} | {md(p.kind)} | {md(p.detail)} |")
    else:
        lines.append("Every submission was graded.")
    return "\n".join(lines) + "\n"


def _assignment_lines(stats: class_stats.AssignmentStats, out: Path) -> list[str]:
    image = histogram_file(out, stats.key)
    chart = histogram_svg(f"{stats.key}: {stats.title}", [t for _, t in stats.totals],
                          stats.max_points)  # fmt: skip
    if chart is not None:
        image.write_text(chart)
    lines = [
        f"## {stats.key}: {stats.title}",
        "",
        f"{stats.graded} graded, {stats.not_graded} not graded; mean "
        f"{stats.mean:.2f}/{format_points(stats.max_points)}, {stats.full_marks} with full "
        "marks.",
        "",
        f"![{image.name}]({image.name})"
        if chart is not None
        else 'Distribution (install "nngrade[reports]" for the chart):',
        "",
        "| points from | students |",
        "|---|---|",
        *(f"| {label} | {count} |" for label, count in stats.bars),
        "",
    ]
    if stats.costly:
        lines += [
            "Criteria that cost the most points:",
            "",
            "| criterion | students losing points | points lost in all |",
            "|---|---|---|",
            *(
                f"| `{c.id}` | {c.students} | {format_points(c.points_lost)} |"
                for c in stats.costly
            ),
            "",
        ]
    students = Counter(kind for _, kind in dict.fromkeys((s, p.kind) for s, p in stats.problems))
    if students:
        counted = ", ".join(f"{students[k]} {k}" for k in problems.Kind if students[k])
        lines += [f"Submissions with problems (the gradebook names them): {counted}.", ""]
    return lines
