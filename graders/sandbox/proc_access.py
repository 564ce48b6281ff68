"""Read a worker's ``/proc/<pid>/`` entries from outside, with Docker's default capabilities.

The kernel shows ``status``, ``stat`` and ``schedstat`` to every process. What a worker has
open, mapped, loaded and in which namespaces it runs (``exe``, ``fd/``, ``maps``,
``map_files/``, ``environ``, ``ns/``) it shows only to a caller that passes the ptrace
access check: the same uid and gid as the target and a target that is "dumpable", or
``CAP_SYS_PTRACE``. A grader that runs as root in a container (Docker's default set,
Gradescope) has no ``CAP_SYS_PTRACE``, and a worker that dropped to a uid of its own is
neither its uid nor dumpable (the kernel clears the flag at the uid change).

So the worker makes itself dumpable again after its uid drop (its seccomp filter forbids
undoing that), and the grader reads its entries from a short-lived thread whose file-system
uid and gid (``setfsuid``/``setfsgid``: per thread, and what the access check compares) are
the worker's: the same reads, with nothing but ``CAP_SETUID``/``CAP_SETGID``, which a
container's root keeps. The thread ends with the read, so no other grader code ever runs
with those credentials.

A read the kernel refuses even then raises :class:`ProcUnreadable`, naming the fact that
could not be read: never an empty answer that looks like "nothing there".
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class ProcUnreadable(Exception):
    """The kernel refused to show ``what`` of a live process (not: the process is gone)."""

    def __init__(self, what: str, pid: int, error: OSError):
        self.what = what
        self.pid = pid
        self.detail = os.strerror(error.errno) if error.errno else str(error)
        super().__init__(f"{what} of process {pid}: {self.detail}")


class ProcessGone(Exception):
    """The process ended, or is ending (a zombie, its memory given up), while it was read."""


def _status(pid: int) -> dict[str, str] | None:
    """``/proc/<pid>/status`` (which the kernel shows to anyone) by field; None when gone."""
    try:
        return _fields(Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return None


def _fields(status: str) -> dict[str, str]:
    return dict(line.split(":", 1) for line in status.splitlines() if ":" in line)


def _has_memory(fields: dict[str, str]) -> bool:
    """Whether a thread still runs with its process's memory: not a zombie, and not past
    the point where it gave the memory up (``status`` then has no ``Vm`` lines)."""
    return fields.get("State", "").split()[:1] not in (["Z"], ["X"]) and "VmSize" in fields


def entries(pid: int) -> str:
    """The folder that shows ``pid``'s open files and maps: ``/proc/<pid>``, or, once its
    first thread has ended while others run (a raw ``exit`` of that thread alone), a
    running thread's ``/proc/<pid>/task/<tid>``: the first thread's own entries are then
    empty, and would hide every file the others hold. (``map_files`` exists only in the
    first.) Raises FileNotFoundError when no thread runs: the process is ending."""
    base = f"/proc/{pid}"
    fields = _status(pid)
    if fields is not None and _has_memory(fields):
        return base
    for tid in sorted(os.listdir(f"{base}/task")):
        task = f"{base}/task/{tid}"
        try:
            running = _has_memory(_fields(Path(f"{task}/status").read_text()))
        except OSError:
            continue
        if running:
            return task
    raise FileNotFoundError(f"{base}: no thread of it runs")


def _ending(pid: int) -> bool:
    """Whether the process is ending: none of its threads still has its memory. Its
    entries are then shown to root alone (the kernel has no dumpable flag left to consult)
    and it holds nothing for long: a refused read of it is its end, not something it hides."""
    try:
        entries(pid)
    except OSError:
        return True
    return False


def owner(pid: int) -> tuple[int, int] | None:
    """The uid and gid whose file-system ids may read ``pid``'s entries: its real ones when
    its real, effective and saved ids agree (a worker's do), else (-1, -1) (such a process
    is read as ourselves); from ``status``. None when it is gone."""
    fields = _status(pid)
    if fields is None:
        return None
    uids = {int(value) for value in fields.get("Uid", "").split()[:3]}
    gids = {int(value) for value in fields.get("Gid", "").split()[:3]}
    if len(uids) != 1 or len(gids) != 1:
        return (-1, -1)
    return uids.pop(), gids.pop()


def read(pid: int, what: str, reader: Callable[[], T]) -> T:
    """``reader()`` (which reads ``/proc/<pid>/...``) with access to that process's entries.

    ``what`` names the fact for :class:`ProcUnreadable`. A process that is gone raises
    :class:`ProcessGone`; one whose entries the kernel refuses, :class:`ProcUnreadable`.
    """
    ids = owner(pid)
    if ids is None:
        raise ProcessGone(pid)
    try:
        if _needs_switch(ids):
            return _as_owner(ids, reader)
        return reader()
    except (FileNotFoundError, ProcessLookupError):
        raise ProcessGone(pid) from None
    except OSError as error:
        if _ending(pid):  # also when it is gone altogether
            raise ProcessGone(pid) from None
        raise ProcUnreadable(what, pid, error) from None


def _needs_switch(ids: tuple[int, int]) -> bool:
    """Whether reading as ourselves could be refused: we are root (or hold the ids of
    another user) and the target runs under another uid or gid."""
    if not sys.platform.startswith("linux") or ids[0] < 0:
        return False
    return os.geteuid() == 0 and ids != (os.geteuid(), os.getegid())


def _as_owner(ids: tuple[int, int], reader: Callable[[], T]) -> T:
    """Run ``reader`` on a thread of its own whose file-system ids are ``ids``."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            _switch_filesystem_ids(*ids)
            outcome["value"] = reader()
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name="nngrade-proc-reader", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


_libc = None


def _switch_filesystem_ids(uid: int, gid: int) -> None:
    """``setfsgid`` then ``setfsuid`` for this thread alone (glibc makes these two plain
    system calls, unlike ``setuid``, which it applies to every thread), checked after: both
    return the previous id whether or not they succeed."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    _libc.setfsgid(gid)
    _libc.setfsuid(uid)
    # Called with an invalid id, both only report the current one.
    current_gid = _libc.setfsgid(ctypes.c_uint32(0xFFFFFFFF).value)
    current_uid = _libc.setfsuid(ctypes.c_uint32(0xFFFFFFFF).value)
    if current_uid != uid or current_gid != gid:
        raise PermissionError(errno.EPERM, "setfsuid/setfsgid refused (no CAP_SETUID?)")
