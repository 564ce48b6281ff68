"""Wall time that does not count waiting for a CPU.

A time limit that decides points must mean the same alone and on a machine whose other
processes keep every core busy. CPU budgets already do; the wall-clock limits (a call that
hangs, a budget's wall stop, a submission's deadline) stop programs that *wait*, and
waiting for a CPU is not the student's doing. The kernel counts, per thread, the time a
runnable thread spent on a run queue (``/proc/<pid>/task/<tid>/schedstat``, second field,
nanoseconds). A :class:`LoadClock` is the wall time less the longest such wait of any
thread it watches, so a program that sleeps or blocks is still stopped by wall time, one
that computes is not stopped because others compute too.

The clock never runs slower than ``floor`` x wall time (a tenth by default): a program
cannot stretch a limit without bound by keeping threads runnable, and a machine more than
ten times oversubscribed still stops a hang.

From the same readings (the first field is the time a thread ran) the clock tells how long
its processes have neither run nor waited for a CPU: a budgeted call idle that long is
stopped as waiting, not computing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

#: The slowest a load clock runs, as a share of wall time.
FLOOR = 0.1


def schedstats(pids: Iterable[int]) -> dict[tuple[int, int], tuple[int, int]] | None:
    """Nanoseconds each thread of ``pids`` has run on a CPU and waited on a run queue, by
    (pid, tid). None when the kernel does not report it (no ``schedstat``)."""
    found: dict[tuple[int, int], tuple[int, int]] = {}
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                fields = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()
                found[pid, int(tid)] = (int(fields[0]), int(fields[1]))
            except (OSError, ValueError, IndexError):
                continue
    if not found and not schedstat_available():
        return None
    return found


def schedstat_available() -> bool:
    try:
        return len(Path("/proc/self/schedstat").read_text().split()) >= 2
    except OSError:
        return False


class LoadClock:
    """Elapsed wall time of some processes, less the time they waited for a CPU; and, from
    the same readings, how long they have neither run nor waited for a CPU (a program that
    sleeps or blocks, whatever the machine's load: a busy machine makes a computing program
    wait on a run queue, which counts as activity)."""

    #: Run and run-queue time below this share of the wall time between two readings is
    #: idle (a loop that sleeps 0.1 s between wake-ups uses far less).
    ACTIVE_SHARE = 0.05

    def __init__(
        self,
        pids: Callable[[], Iterable[int]],
        floor: float = FLOOR,
        max_age_s: float = 0.0,
        started: float | None = None,
    ):
        """``max_age_s``: how long a reading of ``/proc`` may be reused (a deadline asked
        before every call needs no fresher figure than a second old). ``started``: when
        the wall time began, if before this clock was made (waiting is counted from now)."""
        self._pids = pids
        self._floor = floor
        self._max_age_s = max_age_s
        self._read_at = time.monotonic()
        self._started = self._read_at if started is None else started
        first = schedstats(pids()) or {}
        self._baseline = {key: waited for key, (_, waited) in first.items()}
        self._waited_s = 0.0
        # Each thread's run and run-queue time; a thread that ended keeps its share.
        self._activity = {key: ran + waited for key, (ran, waited) in first.items()}
        self._active_total = sum(self._activity.values())
        self._active_at = self._read_at

    def _read(self) -> None:
        """Read ``/proc`` unless the last reading is younger than ``max_age_s``."""
        now = time.monotonic()
        if now - self._read_at < self._max_age_s:
            return
        current = schedstats(self._pids())
        if current is None:  # the kernel does not say: never idle, only wall time counts
            self._active_at = now
        elif current:
            longest = max(
                waited - self._baseline.get(key, 0) for key, (_, waited) in current.items()
            )
            self._waited_s = max(self._waited_s, longest / 1e9)
            for key, (ran, waited) in current.items():
                self._activity[key] = ran + waited
        total = sum(self._activity.values())
        if total - self._active_total >= self.ACTIVE_SHARE * (now - self._read_at) * 1e9:
            self._active_at = now
        self._active_total, self._read_at = total, now

    def waited(self) -> float:
        """Seconds the watched processes waited for a CPU so far (the longest of any
        thread: a thread born since the start counts all its waiting)."""
        self._read()
        return self._waited_s

    def elapsed(self) -> float:
        """Wall seconds since the start, less :meth:`waited`, at least ``floor`` x wall."""
        wall = time.monotonic() - self._started
        return max(wall - self.waited(), wall * self._floor)

    def idle_for(self) -> float:
        """Seconds since the processes last ran or waited for a CPU, as of the last reading
        (:meth:`elapsed` and :meth:`waited` take one: asked right after them, it reads
        ``/proc`` no second time)."""
        return self._read_at - self._active_at

    def wall(self) -> float:
        return time.monotonic() - self._started


class Deadline:
    """A submission's time limit on the load clock.

    Spent time is wall time since the start, less what the grader's own threads waited
    for a CPU and what the submission's workers waited during calls (the grader sleeps
    while a worker computes, so the two never overlap).
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._grader = LoadClock(lambda: (os.getpid(),), max_age_s=1.0)
        self._workers_waited_s = 0.0

    def worker_waited(self, seconds: float) -> None:
        """Count ``seconds`` a worker waited for a CPU during a call."""
        self._workers_waited_s += max(0.0, seconds)

    def spent(self) -> float:
        wall = self._grader.wall()
        return max(wall - self._grader.waited() - self._workers_waited_s, wall * FLOOR)

    def remaining(self) -> float:
        return self.seconds - self.spent()
