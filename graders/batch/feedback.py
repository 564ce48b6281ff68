"""Per-student feedback, in Markdown and HTML: every lost point with its reason.

The Markdown reuses the GitHub summary renderer, so a student reads the same words in CI
and in the instructor's feedback; the HTML is the same content for an LMS upload.
Nothing instructor-only (secrets, other students) is in either. Student text (the name,
why a submission was not graded) is encoded for each format (``graders.render.encode``).
"""

from __future__ import annotations

from graders import catalog
from graders.batch.records import StudentRecord
from graders.core.results import LabResult
from graders.render import encode, github, html_section
from graders.render.summary import minimum_line


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
    md = encode.markdown
    lines = [f"# Feedback for {md(record.student)}", ""]
    for key, why in _not_graded(record):
        title = catalog.spec(key).title
        lines += [f"### {md(key)}: {md(title)} — 0 points (not graded)", "", f"> {md(why)}", ""]
    report = _graded(record)
    if report.assignments:
        lines.append(github.render(report, lab_total=True))
    else:
        lines += [minimum_line(report), ""]
    return "\n".join(lines).rstrip() + "\n"


_STYLE = (
    """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
small { color: #666; }
"""
    + html_section.STYLE
)


def html_page(record: StudentRecord) -> str:
    e = encode.html
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
            f"<p class='nngrade-note'>{e(why)}</p>"
        )
    parts += [html_section.assignment_section(result) for result in report.assignments]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
