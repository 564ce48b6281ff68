"""One grading job (a student and an assignment), run in a process of its own.

Each job runs ``python -m graders.batch.job`` so that nothing one submission does, not even
a crash of the grading harness itself, can touch the batch process or another job. The
job and its outcome travel as JSON files. The same function runs a job on this machine or
on a distributed engine's worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from graders.core import own_memory
from graders.core.options import GradeOptions, json_ready
from graders.core.progress import Event, EventFile, EventTail
from graders.core.results import ValueEnum
from graders.sandbox.load_clock import LoadClock
from graders.sandbox.owners import owned_prefix
from graders.sandbox.processes import descendants, kill_tree
from graders.sandbox.workspace import remove_tree

#: Seconds a job may take beyond its assignment's own submission timeout (start-up, data).
GRACE_S = 180.0


class JobStatus(ValueEnum):
    """What became of a job; the value is what records, the gradebook and reports show."""

    #: Graded: the outcome holds a result.
    OK = "ok"
    #: The submission cannot be graded (a bad zip, ...): final until it changes.
    REJECTED = "rejected"
    #: Grading it took longer than the job's limit.
    TIMEOUT = "timeout"
    #: An infrastructure problem, not the student's: the job runs again next time.
    ERROR = "error"


@dataclass(frozen=True)
class Job:
    student: str
    assignment: str
    folder: str  # the folder to grade (already unpacked)
    fingerprint: str
    options: GradeOptions = field(default_factory=GradeOptions)
    notices: tuple[str, ...] = ()
    #: Wall-clock limit of the whole job; None: the assignment's own limit plus GRACE_S.
    timeout_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        return json_ready(asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        data = dict(data)
        data["options"] = GradeOptions.from_json(data.get("options", {}))
        data["notices"] = tuple(data.get("notices", ()))
        return cls(**data)


@dataclass
class Outcome:
    """What became of a job: a result (``ok``) or a reason it has none."""

    student: str
    assignment: str
    fingerprint: str
    status: JobStatus
    result: dict[str, Any] | None = None
    error: str = ""
    seconds: float = 0.0
    environment: dict[str, Any] = field(default_factory=dict)
    #: What the points were computed from (submission and grader digests, seed, secrets'
    #: fingerprint), so that a later run can say why a student's points moved.
    inputs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        return cls(**{**data, "status": JobStatus(data["status"])})


#: The grading processes running now, with their markers: a stopped class run ends them
#: (:func:`stop_running_jobs`) so that each job's thread removes its folders and returns.
_RUNNING: dict[int, tuple[subprocess.Popen, str]] = {}
_RUNNING_LOCK = threading.Lock()


def stop_running_jobs() -> None:
    """Kill every running job's process tree (the class run was stopped)."""
    with _RUNNING_LOCK:
        running = list(_RUNNING.values())
    for child, marker in running:
        kill_tree(child.pid, marker.encode())


def run_isolated(job: Job, on_event: Callable[[Event], None] | None = None) -> Outcome:
    """Run ``job`` in a child process; every failure becomes an Outcome, never an exception.

    ``on_event`` hears the job's progress (which criterion runs), about once a second.
    """
    from graders import catalog

    try:
        own_limit = catalog.spec(job.assignment).submission_timeout_s
    except catalog.UnknownAssignment:
        return _failure(job, f"there is no assignment {job.assignment}", time.monotonic())
    limit = job.timeout_s or own_limit + GRACE_S
    started = time.monotonic()
    marker = f"NNGRADE_JOB={uuid.uuid4().hex}"
    with tempfile.TemporaryDirectory(prefix=owned_prefix("job")) as scratch:
        job_file, outcome_file = Path(scratch, "job.json"), Path(scratch, "outcome.json")
        events_file = Path(scratch, "events.jsonl")
        job_file.write_text(json.dumps(job.to_json()))
        # Every folder the job makes (staged copy, sandboxes) lies here, so that the driver
        # removes them itself, also after a timeout kill; workers of other uids pass through.
        work = Path(scratch, "work")
        work.mkdir(mode=0o711)
        os.chmod(scratch, 0o711)
        os.chmod(work, 0o711)
        arguments = [str(job_file), str(outcome_file), *([str(events_file)] if on_event else [])]
        child = subprocess.Popen(
            [sys.executable, "-m", "graders.batch.job", *arguments],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            env={
                **os.environ,
                "PYTHONDONTWRITEBYTECODE": "1",
                "NNGRADE_WORK_DIR": str(work),
                marker.split("=")[0]: marker,
            },
        )
        with _RUNNING_LOCK:
            _RUNNING[child.pid] = (child, marker)
        try:
            log = _communicate_on_load_clock(child, limit, _forward(events_file, on_event))
        finally:
            with _RUNNING_LOCK:
                _RUNNING.pop(child.pid, None)
            if child.poll() is not None:  # ended or killed: what it left, whoever owns it
                remove_tree(work, 120.0)
        if log is None:
            kill_tree(child.pid, marker.encode())  # the job and every process it started
            child.communicate()
            remove_tree(work, 120.0)  # its sandboxes and staged copies, whoever owns them
            outcome = _failure(job, f"grading did not finish within {limit:.0f} s", started)
            outcome.status = JobStatus.TIMEOUT
            return outcome
        if outcome_file.is_file():
            try:
                return Outcome.from_json(json.loads(outcome_file.read_text()))
            except (ValueError, TypeError) as error:
                return _failure(job, f"unreadable grading outcome ({error})", started)
        tail = " | ".join((log or "").strip().splitlines()[-3:])
        return _failure(
            job, f"the grading process exited with status {child.returncode}: {tail}"[:500], started
        )


def _forward(events_file: Path, on_event: Callable[[Event], None] | None) -> Callable[[], None]:
    """Pass on what the job wrote to its events file since the last call."""
    tail = EventTail(events_file)

    def forward() -> None:
        for event in tail.read() if on_event else ():
            on_event(event)

    return forward


def _communicate_on_load_clock(
    child: subprocess.Popen, limit: float, each_second: Callable[[], None]
) -> str | None:
    """The job's output once it ends, or None when it ran ``limit`` seconds on the load
    clock (wall time less the time its processes waited for a CPU: a busy machine does not
    time a submission out). ``each_second`` runs while it waits."""
    clock = LoadClock(lambda: {child.pid} | descendants(child.pid))
    while True:
        try:
            log, _ = child.communicate(timeout=1.0)
            return log or ""
        except subprocess.TimeoutExpired:
            each_second()
            if clock.elapsed() > limit:
                return None


def _failure(job: Job, message: str, started: float) -> Outcome:
    return Outcome(
        job.student, job.assignment, job.fingerprint, JobStatus.ERROR, error=message,
        seconds=round(time.monotonic() - started, 2),
    )  # fmt: skip


def run_here(job: Job, events_file: Path | None = None) -> Outcome:
    """Grade ``job`` in this process (the child side of :func:`run_isolated`); its progress
    goes to ``events_file`` when given."""
    from graders import catalog
    from graders.batch.environment import describe_environment
    from graders.core.runner import GraderBroken, MissingExtra, grade
    from graders.core.secrets import SecretsError
    from graders.core.submission import SubmissionError
    from graders.data.mnist import MNISTError
    from graders.sandbox.confinement import ConfinementUnavailable

    started = time.monotonic()
    outcome = Outcome(job.student, job.assignment, job.fingerprint, JobStatus.ERROR)
    outcome.environment = describe_environment()
    try:
        progress = EventFile(events_file) if events_file is not None else None
        result = grade(catalog.spec(job.assignment), Path(job.folder), job.options, progress)
        result.notices = list(job.notices) + result.notices
        result.submission = job.student  # not the grading machine's path
        outcome.status, outcome.result = JobStatus.OK, result.to_dict()
    except SubmissionError as error:
        outcome.status, outcome.error = JobStatus.REJECTED, str(error)
    except (MissingExtra, MNISTError, ConfinementUnavailable, SecretsError, GraderBroken) as error:
        outcome.error = f"{type(error).__name__}: {error}"[:1000]
    except MemoryError:
        outcome.error = (
            f"grading this submission needed more than the grader's own memory bound "
            f"({own_memory.described()}); its other students are graded as usual"
        )
    except Exception as error:  # noqa: BLE001 - a harness bug must not lose the batch
        outcome.error = f"internal error {type(error).__name__}: {error}"[:1000]
    outcome.seconds = round(time.monotonic() - started, 2)
    return outcome


def main(argv: list[str]) -> int:
    """``job.json outcome.json [events.jsonl]``."""
    job_file, outcome_file = Path(argv[0]), Path(argv[1])
    events_file = Path(argv[2]) if len(argv) > 2 else None
    own_memory.bound_own_memory()  # a submission cannot make this job take the machine
    outcome = run_here(Job.from_json(json.loads(job_file.read_text())), events_file)
    temporary = outcome_file.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(outcome)))
    os.replace(temporary, outcome_file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
