"""What a failed call into student code was, in words a student can act on.

:class:`StudentCodeError` carries the one-line reason and the failure as a value (its kind
set where it happened, never read back from text); the reasons are written here, with
the place the student knows (a notebook's cell, by the sandbox's ``locate``).
"""

from __future__ import annotations

from typing import Any

from graders.failures import Failure, FailureKind, Location, Locator, location_from_where
from graders.sandbox.reply import StudentRaised
from graders.sandbox.worker_errors import CallTimedOut, WorkerCrashed, WorkerFailure


class StudentCodeError(Exception):
    """A call into student code failed; ``reason`` is the one line shown to the student and
    ``failure`` what happened, as a value (its kind was set here, never read from text)."""

    def __init__(
        self,
        reason: str,
        *,
        student_raised: StudentRaised | None = None,
        failure: Failure | None = None,
    ):
        super().__init__(reason)
        self.reason = reason
        self.student_raised = student_raised
        self.failure = failure or Failure(FailureKind.RAISED, reason=reason)

    def raised(self, exception_name: str) -> bool:
        """Whether student code raised ``exception_name`` or a subclass of it."""
        return self.student_raised is not None and exception_name in self.student_raised.bases


class BudgetExhausted(StudentCodeError):
    pass


def worker_failed(label: str, failure: WorkerFailure) -> StudentCodeError:
    """The error of a call whose worker failed (hung, over budget, crashed)."""
    if isinstance(failure, CallTimedOut):
        reason = f"{label} {failure.reason} (it was stopped)"
        kind = FailureKind.OVER_BUDGET if failure.over_budget else FailureKind.TIMED_OUT
    elif isinstance(failure, WorkerCrashed):
        reason, kind = f"{label} crashed: {failure.reason}", FailureKind.CRASHED
    else:
        reason, kind = f"{label}: {failure.reason}", FailureKind.CRASHED
    return StudentCodeError(reason, failure=Failure(kind, label, None, reason))


def failed_call(label: str, args: tuple, kwargs: dict, failure: WorkerFailure) -> str:
    """The call in short form and what it did, e.g. ``trace([[1.0, 2.0], ...]) hung``."""
    did = "hung" if isinstance(failure, CallTimedOut) else "crashed"
    return f"{short_call(label, args, kwargs)} {did}"


def student_raised_error(label: str, raised: StudentRaised, locate: Locator) -> StudentCodeError:
    """The error of a call in which student code raised (see :func:`raised_failure`)."""
    failure = raised_failure(label, raised, locate)
    return StudentCodeError(failure.reason, student_raised=raised, failure=failure)


def short_call(label: str, args: tuple, kwargs: dict, limit: int = 80) -> str:
    """``label(args)`` in short form for a reason, e.g. ``trace([[1.0, 2.0], ...])``."""
    parts = [_short_value(a) for a in args] + [f"{k}={_short_value(v)}" for k, v in kwargs.items()]
    text = ", ".join(parts)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{label}({text})"


def _short_value(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        return f"array{tuple(shape)}"
    if isinstance(value, (list, tuple)) and len(value) > 3:
        return f"[{', '.join(_short_value(v) for v in value[:2])}, ... {len(value)} items]"
    if isinstance(value, str) and len(value) > 40:
        return repr(value[:37] + "...")
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def raised_failure(label: str, raised: StudentRaised, locate: Locator) -> Failure:
    """What a raise in student code was, with its reason rendered at the place the student
    knows (``locate``: a module line as its notebook's cell): the module failing to import
    (the worker's stage, not the message, says so) or the function raising."""
    location = location_from_where(raised.where)
    if location is not None:
        location = locate(location)
    where = location.describe() if location is not None else raised.where
    at = f" (at {where})" if where else ""
    message = raised.message.strip().splitlines()[0] if raised.message.strip() else ""
    text = f"{raised.type_name}: {message}" if message else raised.type_name
    module = locate(Location(raised.target.partition(":")[0].replace(".", "/") + ".py")).file
    if raised.stage == "import":
        reason = f"could not import {module}: {text}{at}"
        return Failure(FailureKind.COULD_NOT_IMPORT, module, location, reason, text)
    if raised.stage == "lookup":
        reason = f"{module} has no function {label}"
    elif raised.type_name == "NotImplementedError":
        reason = f"{label} is not implemented yet" + (f": {message}" if message else "")
    elif (
        raised.type_name in ("ModuleNotFoundError", "ImportError")
        and "blocked by the grader" in message
    ):
        reason = f"{label}: {message}{at}"
    else:
        reason = f"{label} raised {text}{at}"
    return Failure(FailureKind.RAISED, label, location, reason, text)
