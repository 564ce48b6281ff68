"""A loop over samples seen from outside the worker: the CPU time the kernel counts.

The line counter of :mod:`graders.core.vectorization` runs inside the worker, in the same
interpreter as student code, so student code can blind it. The kernel's account of the
worker's CPU time (``/proc``, read by the grader) it cannot: a function is run on few
and on many samples of a tiny problem (a handful of features and classes), and the CPU
time it needs per extra sample decides. Whole-array code needs well under a microsecond
per sample there (a few dozen multiply-adds); a Python loop over samples pays the
interpreter and numpy's per-call overhead for every sample, several microseconds.

Nothing in the measure is the student's to steer:

* every call gets inputs drawn afresh (a cache of answers never hits), and the tiny
  problem's shape (features, classes, hidden units) varies with the criterion's seed;
* its answers are checked against the grader's own (a function that recognises the tiny
  problem and answers it at once, wrongly, loses the point);
* a function that fails on the tiny problem loses the point with that reason: whole-array
  code on a few hundred thousand rows of a few numbers cannot fail;
* a measure whose small run cost more than its large one explains (a negative cost per
  sample, or a fixed cost per call far beyond any whole-array code's) is taken again on
  new inputs, and when that persists the large run alone decides: its CPU time per sample
  bounds the cost per extra sample from above, whatever the small run did.

A verdict of "loop" is measured again before it counts, on new inputs: the fastest of the
runs decides, so a moment of contention on a busy machine cannot cost a point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graders.failures import FailureKind
from graders.sandbox.sandbox import Sandbox, StudentCodeError

#: Samples of the small and the large run (the large one varies a little by seed).
SMALL = 2_000
LARGE = (150_000, 250_000)
#: Runs of a function whose first measure was over the limit, the fastest counted.
MEASURES = 3
#: The CPU time a call may cost whatever its size before its small and large runs
#: disagree: whole-array code on the tiny problem costs milliseconds per call.
MAX_OVERHEAD_S = 0.25
#: Time limit of one measured call (load clock). Whole-array code takes well under a
#: second on the tiny problem; a call stopped here while computing has used at least this
#: much CPU time, far past the limit per sample, and is judged on it.
CALL_TIMEOUT_S = 10.0


#: The arguments for ``n`` samples of a tiny problem, the ``draw``-th time: new inputs
#: for every draw.
TinyProblem = Callable[[int, int], tuple]
#: What is wrong with an answer to those arguments ("" when nothing is).
AnswerCheck = Callable[[tuple, Any], str]


class TinyProblemFailed(Exception):
    """The function failed, or answered wrongly, on the tiny problem; ``reason`` says how."""

    def __init__(self, reason: str, wrong_answer: bool = False):
        super().__init__(reason)
        self.reason = reason
        #: It answered, wrongly (a function wrong on every input is judged elsewhere).
        self.wrong_answer = wrong_answer


@dataclass(frozen=True)
class SampleCost:
    """CPU seconds per extra sample between a run on ``small`` and one on ``large``."""

    per_sample_s: float
    small: int
    large: int
    #: The large run was stopped at its time limit: the cost is at least this.
    stopped: bool = False
    #: The small run cost more than the large one explains, on every measure: this is the
    #: large run's CPU time per sample (an upper bound of the cost per extra sample).
    large_alone: bool = False

    @property
    def microseconds(self) -> float:
        return self.per_sample_s * 1e6


def measure(
    sandbox: Sandbox,
    target: str,
    arguments: TinyProblem,
    large: int,
    label: str,
    limit_s: float,
    comparable: Callable[[Any], bool] = lambda answer: True,
    check: AnswerCheck | None = None,
) -> SampleCost | None:
    """The per-sample CPU cost of ``target`` called with ``arguments(n, draw)``; None when
    its answer shows it did not solve the tiny problem it was given (``comparable`` is
    false: e.g. a network of its own sizes, whose cost says nothing about loops).

    Raises :class:`TinyProblemFailed` when it fails on the tiny problem or ``check``
    finds its answer wrong. Measured once, and again (on new inputs) up to
    :data:`MEASURES` times while over ``limit_s`` or inconsistent.
    """
    best: SampleCost | None = None
    for attempt in range(MEASURES):
        small_args, large_args = arguments(SMALL, 2 * attempt), arguments(large, 2 * attempt + 1)
        small_cpu, answer = _measured_call(sandbox, target, small_args, label, SMALL)
        _check_answer(check, small_args, answer, label, SMALL)
        try:
            large_cpu, answer = _cpu_of(sandbox, target, large_args, label)
        except StudentCodeError as error:
            # Stopped while computing: the CPU time it had used is a lower bound, and it
            # decides when that alone is over the limit.
            stopped = _per_sample(sandbox.last_call_cpu_s, small_cpu, large, stopped=True)
            if error.failure.kind in _STOPPED and stopped.per_sample_s > limit_s:
                return stopped
            raise TinyProblemFailed(_failed(label, large, error)) from None
        if not comparable(answer):
            return None
        _check_answer(check, large_args, answer, label, large)
        cost = _estimate(small_cpu, large_cpu, large, last=attempt == MEASURES - 1)
        if cost is None:
            continue  # inconsistent: measured again on new inputs
        if best is None or cost.per_sample_s < best.per_sample_s:
            best = cost
        if best.per_sample_s <= limit_s:
            break
    return best


#: Failures that mean the call was stopped at its limit while computing.
_STOPPED = (FailureKind.TIMED_OUT, FailureKind.OVER_BUDGET)


def _measured_call(
    sandbox: Sandbox, target: str, args: tuple, label: str, samples: int
) -> tuple[float, Any]:
    try:
        return _cpu_of(sandbox, target, args, label)
    except StudentCodeError as error:
        raise TinyProblemFailed(_failed(label, samples, error)) from None


def _failed(label: str, samples: int, error: StudentCodeError) -> str:
    return (
        f"{label} failed on the vectorization check's tiny problem ({samples:,} samples of a "
        f"few features): {error.reason}; it must work for any number of samples and "
        "features, and whole-array code on that problem cannot fail"
    )


def _check_answer(
    check: AnswerCheck | None, args: tuple, answer: Any, label: str, samples: int
) -> None:
    problem = check(args, answer) if check is not None else ""
    if problem:
        raise TinyProblemFailed(
            f"{label} gives other answers on the vectorization check's tiny problem "
            f"({samples:,} samples of a few features) than the grader computes: {problem}; "
            "it must compute the same for any number of samples and features",
            wrong_answer=True,
        )


def _estimate(small_cpu: float, large_cpu: float, large: int, last: bool) -> SampleCost | None:
    """The cost per extra sample; None when the two runs disagree (a negative cost, or a
    fixed cost per call past :data:`MAX_OVERHEAD_S`) and another measure may follow; on
    the last measure, the large run alone (an upper bound)."""
    cost = _per_sample(large_cpu, small_cpu, large)
    slope = (large_cpu - small_cpu) / (large - SMALL)
    overhead = small_cpu - slope * SMALL
    if slope >= 0 and overhead <= MAX_OVERHEAD_S:
        return cost
    if not last:
        return None
    return SampleCost(large_cpu / large, SMALL, large, large_alone=True)


def _per_sample(
    large_cpu: float, small_cpu: float, large: int, stopped: bool = False
) -> SampleCost:
    return SampleCost(max(0.0, large_cpu - small_cpu) / (large - SMALL), SMALL, large, stopped)


def _cpu_of(sandbox: Sandbox, target: str, args: tuple, label: str) -> tuple[float, Any]:
    answer = sandbox.call(target, args, label=label, measure_cpu=True, timeout=CALL_TIMEOUT_S)
    return sandbox.last_call_cpu_s, answer


_LARGE_ALONE = (
    "; its smaller runs cost more than its larger ones explain, so the larger run alone was counted"
)


def loop_reason(what: str, cost: SampleCost, limit_s: float, where: str = "") -> str:
    """The reason a function whose CPU time grows like a loop over samples loses the point."""
    return (
        f"{what} loops over samples in Python{where}: on a tiny problem it used "
        f"{'at least ' if cost.stopped else ''}{cost.microseconds:.1f} µs of CPU time for "
        f"each extra sample (measured by the kernel between {cost.small:,} and "
        f"{cost.large:,} samples{'; stopped at its time limit' if cost.stopped else ''}"
        f"{_LARGE_ALONE if cost.large_alone else ''}), "
        "where whole-array code "
        f"needs well under {limit_s * 1e6:.0f} µs; use matrix operations on the whole batch"
    )
