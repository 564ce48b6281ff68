"""A grader stopped from outside leaves nothing behind: SIGTERM (``timeout``, a CI's cancel
button, Gradescope's limit), SIGHUP and Ctrl+C end its workers and remove every folder it
made; after SIGKILL, the next run removes what the killed one left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from helpers import REPO, SHARED_DATA, build_submission, live_processes

from graders.core.stopping import Stopped, stopped_by_signals
from graders.sandbox import left_behind, owners

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "MNIST").exists(), reason="MNIST is not in ../shared/data"
)

EXIT = {signal.SIGTERM: 143, signal.SIGHUP: 129, signal.SIGINT: 130}


def _private_folder(tmp_path: Path) -> Path:
    """A work folder of this test alone, which workers of other uids can pass through
    (pytest's own temporary folders cannot be: the grader would fall back to /tmp)."""
    work = Path(tempfile.mkdtemp(prefix="stopping-", dir=os.environ["NNGRADE_WORK_DIR"]))
    os.chmod(work, 0o711)
    return work


def _start(command: list[str], work: Path) -> subprocess.Popen:
    environment = {**os.environ, "NNGRADE_WORK_DIR": str(work), "TMPDIR": str(work)}
    return subprocess.Popen(
        [sys.executable, "-m", "graders.cli", *command],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(folder: Path, pattern: str, process: subprocess.Popen, timeout_s: float = 120):
    """Until a folder matching ``pattern`` is in ``folder``: the grading is under way."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if list(folder.glob(pattern)):
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError(f"no {pattern} in {folder} within {timeout_s} s")


def _processes_naming(path: Path) -> list[str]:
    """Live processes whose command line names ``path`` (a worker's scratch, a job's folder)."""
    return [command[:200] for command in live_processes().values() if str(path) in command]


def _gone_within(path: Path, timeout_s: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while (left := _processes_naming(path)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_stopped_check_ends_its_workers_and_removes_its_folders(stop, tmp_path):
    work = _private_folder(tmp_path)
    check = _start(
        ["check", "a3", "--submission", str(REPO / "reference"), "--data-dir", str(SHARED_DATA)],
        work,
    )
    _wait_for(work, "nngrade-sandbox-*", check)
    check.send_signal(stop)
    _, stderr = check.communicate(timeout=120)
    assert check.returncode == EXIT[stop], stderr
    assert ("interrupted" if stop == signal.SIGINT else f"stopped by {stop.name}") in stderr
    assert "Points" not in stderr and "Traceback" not in stderr
    assert sorted(p.name for p in work.iterdir()) == []
    assert _gone_within(work) == []


def test_a_stopped_class_run_ends_every_job_and_removes_their_folders(tmp_path):
    work = _private_folder(tmp_path)
    submissions = tmp_path / "class"
    for student in ("ann", "ben", "cem"):
        build_submission(submissions / student, assignment="a3")
    run = _start(
        ["grade", "a3", str(submissions), "--out", str(tmp_path / "out"), "--jobs", "2",
         "--no-progress", "--data-dir", str(SHARED_DATA)],
        work,
    )  # fmt: skip
    _wait_for(work, "nngrade-job-*/work/nngrade-sandbox-*", run)
    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 143, stderr
    assert "stopped by SIGTERM" in stderr and "Traceback" not in stderr
    assert sorted(p.name for p in work.iterdir()) == []
    assert _gone_within(work) == []


def test_the_next_run_removes_what_a_killed_grader_left_and_nothing_of_a_live_one(tmp_path):
    work = _private_folder(tmp_path)
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        killed_start, alive_start = owners.start_time(killed.pid), owners.start_time(alive.pid)
        namespace = owners.pid_namespace()
        left = work / f"nngrade-sandbox-o{killed.pid}.{killed_start}.{namespace}-x1"
        reused = work / f"nngrade-submission-o{alive.pid}.{alive_start - 1}.{namespace}-x2"
        live = work / f"nngrade-sandbox-o{alive.pid}.{alive_start}.{namespace}-x3"
        elsewhere = work / f"nngrade-sandbox-o{killed.pid}.{killed_start}.{namespace + 1}-x4"
        other = work / "nngrade-sandbox-notours"
        for folder in (left, reused, live, elsewhere, other):
            (folder / "scratch" / "deep").mkdir(parents=True)
            (folder / "scratch" / "deep" / "file").write_text("x")
        killed.kill()  # SIGKILL: it cleaned up nothing
        killed.wait()
        check = _start(
            ["check", "a1", "--submission", str(REPO / "reference"), "--format", "json"], work
        )
        check.communicate(timeout=300)
        assert check.returncode == 0
        assert sorted(p.name for p in work.iterdir()) == sorted(
            [live.name, elsewhere.name, other.name]
        )
    finally:
        alive.kill()
        alive.wait()
    assert left_behind.sweep(work) == [live.name]  # its owner is gone now


def test_folders_name_their_owner():
    folder = owners.make_folder("sandbox")
    try:
        match = owners.OWNED.match(folder.name)
        assert match and int(match["pid"]) == os.getpid()
        assert int(match["start"]) == owners.start_time(os.getpid())
        left_behind.sweep(folder.parent)
        assert folder.exists()  # its owner runs
    finally:
        folder.rmdir()


def test_a_stop_signal_raises_in_the_main_thread_and_the_handler_is_restored():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Stopped) as stopped, stopped_by_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
    assert stopped.value.exit_status == 143 and isinstance(stopped.value, KeyboardInterrupt)
    assert signal.getsignal(signal.SIGTERM) == before
