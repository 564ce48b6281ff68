"""A GitHub Actions step summary in Markdown, ending with the ``Points X/Y`` line.

Student text (notices, reasons, file names) is ``encode.markdown``: one inert line that
always follows grader text on its line, so no heading, link, tag or table and no line
that starts with ``Points`` can come from it. The grader writes that line itself, last.
"""

from __future__ import annotations

from graders.core.results import LabResult, format_points
from graders.render import encode
from graders.render.summary import minimum_line, points_line, provenance

_ICONS = {
    "passed": "✅",
    "partial": "🟡",
    "failed": "❌",
    "violation": "⛔",
    "error": "⚠️",
    "not run": "➖",
}


def render(report: LabResult, lab_total: bool) -> str:
    md = encode.markdown
    lines: list[str] = []
    for result in report.assignments:
        lines.append(
            f"### {md(result.assignment)}: {md(result.title)} — "
            f"{format_points(result.points)}/{format_points(result.max_points)}"
        )
        lines.append("")
        for notice in result.notices:
            lines.append(f"> note: {md(notice)}")
        for violation in result.violations:
            lines.append(f"> **rule broken:** {md(violation.describe())}")
        lines += ["", "| | Criterion | Points | Why points were lost |", "|---|---|---|---|"]
        for c in result.criteria:
            score = f"{format_points(c.points)}/{format_points(c.max_points)}"
            icon = _ICONS.get(c.status, "")
            lines.append(f"| {icon} | `{c.id}` {md(c.title)} | {score} | {md(c.reason)} |")
        lines += [f"- saved {md(a)}" for a in result.artifacts]
        lines += ["", f"<sub>{md(provenance(result))}</sub>", ""]
    if lab_total:
        lines += [minimum_line(report), ""]
    lines.append(points_line(report, lab_total))
    return "\n".join(lines) + "\n"
