"""The limits watched while a worker runs: its scratch folder (bytes, entries, deleted files
still held) and the call in progress (CPU budget, time on the load clock). One thread per
worker checks them five times a second and kills the worker's processes when one is passed.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from graders.sandbox import load_clock, proc_access, processes
from graders.sandbox.disk_usage import usage
from graders.sandbox.limits import Limits

#: Told, about five times a second, the CPU seconds a budgeted call has used so far, its
#: budget, and whether it still runs (a last figure when it ends): for a progress display.
#: It runs on the watchdog's thread, which enforces the limits: it must return at once.
UsageListener = Callable[[float, float, bool], None]


class Watched(Protocol):
    """What a watchdog needs of a worker (see :class:`graders.sandbox.client.Worker`)."""

    scratch: Path | None

    def pids(self) -> set[int]: ...

    def scratch_view(self) -> Path | None: ...

    def cpu_seconds(self) -> float: ...

    def kill_processes(self) -> None: ...

    def _not_confirmed(self, fact: str) -> None: ...


class Watchdog:
    """One thread per worker that stops it (5x a second) when it fills its scratch folder
    past the limits (bytes or entries), or when the call in progress runs out of its CPU
    budget or its time (see :class:`CallWatch`)."""

    def __init__(self, worker: Watched, limits: Limits, interval_s: float = 0.2):
        self.reason = ""
        self._worker = worker
        self._limits = limits
        self._call: CallWatch | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._interval = interval_s
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def watch_call(
        self,
        timeout: float,
        budget: float | None,
        on_usage: UsageListener | None = None,
        idle_s: float | None = None,
    ) -> CallWatch:
        call = CallWatch(self._worker, timeout, budget, self._lock, on_usage, idle_s)
        self._call = call
        return call

    def _watch(self) -> None:
        scratch = self._worker.scratch
        limits = self._limits
        while not self._stopped.wait(self._interval):
            call = self._call
            if call is not None and call.check():
                continue
            if scratch is None or not scratch.exists():
                return
            # Under bubblewrap the worker writes into a tmpfs of its own mount namespace
            # (bounded by the kernel too); the same limits are judged here, the same way.
            view = self._worker.scratch_view()
            size, entries = usage(view, limits.scratch_entries) if view else (0, 0)
            # Files it deleted but still holds (open or mapped) use the disk all the same.
            size += self._held_bytes(str(scratch))
            if size > limits.scratch_bytes or entries > limits.scratch_entries:
                self.reason = (
                    f"it filled its folder past the limit ({limits.scratch_bytes // 2**20} MiB, "
                    f"{limits.scratch_entries} files) and was stopped"
                )
                self._worker.kill_processes()
                return

    def _held_bytes(self, scratch: str) -> int:
        """Disk held by deleted files; what the kernel would not show is named, and counted
        at its bound (an unreadable process's files: nothing more is known of them)."""
        worker = self._worker
        try:
            held = processes.deleted_files_bytes(
                worker.pids(), scratch, size_if_unreadable=self._limits.file_size_bytes
            )
        except proc_access.ProcUnreadable as error:
            worker._not_confirmed(f"the deleted files the worker holds ({error.detail})")
            return 0
        for fact in held.bounded:
            worker._not_confirmed(fact)
        return held.bytes

    def stop(self) -> None:
        self._stopped.set()


class CallWatch:
    """The limits of one call: ``budget`` CPU seconds, and ``timeout`` seconds on the load
    clock (wall time less the time the worker waited for a CPU, so that a busy machine
    does not stop a call that computes). Checked by the worker's :class:`_Watchdog`.

    A call that ends before the first check costs no look at ``/proc``: the load clock
    starts at the first check (waiting before it is at most one interval, counted).
    """

    def __init__(
        self,
        worker: Watched,
        timeout: float,
        budget: float | None,
        lock: threading.Lock,
        on_usage: UsageListener | None = None,
        idle_s: float | None = None,
    ):
        """``idle_s``: stop the call once its processes have neither run nor waited for a
        CPU for that long (a training that sleeps need not hold a check until its wall
        stop, ``budget_wall_factor`` x its budget)."""
        self.reason = ""
        #: Whether it was stopped at its budget (CPU seconds) rather than its time limit.
        self.over_budget = False
        self._worker = worker
        self._timeout = timeout
        self._budget = budget
        self._lock = lock
        # A call measured without a budget (an infinite one) has nothing to show.
        self._on_usage = on_usage if budget is not None and math.isfinite(budget) else None
        self._start_cpu = worker.cpu_seconds() if budget is not None else 0.0
        self._started = time.monotonic()
        self._clock: load_clock.LoadClock | None = None
        self._idle_s = idle_s
        self._used = 0.0
        self._done = False

    def check(self) -> bool:
        """Stop the worker if the call is over a limit; True when it was stopped."""
        with self._lock:
            if self._done or self.reason:
                return bool(self.reason)
            if self._budget is not None:
                self._used = self._worker.cpu_seconds() - self._start_cpu
                if self._used > self._budget:
                    self.over_budget = True
                    return self._stop_worker(
                        f"used more than {self._budget:g} CPU seconds, its budget"
                    )
                self._tell_usage(running=True)
            if self._clock is None:
                self._clock = load_clock.LoadClock(self._worker.pids, started=self._started)
            if self._clock.elapsed() > self._timeout:
                return self._stop_worker(f"did not finish within {self._timeout:g} s")
            if self._idle_s is not None and self._clock.idle_for() > self._idle_s:
                return self._stop_worker(
                    f"neither computed nor waited for a CPU for {self._idle_s:g} s "
                    "(it slept or blocked)"
                )
            return False

    def _tell_usage(self, running: bool) -> None:
        """Pass the budget used so far to the listener; whatever it does, the watch goes on
        (it runs on the watchdog's thread, which enforces the limits)."""
        if self._on_usage is None:
            return
        try:
            self._on_usage(self._used, self._budget, running)
        except Exception:  # noqa: BLE001 - a display must never disable a limit
            self._on_usage = None

    def _stop_worker(self, reason: str) -> bool:
        self.reason = reason
        self._worker.kill_processes()
        return True

    def stop(self) -> tuple[float, float]:
        """The call is over: the CPU seconds it used (with a budget) and the seconds the
        worker waited for a CPU. After this the watchdog leaves the worker alone."""
        with self._lock:
            self._done = True
        if self._budget is not None and not self.reason:
            self._used = max(self._used, self._worker.cpu_seconds() - self._start_cpu)
        self._tell_usage(running=False)
        return self._used, self._clock.waited() if self._clock is not None else 0.0
