"""``--jobs auto``: how many submissions to grade at once on this machine.

A job of an assignment keeps about ``AssignmentSpec.cores_per_job`` cores busy and holds up
to ``AssignmentSpec.job_memory_bytes`` (the grader and its workers, measured by
``bench/grader_memory.py``); the machine lends the cores this process may run on and the
memory the kernel says is available. Worker threads are not chosen here: an assignment's
results depend on them (``graders.sandbox.limits.worker_threads``), so they stay the same
whatever the number of jobs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from graders.core.assignment import AssignmentSpec


@dataclass(frozen=True)
class JobsChoice:
    jobs: int
    #: Why, in a few words, for the run's first line.
    reason: str


def usable_cores() -> int:
    """The cores this process may run on (its affinity: a container's or a batch slot's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def available_memory() -> int | None:
    """Bytes the kernel says can be had without swapping (``MemAvailable``); None unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def choose_jobs(
    specs: Sequence[AssignmentSpec], cores: int | None = None, memory: int | None = None
) -> JobsChoice:
    """Jobs for a run of ``specs`` on ``cores`` cores with ``memory`` bytes available (this
    machine's when not given): as many as the cores keep busy and the memory holds, for the
    most demanding assignment of the run; at least one."""
    cores = usable_cores() if cores is None else cores
    memory = available_memory() if memory is None else memory
    busiest = max(specs, key=lambda spec: spec.cores_per_job)
    by_cores = max(1, math.floor(cores / busiest.cores_per_job))
    largest = max(specs, key=lambda spec: spec.job_memory_bytes)
    by_memory = by_cores if memory is None else max(1, memory // largest.job_memory_bytes)
    jobs = min(by_cores, by_memory)
    reason = f"{cores} core{'s' * (cores != 1)}, {busiest.cores_per_job:g} per {busiest.key} job"
    if memory is not None:
        reason += (
            f", {memory / 2**30:.1f} GiB available, {largest.job_memory_bytes / 2**30:g} GiB "
            f"per {largest.key} job"
        )
    if by_memory < by_cores:
        reason += ": memory decides"
    return JobsChoice(jobs, reason)
