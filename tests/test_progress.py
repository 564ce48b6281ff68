"""Progress while grading: the events, the line a person reads, and the class run's bar."""

from __future__ import annotations

import io
import shutil
import sys

from helpers import REPO, TEMPLATE, build_submission, run_in_terminal

from graders.batch.job import Job, JobStatus, Outcome
from graders.batch.progress import ClassProgress
from graders.core.progress import (
    AssignmentFinished,
    AssignmentNotGraded,
    AssignmentStarted,
    BudgetSampled,
    CriteriaCollected,
    CriterionFinished,
    CriterionStarted,
    EventFile,
    EventTail,
    from_json,
    to_json,
)
from graders.render.live_status import LiveStatus, clock_text

RUN = [
    AssignmentStarted("a2", "Softmax perceptron on MNIST"),
    CriteriaCollected("a2", (("forward", "Forward pass"), ("training.accuracy", "Train"))),
    CriterionStarted("a2", "forward", "Forward pass"),
    CriterionFinished("a2", "forward", "Forward pass", "passed", 1.0, 1.0, 0.4),
    CriterionStarted("a2", "training.accuracy", "Train"),
    BudgetSampled("numpy", 12.5, 240.0, True),
    BudgetSampled("numpy", 30.0, 240.0, False),
    AssignmentFinished("a2", 5.0, 15.0, 65.0),
    AssignmentNotGraded("a3", "MNIST train split not found"),
]


def test_events_travel_as_json_lines_a_complete_line_at_a_time(tmp_path):
    assert [from_json(to_json(event)) for event in RUN] == RUN
    path = tmp_path / "events.jsonl"
    writer, tail = EventFile(path, sample_every_s=60), EventTail(path)
    for event in RUN[:6]:
        writer(event)
    writer(BudgetSampled("numpy", 20.0, 240.0, True))  # within a minute of the last: dropped
    writer(RUN[6])  # the call's last figure always goes
    with path.open("a") as stream:
        stream.write(to_json(RUN[7])[:20])  # a line still being written
    assert tail.read() == RUN[:7]
    with path.open("a") as stream:
        stream.write(to_json(RUN[7])[20:] + "\n" + "not an event\n")
    assert tail.read() == [RUN[7]] and tail.read() == []
    assert EventTail(tmp_path / "none.jsonl").read() == []


def test_the_status_line_names_the_criterion_its_time_and_the_budget_used():
    now = [100.0]
    status = LiveStatus(clock=lambda: now[0])
    status.handle(RUN[0])
    now[0] += 3
    assert status.line() == "a2: Softmax perceptron on MNIST: preparing · 0:03"
    for event in RUN[1:5]:
        status.handle(event)
    now[0] += 42
    status.handle(RUN[5])
    assert status.line() == (
        "a2 2/2 training.accuracy · 0:42 · CPU 12 of 240 s · 0:45 in all · Train"
    )
    assert status.line(brief=True, sep=" - ") == "a2 2/2 training.accuracy - 0:42 - CPU 12 of 240 s"
    status.handle(RUN[6])  # the call ended: no budget running any more
    assert "CPU" not in status.line()
    status.handle(RUN[7])
    assert status.line() == "a2: 5/15 points, 1 criteria graded in 1:05"
    status.handle(RUN[8])
    assert status.line() == "a3: not graded: MNIST train split not found"
    assert clock_text(3725) == "1:02:05"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_class_bar_names_each_running_student_and_criterion():
    stream = _Terminal()
    bar = ClassProgress(total=2, enabled=True, stream=stream)
    ann, ben = Job("ann", "a2", "/x", "f"), Job("ben", "a2", "/y", "g")
    try:
        for event in RUN[:5]:
            bar.event(ann, event)
        bar.event(ben, RUN[0])
        bar.done(Outcome("zed", "a1", "h", JobStatus.OK), errors=0, rejected=0)
        shown = stream.getvalue()
        # (a stream that names no encoding gets ASCII separators)
        assert "ann a2 2/2 training.accuracy - 0:00 | ben a2: preparing - 0:00" in shown
        assert "1/2" in shown and "errors=0" in shown
    finally:
        bar.close()
    log = ClassProgress(total=2, enabled=True, stream=io.StringIO())
    assert not log.live  # a log gets the bar per job, not every criterion
    log.close()


def test_grade_on_a_terminal_shows_the_student_and_assignment_in_progress(tmp_path):
    submissions = tmp_path / "submissions"
    build_submission(submissions / "ann", assignment="a1")
    shutil.copytree(TEMPLATE / "a1", submissions / "ben" / "a1")
    status, shown = run_in_terminal(
        [sys.executable, "-m", "graders.cli", "grade", "a1", str(submissions),
         "--out", str(tmp_path / "out"), "--jobs", "1"],
        env={"PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert status == 0, shown
    assert "2/2" in shown and "2 submissions: 2 graded" in shown
    # each job shows as it starts, however soon it ends (a1 grades in about a second)
    assert "ann a1" in shown and "ben a1" in shown
