"""A named sandbox of one submission: a worker that is restarted fresh after any failure.

Graders talk to student code through :class:`~graders.sandbox.remote.RemoteModule` proxies
(:mod:`graders.sandbox.remote`), so a test reads like ``pure.determinant(A)`` while the
call really crosses into the confined worker. Failures surface as
:class:`~graders.sandbox.call_errors.StudentCodeError` carrying a one-line reason for the
report (:mod:`graders.sandbox.call_errors`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from functools import partial
from typing import Any

from graders.failures import Failure, FailureKind, Location, Locator, unmoved
from graders.sandbox.call_errors import (
    BudgetExhausted,
    StudentCodeError,
    failed_call,
    student_raised_error,
    worker_failed,
)
from graders.sandbox.client import Worker, WorkerSpec
from graders.sandbox.load_clock import Deadline
from graders.sandbox.remote import Answer, Call, RemoteFunction, RemoteModule, ask_all
from graders.sandbox.reply import StudentRaised
from graders.sandbox.text import clean_block
from graders.sandbox.watchdog import UsageListener
from graders.sandbox.worker_errors import (
    SandboxStartError,
    WorkerFailure,
)
from graders.sandbox.workspace import Workspace

#: After this many crashes or timeouts within one criterion, further calls fail at once.
MAX_FAILURES_PER_CRITERION = 3

#: A budgeted call (training) that neither computes nor waits for a CPU for this long is
#: stopped, with that reason: waiting is not computing, and a sleeping training would
#: otherwise hold the check until its wall stop (4x its budget: 8 minutes and more).
IDLE_LIMIT_S = 30.0


def idle_limit(budget_s: float) -> float:
    """How long a call with a budget of ``budget_s`` may sleep or block: a tenth of its
    budget, between 5 and :data:`IDLE_LIMIT_S` seconds."""
    return max(5.0, min(IDLE_LIMIT_S, budget_s / 10))


class Turns:
    """Student code of one submission runs in one worker at a time.

    Student code in two workers at once could pass bits through the kernel (a1's
    ``pure.py`` asking ``vectorized.py`` for numpy's answers), by channels no filter closes
    completely (timing of a shared core, system-wide counters). A submission's sandboxes
    therefore take turns: before one calls its worker (or starts one to call), the worker
    of the previous one is stopped, with every process of it. A worker started ahead of its
    turn (:meth:`Sandbox.start_ahead` with ``after``) only boots: it imports no student
    module before its sandbox's first call, which takes the turn.
    """

    def __init__(self) -> None:
        self._holder: Sandbox | None = None

    def take(self, sandbox: Sandbox) -> None:
        holder = self._holder
        if holder is not None and holder is not sandbox:
            holder.suspend()
        self._holder = sandbox


class Sandbox:
    """Owns the current worker of one sandbox and replaces it after any failure."""

    def __init__(
        self,
        spec: WorkerSpec,
        deadline: Deadline,
        turns: Turns | None = None,
        on_usage: UsageListener | None = None,
        locate: Locator = unmoved,
    ):
        self.spec = spec
        #: A place in the built submission as the student knows it (a notebook's cell).
        self.locate = locate
        #: Hears how much of its budget a budgeted call has used, while it runs.
        self.on_usage = on_usage
        #: Shared by the sandboxes of one submission: one live worker at a time.
        self.turns = turns or Turns()
        #: The submission's time limit, shared by its sandboxes (on the load clock).
        self.deadline = deadline
        self._worker: Worker | None = None
        self._workspace: Workspace | None = None
        self._workspace_lock = threading.Lock()
        self._start_error: SandboxStartError | None = None
        #: A start ahead of the first call (:meth:`start_ahead`): its thread with the events
        #: "started" and "release", the worker it started, and what stopped its start.
        self._ahead: tuple[threading.Thread, threading.Event, threading.Event] | None = None
        self._ahead_worker: Worker | None = None
        self._ahead_error: BaseException | None = None
        #: CPU seconds of the last call made with a budget.
        self.last_call_cpu_s = 0.0
        #: CPU seconds of every call made with a budget (training), for the record.
        self.budgeted_cpu_s = 0.0
        self.attempts: list[dict] = []
        self.audit: list[dict] = []
        self.libraries: set[str] = set()
        #: Facts its workers' kernel view did not show the grader (see Worker.unconfirmed).
        self.unconfirmed: list[str] = []
        self.failures_in_criterion = 0
        self._last_failure = ""
        self._last_kind = FailureKind.CRASHED
        self.last_output = ""

    def start_ahead(self, after: Sandbox | None = None) -> None:
        """Start the worker in the background, while the grader prepares the first criterion
        (a worker's start is about 0.1 s: pytest's own start-up then hides it). Every other
        use of this sandbox waits for it first; a start that fails is raised by the first
        call, as if that call had started it.

        With ``after`` (another sandbox of the submission, started ahead before this one),
        this worker starts once that one has, and without taking the turn (:class:`Turns`):
        it boots and answers the handshake while the other's criteria run, but no student
        code runs in it until this sandbox's first call takes the turn, which stops the
        other worker first.

        A worker dies with the thread that started it (its parent-death signal, bubblewrap's
        ``--die-with-parent``): the thread therefore lives until that worker is discarded.
        """
        if self._ahead is not None or self._worker is not None:
            return
        if after is None:  # made here: the grader hands it input files meanwhile (put_file)
            _ = self.workspace
        gate = after._ahead[1] if after is not None and after._ahead is not None else None
        started, release = threading.Event(), threading.Event()

        def start() -> None:
            try:
                if after is None:
                    self.turns.take(self)
                elif gate is not None:
                    gate.wait()
                self._ensure_worker()
                self._ahead_worker = self._worker
            except SandboxStartError:
                pass  # kept in _start_error: the first call raises it
            except BaseException as error:  # noqa: BLE001 - handed to the first call
                self._ahead_error = error
            finally:
                started.set()
            release.wait()

        self._ahead = (threading.Thread(target=start, daemon=True), started, release)
        self._ahead[0].start()

    def _settle(self) -> None:
        """Wait until a worker started ahead is up; raise what stopped its start."""
        if self._ahead is None:
            return
        thread, started, release = self._ahead
        started.wait()
        if self._ahead_worker is None:  # nothing to keep alive
            release.set()
            thread.join()
            self._ahead = None
        error, self._ahead_error = self._ahead_error, None
        if error is not None:
            raise error

    def _release_ahead(self) -> None:
        """The worker started ahead is gone: its thread may end."""
        if self._ahead is not None:
            thread, _, release = self._ahead
            release.set()
            thread.join()
            self._ahead = None
        self._ahead_worker = None

    def begin_criterion(self) -> None:
        self.failures_in_criterion = 0
        self._last_failure = ""

    def call(
        self,
        target: str,
        args: tuple = (),
        kwargs: dict | None = None,
        timeout: float | None = None,
        label: str | None = None,
        budget_s: float | None = None,
        measure_cpu: bool = False,
    ) -> Any:
        """Call ``target`` ("module:function") with arguments sent by value.

        ``label`` names the call in reasons (a probe is reported as the function it runs).
        ``budget_s`` is a grading budget such as "5 minutes on 2 CPU cores": it is counted
        in CPU seconds (``budget_s`` x the promised cores), so the same code gets the same
        verdict alone, beside other jobs or on a busy machine; a program that only waits is
        stopped by the wall clock at ``budget_s`` x ``budget_wall_factor``, and one that
        neither computes nor waits for a CPU for :func:`idle_limit` seconds sooner. Wall-clock limits
        (``timeout``, that stop, the submission's deadline) leave out the time the worker
        waited for a CPU (:mod:`graders.sandbox.load_clock`).

        With ``measure_cpu`` (or a budget) the CPU seconds the kernel counted for the
        worker's processes during the call are left in ``last_call_cpu_s``: a measurement
        that student code cannot change, unlike anything measured inside the worker.
        """
        self._settle()
        label = self._label(target, label)
        self.last_call_cpu_s = 0.0
        if self.failures_in_criterion >= MAX_FAILURES_PER_CRITERION:
            raise self._refused(label)
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise self._deadline_passed(label)
        limits = self.spec.limits
        cpu_budget = idle_s = None
        if budget_s is not None:
            cpu_budget = budget_s * limits.promised_cores
            timeout = budget_s * limits.budget_wall_factor
            idle_s = idle_limit(budget_s)
        elif measure_cpu:
            cpu_budget = math.inf  # counted, never reached
        limit = min(timeout or limits.call_timeout_s, remaining)
        self.turns.take(self)
        worker = self._ensure_worker()
        try:
            return worker.call(target, args, kwargs or {}, limit, cpu_budget, self.on_usage, idle_s)
        except StudentRaised as raised:
            raise student_raised_error(label, raised, self.locate) from None
        except WorkerFailure as failure:
            self._discard_worker()
            error = worker_failed(label, failure)
            self._count_failure(failed_call(label, args, kwargs or {}, failure), error)
            raise error from None
        except BaseException:
            self._discard_worker()  # interrupted mid-call: the protocol state is unknown
            raise
        finally:
            # Also for a call that failed: a call stopped at its limit while computing has
            # still used what the kernel counted.
            self.last_call_cpu_s = worker.last_call_cpu_s
            if budget_s is not None:
                self.budgeted_cpu_s += worker.last_call_cpu_s
            self.deadline.worker_waited(worker.last_call_waited_s)
            worker.last_call_waited_s = 0.0
            self._collect(worker)

    def map(
        self, calls: Sequence[Call], *, timeout: float | None = None, until_error: bool = True
    ) -> list[Answer]:
        """Ask many questions with one round trip: each of ``calls`` is answered as
        :meth:`call` would answer it (its own time limit, reason and place), in order.

        With ``until_error`` the first call that fails is the last one run and answered
        (what a loop of :meth:`call` would do); without it a raise does not stop the rest.
        A crash or a hang always ends the batch. A crash or hang counts towards
        :data:`MAX_FAILURES_PER_CRITERION` when its answer is read (:meth:`Answer.get`), as
        if it had been called then: one the grader never reaches changes nothing.
        """
        self._settle()
        if not calls:
            return []
        labels = [self._label(call.target, call.label) for call in calls]
        if self.failures_in_criterion >= MAX_FAILURES_PER_CRITERION:
            return [Answer(error=self._refused(labels[0]))]
        if self.deadline.remaining() <= 0:
            return [Answer(error=self._deadline_passed(labels[0]))]
        limits = self.spec.limits

        def limit_of(item: int) -> float:
            return min(timeout or limits.call_timeout_s, max(self.deadline.remaining(), 0.0))

        self.turns.take(self)
        answers: list[Answer] = []
        worker = self._ensure_worker()
        items = worker.map(
            [(c.target, c.args, dict(c.kwargs)) for c in calls], limit_of, until_error
        )
        try:
            for index in range(len(calls)):
                if index and self.deadline.remaining() <= 0:
                    self._discard_worker()  # it runs on; what it still sends is not read
                    answers.append(Answer(error=self._deadline_passed(labels[index])))
                    break
                try:
                    outcome = next(items)
                except StopIteration:
                    break
                finally:
                    self.deadline.worker_waited(worker.last_call_waited_s)
                    worker.last_call_waited_s = 0.0
                if isinstance(outcome, StudentRaised):
                    error = student_raised_error(labels[index], outcome, self.locate)
                    answers.append(Answer(error=error))
                else:
                    answers.append(Answer(value=outcome))
        except WorkerFailure as failure:
            self._discard_worker()
            label, call = labels[len(answers)], calls[len(answers)]
            error = worker_failed(label, failure)
            happened = failed_call(label, call.args, dict(call.kwargs), failure)
            answers.append(
                Answer(error=error, on_read=partial(self._count_failure, happened, error))
            )
        except BaseException:
            self._discard_worker()  # interrupted mid-batch: the protocol state is unknown
            raise
        finally:
            self._collect(worker)
        return answers

    def _label(self, target: str, label: str | None) -> str:
        """How a call is named in reasons: ``label``, else its function; a module named
        by its file as the student knows it (a notebook)."""
        label = label or target.rpartition(":")[2] or target
        return self.locate(Location(label)).file if label.endswith(".py") else label

    def _count_failure(self, happened: str, error: StudentCodeError) -> None:
        """A crash or hang (``happened``: the call in short form and what it did) counts in
        this criterion."""
        self.failures_in_criterion += 1
        self._last_failure = happened
        self._last_kind = error.failure.kind

    def _refused(self, label: str) -> StudentCodeError:
        """The call is not run: its criterion has seen too many crashes or hangs."""
        reason = (
            f"{self._last_failure}; after {self.failures_in_criterion} crashes or timeouts "
            f"in this criterion, {label} was not run"
        )
        return StudentCodeError(reason, failure=Failure(self._last_kind, label, None, reason))

    def _deadline_passed(self, label: str) -> BudgetExhausted:
        reason = f"{label}: the time budget for grading this submission ran out"
        return BudgetExhausted(reason, failure=Failure(FailureKind.TIMED_OUT, label, None, reason))

    def suspend(self) -> None:
        """Stop the worker (another sandbox of the submission takes its turn); the next
        call starts a fresh one. Not a failure: nothing is counted against the student."""
        self._settle()
        self._discard_worker()

    @property
    def workspace(self) -> Workspace:
        """Made on first use, by the grader or by a start ahead, whichever comes first."""
        with self._workspace_lock:
            if self._workspace is None:
                self._workspace = Workspace(self.spec.worker_modules)
            return self._workspace

    def _ensure_worker(self) -> Worker:
        if self._start_error is not None:
            raise self._start_error  # the sandbox cannot start here: do not try again
        if self._worker is None or not self._worker.alive:
            self._discard_worker()
            worker = Worker(self.spec, self.workspace)
            try:
                worker.start()
            except SandboxStartError as error:
                self._start_error = error
                raise
            self._worker = worker
        return self._worker

    def _collect(self, worker: Worker) -> None:
        self.attempts.extend(worker.attempts)
        worker.attempts.clear()
        self.audit.extend(worker.audit)
        worker.audit.clear()
        self.libraries |= worker.libraries
        self.unconfirmed.extend(f for f in worker.unconfirmed if f not in self.unconfirmed)
        worker.unconfirmed.clear()

    def _discard_worker(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._collect(self._worker)
            if self._worker.output is not None:
                self.last_output = clean_block(self._worker.output.text())
            if self._worker is self._ahead_worker:
                self._release_ahead()
            self._worker = None

    def put_file(self, relative: str, data: bytes | str) -> str:
        """Hand the worker an input file, read-only to it (also after restarts).

        The file is written by the grader into the sandbox's inputs folder, which no worker
        can write, so no link made by student code is ever followed. Returns the path by
        which the worker reads it.
        """
        payload = data.encode() if isinstance(data, str) else data
        return str(self.workspace.put_input(relative, payload))

    def close(self) -> None:
        try:
            self._settle()
        finally:
            self._discard_worker()
        if self._workspace is not None:
            self._workspace.close()
            self._workspace = None

    def module(self, name: str) -> RemoteModule:
        return RemoteModule(self, name)


__all__ = [
    "Answer", "BudgetExhausted", "Call", "RemoteFunction", "RemoteModule", "Sandbox",
    "StudentCodeError", "Turns", "ask_all", "idle_limit",
]  # fmt: skip
