"""The check's side: hand the check to a warm grader of this key, or start one for next time.

A check served warm writes to the same terminal (its streams are handed over), exits with
the same status, and stops the same way on Ctrl+C (the signal is passed on). Where no warm
grader answers, the caller grades cold, exactly as before, and then :func:`start_server`
starts one in the background for the next check.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys

from graders.warm import place, wire

#: Set to 0 to grade every check cold (no warm grader is used or started).
SWITCH = "NNGRADE_WARM"

#: Signals a person or a system sends to stop a check; passed on to the grader's fork.
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)

#: Continuous integration runs each check once, in a machine that is then thrown away.
CI_MARKERS = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL")


def wanted(args: list[str]) -> bool:
    """Whether this command may be served warm: ``check`` only (the command a student
    repeats), not in CI, and not where the switch is off."""
    if not args or args[0] != "check" or os.environ.get(SWITCH, "1") == "0":
        return False
    return not any(os.environ.get(name) for name in CI_MARKERS)


def _encodings() -> dict[str, list[str | None]]:
    return {
        name: [getattr(stream, "encoding", None), getattr(stream, "errors", None)]
        for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout), ("stderr", sys.stderr))
    }


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def request(args: list[str]) -> dict:
    """What the warm grader's fork takes on to run this check (raises OSError where this
    process has no working folder any more)."""
    return {
        "args": args,
        "argv0": sys.argv[0],
        "cwd": os.getcwd(),
        "environment": dict(os.environ),
        "umask": _umask(),
        "encodings": _encodings(),
    }


def _connect(key: str) -> socket.socket | None:
    folder = place.folder()
    if folder is None:
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(place.socket_path(folder, key)))
        if wire.peer_uid(connection) != os.getuid():
            raise OSError("a socket of another user")
    except OSError:
        connection.close()
        return None
    return connection


def _read(reader) -> dict | None:
    line = reader.readline()
    if not line:
        return None
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


#: How long a warm grader may take to fork the check once asked; a grader that does not
#: answer by then (stopped, swapped out) is passed over and the check runs cold.
START_TIMEOUT_S = 10.0


def run(args: list[str], key: str) -> int | None:
    """The exit status of the check as a warm grader of ``key`` ran it; None where none
    took it (the caller then grades cold)."""
    connection = _connect(key)
    if connection is None:
        return None
    child: int | None = None
    pending: list[int] = []  # a signal that came before the check's fork was known

    def pass_on(number: int, _frame) -> None:
        if child is None:
            pending.append(number)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, number)

    previous = {number: signal.signal(number, pass_on) for number in FORWARDED}
    try:
        with connection:
            try:
                wire.send_request(connection, request(args))
                connection.settimeout(START_TIMEOUT_S)
                reader = connection.makefile("rb")
                started = _read(reader)
                connection.settimeout(None)
            except OSError:  # also the timeout
                started = None
            if started is None or not isinstance(started.get("pid"), int):
                if pending:  # stopped (Ctrl+C) before any grading began: stop here
                    return 128 + pending[0]
                return None  # refused before anything ran: grade cold
            child = started["pid"]
            for number in pending:
                pass_on(number, None)
            ended = _read(reader)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if ended is None or not isinstance(ended.get("exit"), int):
        sys.stderr.write(
            "nngrade: the check stopped without an answer. Run it again; "
            f"{SWITCH}=0 grades without the warm grader.\n"
        )
        return 1
    return ended["exit"]


def start_server(key: str) -> None:
    """Start a warm grader of ``key`` in the background. It runs in a session of its own,
    detached from the terminal, and ends by itself when idle
    (:data:`graders.warm.server.IDLE_S`).

    Called before the cold check that found none, not after it: grading changes the
    process (``sys.path``, the environment, limits), and the grader must start from the
    state the key was made of. It imports on the other core while the check grades."""
    folder = place.folder()
    if folder is None:
        return
    code = "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
    code += "from graders.warm.server import main; main(sys.argv[2], sys.argv[3])"
    flags = subprocess._args_from_interpreter_flags()  # the same -O, -X, ... as this check
    with contextlib.suppress(OSError):  # then no warm grader: every check stays cold
        subprocess.Popen(
            [sys.executable, *flags, "-c", code, json.dumps(sys.path), str(folder), key],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd="/", start_new_session=True, close_fds=True,
        )  # fmt: skip
