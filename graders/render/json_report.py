"""Machine-readable JSON of everything the grader decided (the instructor's record).

Every string is kept as it was except what no UTF-8 reader takes (a lone surrogate),
and the document is ASCII: any terminal, file or parser takes it.
"""

from __future__ import annotations

import json

from graders.core.results import LabResult
from graders.render import encode


def render(report: LabResult, lab_total: bool, verbose: bool = False) -> str:
    """The record (``verbose`` changes nothing: it always holds everything)."""
    data = report.to_dict() if lab_total else report.assignments[0].to_dict()
    return json.dumps(encode.json_value(data), indent=2, sort_keys=False, ensure_ascii=True) + "\n"
