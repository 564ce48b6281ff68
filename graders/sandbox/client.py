"""Grader-side handle on one worker process: start it confined, call into it, kill it.

The grader never trusts the worker's stdout or exit code. Answers arrive on a dedicated
pipe as JSON plus ``.npy`` (no pickle), are size-capped and time-limited; a worker that
crashes, hangs or garbles the protocol is killed with its whole process tree.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import json
import math
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.sandbox import allowlist, bubblewrap, load_clock, proc_access, processes, reply
from graders.sandbox.allowlist import PathRule
from graders.sandbox.confinement import Confinement
from graders.sandbox.inside import channel
from graders.sandbox.inside.codec import ProtocolError
from graders.sandbox.inside.rules import ImportRule
from graders.sandbox.text import clean_line
from graders.sandbox.workspace import (
    Workspace,
    allocate_uid,
    traversable_by_anyone,
    usage,
)

#: Told, about five times a second, the CPU seconds a budgeted call has used so far, its
#: budget, and whether it still runs (a last figure when it ends): for a progress display.
#: It runs on the watchdog's thread, which enforces the limits: it must return at once.
UsageListener = Callable[[float, float, bool], None]

#: Facts a worker's kernel view did not show that are kept (the report names ten at most).
MAX_UNCONFIRMED = 20

#: Variables passed through the scrubbed environment (some CPUs need the OpenBLAS ones).
PASSED_ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL", "TZ")


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

    def rlimits(self) -> dict:
        return {
            "cpu_seconds": [self.cpu_seconds, self.cpu_seconds + 5],
            "address_space_bytes": self.memory_bytes,
            "file_size_bytes": self.file_size_bytes,
            "open_files": self.open_files,
            "core_bytes": 0,
            "processes": self.processes,
        }

    def describe(self) -> str:
        """The limits and how each is counted (the report names the accounting)."""
        return (
            f"memory {self.memory_bytes / 2**30:g} GiB (address space; memfd and shared "
            f"memory refused), CPU {self.cpu_seconds} s, files {self.file_size_bytes / 2**20:g}"
            f" MiB, {self.open_files} open files, scratch {self.scratch_bytes / 2**20:g} MiB "
            "(its folder and deleted files still held), core dumps off, "
            f"{self.call_timeout_s:g} s per call (not counting waits for a CPU)"
        )


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


@dataclass
class WorkerSpec:
    """Everything needed to start a worker for one sandbox of one submission."""

    name: str
    source: Path
    rules: tuple[ImportRule, ...]
    local_modules: frozenset[str]
    limits: Limits
    confinement: Confinement
    #: Installed distributions the worker may import (with all they require).
    libraries: tuple[str, ...] = ()
    #: Modules of nngrade staged into the worker's runtime (the assignment's probes).
    worker_modules: tuple[str, ...] = ()


class _OutputTail:
    """Drains the worker's stdout/stderr pipe, keeping only the last bytes (never parsed)."""

    def __init__(self, fd: int, keep: int = 16384):
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._keep = keep
        self._thread = threading.Thread(target=self._drain, args=(fd,), daemon=True)
        self._thread.start()

    def _drain(self, fd: int) -> None:
        with os.fdopen(fd, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                self._chunks.append(chunk)
                self._size += len(chunk)
                while self._size > self._keep and len(self._chunks) > 1:
                    self._size -= len(self._chunks.popleft())

    def join(self, timeout: float) -> None:
        """Wait for the pipe to drain (it closes once the whole process tree is gone)."""
        self._thread.join(timeout)

    def text(self) -> str:
        return b"".join(self._chunks)[-self._keep :].decode("utf-8", "replace")


class Worker:
    """One live worker process. Use :class:`graders.sandbox.sandbox.Sandbox` for restarts."""

    def __init__(self, spec: WorkerSpec, workspace: Workspace):
        self.spec = spec
        self.workspace = workspace
        self.marker = f"NNGRADE_WORKER={uuid.uuid4().hex}"
        self.uid = allocate_uid() if spec.confinement.separate_uid else None
        self.scratch: Path | None = None
        self._process: subprocess.Popen | None = None
        self._next_id = 0
        self.output: _OutputTail | None = None
        self._guard: _Watchdog | None = None
        self._pids: set[int] | None = None
        self.attempts: list[dict] = []
        self.audit: list[dict] = []
        self.libraries: set[str] = set()
        #: Facts about the worker that could not be read from outside (by name, with why):
        #: the report says so, and the worker's own word stands for them.
        self.unconfirmed: list[str] = []
        #: CPU seconds the last call with a CPU budget used (all the worker's processes).
        self.last_call_cpu_s = 0.0
        #: Seconds the worker waited for a CPU during the last call (not the student's time).
        self.last_call_waited_s = 0.0

    def kill_processes(self) -> None:
        """Kill every process of this worker now (a watchdog's verdict); the pending call
        then sees the pipe close and reads the watchdog's reason."""
        process = self._process
        if process is not None:
            processes.kill_tree(process.pid, self.marker.encode())
            if self.uid is not None:
                processes.kill_uid(self.uid)

    def cpu_seconds(self) -> float:
        """CPU time used so far by every process of this worker (user + system)."""
        return processes.cpu_seconds(self.pids())

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> None:
        spec = self.spec
        confinement = spec.confinement
        self.scratch = self.workspace.new_scratch(spec.source, self.uid)
        rules = self._allowlist()
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        output_read, output_write = os.pipe()
        config = {
            "student_root": str(self.scratch),
            "sys_path": self._sys_path(),
            "library_folders": list(allowlist.library_rules(spec.libraries)[1]),
            "rules": [rule.to_json() for rule in spec.rules],
            "local_modules": sorted(spec.local_modules),
            "limits": spec.limits.rlimits(),
            "lockdown": self._lockdown(),
            "request_fd": request_read,
            "response_fd": response_write,
            "max_request_bytes": 1 << 30,
        }
        argv = [allowlist.interpreter(), "-I", "-S", "-B", str(self.workspace.worker_main)]
        argv.append(json.dumps(config))
        if confinement.kind == "bubblewrap":
            prefix = bubblewrap.command(rules, str(self.scratch), as_root=os.geteuid() == 0)
            argv = prefix + ["--"] + argv
        if confinement.kind == "none":
            processes.become_subreaper()
        try:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=output_write,
                stderr=output_write,
                pass_fds=(request_read, response_write),
                cwd=self.scratch,
                env=self._environment(),
                start_new_session=True,
                close_fds=True,
            )
        finally:
            for fd in (request_read, response_write, output_write):
                os.close(fd)
        os.set_blocking(request_write, False)
        self._requests = request_write
        self._responses = response_read
        self.output = _OutputTail(output_read)
        self._handshake()
        self._guard = _Watchdog(self, spec.limits)

    def _allowlist(self) -> list[PathRule]:
        """Every path this worker may use (see :mod:`graders.sandbox.allowlist`)."""
        return [*self._shared_rules(), *self._own_rules()]

    def _shared_rules(self) -> tuple[PathRule, ...]:
        """The system, the interpreter and the libraries: the same for every worker."""
        python, _ = allowlist.python_rules()
        libraries, _ = allowlist.library_rules(self.spec.libraries)
        return (*allowlist.system_rules(), *python, *libraries)

    def _own_rules(self) -> tuple[PathRule, ...]:
        return (
            PathRule(str(self.workspace.runtime)),
            PathRule(str(self.workspace.inputs)),
            PathRule(str(self.scratch), "rw"),
        )

    def _sys_path(self) -> list[str]:
        _, stdlib = allowlist.python_rules()
        _, folders = allowlist.library_rules(self.spec.libraries)
        return [str(self.workspace.runtime), *stdlib, *folders]

    def _lockdown(self) -> dict:
        confinement = self.spec.confinement
        if confinement.kind == "none":
            return {}
        anchor = self.uid is not None and confinement.kind == "landlock"
        paths = _shared_lockdown_paths(self._shared_rules(), anchor)
        return {
            "paths": [*paths, *_lockdown_paths(self._own_rules(), anchor)],
            "uid": self.uid,
            "landlock_abi": confinement.landlock_abi,
            "seccomp_filter": self.workspace.seccomp_path if confinement.seccomp else None,
        }

    def _handshake(self) -> None:
        """Ping the fresh worker before any student code runs; failing here is our problem."""
        try:
            channel.send(self._requests, {"op": "ping", "id": 0}, deadline=time.monotonic() + 60)
            header, values = channel.receive(
                self._responses, ("value",), deadline=time.monotonic() + 60, max_bytes=1 << 20
            )
            if header.get("ok") is not True or not isinstance(values.get("value"), dict):
                raise ProtocolError("bad handshake")
        except (channel.ChannelClosed, channel.ChannelTimeout, ProtocolError):
            time.sleep(0.1)
            detail = self.output.text().strip().splitlines()[-3:] if self.output else []
            self.stop()
            raise SandboxStartError(
                f"the sandbox ({self.spec.confinement.kind}) could not start the worker: "
                + (" / ".join(clean_line(d) for d in detail) or "no output")
            ) from None
        if self.spec.confinement.kind != "none":
            # It answered, so every process it has is running, and it may start no other:
            # the set is known for good (the kernel check below reads it too).
            self._pids = self._live_pids()
        reported = values["value"].get("guarantees", [])
        missing = [g for g in self.spec.confinement.worker_guarantees if g not in reported]
        missing += [g for g in self._unconfirmed_by_kernel() if g not in missing]
        if missing:
            self.stop()
            raise SandboxStartError(
                f"the sandbox ({self.spec.confinement.kind}) did not apply "
                f"{', '.join(missing)} in the worker; refusing to run student code"
            )

    def _unconfirmed_by_kernel(self) -> list[str]:
        """Layers the worker claims that the kernel, seen from outside, does not show: its
        uids, no-new-privileges, a seccomp filter, its own namespaces under bubblewrap.
        (Landlock leaves no trace in ``/proc``: the worker's word and the tests stand.)

        The worker is found by its uid where it has one of its own (``status``, shown to
        anyone), and by the program it runs. What the kernel would not show (no
        ``CAP_SYS_PTRACE`` and no ``CAP_SETUID`` to read as the worker) is named in
        :attr:`unconfirmed`, and the worker's own word stands for it."""
        confinement = self.spec.confinement
        if confinement.kind == "none" or self._process is None:
            return []
        worker = self._worker_process()
        if worker is None:
            return ["a single worker process"]
        view = processes.kernel_view(worker)
        if not view:
            return ["a running worker"]
        wrong = []
        layers = confinement.worker_guarantees
        if "seccomp" in layers and not view["seccomp"]:
            wrong.append("seccomp")
        if not view["no_new_privs"]:
            wrong.append("no-new-privileges")
        if "separate-uid" in layers and (
            set(view["uids"]) != {self.uid} or set(view["gids"]) != {self.uid}
        ):
            wrong.append("separate-uid")
        if "non-root" in layers and 0 in view["uids"]:
            wrong.append("non-root")
        if confinement.kind == "bubblewrap":
            own = processes.kernel_view(os.getpid())
            for kind in ("mnt", "pid", "net"):
                if view[f"ns_{kind}"] is None:
                    self._not_confirmed(f"its own {kind} namespace (/proc/PID/ns unreadable)")
                elif not view[f"ns_{kind}"] or view[f"ns_{kind}"] == own[f"ns_{kind}"]:
                    wrong.append(f"{kind}-namespace")
        return wrong

    def _worker_process(self) -> int | None:
        """The one process that runs the worker (None when there is not exactly one)."""
        pids = self.pids()
        if self.uid is not None:
            # Its uid owns nothing else: a fact the kernel shows to any process.
            candidates = [pid for pid in processes.processes_of_uid(self.uid) if pid in pids]
            if len(candidates) != 1:
                return None
        else:
            candidates = sorted(pids)
        try:
            running = processes.running(set(candidates), allowlist.interpreter())
        except proc_access.ProcUnreadable as error:
            self._not_confirmed(f"the program the worker runs ({error.detail})")
            return candidates[0] if len(candidates) == 1 else None
        return running[0] if len(running) == 1 else None

    def _not_confirmed(self, fact: str) -> None:
        """Name a fact the kernel would not show (a few: a worker cannot grow the list)."""
        if fact not in self.unconfirmed and len(self.unconfirmed) < MAX_UNCONFIRMED:
            self.unconfirmed.append(fact)

    def _environment(self) -> dict[str, str]:
        scratch = str(self.scratch)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": scratch,
            "TMPDIR": os.path.join(scratch, ".tmp"),
            "MPLBACKEND": "Agg",
            **thread_environment(worker_threads(self.spec.limits)),
            "NNGRADE_SANDBOX": self.spec.name,
        }
        env.update({k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ})
        key, _, value = self.marker.partition("=")
        env[key] = value
        return env

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Kill every process of the worker, then remove its scratch copy."""
        process = self._process
        if self._guard is not None:
            self._guard.stop()
        if process is not None:
            self._observe_libraries()
            for fd in (self._requests, self._responses):
                with contextlib.suppress(OSError):
                    os.close(fd)
            if process.poll() is None and self.spec.confinement.kind != "none":
                # Closing the request pipe lets a healthy worker leave on its own.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.2)
            processes.kill_tree(process.pid, self.marker.encode())
            if self.uid is not None:
                processes.kill_uid(self.uid)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            if self.output is not None:
                self.output.join(timeout=2)
            self._process = None
        if self.scratch is not None:
            self.workspace.remove_scratch(self.scratch)
            self.scratch = None

    def _observe_libraries(self) -> None:
        if self._process is not None and self._process.poll() is None:
            wrapper = (
                bubblewrap.executable() if self.spec.confinement.kind == "bubblewrap" else None
            )
            try:
                self.libraries |= processes.mapped_libraries(
                    self._process.pid, os.path.realpath(wrapper) if wrapper else None
                )
            except proc_access.ProcUnreadable as error:
                self._not_confirmed(f"the libraries the worker loaded ({error.detail})")

    # -- calls --------------------------------------------------------------------------
    def call(
        self,
        target: str,
        args: tuple,
        kwargs: dict,
        timeout: float,
        cpu_budget: float | None = None,
        on_usage: UsageListener | None = None,
    ) -> Any:
        """Run ``target`` ("module:function") in the worker and return its decoded answer.

        ``timeout`` is wall time less the time the worker waited for a CPU (see
        :mod:`graders.sandbox.load_clock`): only a call that waits (sleeps, blocks) is stopped
        by it. With ``cpu_budget`` the call is also stopped once the worker's processes have
        used that many CPU seconds: a budget in CPU time means the same on a busy machine.
        ``on_usage`` hears how much of that budget the call has used while it runs.
        """
        if not self.alive:
            raise WorkerCrashed(self._death_reason())
        self._next_id += 1
        request_id = self._next_id
        watch = self._guard.watch_call(timeout, cpu_budget, on_usage)
        # The watch stops the call; this deadline only saves the grader if the watch could
        # not (the load clock runs at least FLOOR x wall time).
        backstop = time.monotonic() + timeout / load_clock.FLOOR + 30
        try:
            channel.send(
                self._requests,
                {"op": "call", "id": request_id, "target": target},
                {"args": list(args), "kwargs": dict(kwargs)},
                deadline=backstop,
            )
            header, values = channel.receive(
                self._responses,
                ("value",),
                deadline=backstop,
                max_bytes=self.spec.limits.max_answer_bytes,
            )
        except channel.ChannelTimeout:
            raise CallTimedOut(f"did not finish within {timeout:g} s") from None
        except channel.ChannelClosed:
            if watch.reason:
                raise CallTimedOut(watch.reason, watch.over_budget) from None
            raise WorkerCrashed(self._death_reason()) from None
        except ProtocolError as exc:
            raise WorkerCrashed(f"sent an invalid answer: {exc}") from None
        finally:
            used, self.last_call_waited_s = watch.stop()
            if cpu_budget is not None:
                self.last_call_cpu_s = used
        if watch.reason:  # stopped just as its answer arrived: the limit still decides
            raise CallTimedOut(watch.reason, watch.over_budget)
        if self.spec.confinement.kind == "none":
            # Without the allowlist a forbidden library could be loaded, then the worker
            # crashed on purpose: look after every call. Otherwise looking at stop is enough.
            self._observe_libraries()
        self.attempts.extend(reply.attempts(header))
        self.audit.extend(reply.audit(header))
        try:
            return reply.outcome(header, values, request_id, target)
        except reply.ReplyError as error:
            raise WorkerCrashed(str(error)) from None

    def pids(self) -> set[int]:
        """Every process of this worker (the sandbox's wrapper included); under a strong
        layer it cannot start any, so the set found at start is the set."""
        if self._pids is not None and self._process is not None:
            return self._pids
        return self._live_pids()

    def _live_pids(self) -> set[int]:
        process = self._process
        if process is None:
            return set()
        return {process.pid} | processes.descendants(process.pid)

    def _death_reason(self) -> str:
        process = self._process
        if self._guard is not None and self._guard.reason:
            return self._guard.reason
        if process is None:
            return "the worker is not running"
        try:
            code = process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "closed its answer pipe"
        return describe_exit(code, self.spec.limits)


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


def _lockdown_paths(rules: tuple[PathRule, ...], anchor: bool) -> tuple[dict, ...]:
    """The allowlist as the worker's lock-down applies it: a folder with hidden children
    becomes "list" plus one rule per other child; with ``anchor``, paths a uid that owns
    nothing cannot walk to are opened before the uid drop."""
    paths = []
    for rule in rules:
        entry = {"path": rule.path, "access": rule.access}
        if anchor and not traversable_by_anyone(Path(rule.path)):
            entry["anchor"] = True
        if rule.hide:
            paths.append({**entry, "access": "list"})
            for child in sorted(_children(rule.path)):
                if child not in rule.hide:
                    paths.append({**entry, "path": os.path.join(rule.path, child),
                                  "access": rule.access})  # fmt: skip
        else:
            paths.append(entry)
    return tuple(paths)


#: Every worker of a sandbox (and every restart) has the same system, Python and library
#: rules: expand them once (the standard library alone is some 200 paths to check).
_shared_lockdown_paths = functools.lru_cache(maxsize=32)(_lockdown_paths)


def _children(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


class _Watchdog:
    """One thread per worker that stops it (5x a second) when it fills its scratch folder
    past the limits (bytes or entries), or when the call in progress runs out of its CPU
    budget or its time (see :class:`_CallWatch`)."""

    def __init__(self, worker: Worker, limits: Limits, interval_s: float = 0.2):
        self.reason = ""
        self._worker = worker
        self._limits = limits
        self._call: _CallWatch | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._interval = interval_s
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def watch_call(
        self, timeout: float, budget: float | None, on_usage: UsageListener | None = None
    ) -> _CallWatch:
        call = _CallWatch(self._worker, timeout, budget, self._lock, on_usage)
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
            size, entries = usage(scratch, limits.scratch_entries)
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


class _CallWatch:
    """The limits of one call: ``budget`` CPU seconds, and ``timeout`` seconds on the load
    clock (wall time less the time the worker waited for a CPU, so that a busy machine
    does not stop a call that computes). Checked by the worker's :class:`_Watchdog`.

    A call that ends before the first check costs no look at ``/proc``: the load clock
    starts at the first check (waiting before it is at most one interval, counted).
    """

    def __init__(
        self,
        worker: Worker,
        timeout: float,
        budget: float | None,
        lock: threading.Lock,
        on_usage: UsageListener | None = None,
    ):
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
