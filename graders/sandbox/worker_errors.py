"""How a call into a worker can fail, as the grader's side sees it (the sandbox turns each
into a :class:`graders.failures.Failure` of its kind)."""

from __future__ import annotations


class WorkerFailure(Exception):
    """The call did not produce an answer: the one-line ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SandboxStartError(Exception):
    """The worker could not be started at all: an infrastructure problem, not the student's."""


class WorkerCrashed(WorkerFailure):
    pass


class CallTimedOut(WorkerFailure):
    """Stopped at its time limit, or (``over_budget``) at its grading budget of CPU seconds."""

    def __init__(self, reason: str, over_budget: bool = False):
        super().__init__(reason)
        self.over_budget = over_budget
