"""The contract every assignment's grader keeps, checked for each one in the catalog:
the reference solution earns every point and the student stub none, each lost point
with a reason. The assignments' own test files add what is particular to them (accuracy
margins, animations) on the same graded results."""

from __future__ import annotations

import pytest

from graders import catalog
from graders.core.results import Status


@pytest.mark.parametrize("key", catalog.assignment_keys())
def test_reference_gets_full_marks(key, graded_course):
    result = graded_course(key, "reference")
    lost = {c.id: c.reason for c in result.criteria if c.status != Status.PASSED}
    assert lost == {}
    assert result.points == result.max_points == catalog.spec(key).points
    assert result.violations == [] and result.internal_errors == []


@pytest.mark.parametrize("key", catalog.assignment_keys())
def test_stub_gets_zero_with_a_reason_per_criterion(key, graded_course):
    result = graded_course(key, "student_template")
    assert result.points == 0 and result.criteria
    for criterion in result.criteria:
        assert criterion.status == Status.FAILED and criterion.reason, criterion
    assert result.internal_errors == []
