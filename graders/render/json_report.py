"""Machine-readable JSON of everything the grader decided (the instructor's record)."""

from __future__ import annotations

import json

from graders.core.results import LabResult


def render(report: LabResult, lab_total: bool) -> str:
    data = report.to_dict() if lab_total else report.assignments[0].to_dict()
    return json.dumps(data, indent=2, sort_keys=False) + "\n"
