"""The default report: a table a student reads in a terminal.

Student text (notices, reasons, file names, output) goes through ``encode.terminal`` and
never starts a line: only the grader's own ``Points X/Y`` line does.
"""

from __future__ import annotations

import shutil
import sys
import textwrap

from graders.core.results import AssignmentResult, LabResult, format_points
from graders.render import encode
from graders.render.summary import minimum_line, points_line, provenance

_MARKS = {"passed": ("✔", "ok"), "partial": ("◐", "~~"), "failed": ("✘", "XX"),
          "violation": ("⛔", "!!"), "error": ("⚠", "??"), "not run": ("·", "--")}  # fmt: skip


def _unicode_ok() -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "✔◐✘⛔⚠·─│".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def assignment_lines(result: AssignmentResult, width: int, fancy: bool) -> list[str]:
    """One assignment as the lines of the table (a notebook prints them too)."""
    rule = ("─" if fancy else "-") * width
    lines = [
        rule,
        f"Assignment {result.assignment[1:]}: {result.title}"
        f"  [{format_points(result.points)}/{format_points(result.max_points)} points]",
        rule,
    ]
    for notice in result.notices:
        lines.append(f"  note: {encode.terminal(notice)}")
    for violation in result.violations:
        lines.append(f"  RULE BROKEN: {encode.terminal(violation.describe())}")
    for c in result.criteria:
        mark = _MARKS.get(c.status, ("?", "?"))[0 if fancy else 1]
        score = f"{format_points(c.points)}/{format_points(c.max_points)}"
        lines.append(f"  {mark} {score:>9}  {c.id}: {c.title}")
        if c.reason:  # why points were lost, or what was measured (e.g. a mean score)
            for piece in textwrap.wrap(encode.terminal(c.reason), width=max(40, width - 16)):
                lines.append(f"{'':15}{piece}")
    for artifact in result.artifacts:
        lines.append(f"  saved {encode.terminal(artifact)}")
    for error in result.internal_errors:
        lines.append(f"  GRADER ERROR (not your fault): {encode.terminal(error)}")
    for sandbox, text in result.output_tail.items():
        if text.strip():
            lines.append(f"  output of your code ({encode.terminal(sandbox)}), last lines:")
            bar = "│" if fancy else "|"
            shown = encode.terminal_lines(text).splitlines()[-40:]
            lines += [f"    {bar} {line}" for line in shown]
    lines.append(f"  ({encode.terminal(provenance(result))}; {result.duration_s:g} s)")
    return lines


def render(report: LabResult, lab_total: bool) -> str:
    width = min(100, shutil.get_terminal_size((100, 24)).columns)
    fancy = _unicode_ok()
    lines: list[str] = []
    for result in report.assignments:
        lines += assignment_lines(result, width, fancy)
    if lab_total:
        lines.append("")
        for key in report.missing:
            lines.append(
                f"  {key}: not graded (not found, or its extra is not installed): 0 points"
            )
        lines.append(minimum_line(report))
    lines.append(points_line(report, lab_total))
    return "\n".join(lines) + "\n"
