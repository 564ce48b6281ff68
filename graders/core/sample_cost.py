"""A loop over samples seen from outside the worker: the CPU time the kernel counts.

The line counter of :mod:`graders.core.vectorization` runs inside the worker, in the same
interpreter as student code, so student code can blind it. The kernel's account of the
worker's CPU time (``/proc``, read by the grader) it cannot: a function is run on few
and on many samples of a tiny problem (a handful of features and classes), and the CPU
time it needs per extra sample decides. Whole-array code needs well under a microsecond
per sample there (a few dozen multiply-adds); a Python loop over samples pays the
interpreter and numpy's per-call overhead for every sample, several microseconds.

A verdict of "loop" is measured again before it counts: the fastest of the runs decides,
so a moment of contention on a busy machine cannot cost a point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graders.sandbox.sandbox import Sandbox, StudentCodeError

#: Samples of the small and the large run (the large one varies a little by seed).
SMALL = 2_000
LARGE = (150_000, 250_000)
#: Runs of a function whose first measure was over the limit, the fastest counted.
MEASURES = 3
#: Time limit of one measured call (load clock). Whole-array code takes well under a
#: second on the tiny problem; a call stopped here while computing has used at least this
#: much CPU time, far past the limit per sample, and is judged on it.
CALL_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SampleCost:
    """CPU seconds per extra sample between a run on ``small`` and one on ``large``."""

    per_sample_s: float
    small: int
    large: int
    #: The large run was stopped at its time limit: the cost is at least this.
    stopped: bool = False

    @property
    def microseconds(self) -> float:
        return self.per_sample_s * 1e6


def measure(
    sandbox: Sandbox,
    target: str,
    arguments: Callable[[int], tuple],
    large: int,
    label: str,
    limit_s: float,
    comparable: Callable[[Any], bool] = lambda answer: True,
) -> SampleCost | None:
    """The per-sample CPU cost of ``target`` called with ``arguments(n)``; None when the
    function raised (a function that fails is judged where its answers are checked) or
    when its answer shows it did not solve the tiny problem it was given (``comparable``
    is false: e.g. a network of its own sizes, whose cost says nothing about loops).

    Measured once, and again up to :data:`MEASURES` times while over ``limit_s``.
    """
    best: SampleCost | None = None
    small_args, large_args = arguments(SMALL), arguments(large)
    for _ in range(MEASURES):
        try:
            small_cpu, _ = _cpu_of(sandbox, target, small_args, label)
        except StudentCodeError:
            return None
        try:
            large_cpu, answer = _cpu_of(sandbox, target, large_args, label)
        except StudentCodeError as error:
            # Stopped while computing: the CPU time it had used is a lower bound, and it
            # decides when that alone is over the limit. One that failed or waited tells
            # nothing here.
            stopped = _per_sample(sandbox.last_call_cpu_s, small_cpu, large, stopped=True)
            return (
                stopped
                if "(it was stopped)" in str(error) and stopped.per_sample_s > limit_s
                else None
            )
        if not comparable(answer):
            return None
        cost = _per_sample(large_cpu, small_cpu, large)
        if best is None or cost.per_sample_s < best.per_sample_s:
            best = cost
        if best.per_sample_s <= limit_s:
            break
    return best


def _per_sample(
    large_cpu: float, small_cpu: float, large: int, stopped: bool = False
) -> SampleCost:
    return SampleCost(max(0.0, large_cpu - small_cpu) / (large - SMALL), SMALL, large, stopped)


def _cpu_of(sandbox: Sandbox, target: str, args: tuple, label: str) -> tuple[float, Any]:
    answer = sandbox.call(target, args, label=label, measure_cpu=True, timeout=CALL_TIMEOUT_S)
    return sandbox.last_call_cpu_s, answer


def loop_reason(what: str, cost: SampleCost, limit_s: float, where: str = "") -> str:
    """The reason a function whose CPU time grows like a loop over samples loses the point."""
    return (
        f"{what} loops over samples in Python{where}: on a tiny problem it used "
        f"{'at least ' if cost.stopped else ''}{cost.microseconds:.1f} µs of CPU time for "
        f"each extra sample (measured by the kernel between {cost.small:,} and "
        f"{cost.large:,} samples{'; stopped at its time limit' if cost.stopped else ''}), "
        "where whole-array code "
        f"needs well under {limit_s * 1e6:.0f} µs; use matrix operations on the whole batch"
    )
