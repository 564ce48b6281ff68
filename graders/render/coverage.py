"""What a lab report covers: the ``Points X/Y`` line over the assignments graded, and
each assignment that could not be graded with why and what to do.

An assignment that was not graded (no MNIST, an extra not installed, no folder) adds to
neither side of ``Points X/Y``: the line says what the graded work earned, and the report
names the rest, so nothing reads as lost points that were never measured.
"""

from __future__ import annotations

from graders.core.results import LabResult, NotGraded, format_points


def points_line(report: LabResult, lab_total: bool) -> str:
    """The ``Points X/Y`` line that CI integrations read, written by the grader alone."""
    if lab_total:
        return f"Points {format_points(report.points)}/{format_points(report.graded_max_points)}"
    only = report.assignments[0]
    return f"Points {format_points(only.points)}/{format_points(only.max_points)}"


#: The heading of the list of assignments not graded.
NOT_GRADED_HEADING = "Not graded (left out of the Points line; what to do is given for each)"


def not_graded_text(entry: NotGraded, same_fix_as: str = "") -> str:
    """``a2 (Perceptron): not graded: MNIST train split not found ... What to do: ...``;
    ``same_fix_as`` names an assignment listed before whose fix this one repeats."""
    text = f"{entry.assignment} ({entry.title}): not graded: {entry.reason.rstrip('. ')}."
    if same_fix_as:
        return f"{text} What to do: the same as for {same_fix_as}."
    return f"{text} What to do: {entry.fix}" if entry.fix else text


def not_graded_texts(report: LabResult) -> list[str]:
    """Every assignment of ``report`` not graded, in order, a fix said once (three MNIST
    assignments share one)."""
    first_with: dict[str, str] = {}
    texts = []
    for entry in report.not_graded:
        texts.append(not_graded_text(entry, first_with.get(entry.fix, "") if entry.fix else ""))
        first_with.setdefault(entry.fix, entry.assignment)
    return texts
