"""``nngrade check`` served by a warm grader: the same report, status and stopping as a
cold check, only for the same user, never from stale code, and never in CI."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from helpers import REFERENCE, REPO, TEMPLATE, live_processes, run_in_terminal

from graders.warm import client, key, place

#: The check's own timing, the one line two runs of one check may differ in.
TIMING = re.compile(r"seed \d+, [\d.]+ s\)")


@pytest.fixture
def warm_home(tmp_path):
    """An environment whose warm graders are this test's alone (their folder is under a
    private TMPDIR), ended when the test ends."""
    tmp = Path(tempfile.mkdtemp(prefix="warm-", dir=os.environ["NNGRADE_WORK_DIR"]))
    os.chmod(tmp, 0o711)
    environment = {k: v for k, v in os.environ.items() if k not in client.CI_MARKERS}
    environment.pop("XDG_RUNTIME_DIR", None)
    environment.update({"TMPDIR": str(tmp), "PYTHONPATH": str(REPO), "NNGRADE_WARM_IDLE_S": "120"})
    yield environment, tmp / f"nngrade-warm-{os.getuid()}"
    for pid, command in live_processes().items():
        if str(tmp) in command and "graders.warm.server" in command:
            os.kill(pid, signal.SIGKILL)


def _check(
    args: list[str], environment: dict, importtime: bool = False
) -> subprocess.CompletedProcess[str]:
    """``nngrade check ARGS``; with ``importtime`` the modules this process imports are
    listed on its stderr (an ``-X`` option is part of the key: a warm grader serves only
    checks started with the same options)."""
    options = ["-X", "importtime"] if importtime else []
    return subprocess.run(
        [sys.executable, *options, "-m", "graders.launch", "check", *args],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _servers(folder: Path) -> list[int]:
    return [
        pid
        for pid, command in live_processes().items()
        if "graders.warm.server" in command and str(folder) in command
    ]


def _wait_until_listening(folder: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if list(folder.glob("*.sock")):
            return
        time.sleep(0.1)
    raise AssertionError(f"no warm grader listens in {folder} after {timeout_s} s")


def _graded_cold(run: subprocess.CompletedProcess[str]) -> bool:
    """Whether this process imported the runner itself (``-X importtime``): a check served
    warm imports only :mod:`graders.warm` before handing over."""
    return "graders.core.runner" in run.stderr


def test_a_second_check_is_served_warm_with_the_same_report_and_status(warm_home):
    environment, folder = warm_home
    arguments = ["a1", "--submission", str(REFERENCE)]
    first = _check(arguments, environment, importtime=True)
    assert first.returncode == 0, first.stderr[-3000:]
    assert _graded_cold(first)
    _wait_until_listening(folder)
    second = _check(arguments, environment, importtime=True)
    assert second.returncode == 0, second.stderr[-3000:]
    assert not _graded_cold(second), "the second check was not served warm"
    assert TIMING.sub("", second.stdout) == TIMING.sub("", first.stdout)
    assert "Points 10/10" in second.stdout
    # what fails fails the same way: the stub's points and status, a usage error's
    stub = [
        _check(["a1", "--submission", str(TEMPLATE)], {**environment, **switch}, True)
        for switch in ({"NNGRADE_WARM": "0"}, {})
    ]  # cold, then warm
    assert TIMING.sub("", stub[0].stdout) == TIMING.sub("", stub[1].stdout)
    assert stub[0].returncode == stub[1].returncode
    assert _graded_cold(stub[0]) and not _graded_cold(stub[1])
    wrong = _check(["a9"], environment, importtime=True)
    assert wrong.returncode == 2 and "invalid choice: 'a9'" in wrong.stderr
    assert len(_servers(folder)) == 1  # one grader of this key, however many checks


def test_a_warm_check_on_a_terminal_draws_as_a_cold_one(warm_home):
    environment, folder = warm_home
    command = [sys.executable, "-m", "graders.launch", "check", "a1", "--submission",
               str(REFERENCE)]  # fmt: skip
    terminal = {"env": environment, "without": client.CI_MARKERS}  # CI's too: never warm
    status, cold = run_in_terminal(command, **terminal)
    assert status == 0, cold
    _wait_until_listening(folder)
    status, warm = run_in_terminal(command, **terminal)
    assert status == 0, warm
    for shown in (cold, warm):  # the live line (a terminal only) and the table
        assert "Points 10/10" in shown and "\r" in shown and "a1 " in shown


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_warm_check_stops_as_a_cold_one(stop, warm_home, tmp_path):
    environment, folder = warm_home
    slow = tmp_path / "slow"
    sleeping = "    import time\n    time.sleep(600)\n"
    source = (REFERENCE / "a1" / "pure.py").read_text()
    (slow / "a1").mkdir(parents=True)
    for name in ("__init__.py", "vectorized.py"):
        (slow / "a1" / name).write_text((REFERENCE / "a1" / name).read_text())
    (slow / "a1" / "pure.py").write_text(
        source.replace("def trace(A", "def _trace(A", 1)
        + "\n\ndef trace(A):\n"
        + sleeping
        + "    return _trace(A)\n"
    )
    assert _check(["a1", "--submission", str(REFERENCE)], environment).returncode == 0
    _wait_until_listening(folder)
    check = subprocess.Popen(
        [sys.executable, "-m", "graders.launch", "check", "a1", "--submission", str(slow)],
        cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    (server,) = _servers(folder)
    deadline = time.monotonic() + 120
    while not any("inside/main.py" in c for c in _children_of(server)):  # a worker is up
        assert time.monotonic() < deadline and check.poll() is None, check.communicate()
        time.sleep(0.1)
    time.sleep(1.5)  # into pure Python's sleeping trace
    check.send_signal(stop)
    _, stderr = check.communicate(timeout=120)
    assert check.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[stop], stderr
    assert ("interrupted" if stop == signal.SIGINT else "stopped by SIGTERM") in stderr
    assert "Traceback" not in stderr
    assert _live_children(server) == []


def _children_of(pid: int) -> list[str]:
    """Command lines of ``pid``'s descendants (the forked check and its workers)."""
    from graders.sandbox.processes import descendants

    everything = live_processes()
    return [everything[child] for child in descendants(pid) if child in everything]


def _live_children(pid: int, timeout_s: float = 15) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while (left := _children_of(pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_a_check_whose_caller_was_killed_stops(warm_home, tmp_path):
    environment, folder = warm_home
    assert _check(["a1", "--submission", str(REFERENCE)], environment).returncode == 0
    _wait_until_listening(folder)
    (server,) = _servers(folder)
    check = subprocess.Popen(
        [sys.executable, "-m", "graders.launch", "check", "a1", "--submission", str(REFERENCE)],
        cwd=REPO, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not _children_of(server):
        assert time.monotonic() < deadline, "no check was forked"
        time.sleep(0.02)
    check.kill()
    check.wait()
    assert _live_children(server) == []


def test_no_warm_grader_in_ci_or_when_switched_off(warm_home):
    environment, folder = warm_home
    for setting in ({"CI": "true"}, {"NNGRADE_WARM": "0"}):
        run = _check(["a1", "--submission", str(REFERENCE)], {**environment, **setting}, True)
        assert run.returncode == 0 and _graded_cold(run)
    time.sleep(2)
    assert _servers(folder) == [] and not list(folder.glob("*.sock"))
    assert not client.wanted(["grade", "a1", "class"])  # a class run is never served warm


def test_an_idle_warm_grader_ends_and_removes_its_socket(warm_home):
    environment, folder = warm_home
    environment["NNGRADE_WARM_IDLE_S"] = "3"
    assert _check(["a1", "--submission", str(REFERENCE)], environment).returncode == 0
    _wait_until_listening(folder)
    deadline = time.monotonic() + 60
    while _servers(folder) or list(folder.glob("*.sock")):
        assert time.monotonic() < deadline, "the idle warm grader did not end"
        time.sleep(0.2)
    assert list(folder.iterdir()) == []  # nor its lock


def test_a_stopped_warm_grader_removes_its_socket(warm_home):
    environment, folder = warm_home
    assert _check(["a1", "--submission", str(REFERENCE)], environment).returncode == 0
    _wait_until_listening(folder)
    (server,) = _servers(folder)
    os.kill(server, signal.SIGTERM)  # a logout, a kill
    deadline = time.monotonic() + 30
    while _servers(folder) or list(folder.iterdir()):
        assert time.monotonic() < deadline, "the stopped warm grader left its files"
        time.sleep(0.1)


# -- the key: what a warm grader must share with the check ------------------------------
def test_the_key_changes_with_the_package_the_environment_and_the_libraries(tmp_path, monkeypatch):
    package = tmp_path / "graders"
    (package / "a1").mkdir(parents=True)
    grader = package / "a1" / "grader.py"
    grader.write_text("POINTS = 10\n")
    monkeypatch.setattr(key, "PACKAGE", package)
    before = key.server_key()
    assert key.server_key() == before
    monkeypatch.setenv("PWD", "/elsewhere")  # a shell's prompt-to-prompt change
    assert key.server_key() == before
    grader.write_text("POINTS = 11\n")  # an edit, or an upgrade of nngrade
    os.utime(grader, ns=(time.time_ns(), time.time_ns() + 10**9))
    edited = key.server_key()
    assert edited != before
    threads = os.environ.get("OPENBLAS_NUM_THREADS")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3" if threads != "3" else "5")  # read at start
    assert key.server_key() != edited
    if threads is None:
        monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    else:
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", threads)
    library = tmp_path / "site"
    library.mkdir()
    monkeypatch.syspath_prepend(str(library))
    on_path = key.server_key()
    (library / "numpy").mkdir()  # a pip install adds or removes entries
    os.utime(library, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert key.server_key() != on_path


def test_the_warm_folder_must_be_the_users_own(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    own = place.folder()
    assert own == tmp_path / f"nngrade-warm-{os.getuid()}"
    assert own.stat().st_mode & 0o777 == 0o700
    os.chmod(own, 0o755)  # others could reach a socket there: no warm grader
    assert place.folder() is None
    os.chmod(own, 0o700)
    if os.getuid() == 0:
        os.chown(own, 12345, 12345)  # another user's folder of that name
        assert place.folder() is None
    own.rmdir()
    own.symlink_to(tmp_path)  # a link to a folder is not the folder
    assert place.folder() is None


def test_a_warm_grader_whose_key_no_longer_holds_ends(tmp_path, monkeypatch):
    """An edit of a grader module or a pip install while it waits: it ends, and the next
    check starts one of the new key."""
    import socket

    from graders.warm import server

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(tmp_path / "k.sock"))
    listener.listen(1)
    monkeypatch.setattr(server, "RECHECK_S", 0.1)
    monkeypatch.setattr(server, "IDLE_S", 60.0)
    keys = iter(["k", "k", "changed"])
    monkeypatch.setattr(server.warm_key, "server_key", lambda: next(keys, "changed"))
    started = time.monotonic()
    server._serve(listener, -1, "k")
    assert time.monotonic() - started < 5
    listener.close()
