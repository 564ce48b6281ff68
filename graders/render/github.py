"""A GitHub Actions step summary in Markdown, ending with the ``Points X/Y`` line."""

from __future__ import annotations

from graders.core.results import LabResult, format_points
from graders.render.summary import minimum_line, points_line, provenance

_ICONS = {
    "passed": "✅",
    "partial": "🟡",
    "failed": "❌",
    "violation": "⛔",
    "error": "⚠️",
    "not run": "➖",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: LabResult, lab_total: bool) -> str:
    lines: list[str] = []
    for result in report.assignments:
        lines.append(
            f"### {result.assignment}: {result.title} — "
            f"{format_points(result.points)}/{format_points(result.max_points)}"
        )
        lines.append("")
        for notice in result.notices:
            lines.append(f"> note: {_cell(notice)}")
        for violation in result.violations:
            lines.append(f"> **rule broken:** {_cell(violation.describe())}")
        lines += ["", "| | Criterion | Points | Why points were lost |", "|---|---|---|---|"]
        for c in result.criteria:
            score = f"{format_points(c.points)}/{format_points(c.max_points)}"
            lines.append(
                f"| {_ICONS.get(c.status, '')} | `{c.id}` {_cell(c.title)} | {score} | {_cell(c.reason)} |"
            )
        lines += [f"- saved {_cell(a)}" for a in result.artifacts]
        lines += ["", f"<sub>{_cell(provenance(result))}</sub>", ""]
    if lab_total:
        lines += [minimum_line(report), ""]
    lines.append(points_line(report, lab_total))
    return "\n".join(lines) + "\n"
