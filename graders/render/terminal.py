"""The default report: a table a student reads in a terminal.

Student text (notices, reasons, file names, output) goes through ``encode.terminal`` and
never starts a line: only the grader's own ``Points X/Y`` line does.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from typing import TextIO

from graders.core.results import AssignmentResult, LabResult, format_points
from graders.render import coverage, encode, footer
from graders.render.summary import minimum_line

_MARKS = {"passed": ("✔", "ok"), "partial": ("◐", "~~"), "failed": ("✘", "XX"),
          "violation": ("⛔", "!!"), "error": ("⚠", "??"), "not run": ("·", "--")}  # fmt: skip


def unicode_ok(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (default: stdout) can show the table's marks and rules."""
    encoding = getattr(stream or sys.stdout, "encoding", None) or "ascii"
    try:
        "✔◐✘⛔⚠·─│".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def mark(status: str, fancy: bool) -> str:
    """A criterion's status as one symbol (``✔``), or two ASCII characters (``ok``)."""
    return _MARKS.get(status, ("?", "?"))[0 if fancy else 1]


def assignment_lines(
    result: AssignmentResult, width: int, fancy: bool, verbose: bool = False
) -> list[str]:
    """One assignment as the lines of the table (a notebook prints them too); ``verbose``
    adds every sandbox layer and the limits under the footer."""
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
        score = f"{format_points(c.points)}/{format_points(c.max_points)}"
        lines.append(f"  {mark(c.status, fancy)} {score:>9}  {c.id}: {c.title}")
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
    ending = f"({encode.terminal(footer.footer(result))}, {result.duration_s:g} s)"
    lines += _wrapped(ending, width, "  ", "   ")
    if verbose:
        for detail in footer.details(result):
            lines += _wrapped(encode.terminal(detail), width, "  ", "    ")
    return lines


def _wrapped(text: str, width: int, first: str, rest: str) -> list[str]:
    """``text`` in lines of ``width``, each indented, so that none starts with it."""
    return textwrap.wrap(text, width=max(40, width), initial_indent=first,
                         subsequent_indent=rest, break_on_hyphens=False)  # fmt: skip


def render(report: LabResult, lab_total: bool, verbose: bool = False) -> str:
    width = min(100, shutil.get_terminal_size((100, 24)).columns)
    fancy = unicode_ok()
    lines: list[str] = []
    for result in report.assignments:
        lines += assignment_lines(result, width, fancy, verbose)
    if lab_total:
        lines.append("")
        if report.not_graded:
            lines.append(f"{coverage.NOT_GRADED_HEADING}:")
        for text in coverage.not_graded_texts(report):
            lines += _wrapped(
                f"{mark('error', fancy)} {encode.terminal(text)}", width, "  ", "     "
            )
        lines.append(minimum_line(report))
    lines.append(coverage.points_line(report, lab_total))
    return "\n".join(lines) + "\n"
