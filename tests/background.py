"""Gradings the suite needs once but not soon, run in the background while it goes on.

The contract grades every reference and stub under a second kind of sandbox (Landlock
alone, as in Docker and on Gradescope), as a default Docker container's root would where
this machine can emulate one (``tests/container.py``: Docker's default capabilities, no
namespaces). Those gradings share nothing with the rest of the
suite, and much of the suite keeps one core busy at a time, so they run one after the
other in a child ``nngrade check`` each (the command line, as a course runs it), in a
work folder of their own (the suite's "nothing left behind" checks look at the suite's
folder only), and the contract reads their JSON reports when it gets to them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import container

from graders.core.results import AssignmentResult

#: Far past any assignment's own deadline (a5: 1,200 s on the load clock).
TIMEOUT_S = 3600

Key = tuple[str, str, str]  # (assignment, folder, confinement kind)


@dataclass
class _Job:
    key: Key
    done: threading.Event = field(default_factory=threading.Event)
    result: AssignmentResult | None = None
    error: str = ""


class BackgroundGradings:
    """``nngrade check`` of each key, in order, on one thread; ``result(key)`` waits."""

    def __init__(self, keys: list[Key], repo: Path, data_dir: Path, beside: Path) -> None:
        """``beside``: the folder the work folder is made in (not the suite's own, whose
        workers and folders the suite's checks count)."""
        self._jobs = {key: _Job(key) for key in keys}
        self._repo, self._data_dir = repo, data_dir
        self._folder = Path(tempfile.mkdtemp(prefix="nngrade-background-", dir=beside))
        os.chmod(self._folder, 0o711)
        self._process: subprocess.Popen | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="background gradings", daemon=True)

    def __contains__(self, key: Key) -> bool:
        return key in self._jobs

    def start(self) -> None:
        self._thread.start()

    def result(self, key: Key) -> AssignmentResult:
        job = self._jobs[key]
        job.done.wait()
        if job.result is None:
            raise AssertionError(f"background grading of {key} failed: {job.error}")
        return job.result

    def stop(self) -> None:
        self._stopped.set()
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
        self._thread.join(timeout=30)
        shutil.rmtree(self._folder, ignore_errors=True)

    def _run(self) -> None:
        for job in self._jobs.values():
            if self._stopped.is_set():
                job.error = "the session ended first"
            else:
                self._grade(job)
            job.done.set()

    def _grade(self, job: _Job) -> None:
        assignment, folder, kind = job.key
        command = [
            sys.executable, "-m", "graders.cli", "check", assignment,
            "--submission", str(self._repo / folder), "--confinement", kind,
            "--data-dir", str(self._data_dir), "--no-download", "--format", "json",
        ]  # fmt: skip
        if kind == "landlock" and container.available() is None:
            command = container.container_root(command)
        environment = {**os.environ, "NNGRADE_WORK_DIR": str(self._folder)}
        environment["TMPDIR"] = str(self._folder)
        try:
            self._process = subprocess.Popen(
                command,
                cwd=self._repo,
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            out, err = self._process.communicate(timeout=TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as error:
            if self._process is not None:
                self._process.kill()
            job.error = str(error)
            return
        if self._process.returncode != 0:
            job.error = f"exit {self._process.returncode}: {err[-3000:]}"
            return
        try:
            report = json.loads(out)
            data = report["assignments"][0] if "assignments" in report else report
            job.result = AssignmentResult.from_dict(data)
        except (ValueError, KeyError, IndexError, TypeError) as error:
            job.error = f"unreadable report ({error!r}): {out[-2000:]}"
