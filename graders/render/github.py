"""A GitHub Actions step summary in Markdown, ending with the ``Points X/Y`` line.

Student text (notices, reasons, file names) is ``encode.markdown``: one inert line that
always follows grader text on its line, so no heading, link, tag or table and no line
that starts with ``Points`` can come from it. The grader writes that line itself, last.
"""

from __future__ import annotations

from graders.core.results import AssignmentResult, LabResult, format_points
from graders.render import coverage, encode, footer
from graders.render.summary import minimum_line
from graders.sandbox.text import clip_words

_ICONS = {
    "passed": "✅",
    "partial": "🟡",
    "failed": "❌",
    "violation": "⛔",
    "error": "⚠️",
    "not run": "➖",
}


#: The longest reason a table cell shows; a longer one is cut at a word and marked.
REASON_CHARS = 280


def assignment_lines(result: AssignmentResult, verbose: bool = False) -> list[str]:
    """One assignment as a heading, its notices and broken rules, and the criteria table
    (a feedback page shows the same section); ``verbose`` adds every sandbox layer."""
    md = encode.markdown
    lines = [
        f"### {md(result.assignment)}: {md(result.title)} — "
        f"{format_points(result.points)}/{format_points(result.max_points)}",
        "",
    ]
    for notice in result.notices:
        lines.append(f"> note: {md(notice)}")
    for violation in result.violations:
        lines.append(f"> **rule broken:** {md(violation.describe())}")
    lines += ["", "| | Criterion | Points | Why points were lost |", "|---|---|---|---|"]
    for c in result.criteria:
        score = f"{format_points(c.points)}/{format_points(c.max_points)}"
        icon = _ICONS.get(c.status, "")
        reason = md(clip_words(c.reason, REASON_CHARS))
        lines.append(f"| {icon} | `{c.id}` {md(c.title)} | {score} | {reason} |")
    if any(len(c.reason) > REASON_CHARS for c in result.criteria):
        lines += ["", "Reasons ending in ... are shortened here; the JSON record has them in full."]
    lines += [f"- saved {md(a)}" for a in result.artifacts]
    lines += ["", f"<sub>{md(footer.footer(result))}</sub>", ""]
    if verbose:
        lines += [f"<sub>{md(detail)}</sub>" for detail in footer.details(result)] + [""]
    return lines


def render(report: LabResult, lab_total: bool, verbose: bool = False) -> str:
    lines: list[str] = []
    for result in report.assignments:
        lines += assignment_lines(result, verbose)
    if lab_total:
        if report.not_graded:
            lines += [f"### {coverage.NOT_GRADED_HEADING}", ""]
            lines += [f"- ⚠️ {encode.markdown(text)}" for text in coverage.not_graded_texts(report)]
            lines.append("")
        lines += [minimum_line(report), ""]
    lines.append(coverage.points_line(report, lab_total))
    return "\n".join(lines) + "\n"
