"""Lock the worker down before any student code runs: uid, filesystem, system calls.

The worker calls :func:`apply` first thing, while only this trusted code has run. In
order: open the allowed paths (some may be reachable only by the grader's user), drop to
a uid that owns nothing, forbid new privileges, restrict the filesystem to the allowlist
with Landlock, and load the seccomp filter that refuses new programs, new processes and
sockets. Each step is kernel-enforced and cannot be undone by the process. A step that
the grader asked for and that fails stops the worker: a missing layer is never skipped.
"""

from __future__ import annotations

import ctypes
import os
import signal
from pathlib import Path

from graders.sandbox.inside import landlock

_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2

_RIGHTS = {
    "ro": landlock.READ_ONLY,
    "list": landlock.READ_DIR,
    "rw": landlock.READ_WRITE_TRUNCATE,
    "device": landlock.READ_FILE | landlock.WRITE_FILE | landlock.IOCTL_DEV,
}


class LockdownFailed(RuntimeError):
    """A confinement step the grader required could not be applied."""


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def apply(config: dict) -> tuple[list[str], dict[str, str]]:
    """Apply the lockdown that ``config`` asks for.

    Returns the guarantees in force and the anchors: paths that only the grader's user
    could reach, mapped to ``/proc/self/fd/N`` aliases that stay usable after the uid drop.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    guarantees: list[str] = []
    anchors: dict[str, str] = {}
    abi = int(config.get("landlock_abi") or 0)
    try:
        ruleset = landlock.Ruleset(abi) if abi else None
        for entry in config.get("paths", ()):
            try:
                fd = os.open(entry["path"], os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # an optional system path that this machine does not have
            if ruleset is not None:
                ruleset.add(fd, _RIGHTS[entry["access"]])
            if entry.get("anchor"):
                anchors[entry["path"]] = f"/proc/self/fd/{fd}"  # kept open for good
            else:
                os.close(fd)
    except OSError as exc:
        raise LockdownFailed(f"Landlock: {exc}") from None

    uid = config.get("uid")
    if uid is not None:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        except OSError as exc:
            raise LockdownFailed(f"could not switch to uid {uid}: {exc}") from None
        if os.getuid() != uid or os.geteuid() != uid or os.getgroups():
            raise LockdownFailed(f"still not running as uid {uid}")
        guarantees.append("separate-uid")
        # The uid change made this process non-dumpable: only CAP_SYS_PTRACE could then
        # read its open files and maps, and a container's root has none. Dumpable, its own
        # uid (the grader's reading thread, see graders.sandbox.proc_access) may; no other
        # process has that uid, core dumps are off (RLIMIT_CORE 0) and the seccomp filter
        # forbids undoing this.
        if libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0) != 0:
            raise LockdownFailed("prctl(PR_SET_DUMPABLE) failed")
    if os.geteuid() != 0 and os.getuid() != 0:
        guarantees.append("non-root")
    _seed(config.get("seed"))

    # Die with the grader, even if it is killed before it can stop this worker. Set after
    # the uid change (which clears it); the seccomp filter forbids changing it again.
    parent = os.getppid()
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0 or os.getppid() != parent:
        raise LockdownFailed("the grader is gone, or prctl(PR_SET_PDEATHSIG) failed")
    guarantees.append("die-with-parent")
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise LockdownFailed("prctl(PR_SET_NO_NEW_PRIVS) failed")
    if ruleset is not None:
        try:
            guarantees += ruleset.restrict()
        except OSError as exc:
            raise LockdownFailed(f"Landlock: {exc}") from None

    filter_path = config.get("seccomp_filter")
    if filter_path:
        _load_seccomp(libc, Path(filter_path).read_bytes())
        guarantees += ["seccomp", "no-exec", "no-new-processes", "no-sockets"]
    return guarantees, anchors


def _seed(seed: dict | None) -> None:
    """Copy the grader's copy of the submission into the scratch tmpfs (bubblewrap), as
    the worker's own uid, before Landlock: nothing can reach the seed after this."""
    if not seed:
        return
    import shutil

    try:  # entry by entry: the tmpfs's own folder is not the worker's to chmod
        for entry in os.scandir(seed["from"]):
            target = os.path.join(seed["to"], entry.name)
            if entry.is_symlink():
                os.symlink(os.readlink(entry.path), target)
            elif entry.is_dir():
                shutil.copytree(entry.path, target, symlinks=True)
            else:
                shutil.copy2(entry.path, target)
    except (OSError, shutil.Error) as exc:
        raise LockdownFailed(f"could not copy the submission into the scratch: {exc}") from None


def _load_seccomp(libc, program: bytes) -> None:
    """Load a compiled BPF program (made by libseccomp in the grader) for this process."""
    if not program or len(program) % 8:
        raise LockdownFailed("the seccomp filter is missing or malformed")
    count = len(program) // 8
    instructions = (_SockFilter * count).from_buffer_copy(program)
    prog = _SockFprog(len=count, filter=instructions)
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise LockdownFailed(f"loading the seccomp filter failed (errno {ctypes.get_errno()})")


def rewrite_path(path: str, anchors: dict[str, str]) -> str:
    """``path`` as the worker can reach it after the uid drop (through an anchor if needed)."""
    for original, alias in sorted(anchors.items(), key=lambda item: -len(item[0])):
        if path == original or path.startswith(original.rstrip("/") + "/"):
            return alias + path[len(original.rstrip("/")) :]
    return path
