"""Points do not move with the load: a call that computes is not stopped because other
processes compete for its core, one that waits still is, and worker threads sleep rather
than spin while they wait for work.

The load is made deterministic by pinning the grader (and so its workers) and three CPU
hogs to one core: the worker then gets about a quarter of it, and every wall-clock limit
it meets would fire four times early if it counted waiting for the CPU."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from a1_cases import FULL
from helpers import build_submission, busy_cores, inject_at_start, points_by_criterion

from graders.sandbox import limits as worker_limits
from graders.sandbox import load_clock

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or not load_clock.schedstat_available(),
    reason="needs Linux with per-thread scheduler statistics",
)

#: Burns about 2 CPU seconds on the first call only (a slow but correct trace): under the
#: pinned load that is 6-8 s of wall time, past FAST_A1's 3 s per call.
BURN_ONCE = """

_burned = []


def _burn_once():
    if not _burned:
        _burned.append(True)
        import time
        end = time.process_time() + 2.0
        while time.process_time() < end:
            pass
"""


def slow_first_trace(text: str) -> str:
    return inject_at_start("trace", "_burn_once()")(text) + BURN_ONCE


@contextlib.contextmanager
def pinned_beside_hogs(hogs: int) -> Iterator[None]:
    """Run this process on one core beside ``hogs`` busy processes pinned to it."""
    core = min(os.sched_getaffinity(0))
    saved = os.sched_getaffinity(0)
    spinners = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import os; os.sched_setaffinity(0, {{{core}}})\nwhile True: pass",
            ]
        )
        for _ in range(hogs)
    ]
    os.sched_setaffinity(0, {core})
    try:
        time.sleep(0.3)
        yield
    finally:
        os.sched_setaffinity(0, saved)
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def test_a_call_that_computes_is_not_stopped_by_a_busy_core(grade_a1, tmp_path):
    """The first ``trace`` needs ~2 CPU seconds, about 8 s of wall time beside three hogs
    on its core; FAST_A1 stops a call at 3 s. The load clock does not count the waiting."""
    submission = build_submission(tmp_path, edits={"a1/vectorized.py": slow_first_trace})
    with pinned_beside_hogs(3):
        started = time.monotonic()
        result = grade_a1(submission, only=("vectorized.basic_ops",))
        wall = time.monotonic() - started
    assert points_by_criterion(result)["vectorized.basic_ops"] == FULL["vectorized.basic_ops"]
    # Past the 3 s limit in wall time: a wall clock would have stopped it (the rest of this
    # grading takes well under 0.5 s since calls are batched).
    assert wall > 3.5, "the load did not slow the call down: the test proves nothing"


def test_a_call_that_sleeps_is_stopped_on_a_busy_core_as_alone(grade_a1, tmp_path):
    submission = build_submission(
        tmp_path,
        edits={"a1/vectorized.py": inject_at_start("trace", "import time; time.sleep(30)")},
    )
    with pinned_beside_hogs(3):
        started = time.monotonic()
        result = grade_a1(submission, only=("vectorized.basic_ops",))
        wall = time.monotonic() - started
    reason = next(c.reason for c in result.criteria if c.id == "vectorized.basic_ops")
    assert "trace did not finish within 3 s" in reason, reason
    assert wall < 60


def test_the_load_clock_leaves_out_waiting_for_a_cpu_but_not_sleeping():
    spinner = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 3\nwhile time.time() < end: pass"]
    )
    try:
        with pinned_beside_hogs(2):
            os.sched_setaffinity(spinner.pid, os.sched_getaffinity(0))
            clock = load_clock.LoadClock(lambda: {spinner.pid})
            time.sleep(2.0)
            waited, wall = clock.waited(), clock.wall()
    finally:
        spinner.kill()
        spinner.wait()
    # Three busy processes (and this one, mostly asleep) share one core.
    assert wall - waited < wall * 0.6, (wall, waited)

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])
    try:
        time.sleep(0.5)  # past its start-up
        clock = load_clock.LoadClock(lambda: {sleeper.pid})
        time.sleep(1.5)
        assert clock.elapsed() == pytest.approx(clock.wall(), abs=0.2)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_clock_never_runs_slower_than_its_floor():
    clock = load_clock.LoadClock(lambda: ())
    clock._waited_s = 1e9  # as if a thread had been runnable forever
    time.sleep(0.2)
    wall = clock.wall()
    assert clock.elapsed() >= wall * load_clock.FLOOR > 0


def test_worker_threads_sleep_while_they_wait_and_are_the_assignments_own():
    """The same count on any machine and beside any number of jobs (BLAS results depend on
    it): PyTorch's workers as many as the budgets promise cores, numpy's one (its BLAS
    caller spins while it waits for a second thread), and threads that sleep while they
    wait."""
    from graders.catalog import specs

    threads = {spec.key: worker_limits.worker_threads(spec.limits) for spec in specs()}
    assert threads == {"a1": 1, "a2": 1, "a3": 1, "a4": 2, "a5": 1}
    limits = worker_limits.Limits()
    assert worker_limits.worker_threads(limits) == limits.promised_cores == 2
    env = worker_limits.thread_environment(worker_limits.worker_threads(limits))
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "2"
    assert env["OMP_WAIT_POLICY"] == "PASSIVE" and env["OPENBLAS_THREAD_TIMEOUT"] == "4"


def test_the_load_clock_tells_sleeping_from_computing_on_a_busy_core():
    """Waiting for a CPU is activity, sleeping is not: a program that computes beside two
    hogs on one core is never idle, one that sleeps is idle from its first look."""
    spinner = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 4\nwhile time.time() < end: pass"]
    )
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(4)"])
    try:
        time.sleep(0.5)  # past their start-up
        with pinned_beside_hogs(2):
            os.sched_setaffinity(spinner.pid, os.sched_getaffinity(0))
            computing = load_clock.LoadClock(lambda: {spinner.pid})
            sleeping = load_clock.LoadClock(lambda: {sleeper.pid})
            for _ in range(10):
                time.sleep(0.2)
                computing.elapsed(), sleeping.elapsed()  # a reading each, as the watch takes
                busy_idle, sleep_idle = computing.idle_for(), sleeping.idle_for()
            assert busy_idle < 0.5, busy_idle
            assert sleep_idle > 1.5, sleep_idle
    finally:
        for process in (spinner, sleeper):
            process.kill()
            process.wait()


def test_a_training_that_sleeps_is_stopped_as_idle_not_at_its_wall_stop(tmp_path):
    """A budgeted call of 60 s (wall stop 240 s) that sleeps is stopped after its idle limit
    (6 s), with that reason; beside busy cores, a call that computes is not."""
    import dataclasses

    from helpers import FAST_A1

    from graders.core.context import GradingContext
    from graders.core.submission import stage
    from graders.sandbox.confinement import select
    from graders.sandbox.sandbox import StudentCodeError, idle_limit

    sleeps = inject_at_start("trace", "import time; time.sleep(200)")
    computes = inject_at_start(
        "trace",
        "import time\n    _end = time.process_time() + 8\n"
        "    while time.process_time() < _end: pass",
    )
    submission = build_submission(
        tmp_path, edits={"a1/vectorized.py": sleeps, "a1/pure.py": computes}
    )
    spec = dataclasses.replace(
        FAST_A1, limits=dataclasses.replace(FAST_A1.limits, call_timeout_s=600)
    )
    staged = stage(submission, spec)
    context = GradingContext(spec, staged, select("auto"))
    matrix = [[1.0, 0.0], [0.0, 2.0]]
    try:
        trace = context.sandbox("vectorized").module("a1.vectorized").trace
        started = time.monotonic()
        with pytest.raises(StudentCodeError) as stopped:
            trace.with_budget(60)(matrix)
        waited = time.monotonic() - started
        assert "neither computed nor waited for a CPU for 6 s" in stopped.value.reason
        assert idle_limit(60) == 6 and waited < 30, waited
        with busy_cores(2):  # 8 CPU seconds, longer than 6 s in wall time beside two hogs
            started = time.monotonic()
            assert context.sandbox("pure").module("a1.pure").trace.with_budget(60)(matrix) == 3
            assert time.monotonic() - started > 8
    finally:
        context.close()
        staged.cleanup()
