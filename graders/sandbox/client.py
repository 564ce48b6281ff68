"""Grader-side handle on one worker process: start it confined, call into it, kill it.

How it is launched (:mod:`~graders.sandbox.launch`), what the kernel shows of it
(:mod:`~graders.sandbox.attestation`), the limits watched while it runs
(:mod:`~graders.sandbox.watchdog`) and its limits and threads
(:mod:`~graders.sandbox.limits`) live beside it; :class:`Worker` keeps start, stop and call.

The grader never trusts the worker's stdout or exit code. Answers arrive on a dedicated
pipe as JSON plus ``.npy`` (no pickle), are size-capped and time-limited; a worker that
crashes, hangs or garbles the protocol is killed with its whole process tree.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.sandbox import (
    allowlist,
    attestation,
    bubblewrap,
    launch,
    load_clock,
    proc_access,
    processes,
    reply,
)
from graders.sandbox.allowlist import PathRule
from graders.sandbox.confinement import Confinement
from graders.sandbox.inside import channel
from graders.sandbox.inside.codec import ProtocolError
from graders.sandbox.inside.rules import ImportRule
from graders.sandbox.limits import Limits, describe_exit
from graders.sandbox.reply import StudentRaised
from graders.sandbox.text import clean_line
from graders.sandbox.watchdog import CallWatch, UsageListener, Watchdog
from graders.sandbox.worker_errors import (
    CallTimedOut,
    SandboxStartError,
    WorkerCrashed,
)
from graders.sandbox.workspace import Workspace, allocate_uid

#: Facts a worker's kernel view did not show that are kept (the report names ten at most).
MAX_UNCONFIRMED = 20


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


class Worker:
    """One live worker process. Use :class:`graders.sandbox.sandbox.Sandbox` for restarts."""

    def __init__(self, spec: WorkerSpec, workspace: Workspace):
        self.spec = spec
        self.workspace = workspace
        self.marker = f"NNGRADE_WORKER={uuid.uuid4().hex}"
        self.uid = allocate_uid() if spec.confinement.separate_uid else None
        self.scratch: Path | None = None
        self._process: subprocess.Popen | None = None
        self._requests = self._responses = -1  # the pipes' descriptors, once started
        self._next_id = 0
        self.output: launch.OutputTail | None = None
        self._guard: Watchdog | None = None
        self._pids: set[int] | None = None
        #: A process of the worker inside its mount namespace (bubblewrap), to see its scratch.
        self._inner_pid: int | None = None
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
        """Start the worker confined; whatever stops the start (a failed handshake, Ctrl+C,
        a stop signal) leaves no process and no scratch folder behind."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
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
            prefix = bubblewrap.command(
                rules, str(self.scratch), as_root=os.geteuid() == 0,
                scratch_bytes=spec.limits.scratch_tmpfs_bytes,
            )  # fmt: skip
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
        self.output = launch.OutputTail(output_read)
        self._handshake()
        self._guard = Watchdog(self, spec.limits)

    def _allowlist(self) -> list[PathRule]:
        """Every path this worker may use (see :mod:`graders.sandbox.allowlist`)."""
        return [*launch.shared_rules(self.spec.libraries), *self._own_rules()]

    def _own_rules(self) -> tuple[PathRule, ...]:
        return launch.own_rules(self.workspace, self.scratch)

    def _sys_path(self) -> list[str]:
        return launch.sys_path(self.workspace, self.spec.libraries)

    def _lockdown(self) -> dict:
        spec = self.spec
        seed = bubblewrap.SEED if spec.confinement.kind == "bubblewrap" else None
        return launch.lockdown(
            spec.confinement, self.workspace, spec.libraries, self.scratch, self.uid, seed
        )

    def scratch_view(self) -> Path | None:
        """The scratch as the worker sees it: under bubblewrap its tmpfs, in the worker's
        own mount namespace (``/proc/<pid>/root`` of a process there); else the folder."""
        if self.scratch is None or self.spec.confinement.kind != "bubblewrap":
            return self.scratch
        if self._inner_pid is None or not os.path.exists(f"/proc/{self._inner_pid}"):
            self._inner_pid = processes.in_other_mount_namespace(self.pids())
        if self._inner_pid is None:
            return None
        return Path(f"/proc/{self._inner_pid}/root{self.scratch}")

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
        """Layers the worker claims that the kernel does not show (see
        :mod:`graders.sandbox.attestation`); what it would not show is named in
        :attr:`unconfirmed`, and the worker's own word stands for it."""
        if self.spec.confinement.kind == "none" or self._process is None:
            return []
        return attestation.unconfirmed_by_kernel(
            self.spec.confinement, self.uid, self.pids(), self._not_confirmed
        )

    def _not_confirmed(self, fact: str) -> None:
        """Name a fact the kernel would not show (a few: a worker cannot grow the list)."""
        if fact not in self.unconfirmed and len(self.unconfirmed) < MAX_UNCONFIRMED:
            self.unconfirmed.append(fact)

    def _environment(self) -> dict[str, str]:
        return launch.environment(self.spec.name, self.spec.limits, self.scratch, self.marker)

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
        idle_s: float | None = None,
    ) -> Any:
        """Run ``target`` ("module:function") in the worker and return its decoded answer.

        ``timeout`` is wall time less the time the worker waited for a CPU (see
        :mod:`graders.sandbox.load_clock`): only a call that waits (sleeps, blocks) is stopped
        by it. With ``cpu_budget`` the call is also stopped once the worker's processes have
        used that many CPU seconds: a budget in CPU time means the same on a busy machine.
        ``on_usage`` hears how much of that budget the call has used while it runs.
        """
        request_id = self._next_request()
        watch = self._guard.watch_call(timeout, cpu_budget, on_usage, idle_s)
        request = {"op": "call", "id": request_id, "target": target}
        values = {"args": list(args), "kwargs": dict(kwargs)}
        header, answer = self._exchange(request, values, watch, timeout, cpu_budget)
        return self._outcome(header, answer, request_id, target)

    def map(
        self,
        calls: list[tuple[str, tuple, dict]],
        limit_of: Callable[[int], float],
        until_error: bool,
    ) -> Iterator[Any]:
        """Run many calls with one request: the worker answers each as it ends, without
        waiting for the grader between them (a round trip is about 1 ms; a1 asks hundreds).

        Yields each call's answer in order, or the :class:`StudentRaised` of a call that
        raised (with ``until_error`` it is the last); raises a :class:`WorkerFailure` where
        the worker failed (it is gone: nothing more is run). Each call is watched on its
        own, against its own limit (``limit_of(item)``, asked then), from the moment the
        grader waits for it (never sooner than the worker started it). The caller reads
        every item before it makes another call (the replies still to come are in the pipe).
        """
        request_id = self._next_request()
        request = {
            "op": "map",
            "id": request_id,
            "targets": [target for target, _, _ in calls],
            "until_error": until_error,
        }
        values = {"calls": [[list(args), dict(kwargs)] for _, args, kwargs in calls]}
        for item, (target, _, _) in enumerate(calls):
            timeout = limit_of(item)
            watch = self._guard.watch_call(timeout, None)
            header, answer = self._exchange(
                request if item == 0 else None, values, watch, timeout, None
            )
            try:
                yield self._outcome(header, answer, [request_id, item], target)
            except StudentRaised as raised:
                yield raised
                if until_error:
                    return

    def _next_request(self) -> int:
        if not self.alive:
            raise WorkerCrashed(self._death_reason())
        self._next_id += 1
        return self._next_id

    def _exchange(
        self,
        request: dict | None,
        values: dict,
        watch: CallWatch,
        timeout: float,
        cpu_budget: float | None,
    ) -> tuple[dict, dict]:
        """Send ``request`` (None: it was sent, a later item of it is awaited) and receive
        one reply under ``watch``; every way the worker can fail becomes a WorkerFailure."""
        # The watch stops the call; this deadline only saves the grader if the watch could
        # not (the load clock runs at least FLOOR x wall time).
        backstop = time.monotonic() + timeout / load_clock.FLOOR + 30
        try:
            if request is not None:
                channel.send(self._requests, request, values, deadline=backstop)
            header, answer = channel.receive(
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
        except MemoryError:  # the grader's own bound (graders.core.own_memory), not a bug
            raise WorkerCrashed(
                "sent an answer that needs more of the grader's memory than it may use"
            ) from None
        finally:
            used, self.last_call_waited_s = watch.stop()
            if cpu_budget is not None:
                self.last_call_cpu_s = used
        if watch.reason:  # stopped just as its answer arrived: the limit still decides
            raise CallTimedOut(watch.reason, watch.over_budget)
        return header, answer

    def _outcome(self, header: dict, answer: dict, request_id: object, target: str) -> Any:
        """The decoded answer of one call, its records kept; raises what it reports."""
        if self.spec.confinement.kind == "none":
            # Without the allowlist a forbidden library could be loaded, then the worker
            # crashed on purpose: look after every call. Otherwise looking at stop is enough.
            self._observe_libraries()
        self.attempts.extend(reply.attempts(header))
        self.audit.extend(reply.audit(header))
        try:
            return reply.outcome(header, answer, request_id, target)
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
