"""Per-student feedback, in Markdown and HTML: every lost point with its reason.

The Markdown reuses the GitHub summary renderer, so a student reads the same words in CI
and in the instructor's feedback; the HTML is the same content for an LMS upload.
Nothing instructor-only (secrets, other students) is in either.
"""

from __future__ import annotations

import html

from graders import catalog
from graders.batch.records import StudentRecord
from graders.core.results import LabResult, format_points
from graders.render import github, plots
from graders.render.summary import minimum_line, provenance


def _graded(record: StudentRecord) -> LabResult:
    keys = sorted(record.outcomes, key=catalog.course_order)
    results = [r for key in keys if (r := record.result(key)) is not None]
    return catalog.lab_result(results, missing=[k for k in keys if record.result(k) is None])


def _not_graded(record: StudentRecord) -> list[tuple[str, str]]:
    """(assignment, why) for each assignment without a result."""
    return [
        (key, outcome.error or outcome.status)
        for key, outcome in sorted(record.outcomes.items())
        if record.result(key) is None
    ]


def markdown(record: StudentRecord) -> str:
    lines = [f"# Feedback for {record.student}", ""]
    for key, why in _not_graded(record):
        title = catalog.spec(key).title
        lines += [f"### {key}: {title} — 0 points (not graded)", "", f"> {why}", ""]
    report = _graded(record)
    if report.assignments:
        lines.append(github.render(report, lab_total=True))
    else:
        lines += [minimum_line(report), ""]
    return "\n".join(lines).rstrip() + "\n"


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
.passed { background: #e8f6e8; } .partial { background: #fff6d6; }
.failed, .violation, .error { background: #fbe7e7; } .note { color: #555; }
small { color: #666; }
"""


def _charts(result) -> list[str]:
    """Inline SVG plots of the numbers the grader kept (a3 history, a5 returns)."""
    charts = []
    if result.series.get("history"):
        charts.append(plots.learning_curve_svg(result.series["history"]))
    if result.series.get("returns"):
        charts.append(plots.returns_svg(result.series["returns"]))
    return [f"<figure>{_inline(svg)}</figure>" for svg in charts if svg]


def _inline(svg: str) -> str:
    """An SVG document as an element of the page (without its XML prologue)."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else ""


def html_page(record: StudentRecord) -> str:
    e = html.escape
    report = _graded(record)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Feedback for {e(record.student)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Feedback for {e(record.student)}</h1>",
        f"<p><strong>{e(minimum_line(report))}</strong></p>",
    ]
    for key, why in _not_graded(record):
        parts.append(
            f"<h2>{e(key)}: {e(catalog.spec(key).title)} — 0 points (not graded)</h2>"
            f"<p class='note'>{e(why)}</p>"
        )
    for result in report.assignments:
        score = f"{format_points(result.points)}/{format_points(result.max_points)}"
        parts.append(f"<h2>{e(result.assignment)}: {e(result.title)} — {score}</h2>")
        parts += [f"<p class='note'>note: {e(n)}</p>" for n in result.notices]
        parts += [
            f"<p class='note'><strong>rule broken:</strong> {e(v.describe())}</p>"
            for v in result.violations
        ]
        parts.append(
            "<table><tr><th>Criterion</th><th>Points</th><th>Why points were lost</th></tr>"
        )
        for c in result.criteria:
            points = f"{format_points(c.points)}/{format_points(c.max_points)}"
            parts.append(
                f"<tr class='{e(c.status)}'><td><code>{e(c.id)}</code> {e(c.title)}</td>"
                f"<td>{points}</td><td>{e(c.reason)}</td></tr>"
            )
        parts.append("</table>")
        parts += _charts(result)
        parts.append(f"<small>{e(provenance(result))}</small>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
