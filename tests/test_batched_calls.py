"""Many questions, one round trip (``Sandbox.map``): every item is answered as a call of its
own would be, in order, with its own error, time limit and place in the student's code.

The submissions are the a1 reference with one function edited, so that it answers, raises,
crashes or hangs on the input the test chooses.
"""

from __future__ import annotations

import time

import pytest
from helpers import FAST_A1, build_submission, inject_at_start

from graders.core.context import GradingContext
from graders.core.submission import stage
from graders.sandbox.confinement import select
from graders.sandbox.sandbox import MAX_FAILURES_PER_CRITERION, Call, StudentCodeError

IDENTITY = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


def matrix_of(first: float) -> list[list[float]]:
    """A matrix whose trace is ``first + 2`` and whose first entry picks the behaviour."""
    return [[first, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


@pytest.fixture
def pure_with(tmp_path):
    """A GradingContext's "pure" sandbox over the reference with ``trace`` edited."""
    made = []

    def make(code: str):
        submission = build_submission(
            tmp_path / f"s{len(made)}", edits={"a1/pure.py": inject_at_start("trace", code)}
        )
        staged = stage(submission, FAST_A1)
        context = GradingContext(FAST_A1, staged, select("auto"))
        made.append((context, staged))
        return context.sandbox("pure")

    yield make
    for context, staged in made:
        context.close()
        staged.cleanup()


def traces(*firsts: float) -> list[Call]:
    return [Call("a1.pure:trace", (matrix_of(f),)) for f in firsts]


def test_a_batch_answers_what_each_call_answers(pure_with):
    sandbox = pure_with("pass")
    answers = sandbox.map(traces(1.0, 5.0, -2.0))
    assert [a.get() for a in answers] == [3.0, 7.0, 0.0]
    assert [a.get() for a in answers] == [
        sandbox.call("a1.pure:trace", (matrix_of(f),)) for f in (1.0, 5.0, -2.0)
    ]


def test_a_raise_ends_the_batch_with_its_own_reason_and_place(pure_with):
    sandbox = pure_with("if A[0][0] == 7: raise ValueError('seven')")
    answers = sandbox.map(traces(1.0, 7.0, 2.0))
    assert len(answers) == 2, "the item after the raise must not run"
    assert answers[0].get() == 3.0
    with pytest.raises(StudentCodeError) as raised:
        answers[1].get()
    error = raised.value
    assert error.raised("ValueError")
    assert error.reason.startswith("trace raised ValueError: seven (at a1/pure.py:")
    assert error.failure.location is not None and error.failure.location.scope == "trace"
    assert error.failure.location == sandbox.map(traces(7.0))[0].error.failure.location


def test_without_until_error_a_raise_does_not_stop_the_rest(pure_with):
    sandbox = pure_with("if A[0][0] == 7: raise ValueError('seven')")
    answers = sandbox.map(traces(7.0, 2.0, 7.0, 3.0), until_error=False)
    assert [a.ok for a in answers] == [False, True, False, True]
    assert [answers[1].get(), answers[3].get()] == [4.0, 5.0]
    assert sandbox.failures_in_criterion == 0, "a raise is not a crash"


def test_a_crash_ends_the_batch_and_counts_only_when_read(pure_with):
    sandbox = pure_with("if A[0][0] == 9: import os; os._exit(3)")
    sandbox.begin_criterion()
    answers = sandbox.map(traces(1.0, 9.0, 2.0), until_error=False)
    assert len(answers) == 2 and answers[0].get() == 3.0
    assert sandbox.failures_in_criterion == 0, "counted when the grader reaches it"
    with pytest.raises(StudentCodeError) as raised:
        answers[1].get()
    assert raised.value.reason.startswith("trace crashed:")
    assert sandbox.failures_in_criterion == 1
    # The worker is replaced: the next batch runs on a fresh one.
    assert [a.get() for a in sandbox.map(traces(4.0))] == [6.0]


def test_a_crash_the_grader_never_reads_changes_nothing(pure_with):
    sandbox = pure_with("if A[0][0] == 9: import os; os._exit(3)")
    sandbox.begin_criterion()
    for _ in range(MAX_FAILURES_PER_CRITERION):
        answers = sandbox.map(traces(1.0, 9.0))
        assert answers[0].get() == 3.0  # a wrong answer here would end the check
    assert sandbox.call("a1.pure:trace", (IDENTITY,)) == 3.0, "nothing was counted"


def test_each_item_has_its_own_time_limit(pure_with):
    sandbox = pure_with("if A[0][0] == 8: import time; time.sleep(60)")
    started = time.monotonic()
    answers = sandbox.map(traces(1.0, 2.0, 8.0, 3.0), timeout=2.0)
    assert time.monotonic() - started < 20
    assert [a.ok for a in answers] == [True, True, False]
    assert answers[2].error.reason == "trace did not finish within 2 s (it was stopped)"
    # Quick items do not use up a slow item's limit: five 1.5-second items under a 2 s limit.
    slow = pure_with("import time; time.sleep(1.5)")
    answers = slow.map(traces(1.0, 2.0, 3.0, 4.0, 5.0), timeout=2.0)
    assert [a.get() for a in answers] == [3.0, 4.0, 5.0, 6.0, 7.0]


def test_after_too_many_crashes_a_batch_is_not_run(pure_with):
    sandbox = pure_with("if A[0][0] == 9: import os; os._exit(3)")
    sandbox.begin_criterion()
    for _ in range(MAX_FAILURES_PER_CRITERION):
        with pytest.raises(StudentCodeError):
            sandbox.map(traces(9.0))[0].get()
    answers = sandbox.map(traces(1.0, 2.0))
    assert len(answers) == 1 and "was not run" in answers[0].error.reason


class ItemsLeft:
    """A submission deadline that runs out after ``items`` answers (a sandbox tells its
    deadline once per answer how long the worker waited for a CPU)."""

    def __init__(self, items: int):
        self.items = items

    def worker_waited(self, seconds: float) -> None:
        self.items -= 1

    def remaining(self) -> float:
        return 30.0 if self.items > 0 else 0.0


def test_the_deadline_is_checked_between_items(pure_with):
    sandbox = pure_with("pass")
    sandbox.deadline = ItemsLeft(2)
    answers = sandbox.map(traces(1.0, 2.0, 3.0, 4.0, 5.0))
    assert [a.ok for a in answers] == [True, True, False]
    assert answers[2].error.reason == "trace: the time budget for grading this submission ran out"
    assert sandbox._worker is None, "the worker still runs the rest: it is stopped"


def test_a1_starts_two_workers_and_reports_in_the_graders_order(monkeypatch):
    """numpy's criteria run first, then the agreement, then pure Python's on the worker the
    agreement left running; the report keeps the grader's order."""
    from helpers import REFERENCE

    from graders.a1 import ASSIGNMENT
    from graders.core.options import GradeOptions
    from graders.core.runner import grade
    from graders.sandbox import client

    started = []
    real_start = client.Worker.start

    def start(worker):
        started.append(worker.spec.name)
        real_start(worker)

    monkeypatch.setattr(client.Worker, "start", start)
    result = grade(ASSIGNMENT, REFERENCE, GradeOptions())
    assert result.points == 10
    assert started == ["vectorized", "pure"]
    assert [c.id for c in result.criteria] == [
        "pure.load_system", "pure.basic_ops", "pure.solve_cramer", "pure.solve_inverse",
        "vectorized.load_system", "vectorized.basic_ops", "vectorized.solvers", "agreement",
    ]  # fmt: skip


def test_a_worker_started_ahead_outlives_the_moment_and_answers(pure_with):
    """A worker dies with the thread that started it (its parent-death signal): one started
    ahead, in the background, must still answer calls made long after its start."""
    sandbox = pure_with("pass")
    sandbox.start_ahead()
    time.sleep(1.0)  # the start is long over
    assert sandbox.call("a1.pure:trace", (IDENTITY,)) == 3.0
    worker = sandbox._worker
    assert sandbox.map(traces(1.0, 2.0))[1].get() == 4.0 and sandbox._worker is worker


def test_closing_while_a_worker_starts_ahead_leaves_nothing(pure_with):
    sandbox = pure_with("pass")
    sandbox.start_ahead()
    sandbox.close()  # at once: it waits for the start, then stops the worker
    assert sandbox._worker is None and sandbox._ahead is None
