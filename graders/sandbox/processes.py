"""Find and kill every process a worker started, including ones that escaped its session.

With a PID namespace (bubblewrap, unshare) the kernel kills the whole tree when the
namespace's init dies. Without one, the grader becomes a child subreaper so that orphans
(a grandchild that called ``setsid`` and whose parent exited) are re-parented to it, and
is then able to find them by walking ``/proc``.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from graders.sandbox import proc_access

_PR_SET_CHILD_SUBREAPER = 36
_subreaper_set = False


def become_subreaper() -> bool:
    """Make orphaned descendants re-parent to this process (Linux only)."""
    global _subreaper_set
    if _subreaper_set:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _subreaper_set = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except OSError:
        _subreaper_set = False
    return _subreaper_set


def _process_dirs():
    """``/proc/<pid>`` of every process (none where there is no ``/proc``)."""
    for entry in Path("/proc").iterdir() if Path("/proc/self").exists() else ():
        if entry.name.isdigit():
            yield entry


def _parent_map() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in _process_dirs():
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: split after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def in_other_mount_namespace(pids: set[int]) -> int | None:
    """One of ``pids`` that lives in another mount namespace than this process (a worker
    inside bubblewrap, whose ``/proc/<pid>/root`` shows what it sees); None if none does."""
    try:
        ours = os.readlink("/proc/self/ns/mnt")
    except OSError:
        return None
    for pid in sorted(pids, reverse=True):  # the worker itself was started last
        try:
            if os.readlink(f"/proc/{pid}/ns/mnt") != ours:
                return pid
        except OSError:
            continue
    return None


def descendants(root: int) -> set[int]:
    """All live processes below ``root`` (children, grandchildren, ...).

    Read from each thread's ``children`` list in ``/proc``, which costs a read per process
    of the tree; where the kernel has no such lists, or refuses one, from the parent of
    every process on the machine (a read per process of the machine)."""
    if _children_lists_exist():
        found = _descendants_by_children(root)
        if found is not None:
            return found
    return _descendants_by_parents(root)


@functools.cache
def _children_lists_exist() -> bool:
    """Whether ``/proc/<pid>/task/<tid>/children`` exists (CONFIG_PROC_CHILDREN)."""
    return os.path.exists(f"/proc/self/task/{threading.get_native_id()}/children")


def _children(pid: int) -> list[int] | None:
    """The children of every thread of ``pid``; None where a list cannot be read."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return []  # gone
    except OSError:
        return None
    found: list[int] = []
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as listing:
                found.extend(int(child) for child in listing.read().split())
        except FileNotFoundError:
            continue  # the thread ended meanwhile
        except OSError:
            return None
    return found


def _descendants_by_children(root: int) -> set[int] | None:
    found: set[int] = set()
    stack = [root]
    while stack:
        children = _children(stack.pop())
        if children is None:
            return None
        for child in children:
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _descendants_by_parents(root: int) -> set[int]:
    parents = _parent_map()
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _environment_has(pid: int, marker: bytes) -> bool:
    """Whether ``pid`` carries ``marker``. A process whose environment cannot be read is
    not killed by this route (it may be any child of the grader's); a worker of a uid of
    its own is found by its uid instead (:func:`kill_uid`)."""
    try:
        environment = proc_access.read(
            pid, "its environment", lambda: Path(f"/proc/{pid}/environ").read_bytes()
        )
    except (proc_access.ProcessGone, proc_access.ProcUnreadable):
        return False
    return marker in environment


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def reap_orphans(marker: bytes) -> None:
    """Kill and reap our own children that carry a dead worker's marker (subreaper case)."""
    for pid in descendants(os.getpid()):
        if _environment_has(pid, marker):
            _kill(pid)
    _reap_zombies()


def _reap_zombies() -> None:
    if not _subreaper_set:
        return
    for pid, ppid in _parent_map().items():
        if ppid == os.getpid() and _is_zombie(pid):
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)


def kill_tree(root: int, marker: bytes, *, attempts: int = 20) -> None:
    """SIGKILL ``root``, its process group and every descendant, until none is left."""
    for _ in range(attempts):
        victims = descendants(root)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(root, signal.SIGKILL)
        _kill(root)
        for pid in victims:
            _kill(pid)
        reap_orphans(marker)
        if not descendants(root) and not _marked_survivors(marker):
            return
        time.sleep(0.02)


def process_uids() -> dict[int, set[int]]:
    """Real and effective uid of every process, from ``/proc/<pid>/status`` (the owner of
    ``/proc/<pid>`` is root for a process that changed its uid, so it cannot be used)."""
    found: dict[int, set[int]] = {}
    for entry in _process_dirs():
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:"):
                found[int(entry.name)] = {int(value) for value in line.split()[1:3]}
                break
    return found


def processes_of_uid(uid: int) -> list[int]:
    """Live processes whose real or effective uid is ``uid``."""
    return [pid for pid, ids in process_uids().items() if uid in ids and not _is_zombie(pid)]


def kill_uid(uid: int, *, attempts: int = 50) -> bool:
    """SIGKILL every process of a worker's own uid until none is left (the uid owns
    nothing else, so this cannot hit anything but that worker). True when none is left."""
    for _ in range(attempts):
        victims = processes_of_uid(uid)
        if not victims:
            _reap_zombies()
            return True
        for pid in victims:
            _kill(pid)
        _reap_zombies()
        time.sleep(0.01)
    return not processes_of_uid(uid)


def _marked_survivors(marker: bytes) -> list[int]:
    return [
        pid
        for pid in descendants(os.getpid())
        if _environment_has(pid, marker) and not _is_zombie(pid)
    ]


def _is_zombie(pid: int) -> bool:
    """True for a zombie, or for a process that is already gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return state[state.rfind(")") + 2] == "Z"


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pids: set[int]) -> float:
    """User + system CPU seconds of ``pids`` (all their threads), read from ``/proc``."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def mapped_libraries(root: int, skip_executable: str | None = None) -> set[str]:
    """Paths of shared objects mapped by ``root`` and its descendants (trusted observation),
    leaving out processes that run ``skip_executable`` (the sandbox's own wrapper).

    Raises :class:`proc_access.ProcUnreadable` when the kernel refuses a process's map."""
    paths: set[str] = set()
    for pid in {root} | descendants(root):
        try:
            if skip_executable is not None and _executable(pid) == skip_executable:
                continue
            lines = proc_access.read(pid, "its mapped libraries", _maps(pid))
        except proc_access.ProcessGone:
            continue
        for line in lines:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].startswith("/"):
                paths.add(parts[5])
    return paths


def _maps(pid: int) -> Callable[[], list[str]]:
    return lambda: Path(f"{proc_access.entries(pid)}/maps").read_text().splitlines()


def _executable(pid: int) -> str | None:
    """The real path of the program ``pid`` runs; None when it is gone. Raises
    :class:`proc_access.ProcUnreadable` when the kernel refuses it."""
    try:
        return proc_access.read(
            pid, "the program it runs", lambda: os.path.realpath(os.readlink(f"/proc/{pid}/exe"))
        )
    except proc_access.ProcessGone:
        return None


@dataclass(frozen=True)
class HeldFiles:
    """Disk held by deleted files, and what of it could only be bounded, not read."""

    bytes: int
    #: Facts counted at their upper bound because the kernel would not show them.
    bounded: tuple[str, ...] = ()


def deleted_files_bytes(pids: set[int], folder: str, size_if_unreadable: int) -> HeldFiles:
    """Disk held by files under ``folder`` that were deleted while a process of ``pids``
    kept them, open or mapped: a folder walk no longer sees them, the disk still does.

    Each file is counted once (by device and inode), by its allocated blocks, so a
    preallocated (``fallocate``) file counts in full. A deleted file that is only mapped
    (its descriptor closed) is reached through ``/proc/<pid>/map_files/``, which the kernel
    opens only for ``CAP_SYS_ADMIN`` (not in a container): without it such a file counts as
    ``size_if_unreadable`` (the largest file the worker may write), and the answer says so.
    Raises :class:`proc_access.ProcUnreadable` when a process's descriptors or map cannot be read.
    """
    prefix = folder.rstrip("/") + "/"
    seen: set[tuple[int, int]] = set()
    total = 0
    bounded: list[str] = []
    for pid in pids:
        try:
            found = proc_access.read(pid, "its open files", lambda pid=pid: _held(pid, prefix))
        except proc_access.ProcessGone:
            continue
        for key, size in found.sizes.items():
            if key not in seen:
                seen.add(key)
                total += size
        for key, (name, why) in found.unsized.items():
            if key not in seen:
                seen.add(key)
                total += size_if_unreadable
                bounded.append(
                    f"the size of {name}, a deleted file it only maps (counted as "
                    f"{size_if_unreadable // 2**20} MiB: {why})"
                )
    return HeldFiles(total, tuple(bounded))


@dataclass
class _Held:
    #: (device, inode) -> allocated bytes, of deleted files whose size could be read.
    sizes: dict[tuple[int, int], int] = field(default_factory=dict)
    #: (device, inode) -> (name, why), of deleted mapped files the kernel would not open.
    unsized: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)


def _held(pid: int, prefix: str) -> _Held:
    """Deleted regular files under ``prefix`` that ``pid`` has open or mapped (read with
    access to the process's entries, see :func:`proc_access.read`)."""
    held = _Held()
    base = proc_access.entries(pid)
    fd_folder = f"{base}/fd"
    for fd in os.listdir(fd_folder):
        handle = f"{fd_folder}/{fd}"
        try:
            target = os.readlink(handle)
            if not (target.startswith(prefix) and target.endswith(" (deleted)")):
                continue
            info = os.stat(handle)
        except FileNotFoundError:
            continue  # closed meanwhile
        if stat.S_ISREG(info.st_mode):
            held.sizes[info.st_dev, info.st_ino] = info.st_blocks * 512
    for line in Path(f"{base}/maps").read_text().splitlines():
        parts = line.split(None, 5)
        if len(parts) != 6 or not parts[5].startswith(prefix):
            continue
        if not parts[5].endswith(" (deleted)"):
            continue
        major, minor = (int(number, 16) for number in parts[3].split(":"))
        key = (os.makedev(major, minor), int(parts[4]))
        if key in held.sizes:
            continue
        try:
            info = os.stat(f"/proc/{pid}/map_files/{parts[0]}")
        except FileNotFoundError:
            if base == f"/proc/{pid}":
                continue  # unmapped meanwhile
            why = "its first thread has ended, and map_files went with it"
            held.unsized[key] = (parts[5].removesuffix(" (deleted)"), why)
            continue
        except PermissionError:
            why = "reading it needs CAP_SYS_ADMIN"
            held.unsized[key] = (parts[5].removesuffix(" (deleted)"), why)
            continue
        if stat.S_ISREG(info.st_mode):
            held.sizes[key] = info.st_blocks * 512
    return held


def kernel_view(pid: int) -> dict[str, object]:
    """What the kernel shows of a process's confinement, from outside it: its uids and
    gids (real, effective, saved, filesystem), ``NoNewPrivs``, its seccomp mode (2: a
    filter) and its namespaces (None where the kernel would not show them). Empty when
    the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    view: dict[str, object] = {
        "uids": tuple(int(v) for v in fields.get("Uid", "").split()),
        "gids": tuple(int(v) for v in fields.get("Gid", "").split()),
        "no_new_privs": fields.get("NoNewPrivs", "").strip() == "1",
        "seccomp": fields.get("Seccomp", "").strip() == "2",
    }
    for kind in ("mnt", "pid", "net"):
        try:
            view[f"ns_{kind}"] = proc_access.read(
                pid,
                f"its {kind} namespace",
                lambda kind=kind: os.readlink(f"/proc/{pid}/ns/{kind}"),
            )
        except proc_access.ProcessGone:
            return {}
        except proc_access.ProcUnreadable:
            view[f"ns_{kind}"] = None
    return view


def running(pids: set[int], executable: str) -> list[int]:
    """The processes among ``pids`` that run ``executable`` (its real path). Raises
    :class:`proc_access.ProcUnreadable` when the kernel will not show what one of them runs."""
    return sorted(pid for pid in pids if _executable(pid) == executable)
