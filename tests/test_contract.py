"""The contract every assignment's grader keeps, checked for each one in the catalog and
under each kind of sandbox that grades for the course (bubblewrap, and Landlock alone as
in Docker and on Gradescope): the reference solution earns every point and the student
stub none, each lost point with a reason, and no report blames the student for what a
library did. The assignments' own test files add what is particular to them (accuracy
margins, animations) on the same graded results."""

from __future__ import annotations

import pytest

from graders import catalog
from graders.core.results import Status
from graders.sandbox import confinement

#: The kinds that grade for the course on this machine (every strict layer).
STRONG = [
    kind
    for kind in ("bubblewrap", "landlock")
    if confinement.available(kind)
    and not confinement.build(kind).missing(confinement.STRICT_LAYERS)
]
CASES = [(key, kind) for kind in STRONG or ["auto"] for key in catalog.assignment_keys()]


def _about_student_code(notices: list[str]) -> list[str]:
    return [n for n in notices if "tried to" in n or "your code" in n]


@pytest.mark.parametrize(("key", "kind"), CASES)
def test_reference_gets_full_marks(key, kind, graded_course):
    result = graded_course(key, "reference", kind)
    lost = {c.id: c.reason for c in result.criteria if c.status != Status.PASSED}
    assert lost == {}
    assert result.points == result.max_points == catalog.spec(key).points
    assert result.violations == [] and result.internal_errors == []
    assert _about_student_code(result.notices) == []


@pytest.mark.parametrize(("key", "kind"), CASES)
def test_stub_gets_zero_with_a_reason_per_criterion(key, kind, graded_course):
    result = graded_course(key, "student_template", kind)
    assert result.points == 0 and result.criteria
    for criterion in result.criteria:
        assert criterion.status == Status.FAILED and criterion.reason, criterion
        assert "PermissionError" not in criterion.reason, criterion
    assert result.internal_errors == []
    assert _about_student_code(result.notices) == []
