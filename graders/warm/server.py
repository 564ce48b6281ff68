"""A warm grader: nngrade, pytest and numpy imported once, each check graded in a fork.

``nngrade check`` spends about 0.4 s importing before it grades anything; a student runs it
after every edit. A warm grader pays that once: it imports what a check imports, then
waits on a socket in the user's private folder (:mod:`graders.warm.place`). Each check is
served by a fresh fork of it, which takes the check's streams, folder, environment and
umask and runs the same ``nngrade`` command line; nothing one check does reaches the next,
since the grader itself never grades.

It serves only checks of its own key (:mod:`graders.warm.key`), only its own user (the
kernel's peer credentials), and ends after :data:`IDLE_S` without a check, or as soon as
its key no longer matches the files and folders it was made from.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib
import io
import os
import random
import select
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path

from graders.warm import key as warm_key
from graders.warm import place, wire

#: Seconds without a check after which a warm grader ends.
IDLE_S = float(os.environ.get("NNGRADE_WARM_IDLE_S", "900"))

#: How often a waiting grader checks that its key still holds (an edit, an upgrade).
RECHECK_S = 10.0

#: How long a check may take to send its request once connected.
REQUEST_TIMEOUT_S = 5.0


def preload() -> None:
    """Import what every check imports: the command line, the runner (pytest, numpy), and
    pytest's own plugins, which pytest otherwise imports while it configures."""
    import _pytest.config

    import graders.cli  # noqa: F401
    import graders.core.runner  # noqa: F401

    for name in _pytest.config.default_plugins:
        with contextlib.suppress(ImportError):
            importlib.import_module(f"_pytest.{name}")
    with contextlib.suppress(ImportError):
        import pytest_timeout  # noqa: F401
    _fill_caches()


def _fill_caches() -> None:
    """Fill what a check caches from files the key covers: the interpreter's and each
    assignment's libraries (their files, read from site-packages), the system-call filter,
    and the byte-compiled worker runtime (a throwaway workspace of each assignment)."""
    from graders import catalog
    from graders.sandbox import allowlist, seccomp_filter
    from graders.sandbox.workspace import Workspace

    allowlist.interpreter()
    allowlist.python_rules()
    seccomp_filter.available()
    for spec in catalog.specs():
        for sandbox in spec.sandboxes:
            with contextlib.suppress(allowlist.UnknownLibrary):
                allowlist.library_rules(sandbox.libraries)
        with contextlib.suppress(OSError):
            Workspace(spec.worker_modules).close()


def main(folder: str, key: str) -> None:
    """Serve checks of ``key`` from ``folder`` until idle; returns at once where another
    grader of this key runs, or where this process's own key is not ``key``."""
    if warm_key.server_key() != key:
        return  # started from another state than the check's: never serve under its name
    where = Path(folder)
    lock = os.open(place.lock_path(where, key), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another grader of this key serves
    for number in (signal.SIGTERM, signal.SIGHUP):  # stopped (logout, kill): clean up first
        signal.signal(number, _stop)
    try:
        preload()
        _listen(place.socket_path(where, key), lock, key)
    finally:
        with contextlib.suppress(OSError):  # a key is seldom used again: leave no file
            os.unlink(place.lock_path(where, key))
        os.close(lock)


def _listen(path: Path, lock: int, key: str) -> None:
    """Serve on a socket at ``path`` (this grader's alone: it holds the key's lock), and
    remove it when done unless another grader has bound that path since."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o600)
    listener.listen(16)
    bound = os.stat(path).st_ino
    try:
        _serve(listener, lock, key)
    finally:
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == bound:
                os.unlink(path)
        listener.close()


def _stop(number: int, _frame) -> None:
    raise SystemExit(128 + number)


def _serve(listener: socket.socket, lock: int, key: str) -> None:
    last_check = last_recheck = time.monotonic()
    while True:
        _reap()
        now = time.monotonic()
        if now - last_check >= IDLE_S:
            return
        if now - last_recheck >= RECHECK_S:
            if warm_key.server_key() != key:
                return  # a file of nngrade or a library changed: this grader is stale
            last_recheck = now
        wait = min(IDLE_S - (now - last_check), RECHECK_S)
        ready, _, _ = select.select([listener], [], [], max(wait, 0.01))
        if not ready:
            continue
        try:
            connection, _ = listener.accept()
        except OSError:  # the check gave up before it was taken
            continue
        last_check = time.monotonic()
        with connection:
            try:
                _answer(connection, listener, lock)
            except OSError:  # no fork (no memory, too many processes): that check runs cold
                continue


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _answer(connection: socket.socket, listener: socket.socket, lock: int) -> None:
    """Take one request and fork the check that serves it."""
    try:
        if wire.peer_uid(connection) != os.getuid():
            return
        connection.settimeout(REQUEST_TIMEOUT_S)
        request, streams = wire.receive_request(connection)
        connection.settimeout(None)
    except (OSError, ValueError):
        return
    try:
        pid = os.fork()
    except OSError:  # no memory, too many processes: that check runs cold
        for fd in streams:
            os.close(fd)
        raise
    if pid == 0:
        code = 70  # EX_SOFTWARE: the fork itself failed before the check ran
        try:
            listener.close()
            os.close(lock)
            code = _check(connection, request, streams)
        finally:
            os._exit(code)
    for fd in streams:
        os.close(fd)


def _reopen_streams(encodings: dict) -> None:
    """Standard input, output and error as the check's own interpreter made them."""
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        encoding, errors = (encodings.get(name) or [None, None])[:2]
        interactive = os.isatty(fd)
        raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
        buffered = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
        stream = io.TextIOWrapper(
            buffered, encoding=encoding or None, errors=errors or None,
            line_buffering=interactive or fd == 2,
        )  # fmt: skip
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _watch_the_check(connection: socket.socket) -> None:
    """The check that asked went away (its terminal closed, it was killed): stop as a
    stopped check does, with its cleanup."""

    def watch() -> None:
        with contextlib.suppress(OSError):
            while connection.recv(1024):
                pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()


def _exit_status(error: SystemExit) -> int:
    """What the interpreter makes of ``sys.exit(value)``."""
    if error.code is None:
        return 0
    if isinstance(error.code, int):
        return error.code
    sys.stderr.write(f"{error.code}\n")
    return 1


def _check(connection: socket.socket, request: dict, streams: list[int]) -> int:
    """Run one check in this fork, as ``nngrade`` would have run it cold."""
    for target, fd in zip(wire.STREAMS, streams, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    _reopen_streams(request.get("encodings") or {})
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in dict(request["environment"]).items()})
    os.chdir(request["cwd"])
    os.umask(int(request["umask"]))
    args = [str(a) for a in request["args"]]
    sys.argv = [str(request.get("argv0", "nngrade")), *args]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGCHLD):
        signal.signal(number, signal.SIG_DFL)
    _fresh_randomness()
    wire.send(connection, {"pid": os.getpid()})
    _watch_the_check(connection)
    from graders.cli import main as cli_main

    try:
        code = cli_main(args)
    except SystemExit as error:
        code = _exit_status(error)
    except KeyboardInterrupt:
        code = 130
    except Exception:  # as a cold check's interpreter would show it
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    code = code if isinstance(code, int) else 1
    with contextlib.suppress(OSError):
        wire.send(connection, {"exit": code})
    return code


def _fresh_randomness() -> None:
    """Every fork starts from the grader's random state; a cold check seeds its own."""
    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()
