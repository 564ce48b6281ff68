"""Gradescope autograder ``results.json`` (keys as documented by Gradescope).

Gradescope shows the outputs as plain text: student text in them is ``encode.terminal``.
"""

from __future__ import annotations

import json

from graders.core.results import LabResult, Status, format_points
from graders.render import coverage, encode, footer
from graders.render.summary import minimum_line


def render(report: LabResult, lab_total: bool, verbose: bool = False) -> str:
    tests = []
    for result in report.assignments:
        for number, c in enumerate(result.criteria, start=1):
            output = encode.terminal(c.reason) if c.reason else "All checks passed."
            tests.append(
                {
                    "name": f"{result.assignment} {c.id}: {c.title}",
                    "number": f"{result.assignment[1:]}.{number}",
                    "score": c.points,
                    "max_score": c.max_points,
                    "status": "passed" if c.status == Status.PASSED else "failed",
                    "output": output,
                    "visibility": c.visibility,
                    "tags": [result.assignment, c.status],
                }
            )
    for entry in report.not_graded if lab_total else ():
        tests.append(
            {
                "name": f"{entry.assignment}: not graded",
                "score": 0,
                "max_score": 0,
                "status": "failed",
                "output": encode.terminal(coverage.not_graded_text(entry)),
                "visibility": "visible",
                "tags": [entry.assignment, "not graded"],
            }
        )
    summary = [coverage.points_line(report, lab_total)]
    for result in report.assignments:
        summary.append(
            f"{result.assignment}: {format_points(result.points)}/{format_points(result.max_points)}"
        )
        summary += [f"note: {encode.terminal(n)}" for n in result.notices]
        summary += [f"rule broken: {encode.terminal(v.describe())}" for v in result.violations]
        summary += [f"saved {encode.terminal(a)}" for a in result.artifacts]
        summary.append(encode.terminal(footer.footer(result)))
        if verbose:
            summary += [encode.terminal(detail) for detail in footer.details(result)]
    if lab_total:
        summary += [encode.terminal(text) for text in coverage.not_graded_texts(report)]
        summary.append(minimum_line(report))
    document = {
        "score": report.points if lab_total else report.assignments[0].points,
        "execution_time": int(round(sum(r.duration_s for r in report.assignments))),
        "output": "\n".join(summary),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(encode.json_value(document), indent=2, ensure_ascii=True) + "\n"
