"""What the kernel, seen from outside, shows of a worker: the layers it claims checked
against ``/proc`` (uids, no-new-privileges, seccomp, namespaces) before any student code
runs. Landlock leaves no trace in ``/proc``: the worker's word and the tests stand for it.
What the kernel would not show is named through ``note`` and the worker's word stands."""

from __future__ import annotations

import os
from collections.abc import Callable

from graders.sandbox import allowlist, proc_access, processes
from graders.sandbox.confinement import Confinement


def unconfirmed_by_kernel(
    confinement: Confinement, uid: int | None, pids: set[int], note: Callable[[str], None]
) -> list[str]:
    """Layers the worker claims that the kernel does not show: its uids, no-new-privileges,
    a seccomp filter, its own namespaces under bubblewrap.

    The worker is found by its uid where it has one of its own (``status``, shown to
    anyone), and by the program it runs. What the kernel would not show (no
    ``CAP_SYS_PTRACE`` and no ``CAP_SETUID`` to read as the worker) is passed to ``note``."""
    worker = worker_process(uid, pids, note)
    if worker is None:
        return ["a single worker process"]
    view = processes.kernel_view(worker)
    if not view:
        return ["a running worker"]
    wrong = []
    layers = confinement.worker_guarantees
    if "seccomp" in layers and not view["seccomp"]:
        wrong.append("seccomp")
    if not view["no_new_privs"]:
        wrong.append("no-new-privileges")
    if "separate-uid" in layers and (set(view["uids"]) != {uid} or set(view["gids"]) != {uid}):
        wrong.append("separate-uid")
    if "non-root" in layers and 0 in view["uids"]:
        wrong.append("non-root")
    if confinement.kind == "bubblewrap":
        own = processes.kernel_view(os.getpid())
        for kind in ("mnt", "pid", "net"):
            if view[f"ns_{kind}"] is None:
                note(f"its own {kind} namespace (/proc/PID/ns unreadable)")
            elif not view[f"ns_{kind}"] or view[f"ns_{kind}"] == own[f"ns_{kind}"]:
                wrong.append(f"{kind}-namespace")
    return wrong


def worker_process(uid: int | None, pids: set[int], note: Callable[[str], None]) -> int | None:
    """The one process that runs the worker (None when there is not exactly one)."""
    if uid is not None:
        # Its uid owns nothing else: a fact the kernel shows to any process.
        candidates = [pid for pid in processes.processes_of_uid(uid) if pid in pids]
        if len(candidates) != 1:
            return None
    else:
        candidates = sorted(pids)
    try:
        running = processes.running(set(candidates), allowlist.interpreter())
    except proc_access.ProcUnreadable as error:
        note(f"the program the worker runs ({error.detail})")
        return candidates[0] if len(candidates) == 1 else None
    return running[0] if len(running) == 1 else None
