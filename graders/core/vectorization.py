"""Detect a Python loop over samples by counting executed student lines (see probes)."""

from __future__ import annotations

from graders.core.plugin import CriterionFailed
from graders.sandbox.sandbox import Sandbox, StudentCodeError

COUNT_LINES = "graders.sandbox.inside.probes:count_student_lines"
#: Extra lines allowed for 10x more samples (a few data-dependent branches are fine).
SLACK = 25


def require_no_sample_loop(
    sandbox: Sandbox, target: str, small: tuple, large: tuple, what: str
) -> None:
    """Fail when ``target`` runs many more student lines on ``large`` than on ``small``."""
    try:
        few = sandbox.call(COUNT_LINES, (target, list(small), {}), label=what)
        many = sandbox.call(COUNT_LINES, (target, list(large), {}), label=what)
    except StudentCodeError as error:
        if error.raised("ProbeDisabled"):
            detail = error.student_raised.message if error.student_raised else ""
            raise CriterionFailed(
                f"{what}: the grader's probe was disabled ({detail}); the grader measures how "
                "many lines your code runs, so it must not change sys.settrace/sys.setprofile"
            ) from None
        raise
    if not isinstance(few, int) or not isinstance(many, int):
        raise CriterionFailed(f"{what}: could not count the lines it executes")
    if many > few + SLACK:
        raise CriterionFailed(
            f"{what} loops over samples in Python: it ran {few} lines of your code for the "
            f"small batch and {many} for a batch 10x larger; use matrix operations instead"
        )
