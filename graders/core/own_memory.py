"""A bound on the grader's own memory, per grading process (a batch job, a Gradescope run).

The worker's limits bound student code; what the grader makes of a worker's answers lives
in the grader's process. The decoding budget bounds one answer (``codec``), and this bound
is the backstop for everything else a submission could make the grader hold: a few such
students in a class graded with ``--jobs 2`` must not take the machine, and every
classmate's grading, down with them.

It is ``RLIMIT_DATA`` (the private writable memory the process maps: its heap, arrays,
decoded answers), not ``RLIMIT_AS``: libraries and address space reserved but never
written (PyTorch and glibc reserve gigabytes of it) cost the machine nothing and would make
an address-space bound either meaningless or a false alarm. Only the soft limit is set, so
the grader's own children (the sandbox's workers) set theirs from their own ``Limits``.
"""

from __future__ import annotations

import resource

#: What one grading process may hold: four times the most a reference solution's grading
#: holds (a4's, 1.0 GiB; ``bench/grader_memory.py``).
GRADER_DATA_BYTES = 4 * 2**30


def bound_own_memory(limit: int = GRADER_DATA_BYTES) -> None:
    """Cap this process's private writable memory at ``limit`` (never raises it): an
    allocation beyond it fails with MemoryError, which the grading turns into an outcome."""
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def described(limit: int = GRADER_DATA_BYTES) -> str:
    return f"{limit / 2**30:g} GiB"
