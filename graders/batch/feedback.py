"""Per-student feedback, in Markdown and HTML: every lost point with its reason.

The Markdown reuses the GitHub summary's assignment sections, so a student reads the same
words in CI and in the instructor's feedback; the HTML is the same content for an LMS
upload. Both open with where the student stands against the course minimum so far
(``graders.batch.standing``). Nothing instructor-only (secrets, other students) is in
either. Student text (the name, why a submission was not graded) is encoded for each
format (``graders.render.encode``). An assignment with adjustments (a TA's regrade, the
late policy) is followed by them: each change, what it did, why and who decided, and the
points that count.
"""

from __future__ import annotations

from dataclasses import dataclass

from graders import catalog
from graders.batch.adjustments import ALL, Adjusted
from graders.batch.problems import Kind, outcome_problems
from graders.batch.records import StudentRecord
from graders.batch.standing import standing
from graders.core.results import AssignmentResult, format_points
from graders.render import encode, github, html_section

#: What a student can do about an assignment that got no result, by kind.
_WHAT_TO_DO = {
    Kind.HANGS: "Your code did not finish in time: look for a loop that never ends or work "
    "that is far too slow, then hand in again.",
    Kind.GRADER_ERROR: "This is a problem of the grader, not of your work: it will be graded "
    "again.",
}


@dataclass(frozen=True)
class _NotGraded:
    key: str
    why: str
    what_to_do: str


def _assignments(record: StudentRecord) -> list[AssignmentResult | _NotGraded]:
    """Each assignment of the record in course order: its result, or why it has none."""
    found: list[AssignmentResult | _NotGraded] = []
    for key in sorted(record.outcomes, key=catalog.course_order):
        result = record.result(key)
        if result is None:
            [problem] = outcome_problems(record.outcomes[key], None)
            result = _NotGraded(key, problem.detail, _WHAT_TO_DO.get(problem.kind, ""))
        found.append(result)
    return found


def markdown(record: StudentRecord) -> str:
    md = encode.markdown
    lines = [f"# Feedback for {md(record.student)}", "", standing(record).line(), ""]
    for item in _assignments(record):
        key = item.assignment if isinstance(item, AssignmentResult) else item.key
        if isinstance(item, AssignmentResult):
            lines += github.assignment_lines(item)
        else:
            title = catalog.spec(item.key).title
            lines += [
                f"### {md(item.key)}: {md(title)} — 0 points (not graded)",
                "",
                f"> {md(item.why)}",
            ]
            if item.what_to_do:
                lines += ["", item.what_to_do]
            lines.append("")
        lines += _adjustment_lines(record.adjusted.get(key))
    return "\n".join(lines).rstrip() + "\n"


_ADJUSTMENT_HEADS = ("Change", "On", "Points", "Why", "By", "When")


def _adjustment_cells(adjusted: Adjusted) -> list[tuple[str, ...]]:
    """Each applied adjustment as table cells (unencoded)."""
    return [
        (a.change, "the total" if a.criterion == ALL else a.criterion,
         f"{format_points(a.before)} → {format_points(a.after)}", a.reason, a.who, a.when)
        for a in adjusted.applied
    ]  # fmt: skip


def _total_line(adjusted: Adjusted) -> str:
    sign = "+" if adjusted.adjustment >= 0 else "-"
    return (
        f"Points that count: {format_points(adjusted.final)}/{format_points(adjusted.maximum)} "
        f"({format_points(adjusted.automatic)} from the grader {sign} "
        f"{format_points(abs(adjusted.adjustment))} adjusted)."
    )


def _adjustment_lines(adjusted: Adjusted | None) -> list[str]:
    if adjusted is None or not adjusted.applied:
        return []
    md = encode.markdown
    lines = ["#### Adjustments", "", "| " + " | ".join(_ADJUSTMENT_HEADS) + " |",
             "|" + "---|" * len(_ADJUSTMENT_HEADS)]  # fmt: skip
    for change, target, points, *text in _adjustment_cells(adjusted):
        # The change and the points are the grader's own numbers; the rest is TA text.
        cells = [f"`{change}`", md(target), points, *(md(cell) for cell in text)]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, "", f"**{_total_line(adjusted)}**", ""]


def _adjustment_html(adjusted: Adjusted | None) -> str:
    if adjusted is None or not adjusted.applied:
        return ""
    e = encode.html
    head = "".join(f"<th>{h}</th>" for h in _ADJUSTMENT_HEADS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in cells) + "</tr>"
        for cells in _adjustment_cells(adjusted)
    )
    return (
        f"<h3>Adjustments</h3><table class='adjustments'><tr>{head}</tr>{rows}</table>"
        f"<p><strong>{e(_total_line(adjusted))}</strong></p>"
    )


_STYLE = (
    """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
small { color: #666; }
"""
    + html_section.STYLE
)


def html_page(record: StudentRecord) -> str:
    e = encode.html
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Feedback for {e(record.student)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Feedback for {e(record.student)}</h1>",
        f"<p><strong>{e(standing(record).line())}</strong></p>",
    ]
    for item in _assignments(record):
        key = item.assignment if isinstance(item, AssignmentResult) else item.key
        if isinstance(item, AssignmentResult):
            parts.append(html_section.assignment_section(item))
        else:
            parts.append(
                f"<h2>{e(item.key)}: {e(catalog.spec(item.key).title)} — 0 points (not graded)"
                f"</h2><p class='nngrade-note'>{e(item.why)}</p>"
            )
            if item.what_to_do:
                parts.append(f"<p>{e(item.what_to_do)}</p>")
        parts += [_adjustment_html(record.adjusted[key])] if key in record.adjusted else []
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
