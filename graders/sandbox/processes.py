"""Find and kill every process a worker started, including ones that escaped its session.

With a PID namespace (bubblewrap, unshare) the kernel kills the whole tree when the
namespace's init dies. Without one, the grader becomes a child subreaper so that orphans
(a grandchild that called ``setsid`` and whose parent exited) are re-parented to it, and
is then able to find them by walking ``/proc``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import stat
import sys
import time
from pathlib import Path

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


def descendants(root: int) -> set[int]:
    """All live processes below ``root`` (children, grandchildren, ...)."""
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
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False


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
    leaving out processes that run ``skip_executable`` (the sandbox's own wrapper)."""
    paths: set[str] = set()
    for pid in {root} | descendants(root):
        if skip_executable is not None and _executable(pid) == skip_executable:
            continue
        try:
            lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].startswith("/"):
                paths.add(parts[5])
    return paths


def _executable(pid: int) -> str | None:
    try:
        return os.path.realpath(f"/proc/{pid}/exe")
    except OSError:
        return None


def deleted_files_bytes(pids: set[int], folder: str) -> int:
    """Disk held by files under ``folder`` that were deleted while a process of ``pids``
    kept them, open or mapped: a folder walk no longer sees them, the disk still does.

    Each file is counted once (by device and inode), by its allocated blocks, so a
    preallocated (``fallocate``) file counts in full.
    """
    prefix = folder.rstrip("/") + "/"
    seen: set[tuple[int, int]] = set()
    total = 0
    for pid in pids:
        for handle in _held_files(pid, prefix):
            try:
                info = os.stat(handle)
            except OSError:
                continue
            key = (info.st_dev, info.st_ino)
            if stat.S_ISREG(info.st_mode) and key not in seen:
                seen.add(key)
                total += info.st_blocks * 512
    return total


def _held_files(pid: int, prefix: str) -> list[str]:
    """``/proc`` handles of deleted files under ``prefix`` that ``pid`` has open or mapped."""
    handles = []
    fd_folder = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(fd_folder)
    except OSError:
        fds = []
    for fd in fds:
        handle = f"{fd_folder}/{fd}"
        try:
            target = os.readlink(handle)
        except OSError:
            continue
        if target.startswith(prefix) and target.endswith(" (deleted)"):
            handles.append(handle)
    try:
        lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith(prefix) and parts[5].endswith(" (deleted)"):
            handles.append(f"/proc/{pid}/map_files/{parts[0]}")
    return handles


def kernel_view(pid: int) -> dict[str, object]:
    """What the kernel shows of a process's confinement, from outside it: its uids and
    gids (real, effective, saved, filesystem), ``NoNewPrivs``, its seccomp mode (2: a
    filter) and its namespaces. Empty when the process is gone."""
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
            view[f"ns_{kind}"] = os.readlink(f"/proc/{pid}/ns/{kind}")
        except OSError:
            view[f"ns_{kind}"] = ""
    return view


def running(pids: set[int], executable: str) -> list[int]:
    """The processes among ``pids`` that run ``executable`` (its real path)."""
    return sorted(pid for pid in pids if _executable(pid) == executable)
