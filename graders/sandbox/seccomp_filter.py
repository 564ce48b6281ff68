"""The worker's system-call filter, compiled once by libseccomp in the grader.

The worker loads the compiled BPF program with one ``prctl`` before any student code
runs, so it needs no library of its own. The filter allows everything a numeric Python
program needs and refuses, with an error the program sees:

* new programs: ``execve``, ``execveat``;
* new processes: ``fork``, ``vfork`` and ``clone`` without ``CLONE_THREAD`` (threads, which
  BLAS and PyTorch use, stay allowed; ``clone3`` answers ENOSYS so the C library falls back
  to ``clone``, whose flags the filter can read);
* sockets: ``socket``, ``connect`` (no network, no local services);
* channels between workers and memory the address-space limit does not count: file locks
  (``flock``, ``fcntl`` locks and OFD locks, leases, notifications), System V and POSIX
  IPC, ``memfd_create``;
* undoing "die with the grader": ``prctl(PR_SET_PDEATHSIG, ...)``;
* hiding from the grader: ``prctl(PR_SET_DUMPABLE, ...)`` (a worker of a uid of its own
  makes itself dumpable so that a grader without ``CAP_SYS_PTRACE`` can read its open files
  and maps, see :mod:`graders.sandbox.proc_access`);
* reading or steering which file pages are in the page cache, a channel between two
  workers (or two students graded at once) that share a library file: ``fadvise64``,
  ``readahead``, ``mincore``, ``cachestat``, ``process_madvise``, reads and writes with
  ``RWF_NOWAIT`` (they fail when a page is not resident), and ``madvise`` advice that pages
  out, drops or pre-loads pages (``MADV_DONTNEED``, which allocators use, stays);
* reserving disk faster than the scratch watcher looks: ``fallocate`` answers EOPNOTSUPP,
  so ``posix_fallocate`` falls back to writing the blocks, at the disk's speed (40 files of
  60 MiB reserved 2.4 GiB between two of the watcher's looks, 0.2 s apart);
* kernel interfaces a grader never needs: tracing, namespaces, mounts, BPF, keyrings,
  io_uring, modules, perf, userfaultfd, device nodes.

Other architectures' system calls (x32, i386 on x86_64) kill the process.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import tempfile

_CLONE_THREAD = 0x00010000
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4

REFUSED = (
    "execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv", "process_vm_writev",
    "pidfd_getfd", "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "bpf",
    "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "kexec_load", "kexec_file_load", "init_module",
    "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct", "quotactl",
    "open_by_handle_at", "name_to_handle_at", "syslog", "mknod", "mknodat", "fanotify_init",
    "kcmp", "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig", "fspick",
    "mount_setattr", "landlock_create_ruleset", "iopl", "ioperm",
)  # fmt: skip
NO_SOCKETS = ("socket", "connect")
#: Ways for two live workers to pass bits through the kernel without a file they can both
#: write (file locks, System V and POSIX IPC), and memory outside RLIMIT_AS (memfd).
NO_CHANNELS = (
    "flock", "shmget", "shmat", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl", "semget",
    "semop", "semtimedop", "semctl", "mq_open", "mq_timedsend", "mq_timedreceive", "mq_notify",
    "mq_getsetattr", "mq_unlink", "memfd_create", "memfd_secret",
)  # fmt: skip
#: System calls that read or steer page-cache residency (see the module's docstring).
NO_PAGE_CACHE = ("fadvise64", "readahead", "mincore", "cachestat", "process_madvise")
#: ``preadv2``/``pwritev2`` flag that fails instead of waiting for a page: a residency probe.
RWF_NOWAIT = 0x8
#: madvise advice that changes which file pages are resident: MADV_WILLNEED, MADV_REMOVE,
#: MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE.
MADVISE_RESIDENCY = (3, 9, 20, 21, 22, 23)
#: fcntl commands that lock, query locks of others, or watch files: F_GETLK, F_SETLK,
#: F_SETLKW, their open-file-description forms, leases and directory notifications.
FCNTL_LOCKS = (5, 6, 7, 36, 37, 38, 1024, 1025, 1026)


class SeccompUnavailable(Exception):
    """libseccomp (and so the system-call filter) is not available on this machine."""


@functools.cache
def compiled() -> bytes:
    """The BPF program (raw ``struct sock_filter`` array) for this machine's architecture."""
    try:
        import pyseccomp as seccomp
    except (ImportError, RuntimeError, OSError) as exc:
        raise SeccompUnavailable(f"libseccomp is not available ({exc})") from None
    deny = seccomp.ERRNO(errno.EPERM)
    flt = seccomp.SyscallFilter(seccomp.ALLOW)
    # A binary tree of system call numbers: threads' futex calls (BLAS, PyTorch) then pass
    # a handful of comparisons instead of the whole list. Older libseccomp lacks it.
    with contextlib.suppress(OSError, ValueError, RuntimeError):
        flt.set_attr(seccomp.Attr.CTL_OPTIMIZE, 2)
    for name in REFUSED:
        _add(seccomp, flt, deny, name)
    for name in NO_SOCKETS:
        _add(seccomp, flt, seccomp.ERRNO(errno.EACCES), name)
    for name in NO_CHANNELS:
        _add(seccomp, flt, deny, name)
    for command in FCNTL_LOCKS:
        flt.add_rule(deny, "fcntl", seccomp.Arg(1, seccomp.EQ, command))
    for name in NO_PAGE_CACHE:
        _add(seccomp, flt, deny, name)
    for name in ("preadv2", "pwritev2"):  # flags are the sixth argument
        flt.add_rule(deny, name, seccomp.Arg(5, seccomp.MASKED_EQ, RWF_NOWAIT, RWF_NOWAIT))
    for advice in MADVISE_RESIDENCY:
        flt.add_rule(deny, "madvise", seccomp.Arg(2, seccomp.EQ, advice))
    _add(seccomp, flt, seccomp.ERRNO(errno.ENOSYS), "clone3")
    _add(seccomp, flt, seccomp.ERRNO(errno.EOPNOTSUPP), "fallocate")
    # The worker dies with the grader (PR_SET_PDEATHSIG); student code may not undo that.
    flt.add_rule(deny, "prctl", seccomp.Arg(0, seccomp.EQ, _PR_SET_PDEATHSIG))
    # What the grader reads of it from outside (open files, maps) stays readable.
    flt.add_rule(deny, "prctl", seccomp.Arg(0, seccomp.EQ, _PR_SET_DUMPABLE))
    flt.add_rule(
        deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, _CLONE_THREAD, 0)
    )  # a new process, not a thread
    with tempfile.TemporaryFile() as out:
        flt.export_bpf(out)
        out.flush()
        out.seek(0)
        program = out.read()
    if not program or len(program) % 8:
        raise SeccompUnavailable("libseccomp produced no filter")
    return program


def _add(seccomp, flt, action: int, name: str) -> None:
    # A system call this architecture does not have (e.g. fork on arm64) is skipped.
    with contextlib.suppress(OSError, ValueError, RuntimeError):
        flt.add_rule(action, name)


def available() -> bool:
    try:
        compiled()
    except SeccompUnavailable:
        return False
    return True


def write(path: str) -> None:
    """Write the compiled filter to ``path`` (read by the worker before student code)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as stream:
        stream.write(compiled())
