"""Grader-side handle on one worker process: start it confined, call into it, kill it.

The grader never trusts the worker's stdout or exit code. Answers arrive on a dedicated
pipe as JSON plus ``.npy`` (no pickle), are size-capped and time-limited; a worker that
crashes, hangs or garbles the protocol is killed with its whole process tree.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.core.rules import ImportRule
from graders.sandbox import channel, processes
from graders.sandbox.codec import ProtocolError
from graders.sandbox.confinement import NOBODY_UID, Confinement

HARNESS_ROOT = Path(__file__).resolve().parents[2]
WORKER_SCRIPT = Path(__file__).resolve().with_name("worker.py")

#: Variables passed through the scrubbed environment (some CPUs need the OpenBLAS ones).
PASSED_ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL", "TZ")


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
    threads: int = 2

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
        return (
            f"memory {self.memory_bytes / 2**30:g} GiB, CPU {self.cpu_seconds} s, "
            f"files {self.file_size_bytes / 2**20:g} MiB, {self.open_files} open files, "
            f"core dumps off, {self.call_timeout_s:g} s per call"
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
    pass


class StudentRaised(Exception):
    """Student code raised an exception; carries its type, message and location."""

    def __init__(
        self, type_name: str, message: str, where: str, stage: str, target: str, bases: tuple = ()
    ):
        super().__init__(f"{type_name}: {message}")
        self.bases = tuple(bases) or (type_name,)
        self.type_name = type_name
        self.message = message
        self.where = where
        self.stage = stage
        self.target = target


@dataclass
class WorkerSpec:
    """Everything needed to start a worker for one sandbox of one submission."""

    name: str
    source: Path
    rules: tuple[ImportRule, ...]
    local_modules: frozenset[str]
    limits: Limits
    confinement: Confinement
    hidden_paths: tuple[Path, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)


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

    def __init__(self, spec: WorkerSpec):
        self.spec = spec
        self.marker = f"NNGRADE_WORKER={uuid.uuid4().hex}"
        self.scratch = Path(tempfile.mkdtemp(prefix="nngrade-worker-"))
        self._process: subprocess.Popen | None = None
        self._next_id = 0
        self.output: _OutputTail | None = None
        self.attempts: list[dict] = []
        self.libraries: set[str] = set()

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> None:
        spec = self.spec
        shutil.copytree(spec.source, self.scratch, dirs_exist_ok=True, symlinks=False)
        as_nobody = spec.confinement.drop_to_nobody
        if as_nobody:
            _chown_tree(self.scratch, NOBODY_UID)
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        output_read, output_write = os.pipe()
        config = {
            "harness_root": str(HARNESS_ROOT),
            "student_root": str(self.scratch),
            "rules": [rule.to_json() for rule in spec.rules],
            "local_modules": sorted(spec.local_modules),
            "limits": spec.limits.rlimits(),
            "request_fd": request_read,
            "response_fd": response_write,
            "max_request_bytes": 1 << 30,
        }
        argv = [sys.executable, "-I", "-B", str(WORKER_SCRIPT), json.dumps(config)]
        kwargs: dict[str, Any] = {}
        if as_nobody:
            kwargs.update(user=NOBODY_UID, group=NOBODY_UID, extra_groups=[])
        if spec.confinement.kind == "none":
            processes.become_subreaper()
        try:
            self._process = subprocess.Popen(
                spec.confinement.command(argv, self.scratch, spec.hidden_paths),
                stdin=subprocess.DEVNULL,
                stdout=output_write,
                stderr=output_write,
                pass_fds=(request_read, response_write),
                cwd=self.scratch,
                env=self._environment(),
                start_new_session=True,
                close_fds=True,
                **kwargs,
            )
        finally:
            for fd in (request_read, response_write, output_write):
                os.close(fd)
        os.set_blocking(request_write, False)
        self._requests = request_write
        self._responses = response_read
        self.output = _OutputTail(output_read)
        self._handshake()

    def _handshake(self) -> None:
        """Ping the fresh worker before any student code runs; failing here is our problem."""
        try:
            channel.send(self._requests, {"op": "ping", "id": 0}, deadline=time.monotonic() + 60)
            header, _ = channel.receive(
                self._responses, (), deadline=time.monotonic() + 60, max_bytes=1 << 20
            )
            if header.get("ok") is not True:
                raise ProtocolError("bad handshake")
        except (channel.ChannelClosed, channel.ChannelTimeout, ProtocolError):
            time.sleep(0.1)
            detail = self.output.text().strip().splitlines()[-3:] if self.output else []
            self.stop()
            raise SandboxStartError(
                f"the sandbox ({self.spec.confinement.kind}) could not start the worker: "
                + (" / ".join(detail) or "no output")
            ) from None

    def _environment(self) -> dict[str, str]:
        threads = str(self.spec.limits.threads)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.scratch),
            "TMPDIR": "/tmp",
            "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "NNGRADE_SANDBOX": self.spec.name,
        }
        env.update({k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ})
        env.update(self.spec.extra_env)
        key, _, value = self.marker.partition("=")
        env[key] = value
        return env

    def write_file(self, relative: str, data: bytes) -> None:
        """Write an input file into the scratch copy, readable and writable by the worker."""
        target = self.scratch / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if self.spec.confinement.drop_to_nobody:
            _chown_tree(target.parent, NOBODY_UID)

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Kill the worker's whole process tree and remove its scratch copy."""
        process = self._process
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
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            if self.output is not None:
                self.output.join(timeout=2)
            self._process = None
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _observe_libraries(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self.libraries |= processes.mapped_libraries(self._process.pid)

    # -- calls --------------------------------------------------------------------------
    def call(self, target: str, args: tuple, kwargs: dict, timeout: float) -> Any:
        """Run ``target`` ("module:function") in the worker and return its decoded answer."""
        if not self.alive:
            raise WorkerCrashed(self._death_reason())
        self._next_id += 1
        request_id = self._next_id
        deadline = time.monotonic() + timeout
        try:
            channel.send(
                self._requests,
                {"op": "call", "id": request_id, "target": target},
                {"args": list(args), "kwargs": dict(kwargs)},
                deadline=deadline,
            )
            header, values = channel.receive(
                self._responses,
                ("value",),
                deadline=deadline,
                max_bytes=self.spec.limits.max_answer_bytes,
            )
        except channel.ChannelTimeout:
            raise CallTimedOut(f"did not finish within {timeout:g} s") from None
        except channel.ChannelClosed:
            raise WorkerCrashed(self._death_reason()) from None
        except ProtocolError as exc:
            raise WorkerCrashed(f"sent an invalid answer: {exc}") from None
        self._observe_libraries()
        attempts = header.get("attempts")
        if isinstance(attempts, list):
            self.attempts.extend(a for a in attempts if isinstance(a, dict))
        if header.get("id") != request_id:
            raise WorkerCrashed("sent an answer that does not belong to the call")
        if header.get("ok") is True:
            return values["value"]
        error = header.get("error") if isinstance(header.get("error"), dict) else {}
        raise StudentRaised(
            str(error.get("type", "Exception"))[:100],
            str(error.get("message", ""))[:2000],
            str(error.get("where", ""))[:300],
            str(error.get("stage", "call")),
            target,
            tuple(str(b)[:100] for b in error.get("bases", []) if isinstance(b, str))[:20],
        )

    def _death_reason(self) -> str:
        process = self._process
        if process is None:
            return "the worker is not running"
        try:
            code = process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "closed its answer pipe"
        return describe_exit(code, self.spec.limits)


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
        }
        return f"the process died of {name} ({hints.get(name, 'killed by a signal')})"
    return f"the process exited with status {code} in the middle of a call (sys.exit/os._exit?)"


def _chown_tree(root: Path, uid: int) -> None:
    os.chown(root, uid, uid)
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.chown(os.path.join(directory, name), uid, uid, follow_symlinks=False)
