"""What one worker may use, and how the kernel is told: resource limits, the threads of its
numeric libraries, and the words for an exit that a limit caused."""

from __future__ import annotations

import signal
from dataclasses import dataclass

#: BLAS threads of the numpy assignments (a1-a3): one. numpy's OpenBLAS keeps its caller
#: spinning (``sched_yield``) until its other threads finish, and beside busy cores that
#: spin is CPU time: a correct a3 training used 17 CPU s alone and 262 s beside two CPU hogs
#: with two threads, 9 and 10 s with one (``bench/load.py``'s CPU column). No setting of
#: OpenBLAS makes that wait sleep; one thread has nothing to wait for, costs no more CPU
#: alone, and gives the same rounding on every machine.
NUMPY_THREADS = 1


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker; ``cpu_seconds`` is the soft limit (hard is +5 s)."""

    memory_bytes: int = 2 * 2**30
    cpu_seconds: int = 300
    file_size_bytes: int = 64 * 2**20
    open_files: int = 256
    processes: int = 512
    call_timeout_s: float = 20.0
    max_answer_bytes: int = 256 * 2**20
    #: Threads of BLAS and torch in the worker (results depend on it): the promised cores
    #: for PyTorch, :data:`NUMPY_THREADS` for the numpy assignments.
    threads: int = 2
    #: Time budgets of grading ("train within 5 minutes on 2 CPU cores") are counted in CPU
    #: seconds of the worker's processes: budget x promised_cores. The wall clock only stops
    #: a program that waits, at budget x budget_wall_factor.
    promised_cores: int = 2
    budget_wall_factor: float = 4.0
    #: What a worker may keep in its scratch folder (checked while it runs).
    scratch_bytes: int = 512 * 2**20
    scratch_entries: int = 20_000

    @property
    def scratch_tmpfs_bytes(self) -> int:
        """The size of the scratch tmpfs under bubblewrap: the limit the watcher judges,
        plus what a worker can write between two of its looks (0.2 s), so that the
        watcher's verdict comes first and the kernel's bound is the one nothing passes."""
        return self.scratch_bytes + 256 * 2**20

    def rlimits(self) -> dict:
        return {
            "cpu_seconds": [self.cpu_seconds, self.cpu_seconds + 5],
            "address_space_bytes": self.memory_bytes,
            # Not inherited from the grader's own bound (graders.core.own_memory).
            "data_bytes": self.memory_bytes,
            "file_size_bytes": self.file_size_bytes,
            "open_files": self.open_files,
            "core_bytes": 0,
            "processes": self.processes,
        }

    def describe(self, confinement: str = "") -> str:
        """The limits and how each is counted under ``confinement`` (the report names the
        accounting that applied)."""
        kernel = (
            f"; a tmpfs of {self.scratch_tmpfs_bytes / 2**20:g} MiB the kernel enforces"
            if confinement == "bubblewrap"
            else ""
        )
        return (
            f"memory {self.memory_bytes / 2**30:g} GiB (address space; memfd and shared "
            f"memory refused), CPU {self.cpu_seconds} s, files {self.file_size_bytes / 2**20:g}"
            f" MiB, {self.open_files} open files, scratch {self.scratch_bytes / 2**20:g} MiB "
            "(counted by the grader every 0.2 s: the blocks of its files and folders at any "
            f"depth, and of deleted files it still holds{kernel}), core dumps off, "
            f"{self.call_timeout_s:g} s per call (not counting waits for a CPU)"
        )


def worker_threads(limits: Limits) -> int:
    """Threads a worker's numeric libraries get: the assignment's count, on every machine
    and beside any number of jobs.

    The count changes results: BLAS splits a product differently over 1 and 2 threads, and
    a training run that is sensitive to rounding (a step 100x too large) then ends on the
    other side of an accuracy tier. With threads that sleep while they wait (see
    :func:`thread_environment`) two jobs of 2 threads on 2 cores cost no CPU time for it.
    """
    return max(1, limits.threads)


def thread_environment(threads: int) -> dict[str, str]:
    """Thread counts, and threads that sleep when they have nothing to do.

    By default OpenMP (PyTorch's intra-op pool, libgomp) and OpenBLAS (numpy) spin while
    they wait for work, for up to 0.1 s at a time. On a busy machine that spinning is CPU
    time, and CPU time is what budgets count: beside CPU hogs, spinning threads cost a
    PyTorch training several times the CPU seconds of sleeping ones (``bench/threads.py``,
    its section of ``bench/RESULTS.md``). ``OMP_WAIT_POLICY=PASSIVE`` (libgomp,
    and ``KMP_BLOCKTIME=0`` for Intel's OpenMP) and the shortest ``OPENBLAS_THREAD_TIMEOUT``
    make waiting threads sleep at once.
    """
    count = str(threads)
    return {
        "OMP_NUM_THREADS": count,
        "OPENBLAS_NUM_THREADS": count,
        "MKL_NUM_THREADS": count,
        "OMP_WAIT_POLICY": "PASSIVE",
        "GOMP_SPINCOUNT": "0",
        "KMP_BLOCKTIME": "0",
        "OPENBLAS_THREAD_TIMEOUT": "4",
    }


def describe_exit(code: int, limits: Limits) -> str:
    """Explain a worker's exit status in words a student understands."""
    if code < 0 or code > 128:
        number = -code if code < 0 else code - 128
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        hints = {
            "SIGSEGV": "a segmentation fault",
            "SIGXCPU": f"it used more than {limits.cpu_seconds} s of CPU time",
            "SIGXFSZ": f"it wrote a file larger than {limits.file_size_bytes // 2**20} MiB",
            "SIGKILL": "it was killed (out of memory or time)",
            "SIGABRT": "it aborted",
            "SIGSYS": "it made a system call the sandbox forbids",
        }
        return f"the process died of {name} ({hints.get(name, 'killed by a signal')})"
    return f"the process exited with status {code} in the middle of a call (sys.exit/os._exit?)"
